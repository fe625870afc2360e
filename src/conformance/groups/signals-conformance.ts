import assert from 'node:assert/strict'
import type { M2MAction } from '../../events/relation-events.js'
import type { AnyModel } from '../../model/define-model.js'
import type { ConformanceOptions } from '../conformance-options.js'
import { itInspecting, useContext, type ConformanceContext } from '../conformance-context.js'
import { useEventLog, type EventLog, type EventMessage } from '../fixtures/event-log.js'
import {
  Car,
  defaultParts,
  fans,
  optionalParts,
  Part,
  SignalPerson,
  signalFriends,
  signalsSchema,
  type CarRow,
  type PartRow,
  type SignalPersonRow,
} from '../fixtures/signals.js'

interface Garage {
  readonly vw: CarRow
  readonly bmw: CarRow
  readonly toyota: CarRow
  readonly wheelset: PartRow
  readonly doors: PartRow
  readonly engine: PartRow
  readonly airbag: PartRow
  readonly sunroof: PartRow
  readonly alice: SignalPersonRow
  readonly bob: SignalPersonRow
  readonly chuck: SignalPersonRow
  readonly daisy: SignalPersonRow
  /** Every row above, for {@link EventLog.messages}. */
  readonly known: object[]
}

/** The fixture of ManyToManySignalsTest. */
async function garage(ctx: ConformanceContext): Promise<Garage> {
  const [vw, bmw, toyota] = await ctx.insertAll(Car, [{ name: 'VW' }, { name: 'BMW' }, { name: 'Toyota' }])
  const [wheelset, doors, engine, airbag, sunroof] = await ctx.insertAll(Part, [
    { name: 'Wheelset' },
    { name: 'Doors' },
    { name: 'Engine' },
    { name: 'Airbag' },
    { name: 'Sunroof' },
  ])
  const [alice, bob, chuck, daisy] = await ctx.insertAll(SignalPerson, [{ name: 'Alice' }, { name: 'Bob' }, { name: 'Chuck' }, { name: 'Daisy' }])
  const rows = { vw: vw!, bmw: bmw!, toyota: toyota!, wheelset: wheelset!, doors: doors!, engine: engine!, airbag: airbag!, sunroof: sunroof! }
  const people = { alice: alice!, bob: bob!, chuck: chuck!, daisy: daisy! }
  return { ...rows, ...people, known: [...Object.values(rows), ...Object.values(people)] }
}

/** One message as Django's receiver records it; `objects` only when the key set is not empty. */
function message(instance: object, action: M2MAction, reverse: boolean, model: AnyModel, objects?: readonly object[]): EventMessage {
  return objects === undefined ? { instance, action, reverse, model } : { instance, action, reverse, model, objects }
}

/** The pre and post messages of one call. */
function pair(instance: object, verb: 'add' | 'remove' | 'clear', reverse: boolean, model: AnyModel, objects?: readonly object[]): EventMessage[] {
  return [
    message(instance, `pre_${verb}`, reverse, model, objects),
    message(instance, `post_${verb}`, reverse, model, objects),
  ]
}

/**
 * Django's m2m_signals: which events each call sends, on which side, with which keys, for
 * plain, reverse, one-way self and symmetrical relations; and throughline's deliberate
 * differences (de-duplicating set, remove validating before any event).
 */
export function m2mSignalsConformance(options: ConformanceOptions): void {
  const { describe, it } = options.test
  describe(`${options.name}: m2m_signals`, () => {
    const context = useContext(options, signalsSchema)
    const events = useEventLog(options)

    /**
     * Django's `_initialize_signal_car`: listens to optional_parts, optionally links the
     * sunroof to the VW before listening to default_parts, then listens to default_parts.
     */
    async function listenToCars(ctx: ConformanceContext, g: Garage, addSunroofFirst = false): Promise<EventLog> {
      const log = events()
      log.listen(optionalParts)
      if (addSunroofFirst) await ctx.bind(defaultParts).of(g.vw).add(g.sunroof)
      log.listen(defaultParts)
      return log
    }

    it('sends only the keys actually added, and every key asked to be removed', async () => {
      const ctx = context()
      const g = await garage(ctx)
      const log = events()
      log.listen(defaultParts)
      const parts = ctx.bind(defaultParts).of(g.vw)
      await parts.add(g.wheelset)
      await parts.add(g.wheelset)
      await parts.remove(g.wheelset)
      await parts.remove(g.wheelset)
      assert.deepEqual(log.keySets('pre_add', 'pre_remove'), [[g.wheelset.id], [], [g.wheelset.id], [g.wheelset.id]])
      assert.deepEqual(log.actions(), ['pre_add', 'post_add', 'pre_add', 'post_add', 'pre_remove', 'post_remove', 'pre_remove', 'post_remove'])
    })

    it('sends add events on both sides with the reverse flag', async () => {
      const ctx = context()
      const g = await garage(ctx)
      const log = await listenToCars(ctx, g, true)
      await ctx.bind(defaultParts).of(g.vw).add([g.wheelset, g.doors, g.engine])
      const expected = pair(g.vw, 'add', false, Part, [g.doors, g.engine, g.wheelset])
      assert.deepEqual(log.messages(g.known), expected)
      await ctx.bind(defaultParts).reverse.of(g.doors).add([g.bmw, g.toyota])
      expected.push(...pair(g.doors, 'add', true, Car, [g.bmw, g.toyota]))
      assert.deepEqual(log.messages(g.known), expected)
    })

    it('sends remove events for targets that are not linked', async () => {
      const ctx = context()
      const g = await garage(ctx)
      const log = await listenToCars(ctx, g)
      await ctx.bind(defaultParts).of(g.vw).remove([g.engine, g.airbag])
      assert.deepEqual(log.messages(g.known), pair(g.vw, 'remove', false, Part, [g.airbag, g.engine]))
    })

    it('sends the events of a second relation to the same model, without the targets already linked', async () => {
      const ctx = context()
      const g = await garage(ctx)
      const log = await listenToCars(ctx, g)
      await ctx.bind(optionalParts).of(g.vw).add([g.airbag, g.sunroof])
      const expected = pair(g.vw, 'add', false, Part, [g.airbag, g.sunroof])
      assert.deepEqual(log.messages(g.known), expected)
      // The VW already has the airbag: only BMW and Toyota are added.
      await ctx.bind(optionalParts).reverse.of(g.airbag).add([g.vw, g.bmw, g.toyota])
      expected.push(...pair(g.airbag, 'add', true, Car, [g.bmw, g.toyota]))
      assert.deepEqual(log.messages(g.known), expected)
    })

    it('sends remove events on a reverse side with a custom name', async () => {
      const ctx = context()
      const g = await garage(ctx)
      const log = await listenToCars(ctx, g)
      assert.equal(optionalParts.reverse.name, 'cars_optional')
      await ctx.bind(optionalParts).reverse.of(g.airbag).remove(g.vw)
      assert.deepEqual(log.messages(g.known), pair(g.airbag, 'remove', true, Car, [g.vw]))
    })

    it('sends clear events with a null key set', async () => {
      const ctx = context()
      const g = await garage(ctx)
      const log = await listenToCars(ctx, g)
      await ctx.bind(defaultParts).of(g.vw).clear()
      assert.deepEqual(log.messages(g.known), pair(g.vw, 'clear', false, Part))
      assert.deepEqual(log.keySets('pre_clear', 'post_clear'), [null, null])
    })

    it('sends clear events on the reverse side', async () => {
      const ctx = context()
      const g = await garage(ctx)
      const log = await listenToCars(ctx, g)
      await ctx.bind(defaultParts).reverse.of(g.doors).clear()
      assert.deepEqual(log.messages(g.known), pair(g.doors, 'clear', true, Car))
    })

    it('sends clear events on a reverse side with a custom name', async () => {
      const ctx = context()
      const g = await garage(ctx)
      const log = await listenToCars(ctx, g)
      await ctx.bind(optionalParts).reverse.of(g.airbag).clear()
      assert.deepEqual(log.messages(g.known), pair(g.airbag, 'clear', true, Car))
    })

    it('sends add events for create, then remove and add events for set', async () => {
      const ctx = context()
      const g = await garage(ctx)
      const log = await listenToCars(ctx, g)
      const parts = ctx.bind(defaultParts).of(g.vw)
      const windows = await parts.create({ name: 'Windows' })
      const known = [...g.known, windows]
      const expected = pair(g.vw, 'add', false, Part, [windows])
      assert.deepEqual(log.messages(known), expected)
      await parts.set([g.wheelset, g.doors, g.engine])
      expected.push(...pair(g.vw, 'remove', false, Part, [windows]), ...pair(g.vw, 'add', false, Part, [g.doors, g.engine, g.wheelset]))
      assert.deepEqual(log.messages(known), expected)
    })

    it('sends clear then add events for set with clear, and only remove events for a smaller set', async () => {
      const ctx = context()
      const g = await garage(ctx)
      const log = await listenToCars(ctx, g, true)
      const parts = ctx.bind(defaultParts).of(g.vw)
      await parts.set([g.wheelset, g.doors, g.engine], { clear: true })
      const expected = [...pair(g.vw, 'clear', false, Part), ...pair(g.vw, 'add', false, Part, [g.doors, g.engine, g.wheelset])]
      assert.deepEqual(log.messages(g.known), expected)
      await parts.set([g.wheelset, g.doors], { clear: false })
      expected.push(...pair(g.vw, 'remove', false, Part, [g.engine]))
      assert.deepEqual(log.messages(g.known), expected)
    })

    // Not ported: test_m2m_relations_signals_when_inheritance (a SportsCar inheriting Car's
    // relations through multi-table inheritance), which throughline has no notion of.

    it('sends one event pair for a symmetrical set', async () => {
      const ctx = context()
      const g = await garage(ctx)
      const log = events()
      log.listen(fans, signalFriends)
      await ctx.bind(signalFriends).of(g.alice).set([g.bob, g.chuck])
      assert.deepEqual(log.messages(g.known), pair(g.alice, 'add', false, SignalPerson, [g.bob, g.chuck]))
    })

    it('sends add events for a one-way self relation', async () => {
      const ctx = context()
      const g = await garage(ctx)
      const log = events()
      log.listen(fans, signalFriends)
      await ctx.bind(fans).of(g.alice).set([g.daisy])
      assert.deepEqual(log.messages(g.known), pair(g.alice, 'add', false, SignalPerson, [g.daisy]))
    })

    it('sends reverse add events through the reverse name of a one-way self relation', async () => {
      const ctx = context()
      const g = await garage(ctx)
      const log = events()
      log.listen(fans, signalFriends)
      assert.equal(fans.reverse.name, 'idols')
      await ctx.bind(fans).reverse.of(g.chuck).set([g.alice, g.bob])
      assert.deepEqual(log.messages(g.known), pair(g.chuck, 'add', true, SignalPerson, [g.alice, g.bob]))
    })

    it('sends one event pair for a symmetrical remove and for a symmetrical clear', async () => {
      const ctx = context()
      const g = await garage(ctx)
      const friends = ctx.bind(signalFriends)
      await friends.of(g.alice).add([g.bob, g.chuck])
      const log = events()
      log.listen(signalFriends)
      await friends.of(g.alice).remove(g.bob)
      await friends.of(g.chuck).clear()
      assert.deepEqual(log.messages(g.known), [...pair(g.alice, 'remove', false, SignalPerson, [g.bob]), ...pair(g.chuck, 'clear', false, SignalPerson)])
      assert.deepEqual(await friends.of(g.alice).all(), [])
    })

    it('sends no add events when set() gets a linked target twice and nothing new', async () => {
      const ctx = context()
      const g = await garage(ctx)
      const parts = ctx.bind(defaultParts).of(g.vw)
      await parts.add([g.doors, g.engine])
      const log = events()
      log.listen(defaultParts)
      await parts.set([g.doors, g.doors, String(g.engine.id)])
      assert.deepEqual(log.actions(), [])
      await parts.set([g.doors, g.doors, g.airbag])
      assert.deepEqual(log.messages(g.known), [...pair(g.vw, 'remove', false, Part, [g.engine]), ...pair(g.vw, 'add', false, Part, [g.airbag])])
    })

    it('sends the keys asked to be removed once each, coerced to the key type', async () => {
      const ctx = context()
      const g = await garage(ctx)
      const parts = ctx.bind(defaultParts).of(g.vw)
      await parts.add(g.engine)
      const log = events()
      log.listen(defaultParts)
      await parts.remove([g.engine, String(g.engine.id), g.engine.id, g.airbag.id])
      assert.deepEqual(log.keySets('pre_remove', 'post_remove'), [
        [g.engine.id, g.airbag.id].sort((a, b) => a - b),
        [g.engine.id, g.airbag.id].sort((a, b) => a - b),
      ])
    })

    it('throws before any event when remove() gets an unsaved, wrong-model or invalid target', async () => {
      const ctx = context()
      const g = await garage(ctx)
      const parts = ctx.bind(defaultParts).of(g.vw)
      await parts.add(g.engine)
      const log = events()
      log.listen(defaultParts)
      await assert.rejects(parts.remove({ name: 'Spoiler' } as unknown as PartRow), { code: 'M2M_UNSAVED_TARGET' })
      await assert.rejects(parts.remove([g.engine, g.bmw]), { code: 'M2M_WRONG_MODEL' })
      await assert.rejects(parts.remove([g.engine, 'engine']), { code: 'M2M_INVALID_KEY' })
      assert.deepEqual(log.actions(), [])
      assert.deepEqual(await parts.all(), [g.engine])
    })

    itInspecting(options, 'throws before any event or write when add() gets a key without a row', async () => {
      const ctx = context()
      const g = await garage(ctx)
      const log = events()
      log.listen(defaultParts)
      const missing = g.sunroof.id + 10_000_000
      await assert.rejects(ctx.bind(defaultParts).of(g.vw).add([g.doors, missing]), { code: 'M2M_TARGET_NOT_FOUND' })
      assert.deepEqual(log.actions(), [])
      assert.deepEqual(await ctx.rows(defaultParts.through.table), [])
    })

    it('sends only clear events for set with clear and an empty list', async () => {
      const ctx = context()
      const g = await garage(ctx)
      const parts = ctx.bind(defaultParts).of(g.vw)
      await parts.add(g.doors)
      const log = events()
      log.listen(defaultParts)
      await parts.set([], { clear: true })
      assert.deepEqual(log.messages(g.known), pair(g.vw, 'clear', false, Part))
      assert.deepEqual(await parts.all(), [])
    })

    it('passes the instance given to of(), row or key', async () => {
      const ctx = context()
      const g = await garage(ctx)
      const log = events()
      log.listen(defaultParts)
      await ctx.bind(defaultParts).of(g.vw.id).add(g.doors)
      await ctx.bind(defaultParts).reverse.of(g.doors).remove(g.vw)
      assert.deepEqual(
        log.events.map((event) => [event.action, event.instance, event.reverse, event.relation]),
        [
          ['pre_add', g.vw.id, false, 'default_parts'],
          ['post_add', g.vw.id, false, 'default_parts'],
          ['pre_remove', g.doors, true, 'default_parts'],
          ['post_remove', g.doors, true, 'default_parts'],
        ],
      )
      assert.equal(log.events[2]!.instance, g.doors)
    })

    it('stops calling a listener once it unsubscribes', async () => {
      const ctx = context()
      const g = await garage(ctx)
      const seen: string[] = []
      const off = defaultParts.on('post_add', ({ pkSet }) => {
        seen.push([...pkSet].join(','))
      })
      try {
        await ctx.bind(defaultParts).of(g.vw).add(g.doors)
        off()
        await ctx.bind(defaultParts).of(g.vw).add(g.engine)
      } finally {
        off()
      }
      assert.deepEqual(seen, [String(g.doors.id)])
    })
  })
}
