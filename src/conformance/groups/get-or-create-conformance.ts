import assert from 'node:assert/strict'
import { itInspecting, useContext } from '../conformance-context.js'
import type { ConformanceOptions } from '../conformance-options.js'
import { expectError } from '../fixtures/assertions.js'
import { Holder, Simple, simples, simplesSchema } from '../fixtures/simples.js'

/**
 * `getOrCreate()` and `updateOrCreate()`, ported from Django's async related-manager tests:
 * they look among the linked targets only, create and link atomically, and update in place.
 */
export function getOrCreateConformance(options: ConformanceOptions): void {
  const { describe, it } = options.test
  describe(`${options.name}: getOrCreate() and updateOrCreate()`, () => {
    const context = useContext(options, simplesSchema)
    const setup = async () => {
      const ctx = context()
      const holder = await ctx.insert(Holder, { name: 'm2m' })
      return { ctx, manager: ctx.bind(simples).of(holder) }
    }

    it('creates and links when no linked target matches, then finds it', async () => {
      const { manager } = await setup()
      const [created, wasCreated] = await manager.getOrCreate({ field: 2 })
      assert.equal(wasCreated, true)
      assert.equal(created.field, 2)
      const [found, foundCreated] = await manager.getOrCreate({ id: created.id }, { defaults: { field: 3 } })
      assert.equal(foundCreated, false)
      assert.equal(found.field, 2)
      assert.deepEqual(await manager.ids(), [created.id])
    })

    itInspecting(options, 'does not find a matching row that is not linked, and creates another', async () => {
      const { ctx, manager } = await setup()
      const unlinked = await ctx.insert(Simple, { field: 7 })
      const [row, created] = await manager.getOrCreate({ field: 7 })
      assert.equal(created, true)
      assert.notEqual(row.id, unlinked.id)
      assert.equal(await manager.count(), 1)
      assert.equal((await ctx.rows(Simple.table)).filter((stored) => stored.field === 7).length, 2)
    })

    it('updates the one linked match with defaults, or creates with createDefaults', async () => {
      const { manager } = await setup()
      const [first, created] = await manager.updateOrCreate({ field: 2 })
      assert.equal(created, true)
      const [updated, updatedCreated] = await manager.updateOrCreate({ id: first.id }, { defaults: { field: 3 } })
      assert.equal(updatedCreated, false)
      assert.equal(updated.field, 3)
      assert.equal((await manager.get({ id: first.id })).field, 3)
      const [other, otherCreated] = await manager.updateOrCreate({ field: 4 }, { defaults: { field: 6 }, createDefaults: { field: 5 } })
      assert.equal(otherCreated, true)
      assert.equal(other.field, 5)
      assert.equal(await manager.count(), 2)
    })

    it('refuses several linked matches', async () => {
      const { manager } = await setup()
      await manager.create({ field: 1 })
      await manager.create({ field: 1 })
      await expectError(() => manager.getOrCreate({ field: 1 }), 'M2M_MULTIPLE_FOUND')
      await expectError(() => manager.updateOrCreate({ field: 1 }, { defaults: { field: 9 } }), 'M2M_MULTIPLE_FOUND')
      assert.deepEqual((await manager.all()).map((row) => row.field), [1, 1])
    })

    it('runs one read when found, one read and one update when updating, three statements when creating', async () => {
      const { ctx, manager } = await setup()
      const [row] = await manager.getOrCreate({ field: 2 })
      assert.equal(await ctx.statements(() => manager.getOrCreate({ id: row.id })), 1)
      assert.equal(await ctx.statements(() => manager.updateOrCreate({ id: row.id }, { defaults: { field: 8 } })), 2)
      const created = await ctx.statements(() => manager.getOrCreate({ field: 99 }))
      assert.ok(created === 3 || created === 4, `expected 3 statements (4 without RETURNING), got ${String(created)}`)
    })
  })
}
