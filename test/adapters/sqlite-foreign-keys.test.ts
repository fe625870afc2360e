import Database from 'better-sqlite3'
import knex from 'knex'
import { Kysely, SqliteDialect } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BetterSqlite3Adapter } from '../../src/adapters/better-sqlite3/index.js'
import { KnexAdapter } from '../../src/adapters/knex/index.js'
import { KyselyAdapter } from '../../src/adapters/kysely/index.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join as joinPath } from 'node:path'
import { defineModel, defineThrough, isThroughlineError, manyToMany, type AdapterLogger, type RelationAdapter } from '../../src/index.js'

// add() in one INSERT on SQLite: the adapters say whether SQLite itself refuses a link to a
// missing row (PRAGMA foreign_keys on, a foreign key from each key column), and then the
// manager sends the INSERT alone. These tests use the user's own tables, written in SQL, on the
// three ways to reach SQLite from one better-sqlite3 connection.

const User = defineModel<{ id: number; name: string }>('User', { table: 'users' })
const Item = defineModel<{ id: number; title: string }>('Item', { table: 'items' })
const Likes = defineThrough<{ user_id: number; item_id: number }>('Like', { table: 'likes', foreignKeys: { user_id: User, item_id: Item } })
const likes = manyToMany(User, Item, { name: 'likes', through: Likes })

const JOIN_TABLES = {
  'foreign keys on both columns': 'user_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE, item_id integer NOT NULL REFERENCES items',
  'no foreign key': 'user_id integer NOT NULL, item_id integer NOT NULL',
  "deferred foreign keys (Django's)": 'user_id integer NOT NULL REFERENCES users (id) DEFERRABLE INITIALLY DEFERRED, item_id integer NOT NULL REFERENCES items (id) DEFERRABLE INITIALLY DEFERRED',
  'a deferred foreign key written over two lines': 'user_id integer NOT NULL REFERENCES users (id), item_id integer NOT NULL REFERENCES items (id) deferrable initially\n  deferred',
  'a foreign key on one column only': 'user_id integer NOT NULL REFERENCES users (id), item_id integer NOT NULL',
  'a foreign key to another column': 'user_id integer NOT NULL REFERENCES users (id), item_id integer NOT NULL REFERENCES items (title)',
  'a composite foreign key': 'user_id integer NOT NULL, item_id integer NOT NULL, FOREIGN KEY (user_id, item_id) REFERENCES pairs (a, b)',
} as const

type JoinTable = keyof typeof JOIN_TABLES

const SCHEMA = (join: JoinTable): string => `
  CREATE TABLE users (id integer PRIMARY KEY, name text NOT NULL);
  CREATE TABLE items (id integer PRIMARY KEY, title text NOT NULL UNIQUE);
  CREATE TABLE pairs (a integer, b integer, PRIMARY KEY (a, b));
  CREATE TABLE likes (${JOIN_TABLES[join]}, PRIMARY KEY (user_id, item_id));
  INSERT INTO users VALUES (1, 'ana'), (2, 'bo');
  INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three');
`

function openDatabase(join: JoinTable, file = ':memory:'): Database.Database {
  const database = new Database(file)
  database.exec(SCHEMA(join))
  return database
}

interface Opened {
  readonly adapter: RelationAdapter
  /** The adapter's one connection. */
  readonly database: Database.Database
  /** Another adapter of the same kind on the same connection. */
  readonly again: () => RelationAdapter
  readonly close: () => Promise<void>
}

interface Way {
  readonly name: string
  /** Opens the user's tables (in memory, or in `file` for a second connection), with an adapter whose statements go to `log`. */
  readonly open: (join: JoinTable, options?: { readonly log?: AdapterLogger; readonly file?: string }) => Promise<Opened>
}

const ways: readonly Way[] = [
  {
    name: 'BetterSqlite3Adapter',
    open: (join, options = {}) => {
      const database = openDatabase(join, options.file)
      const log = options.log === undefined ? {} : { log: options.log }
      return Promise.resolve({ adapter: new BetterSqlite3Adapter(database, log), database, again: () => new BetterSqlite3Adapter(database), close: () => {
          database.close()
          return Promise.resolve()
        },
      })
    },
  },
  {
    name: 'KnexAdapter',
    open: async (join, options = {}) => {
      const db = knex({ client: 'better-sqlite3', connection: { filename: options.file ?? ':memory:' }, useNullAsDefault: true, pool: { min: 1, max: 1 } })
      // knex's one pooled connection: the test reads and sets pragmas on it directly.
      const database = (await db.client.acquireConnection()) as Database.Database
      db.client.releaseConnection(database)
      database.exec(SCHEMA(join))
      return { adapter: new KnexAdapter(db, options.log === undefined ? {} : { log: options.log }), database, again: () => new KnexAdapter(db), close: () => db.destroy() }
    },
  },
  {
    name: 'KyselyAdapter',
    open: (join, options = {}) => {
      const database = openDatabase(join, options.file)
      const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) })
      return Promise.resolve({ adapter: new KyselyAdapter(db, options.log === undefined ? {} : { log: options.log }), database, again: () => new KyselyAdapter(db), close: () => db.destroy() })
    },
  },
]

const linkRows = (database: Database.Database): unknown[] => database.prepare('SELECT user_id, item_id FROM likes ORDER BY user_id, item_id').all()

for (const way of ways) {
  describe(`${way.name}: add() in one INSERT where SQLite enforces the join table's foreign keys`, () => {
    let database: Database.Database
    let opened: Opened | undefined
    const open = async (join: JoinTable): Promise<RelationAdapter> => {
      await opened?.close()
      opened = await way.open(join)
      database = opened.database
      return opened.adapter
    }
    afterEach(async () => {
      await opened?.close()
      opened = undefined
    })

    for (const join of Object.keys(JOIN_TABLES) as JoinTable[]) {
      const expected = join === 'foreign keys on both columns'
      it(`says ${String(expected)} for a join table with ${join}`, async () => {
        const adapter = await open(join)
        expect(await adapter.foreignKeysEnforced?.(likes.link)).toBe(expected)
      })
    }

    it('says false when the connection does not enforce foreign keys', async () => {
      const adapter = await open('foreign keys on both columns')
      database.pragma('foreign_keys = OFF')
      expect(await adapter.foreignKeysEnforced?.(likes.link)).toBe(false)
    })

    it('adds new and linked targets in one statement, and reads the catalog without counting it', async () => {
      const adapter = await open('foreign keys on both columns')
      const manager = likes.using(adapter).of(1)
      const before = adapter.statementCount
      await manager.add([1, 2])
      expect(adapter.statementCount - before).toBe(1)
      await manager.add([2, 3, 3])
      expect(adapter.statementCount - before).toBe(2)
      expect(linkRows(database)).toEqual([
        { user_id: 1, item_id: 1 },
        { user_id: 1, item_id: 2 },
        { user_id: 1, item_id: 3 },
      ])
    })

    it('refuses a missing target with M2M_TARGET_NOT_FOUND and writes nothing', async () => {
      const adapter = await open('foreign keys on both columns')
      const error: unknown = await likes.using(adapter).of(1).add([1, 99, 2]).catch((caught: unknown) => caught)
      expect(isThroughlineError(error, 'M2M_TARGET_NOT_FOUND') && error.keys).toEqual([99])
      expect(linkRows(database)).toEqual([])
    })

    it('refuses a source with no row, naming it, and writes nothing', async () => {
      const adapter = await open('foreign keys on both columns')
      const error: unknown = await likes.using(adapter).of(7).add([1]).catch((caught: unknown) => caught)
      expect(isThroughlineError(error, 'M2M_CONSTRAINT_VIOLATION')).toBe(true)
      expect((error as Error).message).toContain('User')
      expect(linkRows(database)).toEqual([])
    })

    it('still reads first inside a transaction, and on a join table without foreign keys', async () => {
      const adapter = await open('foreign keys on both columns')
      const inside = await adapter.transaction(async (tx) => {
        const before = tx.statementCount
        await likes.using(tx).of(1).add([1])
        return tx.statementCount - before
      })
      expect(inside).toBe(2)
      const loose = await open('no foreign key')
      const before = loose.statementCount
      await likes.using(loose).of(1).add([1])
      expect(loose.statementCount - before).toBe(2)
      const error: unknown = await likes.using(loose).of(1).add([2, 99]).catch((caught: unknown) => caught)
      expect(isThroughlineError(error, 'M2M_TARGET_NOT_FOUND')).toBe(true)
      expect(linkRows(database)).toEqual([{ user_id: 1, item_id: 1 }])
    })

    it('sets in a DELETE and an INSERT, and refuses a missing target with nothing changed; reads first with deferred foreign keys', async () => {
      for (const deferred of ['', ' DEFERRABLE INITIALLY DEFERRED']) {
        const adapter = await open('foreign keys on both columns')
        database.exec(
          `DROP TABLE likes; CREATE TABLE likes (user_id integer NOT NULL REFERENCES users (id)${deferred}, item_id integer NOT NULL REFERENCES items (id)${deferred}, PRIMARY KEY (user_id, item_id))`,
        )
        const manager = likes.using(adapter).of(1)
        await manager.add([1, 2])
        expect(await adapter.foreignKeysEnforced?.(likes.link)).toBe(deferred === '')
        const before = adapter.statementCount
        await manager.set([2, 3])
        // Deferred: a read, a DELETE and an INSERT, as without foreign keys.
        expect(adapter.statementCount - before).toBe(deferred === '' ? 2 : 3)
        expect(linkRows(database)).toEqual([
          { user_id: 1, item_id: 2 },
          { user_id: 1, item_id: 3 },
        ])
        const error: unknown = await manager.set([1, 99]).catch((caught: unknown) => caught)
        expect(isThroughlineError(error, 'M2M_TARGET_NOT_FOUND')).toBe(true)
        expect(linkRows(database)).toEqual([
          { user_id: 1, item_id: 2 },
          { user_id: 1, item_id: 3 },
        ])
        // The connection is left with no transaction open, and goes on working.
        expect(database.inTransaction).toBe(false)
        await manager.set([1])
        expect(linkRows(database)).toEqual([{ user_id: 1, item_id: 1 }])
      }
    })

    it('refuses one missing target alone, and never stores it once foreign keys are off behind its back', async () => {
      const adapter = await open('foreign keys on both columns')
      const manager = likes.using(adapter).of(1)
      await manager.add(1)
      const error: unknown = await manager.add(99).catch((caught: unknown) => caught)
      expect(isThroughlineError(error, 'M2M_TARGET_NOT_FOUND')).toBe(true)
      database.pragma('foreign_keys = OFF')
      await manager.add(98).catch(() => undefined)
      await manager.add(2)
      expect(linkRows(database)).toEqual([
        { user_id: 1, item_id: 1 },
        { user_id: 1, item_id: 2 },
      ])
    })

    it('never stores a link to a missing row after the join table is recreated without foreign keys', async () => {
      const adapter = await open('foreign keys on both columns')
      const manager = likes.using(adapter).of(1)
      await manager.add([1])
      // The adapter remembers "enforced"; the INSERT sees the schema changed and checks the rows itself.
      database.exec(`DROP TABLE likes; CREATE TABLE likes (${JOIN_TABLES['no foreign key']}, PRIMARY KEY (user_id, item_id))`)
      await manager.add([2, 99]).catch(() => undefined)
      expect(linkRows(database)).not.toContainEqual({ user_id: 1, item_id: 99 })
      expect(await opened?.again().foreignKeysEnforced?.(likes.link)).toBe(false)
    })

    it('never stores a link to a missing row after foreign keys are turned off behind its back', async () => {
      const adapter = await open('foreign keys on both columns')
      const manager = likes.using(adapter).of(1)
      await manager.add([1])
      // The adapter remembers "enforced"; the INSERT checks again and falls back to EXISTS.
      database.pragma('foreign_keys = OFF')
      await manager.add([2, 99]).catch(() => undefined)
      expect(linkRows(database)).not.toContainEqual({ user_id: 1, item_id: 99 })
      // A new adapter reads the catalog again: the long way, and the error.
      const fresh = opened?.again()
      expect(await fresh?.foreignKeysEnforced?.(likes.link)).toBe(false)
      const error: unknown = await likes
        .using(fresh ?? adapter)
        .of(1)
        .add([3, 98])
        .catch((caught: unknown) => caught)
      expect(isThroughlineError(error, 'M2M_TARGET_NOT_FOUND')).toBe(true)
      expect(linkRows(database)).not.toContainEqual({ user_id: 1, item_id: 98 })
    })
  })
}

/** A link to item 99, which does not exist, written with foreign keys off, as a connection without the pragma writes it. */
function writeOrphan(database: Database.Database): void {
  database.pragma('foreign_keys = OFF')
  database.prepare('INSERT INTO likes (user_id, item_id) VALUES (1, 99)').run()
  database.pragma('foreign_keys = ON')
}

for (const way of ways) {
  describe(`${way.name}: counts on the join table alone only while every link row has its rows`, () => {
    let opened: Opened | undefined
    let directory: string | undefined
    const sql: string[] = []
    const log: AdapterLogger = (event) => {
      if (event.type === 'statement') sql.push(event.sql)
    }
    const open = async (join: JoinTable, file?: string): Promise<{ adapter: RelationAdapter; database: Database.Database }> => {
      opened = await way.open(join, file === undefined ? { log } : { log, file })
      await likes.using(opened.adapter).of(1).add([1, 2])
      await likes.using(opened.adapter).of(2).add([2])
      sql.length = 0
      return opened
    }
    /**
     * Whether the last count read the join table alone: with its guard in the statement (a CASE
     * on the pragmas: Knex, Kysely, Drizzle), or with no join (BetterSqlite3Adapter, which
     * checks the guard after the count, and joins in a second statement when it failed).
     */
    const trusted = (): boolean => {
      const last = sql.at(-1) ?? ''
      return last.includes('pragma_data_version') || !/\bjoin\b/i.test(last)
    }
    afterEach(async () => {
      await opened?.close()
      opened = undefined
      if (directory !== undefined) rmSync(directory, { recursive: true, force: true })
      directory = undefined
    })

    it('counts, counts per source and finds the linked among keys, on the join table alone once every row has been checked', async () => {
      const { adapter } = await open('foreign keys on both columns')
      const relation = likes.using(adapter)
      expect(await relation.of(1).count()).toBe(2)
      expect(trusted()).toBe(true)
      expect(await relation.reverse.countsOf([1, 2, 3])).toEqual(new Map([[1, 1], [2, 2], [3, 0]]))
      expect(trusted()).toBe(true)
      expect(await relation.of(1).linkedAmong([3, 2, 1, 99])).toEqual([2, 1])
    })

    it('leaves out a link to a missing row written before, as the join does', async () => {
      const { adapter, database } = await open('foreign keys on both columns')
      writeOrphan(database)
      const relation = likes.using(adapter)
      expect(await relation.of(1).count()).toBe(2)
      expect(trusted()).toBe(false)
      expect(await relation.countsOf([1, 2])).toEqual(new Map([[1, 2], [2, 1]]))
      expect(await relation.of(1).linkedAmong([1, 99])).toEqual([1])
    })

    it('joins again once another connection has written, since it may not enforce foreign keys', async () => {
      directory = mkdtempSync(joinPath(tmpdir(), 'throughline-'))
      const file = joinPath(directory, 'app.db')
      const { adapter } = await open('foreign keys on both columns', file)
      const relation = likes.using(adapter)
      expect(await relation.of(1).count()).toBe(2)
      const other = new Database(file)
      try {
        writeOrphan(other)
      } finally {
        other.close()
      }
      expect(await relation.of(1).count()).toBe(2)
      expect(await relation.countsOf([1])).toEqual(new Map([[1, 2]]))
      // Until the next integrity check, every count joins, in one statement.
      const before = adapter.statementCount
      sql.length = 0
      expect(await relation.of(1).count()).toBe(2)
      expect(await relation.countsOf([1, 2])).toEqual(new Map([[1, 2], [2, 1]]))
      expect(adapter.statementCount - before).toBe(2)
      expect(sql.every((text) => /\bjoin\b/i.test(text))).toBe(true)
    })

    it('joins when foreign keys are off on the connection', async () => {
      const { adapter, database } = await open('foreign keys on both columns')
      const relation = likes.using(adapter)
      expect(await relation.of(1).count()).toBe(2)
      database.pragma('foreign_keys = OFF')
      database.prepare('INSERT INTO likes (user_id, item_id) VALUES (1, 98)').run()
      expect(await relation.of(1).count()).toBe(2)
      expect(await relation.countsOf([1])).toEqual(new Map([[1, 2]]))
    })

    it('joins for a target column that may be NULL (ON DELETE SET NULL)', async () => {
      await opened?.close()
      opened = await way.open('foreign keys on both columns', { log })
      const { database } = opened
      database.exec(
        'DROP TABLE likes; CREATE TABLE likes (user_id integer NOT NULL REFERENCES users (id), item_id integer REFERENCES items (id) ON DELETE SET NULL, UNIQUE (user_id, item_id))',
      )
      const relation = likes.using(opened.adapter)
      await relation.of(1).add([1, 2])
      database.prepare('DELETE FROM items WHERE id = 2').run()
      expect(await relation.of(1).count()).toBe(1)
      expect(trusted()).toBe(false)
      expect(await relation.countsOf([1])).toEqual(new Map([[1, 1]]))
    })
  })
}

describe('add() in one INSERT, with a listener', () => {
  let database: Database.Database
  beforeEach(() => {
    database = openDatabase('foreign keys on both columns')
  })
  afterEach(() => database.close())

  it('reads first when a listener needs the keys actually added', async () => {
    const adapter = new BetterSqlite3Adapter(database)
    const relation = likes.using(adapter)
    await relation.of(1).add([1])
    const added: number[][] = []
    const off = relation.on('pre_add', (event) => {
      added.push([...event.pkSet] as number[])
    })
    try {
      const before = adapter.statementCount
      await relation.of(1).add([1, 2])
      expect(adapter.statementCount - before).toBe(2)
    } finally {
      off()
    }
    expect(added).toEqual([[2]])
  })
})
