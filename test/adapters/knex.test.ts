import knex, { type Knex } from 'knex'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  defineModel,
  InvalidArgumentError,
  isThroughlineError,
  manyToMany,
  MemoryAdapter,
  StorageError,
  type RelationAdapter,
} from '../../src/index.js'
import { createJoinTable, createTable, joinTableSql, KnexAdapter, tableSql } from '../../src/adapters/knex/index.js'
import { knexDialect } from '../../src/adapters/knex/knex-dialect.js'
import { modelTable } from '../../src/conformance/index.js'
import { describeJoinTable, type TableSchema } from '../../src/schema/table-schema.js'
import { disconnect, dropTables, knexTargets, reportSkippedTargets, seedRows } from '../helpers/knex-targets.js'

// What only the Knex adapter does: running inside the caller's transaction, driver errors,
// chunking, statement counting, key types, string semantics per dialect, and the schema
// helpers. The shared behaviour is in knex.conformance.test.ts. Tables are prefixed `kx_` so
// that this file and the conformance suite can share a database while running in parallel.

interface TagRow {
  id: number
  name: string | null
}

interface PostRow {
  id: number
  title: string
}

interface BigRow {
  id: bigint
  label: string
}

const Tag = defineModel<TagRow>('KxTag', { table: 'kx_tag', columns: ['id', 'name'], ordering: ['name'] })
const Post = defineModel<PostRow>('KxPost', { table: 'kx_post', columns: ['id', 'title'] })
const Big = defineModel<BigRow>('KxBig', { table: 'kx_big', columns: ['id', 'label'], keyType: 'bigint' })
interface CodeRow {
  code: string
}

const Code = defineModel<CodeRow, 'code'>('KxCode', { table: 'kx_code', primaryKey: 'code', columns: ['code'], keyType: 'string' })
const postTags = manyToMany(Post, Tag, { name: 'tags' })
const postBigs = manyToMany(Post, Big, { name: 'bigs' })
const postCodes = manyToMany(Post, Code, { name: 'codes' })
interface LabelRow {
  name: string
}

// String keys on both sides: insertLinks looks both up, on MySQL in one UNION ALL.
const Label = defineModel<LabelRow, 'name'>('KxLabel', { table: 'kx_label', primaryKey: 'name', columns: ['name'], keyType: 'string' })
const codeLabels = manyToMany(Code, Label, { name: 'labels' })

const audit: TableSchema = {
  table: 'kx_audit',
  primaryKey: 'id',
  columns: [
    { name: 'id', kind: 'increments', nullable: false },
    { name: 'note', kind: 'string', nullable: false },
  ],
  unique: [],
  indexes: [],
}

// A table whose default constraint names would pass MySQL's 64-character limit.
const longNames: TableSchema = {
  table: 'kx_a_table_with_a_rather_long_name_to_test_constraint_names',
  primaryKey: 'id',
  columns: [
    { name: 'id', kind: 'increments', nullable: false },
    { name: 'a_long_column_name_pointing_at_posts', kind: 'integer', nullable: false, references: { table: 'kx_post', column: 'id' } },
    { name: 'another_long_column_name_for_the_index', kind: 'string', nullable: true },
  ],
  unique: [['a_long_column_name_pointing_at_posts', 'another_long_column_name_for_the_index']],
  indexes: [['another_long_column_name_for_the_index']],
}

// Every column kind, to check that createTable builds them all.
const allKinds: TableSchema = {
  table: 'kx_all_kinds',
  primaryKey: 'code',
  columns: [
    { name: 'code', kind: 'uuid', nullable: false },
    { name: 'big', kind: 'bigint', nullable: true },
    { name: 'counter', kind: 'integer', nullable: false },
    { name: 'label', kind: 'string', nullable: true },
    { name: 'body', kind: 'text', nullable: true },
    { name: 'flag', kind: 'boolean', nullable: true },
    { name: 'at', kind: 'datetime', nullable: true },
  ],
  unique: [['label']],
  indexes: [['counter', 'big']],
}

const schema: readonly TableSchema[] = [
  modelTable(Tag, { name: 'string' }),
  modelTable(Post, { title: 'string' }),
  modelTable(Big, { label: 'string' }),
  modelTable(Code, {}),
  modelTable(Label, {}),
  describeJoinTable(postTags),
  describeJoinTable(postBigs),
  describeJoinTable(postCodes),
  describeJoinTable(codeLabels),
  audit,
  longNames,
  allKinds,
]

/** The column sets that have an index on `table` (unique or not, primary key excluded). */
async function indexedColumns(db: Knex, table: string): Promise<string[][]> {
  switch (knexDialect(db).name) {
    case 'sqlite': {
      const indexes = await db.raw<{ name: string }[]>('SELECT name FROM pragma_index_list(?)', [table])
      const sets: string[][] = []
      for (const { name } of indexes) {
        const columns = await db.raw<{ name: string }[]>('SELECT name FROM pragma_index_info(?) ORDER BY seqno', [name])
        sets.push(columns.map((column) => column.name))
      }
      return sets
    }
    case 'pg': {
      const result = await db.raw<{ rows: { index: string; column: string }[] }>(
        `SELECT i.relname AS index, a.attname AS column
           FROM pg_index x
           JOIN pg_class i ON i.oid = x.indexrelid
           JOIN pg_class t ON t.oid = x.indrelid
           JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, position) ON true
           JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
          WHERE t.relname = ? AND t.relnamespace = current_schema()::regnamespace AND NOT x.indisprimary
          ORDER BY i.relname, k.position`,
        [table],
      )
      return group(result.rows.map((row) => [row.index, row.column]))
    }
    case 'mysql': {
      // mysql2 answers a raw query with [rows, fields].
      const [rows = []] = await db.raw<{ Key_name: string; Column_name: string; Seq_in_index: number }[][]>('SHOW INDEX FROM ??', [table])
      const sorted = rows.filter((row) => row.Key_name !== 'PRIMARY').sort((a, b) => a.Seq_in_index - b.Seq_in_index)
      return group(sorted.map((row) => [row.Key_name, row.Column_name]))
    }
  }
}

function group(pairs: readonly (readonly [string, string])[]): string[][] {
  const sets = new Map<string, string[]>()
  for (const [name, column] of pairs) sets.set(name, [...(sets.get(name) ?? []), column])
  return [...sets.values()]
}

const CONSTRAINT_CAUSE: Readonly<Record<string, string>> = {
  sqlite: 'SQLITE_CONSTRAINT_FOREIGNKEY',
  pg: '23503',
  mysql: 'ER_NO_REFERENCED_ROW_2',
}

reportSkippedTargets('knex adapter')

it('refuses a Knex instance of a database it does not support', async () => {
  // Knex loads a driver only to connect: no SQL Server driver is needed to build the instance.
  const mssql = knex({ client: 'mssql' })
  expect(() => new KnexAdapter(mssql)).toThrow(InvalidArgumentError)
  expect(() => new KnexAdapter('not knex' as unknown as Knex)).toThrow(InvalidArgumentError)
  await mssql.destroy()
})

for (const target of knexTargets) {
  describe.skipIf(!target.enabled)(`knex ${target.name}: Knex-only behaviour`, () => {
    let db: Knex
    let adapter: KnexAdapter

    beforeAll(async () => {
      db = target.connect()
      await dropTables(db, [...schema].reverse().map((table) => table.table))
      for (const table of schema) {
        if (table.table === 'kx_post_tags') await createJoinTable(db, postTags)
        else await createTable(db, table)
      }
    })

    afterAll(async () => {
      await disconnect(db)
    })

    beforeEach(async () => {
      for (const table of [...schema].reverse()) await db(table.table).del()
      adapter = new KnexAdapter(db)
    })

    async function seed(count: number): Promise<{ post: PostRow; tags: TagRow[] }> {
      const post = (await adapter.insertTarget({ target: Post.spec, values: { title: 'Post' } })) as unknown as PostRow
      const tags: TagRow[] = []
      for (let index = 0; index < count; index++) {
        tags.push((await adapter.insertTarget({ target: Tag.spec, values: { name: `tag ${String(index)}` } })) as unknown as TagRow)
      }
      return { post, tags }
    }

    const linkRows = async (): Promise<number> => (await db('kx_post_tags').select('*')).length

    describe('inside the caller’s transaction', () => {
      it('rolls throughline’s writes back with the caller’s rollback', async () => {
        const { post, tags } = await seed(2)
        const refused = db.transaction(async (trx) => {
          await trx('kx_audit').insert({ note: 'linking' })
          const manager = postTags.using(new KnexAdapter(trx)).of(post)
          await manager.add(tags)
          expect(await manager.count()).toBe(2)
          throw new Error('the caller rolls back')
        })
        await expect(refused).rejects.toThrow('the caller rolls back')
        expect(await linkRows()).toBe(0)
        expect(await db('kx_audit').select('*')).toEqual([])
      })

      it('commits throughline’s writes with the caller’s commit', async () => {
        const { post, tags } = await seed(2)
        await db.transaction(async (trx) => {
          await postTags.using(new KnexAdapter(trx)).of(post).add(tags)
          await trx('kx_audit').insert({ note: 'linked' })
        })
        expect(await postTags.using(adapter).of(post).count()).toBe(2)
      })

      it('undoes only the failed call, in a savepoint, and leaves the transaction usable', async () => {
        const { post, tags } = await seed(3)
        const [t1, t2, t3] = tags as [TagRow, TagRow, TagRow]
        await db.transaction(async (trx) => {
          const inside = new KnexAdapter(trx)
          const manager = postTags.using(inside).of(post)
          await trx('kx_audit').insert({ note: 'before' })
          await manager.add([t1, t2])
          // set() removes t1 and t2, then a listener fails: the removal must be undone.
          const off = postTags.on('post_remove', () => {
            throw new Error('the listener refuses')
          })
          try {
            await expect(manager.set([t3])).rejects.toThrow('the listener refuses')
          } finally {
            off()
          }
          // The database refuses this one (no such post): on PostgreSQL a failed statement
          // aborts the whole transaction unless it ran in a savepoint.
          await expect(postTags.using(inside).of(999_999).add(t1)).rejects.toMatchObject({ code: 'M2M_CONSTRAINT_VIOLATION' })
          expect((await manager.ids()).sort()).toEqual([t1.id, t2.id].sort())
          await trx('kx_audit').insert({ note: 'after' })
        })
        const notes = (await db('kx_audit').select('note').orderBy('id')) as { note: string }[]
        expect(notes.map((row) => row.note)).toEqual(['before', 'after'])
        expect(await linkRows()).toBe(2)
      })

      it('keeps the caller’s transaction usable after a failed toggle, remove or clear, and commits what came before', async () => {
        // Finding 1: toggle(), remove() and clear() without a listener sent their statements
        // straight on the caller's transaction; on PostgreSQL the failed INSERT aborted it, the
        // COMMIT silently rolled back, and add(t1) was lost.
        const { post, tags } = await seed(3)
        const [t1, t2, t3] = tags as [TagRow, TagRow, TagRow]
        // A constraint of the user's that refuses links to t3: the toggle's INSERT fails in the database.
        const checked = knexDialect(db).name !== 'sqlite'
        if (checked) await db.raw(`ALTER TABLE kx_post_tags ADD CONSTRAINT kx_no_t3 CHECK (${postTags.through.targetColumn} <> ${String(t3.id)})`)
        try {
          await db.transaction(async (trx) => {
            const inside = postTags.using(new KnexAdapter(trx))
            await inside.of(post).add(t1)
            await expect(inside.of(post).toggle(999_999)).rejects.toMatchObject({ code: 'M2M_TARGET_NOT_FOUND' })
            await expect(inside.of(424_242).toggle(t2)).rejects.toMatchObject({ code: 'M2M_CONSTRAINT_VIOLATION' })
            if (checked) await expect(inside.of(post).toggle(t3)).rejects.toMatchObject({ code: 'M2M_CONSTRAINT_VIOLATION' })
            // Still usable: the calls after the failures see and write as before.
            expect(await inside.of(post).ids()).toEqual([t1.id])
            await inside.of(post).remove(t2)
            await inside.of(post).toggle(t2)
            await trx('kx_audit').insert({ note: 'after' })
          })
        } finally {
          if (checked) await db.raw(`ALTER TABLE kx_post_tags DROP CONSTRAINT kx_no_t3`)
        }
        expect((await postTags.using(adapter).of(post).ids()).sort()).toEqual([t1.id, t2.id].sort())
        expect(await db('kx_audit').select('note')).toEqual([{ note: 'after' }])
      })

      it('keeps the call’s own transaction usable when a listener catches a failed call through event.using', async () => {
        const { post, tags } = await seed(3)
        const [t1, t2, t3] = tags as [TagRow, TagRow, TagRow]
        const checked = knexDialect(db).name !== 'sqlite'
        if (checked) await db.raw(`ALTER TABLE kx_post_tags ADD CONSTRAINT kx_no_t3 CHECK (${postTags.through.targetColumn} <> ${String(t3.id)})`)
        const off = postTags.on('post_add', async (event) => {
          if (!event.pkSet.has(t1.id)) return
          // A toggle without a listener of its own: no transaction of its own, but a savepoint.
          off()
          await expect(postTags.using(event.using).of(post).toggle(999_999)).rejects.toMatchObject({ code: 'M2M_TARGET_NOT_FOUND' })
          if (checked) await expect(postTags.using(event.using).of(post).toggle(t3)).rejects.toMatchObject({ code: 'M2M_CONSTRAINT_VIOLATION' })
          await postTags.using(event.using).of(post).add(t2)
        })
        try {
          await postTags.using(adapter).of(post).add(t1)
        } finally {
          off()
          if (checked) await db.raw(`ALTER TABLE kx_post_tags DROP CONSTRAINT kx_no_t3`)
        }
        expect((await postTags.using(adapter).of(post).ids()).sort()).toEqual([t1.id, t2.id].sort())
      })

      it('lets a listener use the root adapter inside the call’s transaction', async () => {
        const { post, tags } = await seed(2)
        const counts: number[] = []
        // With SQLite's single connection, waiting for a second connection would never end.
        const off = postTags.on('post_add', async () => {
          counts.push(await postTags.using(adapter).of(post).count())
        })
        try {
          await postTags.using(adapter).of(post).add(tags)
        } finally {
          off()
        }
        expect(counts).toEqual([2])
      })

      it('refuses a transaction adapter once its transaction has ended', async () => {
        const { post, tags } = await seed(1)
        let leaked: RelationAdapter | undefined
        await adapter.transaction((tx) => {
          leaked = tx
          return Promise.resolve()
        })
        await expect(postTags.using(leaked!).of(post).add(tags)).rejects.toThrow(/already finished/)
      })
    })

    describe('driver errors', () => {
      it('refuses a link from a source with no row, naming the model and the key, and writes nothing', async () => {
        const { tags } = await seed(1)
        const enforced = await adapter.foreignKeysEnforced(postTags.link)
        const before = adapter.statementCount
        const error: unknown = await postTags.using(adapter).of(424_242).add(tags).catch((caught: unknown) => caught)
        expect(error).toBeInstanceOf(StorageError)
        expect(isThroughlineError(error, 'M2M_CONSTRAINT_VIOLATION')).toBe(true)
        expect((error as StorageError).message).toContain('no KxPost has id 424242')
        // The read and no INSERT; or, where the foreign keys refuse the row (SQLite), the
        // refused INSERT and the read that names the source.
        expect(adapter.statementCount - before).toBe(enforced ? 2 : 1)
        expect(await linkRows()).toBe(0)
      })

      it('maps a foreign-key failure to M2M_CONSTRAINT_VIOLATION, with the driver error as cause, or skips the pair where the INSERT checks the rows', async () => {
        const { tags } = await seed(1)
        const insert = adapter.insertLinks({ link: postTags.link, pairs: [[424_242, tags[0]!.id]], values: {}, count: true })
        if (knexDialect(db).name !== 'mysql') {
          // INSERT … SELECT … WHERE EXISTS: a pair whose source has no row is skipped, foreign key or not.
          expect(await insert).toBe(0)
        } else {
          const error: unknown = await insert.catch((caught: unknown) => caught)
          expect(error).toBeInstanceOf(StorageError)
          expect(isThroughlineError(error, 'M2M_CONSTRAINT_VIOLATION')).toBe(true)
          const storage = error as StorageError
          expect(storage.adapter).toBe(adapter.name)
          expect((storage.cause as { code?: unknown }).code).toBe(CONSTRAINT_CAUSE[knexDialect(db).name])
          // The driver's words, not knex's copy of the statement with every value in it.
          expect(storage.message).not.toMatch(/insert into/i)
        }
        expect(await linkRows()).toBe(0)
      })

      it('refuses string keys that match a row only by case or trailing spaces, on either side, writing nothing (F14)', async () => {
        // MySQL's collations would let the foreign key take 'ABC' or 'abc ' for 'abc'; the
        // adapter looks the keys up exactly first. Elsewhere the foreign key refuses them.
        const post = (await adapter.insertTarget({ target: Post.spec, values: { title: 'Codes' } })) as unknown as PostRow
        await seedRows(db, undefined, 'kx_code', [{ code: 'abc' }, { code: 'def' }])
        const links = async (): Promise<number> => (await db('kx_post_codes').select('*')).length
        const mysql = knexDialect(db).name === 'mysql'
        for (const [label, insert] of [
          ['target', () => adapter.insertLinks({ link: postCodes.link, pairs: [[post.id, 'ABC'], [post.id, 'abc'], [post.id, 'def ']], values: {} })],
          ['source', () => adapter.insertLinks({ link: postCodes.reverse.link, pairs: [['Abc', post.id]], values: {} })],
        ] as const) {
          const before = adapter.statementCount
          const error: unknown = await insert().catch((caught: unknown) => caught)
          // MySQL: the exact lookup, which refuses before the INSERT. Elsewhere: the INSERT,
          // which inserts only pairs whose rows exist (compared exactly): the 'abc' link only.
          expect(adapter.statementCount - before, label).toBe(1)
          expect(isThroughlineError(error, 'M2M_CONSTRAINT_VIOLATION'), `${label}: ${String(error)}`).toBe(mysql)
          if (mysql) {
            expect((error as StorageError).message).toContain('"kx_code" has no KxCode row whose "code" is exactly')
            expect((error as StorageError).message).toContain(label === 'target' ? '"ABC", "def "' : '"Abc"')
            expect((error as StorageError).message).not.toContain('"abc"')
          }
        }
        expect(await links()).toBe(mysql ? 0 : 1)
        // The exact spelling links, after one lookup on MySQL.
        const before = adapter.statementCount
        await adapter.insertLinks({ link: postCodes.link, pairs: [[post.id, 'abc'], [post.id, 'def']], values: {} })
        expect(adapter.statementCount - before).toBe(mysql ? 2 : 1)
        expect(await links()).toBe(2)
      })

      it('looks up the string keys of both sides in chunks under the bind limit, naming at most five missing ones (F14)', async () => {
        // 8 string keys per statement (two bindings each on MySQL), sources and targets together.
        const small = new KnexAdapter(db, { maxBindParameters: 16 })
        const codes = Array.from({ length: 10 }, (_, index) => `c${String(index).padStart(2, '0')}`)
        const labels = Array.from({ length: 20 }, (_, index) => `l${String(index).padStart(2, '0')}`)
        await seedRows(db, undefined, 'kx_code', codes.map((code) => ({ code })))
        await seedRows(db, undefined, 'kx_label', labels.map((name) => ({ name })))
        const pairs = (sources: readonly string[], targets: readonly string[]): (readonly [string, string])[] =>
          targets.map((target, index) => [sources[Math.floor(index / 2)]!, target] as const)
        const mysql = knexDialect(db).name === 'mysql'
        const links = async (): Promise<number> => (await db('kx_code_labels').select('*')).length
        const upper = labels.map((name, index) => (index < 7 ? name.toUpperCase() : name))
        for (const [sources, targets, table, named] of [
          [codes, upper, 'kx_label', '"L00", "L01", "L02", "L03", "L04" and 2 more'],
          [['C00', ...codes.slice(1)], labels, 'kx_code', 'exactly "C00". '],
        ] as const) {
          const before = small.statementCount
          const error: unknown = await small.insertLinks({ link: codeLabels.link, pairs: pairs(sources, targets), values: {} }).catch((caught: unknown) => caught)
          // Elsewhere one INSERT, which skips the pairs whose rows do not exist exactly.
          expect(isThroughlineError(error, 'M2M_CONSTRAINT_VIOLATION'), String(error)).toBe(mysql)
          if (!mysql) await db('kx_code_labels').del()
          if (mysql) {
            expect((error as StorageError).message).toContain(`"${table}" has no`)
            expect((error as StorageError).message).toContain(named)
            // 30 keys, 8 a statement: four lookups, and no INSERT.
            expect(small.statementCount - before).toBe(4)
          }
        }
        expect(await links()).toBe(0)
        const before = small.statementCount
        await small.insertLinks({ link: codeLabels.link, pairs: pairs(codes, labels), values: {} })
        // 20 rows of two values: three INSERTs of at most 8 rows, after the four lookups on MySQL;
        // elsewhere one INSERT (the pairs travel as one or two parameters).
        expect(small.statementCount - before).toBe(mysql ? 7 : 1)
        expect(await links()).toBe(20)
      })

      it('maps a duplicate primary key to M2M_CONSTRAINT_VIOLATION', async () => {
        const { tags } = await seed(1)
        const duplicate = adapter.insertTarget({ target: Tag.spec, values: { id: tags[0]!.id, name: 'again' } })
        await expect(duplicate).rejects.toMatchObject({ name: 'StorageError', code: 'M2M_CONSTRAINT_VIOLATION' })
      })

      it('maps other failures to M2M_STORAGE', async () => {
        const Missing = defineModel<TagRow>('Missing', { table: 'kx_no_such_table', columns: ['id', 'name'] })
        const missing = adapter.insertTarget({ target: Missing.spec, values: { name: 'x' } })
        await expect(missing).rejects.toMatchObject({ name: 'StorageError', code: 'M2M_STORAGE' })
      })
    })

    describe('statements', () => {
      it('counts the statements it sends, and not BEGIN, COMMIT or savepoints', async () => {
        const { post, tags } = await seed(5)
        // add() is one INSERT where the foreign keys refuse a missing row (SQLite), else a read and an INSERT.
        const adding = (await adapter.foreignKeysEnforced(postTags.link)) ? 1 : 2
        const sent: string[] = []
        const listener = (query: { sql: string }): void => {
          sent.push(query.sql)
        }
        db.on('query', listener)
        const before = adapter.statementCount
        try {
          await postTags.using(adapter).of(post).add(tags)
          await adapter.transaction((tx) => tx.transaction(async (nested) => postTags.using(nested).of(post).remove(tags[0]!)))
        } finally {
          db.off('query', listener)
        }
        const control = sent.filter((sql) => /^\s*(begin|start transaction|commit|rollback|savepoint|release)/i.test(sql))
        expect(control.length).toBeGreaterThan(0)
        expect(adapter.statementCount - before).toBe(adding + 1)
        expect(sent.length - control.length).toBe(adding + 1)
      })

      it(`splits a call of 100 000 targets into chunks under the database's limits`, async () => {
        const n = 100_000
        const post = (await adapter.insertTarget({ target: Post.spec, values: { title: 'Everything' } })) as unknown as PostRow
        const base = 1_000_000
        await seedRows(db, schema[0], 'kx_tag', Array.from({ length: n }, (_, index) => ({ id: base + index, name: `t${String(index)}` })))
        const keys = Array.from({ length: n }, (_, index) => base + index)
        const dialect = knexDialect(db)
        const max = adapter.capabilities.maxBindParameters
        // The probe carries the source key and a chunk of target keys; the insert two values per
        // row on MySQL, and elsewhere the pairs as one or two parameters, in one statement.
        // SQLite and PostgreSQL send a key list as one parameter: never chunked.
        const perStatement = (fixed: number): number => (dialect.keyListInOneParameter ? n : max - fixed)
        const probes = Math.ceil(n / perStatement(2))
        const inserts = dialect.insertPairs === undefined ? Math.ceil(n / Math.min(dialect.maxInsertRows, Math.floor(max / 2))) : 1
        const manager = postTags.using(adapter).of(post)
        // Where the foreign keys refuse a missing row (SQLite), the INSERT alone.
        const enforced = await adapter.foreignKeysEnforced(postTags.link)
        let statements = adapter.statementCount
        await manager.add(keys)
        expect(adapter.statementCount - statements).toBe(enforced ? 1 : probes + inserts)
        expect(await manager.count()).toBe(n)
        statements = adapter.statementCount
        await manager.remove(keys.slice(0, n / 2))
        expect(adapter.statementCount - statements).toBe(Math.ceil(n / 2 / perStatement(1)))
        expect(await linkRows()).toBe(n / 2)
      })

      it('keeps statements under the server’s size limit with long keys', async () => {
        // Keys of 250 characters: on MySQL a string key takes two parameters (the exact
        // comparison), so a chunk cut by parameters alone (32 766 keys) would be about 17 MB of
        // SQL text, past MariaDB's 16 MiB packet limit.
        const n = 40_000
        const post = (await adapter.insertTarget({ target: Post.spec, values: { title: 'Codes' } })) as unknown as PostRow
        const codes = Array.from({ length: n }, (_, index) => `${String(index).padStart(6, '0')}${'x'.repeat(244)}`)
        await seedRows(db, undefined, 'kx_code', codes.map((code) => ({ code })))
        const manager = postCodes.using(adapter).of(post)
        await manager.add(codes)
        expect(await manager.count()).toBe(n)
        await manager.set(codes.slice(0, n / 2))
        expect(await manager.count()).toBe(n / 2)
        expect(await manager.throughRows(codes.slice(0, 10))).toHaveLength(10)
        await manager.remove(codes)
        expect(await manager.count()).toBe(0)
      })
    })

    describe('concurrency', () => {
      it('never duplicates a link when several callers add the same targets at once', async () => {
        const { post, tags } = await seed(20)
        // Separate adapters, so separate transactions (and connections, on a server).
        await Promise.all(Array.from({ length: 5 }, () => postTags.using(new KnexAdapter(db)).of(post).add(tags)))
        expect(await linkRows()).toBe(20)
      })

      it('does not deadlock when concurrent callers give overlapping targets in other orders', async () => {
        const { post, tags } = await seed(200)
        const keys = tags.map((tag) => tag.id)
        for (let round = 0; round < 5; round++) {
          await db('kx_post_tags').del()
          const orders = [keys, [...keys].reverse(), keys.filter((_, index) => index % 2 === 0).reverse()]
          const results = await Promise.allSettled(orders.map((order) => postTags.using(new KnexAdapter(db)).of(post).add(order)))
          expect(results.filter((result) => result.status === 'rejected')).toEqual([])
          expect(await linkRows()).toBe(200)
        }
      })
    })

    describe('keys', () => {
      it('reads keys back in the model’s key type, and counts as numbers', async () => {
        const post = (await adapter.insertTarget({ target: Post.spec, values: { title: 'Big' } })) as unknown as PostRow
        const first = await adapter.insertTarget({ target: Big.spec, values: { label: 'first' } })
        const second = await adapter.insertTarget({ target: Big.spec, values: { id: 9_007_199_254_740_993n, label: 'past 2^53' } })
        expect(typeof first.id).toBe('bigint')
        expect(second.id).toBe(9_007_199_254_740_993n)
        const manager = postBigs.using(adapter).of(post)
        await manager.add([first.id as bigint, '9007199254740993'])
        expect(await manager.ids()).toEqual([first.id, 9_007_199_254_740_993n])
        expect(await manager.count()).toBe(2)
        expect(await manager.exists(9_007_199_254_740_993n)).toBe(true)
        const through = await manager.throughRows()
        expect(through.map((row) => row.kxbig_id)).toEqual([first.id, 9_007_199_254_740_993n])
        await manager.remove('9007199254740993')
        expect(await manager.ids()).toEqual([first.id])
      })
    })

    describe('binary column values', () => {
      it('stores a Uint8Array and a Buffer in a binary column, byte for byte, through create and defaults', async () => {
        // throughline creates no binary columns, but a user's table may have one (bytea, BLOB).
        const Blob = defineModel<{ id: number; label: string; data: Uint8Array | null }>('KxBlob', { table: 'kx_blob', columns: ['id', 'label', 'data'] })
        const postBlobs = manyToMany(Post, Blob, { name: 'blobs' })
        await dropTables(db, ['kx_post_blobs', 'kx_blob'])
        await db.schema.createTable('kx_blob', (table) => {
          table.increments('id')
          table.string('label', 255)
          table.binary('data').nullable()
        })
        await createJoinTable(db, postBlobs)
        try {
          const post = (await adapter.insertTarget({ target: Post.spec, values: { title: 'Post' } })) as unknown as PostRow
          const manager = postBlobs.using(adapter).of(post)
          const bytes = new Uint8Array([0, 1, 0x7f, 0x80, 0xff, 0])
          await manager.create({ label: 'typed', data: bytes })
          await manager.create({ label: 'buffer', data: Buffer.from('\u0000é😀', 'utf8') })
          await manager.getOrCreate({ label: 'defaults' }, { defaults: { data: new Uint8Array([0xde, 0xad]) } })
          await manager.updateOrCreate({ label: 'typed' }, { defaults: { data: new Uint8Array([0xbe, 0xef, 0]) } })
          const stored = Object.fromEntries((await manager.all()).map((row) => [row.label, [...(row.data ?? [])]]))
          expect(stored).toEqual({ typed: [0xbe, 0xef, 0], buffer: [...Buffer.from('\u0000é😀', 'utf8')], defaults: [0xde, 0xad] })
          // Other views of bytes are refused: only a Uint8Array (or Buffer) is binary data.
          await expect(manager.create({ label: 'x', data: new Uint16Array([1]) as never })).rejects.toSatisfy((error) => isThroughlineError(error, 'M2M_INVALID_ARGUMENT'))
          await expect(manager.create({ label: 'x', data: new ArrayBuffer(1) as never })).rejects.toSatisfy((error) => isThroughlineError(error, 'M2M_INVALID_ARGUMENT'))
          expect(await manager.count()).toBe(3)
        } finally {
          await dropTables(db, ['kx_post_blobs', 'kx_blob'])
        }
      })
    })

    describe('strings, as the memory adapter compares and orders them', () => {
      // Case, accents, LIKE wildcards, trailing spaces (ignored by MySQL's PAD SPACE
      // collations), the empty string and NULL. Characters past U+FFFF are left out: JavaScript
      // orders them by UTF-16 code unit and the databases by code point.
      const names: (string | null)[] = ['a', 'A', 'b', 'B', 'a%', 'a_b', 'aXb', 'axb', 'ab', 'a ', '', 'é', 'É', 'e', 'z', '10', '9', 'abc', null]
      const queries: readonly [string, Record<string, unknown>, readonly string[]][] = [
        ['all, by name', {}, ['name']],
        ['all, by name descending', {}, ['-name']],
        ['exact a', { name: 'a' }, []],
        ['exact A', { name: 'A' }, []],
        ['exact "a "', { name: 'a ' }, []],
        ['exact empty', { name: '' }, []],
        ['exact é', { name: 'é' }, []],
        ['in', { name__in: ['a', 'B', 'é', 'nope'] }, []],
        ['gt B', { name__gt: 'B' }, ['name']],
        ['gte a', { name__gte: 'a' }, ['name']],
        ['lt a', { name__lt: 'a' }, ['-name']],
        ['lte Z', { name__lte: 'Z' }, ['name']],
        ['startswith a', { name__startswith: 'a' }, ['name']],
        ['startswith A', { name__startswith: 'A' }, ['name']],
        ['startswith a%', { name__startswith: 'a%' }, ['name']],
        ['startswith a_', { name__startswith: 'a_' }, ['name']],
        ['startswith empty', { name__startswith: '' }, ['name']],
        ['endswith b', { name__endswith: 'b' }, ['name']],
        ['endswith _b', { name__endswith: '_b' }, ['name']],
        ['endswith space', { name__endswith: ' ' }, ['name']],
        ['contains %', { name__contains: '%' }, ['name']],
        ['contains _', { name__contains: '_' }, ['name']],
        ['contains X', { name__contains: 'X' }, ['name']],
        ['contains É', { name__contains: 'É' }, ['name']],
        ['isnull', { name__isnull: true }, []],
        ['not null, desc', { name__isnull: false }, ['-name']],
      ]

      it('filters and orders every lookup alike', async () => {
        const memory = new MemoryAdapter()
        const stores = [memory, adapter] as const
        const managers = []
        for (const store of stores) {
          const post = (await store.insertTarget({ target: Post.spec, values: { title: 'Strings' } })) as unknown as PostRow
          const keys = []
          for (const name of names) keys.push((await store.insertTarget({ target: Tag.spec, values: { name } })).id)
          const manager = postTags.using(store).of(post)
          await manager.add(keys as number[])
          managers.push(manager)
        }
        const [expected, actual] = managers as [(typeof managers)[0], (typeof managers)[0]]
        for (const [label, where, order] of queries) {
          const read = async (manager: typeof expected): Promise<unknown> => {
            let query = manager.filter(where)
            if (order.length > 0) query = query.orderBy(...(order as ['name']))
            const rows = await query.all()
            return { names: rows.map((row) => row.name), count: await query.count() }
          }
          expect({ label, ...(await read(actual) as object) }).toEqual({ label, ...(await read(expected) as object) })
        }
        const page = async (manager: typeof expected): Promise<unknown> =>
          (await manager.orderBy('-name').offset(3).limit(4).all()).map((row) => row.name)
        expect(await page(actual)).toEqual(await page(expected))
      })
    })

    describe('schema helpers', () => {
      it('creates the join table with the unique pair, the reverse index and cascading deletes', async () => {
        const { post, tags } = await seed(2)
        const [t1, t2] = tags as [TagRow, TagRow]
        await postTags.using(adapter).of(post).add([t1, t2])
        const { sourceColumn, targetColumn } = postTags.through
        const sets = await indexedColumns(db, 'kx_post_tags')
        expect(sets).toContainEqual([sourceColumn, targetColumn])
        expect(sets).toContainEqual([targetColumn])
        await expect(db('kx_post_tags').insert({ [sourceColumn]: post.id, [targetColumn]: t1.id })).rejects.toThrow()
        await db('kx_tag').where({ id: t1.id }).del()
        expect(await postTags.using(adapter).of(post).ids()).toEqual([t2.id])
        await db('kx_post').where({ id: post.id }).del()
        expect(await linkRows()).toBe(0)
      })

      it('gives the DDL for a migration, which creates the same table', async () => {
        const statements = joinTableSql(db, postTags)
        expect(statements.join('\n')).toMatch(/on delete cascade/i)
        if (knexDialect(db).name === 'mysql') expect(statements.join('\n')).toMatch(/engine\s*=\s*InnoDB/i)
        expect(tableSql(db, describeJoinTable(postTags))).toEqual(statements)
        const before = await indexedColumns(db, 'kx_post_tags')
        await dropTables(db, ['kx_post_tags'])
        for (const sql of statements) await db.raw(sql)
        expect(await indexedColumns(db, 'kx_post_tags')).toEqual(before)
        const { post, tags } = await seed(1)
        await postTags.using(adapter).of(post).add(tags)
        expect(await linkRows()).toBe(1)
      })

      it('builds every column kind, and keeps long constraint names within limits', async () => {
        const row = {
          code: '7d04c645-0000-4000-8000-000000000001',
          big: 5,
          counter: 1,
          label: 'x'.repeat(255),
          body: 'long text '.repeat(100),
          flag: true,
          at: new Date(Date.UTC(2024, 1, 29, 12, 30, 45, 123)),
        }
        await db('kx_all_kinds').insert(row)
        const [stored] = (await db('kx_all_kinds').select('*')) as Record<string, unknown>[]
        expect(stored?.label).toBe(row.label)
        expect(stored?.body).toBe(row.body)
        expect(Number(stored?.counter)).toBe(1)
        expect(Boolean(stored?.flag)).toBe(true)
        // Milliseconds survive: a Date (PostgreSQL, MySQL) or its epoch milliseconds (SQLite).
        const at = stored?.at instanceof Date ? stored.at.getTime() : Number(stored?.at)
        expect(at).toBe(row.at.getTime())
        await expect(db('kx_all_kinds').insert({ ...row, code: '7d04c645-0000-4000-8000-000000000002' })).rejects.toThrow()
        await expect(db('kx_all_kinds').insert({ code: '7d04c645-0000-4000-8000-000000000003' })).rejects.toThrow()
        const names = await indexedColumns(db, longNames.table)
        expect(names).toContainEqual(['another_long_column_name_for_the_index'])
        expect(tableSql(db, longNames).join('\n')).not.toMatch(/[`"]\w{61,}[`"]/)
      })
    })
  })
}

describe('KnexAdapter on better-sqlite3', () => {
  it('prepares each statement text once per connection, and knex still reports every statement', async () => {
    const db = knex({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true, pool: { min: 1, max: 1 } })
    try {
      const connection = (await db.client.acquireConnection()) as { prepare: (sql: string) => unknown; exec: (sql: string) => void }
      db.client.releaseConnection(connection)
      connection.exec(`
        CREATE TABLE kx_post (id integer PRIMARY KEY, title text);
        CREATE TABLE kx_tag (id integer PRIMARY KEY, name text);
        CREATE TABLE ${postTags.link.table} (id integer PRIMARY KEY, ${postTags.link.sourceColumn} integer NOT NULL REFERENCES kx_post (id), ${postTags.link.targetColumn} integer NOT NULL REFERENCES kx_tag (id), UNIQUE (${postTags.link.sourceColumn}, ${postTags.link.targetColumn}));
        INSERT INTO kx_post VALUES (1, 'a');
        INSERT INTO kx_tag VALUES (1, 'x'), (2, 'y');
      `)
      const prepared: string[] = []
      const prepare = connection.prepare.bind(connection)
      connection.prepare = (sql: string) => {
        prepared.push(sql)
        return prepare(sql)
      }
      const reported: string[] = []
      const answered: string[] = []
      db.on('query', (query: { sql: string }) => reported.push(query.sql))
      db.on('query-response', (_response: unknown, query: { sql: string }) => answered.push(query.sql))
      const adapter = new KnexAdapter(db)
      const tags = postTags.using(adapter).of(1)
      for (let round = 0; round < 10; round++) await tags.toggle(round % 2 === 0 ? 1 : 2)
      expect(await tags.count()).toBe(2)
      expect(await tags.toggle(2)).toBe(false)
      // Each toggle a DELETE, and an INSERT when nothing was deleted (6 of 10): 16 statements, then the
      // count and a DELETE. Each text prepared once (the catalog reads go through knex).
      expect(adapter.statementCount).toBe(18)
      expect(prepared.filter((sql) => /^\s*delete/i.test(sql))).toHaveLength(1)
      expect(prepared.filter((sql) => /^\s*insert/i.test(sql))).toHaveLength(1)
      expect(prepared).toHaveLength(new Set(prepared).size)
      expect(reported.filter((sql) => /^\s*delete/i.test(sql))).toHaveLength(11)
      expect(reported.filter((sql) => /^\s*insert/i.test(sql))).toHaveLength(6)
      expect(answered).toEqual(reported)
      // In a transaction of yours, knex runs the statements (and refuses them once it is over).
      const trx = await db.transaction()
      const inside = postTags.using(new KnexAdapter(trx)).of(1)
      expect(await inside.ids()).toEqual([1])
      await trx.commit()
      await expect(inside.ids()).rejects.toThrow()
    } finally {
      await db.destroy()
    }
  })
})
