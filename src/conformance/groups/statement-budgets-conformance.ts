import assert from 'node:assert/strict'
import type { ConformanceOptions } from '../conformance-options.js'
import { useContext, type ConformanceContext } from '../conformance-context.js'
import { withListener } from '../fixtures/assertions.js'
import { Article, articlesSchema, Publication, publications, type ArticleRow, type PublicationRow } from '../fixtures/articles.js'

// The manager's adapter calls per manager call, whatever the number of targets. An SQL
// adapter runs one statement per call here; it may split very large calls into chunks, so
// these tests stay at 50 targets or fewer.

interface Seeded {
  readonly pubs: PublicationRow[]
  readonly a1: ArticleRow
}

async function seed(ctx: ConformanceContext, count = 50): Promise<Seeded> {
  const pubs = await ctx.insertAll(
    Publication,
    Array.from({ length: count }, (_, index) => ({ title: `Publication ${String(index).padStart(2, '0')}` })),
  )
  const a1 = await ctx.insert(Article, { headline: 'Django lets you build web apps easily' })
  return { pubs, a1 }
}

/**
 * Statement budgets: each manager call runs a fixed number of adapter calls, however many
 * targets it gets, and listeners add none.
 */
export function statementBudgetsConformance(options: ConformanceOptions): void {
  const { describe, it } = options.test
  describe(`${options.name}: statement budgets`, () => {
    const context = useContext(options, articlesSchema)

    it('adds in two statements (one where the foreign keys refuse a missing row), and in one when everything is already linked', async () => {
      const ctx = context()
      const { pubs, a1 } = await seed(ctx)
      const manager = ctx.bind(publications).of(a1)
      const adding = await ctx.addStatements(publications)
      assert.equal(await ctx.statements(() => manager.add(pubs.slice(0, 25))), adding)
      assert.equal(await ctx.statements(() => manager.add(pubs.slice(0, 25))), 1)
      // Half linked, half new: still one read and one insert (or the one insert).
      assert.equal(await ctx.statements(() => manager.add(pubs)), adding)
      assert.equal(await ctx.statements(() => manager.add([])), 0)
      assert.equal(await manager.count(), 50)
    })

    it('removes in one statement and clears in one statement', async () => {
      const ctx = context()
      const { pubs, a1 } = await seed(ctx)
      const manager = ctx.bind(publications).of(a1)
      await manager.add(pubs)
      assert.equal(await ctx.statements(() => manager.remove(pubs.slice(0, 20))), 1)
      // Nothing of these is linked any more: still one statement, and no error.
      assert.equal(await ctx.statements(() => manager.remove(pubs.slice(0, 20))), 1)
      assert.equal(await ctx.statements(() => manager.remove([])), 0)
      assert.equal(await manager.count(), 30)
      assert.equal(await ctx.statements(() => manager.clear()), 1)
      assert.equal(await ctx.statements(() => manager.clear()), 1)
      assert.equal(await manager.count(), 0)
    })

    it('sets in one read, at most one delete and at most one insert, or a delete and an insert where foreign keys are enforced', async () => {
      const ctx = context()
      const { pubs, a1 } = await seed(ctx)
      const manager = ctx.bind(publications).of(a1)
      // Where the database refuses a link to a missing row, set() reads nothing: a DELETE of the
      // links not in the list and an INSERT of the list (a DELETE alone for set([])).
      const trusted = (await ctx.addStatements(publications)) === 1
      const budget = (read: number, writes: number, empty = false): number => (trusted ? (empty ? 1 : 2) : read + writes)
      // Only new targets: read and insert.
      assert.equal(await ctx.statements(() => manager.set(pubs.slice(0, 20))), budget(1, 1))
      // Nothing changed: the read only.
      assert.equal(await ctx.statements(() => manager.set(pubs.slice(0, 20))), budget(1, 0))
      assert.equal(await ctx.statements(() => manager.set(pubs.slice(0, 20).map((row) => String(row.id)))), budget(1, 0))
      // Some go and some come: read, delete, insert.
      assert.equal(await ctx.statements(() => manager.set(pubs.slice(10, 40))), budget(1, 2))
      // Only some go: read and delete.
      assert.equal(await ctx.statements(() => manager.set(pubs.slice(10, 30))), budget(1, 1))
      assert.deepEqual(new Set(await manager.ids()), new Set(pubs.slice(10, 30).map((row) => row.id)))
      // Everything goes.
      assert.equal(await ctx.statements(() => manager.set([])), budget(1, 1, true))
      assert.equal(await ctx.statements(() => manager.set([])), budget(1, 0, true))
      assert.equal(await manager.count(), 0)
    })

    it('sets with clear: true in one delete plus what add() needs', async () => {
      const ctx = context()
      const { pubs, a1 } = await seed(ctx)
      const manager = ctx.bind(publications).of(a1)
      await manager.add(pubs.slice(0, 10))
      assert.equal(await ctx.statements(() => manager.set(pubs.slice(5, 15), { clear: true })), 3)
      assert.equal(await ctx.statements(() => manager.set([], { clear: true })), 1)
      assert.equal(await manager.count(), 0)
    })

    it('toggles without a read: one statement to unlink, two to link (a read and one write where inserts are not counted)', async () => {
      const ctx = context()
      const { pubs, a1 } = await seed(ctx, 1)
      const [p1] = pubs
      assert.ok(p1 !== undefined)
      const manager = ctx.bind(publications).of(a1)
      const counts = ctx.adapter.capabilities.countsInserts
      let state = false
      assert.equal(await ctx.statements(async () => (state = await manager.toggle(p1))), 2)
      assert.equal(state, true)
      assert.equal(await ctx.statements(async () => (state = await manager.toggle(p1))), counts ? 1 : 2)
      assert.equal(state, false)
    })

    it('toggles in two statements either way when a listener needs to know which way first', async () => {
      const ctx = context()
      const { pubs, a1 } = await seed(ctx, 1)
      const [p1] = pubs
      assert.ok(p1 !== undefined)
      const manager = ctx.bind(publications).of(a1)
      const actions: string[] = []
      await withListener(publications, 'm2m_changed', ({ action }) => void actions.push(action), async () => {
        let state = false
        assert.equal(await ctx.statements(async () => (state = await manager.toggle(p1))), 2)
        assert.equal(state, true)
        assert.equal(await ctx.statements(async () => (state = await manager.toggle(p1))), 2)
        assert.equal(state, false)
      })
      assert.deepEqual(actions, ['pre_add', 'post_add', 'pre_remove', 'post_remove'])
    })

    it('counts the link rows insertLinks inserted, leaving out pairs already there, when the adapter says it counts them', async () => {
      const ctx = context()
      const { pubs, a1 } = await seed(ctx, 3)
      const [p1, p2, p3] = pubs
      assert.ok(p1 !== undefined && p2 !== undefined && p3 !== undefined)
      const { link } = publications
      const insert = (targets: readonly PublicationRow[]): Promise<number | undefined> =>
        ctx.adapter.insertLinks({ link, pairs: targets.map((target) => [a1.id, target.id] as const), values: {}, count: true })
      const counts = ctx.adapter.capabilities.countsInserts
      assert.equal(await insert([p1, p2]), counts ? 2 : undefined)
      assert.equal(await insert([p1, p2, p3]), counts ? 1 : undefined)
      assert.equal(await insert([p3]), counts ? 0 : undefined)
      assert.deepEqual(await ctx.bind(publications).of(a1).ids(), [p1.id, p2.id, p3.id])
    })

    it('reads only when a toggle fails, to name a target with no row', async () => {
      const ctx = context()
      const { a1 } = await seed(ctx, 0)
      const manager = ctx.bind(publications).of(a1)
      let code: unknown
      const statements = await ctx.statements(async () => {
        await manager.toggle(987_654).catch((error: unknown) => (code = (error as { code?: unknown }).code))
      })
      assert.equal(code, 'M2M_TARGET_NOT_FOUND')
      // The DELETE, the INSERT that inserted nothing, and the read that names the target; where
      // inserts are not counted, the read comes first and is the only statement.
      assert.equal(statements, ctx.adapter.capabilities.countsInserts ? 3 : 1)
      assert.equal(await manager.count(), 0)
    })

    it('creates and links in two statements (three where inserts are not counted)', async () => {
      const ctx = context()
      const { a1 } = await seed(ctx, 0)
      const manager = ctx.bind(publications).of(a1)
      // Where the INSERT cannot say it skipped the pair for a missing source, a read of the source first.
      const create = ctx.adapter.capabilities.countsInserts ? 2 : 3
      assert.equal(await ctx.statements(() => manager.create({ title: 'Highlights for Children' })), create)
      // Found among the linked rows: one read. Not found: the read, then create's statements.
      assert.equal(await ctx.statements(() => manager.getOrCreate({ title: 'Highlights for Children' })), 1)
      assert.equal(await ctx.statements(() => manager.getOrCreate({ title: 'Science News' })), 1 + create)
      assert.equal(await manager.count(), 2)
    })

    it('reads in one statement each', async () => {
      const ctx = context()
      const { pubs, a1 } = await seed(ctx)
      const manager = ctx.bind(publications).of(a1)
      await manager.add(pubs)
      const first = pubs[0]
      assert.ok(first !== undefined)
      assert.equal(await ctx.statements(() => manager.all()), 1)
      assert.equal(await ctx.statements(() => manager.count()), 1)
      assert.equal(await ctx.statements(() => manager.exists()), 1)
      assert.equal(await ctx.statements(() => manager.exists(first)), 1)
      assert.equal(await ctx.statements(() => manager.ids()), 1)
      assert.equal(await ctx.statements(() => manager.get({ id: first.id })), 1)
      assert.equal(await ctx.statements(() => manager.filter({ title__startswith: 'Publication 1' }).all()), 1)
      assert.equal(await ctx.statements(() => manager.filter({ title__startswith: 'Publication 1' }).count()), 1)
      assert.equal(await ctx.statements(() => manager.orderBy('-title').limit(5).offset(5).all()), 1)
      assert.equal(await ctx.statements(() => manager.query().first()), 1)
      assert.equal(await ctx.statements(() => manager.throughRows()), 1)
    })

    it('answers a filter on an empty list without a statement', async () => {
      const ctx = context()
      const { pubs, a1 } = await seed(ctx, 3)
      const manager = ctx.bind(publications).of(a1)
      await manager.add(pubs)
      let exists = true
      let count = -1
      let rows: unknown[] = [undefined]
      assert.equal(await ctx.statements(async () => (exists = await manager.filter({ id__in: [] }).exists())), 0)
      assert.equal(await ctx.statements(async () => (count = await manager.filter({ id__in: [] }).count())), 0)
      assert.equal(await ctx.statements(async () => (rows = await manager.filter({ title__in: [] }).all())), 0)
      assert.equal(exists, false)
      assert.equal(count, 0)
      assert.deepEqual(rows, [])
      assert.equal(await ctx.statements(() => manager.throughRows([])), 0)
    })

    it('runs no more statements when listeners are attached', async () => {
      const ctx = context()
      const { pubs, a1 } = await seed(ctx)
      const manager = ctx.bind(publications).of(a1)
      let events = 0
      await withListener(publications, 'm2m_changed', () => {
        events++
      }, async () => {
        assert.equal(await ctx.statements(() => manager.add(pubs.slice(0, 20))), 2)
        assert.equal(await ctx.statements(() => manager.add(pubs.slice(0, 20))), 1)
        assert.equal(await ctx.statements(() => manager.set(pubs.slice(10, 30))), 3)
        assert.equal(await ctx.statements(() => manager.remove(pubs.slice(0, 15))), 1)
        assert.equal(await ctx.statements(() => manager.clear()), 1)
        assert.equal(await ctx.statements(() => manager.create({ title: 'Highlights for Children' })), ctx.adapter.capabilities.countsInserts ? 2 : 3)
      })
      // add, add (nothing new), set's remove and add, remove, clear, create: two events each.
      assert.equal(events, 14)
    })
  })
}
