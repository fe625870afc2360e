import assert from 'node:assert/strict'
import type { ConformanceOptions } from '../conformance-options.js'
import { itInspecting, useContext } from '../conformance-context.js'
import { Article, articlesSchema, Publication, publications } from '../fixtures/articles.js'

/**
 * `add()`: idempotent, de-duplicating, existence-checked, one read and one insert.
 */
export function addConformance(options: ConformanceOptions): void {
  const { describe, it } = options.test
  describe(`${options.name}: add()`, () => {
    const context = useContext(options, articlesSchema)

    it('links the given targets', async () => {
      const ctx = context()
      const [p1, p2] = await ctx.insertAll(Publication, [{ title: 'The Python Journal' }, { title: 'Science News' }])
      const a1 = await ctx.insert(Article, { headline: 'NASA uses Python' })
      await ctx.bind(publications).of(a1).add([p1!, p2!])
      const titles = (await ctx.bind(publications).of(a1).all()).map((row) => row.title)
      assert.deepEqual(titles, ['Science News', 'The Python Journal'])
    })

    itInspecting(options, 'ignores targets that are already linked', async () => {
      const ctx = context()
      const p1 = await ctx.insert(Publication, { title: 'The Python Journal' })
      const a1 = await ctx.insert(Article, { headline: 'NASA uses Python' })
      const manager = ctx.bind(publications).of(a1)
      await manager.add(p1)
      await manager.add([p1, p1.id, String(p1.id)])
      const rows = await ctx.rows(publications.through.table)
      assert.equal(rows.length, 1)
    })

    it('runs at most one read and one insert, however many targets (one insert where the foreign keys refuse a missing row)', async () => {
      const ctx = context()
      const pubs = await ctx.insertAll(
        Publication,
        Array.from({ length: 50 }, (_, index) => ({ title: `P${String(index)}` })),
      )
      const a1 = await ctx.insert(Article, { headline: 'NASA uses Python' })
      const manager = ctx.bind(publications).of(a1)
      assert.equal(await ctx.statements(() => manager.add(pubs)), await ctx.addStatements(publications))
      assert.equal(await ctx.statements(() => manager.add(pubs)), 1)
    })
  })
}
