import assert from 'node:assert/strict'
import { defineModel } from '../../model/define-model.js'
import { manyToMany } from '../../relation/many-to-many.js'
import { describeJoinTable, type TableSchema } from '../../schema/table-schema.js'
import { useContext, type ConformanceContext } from '../conformance-context.js'
import { modelTable } from '../model-table.js'
import type { ConformanceOptions } from '../conformance-options.js'
import { expectSyncError, headlines, names, titles } from '../fixtures/assertions.js'
import { Article, articlesSchema, Publication, publications, seedArticles } from '../fixtures/articles.js'
import { members, ThroughGroup, ThroughPerson, throughSchema } from '../fixtures/through.js'

// Django's query semantics across a many-to-many relation (issue #12): exclude() on a related
// manager, exclude() across a multi-valued relation (each condition its own subquery), and
// isnull / None across the relation (a LEFT JOIN: rows with no link at all match).
//
// The Django catalogue (django-semantics.md §8) has data only for `exclude(publications=p2)`;
// the other expected results are worked out from Django 5's documented semantics, as each
// test says: "Spanning multi-valued relationships" (exclude() does not make its conditions
// refer to the same item), the LEFT OUTER JOIN that `isnull=True` and `=None` lookups use
// across a relation, and exclude()'s `IS NOT NULL` guard on nullable columns.

// Django's fixture, by name: title order is p4, p2, p3, p1; headline order a1, a3, a2, a4.
const A1 = 'Django lets you build web apps easily'
const A2 = 'NASA uses Python'
const A3 = 'NASA finds intelligent life on Earth'
const A4 = 'Oxygen-free diet works wonders'
const P1 = 'The Python Journal'
const P2 = 'Science News'
const P3 = 'Science Weekly'
const P4 = 'Highlights for Children'

/** A book, whose rank may be missing. */
interface XqBookRow {
  id: number
  title: string | null
  rank: number | null
}

const bookTitles = (rows: readonly XqBookRow[]): (string | null)[] => rows.map((row) => row.title)

/** A shelf, the source of the books. */
interface XqShelfRow {
  id: number
  name: string
}

const Book = defineModel<XqBookRow>('XqBook', { table: 'tl_xq_book', columns: ['id', 'title', 'rank'], ordering: ['title'] })
const Shelf = defineModel<XqShelfRow>('XqShelf', { table: 'tl_xq_shelf', columns: ['id', 'name'], ordering: ['name'] })
/** `Shelf.books = ManyToManyField(Book)`. */
const books = manyToMany(Shelf, Book, { name: 'books' })

const shelvesSchema: readonly TableSchema[] = [modelTable(Book, { title: 'string', rank: 'integer' }), modelTable(Shelf, { name: 'string' }), describeJoinTable(books)]

/**
 * Shelves a (one: 1, none: null), b (no books), c (two: 2) and d (nada: null, zip: null), and
 * a book "lost" (5) on no shelf.
 */
async function seedShelves(ctx: ConformanceContext) {
  const [a, b, c, d] = await ctx.insertAll(Shelf, [{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }])
  const [one, none, two, nada, zip, lost] = await ctx.insertAll(Book, [
    { title: 'one', rank: 1 },
    { title: 'none', rank: null },
    { title: 'two', rank: 2 },
    { title: 'nada', rank: null },
    { title: 'zip', rank: null },
    { title: 'lost', rank: 5 },
  ])
  const relation = ctx.bind(books)
  await relation.of(a!).add([one!, none!])
  await relation.of(c!).add(two!)
  await relation.of(d!).add([nada!, zip!])
  return { relation, a: a!, b: b!, c: c!, d: d!, lost: lost! }
}

/**
 * Rock (Jim, Jane) and Roll (Jane "She was just awesome.", Bob, Jim), Django's m2m_through
 * fixture, and a group "Empty" with no members.
 */
async function seedBand(ctx: ConformanceContext) {
  const [bob, jane, jim] = await ctx.insertAll(ThroughPerson, [{ name: 'Bob' }, { name: 'Jane' }, { name: 'Jim' }])
  const [rock, roll] = await ctx.insertAll(ThroughGroup, [{ name: 'Rock' }, { name: 'Roll' }, { name: 'Empty' }])
  const relation = ctx.bind(members)
  await relation.of(rock!).add([jim!, jane!])
  await relation.of(roll!).add([jane!], { throughDefaults: { invite_reason: 'She was just awesome.' } })
  await relation.of(roll!).add([bob!, jim!])
  return relation
}

/**
 * Django's query semantics across the relation that throughline follows since issue #12:
 * `exclude()` on a related manager, `exclude()` across a multi-valued relation, and `isnull`
 * and `None` across the relation.
 */
export function excludeIsnullConformance(options: ConformanceOptions): void {
  const { describe, it } = options.test

  describe(`${options.name}: exclude() on a related manager`, () => {
    const context = useContext(options, articlesSchema)

    it('leaves out the related rows matching, chained with filter() (Django: a2.publications.filter(…).exclude(title__in=[…]))', async () => {
      const ctx = context()
      const { a2, p1, p2 } = await seedArticles(ctx)
      const mine = ctx.bind(publications).of(a2)
      assert.deepEqual(titles(await mine.exclude({ title__in: [P2, P3] }).all()), [P4, P1])
      assert.deepEqual(titles(await mine.filter({ title__startswith: 'Science' }).exclude({ title__in: [P2] }).all()), [P3])
      assert.deepEqual(titles(await mine.exclude({ title__startswith: 'Science' }).exclude({ pk: p1 }).all()), [P4])
      assert.deepEqual(titles(await mine.query().exclude({ pk: p2 }).filter({ title__startswith: 'Science' }).all()), [P3])
      // One exclude() with two conditions leaves out the rows meeting both (NOT (a AND b)).
      assert.deepEqual(titles(await mine.exclude({ title__startswith: 'Science', title__endswith: 'News' }).all()), [P4, P3, P1])
      // The reverse side: p2's articles a3, a2, a4.
      assert.deepEqual(headlines(await ctx.bind(publications).reverse.of(p2).exclude({ headline__startswith: 'NASA' }).all()), [A4])
    })

    it('counts, checks, pages and gets through exclude(), one statement each', async () => {
      const ctx = context()
      const { a2, p3 } = await seedArticles(ctx)
      const mine = ctx.bind(publications).of(a2)
      const notScience = mine.exclude({ title__startswith: 'Science' })
      assert.equal(await notScience.count(), 2)
      assert.equal(await notScience.exists(), true)
      assert.deepEqual(titles(await notScience.orderBy('-title').limit(1).all()), [P1])
      assert.equal((await notScience.first())?.title, P4)
      assert.equal((await mine.filter({ title__startswith: 'Science' }).exclude({ title: P2 }).get()).id, p3.id)
      assert.deepEqual(await mine.exclude({ title__startswith: 'S' }).exclude({ title__startswith: 'H' }).ids(), [(await mine.get({ title: P1 })).id])
      assert.equal(await ctx.statements(() => notScience.count()), 1)
      assert.equal(await ctx.statements(() => notScience.all()), 1)
    })

    it('leaves nothing out for no condition or an empty in list, as Django (exclude(), exclude(pk__in=[]))', async () => {
      const ctx = context()
      const { a2 } = await seedArticles(ctx)
      const mine = ctx.bind(publications).of(a2)
      assert.deepEqual(titles(await mine.exclude({}).all()), [P4, P2, P3, P1])
      assert.deepEqual(titles(await mine.exclude({ pk__in: [] }).all()), [P4, P2, P3, P1])
      assert.deepEqual(titles(await mine.exclude({ pk__in: [], title: P2 }).all()), [P4, P2, P3, P1])
      assert.deepEqual(titles(await mine.filter({ pk__in: [] }).exclude({ title: P2 }).all()), [])
    })

    it('refuses unknown columns and lookups at once', async () => {
      const ctx = context()
      const { a2 } = await seedArticles(ctx)
      const mine = ctx.bind(publications).of(a2)
      expectSyncError(() => mine.exclude({ colour: 'red' } as never), 'M2M_UNKNOWN_COLUMN')
      expectSyncError(() => mine.query().exclude({ title__like: 'S%' } as never), 'M2M_INVALID_LOOKUP')
    })
  })

  describe(`${options.name}: exclude() on a related manager, nullable columns`, () => {
    const context = useContext(options, shelvesSchema)

    it('keeps rows whose column is null, as Django (exclude(rank=1) keeps rank None)', async () => {
      const { relation, a, c, d } = await seedShelves(context())
      assert.deepEqual(bookTitles(await relation.of(a).exclude({ rank: 1 }).all()), ['none'])
      assert.deepEqual(bookTitles(await relation.of(d).exclude({ rank: 1 }).all()), ['nada', 'zip'])
      assert.deepEqual(bookTitles(await relation.of(a).exclude({ rank__gt: 0 }).all()), ['none'])
      assert.deepEqual(bookTitles(await relation.of(a).exclude({ rank__in: [1, 2] }).all()), ['none'])
      assert.deepEqual(bookTitles(await relation.of(a).exclude({ rank__isnull: true }).all()), ['one'])
      assert.deepEqual(bookTitles(await relation.of(a).exclude({ rank__gt: 5, title: 'one' }).all()), ['none', 'one'])
      assert.deepEqual(bookTitles(await relation.of(a).exclude({ rank__gt: 0, title: 'one' }).all()), ['none'])
      assert.deepEqual(await relation.of(c).exclude({ rank__in: [1, 2] }).all(), [])
    })
  })

  describe(`${options.name}: exclude() across a multi-valued relation`, () => {
    const articles = useContext(options, articlesSchema)

    // Django's docs ("Spanning multi-valued relationships"): the conditions of one exclude()
    // need not refer to the same related row; each is its own subquery, and a row is left out
    // when every one of them matches some link: NOT (EXISTS (…a…) AND EXISTS (…b…)).
    it('leaves out a row when each condition matches one of its links, not necessarily the same one', async () => {
      const ctx = articles()
      const { a1, a2 } = await seedArticles(ctx)
      const relation = ctx.bind(publications)
      // Article.objects.exclude(publications__title__startswith="Science", publications__title__contains="Python"):
      // a2 is in p2 "Science News" and in p1 "The Python Journal".
      assert.deepEqual(headlines(await relation.exclude({ title__startswith: 'Science', title__contains: 'Python' }).all()), [A1, A3, A4])
      assert.equal(await relation.exclude({ title__startswith: 'Science', title__contains: 'Python' }).count(), 3)
      // Publication.objects.exclude(article__id=a1.id, article=a2): p1 has both articles.
      assert.deepEqual(titles(await relation.reverse.exclude({ id: a1.id, pk: a2 }).all()), [P4, P2, P3])
      // One condition is one subquery, a range included (both ends on one link).
      assert.deepEqual(titles(await relation.reverse.exclude({ id__range: [a1.id, a1.id] }).all()), [P4, P2, P3])
      // An empty in list matches no link, so the AND never holds: nothing is left out.
      assert.deepEqual(headlines(await relation.exclude({ title__startswith: 'Science', pk__in: [] }).all()), [A1, A3, A2, A4])
      assert.equal(await ctx.statements(() => relation.exclude({ title__startswith: 'Science', title__contains: 'Python' }).all()), 1)
    })

    it('with sameLink, leaves out only the rows with one link meeting every condition (Django: exclude(publications__in=Publication.objects.filter(…)))', async () => {
      const ctx = articles()
      const { a1, a2 } = await seedArticles(ctx)
      const relation = ctx.bind(publications)
      assert.deepEqual(headlines(await relation.exclude({ title__startswith: 'Science', title__contains: 'Python' }, { sameLink: true }).all()), [A1, A3, A2, A4])
      assert.deepEqual(headlines(await relation.exclude({ title__startswith: 'Science', title__endswith: 'Weekly' }, { sameLink: true }).all()), [A1, A3, A4])
      assert.deepEqual(titles(await relation.reverse.exclude({ id: a1.id, pk: a2 }, { sameLink: true }).all()), [P4, P2, P3, P1])
    })

  })

  describe(`${options.name}: exclude() across a multi-valued relation, join-table columns`, () => {
    const band = useContext(options, throughSchema)

    it('gives conditions on the join table their own subquery too', async () => {
      const relation = await seedBand(band())
      const awesome = { invite_reason: 'She was just awesome.' }
      // Group.objects.exclude(members__name="Bob", membership__invite_reason="She was just awesome."):
      // Roll has Bob, and Jane's membership has the reason.
      assert.deepEqual(names(await relation.exclude({ name: 'Bob' }, { through: awesome }).all()), ['Empty', 'Rock'])
      assert.deepEqual(names(await relation.exclude({ name: 'Bob' }, { through: awesome, sameLink: true }).all()), ['Empty', 'Rock', 'Roll'])
      // Every membership has a date_joined (a default): Roll has one, and one with the reason.
      assert.deepEqual(names(await relation.exclude({}, { through: { ...awesome, date_joined__isnull: false } }).all()), ['Empty', 'Rock'])
    })
  })

  describe(`${options.name}: isnull and None across the relation`, () => {
    const articles = useContext(options, articlesSchema)

    // Django joins with a LEFT OUTER JOIN for `isnull=True` and `=None` across a relation, so a
    // row with no link at all matches them, as if it had one link whose columns are all null.
    it('matches rows with no link at all (Publication.objects.filter(article__headline=None))', async () => {
      const ctx = articles()
      await seedArticles(ctx)
      const lonelyPublication = await ctx.insert(Publication, { title: 'Lonely Planet' })
      const lonelyArticle = await ctx.insert(Article, { headline: 'An article in nothing' })
      const relation = ctx.bind(publications)
      assert.deepEqual(titles(await relation.reverse.filter({ headline: null }).all()), [lonelyPublication.title])
      assert.equal(await relation.reverse.filter({ headline: null }).count(), 1)
      // Publication.objects.filter(article__isnull=True), Article.objects.filter(publications__id__isnull=True)
      assert.deepEqual(titles(await relation.reverse.filter({ pk__isnull: true }).all()), [lonelyPublication.title])
      assert.deepEqual(headlines(await relation.filter({ id__isnull: true }).distinct().all()), [lonelyArticle.headline])
      // isnull=False keeps its INNER JOIN: one row per link.
      assert.deepEqual(titles(await relation.reverse.filter({ headline__isnull: false }).distinct().all()), [P4, P2, P3, P1])
      // exclude(article__headline=None): every publication with an article (the lonely one is left out).
      assert.deepEqual(titles(await relation.reverse.exclude({ headline: null }).all()), [P4, P2, P3, P1])
      assert.deepEqual(titles(await relation.reverse.exclude({ headline__isnull: false }).all()), [lonelyPublication.title])
      assert.equal(await ctx.statements(() => relation.reverse.filter({ headline: null }).all()), 1)
    })

  })

  describe(`${options.name}: isnull and None across the relation, join-table columns`, () => {
    const band = useContext(options, throughSchema)

    it('matches groups without members (Group.objects.filter(members__id__isnull=True)) and join-table nulls', async () => {
      const relation = await seedBand(band())
      assert.deepEqual(names(await relation.filter({ id__isnull: true }).all()), ['Empty'])
      assert.deepEqual(names(await relation.filter({ pk: null }).all()), ['Empty'])
      // Group.objects.filter(membership__invite_reason=None): the LEFT JOIN's rows, one per
      // membership without a reason, and one for the group without members.
      assert.deepEqual(names(await relation.filter({}, { through: { invite_reason: null } }).all()), ['Empty', 'Rock', 'Rock', 'Roll', 'Roll'])
      assert.deepEqual(names(await relation.filter({}, { through: { invite_reason: null } }).distinct().all()), ['Empty', 'Rock', 'Roll'])
      // A condition a null link cannot meet still needs a link.
      assert.deepEqual(names(await relation.filter({ name: 'Jane' }, { through: { invite_reason: null } }).all()), ['Rock'])
      // Group.objects.exclude(members__name="Jane", membership__invite_reason=None)
      assert.deepEqual(names(await relation.exclude({ name: 'Jane' }, { through: { invite_reason: null } }).all()), ['Empty'])
      assert.deepEqual(names(await relation.exclude({ name: 'Jane' }, { through: { invite_reason: null }, sameLink: true }).all()), ['Empty', 'Roll'])
    })

  })

  describe(`${options.name}: isnull and None across the relation, nullable columns`, () => {
    const shelves = useContext(options, shelvesSchema)

    it('matches a null column of a linked row and rows with no link alike', async () => {
      const { relation } = await seedShelves(shelves())
      const shelfNames = async (query: { all: () => Promise<XqShelfRow[]> }): Promise<string[]> => names(await query.all())
      // Shelf.objects.filter(books__rank=None): a once, b (no books) once, d once per book.
      assert.deepEqual(await shelfNames(relation.filter({ rank: null })), ['a', 'b', 'd', 'd'])
      assert.equal(await relation.filter({ rank: null }).count(), 4)
      assert.deepEqual(await shelfNames(relation.filter({ rank: null }).distinct()), ['a', 'b', 'd'])
      assert.equal(await relation.filter({ rank: null }).distinct().count(), 3)
      assert.deepEqual(await shelfNames(relation.filter({ rank: null }).orderBy('-name').limit(3)), ['d', 'd', 'b'])
      assert.deepEqual(await shelfNames(relation.filter({ rank: null }).where({ name__in: ['b', 'c'] })), ['b'])
      // Every condition null on a link with no row: both isnull hold; title "none" does not.
      assert.deepEqual(await shelfNames(relation.filter({ rank: null, title__isnull: true })), ['b'])
      assert.deepEqual(await shelfNames(relation.filter({ rank: null, title: 'none' })), ['a'])
      // exclude(books__rank=None) leaves out the shelves meeting it, b included.
      assert.deepEqual(await shelfNames(relation.exclude({ rank: null })), ['c'])
      assert.deepEqual(await shelfNames(relation.exclude({ rank__isnull: false })), ['b', 'd'])
      // exclude(books__rank=None, books__title="one"): only a has both (none and one).
      assert.deepEqual(await shelfNames(relation.exclude({ rank: null, title: 'one' })), ['b', 'c', 'd'])
      assert.deepEqual(await shelfNames(relation.exclude({ rank: null, title: 'one' }, { sameLink: true })), ['a', 'b', 'c', 'd'])
      // Book.objects.filter(xqshelf__isnull=True): the book on no shelf.
      assert.deepEqual(bookTitles(await relation.reverse.filter({ pk__isnull: true }).all()), ['lost'])
    })
  })
}
