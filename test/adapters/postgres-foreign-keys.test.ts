import type { Knex } from 'knex'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { KnexAdapter } from '../../src/adapters/knex/index.js'
import { KyselyAdapter } from '../../src/adapters/kysely/index.js'
import { defineModel, defineThrough, isThroughlineError, manyToMany, type AdapterLogEvent, type RelationAdapter } from '../../src/index.js'
import { dropTables, knexTargets, reportSkippedTargets } from '../helpers/knex-targets.js'

// add() in one INSERT on PostgreSQL: the adapters read from pg_catalog whether PostgreSQL itself
// refuses a link to a missing row (a foreign key from each key column, not deferrable, triggers
// on), and the manager then sends the INSERT alone. The user's own tables, written in SQL.

const User = defineModel<{ id: number; name: string }>('PfUser', { table: 'pf_users' })
const Item = defineModel<{ id: number; title: string }>('PfItem', { table: 'pf_items' })
const Likes = defineThrough<{ user_id: number; item_id: number }>('PfLike', { table: 'pf_likes', foreignKeys: { user_id: User, item_id: Item } })
const likes = manyToMany(User, Item, { name: 'likes', through: Likes })

const JOIN_TABLES = {
  'foreign keys on both columns': 'user_id integer NOT NULL REFERENCES pf_users (id) ON DELETE CASCADE, item_id integer NOT NULL REFERENCES pf_items',
  'no foreign key': 'user_id integer NOT NULL, item_id integer NOT NULL',
  'a foreign key on one column only': 'user_id integer NOT NULL REFERENCES pf_users (id), item_id integer NOT NULL',
  'a deferrable foreign key': 'user_id integer NOT NULL REFERENCES pf_users (id), item_id integer NOT NULL REFERENCES pf_items DEFERRABLE INITIALLY IMMEDIATE',
  'a foreign key to another column': 'user_id integer NOT NULL REFERENCES pf_users (id), item_id integer NOT NULL REFERENCES pf_items (code)',
} as const

type JoinTable = keyof typeof JOIN_TABLES

const target = knexTargets.find((candidate) => candidate.name === 'postgres')
reportSkippedTargets('postgres foreign keys')

describe.skipIf(target?.enabled !== true)('add() in one INSERT where PostgreSQL enforces the join table’s foreign keys', () => {
  let db: Knex
  let kysely: Kysely<unknown>

  const create = async (join: JoinTable): Promise<void> => {
    await dropTables(db, ['pf_likes', 'pf_items', 'pf_users'])
    await db.raw('CREATE TABLE pf_users (id serial PRIMARY KEY, name text NOT NULL)')
    await db.raw('CREATE TABLE pf_items (id serial PRIMARY KEY, title text NOT NULL, code integer UNIQUE)')
    await db.raw(`CREATE TABLE pf_likes (${JOIN_TABLES[join]}, PRIMARY KEY (user_id, item_id))`)
    await db.raw("INSERT INTO pf_users (id, name) VALUES (1, 'ana'), (2, 'bo')")
    await db.raw("INSERT INTO pf_items (id, title, code) VALUES (1, 'one', 1), (2, 'two', 2), (3, 'three', 3)")
  }
  const links = async (): Promise<unknown[]> => db('pf_likes').select('user_id', 'item_id').orderBy(['user_id', 'item_id'])

  beforeAll(() => {
    if (target === undefined) return
    db = target.connect()
    // The same schema as the knex connection (each test run works in a schema of its own).
    const searchPath = String((db.client as { config: { searchPath: string[] } }).config.searchPath[0])
    kysely = new Kysely<unknown>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: process.env.PG_URL, max: 2, options: `-c search_path="${searchPath}"` }) }),
    })
  })
  afterAll(async () => {
    await dropTables(db, ['pf_likes', 'pf_items', 'pf_users'])
    await kysely.destroy()
    await db.destroy()
  })

  const ways: readonly { name: string; adapter: () => RelationAdapter }[] = [
    { name: 'KnexAdapter', adapter: () => new KnexAdapter(db) },
    { name: 'KyselyAdapter', adapter: () => new KyselyAdapter(kysely) },
  ]

  for (const way of ways) {
    describe(way.name, () => {
      beforeEach(() => create('foreign keys on both columns'))

      for (const join of Object.keys(JOIN_TABLES) as JoinTable[]) {
        const expected = join === 'foreign keys on both columns'
        it(`says ${String(expected)} for a join table with ${join}`, async () => {
          await create(join)
          expect(await way.adapter().foreignKeysEnforced?.(likes.link)).toBe(expected)
        })
      }

      it('draws no id of a serial column for pairs already linked (re-add, unchanged set)', async () => {
        await db.raw('DROP TABLE pf_likes')
        await db.raw('CREATE TABLE pf_likes (id serial PRIMARY KEY, user_id integer NOT NULL REFERENCES pf_users (id), item_id integer NOT NULL REFERENCES pf_items (id), UNIQUE (user_id, item_id))')
        const manager = likes.using(way.adapter()).of(1)
        await manager.add([1, 2])
        for (let round = 0; round < 3; round++) {
          await manager.add([1, 2])
          await manager.add([2])
          await manager.set([1, 2])
        }
        await manager.add([3])
        const ids = (await db('pf_likes').orderBy('id').pluck('id')) as number[]
        expect(ids).toEqual([1, 2, 3])
      })

      it('adds new and linked targets in one statement each', async () => {
        const adapter = way.adapter()
        const manager = likes.using(adapter).of(1)
        const before = adapter.statementCount
        await manager.add([1])
        await manager.add([1, 2, 3])
        expect(adapter.statementCount - before).toBe(2)
        expect(await links()).toEqual([
          { user_id: 1, item_id: 1 },
          { user_id: 1, item_id: 2 },
          { user_id: 1, item_id: 3 },
        ])
      })

      it('refuses a missing target, or a key beyond the column’s type, with M2M_TARGET_NOT_FOUND and writes nothing', async () => {
        const manager = likes.using(way.adapter()).of(1)
        const missing: unknown = await manager.add([1, 99, 2]).catch((caught: unknown) => caught)
        expect(isThroughlineError(missing, 'M2M_TARGET_NOT_FOUND') && missing.keys).toEqual([99])
        const beyond: unknown = await manager.add([2 ** 40]).catch((caught: unknown) => caught)
        expect(isThroughlineError(beyond, 'M2M_TARGET_NOT_FOUND') && beyond.keys).toEqual([2 ** 40])
        expect(await links()).toEqual([])
      })

      it('counts the join table alone while the target’s foreign key is validated, and joins otherwise', async () => {
        const sent: string[] = []
        const log = (event: AdapterLogEvent): void => {
          if (event.type === 'statement') sent.push(event.sql)
        }
        const adapter = way.name === 'KnexAdapter' ? new KnexAdapter(db, { log }) : new KyselyAdapter(kysely, { log })
        const manager = likes.using(adapter).of(1)
        await manager.add([1, 2, 3])
        expect(await manager.count()).toBe(3)
        expect(sent.at(-1)).toMatch(/CASE WHEN .*convalidated/)
        // A dangling link written while the constraint was gone: the count joins again, and leaves it out.
        await db.raw('ALTER TABLE pf_likes DROP CONSTRAINT pf_likes_item_id_fkey')
        await db.raw('INSERT INTO pf_likes (user_id, item_id) VALUES (1, 77)')
        await db.raw('ALTER TABLE pf_likes ADD CONSTRAINT pf_likes_item_id_fkey FOREIGN KEY (item_id) REFERENCES pf_items NOT VALID')
        expect(await manager.count()).toBe(3)
        expect(await likes.using(way.adapter()).of(1).count()).toBe(3)
        expect(await manager.filter({ title: 'two' }).count()).toBe(1)
      })

      it('never stores a link to a missing row after the foreign key is dropped behind its back', async () => {
        const adapter = way.adapter()
        const manager = likes.using(adapter).of(1)
        await manager.add([1])
        // The adapter remembers "enforced"; the INSERT finds the constraint gone and checks the rows itself.
        await db.raw('ALTER TABLE pf_likes DROP CONSTRAINT pf_likes_item_id_fkey')
        await manager.add([2, 99]).catch(() => undefined)
        expect(await links()).not.toContainEqual({ user_id: 1, item_id: 99 })
        expect(await way.adapter().foreignKeysEnforced?.(likes.link)).toBe(false)
      })
    })
  }
})
