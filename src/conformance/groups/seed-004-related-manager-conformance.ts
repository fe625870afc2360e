import assert from 'node:assert/strict'
import type { ConformanceOptions } from '../conformance-options.js'
import { itInspecting, useContext, type ConformanceContext } from '../conformance-context.js'
import { useEventLog } from '../fixtures/event-log.js'
import { pick, sortRows } from '../fixtures/link-rows.js'
import { Pizza, Topping, toppings, toppingsSchema, type PizzaRow, type ToppingRow } from '../fixtures/seed-toppings.js'

interface Kitchen {
  readonly margherita: PizzaRow
  readonly cheese: ToppingRow
  readonly ham: ToppingRow
  readonly olives: ToppingRow
}

async function kitchen(ctx: ConformanceContext): Promise<Kitchen> {
  const margherita = await ctx.insert(Pizza, { name: 'Margherita' })
  const [cheese, ham, olives] = await ctx.insertAll(Topping, [{ name: 'Cheese' }, { name: 'Ham' }, { name: 'Olives' }])
  return { margherita, cheese: cheese!, ham: ham!, olives: olives! }
}

/** The portion of each linked topping, by topping key, in key order. */
async function portions(ctx: ConformanceContext, pizza: PizzaRow): Promise<[number, string][]> {
  const rows = sortRows(await ctx.bind(toppings).of(pizza).throughRows(), 'topping_id')
  return rows.map((row) => [row.topping_id, row.portion])
}

/**
 * Seed 004: the RelatedManager methods (add, create, remove, clear, set) with throughDefaults,
 * and the events they send.
 */
export function seedRelatedManagerConformance(options: ConformanceOptions): void {
  const { describe, it } = options.test
  describe(`${options.name}: seed related manager (Pizza, Topping)`, () => {
    const context = useContext(options, toppingsSchema)
    const events = useEventLog(options)

    itInspecting(options, 'adds a topping once, and still sends events with no keys when it is already linked', async () => {
      const ctx = context()
      const { margherita, cheese } = await kitchen(ctx)
      const log = events()
      log.listen(toppings)
      const manager = ctx.bind(toppings).of(margherita)
      await manager.add(cheese)
      await manager.add(cheese)
      assert.equal((await ctx.rows(toppings.through.table)).length, 1)
      assert.deepEqual(log.actions(), ['pre_add', 'post_add', 'pre_add', 'post_add'])
      assert.deepEqual(log.keySets('pre_add', 'post_add'), [[cheese.id], [cheese.id], [], []])
    })

    it('adds by primary key, as a number or a string', async () => {
      const ctx = context()
      const { margherita, cheese, ham } = await kitchen(ctx)
      const manager = ctx.bind(toppings).of(margherita)
      await manager.add(cheese.id)
      await manager.add([String(ham.id), ham.id])
      assert.deepEqual(await manager.all(), [cheese, ham])
      assert.deepEqual(await manager.ids(), [cheese.id, ham.id])
    })

    it('applies throughDefaults to new links only, and column defaults otherwise', async () => {
      const ctx = context()
      const { margherita, cheese, ham } = await kitchen(ctx)
      const manager = ctx.bind(toppings).of(margherita)
      await manager.add(cheese)
      await manager.add([ham, cheese], { throughDefaults: { portion: 'extra', added_by: 'chef' } })
      assert.deepEqual(await portions(ctx, margherita), [
        [cheese.id, 'normal'],
        [ham.id, 'extra'],
      ])
      const [hamRow] = await manager.throughRows(ham)
      assert.equal(hamRow!.added_by, 'chef')
      const [cheeseRow] = await manager.throughRows(cheese)
      assert.equal(cheeseRow!.added_by ?? null, null)
    })

    it('creates a topping and links it, with through defaults and events', async () => {
      const ctx = context()
      const { margherita } = await kitchen(ctx)
      const log = events()
      log.listen(toppings)
      const manager = ctx.bind(toppings).of(margherita)
      const basil = await manager.create({ name: 'Basil' }, { throughDefaults: { portion: 'light' } })
      assert.deepEqual(await manager.all(), [basil])
      assert.deepEqual(await portions(ctx, margherita), [[basil.id, 'light']])
      assert.deepEqual(log.messages([basil]), [
        { instance: margherita, action: 'pre_add', reverse: false, model: Topping, objects: [basil] },
        { instance: margherita, action: 'post_add', reverse: false, model: Topping, objects: [basil] },
      ])
    })

    it('removes toppings given as rows or keys, sending the keys asked', async () => {
      const ctx = context()
      const { margherita, cheese, ham, olives } = await kitchen(ctx)
      const manager = ctx.bind(toppings).of(margherita)
      await manager.add([cheese, ham, olives])
      const log = events()
      log.listen(toppings)
      await manager.remove(cheese)
      await manager.remove([ham.id, String(olives.id)])
      assert.deepEqual(await manager.all(), [])
      assert.deepEqual(log.actions(), ['pre_remove', 'post_remove', 'pre_remove', 'post_remove'])
      assert.deepEqual(log.keySets('pre_remove'), [[cheese.id], [ham.id, olives.id].sort((a, b) => a - b)])
    })

    itInspecting(options, 'clears the links but keeps the toppings', async () => {
      const ctx = context()
      const { margherita, cheese, ham } = await kitchen(ctx)
      const manager = ctx.bind(toppings).of(margherita)
      await manager.add([cheese, ham])
      const log = events()
      log.listen(toppings)
      await manager.clear()
      assert.deepEqual(await manager.all(), [])
      assert.deepEqual(await ctx.rows(toppings.through.table), [])
      assert.deepEqual((await ctx.rows(Topping.table)).map((row) => row.name).sort(), ['Cheese', 'Ham', 'Olives'])
      assert.deepEqual(log.actions(), ['pre_clear', 'post_clear'])
      assert.deepEqual(log.keySets('pre_clear', 'post_clear'), [null, null])
    })

    it('sets by diff, keeping the through values of the toppings that stay', async () => {
      const ctx = context()
      const { margherita, cheese, ham, olives } = await kitchen(ctx)
      const manager = ctx.bind(toppings).of(margherita)
      await manager.add([cheese, ham])
      const log = events()
      log.listen(toppings)
      await manager.set([cheese, olives], { throughDefaults: { portion: 'extra' } })
      assert.deepEqual(await manager.all(), [cheese, olives])
      assert.deepEqual(await portions(ctx, margherita), [
        [cheese.id, 'normal'],
        [olives.id, 'extra'],
      ])
      assert.deepEqual(log.messages([cheese, ham, olives]), [
        { instance: margherita, action: 'pre_remove', reverse: false, model: Topping, objects: [ham] },
        { instance: margherita, action: 'post_remove', reverse: false, model: Topping, objects: [ham] },
        { instance: margherita, action: 'pre_add', reverse: false, model: Topping, objects: [olives] },
        { instance: margherita, action: 'post_add', reverse: false, model: Topping, objects: [olives] },
      ])
    })

    it('sets with clear, writing every link again with the new through defaults', async () => {
      const ctx = context()
      const { margherita, cheese, ham } = await kitchen(ctx)
      const manager = ctx.bind(toppings).of(margherita)
      await manager.add([cheese, ham])
      const log = events()
      log.listen(toppings)
      await manager.set([cheese], { clear: true, throughDefaults: { portion: 'extra' } })
      assert.deepEqual(await portions(ctx, margherita), [[cheese.id, 'extra']])
      assert.deepEqual(log.actions(), ['pre_clear', 'post_clear', 'pre_add', 'post_add'])
      assert.deepEqual(log.keySets('pre_add'), [[cheese.id]])
    })

    it('works the same from the topping side', async () => {
      const ctx = context()
      const { margherita, cheese } = await kitchen(ctx)
      const hawaii = await ctx.insert(Pizza, { name: 'Hawaii' })
      const pizzas = ctx.bind(toppings).reverse
      assert.equal(pizzas.name, 'pizza_set')
      const log = events()
      log.listen(toppings)
      await pizzas.of(cheese).add([margherita, hawaii], { throughDefaults: { portion: 'double' } })
      assert.deepEqual(await pizzas.of(cheese).all(), [hawaii, margherita])
      assert.deepEqual(await portions(ctx, hawaii), [[cheese.id, 'double']])
      await pizzas.of(cheese).remove(hawaii)
      await pizzas.of(cheese).clear()
      assert.deepEqual(await ctx.bind(toppings).of(margherita).all(), [])
      assert.deepEqual(
        log.events.map((event) => [event.action, event.reverse, event.model]),
        [
          ['pre_add', true, Pizza],
          ['post_add', true, Pizza],
          ['pre_remove', true, Pizza],
          ['post_remove', true, Pizza],
          ['pre_clear', true, Pizza],
          ['post_clear', true, Pizza],
        ],
      )
    })

    itInspecting(options, 'writes nothing when a listener throws', async () => {
      const ctx = context()
      const { margherita, cheese, ham } = await kitchen(ctx)
      const manager = ctx.bind(toppings).of(margherita)
      const refusal = new Error('no cheese on this pizza')
      const off = toppings.on('pre_add', () => {
        throw refusal
      })
      try {
        await assert.rejects(manager.add(cheese), (error: unknown) => error === refusal)
      } finally {
        off()
      }
      assert.deepEqual(await ctx.rows(toppings.through.table), [])
      if (ctx.adapter.capabilities.transactions) {
        const offAfter = toppings.on('post_add', () => {
          throw refusal
        })
        try {
          await assert.rejects(manager.add([cheese, ham]), (error: unknown) => error === refusal)
          await assert.rejects(manager.create({ name: 'Pineapple' }), (error: unknown) => error === refusal)
        } finally {
          offAfter()
        }
        assert.deepEqual(await ctx.rows(toppings.through.table), [])
        assert.deepEqual((await ctx.rows(Topping.table)).map((row) => row.name).sort(), ['Cheese', 'Ham', 'Olives'])
      }
    })

    it('rejects unknown through columns before any event', async () => {
      const ctx = context()
      const { margherita, cheese } = await kitchen(ctx)
      const log = events()
      log.listen(toppings)
      const manager = ctx.bind(toppings).of(margherita)
      await assert.rejects(manager.add(cheese, { throughDefaults: { size: 'large' } as never }), { code: 'M2M_UNKNOWN_COLUMN' })
      await assert.rejects(manager.add(cheese, { throughDefaults: { topping_id: cheese.id } }), { code: 'M2M_UNKNOWN_COLUMN' })
      await assert.rejects(manager.create({ name: 'Basil' }, { throughDefaults: { size: 'large' } as never }), { code: 'M2M_UNKNOWN_COLUMN' })
      assert.deepEqual(log.actions(), [])
      assert.deepEqual(await manager.all(), [])
      assert.deepEqual(pick(await manager.throughRows(), 'topping_id'), [])
    })
  })
}
