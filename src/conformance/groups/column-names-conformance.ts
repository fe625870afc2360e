import assert from 'node:assert/strict'
import type { Row } from '../../adapter/relation-adapter.js'
import { tagRow } from '../../model/model-of.js'
import type { ConformanceOptions } from '../conformance-options.js'
import { itInspecting, useContext, type ConformanceContext } from '../conformance-context.js'
import { addedAtDefault, columnNamesSchema, likes, Reader, shelf, Shelf, Story, type ReaderRow, type StoryRow } from '../fixtures/column-names.js'
import { pick, sortRows } from '../fixtures/link-rows.js'

interface Library {
  readonly ann: ReaderRow
  readonly bob: ReaderRow
  readonly alpha: StoryRow
  readonly beta: StoryRow
  readonly gamma: StoryRow
}

// Rows inserted as the database has them (column names), and the rows a user sees for them.
async function library(ctx: ConformanceContext): Promise<Library> {
  const reader = async (name: string): Promise<ReaderRow> => {
    const row = await ctx.adapter.insertTarget({ target: Reader.spec, values: { display_name: name } })
    return tagRow({ readerId: Number(row.reader_id), displayName: name }, Reader)
  }
  const story = async (title: string, words: number | null): Promise<StoryRow> => {
    const row = await ctx.adapter.insertTarget({ target: Story.spec, values: { title, word_count: words } })
    return tagRow({ id: Number(row.id), storyTitle: title, wordCount: words }, Story)
  }
  return {
    ann: await reader('ann'),
    bob: await reader('bob'),
    alpha: await story('Alpha', 300),
    beta: await story('Beta', 100),
    gamma: await story('Gamma', null),
  }
}

/** The link rows of the shelf table as stored: database column names. */
async function storedShelf(ctx: ConformanceContext): Promise<Row[]> {
  const rows = await ctx.rows(Shelf.table)
  return sortRows(
    rows.map((row) => ({ reader_id: Number(row.reader_id), story_id: Number(row.story_id), shelf_note: row.shelf_note ?? null, added_at: row.added_at })),
    'reader_id',
    'story_id',
  )
}

/**
 * Models and a through table whose row properties are not their database columns (Django's
 * `db_column`, the `columnNames` option): every call names properties, the tables have the
 * columns, and every row comes back keyed by properties. Add, remove, set, toggle, filter,
 * orderBy, create, through values and rows, prefetch, the reverse side and relation queries.
 */
export function columnNamesConformance(options: ConformanceOptions): void {
  const { describe, it } = options.test
  describe(`${options.name}: properties stored in columns of other names (columnNames)`, () => {
    const context = useContext(options, columnNamesSchema)

    it('adds, removes, sets and toggles, reading rows keyed by properties', async () => {
      const ctx = context()
      const { ann, alpha, beta, gamma } = await library(ctx)
      const manager = ctx.bind(shelf).of(ann)
      await manager.add([alpha, beta.id])
      assert.deepEqual(await manager.all(), [alpha, beta])
      await manager.remove(alpha)
      assert.deepEqual(await manager.ids(), [beta.id])
      await manager.set([gamma, alpha])
      assert.deepEqual(await manager.all(), [alpha, gamma])
      assert.equal(await manager.toggle(beta), true)
      assert.equal(await manager.toggle(alpha), false)
      assert.deepEqual(await manager.all(), [beta, gamma])
      assert.deepEqual(Object.keys((await manager.query().first()) ?? {}).sort(), ['id', 'storyTitle', 'wordCount'])
      assert.equal(await manager.exists(gamma), true)
      assert.deepEqual(await manager.linkedAmong([alpha, beta, gamma]), [beta.id, gamma.id])
    })

    it('filters and orders by properties, with lookups', async () => {
      const ctx = context()
      const { ann, alpha, beta, gamma } = await library(ctx)
      const manager = ctx.bind(shelf).of(ann)
      await manager.add([alpha, beta, gamma])
      assert.deepEqual(await manager.filter({ storyTitle__startswith: 'Al' }).all(), [alpha])
      assert.deepEqual(await manager.filter({ wordCount__gte: 100 }).orderBy('-wordCount').all(), [alpha, beta])
      assert.deepEqual(await manager.filter({ wordCount__isnull: true }).all(), [gamma])
      assert.deepEqual(await manager.filter({ storyTitle__in: ['Beta', 'Gamma'] }).ids(), [beta.id, gamma.id])
      assert.deepEqual(await manager.orderBy('-storyTitle').all(), [gamma, beta, alpha])
      assert.equal(await manager.filter({ storyTitle: 'Beta' }).count(), 1)
      assert.deepEqual(await manager.get({ storyTitle__contains: 'amm' }), gamma)
      assert.deepEqual(await manager.query().orderBy('-pk').limit(2).all(), [gamma, beta])
      const streamed: StoryRow[] = []
      for await (const row of manager.stream({ batchSize: 2 })) streamed.push(row)
      assert.deepEqual(streamed, [alpha, beta, gamma])
    })

    it('orders by a renamed through property and reads the through rows keyed by properties', async () => {
      const ctx = context()
      const { ann, alpha, beta, gamma } = await library(ctx)
      const manager = ctx.bind(shelf).of(ann)
      await manager.add(beta, { throughDefaults: { addedAt: '2025-03-01T00:00:00.000Z', note: 'b' } })
      await manager.add(alpha, { throughDefaults: { addedAt: '2025-02-01T00:00:00.000Z' } })
      await manager.add(gamma, { throughDefaults: { addedAt: '2025-04-01T00:00:00.000Z' } })
      assert.deepEqual(await manager.orderBy('-through__addedAt').all(), [gamma, beta, alpha])
      const linked = await manager.orderBy('through__addedAt').allWithThrough()
      assert.deepEqual(
        linked.map(({ row, through }) => [row, through.readerId, through.storyId, through.addedAt, through.note]),
        [
          [alpha, ann.readerId, alpha.id, '2025-02-01T00:00:00.000Z', null],
          [beta, ann.readerId, beta.id, '2025-03-01T00:00:00.000Z', 'b'],
          [gamma, ann.readerId, gamma.id, '2025-04-01T00:00:00.000Z', null],
        ],
      )
      // The database column of a renamed property is not a name the caller may use.
      assert.throws(() => manager.orderBy('through__added_at' as 'through__addedAt'), { code: 'M2M_UNKNOWN_COLUMN' })
    })

    it('refuses the column name of a renamed property, naming the property', async () => {
      const ctx = context()
      const { ann, alpha } = await library(ctx)
      const manager = ctx.bind(shelf).of(ann)
      await manager.add(alpha)
      // Reader declares its columns: filter() refuses at once.
      assert.throws(() => ctx.bind(shelf).reverse.of(alpha).filter({ display_name: 'ann' } as never), { code: 'M2M_UNKNOWN_COLUMN' })
      // Story does not: the read refuses before any statement.
      await assert.rejects(manager.filter({ title: 'Alpha' } as never).all(), { code: 'M2M_UNKNOWN_COLUMN', message: /storyTitle/ })
      await assert.rejects(manager.orderBy('word_count' as never).all(), { code: 'M2M_UNKNOWN_COLUMN', message: /wordCount/ })
      await assert.rejects(manager.create({ title: 'Delta' } as never), { code: 'M2M_UNKNOWN_COLUMN' })
      await assert.rejects(manager.add(alpha, { throughDefaults: { added_at: 'x' } as never }), { code: 'M2M_UNKNOWN_COLUMN', message: /addedAt/ })
      await assert.rejects(manager.add(alpha, { throughDefaults: { storyId: 1 } }), { code: 'M2M_UNKNOWN_COLUMN', message: /link columns/ })
      assert.deepEqual(await manager.all(), [alpha])
    })

    itInspecting(options, 'stores through values in their columns and reads through rows keyed by properties', async () => {
      const ctx = context()
      const { ann, bob, alpha, beta } = await library(ctx)
      const manager = ctx.bind(shelf).of(ann)
      await manager.add(alpha, { throughDefaults: { note: 'first', recommendedBy: bob.readerId, addedAt: '2025-02-01T00:00:00.000Z' } })
      const before = addedAtDefault.calls
      await manager.add(beta)
      assert.equal(addedAtDefault.calls, before + 1)
      const through = sortRows(await manager.throughRows(), 'storyId')
      assert.deepEqual(
        // Every property the table has, keyed as declared (the memory adapter leaves unset columns out).
        through.map((row) => ({
          readerId: row.readerId,
          storyId: row.storyId,
          recommendedBy: row.recommendedBy ?? null,
          addedAt: row.addedAt,
          note: row.note ?? null,
        })),
        [
          { readerId: ann.readerId, storyId: alpha.id, recommendedBy: bob.readerId, addedAt: '2025-02-01T00:00:00.000Z', note: 'first' },
          { readerId: ann.readerId, storyId: beta.id, recommendedBy: null, addedAt: through[1]?.addedAt, note: null },
        ],
      )
      assert.deepEqual(
        pick(await storedShelf(ctx), 'reader_id', 'story_id', 'shelf_note'),
        [
          { reader_id: ann.readerId, story_id: alpha.id, shelf_note: 'first' },
          { reader_id: ann.readerId, story_id: beta.id, shelf_note: null },
        ],
      )
      assert.deepEqual((await manager.throughRows(beta)).map((row) => row.storyId), [beta.id])
      for (const row of through) {
        assert.ok(Object.keys(row).every((key) => ['shelfId', 'readerId', 'storyId', 'recommendedBy', 'addedAt', 'note'].includes(key)), Object.keys(row).join())
      }
    })

    it('refuses a missing required through value, naming the property', async () => {
      const ctx = context()
      const { ann, alpha } = await library(ctx)
      await assert.rejects(ctx.bind(shelf).of(ann).add(alpha, { throughDefaults: { addedAt: null as never } }), {
        code: 'M2M_MISSING_THROUGH_VALUE',
        message: /"addedAt"/,
      })
    })

    itInspecting(options, 'creates rows from properties, stored in their columns', async () => {
      const ctx = context()
      const { ann } = await library(ctx)
      const manager = ctx.bind(shelf).of(ann)
      const delta = await manager.create({ storyTitle: 'Delta', wordCount: 42 }, { throughDefaults: { note: 'new' } })
      assert.deepEqual({ ...delta }, { id: delta.id, storyTitle: 'Delta', wordCount: 42 })
      assert.deepEqual(await manager.all(), [delta])
      const stored = (await ctx.rows(Story.table)).find((row) => row.title === 'Delta')
      assert.deepEqual(stored === undefined ? undefined : { title: stored.title, word_count: Number(stored.word_count) }, { title: 'Delta', word_count: 42 })
      const [same, created] = await manager.getOrCreate({ storyTitle: 'Delta' })
      assert.equal(created, false)
      assert.deepEqual(same, delta)
      const [epsilon, made] = await manager.getOrCreate({ storyTitle: 'Epsilon' }, { defaults: { wordCount: 7 } })
      assert.equal(made, true)
      assert.equal(epsilon.wordCount, 7)
      const [updated, fresh] = await manager.updateOrCreate({ storyTitle: 'Epsilon' }, { defaults: { wordCount: 8 } })
      assert.equal(fresh, false)
      assert.equal(updated.wordCount, 8)
      assert.deepEqual(await manager.filter({ wordCount: 8 }).all(), [updated])
      // The reader side: a create on the reverse manager fills the renamed key.
      const carol = await ctx.bind(shelf).reverse.of(epsilon).create({ displayName: 'carol' })
      assert.deepEqual(Object.keys(carol).sort(), ['displayName', 'readerId'])
      assert.deepEqual(await ctx.bind(shelf).reverse.of(epsilon).all(), [ann, carol])
    })

    it('reads the reverse side and prefetches, keyed by properties', async () => {
      const ctx = context()
      const { ann, bob, alpha, beta, gamma } = await library(ctx)
      await ctx.bind(shelf).of(ann).add([alpha, beta])
      await ctx.bind(shelf).of(bob).add([beta, gamma])
      assert.deepEqual(await ctx.bind(shelf).reverse.of(beta).all(), [ann, bob])
      assert.deepEqual(await ctx.bind(shelf).reverse.of(beta).filter({ displayName__startswith: 'b' }).all(), [bob])
      assert.deepEqual(await ctx.bind(shelf).reverse.of(beta).orderBy('-displayName').all(), [bob, ann])
      const prefetched = await ctx.bind(shelf).prefetch([ann, bob], { where: { wordCount__gte: 0 }, orderBy: ['-wordCount'] })
      assert.deepEqual(prefetched.rows(ann), [alpha, beta])
      assert.deepEqual(prefetched.rows(bob), [beta])
      const all = await ctx.bind(shelf).prefetch([ann, bob])
      assert.deepEqual(await all.of(bob).all(), [beta, gamma])
      const readers = await ctx.bind(shelf).reverse.prefetch([beta, gamma])
      assert.deepEqual(readers.rows(beta), [ann, bob])
    })

    it('selects rows by what they link to, with through conditions on properties', async () => {
      const ctx = context()
      const { ann, bob, alpha, beta, gamma } = await library(ctx)
      await ctx.bind(shelf).of(ann).add([alpha, beta], { throughDefaults: { note: 'keep' } })
      await ctx.bind(shelf).of(bob).add(gamma, { throughDefaults: { note: 'later', recommendedBy: ann.readerId } })
      const relation = ctx.bind(shelf)
      assert.deepEqual(await relation.filter({ storyTitle__in: ['Alpha', 'Beta'] }).all(), [ann, ann])
      assert.deepEqual(await relation.filter({ storyTitle__in: ['Alpha', 'Beta'] }).distinct().all(), [ann])
      assert.deepEqual(await relation.filter({}, { through: { note: 'later' } }).all(), [bob])
      assert.deepEqual(await relation.filter({}, { through: { recommendedBy: ann.readerId } }).all(), [bob])
      assert.deepEqual(await relation.exclude({ storyTitle: 'Alpha' }).orderBy('-displayName').all(), [bob])
      assert.deepEqual(await relation.filter({ wordCount__gt: 0 }).where({ displayName: 'ann' }).distinct().count(), 1)
      assert.deepEqual(await relation.reverse.filter({ displayName: 'ann' }).orderBy('-storyTitle').all(), [beta, alpha])
      assert.deepEqual(await relation.reverse.filter({}, { through: { note__startswith: 'ke' } }).where({ wordCount__lt: 200 }).all(), [beta])
      assert.deepEqual(await relation.reverse.exclude({ pk: ann }).ids(), [gamma.id])
    })

    it('links through an auto join table to a renamed key column', async () => {
      const ctx = context()
      const { ann, bob, alpha, beta } = await library(ctx)
      await ctx.bind(likes).of(ann).add([alpha, beta])
      await ctx.bind(likes).of(bob).add(beta)
      assert.deepEqual(await ctx.bind(likes).of(ann).all(), [alpha, beta])
      assert.deepEqual(await ctx.bind(likes).reverse.of(beta).all(), [ann, bob])
      assert.deepEqual(await ctx.bind(likes).reverse.of(beta).filter({ pk: bob.readerId }).all(), [bob])
      await ctx.bind(likes).of(ann).clear()
      assert.deepEqual(await ctx.bind(likes).reverse.of(beta).all(), [bob])
    })

    it('sends events with keys, as for any relation', async () => {
      const ctx = context()
      const { ann, alpha, beta } = await library(ctx)
      const seen: string[] = []
      const off = shelf.on('post_add', ({ pkSet, instance }) => {
        seen.push(`${(instance as ReaderRow).displayName}:${[...pkSet].map(String).join(',')}`)
      })
      try {
        await ctx.bind(shelf).of(ann).add([alpha, beta])
      } finally {
        off()
      }
      assert.deepEqual(seen, [`ann:${String(alpha.id)},${String(beta.id)}`])
    })
  })
}
