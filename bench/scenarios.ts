import type { RelationFixture } from './fixtures.js'
import { togglePairs } from './random.js'
import type { Storage } from './storage.js'
import type { Subject } from './subject.js'

/** One variant's relation, as a scenario sees it. */
export interface ScenarioContext {
  readonly fixture: RelationFixture
  readonly subject: Subject
  readonly storage: Storage
  /** Where the favourite toggles go on from (each variant walks the same sequence). */
  toggleCursor: number
}

/** A timed workload, the same for every variant. */
export interface Scenario {
  readonly id: string
  /** The row title in the table. */
  readonly title: string
  /** Calls per timed sample; times are reported per call. */
  readonly callsPerSample: number
  /** Skipped, with a note, when the subject cannot run it (throughline without `prefetch`). */
  readonly available?: (subject: Subject) => boolean
  /**
   * Once per variant, untimed: seeds what the scenario needs, makes one call (or a pass) and
   * checks the links it left against what every variant must leave. Throws on a mismatch.
   */
  prepare(context: ScenarioContext): Promise<void>
  /** Untimed, before each timed sample. */
  readonly beforeEach?: (context: ScenarioContext) => Promise<void>
  /** One timed sample. */
  run(context: ScenarioContext): Promise<void>
}

/** Favourite toggles: seeded random pairs of the 10 users × 50 items. */
export const TOGGLE_COUNT = 2000
const TOGGLE_SEED = 20_240_601
const TOGGLES_PER_SAMPLE = 50

function expectLinks(actual: readonly number[], expected: readonly number[], what: string): void {
  const sorted = [...expected].sort((a, b) => a - b)
  if (actual.length !== sorted.length || actual.some((key, index) => key !== sorted[index])) {
    throw new Error(`${what}: expected ${String(sorted.length)} links, found ${String(actual.length)} (or different ones).`)
  }
}

function expectEqual(actual: number, expected: number, what: string): void {
  if (actual !== expected) throw new Error(`${what}: expected ${String(expected)}, got ${String(actual)}.`)
}

const pairsByFixture = new WeakMap<RelationFixture, [number, number][]>()

/** The toggle sequence of a fixture, drawn once (not inside the timed samples). */
function pairsOf(fixture: RelationFixture): [number, number][] {
  let pairs = pairsByFixture.get(fixture)
  if (pairs === undefined) {
    pairs = togglePairs(TOGGLE_SEED, fixture.layout.toggleSources, fixture.layout.toggleTargets, TOGGLE_COUNT)
    pairsByFixture.set(fixture, pairs)
  }
  return pairs
}

const first = (context: ScenarioContext, count: number): readonly number[] => context.fixture.layout.targets.slice(0, count)

/** Every scenario, in table order. */
export const SCENARIOS: readonly Scenario[] = [
  {
    id: 'add-new',
    title: 'add 1000 targets (none linked)',
    callsPerSample: 1,
    async prepare(context) {
      const { layout } = context.fixture
      await context.storage.reset(context.fixture, layout.addNew, [])
      await context.subject.add(layout.addNew, first(context, 1000))
      expectLinks(await context.storage.linked(context.fixture, layout.addNew), first(context, 1000), 'add')
    },
    beforeEach: (context) => context.storage.reset(context.fixture, context.fixture.layout.addNew, []),
    run: (context) => context.subject.add(context.fixture.layout.addNew, first(context, 1000)),
  },
  {
    id: 'add-existing',
    title: 'the same add again (all linked)',
    callsPerSample: 1,
    async prepare(context) {
      const { layout } = context.fixture
      await context.storage.reset(context.fixture, layout.addExisting, first(context, 1000))
      await context.subject.add(layout.addExisting, first(context, 1000))
      expectLinks(await context.storage.linked(context.fixture, layout.addExisting), first(context, 1000), 'add again')
    },
    run: (context) => context.subject.add(context.fixture.layout.addExisting, first(context, 1000)),
  },
  {
    id: 'toggle',
    title: `${String(TOGGLE_COUNT)} favourite toggles (per toggle)`,
    callsPerSample: TOGGLES_PER_SAMPLE,
    async prepare(context) {
      // One whole pass of the sequence from no links, checked against the same pass on a Set.
      const { fixture } = context
      const expected = new Map<number, Set<number>>(fixture.layout.toggleSources.map((source) => [source, new Set()]))
      for (const source of fixture.layout.toggleSources) await context.storage.reset(fixture, source, [])
      for (const [source, target] of pairsOf(fixture)) {
        const links = expected.get(source)!
        const now = await context.subject.toggle(source, target)
        if (links.has(target)) links.delete(target)
        else links.add(target)
        if (now !== links.has(target)) throw new Error(`toggle(${String(source)}, ${String(target)}) answered ${String(now)}.`)
      }
      for (const [source, links] of expected) expectLinks(await context.storage.linked(fixture, source), [...links], `toggles of ${String(source)}`)
      context.toggleCursor = 0
    },
    async run(context) {
      const pairs = pairsOf(context.fixture)
      for (let call = 0; call < TOGGLES_PER_SAMPLE; call++) {
        const [source, target] = pairs[context.toggleCursor]!
        context.toggleCursor = (context.toggleCursor + 1) % pairs.length
        await context.subject.toggle(source, target)
      }
    },
  },
  {
    id: 'set',
    title: 'set 1000 onto 1000 (half overlap)',
    callsPerSample: 1,
    async prepare(context) {
      const { fixture } = context
      await context.storage.reset(fixture, fixture.layout.set, first(context, 1000))
      await context.subject.set(fixture.layout.set, fixture.layout.targets.slice(500, 1500))
      expectLinks(await context.storage.linked(fixture, fixture.layout.set), fixture.layout.targets.slice(500, 1500), 'set')
    },
    beforeEach: (context) => context.storage.reset(context.fixture, context.fixture.layout.set, first(context, 1000)),
    run: (context) => context.subject.set(context.fixture.layout.set, context.fixture.layout.targets.slice(500, 1500)),
  },
  {
    id: 'remove',
    title: 'remove 500 of 1000',
    callsPerSample: 1,
    async prepare(context) {
      const { fixture } = context
      await context.storage.reset(fixture, fixture.layout.remove, first(context, 1000))
      await context.subject.remove(fixture.layout.remove, first(context, 500))
      expectLinks(await context.storage.linked(fixture, fixture.layout.remove), fixture.layout.targets.slice(500, 1000), 'remove')
    },
    beforeEach: (context) => context.storage.reset(context.fixture, context.fixture.layout.remove, first(context, 1000)),
    run: (context) => context.subject.remove(context.fixture.layout.remove, first(context, 500)),
  },
  {
    id: 'list',
    title: 'list and count 1000 related rows',
    callsPerSample: 1,
    async prepare(context) {
      const { fixture } = context
      await context.storage.reset(fixture, fixture.layout.list, first(context, 1000))
      expectEqual(await context.subject.list(fixture.layout.list), 1000, 'list')
      expectEqual(await context.subject.count(fixture.layout.list), 1000, 'count')
    },
    async run(context) {
      await context.subject.list(context.fixture.layout.list)
      await context.subject.count(context.fixture.layout.list)
    },
  },
  {
    id: 'prefetch',
    title: 'prefetch 200 sources × 50 targets',
    callsPerSample: 1,
    available: (subject) => subject.prefetch !== undefined,
    async prepare(context) {
      const { fixture } = context
      for (const source of fixture.layout.prefetchSources) await context.storage.reset(fixture, source, fixture.layout.prefetchTargets(source))
      expectEqual(await context.subject.prefetch!(fixture.layout.prefetchSources), 200 * 50, 'prefetch')
    },
    async run(context) {
      await context.subject.prefetch!(context.fixture.layout.prefetchSources)
    },
  },
]
