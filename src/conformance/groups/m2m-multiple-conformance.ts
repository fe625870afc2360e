import assert from 'node:assert/strict'
import type { ConformanceOptions } from '../conformance-options.js'
import { useContext } from '../conformance-context.js'
import { headlines, names } from '../fixtures/assertions.js'
import { categoriesSchema, Category, DatedArticle, primaryCategories, secondaryCategories } from '../fixtures/categories.js'

/**
 * Django's tests/m2m_multiple: two relations from Article to Category, each with its own
 * reverse side, never see each other's links.
 */
export function m2mMultipleConformance(options: ConformanceOptions): void {
  const { describe, it } = options.test
  describe(`${options.name}: two relations to one model (Django m2m_multiple)`, () => {
    const context = useContext(options, categoriesSchema)

    it('keeps primary and secondary categories apart on both sides', async () => {
      // test_multiple
      const ctx = context()
      const sports = await ctx.insert(Category, { name: 'Sports' })
      const news = await ctx.insert(Category, { name: 'News' })
      const crime = await ctx.insert(Category, { name: 'Crime' })
      const life = await ctx.insert(Category, { name: 'Life' })

      const primary = ctx.bind(primaryCategories)
      const secondary = ctx.bind(secondaryCategories)
      const a1 = await ctx.insert(DatedArticle, { headline: 'Parrot steals', pub_date: '2005-11-27T00:00:00' })
      await primary.of(a1).add([news, crime])
      await secondary.of(a1).add(life)
      const a2 = await ctx.insert(DatedArticle, { headline: 'Parrot runs', pub_date: '2005-11-28T00:00:00' })
      await primary.of(a2).add([sports, news])
      await secondary.of(a2).add(life)

      // Categories in name order.
      assert.deepEqual(names(await primary.of(a1).all()), ['Crime', 'News'])
      assert.deepEqual(names(await primary.of(a2).all()), ['News', 'Sports'])
      assert.deepEqual(names(await secondary.of(a1).all()), ['Life'])
      assert.deepEqual(names(await secondary.of(a2).all()), ['Life'])

      // Articles in pub_date order, which is not their headline order.
      assert.equal(primary.reverse.name, 'primary_article_set')
      assert.equal(secondary.reverse.name, 'secondary_article_set')
      assert.deepEqual(headlines(await primary.reverse.of(sports).all()), ['Parrot runs'])
      assert.deepEqual(headlines(await primary.reverse.of(news).all()), ['Parrot steals', 'Parrot runs'])
      assert.deepEqual(headlines(await primary.reverse.of(crime).all()), ['Parrot steals'])
      assert.deepEqual(headlines(await primary.reverse.of(life).all()), [])
      assert.deepEqual(headlines(await secondary.reverse.of(sports).all()), [])
      assert.deepEqual(headlines(await secondary.reverse.of(news).all()), [])
      assert.deepEqual(headlines(await secondary.reverse.of(crime).all()), [])
      assert.deepEqual(headlines(await secondary.reverse.of(life).all()), ['Parrot steals', 'Parrot runs'])
    })

    it('changes one relation without touching the other', async () => {
      const ctx = context()
      const news = await ctx.insert(Category, { name: 'News' })
      const life = await ctx.insert(Category, { name: 'Life' })
      const a1 = await ctx.insert(DatedArticle, { headline: 'Parrot steals', pub_date: '2005-11-27T00:00:00' })
      const primary = ctx.bind(primaryCategories).of(a1)
      const secondary = ctx.bind(secondaryCategories).of(a1)
      await primary.add([news, life])
      await secondary.add([news, life])
      await primary.remove(news)
      assert.deepEqual(names(await primary.all()), ['Life'])
      assert.deepEqual(names(await secondary.all()), ['Life', 'News'])
      await secondary.clear()
      assert.deepEqual(names(await primary.all()), ['Life'])
      assert.equal(await secondary.count(), 0)
      await primary.set([news])
      assert.deepEqual(names(await primary.all()), ['News'])
      assert.equal(await secondary.count(), 0)
    })
  })
}
