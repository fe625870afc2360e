import type { RelationFixture } from './fixtures.js'
import type { PeerSubject } from './peer-subject.js'
import { togglePairs } from './random.js'
import type { Storage } from './storage.js'

/** One variant's favourites relation, as a peer scenario sees it. */
export interface PeerContext {
  readonly fixture: RelationFixture
  readonly subject: PeerSubject
  readonly storage: Storage
  /** Where the like views and toggles go on from (each variant walks the same sequence). */
  cursor: number
}

/** A timed workload of the peer comparison, the same for every variant. */
export interface PeerScenario {
  readonly id: string
  readonly title: string
  readonly callsPerSample: number
  /** Once per variant, untimed: seeds, makes the call (or a pass), checks what it left. Throws on a mismatch. */
  prepare(context: PeerContext): Promise<void>
  readonly beforeEach?: (context: PeerContext) => Promise<void>
  run(context: PeerContext): Promise<void>
}

const VIEWS = 2000
const SEED = 20_240_601
const PER_SAMPLE = 50
/** The seed's list page: 20 interviews, seen by one user. */
export const PAGE_SIZE = 20
const PAGE_USER = 12

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

function pairsOf(fixture: RelationFixture): [number, number][] {
  let pairs = pairsByFixture.get(fixture)
  if (pairs === undefined) {
    pairs = togglePairs(SEED, fixture.layout.toggleSources, fixture.layout.toggleTargets, VIEWS)
    pairsByFixture.set(fixture, pairs)
  }
  return pairs
}

const first = (context: PeerContext, count: number): readonly number[] => context.fixture.layout.targets.slice(0, count)

type Flip = (subject: PeerSubject, source: number, target: number) => Promise<boolean>

/** A like view or a toggle, along the seeded sequence: one checked pass in prepare, samples of 50 timed. */
function flipping(id: string, title: string, flip: Flip): PeerScenario {
  return {
    id,
    title,
    callsPerSample: PER_SAMPLE,
    async prepare(context) {
      const { fixture } = context
      const expected = new Map<number, Set<number>>(fixture.layout.toggleSources.map((source) => [source, new Set()]))
      for (const source of fixture.layout.toggleSources) await context.storage.reset(fixture, source, [])
      for (const [source, target] of pairsOf(fixture)) {
        const links = expected.get(source)!
        const now = await flip(context.subject, source, target)
        if (links.has(target)) links.delete(target)
        else links.add(target)
        if (now !== links.has(target)) throw new Error(`${id}(${String(source)}, ${String(target)}) answered ${String(now)}.`)
      }
      for (const [source, links] of expected) expectLinks(await context.storage.linked(fixture, source), [...links], `${id} of ${String(source)}`)
      context.cursor = 0
    },
    async run(context) {
      const pairs = pairsOf(context.fixture)
      for (let call = 0; call < PER_SAMPLE; call++) {
        const [source, target] = pairs[context.cursor]!
        context.cursor = (context.cursor + 1) % pairs.length
        await flip(context.subject, source, target)
      }
    },
  }
}

/** Links every prefetch source to its 50 targets (the N+1, prefetch and list page scenarios read them). */
async function seedPrefetchSources(context: PeerContext): Promise<void> {
  const { fixture } = context
  for (const source of fixture.layout.prefetchSources) await context.storage.reset(fixture, source, fixture.layout.prefetchTargets(source))
}

/** Every peer scenario, in table order. */
export const PEER_SCENARIOS: readonly PeerScenario[] = [
  {
    id: 'add-new',
    title: 'add 1000 (none linked)',
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
    title: 're-add 1000 (all linked)',
    callsPerSample: 1,
    async prepare(context) {
      const { layout } = context.fixture
      await context.storage.reset(context.fixture, layout.addExisting, first(context, 1000))
      await context.subject.add(layout.addExisting, first(context, 1000))
      expectLinks(await context.storage.linked(context.fixture, layout.addExisting), first(context, 1000), 're-add')
    },
    run: (context) => context.subject.add(context.fixture.layout.addExisting, first(context, 1000)),
  },
  flipping('like-view', `${String(VIEWS)} like-button views: exists, then add or remove (per view)`, (subject, source, target) => subject.likeView(source, target)),
  flipping('toggle', `${String(VIEWS)} native toggles (per toggle)`, (subject, source, target) => subject.toggle(source, target)),
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
    id: 'list',
    title: 'list 1000 related rows',
    callsPerSample: 1,
    async prepare(context) {
      await context.storage.reset(context.fixture, context.fixture.layout.list, first(context, 1000))
      expectEqual(await context.subject.list(context.fixture.layout.list), 1000, 'list')
    },
    run: async (context) => {
      await context.subject.list(context.fixture.layout.list)
    },
  },
  {
    id: 'count',
    title: 'count 1000 links',
    callsPerSample: 1,
    async prepare(context) {
      await context.storage.reset(context.fixture, context.fixture.layout.list, first(context, 1000))
      expectEqual(await context.subject.count(context.fixture.layout.list), 1000, 'count')
    },
    run: async (context) => {
      await context.subject.count(context.fixture.layout.list)
    },
  },
  {
    id: 'prefetch',
    title: 'prefetch 200 sources × 50',
    callsPerSample: 1,
    async prepare(context) {
      await seedPrefetchSources(context)
      expectEqual(await context.subject.prefetch(context.fixture.layout.prefetchSources), 200 * 50, 'prefetch')
    },
    run: async (context) => {
      await context.subject.prefetch(context.fixture.layout.prefetchSources)
    },
  },
  {
    id: 'n-plus-one',
    title: 'N+1: the same 200 sources one list each',
    callsPerSample: 1,
    async prepare(context) {
      await seedPrefetchSources(context)
      expectEqual(await context.subject.nPlusOne(context.fixture.layout.prefetchSources), 200 * 50, 'N+1')
    },
    run: async (context) => {
      await context.subject.nPlusOne(context.fixture.layout.prefetchSources)
    },
  },
  {
    id: 'list-page',
    title: `seed 000 list page: ${String(PAGE_SIZE)} interviews, fan counts, the user's likes`,
    callsPerSample: 1,
    async prepare(context) {
      await seedPrefetchSources(context)
      const cards = await context.subject.listPage(PAGE_USER, 0, PAGE_SIZE)
      const liked = new Set(await context.storage.linked(context.fixture, PAGE_USER))
      expectEqual(cards.length, PAGE_SIZE, 'list page cards')
      for (const card of cards) {
        // Five prefetch sources like each of the first 50 items, beside the like views' users.
        if (card.fans < 5 || card.liked !== liked.has(card.id)) throw new Error(`list page: card ${String(card.id)} has ${String(card.fans)} fans, liked ${String(card.liked)}.`)
      }
    },
    run: async (context) => {
      await context.subject.listPage(PAGE_USER, 0, PAGE_SIZE)
    },
  },
]
