import assert from 'node:assert/strict'
import type { ConformanceOptions } from '../conformance-options.js'
import { useContext, type ConformanceContext } from '../conformance-context.js'
import { insertLinkRow, pick } from '../fixtures/link-rows.js'
import { listPageSchema, PageInterview, PageUser, pageFans, pageLikes, type PageFavoriteRow, type PageInterviewRow, type PageUserRow } from '../fixtures/list-page.js'

interface Page {
  readonly ann: PageUserRow
  readonly ben: PageUserRow
  readonly cat: PageUserRow
  readonly a: PageInterviewRow
  readonly b: PageInterviewRow
  readonly c: PageInterviewRow
}

/** Three users and three interviews: a is liked by ann (January) and ben (March), b by ann (February), c by nobody. */
async function page(ctx: ConformanceContext): Promise<Page> {
  const [ann, ben, cat] = await ctx.insertAll(PageUser, [{ username: 'ann' }, { username: 'ben' }, { username: 'cat' }])
  const [a, b, c] = await ctx.insertAll(PageInterview, [{ title: 'Backend' }, { title: 'Frontend' }, { title: 'Mobile' }])
  const fans = ctx.bind(pageFans)
  await fans.of(a!).add(ann!, { throughDefaults: { created_at: '2026-01-05T10:00:00Z' } })
  await fans.of(a!).add(ben!, { throughDefaults: { created_at: '2026-03-05T10:00:00Z' } })
  await fans.of(b!).add(ann!, { throughDefaults: { created_at: '2026-02-05T10:00:00Z' } })
  return { ann: ann!, ben: ben!, cat: cat!, a: a!, b: b!, c: c! }
}

/**
 * Issue #12: the reads of seed 000's list page, each one statement however many rows: the
 * number of fans of each interview (Django's `annotate(Count("favorited_by"))`), and the
 * through columns in reads: latest first (`order_by("-favoriteinterview__created_at")`), with
 * the through values of each row; and a prefetch of the latest few rows of each instance
 * (Django's `Prefetch(queryset=qs.order_by(…)[:3])`).
 */
export function listPageConformance(options: ConformanceOptions): void {
  const { describe, it } = options.test
  describe(`${options.name}: the list page (counts of many rows)`, () => {
    const context = useContext(options, listPageSchema)

    it('counts the fans of each interview of a page in one statement, zero for none, in the order given', async () => {
      const ctx = context()
      const { ann, ben, cat, a, b, c } = await page(ctx)
      const fans = ctx.bind(pageFans)
      let counts = new Map<number, number>()
      // A row, a key, a key as a string, a key with no row, and a row twice: each once, as given.
      const list = [b, a.id, String(c.id), 987_654, b]
      assert.equal(await ctx.statements(async () => (counts = await fans.countsOf(list))), 1)
      assert.deepEqual([...counts], [[b.id, 1], [a.id, 2], [c.id, 0], [987_654, 0]])
      for (const interview of [a, b, c]) assert.equal(counts.get(interview.id), await fans.of(interview).count())
      // The other side: how many interviews each user likes.
      assert.deepEqual([...(await ctx.bind(pageLikes).countsOf([ann, ben, cat]))], [[ann.id, 2], [ben.id, 1], [cat.id, 0]])
      assert.equal(await ctx.statements(async () => (counts = await fans.countsOf([]))), 0)
      assert.deepEqual([...counts], [])
    })

    it('counts with conditions on the fans and on the through row, as count() does', async () => {
      const ctx = context()
      const { a, b, c } = await page(ctx)
      const fans = ctx.bind(pageFans)
      const list = [a, b, c]
      // Count("favorited_by", filter=Q(favorited_by__username__startswith="b"))
      assert.deepEqual([...(await fans.countsOf(list, { where: { username__startswith: 'b' } }))], [[a.id, 1], [b.id, 0], [c.id, 0]])
      assert.equal((await fans.countsOf(list, { where: { username__startswith: 'b' } })).get(a.id), await fans.of(a).filter({ username__startswith: 'b' }).count())
      // Count("favorited_by", filter=Q(favoriteinterview__created_at__gte="2026-02"))
      assert.deepEqual([...(await fans.countsOf(list, { through: { created_at__gte: '2026-02' } }))], [[a.id, 1], [b.id, 1], [c.id, 0]])
      assert.deepEqual([...(await fans.countsOf(list, { where: { username: 'ann' }, through: { created_at__lt: '2026-02' } }))], [[a.id, 1], [b.id, 0], [c.id, 0]])
      // A condition no row meets: zeros, without a statement.
      let counts = new Map<number, number>()
      assert.equal(await ctx.statements(async () => (counts = await fans.countsOf(list, { where: { pk__in: [] } }))), 0)
      assert.deepEqual([...counts], [[a.id, 0], [b.id, 0], [c.id, 0]])
    })

    it('counts a like stored twice twice, and once with distinct (Count(..., distinct=True))', async () => {
      const ctx = context()
      const { ann, a, b } = await page(ctx)
      const fans = ctx.bind(pageFans)
      // FavoriteInterview.objects.create(user=ann, interview=a): the table has no unique pair.
      await insertLinkRow(ctx, pageFans, a.id, ann.id, { created_at: '2026-04-05T10:00:00Z' })
      assert.deepEqual([...(await fans.countsOf([a, b]))], [[a.id, 3], [b.id, 1]])
      assert.equal(await fans.of(a).count(), 3)
      assert.deepEqual([...(await fans.countsOf([a, b], { distinct: true }))], [[a.id, 2], [b.id, 1]])
      assert.deepEqual([...(await fans.countsOf([a, b], { distinct: true, where: { username: 'ann' } }))], [[a.id, 1], [b.id, 1]])
    })

    it('counts the fans of 60 interviews in one statement', async () => {
      const ctx = context()
      const users = await ctx.insertAll(PageUser, Array.from({ length: 5 }, (_, index) => ({ username: `user ${String(index)}` })))
      const interviews = await ctx.insertAll(PageInterview, Array.from({ length: 60 }, (_, index) => ({ title: `Interview ${String(index)}` })))
      const fans = ctx.bind(pageFans)
      for (const [index, interview] of interviews.entries()) await fans.of(interview).add(users.slice(0, index % 6))
      let counts = new Map<number, number>()
      assert.equal(await ctx.statements(async () => (counts = await fans.countsOf(interviews))), 1)
      assert.deepEqual([...counts.values()], interviews.map((_, index) => index % 6))
    })

    it('orders by a through column, latest like first, in one statement', async () => {
      const ctx = context()
      const { ann, ben, cat, a, b, c } = await page(ctx)
      const likes = ctx.bind(pageLikes)
      const fans = ctx.bind(pageFans)
      let rows: unknown[] = []
      // user.favorite_interviews.order_by("-favoriteinterview__created_at")
      assert.equal(await ctx.statements(async () => (rows = await likes.of(ann).orderBy('-through__created_at').all())), 1)
      assert.deepEqual(rows, [b, a])
      assert.deepEqual(await likes.of(ann).orderBy('through__created_at').all(), [a, b])
      assert.deepEqual(await likes.of(ann).orderBy('-through__created_at').ids(), [b.id, a.id])
      assert.deepEqual(await fans.of(a).orderBy('-through__created_at').all(), [ben, ann])
      assert.deepEqual(await fans.of(a).orderBy('-through__created_at').limit(1).all(), [ben])
      assert.deepEqual(await fans.of(a).orderBy('-through__created_at').offset(1).first(), ann)
      assert.deepEqual(await fans.of(a).filter({ username__startswith: 'a' }).orderBy('-through__created_at').all(), [ann])
      // A like without a date: first ascending, last descending, as nulls order on every adapter.
      await fans.of(c).add(cat)
      await fans.of(c).add(ann, { throughDefaults: { created_at: '2026-06-05T10:00:00Z' } })
      assert.deepEqual(await fans.of(c).orderBy('through__created_at').all(), [cat, ann])
      assert.deepEqual(await fans.of(c).orderBy('-through__created_at').all(), [ann, cat])
      // Ties on the through column fall back to the target's order terms, then its key.
      await fans.of(b).add([ben, cat], { throughDefaults: { created_at: '2026-02-05T10:00:00Z' } })
      assert.deepEqual(await fans.of(b).orderBy('-through__created_at', '-username').all(), [cat, ben, ann])
      assert.deepEqual(await fans.of(b).orderBy('through__created_at').all(), [ann, ben, cat])
    })

    it('returns the targets with their through values, in one statement', async () => {
      const ctx = context()
      const { ann, ben, a, c } = await page(ctx)
      const fans = ctx.bind(pageFans)
      const rowsOf = async (key: number): Promise<unknown[]> => {
        const links = await fans.of(key).throughRows()
        return links.sort((x, y) => (x.created_at ?? '').localeCompare(y.created_at ?? '')).reverse()
      }
      let latest: { row: PageUserRow; through: PageFavoriteRow }[] = []
      assert.equal(await ctx.statements(async () => (latest = await fans.of(a).orderBy('-through__created_at').allWithThrough())), 1)
      assert.deepEqual(latest.map(({ row }) => row), [ben, ann])
      assert.deepEqual(latest.map(({ through }) => through), await rowsOf(a.id))
      assert.deepEqual(pick(latest.map(({ through }) => through), 'user_id', 'interview_id', 'created_at'), [
        { user_id: ben.id, interview_id: a.id, created_at: '2026-03-05T10:00:00Z' },
        { user_id: ann.id, interview_id: a.id, created_at: '2026-01-05T10:00:00Z' },
      ])
      const [first] = await fans.of(a).filter({ username: 'ann' }).allWithThrough()
      assert.equal(first?.through.created_at, '2026-01-05T10:00:00Z')
      assert.deepEqual(await fans.of(c).allWithThrough(), [])
      assert.deepEqual(await fans.of(a).filter({ pk__in: [] }).allWithThrough(), [])
      // A like stored twice: the fan once per link row, each with its own through values.
      await insertLinkRow(ctx, pageFans, a.id, ann.id, { created_at: '2026-04-05T10:00:00Z' })
      const again = await fans.of(a).orderBy('-through__created_at').allWithThrough()
      assert.deepEqual(pick(again.map(({ row, through }) => ({ username: row.username, created_at: through.created_at })), 'username', 'created_at'), [
        { username: 'ann', created_at: '2026-04-05T10:00:00Z' },
        { username: 'ben', created_at: '2026-03-05T10:00:00Z' },
        { username: 'ann', created_at: '2026-01-05T10:00:00Z' },
      ])
    })

    it('reads the 60 fans of an interview, latest first, with their through values, in one statement', async () => {
      const ctx = context()
      const users = await ctx.insertAll(PageUser, Array.from({ length: 60 }, (_, index) => ({ username: `user ${String(index).padStart(2, '0')}` })))
      const [interview] = await ctx.insertAll(PageInterview, [{ title: 'Backend' }])
      const fans = ctx.bind(pageFans).of(interview!)
      for (const [index, user] of users.entries()) await fans.add(user, { throughDefaults: { created_at: `2026-01-01T10:${String(index).padStart(2, '0')}:00Z` } })
      let latest: { row: PageUserRow; through: PageFavoriteRow }[] = []
      assert.equal(await ctx.statements(async () => (latest = await fans.orderBy('-through__created_at').allWithThrough())), 1)
      assert.deepEqual(latest.map(({ row }) => row), [...users].reverse())
      assert.deepEqual(latest.map(({ through }) => through.user_id), [...users].reverse().map((user) => user.id))
      let ordered: unknown[] = []
      assert.equal(await ctx.statements(async () => (ordered = await fans.orderBy('-through__created_at').all())), 1)
      assert.deepEqual(ordered, [...users].reverse())
    })

    it('refuses a through column that does not exist, and keyset pages by key only', async () => {
      const ctx = context()
      const { a } = await page(ctx)
      const fans = ctx.bind(pageFans).of(a)
      assert.throws(() => fans.orderBy('through__nope' as 'through__created_at'), { code: 'M2M_UNKNOWN_COLUMN' })
      assert.throws(() => fans.orderBy('-through__created_at').after(1), { code: 'M2M_INVALID_ARGUMENT' })
      // The through table's own key is not the target's, even under the same name.
      assert.throws(() => fans.orderBy('through__id').after(1), { code: 'M2M_INVALID_ARGUMENT' })
    })

    it('prefetches the three latest fans of each of 20 interviews in one statement', async () => {
      const ctx = context()
      const users = await ctx.insertAll(PageUser, Array.from({ length: 6 }, (_, index) => ({ username: `user ${String(index)}` })))
      const interviews = await ctx.insertAll(PageInterview, Array.from({ length: 20 }, (_, index) => ({ title: `Interview ${String(index).padStart(2, '0')}` })))
      const fans = ctx.bind(pageFans)
      // Interview i is liked by the first i % 7 users, user u at minute u (ties on none).
      const likers = (index: number): PageUserRow[] => users.slice(0, index % 7)
      for (const [index, interview] of interviews.entries()) {
        for (const [minute, user] of likers(index).entries()) await fans.of(interview).add(user, { throughDefaults: { created_at: `2026-01-01T10:0${String(minute)}:00Z` } })
      }
      let prefetched = await fans.prefetch([])
      assert.equal(await ctx.statements(async () => (prefetched = await fans.prefetch(interviews, { orderBy: ['-through__created_at'], limit: 3 }))), 1)
      for (const [index, interview] of interviews.entries()) assert.deepEqual(prefetched.rows(interview), likers(index).reverse().slice(0, 3))
      // The manager of a limited prefetch reads storage: its count is every fan, not three.
      const busy = interviews[6]!
      assert.equal(await prefetched.of(busy).count(), 6)
      assert.equal(prefetched.of(busy).isPrefetched, false)
      // The oldest two of each, by target order and a condition.
      const oldest = await fans.prefetch(interviews, { orderBy: ['through__created_at'], limit: 2, where: { username__in: ['user 1', 'user 2', 'user 3'] } })
      assert.deepEqual(oldest.rows(busy), [users[1], users[2]])
      assert.deepEqual(oldest.rows(interviews[2]!), [users[1]])
      assert.deepEqual(oldest.rows(interviews[0]!), [])
      const byName = await fans.prefetch(interviews.slice(5, 7), { orderBy: ['-username'], limit: 1 })
      assert.deepEqual([...byName.entries()].map(([, rows]) => rows), [[users[4]], [users[5]]])
    })

    it('prefetches latest first without a limit, and refuses a limit that is no count', async () => {
      const ctx = context()
      const { ann, ben, a, b, c } = await page(ctx)
      const fans = ctx.bind(pageFans)
      const latest = await fans.prefetch([a, b, c], { orderBy: ['-through__created_at'] })
      assert.deepEqual(latest.rows(a), [ben, ann])
      assert.deepEqual(await latest.of(a).all(), [ben, ann])
      assert.equal(latest.of(a).isPrefetched, true)
      let none = latest
      assert.equal(await ctx.statements(async () => (none = await fans.prefetch([a, b], { limit: 0 }))), 0)
      assert.deepEqual(none.rows(a), [])
      await assert.rejects(fans.prefetch([a], { limit: -1 }), { code: 'M2M_INVALID_ARGUMENT' })
      await assert.rejects(fans.prefetch([a], { limit: 1.5 }), { code: 'M2M_INVALID_ARGUMENT' })
      await assert.rejects(fans.prefetch([a], { orderBy: ['through__nope' as 'through__created_at'] }), { code: 'M2M_UNKNOWN_COLUMN' })
    })
  })
}
