import { Kysely, SqliteDialect, type Generated } from 'kysely'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createJoinTable, createTable } from '../../src/adapters/knex/index.js'
import { KyselyAdapter, kyselyModel } from '../../src/adapters/kysely/index.js'
import { modelTable } from '../../src/conformance/index.js'
import { InvalidArgumentError, isThroughlineError, manyToMany, type AdapterLogEvent } from '../../src/index.js'
import { dropTables, reportSkippedTargets } from '../helpers/knex-targets.js'
import { kyselyTargets } from '../helpers/kysely-targets.js'
import type { LibraryConnection } from '../helpers/library-targets.js'

// What only the Kysely adapter does: running inside the caller's Kysely transaction (a
// savepoint per call), telling the database from the Kysely instance, and its options. The
// shared behaviour is in kysely.conformance.test.ts. Tables are prefixed `ky_` so that this
// file and the conformance suite never share one.

interface DB {
  ky_user: { id: Generated<number>; name: string | null }
  ky_interview: { id: Generated<number>; title: string | null }
  ky_audit: { id: Generated<number>; action: string | null }
}

const model = kyselyModel<DB>()
const User = model('KyUser', { table: 'ky_user' })
const Interview = model('KyInterview', { table: 'ky_interview' })
const favorites = manyToMany(User, Interview, { name: 'favorites' })

reportSkippedTargets('kysely')

for (const target of kyselyTargets) {
  describe.skipIf(!target.enabled)(`KyselyAdapter on ${target.name}`, () => {
    let connection: LibraryConnection<Kysely<unknown>>
    let db: Kysely<DB>

    beforeAll(async () => {
      connection = target.connect()
      await dropTables(connection.knex, ['ky_user_favorites', 'ky_audit', 'ky_interview', 'ky_user'])
      await createTable(connection.knex, modelTable(User, { name: 'string' }))
      await createTable(connection.knex, modelTable(Interview, { title: 'string' }))
      await createTable(connection.knex, { ...modelTable(User, { action: 'string' }), table: 'ky_audit' })
      await createJoinTable(connection.knex, favorites)
      db = connection.client()
    })

    afterAll(async () => {
      await connection.close()
    })

    beforeEach(async () => {
      for (const table of ['ky_user_favorites', 'ky_audit', 'ky_interview', 'ky_user']) await connection.knex(table).del()
      await connection.knex('ky_user').insert([{ id: 1, name: 'ann' }])
      await connection.knex('ky_interview').insert([1, 2, 3].map((id) => ({ id, title: `interview ${String(id)}` })))
    })

    const links = async (): Promise<number[]> =>
      (await connection.knex('ky_user_favorites').select('kyinterview_id').orderBy('kyinterview_id')).map((row: { kyinterview_id: unknown }) => Number(row.kyinterview_id))

    it('names itself after the database it found', () => {
      expect(new KyselyAdapter(db).name).toBe(`kysely(${target.name === 'postgres' ? 'pg' : target.name})`)
    })

    it('runs inside a transaction of yours, and commits with it', async () => {
      await db.transaction().execute(async (trx) => {
        const adapter = new KyselyAdapter(trx)
        expect(adapter.inTransaction).toBe(true)
        await trx.insertInto('ky_audit').values({ action: 'like' }).execute()
        await favorites.using(adapter).of(1).add([1, 2])
      })
      expect(await links()).toEqual([1, 2])
    })

    it('rolls back with a transaction of yours', async () => {
      const failure = db.transaction().execute(async (trx) => {
        await favorites.using(new KyselyAdapter(trx)).of(1).add([1, 2])
        throw new Error('the caller changed its mind')
      })
      await expect(failure).rejects.toThrow('the caller changed its mind')
      expect(await links()).toEqual([])
    })

    it('leaves your transaction usable after a failed call, and keeps the writes before it', async () => {
      await db.transaction().execute(async (trx) => {
        const mine = favorites.using(new KyselyAdapter(trx))
        await mine.of(1).add(1)
        // A missing target: refused by the manager, nothing written.
        await expect(mine.of(1).add([2, 99])).rejects.toMatchObject({ code: 'M2M_TARGET_NOT_FOUND' })
        // A duplicate primary key: refused by the database itself, which on PostgreSQL aborts
        // the transaction unless the call ran in a savepoint.
        const failed = await mine.of(1).create({ id: 1, title: 'again' }).catch((error: unknown) => error)
        expect(isThroughlineError(failed) && failed.code).toBe('M2M_CONSTRAINT_VIOLATION')
        await mine.of(1).add(3)
        await trx.insertInto('ky_audit').values({ action: 'after the failures' }).execute()
      })
      expect(await links()).toEqual([1, 3])
      expect(await connection.knex('ky_audit').count({ count: '*' })).toEqual([{ count: target.name === 'postgres' ? '1' : 1 }])
    })

    it('opens its own transaction on a Kysely instance, and undoes all of a failed call', async () => {
      const adapter = new KyselyAdapter(db)
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
      const adapter = new KyselyAdapter(db)
      const relation = favorites.using(adapter)
      let seen: unknown
      const off = relation.on('post_add', async () => {
        seen = await relation.of(1).ids()
      })
      try {
        await relation.of(1).add([2, 3])
      } finally {
        off()
      }
      expect(seen).toEqual([2, 3])
    })

    it('logs every statement it sends, without values', async () => {
      const events: AdapterLogEvent[] = []
      const adapter = new KyselyAdapter(db, { log: (event) => events.push(event) })
      await favorites.using(adapter).of(1).toggle(2)
      expect(events.length).toBe(adapter.statementCount)
      expect(events.every((event) => event.type === 'statement' && event.adapter === adapter.name && /\?|\$1/.test(event.sql) && event.sql.includes('ky_user_favorites'))).toBe(true)
    })

    it('describes a table from the catalog', async () => {
      const description = await new KyselyAdapter(db).describeTable('ky_user_favorites')
      expect(description?.columns.map((column) => column.name).sort()).toEqual(['id', 'kyinterview_id', 'kyuser_id'])
      expect(description?.foreignKeys.map((key) => key.table).sort()).toEqual(['ky_interview', 'ky_user'])
      expect(await new KyselyAdapter(db).describeTable('ky_nothing')).toBeUndefined()
    })
  })
}

describe('KyselyAdapter', () => {
  it('refuses what is not a Kysely instance', () => {
    expect(() => new KyselyAdapter({} as never)).toThrow(InvalidArgumentError)
  })

  it('takes the database from its options when the dialect is not one it knows', async () => {
    const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) })
    class OtherAdapter {
      readonly supportsReturning = true
    }
    const unknown = Object.create(db, { getExecutor: { value: () => ({ adapter: new OtherAdapter() }) } }) as Kysely<DB>
    expect(() => new KyselyAdapter(unknown)).toThrow(/OtherAdapter.*dialect: 'pg'/)
    expect(new KyselyAdapter(unknown, { dialect: 'sqlite' }).name).toBe('kysely(sqlite)')
    await db.destroy()
  })

  it('refuses a bind limit too small to work with', () => {
    const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) })
    expect(() => new KyselyAdapter(db, { maxBindParameters: 3 })).toThrow(/at least 16/)
  })
})
