import assert from 'node:assert/strict'
import type { ConformanceOptions } from '../conformance-options.js'
import { itInspecting, useContext } from '../conformance-context.js'
import { expectError, expectSyncError, headlines, titles } from '../fixtures/assertions.js'
import { Article, articlesSchema, Publication, publications, type ArticleRow, type PublicationRow } from '../fixtures/articles.js'

// Seed 003: Django's many-to-many documentation example (Publication and Article), walked
// through step by step, manager-level parts only.
//
// Left out, and why:
// - Article.objects.filter(publications__...), Publication.objects.filter(article__...) and
//   exclude(): the queries across the relation (relation.filter(), relation.exclude()) have
//   groups of their own, with these articles and publications (queries and exclude/isnull).
// - p1.delete(), a2.delete(), Publication.objects.filter(...).delete() and the bulk delete of
//   articles: deleting rows and cascading their links is issue 4. The second test starts from
//   the state those two deletes leave (p2, p3 and "Highlights for Children" with no links;
//   a1 with none), which a fresh fixture gives without deleting anything.

/**
 * Seed 003, the Django documentation's Publication/Article walk-through: add, create, the
 * errors, reads from both ends, remove, set and clear from both ends.
 */
export function seed003PublicationsConformance(options: ConformanceOptions): void {
  const { describe, it } = options.test
  describe(`${options.name}: the publications walk-through (seed 003)`, () => {
    const context = useContext(options, articlesSchema)
    const pubsOf = (article: ArticleRow | number) => context().bind(publications).of(article)
    const articlesOf = (publication: PublicationRow | number) => context().bind(publications).reverse.of(publication)

    itInspecting(options, 'links articles to publications and reads them from both ends', async () => {
      const ctx = context()
      const p1 = await ctx.insert(Publication, { title: 'The Python Journal' })
      const p2 = await ctx.insert(Publication, { title: 'Science News' })
      const p3 = await ctx.insert(Publication, { title: 'Science Weekly' })

      // "You can't associate it with a Publication until it's been saved."
      const unsaved = { headline: 'Django lets you build web apps easily' } as unknown as ArticleRow
      expectSyncError(
        () => pubsOf(unsaved).add(p1),
        'M2M_UNSAVED_SOURCE',
        'needs a value for "id" before this many-to-many relationship can be used',
      )
      assert.equal((await ctx.rows(publications.through.table)).length, 0)

      const a1 = await ctx.insert(Article, { headline: 'Django lets you build web apps easily' })
      await pubsOf(a1).add(p1)

      const a2 = await ctx.insert(Article, { headline: 'NASA uses Python' })
      await pubsOf(a2).add([p1, p2])
      await pubsOf(a2).add(p3)
      // "Adding a second time is OK, it will not duplicate the relation."
      await pubsOf(a2).add(p3)
      assert.equal(await pubsOf(a2).count(), 3)
      const rows = await ctx.rows(publications.through.table)
      assert.equal(rows.filter((row) => String(row[publications.through.sourceColumn]) === String(a2.id)).length, 3)

      // "Adding an object of the wrong type raises TypeError."
      await expectError(() => pubsOf(a2).add(a1 as never), 'M2M_WRONG_MODEL', 'Publication instance expected')

      // "Create and add a Publication to an Article in one step using create()."
      const newPublication = await pubsOf(a2).create({ title: 'Highlights for Children' })

      // "Article objects have access to their related Publication objects."
      assert.deepEqual(titles(await pubsOf(a1).all()), ['The Python Journal'])
      assert.deepEqual(titles(await pubsOf(a2).all()), ['Highlights for Children', 'Science News', 'Science Weekly', 'The Python Journal'])

      // "Publication objects have access to their related Article objects."
      assert.deepEqual(headlines(await articlesOf(p2).all()), ['NASA uses Python'])
      assert.deepEqual(headlines(await articlesOf(p1).all()), ['Django lets you build web apps easily', 'NASA uses Python'])
      // Publication.objects.get(id=4).article_set.all(): the created publication, by its key.
      assert.deepEqual(headlines(await articlesOf(newPublication.id).all()), ['NASA uses Python'])
    })

    it('adds, creates, removes, sets and clears from both ends', async () => {
      const ctx = context()
      // The state after p1.delete() and a2.delete() (see the note at the top).
      const p2 = await ctx.insert(Publication, { title: 'Science News' })
      const p3 = await ctx.insert(Publication, { title: 'Science Weekly' })
      await ctx.insert(Publication, { title: 'Highlights for Children' })
      await ctx.insert(Article, { headline: 'Django lets you build web apps easily' })

      // "Adding via the 'other' end of an m2m."
      const a4 = await ctx.insert(Article, { headline: 'NASA finds intelligent life on Earth' })
      await articlesOf(p2).add(a4)
      assert.deepEqual(headlines(await articlesOf(p2).all()), ['NASA finds intelligent life on Earth'])
      assert.deepEqual(titles(await pubsOf(a4).all()), ['Science News'])

      // "Adding via the other end using keywords."
      const newArticle = await articlesOf(p2).create({ headline: 'Oxygen-free diet works wonders' })
      assert.equal(newArticle.headline, 'Oxygen-free diet works wonders')
      const both = await articlesOf(p2).all()
      assert.deepEqual(headlines(both), ['NASA finds intelligent life on Earth', 'Oxygen-free diet works wonders'])
      const a5 = both[1]
      assert.ok(a5 !== undefined)
      assert.deepEqual(titles(await pubsOf(a5).all()), ['Science News'])

      // "Removing Publication from an Article."
      await pubsOf(a4).remove(p2)
      assert.deepEqual(headlines(await articlesOf(p2).all()), ['Oxygen-free diet works wonders'])
      assert.deepEqual(await pubsOf(a4).all(), [])

      // "And from the other end."
      await articlesOf(p2).remove(a5)
      assert.deepEqual(await articlesOf(p2).all(), [])
      assert.deepEqual(await pubsOf(a5).all(), [])

      // "Relation sets can be set." The documentation prints [Science News] for a4 here, but
      // a4's only publication was removed just above: the real state is empty.
      assert.deepEqual(await pubsOf(a4).all(), [])
      await pubsOf(a4).set([p3])
      assert.deepEqual(titles(await pubsOf(a4).all()), ['Science Weekly'])

      // "Relation sets can be cleared."
      await articlesOf(p2).clear()
      assert.deepEqual(await articlesOf(p2).all(), [])

      // "And you can clear from the other end."
      await articlesOf(p2).add([a4, a5])
      assert.deepEqual(headlines(await articlesOf(p2).all()), ['NASA finds intelligent life on Earth', 'Oxygen-free diet works wonders'])
      assert.deepEqual(titles(await pubsOf(a4).all()), ['Science News', 'Science Weekly'])
      await pubsOf(a4).clear()
      assert.deepEqual(await pubsOf(a4).all(), [])
      assert.deepEqual(headlines(await articlesOf(p2).all()), ['Oxygen-free diet works wonders'])

      // "Recreate the Article and Publication we have deleted."
      const p1 = await ctx.insert(Publication, { title: 'The Python Journal' })
      const a2 = await ctx.insert(Article, { headline: 'NASA uses Python' })
      await pubsOf(a2).add([p1, p2, p3])
      assert.deepEqual(titles(await pubsOf(a2).all()), ['Science News', 'Science Weekly', 'The Python Journal'])
      assert.deepEqual(headlines(await articlesOf(p1).all()), ['NASA uses Python'])
      assert.deepEqual(headlines(await articlesOf(p2).all()), ['NASA uses Python', 'Oxygen-free diet works wonders'])
      assert.deepEqual(headlines(await articlesOf(p3).all()), ['NASA uses Python'])
    })
  })
}
