import assert from 'node:assert/strict'
import { itInspecting, useContext } from '../conformance-context.js'
import type { ConformanceOptions } from '../conformance-options.js'
import { expectError } from '../fixtures/assertions.js'
import { Article, articlesSchema, Publication, publications, seedArticles } from '../fixtures/articles.js'
import { members, ThroughGroup, ThroughPerson, throughSchema } from '../fixtures/through.js'

const headlines = (rows: readonly { headline: string }[]): string[] => rows.map((row) => row.headline)
const titles = (rows: readonly { title: string }[]): string[] => rows.map((row) => row.title)

// Django's fixture, by name: title order is p4, p2, p3, p1; headline order a1, a3, a2, a4.
const A1 = 'Django lets you build web apps easily'
const A2 = 'NASA uses Python'
const A3 = 'NASA finds intelligent life on Earth'
const A4 = 'Oxygen-free diet works wonders'
const P1 = 'The Python Journal'
const P2 = 'Science News'
const P3 = 'Science Weekly'
const P4 = 'Highlights for Children'

/**
 * Queries across the relation: rows of one side by their related rows and by the join
 * table's columns (Django's `test_selects`, `test_reverse_selects`, seed 003 and the
 * m2m_through query-across tests), with and without `distinct()`, and `exclude()`.
 */
export function queriesConformance(options: ConformanceOptions): void {
  const { describe, it } = options.test
  describe(`${options.name}: queries across the relation`, () => {
    const context = useContext(options, articlesSchema)

    it('selects articles by a publication, given as a key, an id column or a row', async () => {
      const ctx = context()
      const { p1 } = await seedArticles(ctx)
      const relation = ctx.bind(publications)
      assert.deepEqual(headlines(await relation.filter({ pk: p1.id }).all()), [A1, A2])
      assert.deepEqual(headlines(await relation.filter({ id: p1.id }).all()), [A1, A2])
      assert.deepEqual(headlines(await relation.filter({ pk: p1 }).all()), [A1, A2])
      assert.deepEqual(headlines(await relation.filter({ pk: String(p1.id) }).all()), [A1, A2])
    })

    it('returns a row once per matching link, and once with distinct()', async () => {
      const ctx = context()
      await seedArticles(ctx)
      const science = ctx.bind(publications).filter({ title__startswith: 'Science' })
      assert.deepEqual(headlines(await science.all()), [A3, A2, A2, A4])
      assert.equal(await science.count(), 4)
      assert.deepEqual(headlines(await science.distinct().all()), [A3, A2, A4])
      assert.equal(await science.distinct().count(), 3)
      assert.deepEqual(await science.distinct().exists(), true)
    })

    it('counts and checks existence within offset() and limit(), as Django slices: qs[2:3].count()', async () => {
      const ctx = context()
      const { a2 } = await seedArticles(ctx)
      const science = ctx.bind(publications).filter({ title__startswith: 'Science' })
      // Four matching links: A3, A2, A2, A4.
      assert.equal(await science.offset(2).limit(1).count(), 1)
      assert.equal(await science.offset(1).count(), 3)
      assert.equal(await science.limit(3).count(), 3)
      assert.equal(await science.offset(3).limit(5).count(), 1)
      assert.equal(await science.offset(4).count(), 0)
      assert.equal(await science.distinct().offset(2).count(), 1)
      assert.equal(await science.offset(3).exists(), true)
      assert.equal(await science.offset(4).exists(), false)
      assert.equal(await science.limit(0).exists(), false)
      // The related manager's reads: a2 has four publications.
      const mine = ctx.bind(publications).of(a2)
      assert.equal(await mine.query().offset(2).limit(1).count(), 1)
      assert.equal(await mine.query().offset(1).count(), 3)
      assert.equal(await mine.query().offset(5).count(), 0)
      assert.equal(await mine.query().offset(3).exists(), true)
      assert.equal(await mine.query().offset(4).exists(), false)
      assert.equal(await ctx.statements(() => mine.query().offset(2).limit(1).count()), 1)
      assert.equal(await ctx.statements(() => mine.query().offset(2).exists()), 1)
    })

    it('selects by several publications with pk__in, keys and rows mixed', async () => {
      const ctx = context()
      const { p1, p2 } = await seedArticles(ctx)
      const relation = ctx.bind(publications)
      assert.deepEqual(headlines(await relation.filter({ pk__in: [p1.id, p2.id] }).distinct().all()), [A1, A3, A2, A4])
      assert.deepEqual(headlines(await relation.filter({ pk__in: [p1.id, p2] }).distinct().all()), [A1, A3, A2, A4])
      assert.deepEqual(headlines(await relation.filter({ pk__in: [p1, p2] }).distinct().all()), [A1, A3, A2, A4])
      assert.deepEqual(await relation.filter({ pk__in: [] }).all(), [])
    })

    it('excludes the articles linked to a publication, keeping articles with no links', async () => {
      const ctx = context()
      const { p2 } = await seedArticles(ctx)
      const lonely = await ctx.insert(Article, { headline: 'An article in nothing' })
      const relation = ctx.bind(publications)
      assert.deepEqual(headlines(await relation.exclude({ pk: p2 }).all()), [lonely.headline, A1])
      assert.equal(await relation.exclude({ pk: p2 }).count(), 2)
      assert.deepEqual(headlines(await relation.exclude({ pk__in: [] }).all()), [lonely.headline, A1, A3, A2, A4])
    })

    it('selects publications by their articles from the reverse side', async () => {
      const ctx = context()
      const { a1, a2 } = await seedArticles(ctx)
      const reverse = ctx.bind(publications).reverse
      assert.deepEqual(titles(await reverse.filter({ headline__startswith: 'NASA' }).all()), [P4, P2, P2, P3, P1])
      assert.deepEqual(titles(await reverse.filter({ pk: a1 }).all()), [P1])
      assert.deepEqual(titles(await reverse.filter({ id: a1.id }).all()), [P1])
      assert.deepEqual(titles(await reverse.filter({ pk__in: [a1.id, a2] }).distinct().all()), [P4, P2, P3, P1])
    })

    it('adds conditions on the returned rows with where()', async () => {
      const ctx = context()
      await seedArticles(ctx)
      const science = ctx.bind(publications).filter({ title__startswith: 'Science' })
      assert.deepEqual(headlines(await science.where({ headline__contains: 'Earth' }).all()), [A3])
      assert.deepEqual(await science.where({ headline: 'nothing' }).count(), 0)
    })

    it('orders, pages and lists keys', async () => {
      const ctx = context()
      const { a2, a3, a4 } = await seedArticles(ctx)
      const science = ctx.bind(publications).filter({ title__startswith: 'Science' }).distinct()
      assert.deepEqual(headlines(await science.orderBy('-headline').all()), [A4, A2, A3])
      assert.deepEqual(headlines(await science.orderBy('-headline').offset(1).limit(1).all()), [A2])
      assert.deepEqual(await science.orderBy('pk').ids(), [a2.id, a3.id, a4.id].sort((x, y) => x - y))
      assert.equal((await science.first())?.headline, A3)
    })

    it('runs one statement per read, and none for an empty in list', async () => {
      const ctx = context()
      const { p1 } = await seedArticles(ctx)
      const relation = ctx.bind(publications)
      assert.equal(await ctx.statements(() => relation.filter({ title__startswith: 'Science' }).all()), 1)
      assert.equal(await ctx.statements(() => relation.filter({ title__startswith: 'Science' }).count()), 1)
      assert.equal(await ctx.statements(() => relation.exclude({ pk: p1 }).distinct().exists()), 1)
      assert.equal(await ctx.statements(() => relation.filter({ pk__in: [] }).count()), 0)
    })

    it("answers seed 003's queries with the seed's results", async () => {
      const ctx = context()
      // The seed's state at that point: a1 in p1; a2 in p1, p2, p3 and p4 "Highlights for Children".
      const [p1, p2, p3] = await ctx.insertAll(Publication, [{ title: P1 }, { title: P2 }, { title: P3 }])
      const a1 = await ctx.insert(Article, { headline: A1 })
      const a2 = await ctx.insert(Article, { headline: A2 })
      const relation = ctx.bind(publications)
      await relation.of(a1).add(p1!)
      await relation.of(a2).add([p1!, p2!, p3!])
      await relation.of(a2).create({ title: P4 })
      const science = relation.filter({ title__startswith: 'Science' })
      assert.deepEqual(headlines(await relation.filter({ pk: p1!.id }).all()), [A1, A2])
      assert.deepEqual(headlines(await science.all()), [A2, A2])
      assert.deepEqual(headlines(await science.distinct().all()), [A2])
      assert.equal(await science.count(), 2)
      assert.equal(await science.distinct().count(), 1)
      assert.deepEqual(headlines(await relation.filter({ pk__in: [p1!, p2!] }).distinct().all()), [A1, A2])
      assert.deepEqual(titles(await relation.reverse.filter({ headline__startswith: 'NASA' }).all()), [P4, P2, P3, P1])
      assert.deepEqual(titles(await relation.reverse.filter({ pk: a1 }).all()), [P1])
      assert.deepEqual(titles(await relation.reverse.filter({ pk__in: [a1, a2] }).distinct().all()), [P4, P2, P3, P1])
      assert.deepEqual(headlines(await relation.exclude({ pk: p2! }).all()), [A1])
    })

    it('rejects unknown columns and lookups before any statement', async () => {
      const ctx = context()
      const relation = ctx.bind(publications)
      await expectError(() => relation.filter({ colour: 'red' } as never).all(), 'M2M_UNKNOWN_COLUMN')
      await expectError(() => relation.filter({ title__like: 'S%' } as never).all(), 'M2M_INVALID_LOOKUP')
      await expectError(() => relation.filter({ pk: { title: 'x', headline: 'y' } } as never).all(), 'M2M_WRONG_MODEL')
      await expectError(() => relation.filter({}, { through: { nope: 1 } }).all(), 'M2M_UNKNOWN_COLUMN')
    })
  })

  describe(`${options.name}: queries on through-table columns`, () => {
    const context = useContext(options, throughSchema)
    const seedBand = async () => {
      const ctx = context()
      const [bob, jane, jim] = await ctx.insertAll(ThroughPerson, [{ name: 'Bob' }, { name: 'Jane' }, { name: 'Jim' }])
      const [rock, roll] = await ctx.insertAll(ThroughGroup, [{ name: 'Rock' }, { name: 'Roll' }])
      const relation = ctx.bind(members)
      await relation.of(rock!).add([jim!, jane!])
      await relation.of(roll!).add([jane!], { throughDefaults: { invite_reason: 'She was just awesome.' } })
      await relation.of(roll!).add([bob!, jim!])
      return { ctx, relation }
    }

    it('selects groups by a member', async () => {
      const { relation } = await seedBand()
      assert.deepEqual((await relation.filter({ name: 'Bob' }).all()).map((row) => row.name), ['Roll'])
      assert.deepEqual((await relation.reverse.filter({ name: 'Rock' }).all()).map((row) => row.name), ['Jane', 'Jim'])
    })

    it('selects groups and people by a column of the membership', async () => {
      const { relation } = await seedBand()
      const reason = { invite_reason: 'She was just awesome.' }
      assert.deepEqual((await relation.filter({}, { through: reason }).all()).map((row) => row.name), ['Roll'])
      assert.deepEqual((await relation.reverse.filter({}, { through: reason }).all()).map((row) => row.name), ['Jane'])
      assert.deepEqual((await relation.filter({ name: 'Jane' }, { through: { invite_reason__isnull: true } }).all()).map((row) => row.name), ['Rock'])
    })
  })
}

/**
 * Prefetching (Django's `prefetch_related`): the related rows of many instances in one
 * statement, answering `all()`, `count()` and `exists()` with none until a write.
 */
export function prefetchConformance(options: ConformanceOptions): void {
  const { describe, it } = options.test
  describe(`${options.name}: prefetch()`, () => {
    const context = useContext(options, articlesSchema)

    it('loads every article\'s publications in one statement, grouped and ordered', async () => {
      const ctx = context()
      const { a1, a2, a3, a4 } = await seedArticles(ctx)
      const relation = ctx.bind(publications)
      let prefetched: Awaited<ReturnType<typeof relation.prefetch>> | undefined
      assert.equal(await ctx.statements(async () => (prefetched = await relation.prefetch([a1, a2, a3, a4, a1.id]))), 1)
      assert.ok(prefetched !== undefined)
      assert.equal(prefetched.size, 4)
      assert.deepEqual(titles(prefetched.rows(a2)), [P4, P2, P3, P1])
      assert.deepEqual(titles(prefetched.rows(a1.id)), [P1])
      const manager = prefetched.of(a4)
      assert.equal(
        await ctx.statements(async () => {
          assert.deepEqual(titles(await manager.all()), [P2])
          assert.equal(await manager.count(), 1)
          assert.equal(await manager.exists(), true)
          assert.equal(await manager.exists(a4.id === 0 ? 0 : (await manager.ids())[0]), true)
        }),
        0,
      )
    })

    it('answers from storage again after a write on the manager (Django: add, remove, clear, set, create)', async () => {
      const ctx = context()
      const { p1, p2, a4 } = await seedArticles(ctx)
      const relation = ctx.bind(publications)
      const manager = (await relation.prefetch([a4])).of(a4)
      assert.equal(manager.isPrefetched, true)
      await manager.add(p1)
      assert.equal(manager.isPrefetched, false)
      assert.equal(await manager.count(), 2)
      await manager.remove(p1)
      assert.deepEqual(titles(await manager.all()), [P2])
      const again = (await relation.prefetch([a4])).of(a4)
      await again.create({ title: 'Django beats' })
      assert.deepEqual(titles(await again.all()).sort(), ['Django beats', P2].sort())
      const cleared = (await relation.prefetch([a4])).of(a4)
      await cleared.clear()
      assert.deepEqual(await cleared.all(), [])
      const set = (await relation.prefetch([a4])).of(a4)
      await set.set([p2, p1])
      assert.equal(await set.count(), 2)
      await set.set([p1])
      assert.equal(await set.count(), 1)
    })

    it('filters the prefetched rows, and gives empty lists to instances with none', async () => {
      const ctx = context()
      const { a1, a2 } = await seedArticles(ctx)
      const lonely = await ctx.insert(Article, { headline: 'An article in nothing' })
      const prefetched = await ctx.bind(publications).prefetch([a1, a2, lonely], { where: { title__startswith: 'Science' }, orderBy: ['-title'] })
      assert.deepEqual(titles(prefetched.rows(a2)), [P3, P2])
      assert.deepEqual(prefetched.rows(a1), [])
      assert.deepEqual(prefetched.rows(lonely), [])
    })

    it('prefetches 200 articles in one statement', async () => {
      const ctx = context()
      const pubs = await ctx.insertAll(Publication, [{ title: 'A' }, { title: 'B' }])
      const articles = await ctx.insertAll(
        Article,
        Array.from({ length: 200 }, (_, index) => ({ headline: `Article ${String(index).padStart(3, '0')}` })),
      )
      const relation = ctx.bind(publications)
      for (const article of articles) await relation.of(article).add(pubs)
      let prefetched: Awaited<ReturnType<typeof relation.prefetch>> | undefined
      assert.equal(await ctx.statements(async () => (prefetched = await relation.prefetch(articles))), 1)
      assert.ok(articles.every((article) => prefetched?.rows(article).length === 2))
    })

    it('refuses an instance that was not prefetched, and runs nothing for none', async () => {
      const ctx = context()
      const { a1, a2 } = await seedArticles(ctx)
      const relation = ctx.bind(publications)
      const prefetched = await relation.prefetch([a1])
      await expectError(() => prefetched.of(a2), 'M2M_INVALID_ARGUMENT')
      assert.equal(await ctx.statements(() => relation.prefetch([])), 0)
    })
  })

  describe(`${options.name}: deleteLinksOf()`, () => {
    const context = useContext(options, articlesSchema)

    itInspecting(options, 'drops every link of a publication about to be deleted, on either side', async () => {
      const ctx = context()
      const { p1, a1, a2 } = await seedArticles(ctx)
      const relation = ctx.bind(publications)
      assert.equal(await relation.reverse.deleteLinksOf(p1), 2)
      assert.deepEqual(await relation.of(a1).all(), [])
      assert.deepEqual(titles(await relation.of(a2).all()), [P4, P2, P3])
      assert.equal(await relation.deleteLinksOf(a2), 3)
      assert.equal((await ctx.rows(publications.through.table)).length, 2)
    })
  })

  describe(`${options.name}: pagination and streaming`, () => {
    const context = useContext(options, articlesSchema)

    it('pages by primary key with after(), forwards and backwards', async () => {
      const ctx = context()
      const { p1, p2, p3, p4, a2 } = await seedArticles(ctx)
      const manager = ctx.bind(publications).of(a2)
      assert.deepEqual(titles(await manager.query().after(p2.id).all()), [P3, P4])
      assert.deepEqual(titles(await manager.orderBy('pk').after(p1).limit(2).all()), [P2, P3])
      assert.deepEqual(titles(await manager.orderBy('-pk').after(p3.id).all()), [P2, P1])
      assert.deepEqual(await manager.query().after(p4.id).all(), [])
      await expectError(() => manager.orderBy('title').after(p1.id), 'M2M_INVALID_ARGUMENT')
    })

    it('streams every related row in pages, one statement a page', async () => {
      const ctx = context()
      const article = await ctx.insert(Article, { headline: 'Everything' })
      const count = 2_500
      await ctx.seed(
        Publication,
        Array.from({ length: count }, (_, index) => ({ id: index + 1, title: `P${String(index)}` })),
      )
      const manager = ctx.bind(publications).of(article)
      await manager.add(Array.from({ length: count }, (_, index) => index + 1))
      const seen: number[] = []
      const statements = await ctx.statements(async () => {
        for await (const row of manager.stream({ batchSize: 1_000 })) seen.push(row.id)
      })
      assert.equal(seen.length, count)
      assert.deepEqual(seen.slice(0, 3), [1, 2, 3])
      assert.ok(seen.every((id, index) => index === 0 || id > (seen[index - 1] ?? 0)))
      assert.equal(statements, 3)
      const filtered: number[] = []
      for await (const row of manager.filter({ id__lte: 10 }).stream({ batchSize: 3 })) filtered.push(row.id)
      assert.deepEqual(filtered, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    })
  })
}
