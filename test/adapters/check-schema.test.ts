import Database from 'better-sqlite3'
import knex, { type Knex } from 'knex'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  defineModel,
  defineThrough,
  isThroughlineError,
  manyToMany,
  MemoryAdapter,
  MigrationError,
  SchemaMismatchError,
  SchemaUnavailableError,
  type RelationAdapter,
  type SchemaReport,
} from '../../src/index.js'
import { BetterSqlite3Adapter } from '../../src/adapters/better-sqlite3/index.js'
import { createJoinTable, dropJoinTable, dropJoinTableSql, joinTableSql, KnexAdapter } from '../../src/adapters/knex/index.js'
import { disconnect, dropTables, knexTargets, reportSkippedTargets } from '../helpers/knex-targets.js'

// relation.check() on tables made the way a user makes them, by hand (raw DDL), and on tables
// made by createJoinTable; then createJoinTable and dropJoinTable in a knex migration. Tables
// are prefixed `cs_` so that this file can share a database with the others.

interface UserRow {
  id: number
  name: string
}
interface InterviewRow {
  id: number
  title: string
}

const User = defineModel<UserRow>('CsUser', { table: 'cs_users' })
const Interview = defineModel<InterviewRow>('CsInterview', { table: 'cs_interviews' })
// A model whose table nobody created.
const Ghost = defineModel('CsGhost', { table: 'cs_ghosts' })

// A composite primary key on the pair, no id, no foreign keys: fits.
const likes = manyToMany(User, Interview, {
  name: 'likes',
  through: defineThrough('CsLike', { table: 'cs_likes', foreignKeys: { user_id: User, interview_id: Interview } }),
})
// Everything wrong at once: no unique pair, a text column for integer keys, a NOT NULL column
// nothing fills, a declared column that is missing, and a target table that does not exist.
const broken = manyToMany(User, Ghost, {
  name: 'broken',
  through: defineThrough<{ user_id: number; ghost_id: number; rating: number }>('CsBroken', { table: 'cs_broken', foreignKeys: { user_id: User, ghost_id: Ghost }, columns: { rating: {} } }),
})
// The join table was never created.
const missing = manyToMany(User, Interview, { name: 'nothing' })
// A NOT NULL column with a database default, and one declared required: fits.
const defaulted = manyToMany(User, Interview, {
  name: 'defaulted',
  through: defineThrough<{ user_id: number; interview_id: number; rating: number }>('CsDefaulted', {
    table: 'cs_defaulted',
    foreignKeys: { user_id: User, interview_id: Interview },
    columns: { rating: { required: true } },
  }),
})
// Made by createJoinTable (knex) or from joinTableSql (better-sqlite3).
const favorites = manyToMany(User, Interview, { name: 'favorites' })

type Dialect = 'sqlite' | 'postgres' | 'mysql'

const ID: Record<Dialect, string> = {
  sqlite: 'id INTEGER PRIMARY KEY',
  postgres: 'id SERIAL PRIMARY KEY',
  // knex's increments() is unsigned on MySQL; createJoinTable's foreign keys must match it.
  mysql: 'id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY',
}

function userTables(dialect: Dialect): string[] {
  return [
    `CREATE TABLE cs_users (${ID[dialect]}, name VARCHAR(100))`,
    `CREATE TABLE cs_interviews (${ID[dialect]}, title VARCHAR(100))`,
    'CREATE TABLE cs_likes (user_id INTEGER NOT NULL, interview_id INTEGER NOT NULL, PRIMARY KEY (user_id, interview_id))',
    'CREATE TABLE cs_broken (user_id INTEGER NOT NULL, ghost_id TEXT NOT NULL, note VARCHAR(20) NOT NULL)',
    `CREATE TABLE cs_defaulted (user_id INTEGER NOT NULL, interview_id INTEGER NOT NULL, note VARCHAR(20) NOT NULL DEFAULT 'none',
       rating INTEGER NOT NULL, UNIQUE (user_id, interview_id))`,
  ]
}

const TABLES = ['cs_users_favorites', 'cs_defaulted', 'cs_broken', 'cs_likes', 'cs_interviews', 'cs_users', 'cs_users_saved', 'knex_migrations', 'knex_migrations_lock']

async function mismatchOf(run: Promise<unknown>): Promise<SchemaMismatchError> {
  const error = await run.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(SchemaMismatchError)
  return error as SchemaMismatchError
}

/** The checks every SQL adapter must pass, on tables that `setUp` creates. */
function schemaChecks(connect: () => { adapter: () => RelationAdapter; setUp: () => Promise<void>; tearDown: () => Promise<void> }): void {
  let context: ReturnType<typeof connect>
  beforeAll(async () => {
    context = connect()
    await context.setUp()
  })
  afterAll(async () => {
    await context.tearDown()
  })

  it('passes a hand-made table with a composite primary key, no id and no foreign keys, and warns about the foreign keys', async () => {
    const report = await likes.using(context.adapter()).check()
    expect(report.ok).toBe(true)
    expect(report.mismatches).toEqual([])
    expect(report.tables).toEqual(['cs_likes', 'cs_users', 'cs_interviews'])
    expect(report.warnings.map((warning) => [warning.kind, warning.table, warning.column])).toEqual([
      ['foreign-key', 'cs_likes', 'user_id'],
      ['foreign-key', 'cs_likes', 'interview_id'],
    ])
    expect(report.warnings[0]?.message).toMatch(/cs_likes\.user_id has no foreign key to cs_users/)
    // The reverse side checks the same tables.
    const reverse: SchemaReport = await likes.reverse.using(context.adapter()).check()
    expect(reverse.mismatches).toEqual([])
  })

  it('reports every mismatch of a table at once, each naming its table and column', async () => {
    const error = await mismatchOf(broken.using(context.adapter()).check())
    expect(error.code).toBe('M2M_SCHEMA_MISMATCH')
    expect(isThroughlineError(error, 'M2M_SCHEMA_MISMATCH')).toBe(true)
    const found = error.mismatches.map((mismatch) => [mismatch.kind, mismatch.table, mismatch.column])
    expect(found).toEqual(
      expect.arrayContaining([
        ['missing-column', 'cs_broken', 'rating'],
        ['key-type', 'cs_broken', 'ghost_id'],
        ['no-unique-pair', 'cs_broken', undefined],
        ['unfilled-column', 'cs_broken', 'note'],
        ['missing-table', 'cs_ghosts', undefined],
      ]),
    )
    expect(found).toHaveLength(5)
    expect(error.report.ok).toBe(false)
    expect(error.message).toMatch(/CsUser\.broken does not fit the database .*: 5 mismatches/)
    expect(error.message).toContain('cs_broken.rating: missing column')
    expect(error.message).toMatch(/cs_broken\.ghost_id is text .*CsGhost keys are integer/)
    expect(error.message).toContain('cs_broken: no primary key, unique constraint or unique index on exactly (user_id, ghost_id)')
    expect(error.message).toContain('cs_broken.note: NOT NULL without a default')
    expect(error.message).toContain('cs_ghosts: the table of CsGhost does not exist')
  })

  it('reports a missing join table', async () => {
    const error = await mismatchOf(missing.using(context.adapter()).check())
    expect(error.mismatches.map((mismatch) => [mismatch.kind, mismatch.table])).toEqual([['missing-table', 'cs_users_nothing']])
    expect(error.message).toContain('cs_users_nothing: the join table of CsUser.nothing does not exist')
  })

  it('passes a NOT NULL column with a database default, and one declared required', async () => {
    const report = await defaulted.using(context.adapter()).check()
    expect(report.mismatches).toEqual([])
  })

  it('passes a join table made by the schema helpers, without warnings', async () => {
    const report = await favorites.using(context.adapter()).check()
    expect(report.mismatches).toEqual([])
    expect(report.warnings).toEqual([])
  })
}

reportSkippedTargets('check-schema')

for (const target of knexTargets) {
  const dialect = target.name as Dialect
  describe.skipIf(!target.enabled)(`relation.check() on knex ${target.name}`, () => {
    let db: Knex
    schemaChecks(() => ({
      adapter: () => new KnexAdapter(db),
      setUp: async () => {
        db = target.connect()
        await dropTables(db, TABLES)
        for (const sql of userTables(dialect)) await db.raw(sql)
        await createJoinTable(db, favorites)
      },
      tearDown: async () => {
        await dropTables(db, TABLES)
        await disconnect(db)
      },
    }))
  })
}

describe('relation.check() on better-sqlite3', () => {
  const compiler = knex({ client: 'better-sqlite3', useNullAsDefault: true })
  let database: Database.Database
  schemaChecks(() => ({
    adapter: () => new BetterSqlite3Adapter(database),
    setUp: async () => {
      database = new Database(':memory:')
      for (const sql of [...userTables('sqlite'), ...joinTableSql(compiler, favorites)]) database.exec(sql)
      await Promise.resolve()
    },
    tearDown: async () => {
      database.close()
      await compiler.destroy()
    },
  }))
})

describe('relation.check() without a database schema', () => {
  it('reports only a warning on the memory adapter, which has no fixed columns', async () => {
    const report = await broken.using(new MemoryAdapter()).check()
    expect(report.ok).toBe(true)
    expect(report.warnings.map((warning) => warning.kind)).toEqual(['schemaless'])
    expect(report.warnings[0]?.message).toMatch(/memory adapter has no fixed columns/)
  })

  it('throws M2M_SCHEMA_UNAVAILABLE on an adapter without describeTable', async () => {
    const memory = new MemoryAdapter()
    const bare = Object.assign(Object.create(memory) as MemoryAdapter, { describeTable: undefined })
    const error: unknown = await likes.using(bare).check().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(SchemaUnavailableError)
    expect(isThroughlineError(error, 'M2M_SCHEMA_UNAVAILABLE')).toBe(true)
    expect((error as Error).message).toMatch(/CsUser\.likes\.check\(\): the memory adapter cannot read its database's schema/)
  })

  it('throws M2M_NO_ADAPTER on a relation without an adapter', async () => {
    await expect(likes.check()).rejects.toMatchObject({ code: 'M2M_NO_ADAPTER' })
  })
})

// The join table of a migration, between the model tables.
const saved = manyToMany(User, Interview, { name: 'saved' })

for (const target of knexTargets) {
  const dialect = target.name as Dialect
  describe.skipIf(!target.enabled)(`createJoinTable and dropJoinTable in migrations on knex ${target.name}`, () => {
    let db: Knex
    beforeAll(async () => {
      db = target.connect()
      await dropTables(db, ['cs_users_saved', 'cs_interviews', 'cs_users', 'knex_migrations', 'knex_migrations_lock'])
      for (const sql of userTables(dialect).slice(0, 2)) await db.raw(sql)
    })
    afterAll(async () => {
      await dropTables(db, ['cs_users_saved', 'cs_interviews', 'cs_users', 'knex_migrations', 'knex_migrations_lock'])
      await disconnect(db)
    })

    it('runs up, then down, then up again, as knex migrations', async () => {
      const migration = {
        up: (trx: Knex) => createJoinTable(trx, saved),
        down: (trx: Knex) => dropJoinTable(trx, saved),
      }
      const migrationSource = {
        getMigrations: () => Promise.resolve(['001_saved']),
        getMigrationName: (name: string) => name,
        getMigration: () => Promise.resolve(migration),
      }
      await db.migrate.latest({ migrationSource })
      expect(await db.schema.hasTable('cs_users_saved')).toBe(true)
      expect((await saved.using(new KnexAdapter(db)).check()).ok).toBe(true)
      await db.migrate.rollback({ migrationSource })
      expect(await db.schema.hasTable('cs_users_saved')).toBe(false)
      await db.migrate.latest({ migrationSource })
      expect(await db.schema.hasTable('cs_users_saved')).toBe(true)
      await db.migrate.rollback({ migrationSource })
    })

    it('throws M2M_TABLE_EXISTS when the table exists, unless ifNotExists', async () => {
      await createJoinTable(db, saved)
      const error: unknown = await createJoinTable(db, saved).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(MigrationError)
      expect(error).toMatchObject({ code: 'M2M_TABLE_EXISTS', table: 'cs_users_saved' })
      expect((error as Error).message).toMatch(/the table "cs_users_saved" already exists. Pass \{ ifNotExists: true \}/)
      await createJoinTable(db, saved.reverse, {}, { ifNotExists: true })
      await dropJoinTable(db, saved)
    })

    it('throws M2M_TABLE_MISSING when dropping a table that does not exist, unless ifExists', async () => {
      const error: unknown = await dropJoinTable(db, saved).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(MigrationError)
      expect(error).toMatchObject({ code: 'M2M_TABLE_MISSING', table: 'cs_users_saved' })
      await dropJoinTable(db, saved, { ifExists: true })
    })

    it('prints the DROP TABLE of a join table', () => {
      expect(dropJoinTableSql(db, saved).join(';')).toMatch(/^drop table [`"]cs_users_saved[`"]$/)
      expect(dropJoinTableSql(db, saved, { ifExists: true }).join(';')).toMatch(/^drop table if exists [`"]cs_users_saved[`"]$/)
    })
  })
}
