import { Migrator, type Kysely, type Migration } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTable as knexCreateTable, KnexAdapter } from '../../src/adapters/knex/index.js'
import { createJoinTable, createTable, dropJoinTable, KyselyAdapter } from '../../src/adapters/kysely/index.js'
import { modelTable } from '../../src/conformance/index.js'
import { defineModel, defineThrough, manyToMany, MigrationError, type TableSchema } from '../../src/index.js'
import { dropTables, reportSkippedTargets } from '../helpers/knex-targets.js'
import { kyselyTargets } from '../helpers/kysely-targets.js'
import type { LibraryConnection } from '../helpers/library-targets.js'

// The schema helpers of throughline/kysely: tables made with Kysely's schema builder read in
// the catalog exactly as the Knex helper's do, and the join-table helpers run as a Kysely
// migration's up and down. Tables are prefixed `ksy_` (Kysely) and `ksk_` (knex, to compare).

const User = defineModel<{ id: number; name: string }>('KsyUser', { table: 'ksy_users' })
const Big = defineModel<{ id: bigint; title: string }>('KsyBig', { table: 'ksy_big', keyType: 'bigint' })
const Tag = defineModel<{ id: string; label: string }>('KsyTag', { table: 'ksy_tags', keyType: 'uuid' })

// The join table of the migration: an id, the pair, the reverse index.
const saved = manyToMany(User, Big, { name: 'saved' })
// No id (the unique pair only), extra columns of other kinds, a uuid target.
const tagged = manyToMany(User, Tag, {
  name: 'tagged',
  through: defineThrough<{ ksyuser_id: number; ksytag_id: string; created_at: Date; note: string | null; weight: number }>('KsyTagged', {
    table: 'ksy_tagged',
    foreignKeys: { ksyuser_id: User, ksytag_id: Tag },
    columns: { created_at: {}, note: {}, weight: { required: true } },
  }),
})

/** Every column kind, a composite key, defaults, foreign keys, a unique set and indexes: in tables prefixed `prefix`. */
function schemas(prefix: string): TableSchema[] {
  return [
    { ...modelTable(User, { name: 'string' }), table: `${prefix}_users` },
    { ...modelTable(Big, { title: { kind: 'text', nullable: false } }), table: `${prefix}_big` },
    {
      table: `${prefix}_all`,
      primaryKey: ['user_id', 'big_id'],
      columns: [
        { name: 'user_id', kind: 'integer', nullable: false, references: { table: `${prefix}_users`, column: 'id' } },
        { name: 'big_id', kind: 'bigint', nullable: false, references: { table: `${prefix}_big`, column: 'id' } },
        { name: 'serial', kind: 'integer', nullable: true },
        { name: 'name', kind: 'string', nullable: false, default: 'none' },
        { name: 'body', kind: 'text', nullable: true },
        { name: 'token', kind: 'uuid', nullable: true },
        { name: 'flag', kind: 'boolean', nullable: false, default: true },
        { name: 'count', kind: 'integer', nullable: false, default: 0 },
        { name: 'at', kind: 'datetime', nullable: false, default: { now: true } },
        { name: 'seen', kind: 'datetime', nullable: true },
      ],
      unique: [['user_id', 'name']],
      indexes: [['big_id'], ['at', 'count']],
    },
  ]
}

const COMPARED = ['users', 'big', 'all']
const TABLES = [
  'ksy_users_saved',
  'ksy_tagged',
  ...['ksy', 'ksk'].flatMap((prefix) => ['all', 'big', 'users', 'tags'].map((table) => `${prefix}_${table}`)),
  'kysely_migration',
  'kysely_migration_lock',
]

reportSkippedTargets('kysely-schema')

for (const target of kyselyTargets) {
  describe.skipIf(!target.enabled)(`Kysely schema helpers on ${target.name}`, () => {
    let connection: LibraryConnection<Kysely<unknown>>
    let db: Kysely<unknown>

    beforeAll(async () => {
      connection = target.connect()
      await dropTables(connection.knex, TABLES)
      db = connection.client()
    })

    afterAll(async () => {
      await dropTables(connection.knex, TABLES)
      await connection.close()
    })

    it('creates tables that the catalog describes as the Knex helper’s', async () => {
      for (const schema of schemas('ksk')) await knexCreateTable(connection.knex, schema)
      for (const schema of schemas('ksy')) await createTable(db, schema)
      const knexAdapter = new KnexAdapter(connection.knex)
      for (const table of COMPARED) {
        const fromKnex = await knexAdapter.describeTable(`ksk_${table}`)
        const fromKysely = await knexAdapter.describeTable(`ksy_${table}`)
        expect(fromKnex).toBeDefined()
        expect(JSON.parse(JSON.stringify(fromKysely).replaceAll('ksy_', 'ksk_'))).toEqual(fromKnex)
      }
      // The defaults are the database's: an insert that leaves them out.
      await db.insertInto('ksy_users' as never).values({ name: 'ann' }).execute()
      await db.insertInto('ksy_big' as never).values({ title: 'b' }).execute()
      await connection.knex('ksy_all').insert({ user_id: 1, big_id: 1 })
      const [row] = await connection.knex('ksy_all').select('name', 'flag', 'count', 'at')
      expect(row).toMatchObject({ name: 'none', count: 0 })
      expect(Boolean(Number(row.flag))).toBe(true)
      expect(row.at).not.toBeNull()
      // ON DELETE CASCADE.
      await connection.knex('ksy_users').del()
      expect(await connection.knex('ksy_all').count({ n: '*' })).toEqual([{ n: target.name === 'postgres' ? '0' : 0 }])
    })

    it('runs createJoinTable and dropJoinTable as a Kysely migration: up, down, up again', async () => {
      const migration: Migration = {
        up: (trx) => createJoinTable(trx, saved),
        down: (trx) => dropJoinTable(trx, saved),
      }
      const migrator = new Migrator({ db, provider: { getMigrations: () => Promise.resolve({ '001_saved': migration }) } })
      const exists = async (): Promise<boolean> => (await new KyselyAdapter(db).describeTable('ksy_users_saved')) !== undefined
      expect((await migrator.migrateToLatest()).error).toBeUndefined()
      expect(await exists()).toBe(true)
      const report = await saved.using(new KyselyAdapter(db)).check()
      expect(report.mismatches).toEqual([])
      expect(report.warnings).toEqual([])
      expect((await migrator.migrateDown()).error).toBeUndefined()
      expect(await exists()).toBe(false)
      expect((await migrator.migrateToLatest()).error).toBeUndefined()
      expect(await exists()).toBe(true)
      expect((await saved.using(new KyselyAdapter(db)).check()).ok).toBe(true)
      expect((await migrator.migrateDown()).error).toBeUndefined()
    })

    it('creates a join table without an id, with extra columns of the kinds given, that relation.check() passes and the adapter writes to', async () => {
      await createTable(db, modelTable(Tag, { label: 'string' }))
      await createJoinTable(db, tagged.reverse, { created_at: { kind: 'datetime' }, weight: { kind: 'integer' } })
      const adapter = new KyselyAdapter(db)
      const report = await tagged.using(adapter).check()
      expect(report.mismatches).toEqual([])
      expect(report.warnings).toEqual([])
      const description = await adapter.describeTable('ksy_tagged')
      expect(description?.primaryKey).toEqual([])
      expect(description?.columns.map((column) => [column.name, column.family, column.nullable])).toEqual([
        ['ksyuser_id', 'integer', false],
        ['ksytag_id', target.name === 'postgres' ? 'uuid' : 'string', false],
        ['created_at', 'datetime', true],
        ['note', 'string', true],
        ['weight', 'integer', false],
      ])
      const tag = '5f0c8e1a-2b7d-4c39-9a51-0d6e3f2b8c47'
      await db.insertInto('ksy_users' as never).values({ name: 'bo' }).execute()
      const [user] = await connection.knex('ksy_users').select('id')
      await db.insertInto('ksy_tags' as never).values({ id: tag, label: 'x' }).execute()
      await tagged.using(adapter).of(Number(user.id)).add(tag, { throughDefaults: { weight: 2, created_at: new Date() } })
      expect(await tagged.using(adapter).of(Number(user.id)).ids()).toEqual([tag])
    })

    it('throws M2M_TABLE_EXISTS when the table exists, unless ifNotExists, and M2M_TABLE_MISSING when dropping one that does not, unless ifExists', async () => {
      await createJoinTable(db, saved)
      const exists: unknown = await createJoinTable(db, saved).catch((caught: unknown) => caught)
      expect(exists).toBeInstanceOf(MigrationError)
      expect(exists).toMatchObject({ code: 'M2M_TABLE_EXISTS', table: 'ksy_users_saved' })
      expect((exists as Error).message).toMatch(/the table "ksy_users_saved" already exists. Pass \{ ifNotExists: true \}/)
      await createJoinTable(db, saved.reverse, {}, { ifNotExists: true })
      await dropJoinTable(db, saved.reverse)
      const missing: unknown = await dropJoinTable(db, saved).catch((caught: unknown) => caught)
      expect(missing).toBeInstanceOf(MigrationError)
      expect(missing).toMatchObject({ code: 'M2M_TABLE_MISSING', table: 'ksy_users_saved' })
      await dropJoinTable(db, saved, { ifExists: true })
    })
  })
}
