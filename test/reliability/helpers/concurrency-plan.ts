import type { Place } from './databases.js'
import type { SqliteFileAdapter, SqliteFilePlace } from './sqlite-file.js'

// What the processes of the concurrency test run, and what they report: shared by the test
// (which starts them and checks their reports) and the worker script (which runs the calls).

/** The table prefix of the concurrency test. */
export const CONCURRENCY_PREFIX = 'tl_rel_conc_'

/** The phases every worker runs, all workers together, one phase after another. */
export const PHASES = ['mixed', 'sets', 'toggles'] as const
export type Phase = (typeof PHASES)[number]

export type ConcurrencySide = 'clubs' | 'clubs.reverse' | 'friends' | 'roles' | 'roles.reverse'
export type ConcurrencyMethod = 'add' | 'remove' | 'set' | 'toggle' | 'clear' | 'create' | 'exists' | 'ids'

/** Members and clubs of the mixed and toggle phases: every worker works on the same few pairs. */
export const MIXED_MEMBERS = ['m0', 'm1', 'm2', 'm3'] as const
export const MIXED_CLUBS = ['c0', 'c1', 'c2', 'c3'] as const
/**
 * The sets phase: the clubs of m4 and m12 are always one of these (pairwise disjoint) sets, and
 * so are the friends of m5 and m13. m4 and m5 each have one writer (process 0 and 1), so that a
 * reader seeing anything else saw a set half applied; m12 and m13 have every process writing,
 * so that anything else is the mix of two concurrent sets.
 */
export const SET_SOURCES = {
  m4: { side: 'clubs', family: 'clubs', writers: 'one' },
  m5: { side: 'friends', family: 'friends', writers: 'one' },
  m12: { side: 'clubs', family: 'clubs', writers: 'all' },
  m13: { side: 'friends', family: 'friends', writers: 'all' },
} as const satisfies Record<string, { side: ConcurrencySide; family: 'clubs' | 'friends'; writers: 'one' | 'all' }>
export type SetSource = keyof typeof SET_SOURCES

export const CLUB_SETS: readonly (readonly string[])[] = [
  ['c4', 'c5'],
  ['c6', 'c7'],
  ['c8', 'c9'],
]
export const FRIEND_SETS: readonly (readonly string[])[] = [
  ['m6', 'm7'],
  ['m8', 'm9'],
  ['m10', 'm11'],
]
export const ALL_MEMBERS = Array.from({ length: 14 }, (_, index) => `m${String(index)}`)
export const ALL_CLUBS = Array.from({ length: 10 }, (_, index) => `c${String(index)}`)

/** The pairs the toggles phase hammers, each from both sides. */
export const TOGGLED = [
  { side: 'clubs', source: 'm0', target: 'c0' },
  { side: 'clubs.reverse', source: 'c0', target: 'm0' },
  { side: 'friends', source: 'm1', target: 'm2' },
  { side: 'friends', source: 'm2', target: 'm1' },
  { side: 'roles', source: 'm3', target: 'c1' },
  { side: 'roles.reverse', source: 'c1', target: 'm3' },
] as const satisfies readonly { side: ConcurrencySide; source: string; target: string }[]

export interface WorkerConfig {
  /** The schema or database the test works in, or the SQLite file every worker opens. */
  readonly place: Place | SqliteFilePlace
  /** On an SQLite file: the adapter the worker uses (on a server, always the Knex adapter). */
  readonly adapter?: SqliteFileAdapter
  readonly worker: number
  readonly seed: number
  /** Calls per phase. */
  readonly calls: Readonly<Record<Phase, number>>
  /** Handle to key. */
  readonly keys: Readonly<Record<string, number>>
}

/** One call as a worker ran it. */
export interface OpRecord {
  readonly worker: number
  readonly phase: Phase
  readonly index: number
  readonly side: ConcurrencySide
  readonly source: string
  readonly method: ConcurrencyMethod
  readonly targets?: readonly string[]
  readonly clear?: boolean
  /** process.hrtime.bigint() before the call and after it settled, as text. */
  readonly start: string
  readonly end: string
  readonly outcome: OpOutcome
}

export type OpOutcome =
  | { readonly ok: true; readonly value?: boolean | readonly string[]; readonly created?: { readonly key: number; readonly title: string } }
  | { readonly ok: false; readonly typed: boolean; readonly code: string; readonly message: string; readonly cause?: string }

/** A message from a worker, one JSON object per line of its standard output. */
export type WorkerMessage =
  | { readonly type: 'ready'; readonly worker: number }
  | { readonly type: 'op'; readonly op: OpRecord }
  | {
      readonly type: 'phaseDone'
      readonly worker: number
      readonly phase: Phase
      /** Calls the adapter ran again after a conflict during the phase (its `log` option's `retry` events), by the conflict's code. */
      readonly retries?: Readonly<Record<string, number>>
    }
  | { readonly type: 'fatal'; readonly worker: number; readonly error: string }

/** A small seeded generator (mulberry32), so that a worker's calls can be replayed from its seed. */
export function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let value = state
    value = Math.imul(value ^ (value >>> 15), value | 1)
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61)
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296
  }
}

/** One planned call. */
export interface PlannedCall {
  readonly side: ConcurrencySide
  readonly source: string
  readonly method: ConcurrencyMethod
  readonly targets?: readonly string[]
  readonly clear?: boolean
}

function pick<T>(next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)]!
}

function subset(next: () => number, items: readonly string[], min: number, max: number): string[] {
  const size = min + Math.floor(next() * (max - min + 1))
  const pool = [...items]
  const chosen: string[] = []
  while (chosen.length < size && pool.length > 0) chosen.push(pool.splice(Math.floor(next() * pool.length), 1)[0]!)
  return chosen
}

/** The calls of one phase for one worker, from its seed. */
export function planPhase(phase: Phase, seed: number, count: number, worker: number): PlannedCall[] {
  const next = random(seed)
  const calls: PlannedCall[] = []
  for (let index = 0; index < count; index++) {
    if (phase === 'toggles') {
      const { side, source, target } = pick(next, TOGGLED)
      calls.push({ side, source, method: 'toggle', targets: [target] })
      continue
    }
    if (phase === 'sets') {
      const source = pick(next, Object.keys(SET_SOURCES) as SetSource[])
      const { side, family, writers } = SET_SOURCES[source]
      const writes = writers === 'all' || (source === 'm4' ? worker === 0 : worker === 1)
      if (writes && next() < 0.6) calls.push({ side, source, method: 'set', targets: pick(next, family === 'clubs' ? CLUB_SETS : FRIEND_SETS), clear: next() < 0.25 })
      else calls.push({ side, source, method: 'ids' })
      continue
    }
    const roll = next()
    const side: ConcurrencySide = roll < 0.35 ? 'clubs' : roll < 0.5 ? 'clubs.reverse' : roll < 0.75 ? 'friends' : roll < 0.88 ? 'roles' : 'roles.reverse'
    const reverse = side.endsWith('.reverse')
    const source = pick(next, reverse ? MIXED_CLUBS : MIXED_MEMBERS)
    const universe = side === 'clubs' || side === 'roles' ? MIXED_CLUBS : MIXED_MEMBERS
    const kind = next()
    if (kind < 0.2) calls.push({ side, source, method: 'add', targets: subset(next, universe, 1, 3) })
    else if (kind < 0.35) calls.push({ side, source, method: 'remove', targets: subset(next, universe, 1, 3) })
    else if (kind < 0.55) calls.push({ side, source, method: 'toggle', targets: [pick(next, universe)] })
    else if (kind < 0.72) calls.push({ side, source, method: 'set', targets: subset(next, universe, 0, 3), clear: next() < 0.2 })
    else if (kind < 0.76) calls.push({ side, source, method: 'clear' })
    else if (kind < 0.84 && !reverse && side !== 'friends') calls.push({ side, source, method: 'create' })
    else calls.push({ side, source, method: 'exists', targets: [pick(next, universe)] })
  }
  return calls
}
