import Database from 'better-sqlite3'
import type { Table } from 'drizzle-orm'
import { boolean as mysqlBoolean, datetime, int, json as mysqlJson, mysqlTable, primaryKey as mysqlPrimaryKey, timestamp as mysqlTimestamp, varchar as mysqlVarchar } from 'drizzle-orm/mysql-core'
import { boolean as pgBoolean, integer as pgInteger, json as pgJson, jsonb, pgTable, primaryKey as pgPrimaryKey, serial, text as pgText, timestamp } from 'drizzle-orm/pg-core'
import { blob, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import knex from 'knex'
import { afterEach, describe, expect, it } from 'vitest'
import { BetterSqlite3Adapter } from '../../src/adapters/better-sqlite3/index.js'
import { DrizzleAdapter } from '../../src/adapters/drizzle/drizzle-adapter.js'
import { drizzleModel, drizzleThrough } from '../../src/adapters/drizzle/drizzle-model.js'
import { KnexAdapter } from '../../src/adapters/knex/index.js'
import { KyselyAdapter } from '../../src/adapters/kysely/index.js'
import { manyToMany, MemoryAdapter, type AnyModel, type RelationAdapter } from '../../src/index.js'
import { drizzleTargets } from '../helpers/drizzle-targets.js'
import { kyselyTargets } from '../helpers/kysely-targets.js'
import type { LibraryConnection, LibraryTarget } from '../helpers/library-targets.js'

// Issue #15: rows of models from Drizzle tables hold what `$inferSelect` says (a Date, a boolean,
// a parsed JSON value), whatever the adapter and the database return for the column, and the
// values written or compared are stored as Drizzle stores them. Members have no converter; events
// (the targets, and the sources of the reverse side) and attendance (the through table) have
// timestamps, flags and JSON in each dialect's modes.

// ------------------------------------------------------------------ SQLite
const sqliteMembers = sqliteTable('cv_members', { id: integer().primaryKey(), name: text().notNull() })
const sqliteEvents = sqliteTable('cv_events', {
  id: integer().primaryKey(),
  title: text().notNull(),
  startsAt: integer('starts_at', { mode: 'timestamp' }).notNull(),
  endsAt: integer('ends_at', { mode: 'timestamp_ms' }),
  public: integer({ mode: 'boolean' }).notNull(),
  meta: text({ mode: 'json' }).$type<Meta>(),
})
const sqliteAttendance = sqliteTable(
  'cv_attendance',
  {
    memberId: integer('member_id').notNull(),
    eventId: integer('event_id').notNull(),
    joinedAt: integer('joined_at', { mode: 'timestamp_ms' }).notNull(),
    confirmed: integer({ mode: 'boolean' }).notNull(),
    details: blob({ mode: 'json' }).$type<Details>(),
    reminder: integer({ mode: 'timestamp' }).$defaultFn(() => REMINDER),
  },
  (table) => [primaryKey({ columns: [table.memberId, table.eventId] })],
)
const SQLITE_DDL = [
  'CREATE TABLE cv_members (id INTEGER PRIMARY KEY, name TEXT NOT NULL)',
  'CREATE TABLE cv_events (id INTEGER PRIMARY KEY, title TEXT NOT NULL, starts_at INTEGER NOT NULL, ends_at INTEGER, public INTEGER NOT NULL, meta TEXT)',
  `CREATE TABLE cv_attendance (
     member_id INTEGER NOT NULL REFERENCES cv_members (id) ON DELETE CASCADE,
     event_id INTEGER NOT NULL REFERENCES cv_events (id) ON DELETE CASCADE,
     joined_at INTEGER NOT NULL, confirmed INTEGER NOT NULL, details BLOB, reminder INTEGER,
     PRIMARY KEY (member_id, event_id))`,
]

// ------------------------------------------------------------------ PostgreSQL
const pgMembers = pgTable('cv_members', { id: pgInteger().primaryKey(), name: pgText().notNull() })
const pgEvents = pgTable('cv_events', {
  id: serial().primaryKey(),
  title: pgText().notNull(),
  startsAt: timestamp('starts_at', { withTimezone: true }).notNull(),
  endsAt: timestamp('ends_at', { precision: 3 }),
  public: pgBoolean().notNull(),
  meta: pgJson().$type<Meta>(),
})
const pgAttendance = pgTable(
  'cv_attendance',
  {
    memberId: pgInteger('member_id').notNull(),
    eventId: pgInteger('event_id').notNull(),
    joinedAt: timestamp('joined_at', { precision: 3 }).notNull(),
    confirmed: pgBoolean().notNull(),
    details: jsonb().$type<Details>(),
    reminder: timestamp({ withTimezone: true }).$defaultFn(() => REMINDER),
  },
  (table) => [pgPrimaryKey({ columns: [table.memberId, table.eventId] })],
)
const PG_DDL = [
  'CREATE TABLE cv_members (id integer PRIMARY KEY, name text NOT NULL)',
  'CREATE TABLE cv_events (id serial PRIMARY KEY, title text NOT NULL, starts_at timestamptz NOT NULL, ends_at timestamp(3), public boolean NOT NULL, meta json)',
  `CREATE TABLE cv_attendance (
     member_id integer NOT NULL REFERENCES cv_members (id) ON DELETE CASCADE,
     event_id integer NOT NULL REFERENCES cv_events (id) ON DELETE CASCADE,
     joined_at timestamp(3) NOT NULL, confirmed boolean NOT NULL, details jsonb, reminder timestamptz,
     PRIMARY KEY (member_id, event_id))`,
]

// ------------------------------------------------------------------ MySQL / MariaDB
const mysqlMembers = mysqlTable('cv_members', { id: int().primaryKey(), name: mysqlVarchar({ length: 40 }).notNull() })
const mysqlEvents = mysqlTable('cv_events', {
  id: int().primaryKey().autoincrement(),
  title: mysqlVarchar({ length: 40 }).notNull(),
  startsAt: datetime('starts_at', { mode: 'date', fsp: 3 }).notNull(),
  endsAt: mysqlTimestamp('ends_at', { mode: 'date', fsp: 3 }),
  public: mysqlBoolean().notNull(),
  meta: mysqlJson().$type<Meta>(),
})
const mysqlAttendance = mysqlTable(
  'cv_attendance',
  {
    memberId: int('member_id').notNull(),
    eventId: int('event_id').notNull(),
    joinedAt: datetime('joined_at', { mode: 'date', fsp: 3 }).notNull(),
    confirmed: mysqlBoolean().notNull(),
    details: mysqlJson().$type<Details>(),
    reminder: mysqlTimestamp({ mode: 'date', fsp: 3 }).$defaultFn(() => REMINDER),
  },
  (table) => [mysqlPrimaryKey({ columns: [table.memberId, table.eventId] })],
)
const MYSQL_DDL = [
  'CREATE TABLE cv_members (id int PRIMARY KEY, name varchar(40) NOT NULL)',
  'CREATE TABLE cv_events (id int AUTO_INCREMENT PRIMARY KEY, title varchar(40) NOT NULL, starts_at datetime(3) NOT NULL, ends_at timestamp(3) NULL, public boolean NOT NULL, meta json)',
  `CREATE TABLE cv_attendance (
     member_id int NOT NULL, event_id int NOT NULL,
     joined_at datetime(3) NOT NULL, confirmed boolean NOT NULL, details json, reminder timestamp(3) NULL,
     PRIMARY KEY (member_id, event_id),
     FOREIGN KEY (member_id) REFERENCES cv_members (id) ON DELETE CASCADE,
     FOREIGN KEY (event_id) REFERENCES cv_events (id) ON DELETE CASCADE)`,
]

interface Meta {
  tags: string[]
  rank?: number
}
interface Details {
  seat: number
  note?: string
}

// Whole seconds where the SQLite column keeps seconds (`mode: 'timestamp'`), milliseconds elsewhere.
const REMINDER = new Date('2025-02-01T08:00:00.000Z')
const T0 = new Date('2025-03-01T10:00:00.000Z')
const T1 = new Date('2025-03-02T11:30:00.000Z')
const T2 = new Date('2025-03-03T09:15:00.000Z')
const END = new Date('2025-03-01T12:00:00.123Z')
const J0 = new Date('2025-01-10T07:00:00.250Z')
const J1 = new Date('2025-01-11T07:00:00.500Z')
const J2 = new Date('2025-01-12T07:00:00.750Z')

/** The relation of one dialect's tables, typed by the SQLite ones (the three have the same rows). */
function relationOf(members: Table, events: Table, attendance: Table) {
  const Member = drizzleModel('Member', members as unknown as typeof sqliteMembers)
  const Event = drizzleModel('Event', events as unknown as typeof sqliteEvents)
  const Attendance = drizzleThrough('Attendance', attendance as unknown as typeof sqliteAttendance, { foreignKeys: { memberId: Member, eventId: Event } })
  return { Member, Event, Attendance, attends: manyToMany(Member, Event, { name: 'attends', through: Attendance }) }
}
type Relation = ReturnType<typeof relationOf>
type EventRow = typeof sqliteEvents.$inferSelect
type AttendanceRow = typeof sqliteAttendance.$inferSelect

const dialects = {
  sqlite: relationOf(sqliteMembers, sqliteEvents, sqliteAttendance),
  postgres: relationOf(pgMembers, pgEvents, pgAttendance),
  mysql: relationOf(mysqlMembers, mysqlEvents, mysqlAttendance),
}

/** Checks the runtime types `$inferSelect` gives an event row. */
function expectEventTypes(row: EventRow): void {
  expect(row.startsAt).toBeInstanceOf(Date)
  if (row.endsAt !== null) expect(row.endsAt).toBeInstanceOf(Date)
  expect(typeof row.public).toBe('boolean')
  if (row.meta !== null) expect(row.meta.tags).toBeInstanceOf(Array)
}

/** Checks the runtime types `$inferSelect` gives an attendance row. */
function expectAttendanceTypes(row: AttendanceRow): void {
  expect(row.joinedAt).toBeInstanceOf(Date)
  expect(typeof row.confirmed).toBe('boolean')
  if (row.reminder !== null) expect(row.reminder).toBeInstanceOf(Date)
  if (row.details !== null) expect(typeof row.details.seat).toBe('number')
}

/** Every path a value takes, on one adapter: create, add with through values, reads, filters, prefetch, updates. */
async function exercise(adapter: RelationAdapter, { Member, attends }: Relation): Promise<void> {
  await adapter.insertTarget({ target: Member.spec, values: { id: 1, name: 'ann' } })
  await adapter.insertTarget({ target: Member.spec, values: { id: 2, name: 'bob' } })
  const ann = { id: 1, name: 'ann' }
  const bob = { id: 2, name: 'bob' }
  const relation = attends.using(adapter)

  // create(): the row returned, and the through values written with it.
  const launch = await relation
    .of(ann)
    .create({ title: 'Launch', startsAt: T0, endsAt: END, public: true, meta: { tags: ['a', 'b'], rank: 1 } }, { throughDefaults: { joinedAt: J0, confirmed: true, details: { seat: 4 } } })
  expect(launch).toEqual({ id: launch.id, title: 'Launch', startsAt: T0, endsAt: END, public: true, meta: { tags: ['a', 'b'], rank: 1 } })
  expectEventTypes(launch)
  const review = await relation.of(bob).create({ title: 'Review', startsAt: T1, endsAt: null, public: false, meta: null }, { throughDefaults: { joinedAt: J1, confirmed: false, details: null } })
  expect(review).toEqual({ id: review.id, title: 'Review', startsAt: T1, endsAt: null, public: false, meta: null })

  // add() with through values; the through column's own default (a $defaultFn) is converted too.
  await relation.of(ann).add(review, { throughDefaults: { joinedAt: J2, confirmed: false, details: { seat: 7, note: 'aisle' } } })

  // Reads: all(), throughRows(), the reverse side, prefetch.
  const all = await relation.of(ann).all()
  expect(all).toEqual([launch, review])
  all.forEach(expectEventTypes)
  const through = await relation.of(ann).throughRows()
  expect(through).toEqual([
    { memberId: 1, eventId: launch.id, joinedAt: J0, confirmed: true, details: { seat: 4 }, reminder: REMINDER },
    { memberId: 1, eventId: review.id, joinedAt: J2, confirmed: false, details: { seat: 7, note: 'aisle' }, reminder: REMINDER },
  ])
  through.forEach(expectAttendanceTypes)
  expect(await relation.of(bob).throughRows([review])).toEqual([{ memberId: 2, eventId: review.id, joinedAt: J1, confirmed: false, details: null, reminder: REMINDER }])
  expect(await relation.reverse.of(review).all()).toEqual([ann, bob])
  const prefetched = await relation.prefetch([ann, bob], { where: { public: false } })
  expect(prefetched.rows(ann)).toEqual([review])
  expect(prefetched.rows(bob)).toEqual([review])
  prefetched.rows(ann).forEach(expectEventTypes)

  // Filters by a Date and a boolean: exact, in, range, comparisons, exclude; isnull as is.
  expect(await relation.of(ann).filter({ public: true }).all()).toEqual([launch])
  expect(await relation.of(ann).filter({ startsAt: T1 }).all()).toEqual([review])
  expect(await relation.of(ann).filter({ startsAt__in: [T0, T2] }).ids()).toEqual([launch.id])
  expect(await relation.of(ann).filter({ startsAt__range: [T0, T1] }).ids()).toEqual([launch.id, review.id])
  expect(await relation.of(ann).filter({ startsAt__gt: T0 }).ids()).toEqual([review.id])
  expect(await relation.of(ann).filter({ endsAt__lte: END }).ids()).toEqual([launch.id])
  expect(await relation.of(ann).exclude({ public: false }).ids()).toEqual([launch.id])
  expect(await relation.of(ann).filter({ endsAt__isnull: true }).ids()).toEqual([review.id])
  expect(await relation.of(ann).orderBy('-startsAt').ids()).toEqual([review.id, launch.id])

  // Across the relation: through conditions on converted columns, and converted sources (events).
  expect(await relation.filter({ public: false }, { through: { confirmed: false, joinedAt__gte: J2 } }).all()).toEqual([ann])
  expect(await relation.filter({}, { through: { joinedAt: J1 } }).all()).toEqual([bob])
  const sources = await relation.reverse.filter({ name: 'ann' }, { through: { confirmed: true } }).all()
  expect(sources).toEqual([launch])
  sources.forEach(expectEventTypes)
  expect(await relation.reverse.filter({}).distinct().where({ startsAt__gte: T1, public: false }).all()).toEqual([review])

  // Updates and lookups that create: values written from defaults and from the lookup.
  const [updated, created] = await relation.of(ann).updateOrCreate({ title: 'Launch', startsAt: T0 }, { defaults: { public: false, endsAt: null, meta: { tags: [] } } })
  expect(created).toBe(false)
  expect(updated).toEqual({ ...launch, public: false, endsAt: null, meta: { tags: [] } })
  expect(await relation.of(ann).filter({ public: false }).all()).toEqual([updated, review])
  const [party, made] = await relation.of(bob).getOrCreate({ title: 'Party', startsAt: T2 }, { defaults: { public: true, endsAt: null, meta: null }, throughDefaults: { joinedAt: J0, confirmed: true } })
  expect(made).toBe(true)
  expect(party).toEqual({ id: party.id, title: 'Party', startsAt: T2, endsAt: null, public: true, meta: null })
  expect(await relation.of(bob).getOrCreate({ title: 'Party', startsAt: T2 })).toEqual([party, false])
  expect(await relation.of(bob).all()).toEqual([review, party])
}

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

describe('converters of models from Drizzle tables', () => {
  it('come from the columns that convert, and none from those that do not', () => {
    const { Member, Event, Attendance } = dialects.sqlite
    expect(Object.keys(Member.converters)).toEqual([])
    expect(Object.keys(Event.converters)).toEqual(['startsAt', 'endsAt', 'public', 'meta'])
    expect(Object.keys(Attendance.converters)).toEqual(['joinedAt', 'confirmed', 'details', 'reminder'])
    // A pg integer or serial column is read as a number by every driver: no converter, no row copy.
    expect(Object.keys(dialects.postgres.Member.converters)).toEqual([])
    expect(Object.keys(dialects.postgres.Event.converters)).toEqual(['startsAt', 'endsAt', 'meta'])
    expect(Object.keys(dialects.mysql.Event.converters)).toEqual(['startsAt', 'endsAt', 'public', 'meta'])
  })

  it('decode what each adapter returns, and keep a value already decoded', () => {
    const decode = (model: { converters: AnyModel['converters'] }, property: string, stored: unknown): unknown => model.converters[property]?.fromDatabase(stored)
    const { sqlite, postgres, mysql } = dialects
    // SQLite: seconds and milliseconds, 0/1, JSON text and JSON bytes.
    expect(decode(sqlite.Event, 'startsAt', T0.getTime() / 1000)).toEqual(T0)
    expect(decode(sqlite.Event, 'endsAt', END.getTime())).toEqual(END)
    expect(decode(sqlite.Event, 'startsAt', T0)).toBe(T0)
    expect(decode(sqlite.Event, 'public', 1)).toBe(true)
    expect(decode(sqlite.Event, 'public', 0)).toBe(false)
    expect(decode(sqlite.Event, 'public', false)).toBe(false)
    expect(decode(sqlite.Event, 'meta', '{"tags":["x"]}')).toEqual({ tags: ['x'] })
    expect(decode(sqlite.Attendance, 'details', Buffer.from('{"seat":2}'))).toEqual({ seat: 2 })
    // PostgreSQL: Drizzle's node-postgres session returns strings, node-postgres itself Dates and parsed JSON.
    expect(decode(postgres.Event, 'startsAt', '2025-03-01 10:00:00+00')).toEqual(T0)
    expect(decode(postgres.Event, 'endsAt', '2025-03-01 12:00:00.123')).toEqual(END)
    expect(decode(postgres.Event, 'endsAt', END)).toBe(END)
    const meta = { tags: ['y'] }
    expect(decode(postgres.Event, 'meta', meta)).toBe(meta)
    // MariaDB: DATETIME as a string (Drizzle's mysql2 session) or a Date, booleans as 1/0, JSON as text.
    expect(decode(mysql.Event, 'startsAt', '2025-03-01 10:00:00.000')).toEqual(T0)
    expect(decode(mysql.Event, 'startsAt', T0)).toBe(T0)
    expect(decode(mysql.Event, 'endsAt', '2025-03-01 12:00:00.123')).toEqual(END)
    expect(decode(mysql.Event, 'public', 1)).toBe(true)
    expect(decode(mysql.Event, 'meta', '{"tags":[]}')).toEqual({ tags: [] })
    expect(decode(mysql.Event, 'meta', meta)).toBe(meta)
  })

  it('encode values as Drizzle stores them', () => {
    const encode = (model: AnyModel, property: string, value: unknown): unknown => model.converters[property]?.toDatabase(value)
    const { sqlite, postgres, mysql } = dialects
    expect(encode(sqlite.Event, 'startsAt', T0)).toBe(T0.getTime() / 1000)
    expect(encode(sqlite.Event, 'endsAt', END)).toBe(END.getTime())
    expect(encode(sqlite.Event, 'public', true)).toBe(1)
    expect(encode(sqlite.Event, 'meta', { tags: [] })).toBe('{"tags":[]}')
    // Server date columns: what the database prints, as SQL adapters compare strings as text.
    expect(encode(postgres.Event, 'startsAt', T0)).toBe(T0)
    expect(encode(postgres.Event, 'endsAt', T0)).toBe('2025-03-01 10:00:00')
    expect(encode(postgres.Event, 'endsAt', END)).toBe('2025-03-01 12:00:00.123')
    expect(encode(postgres.Event, 'endsAt', new Date('2025-03-01T12:00:00.120Z'))).toBe('2025-03-01 12:00:00.12')
    expect(encode(mysql.Event, 'startsAt', T0)).toBe('2025-03-01 10:00:00.000')
    expect(encode(mysql.Event, 'startsAt', END)).toBe('2025-03-01 12:00:00.123')
  })

  it('refuse a value their column cannot take, and a stored value they cannot read, with codes', async () => {
    const adapter = new MemoryAdapter()
    const { Member, Event, attends } = dialects.sqlite
    await adapter.insertTarget({ target: Member.spec, values: { id: 1, name: 'ann' } })
    const relation = attends.using(adapter)
    const values = { title: 'Bad', startsAt: 'tomorrow' as unknown as Date, endsAt: null, public: true, meta: null }
    await expect(relation.of(1).create(values, { throughDefaults: { joinedAt: J0, confirmed: true } })).rejects.toMatchObject({ code: 'M2M_INVALID_ARGUMENT' })
    await expect(relation.of(1).filter({ startsAt: 'tomorrow' as unknown as Date }).all()).rejects.toMatchObject({ code: 'M2M_INVALID_LOOKUP' })
    const row = await adapter.insertTarget({ target: Event.spec, values: { title: 'Odd', starts_at: 1, ends_at: null, public: 1, meta: '{not json' } })
    await relation.of(1).add(Number(row.id), { throughDefaults: { joinedAt: J0, confirmed: true } })
    await expect(relation.of(1).all()).rejects.toMatchObject({ code: 'M2M_INVALID_DEFINITION', message: expect.stringContaining('"meta"') })
  })
})

// SQLite: the memory store, better-sqlite3, knex, Kysely and Drizzle, each on its own database.
const sqliteAdapters: readonly (readonly [string, () => RelationAdapter | Promise<RelationAdapter>])[] = [
  ['memory', () => new MemoryAdapter()],
  [
    'better-sqlite3',
    () => {
      const database = new Database(':memory:')
      database.pragma('foreign_keys = ON')
      for (const statement of SQLITE_DDL) database.exec(statement)
      cleanups.push(() => {
        database.close()
      })
      return new BetterSqlite3Adapter(database)
    },
  ],
  [
    'knex(sqlite)',
    async () => {
      const db = knex({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true, pool: { min: 1, max: 1 } })
      for (const statement of SQLITE_DDL) await db.raw(statement)
      cleanups.push(() => db.destroy())
      return new KnexAdapter(db)
    },
  ],
]

describe.each(sqliteAdapters)('Drizzle-converted values on %s', (_name, connect) => {
  it('read back equal to what was written, with the $inferSelect runtime types', async () => {
    await exercise(await connect(), dialects.sqlite)
  })
})

// Every database of the run (SQLite always, PostgreSQL and MariaDB with PG_URL and MYSQL_URL):
// knex, Drizzle and Kysely on the same tables.
const libraries: readonly (readonly [string, readonly LibraryTarget<object>[], (connection: LibraryConnection<object>) => RelationAdapter])[] = [
  ['knex', drizzleTargets, (connection) => new KnexAdapter(connection.knex)],
  ['drizzle', drizzleTargets, (connection) => new DrizzleAdapter(connection.client())],
  ['kysely', kyselyTargets, (connection) => new KyselyAdapter(connection.client() as ConstructorParameters<typeof KyselyAdapter>[0])],
]
const ddl = { sqlite: SQLITE_DDL, postgres: PG_DDL, mysql: MYSQL_DDL } as const

for (const [library, targets, open] of libraries) {
  for (const target of targets) {
    const dialect = target.name as keyof typeof ddl
    describe.skipIf(!target.enabled)(`Drizzle-converted values on ${library}(${target.name})`, () => {
      it('read back equal to what was written, with the $inferSelect runtime types', async () => {
        const connection = target.connect()
        cleanups.push(() => connection.close())
        for (const statement of ddl[dialect]) await connection.knex.raw(statement)
        await exercise(open(connection), dialects[dialect])
      })
    })
  }
}
