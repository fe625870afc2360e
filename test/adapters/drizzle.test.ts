import { sql, type SQL } from 'drizzle-orm'
import { drizzle as drizzleProxy } from 'drizzle-orm/sqlite-proxy'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { DrizzleAdapter } from '../../src/adapters/drizzle/index.js'
import { createJoinTable, createTable } from '../../src/adapters/knex/index.js'
import { modelTable } from '../../src/conformance/index.js'
import { defineModel, InvalidArgumentError, isThroughlineError, manyToMany, type AdapterLogEvent } from '../../src/index.js'
import { drizzleTargets } from '../helpers/drizzle-targets.js'
import type { LibraryConnection } from '../helpers/library-targets.js'
import { dropTables, reportSkippedTargets } from '../helpers/knex-targets.js'

// What only the Drizzle adapter does: running inside the caller's Drizzle transaction on
// PostgreSQL and MySQL (a savepoint per call), its own SQLite transactions under one lock per
// connection (Drizzle's SQLite transactions are synchronous), telling the database from the
// Drizzle database, and its options. The shared behaviour is in drizzle.conformance.test.ts.
// Tables are prefixed `dz_` so that this file and the conformance suite never share one.

const User = defineModel<{ id: number; name: string | null }>('DzUser', { table: 'dz_user' })
const Interview = defineModel<{ id: number; title: string | null }>('DzInterview', { table: 'dz_interview' })
const favorites = manyToMany(User, Interview, { name: 'favorites' })
// The same join table under a relation of its own: no listener of the first reaches its calls.
const quiet = manyToMany(User, Interview, { name: 'favorites' })

reportSkippedTargets('drizzle')

/** What these tests use of a Drizzle database whose transactions take an async callback (PostgreSQL, MySQL). */
interface ServerDrizzle {
  transaction<R>(work: (tx: { execute(query: SQL): Promise<unknown> }) => Promise<R>): Promise<R>
}

for (const target of drizzleTargets) {
  describe.skipIf(!target.enabled)(`DrizzleAdapter on ${target.name}`, () => {
    let connection: LibraryConnection<object>
    let db: object

    beforeAll(async () => {
      connection = target.connect()
      await dropTables(connection.knex, ['dz_user_favorites', 'dz_audit', 'dz_interview', 'dz_user'])
      await createTable(connection.knex, modelTable(User, { name: 'string' }))
      await createTable(connection.knex, modelTable(Interview, { title: 'string' }))
      await createTable(connection.knex, { ...modelTable(User, { action: 'string' }), table: 'dz_audit' })
      await createJoinTable(connection.knex, favorites)
      db = connection.client()
    })

    afterAll(async () => {
      await connection.close()
    })

    beforeEach(async () => {
      for (const table of ['dz_user_favorites', 'dz_audit', 'dz_interview', 'dz_user']) await connection.knex(table).del()
      await connection.knex('dz_user').insert([{ id: 1, name: 'ann' }])
      await connection.knex('dz_interview').insert([1, 2, 3].map((id) => ({ id, title: `interview ${String(id)}` })))
    })

    const links = async (): Promise<number[]> =>
      (await connection.knex('dz_user_favorites').select('dzinterview_id').orderBy('dzinterview_id')).map((row: { dzinterview_id: unknown }) => Number(row.dzinterview_id))
    const audits = async (): Promise<number> => Number((await connection.knex('dz_audit').count({ count: '*' }))[0]?.count)

    it('names itself after the database it found', () => {
      expect(new DrizzleAdapter(db).name).toBe(`drizzle(${target.name === 'postgres' ? 'pg' : target.name})`)
    })

    it('opens its own transaction on the database, and undoes all of a failed call', async () => {
      const adapter = new DrizzleAdapter(db)
      expect(adapter.inTransaction).toBe(false)
      const relation = favorites.using(adapter)
      const off = relation.on('post_add', () => {
        throw new Error('a listener refuses')
      })
      try {
        await expect(relation.of(1).add([1, 2])).rejects.toThrow('a listener refuses')
      } finally {
        off()
      }
      expect(await links()).toEqual([])
    })

    it('lets a listener use the root adapter inside the call’s transaction', async () => {
      const relation = favorites.using(new DrizzleAdapter(db))
      let seen: unknown
      const off = relation.on('post_add', async () => {
        // Another adapter on the same database: it joins the call's transaction too.
        seen = await favorites.using(new DrizzleAdapter(db)).of(1).ids()
      })
      try {
        await relation.of(1).add([2, 3])
      } finally {
        off()
      }
      expect(seen).toEqual([2, 3])
    })

    it('runs concurrent calls on one database without mixing their transactions', async () => {
      const relation = favorites.using(new DrizzleAdapter(db))
      // Listeners make every call a transaction of its own; the failing one must undo only itself.
      const off = relation.on('pre_add', ({ pkSet }) => {
        if (pkSet.has(3)) throw new Error('not this one')
      })
      try {
        await connection.knex('dz_interview').insert({ id: 4, title: 'interview 4' })
        const calls = await Promise.allSettled([relation.of(1).add(1), relation.of(1).add(3), relation.of(1).add(2), relation.of(1).toggle(4)])
        expect(calls.map((call) => call.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled'])
      } finally {
        off()
      }
      expect(await links()).toEqual([1, 2, 4])
    })

    it('logs every statement it sends, without values', async () => {
      const events: AdapterLogEvent[] = []
      const adapter = new DrizzleAdapter(db, { log: (event) => events.push(event) })
      await favorites.using(adapter).of(1).toggle(2)
      expect(events.length).toBe(adapter.statementCount)
      expect(events.every((event) => event.type === 'statement' && event.adapter === adapter.name && /\?|\$1/.test(event.sql) && event.sql.includes('dz_user_favorites'))).toBe(true)
    })

    it('describes a table from the catalog', async () => {
      const description = await new DrizzleAdapter(db).describeTable('dz_user_favorites')
      expect(description?.columns.map((column) => column.name).sort()).toEqual(['dzinterview_id', 'dzuser_id', 'id'])
      expect(description?.foreignKeys.map((key) => key.table).sort()).toEqual(['dz_interview', 'dz_user'])
      expect(await new DrizzleAdapter(db).describeTable('dz_nothing')).toBeUndefined()
    })

    it('reports a constraint violation with the driver’s message, not Drizzle’s (which repeats the values)', async () => {
      const failed = await favorites
        .using(new DrizzleAdapter(db))
        .of(1)
        .create({ id: 1, title: 'a secret title' })
        .catch((error: unknown) => error)
      expect(isThroughlineError(failed) && failed.code).toBe('M2M_CONSTRAINT_VIOLATION')
      expect((failed as Error).message).not.toContain('a secret title')
    })

    if (target.name === 'sqlite') {
      it('refuses a Drizzle SQLite transaction, which cannot await a call, and says what to do', () => {
        const sqlite = db as { transaction(work: (tx: object) => unknown): unknown }
        let refused: unknown
        sqlite.transaction((tx) => {
          try {
            new DrizzleAdapter(tx)
          } catch (error) {
            refused = error
          }
        })
        expect(refused).toBeInstanceOf(InvalidArgumentError)
        expect((refused as Error).message).toContain('Pass db')
      })

      it('takes savepoints inside a transaction the caller began on the connection', async () => {
        const database = (db as { $client: { exec(sql: string): void } }).$client
        const relation = favorites.using(new DrizzleAdapter(db))
        database.exec('BEGIN')
        await relation.of(1).add([1, 2])
        // A failed call undoes only its own writes: the caller's transaction goes on.
        await expect(relation.of(1).add([3, 99])).rejects.toMatchObject({ code: 'M2M_TARGET_NOT_FOUND' })
        database.exec('ROLLBACK')
        expect(await links()).toEqual([])
        database.exec('BEGIN')
        await relation.of(1).add(3)
        database.exec('COMMIT')
        expect(await links()).toEqual([3])
      })

      it('reports a database another connection keeps busy as a conflict', async () => {
        const database = (db as { $client: { pragma(sql: string): unknown } }).$client
        database.pragma('busy_timeout = 20')
        const adapter = new DrizzleAdapter(db, { retry: { retries: 0 } })
        const relation = favorites.using(adapter)
        const off = relation.on('pre_add', () => undefined) // a listener: add() opens a transaction
        await connection.knex.raw('BEGIN IMMEDIATE')
        try {
          await expect(relation.of(1).add(1)).rejects.toMatchObject({ code: 'M2M_CONFLICT' })
        } finally {
          await connection.knex.raw('ROLLBACK')
          off()
          database.pragma('busy_timeout = 5000')
        }
      })

      it('keeps a call that ran beside another call’s transaction when that one rolls back', async () => {
        const relation = favorites.using(new DrizzleAdapter(db))
        let release: () => void = () => undefined
        const held = new Promise<void>((resolve) => {
          release = resolve
        })
        const off = relation.on('pre_add', async ({ pkSet }) => {
          if (!pkSet.has(1)) return
          await held
          throw new Error('rolled back')
        })
        try {
          const first = relation.of(1).add(1)
          // No listener: a DELETE and an INSERT outside any transaction, which must wait for the
          // open one instead of running inside it (and being rolled back with it).
          const second = quiet.using(new DrizzleAdapter(db)).of(1).toggle(2)
          setTimeout(release, 20)
          await expect(first).rejects.toThrow('rolled back')
          expect(await second).toBe(true)
        } finally {
          off()
        }
        expect(await links()).toEqual([2])
      })
    } else {
      const server = (): ServerDrizzle => db as ServerDrizzle

      it('runs inside a transaction of yours, and commits with it', async () => {
        await server().transaction(async (tx) => {
          const adapter = new DrizzleAdapter(tx)
          expect(adapter.inTransaction).toBe(true)
          await tx.execute(sql`INSERT INTO dz_audit (action) VALUES ('like')`)
          await favorites.using(adapter).of(1).add([1, 2])
        })
        expect(await links()).toEqual([1, 2])
        expect(await audits()).toBe(1)
      })

      it('rolls back with a transaction of yours', async () => {
        const failure = server().transaction(async (tx) => {
          await favorites.using(new DrizzleAdapter(tx)).of(1).add([1, 2])
          throw new Error('the caller changed its mind')
        })
        await expect(failure).rejects.toThrow('the caller changed its mind')
        expect(await links()).toEqual([])
      })

      it('leaves your transaction usable after a failed call, and keeps the writes before it', async () => {
        await server().transaction(async (tx) => {
          const mine = favorites.using(new DrizzleAdapter(tx))
          await mine.of(1).add(1)
          await expect(mine.of(1).add([2, 99])).rejects.toMatchObject({ code: 'M2M_TARGET_NOT_FOUND' })
          // A duplicate primary key: refused by the database itself, which on PostgreSQL aborts
          // the transaction unless the call ran in a savepoint.
          const failed = await mine.of(1).create({ id: 1, title: 'again' }).catch((error: unknown) => error)
          expect(isThroughlineError(failed) && failed.code).toBe('M2M_CONSTRAINT_VIOLATION')
          await mine.of(1).add(3)
          await tx.execute(sql`INSERT INTO dz_audit (action) VALUES ('after the failures')`)
        })
        expect(await links()).toEqual([1, 3])
        expect(await audits()).toBe(1)
      })
    }
  })
}

describe('DrizzleAdapter', () => {
  it('refuses an asynchronous SQLite driver, which cannot keep a call atomic', () => {
    const proxy = drizzleProxy(() => Promise.resolve({ rows: [] }))
    expect(() => new DrizzleAdapter(proxy)).toThrow(InvalidArgumentError)
    expect(() => new DrizzleAdapter(proxy)).toThrow('drizzle-orm/better-sqlite3')
  })

  it('refuses what is not a Drizzle database', () => {
    expect(() => new DrizzleAdapter({})).toThrow(InvalidArgumentError)
    expect(() => new DrizzleAdapter({ dialect: {}, execute: () => Promise.resolve() })).toThrow('SQLite, PostgreSQL and MySQL/MariaDB')
  })

  it('refuses a bind limit too small to work with', () => {
    const db = drizzleTargets[0]!.connect()
    try {
      expect(() => new DrizzleAdapter(db.client(), { maxBindParameters: 3 })).toThrow('maxBindParameters')
    } finally {
      void db.close()
    }
  })
})
