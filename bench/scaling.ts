import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { BetterSqlite3Adapter } from '../src/adapters/better-sqlite3/index.js'
import { KnexAdapter } from '../src/adapters/knex/index.js'
import { relationFixtures, type RelationFixture } from './fixtures.js'
import { measure, type Budget, type Contender, type Measurement } from './measure.js'
import { formatTime, renderTable } from './report.js'
import { openSqlite, SqliteStorage, type Storage } from './storage.js'
import { ThroughlineSubject, type Subject } from './subject.js'

/**
 * The scaling table (issue #13): cost against relation size and call size N, for add, set,
 * count, all and toggle, on `BetterSqlite3Adapter` and `KnexAdapter` over one SQLite
 * connection in memory. The promise it checks: the same statements per call whatever N, and a
 * time per row that stays flat as N grows.
 */

/** The relation and call sizes. */
export const SCALING_SIZES: readonly number[] = [10, 100, 1000, 10_000, 100_000]

/** The operations, in table order. */
export const SCALING_OPERATIONS = ['add', 'set', 'count', 'all', 'toggle'] as const
export type ScalingOperation = (typeof SCALING_OPERATIONS)[number]

type ScalingVariantId = 'direct' | 'knex'

const VARIANT_LABELS: Readonly<Record<ScalingVariantId, string>> = { direct: 'BetterSqlite3Adapter', knex: 'KnexAdapter' }

/** One row of the scaling table. */
export interface ScalingRow {
  readonly operation: ScalingOperation
  readonly size: number
  readonly variant: ScalingVariantId
  readonly measurement: Measurement | undefined
  readonly note?: string
}

export interface ScalingOptions {
  readonly quick: boolean
  /** Sizes to run (all of {@link SCALING_SIZES} when undefined). */
  readonly sizes: readonly number[] | undefined
  /** Operations to run (all when undefined). */
  readonly operations: readonly string[] | undefined
  readonly log: (message: string) => void
}

/** What the scaling run leaves for the report. */
export interface ScalingResult {
  readonly rows: ScalingRow[]
  readonly notes: string[]
}

/** Sources of the plain relation: one per operation, so that they never see each other's links. */
const SOURCES: Readonly<Record<ScalingOperation, number>> = { add: 1, set: 2, count: 3, all: 3, toggle: 4 }
/** Toggles per timed sample: the same pair on, then off, this many times. */
const TOGGLE_PAIRS_PER_SAMPLE = 25

/**
 * How long to measure at one size. An add or set of 100 000 takes a large fraction of a second
 * (and the untimed reset before it as long again), so it takes 2 samples per round, not 5.
 */
export function scalingBudget(size: number, quick: boolean): Budget {
  if (quick) return { rounds: 1, roundTime: 10, minSamples: 1, resetSamples: 1 }
  if (size >= 100_000) return { rounds: 5, roundTime: 40, minSamples: 2, resetSamples: 2 }
  return { rounds: 5, roundTime: 40, minSamples: 5, resetSamples: 5 }
}

/**
 * A full garbage collection, untimed, before each operation and size: the garbage of the
 * previous measurement (100 000 rows read, or written) is otherwise collected during the next
 * one, which is then slow for a reason of its own. `--expose-gc` set at run time, so that
 * `npm run bench` needs no flag.
 */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  gc()
}

/** Calls per timed sample of the reads: small reads take microseconds, so several go in one sample. */
const readCalls = (size: number): number => Math.max(1, Math.floor(1000 / size))

interface Context {
  readonly fixture: RelationFixture
  readonly subject: Subject
  readonly storage: Storage
}

function expectEqual(actual: number, expected: number, what: string): void {
  if (actual !== expected) throw new Error(`${what}: expected ${String(expected)}, got ${String(actual)}.`)
}

function expectKeys(actual: readonly number[], expected: readonly number[], what: string): void {
  const sorted = [...expected].sort((a, b) => a - b)
  if (actual.length !== sorted.length || actual.some((key, index) => key !== sorted[index])) {
    throw new Error(`${what}: expected ${String(sorted.length)} links, found ${String(actual.length)} (or different ones).`)
  }
}

/** Target keys `from + 1 … from + count` (every target row exists: the table holds 1 … 1.5 × the largest N). */
const keys = (from: number, count: number): number[] => Array.from({ length: count }, (_, index) => from + index + 1)

/** One operation at one size: untimed preparation and check, the timed sample, the check after. */
interface Workload {
  readonly callsPerSample: number
  prepare(context: Context): Promise<void>
  readonly beforeEach?: (context: Context) => Promise<void>
  run(context: Context): Promise<void>
  /** After the timed samples: the state the last call left is what it must be. */
  check(context: Context): Promise<void>
}

function workload(operation: ScalingOperation, size: number): Workload {
  const source = SOURCES[operation]
  switch (operation) {
    case 'add': {
      const targets = keys(0, size)
      const reset = (context: Context): Promise<void> => context.storage.reset(context.fixture, source, [])
      const check = async (context: Context): Promise<void> => {
        expectKeys(await context.storage.linked(context.fixture, source), targets, `add ${String(size)}`)
      }
      return {
        callsPerSample: 1,
        async prepare(context) {
          await reset(context)
          await context.subject.add(source, targets)
          await check(context)
        },
        beforeEach: reset,
        run: (context) => context.subject.add(source, targets),
        check,
      }
    }
    case 'set': {
      // Linked to 1 … N; set to N/2 + 1 … 3N/2: half the links stay, half go, half are new.
      const before = keys(0, size)
      const after = keys(size / 2, size)
      const reset = (context: Context): Promise<void> => context.storage.reset(context.fixture, source, before)
      const check = async (context: Context): Promise<void> => {
        expectKeys(await context.storage.linked(context.fixture, source), after, `set ${String(size)}`)
      }
      return {
        callsPerSample: 1,
        async prepare(context) {
          await reset(context)
          await context.subject.set(source, after)
          await check(context)
        },
        beforeEach: reset,
        run: (context) => context.subject.set(source, after),
        check,
      }
    }
    case 'count':
    case 'all': {
      const calls = readCalls(size)
      const read = (context: Context): Promise<number> => (operation === 'count' ? context.subject.count(source) : context.subject.list(source))
      return {
        callsPerSample: calls,
        async prepare(context) {
          await context.storage.reset(context.fixture, source, keys(0, size))
          expectEqual(await read(context), size, `${operation} ${String(size)}`)
        },
        async run(context) {
          for (let call = 0; call < calls; call++) expectEqual(await read(context), size, `${operation} ${String(size)}`)
        },
        async check(context) {
          expectEqual((await context.storage.linked(context.fixture, source)).length, size, `${operation} ${String(size)}`)
        },
      }
    }
    case 'toggle': {
      // A source with N links; the pair toggled is one of the N + 1st target, on then off.
      const linked = keys(0, size)
      const target = size + 1
      return {
        callsPerSample: 2 * TOGGLE_PAIRS_PER_SAMPLE,
        async prepare(context) {
          await context.storage.reset(context.fixture, source, linked)
          expectEqual(Number(await context.subject.toggle(source, target)), 1, `toggle on at ${String(size)}`)
          expectKeys(await context.storage.linked(context.fixture, source), [...linked, target], `toggle on at ${String(size)}`)
          expectEqual(Number(await context.subject.toggle(source, target)), 0, `toggle off at ${String(size)}`)
        },
        async run(context) {
          for (let pair = 0; pair < TOGGLE_PAIRS_PER_SAMPLE; pair++) {
            if (!(await context.subject.toggle(source, target))) throw new Error(`toggle at ${String(size)} did not link the pair.`)
            if (await context.subject.toggle(source, target)) throw new Error(`toggle at ${String(size)} did not unlink the pair.`)
          }
        },
        async check(context) {
          expectKeys(await context.storage.linked(context.fixture, source), linked, `toggle at ${String(size)}`)
        },
      }
    }
  }
}

/** Untimed warm-up of each operation, per adapter: the code paths JIT-compiled before the first size is timed. */
const WARM_UP_MS = 300
const WARM_UP_SIZE = 100

/**
 * Runs every operation at {@link WARM_UP_SIZE} for {@link WARM_UP_MS} on each adapter, untimed:
 * otherwise the first size of an operation pays for the compilation of its code path (knex's
 * toggle took 150 µs per call at whichever size came first, 50 to 70 µs after).
 */
async function warmUp(operations: readonly ScalingOperation[], contexts: readonly Context[]): Promise<void> {
  for (const operation of operations) {
    const work = workload(operation, WARM_UP_SIZE)
    for (const context of contexts) {
      await emptyAll(context)
      await work.prepare(context)
      const until = performance.now() + WARM_UP_MS
      while (performance.now() < until) {
        await work.beforeEach?.(context)
        await work.run(context)
      }
      await work.check(context)
    }
  }
}

/** Empties every source's links, untimed, so that each measurement sees only its own source's rows. */
async function emptyAll(context: Context): Promise<void> {
  for (const source of new Set(Object.values(SOURCES))) await context.storage.reset(context.fixture, source, [])
}

/**
 * Runs the scaling table on SQLite in memory: one better-sqlite3 connection held by knex's
 * pool, the direct adapter on that very connection, each variant on its own tables (the plain
 * relation of bench/fixtures.ts: join table with foreign keys to both tables and a unique pair).
 */
export async function runScaling(options: ScalingOptions): Promise<ScalingResult> {
  const sizes = SCALING_SIZES.filter((size) => options.sizes === undefined || options.sizes.includes(size))
  const operations = SCALING_OPERATIONS.filter((operation) => options.operations === undefined || options.operations.includes(operation))
  const rows: ScalingRow[] = []
  const notes: string[] = []
  const largest = Math.max(WARM_UP_SIZE, ...sizes)
  const { db, connection, version } = await openSqlite()
  try {
    const foreignKeys = connection.pragma('foreign_keys', { simple: true }) as number
    notes.push(`SQLite ${version} in memory (better-sqlite3, foreign_keys = ${String(foreignKeys)}), one connection for both adapters`)
    const storage = new SqliteStorage(db, connection)
    const variants: { id: ScalingVariantId; prefix: string; subject: (fixture: RelationFixture) => Subject }[] = [
      { id: 'direct', prefix: 'scale_d_', subject: (fixture) => new ThroughlineSubject(fixture, new BetterSqlite3Adapter(connection)) },
      { id: 'knex', prefix: 'scale_k_', subject: (fixture) => new ThroughlineSubject(fixture, new KnexAdapter(db)) },
    ]
    const contexts: Context[] = []
    for (const variant of variants) {
      const base = relationFixtures(variant.prefix).plain
      // Four sources; targets 1 … 1.5 × the largest N (set reaches 3N/2).
      const fixture: RelationFixture = { ...base, layout: { ...base.layout, sourceCount: 4, targetRowCount: Math.max(2, (largest * 3) / 2 + 1) } }
      const started = performance.now()
      await storage.create(fixture)
      options.log(`  scaling: ${variant.id} tables created, ${String(fixture.layout.targetRowCount)} targets (${((performance.now() - started) / 1000).toFixed(1)} s)`)
      contexts.push({ fixture, subject: variant.subject(fixture), storage })
    }
    const warmUpStarted = performance.now()
    await warmUp(operations, contexts)
    options.log(`  scaling: warm-up, ${String(WARM_UP_MS)} ms of each operation at N = ${String(WARM_UP_SIZE)} on each adapter (${((performance.now() - warmUpStarted) / 1000).toFixed(1)} s)`)
    for (const operation of operations) {
      for (const size of sizes) {
        const started = performance.now()
        const work = workload(operation, size)
        let results: Measurement[]
        try {
          for (const context of contexts) {
            await emptyAll(context)
            await work.prepare(context)
          }
          collectGarbage()
          const contenders = contexts.map((context, index): Contender => {
            const { beforeEach } = work
            return {
              name: variants[index]!.id,
              run: () => work.run(context),
              statements: () => context.subject.statements(),
              ...(beforeEach === undefined ? {} : { beforeEach: () => beforeEach(context) }),
            }
          })
          results = await measure(contenders, scalingBudget(size, options.quick), work.callsPerSample)
          for (const context of contexts) await work.check(context)
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error)
          for (const variant of variants) rows.push({ operation, size, variant: variant.id, measurement: undefined, note: `failed: ${message.slice(0, 60)}` })
          options.log(`  scaling ${operation} ${String(size)}: failed: ${message}`)
          continue
        }
        for (const [index, variant] of variants.entries()) rows.push({ operation, size, variant: variant.id, measurement: results[index]! })
        const summary = variants.map((variant, index) => `${variant.id} ${formatTime(results[index]!.median)}`).join(', ')
        options.log(`  scaling ${operation} ${String(size)}: ${summary} (${((performance.now() - started) / 1000).toFixed(1)} s)`)
      }
    }
    for (const context of contexts) await storage.drop(context.fixture)
  } finally {
    await db.destroy()
  }
  return { rows, notes }
}

/** A time per row: nanoseconds below a microsecond. */
function formatPerRow(milliseconds: number): string {
  if (!Number.isFinite(milliseconds)) return '–'
  const nanoseconds = milliseconds * 1e6
  if (nanoseconds < 1000) return `${nanoseconds.toFixed(0)} ns`
  return formatTime(milliseconds)
}

function formatStatements(value: number): string {
  if (!Number.isFinite(value)) return '–'
  return Number.isInteger(value) ? String(value) : value.toFixed(2).replace(/0+$/, '')
}

const OPERATION_LABELS: Readonly<Record<ScalingOperation, string>> = {
  add: 'add N new',
  set: 'set N onto N (half overlap)',
  count: 'count() of N links',
  all: 'all() of N links',
  toggle: 'toggle with N links (per call)',
}

/** The scaling table as Markdown, operation by operation, each adapter's sizes together. */
export function scalingTable(rows: readonly ScalingRow[]): string {
  const cells: string[][] = [['operation', 'adapter', 'N', 'statements per call', 'median per call', 'per row (÷ N)', 'samples']]
  for (const operation of SCALING_OPERATIONS) {
    for (const variant of ['direct', 'knex'] as const) {
      for (const row of rows) {
        if (row.operation !== operation || row.variant !== variant) continue
        const { measurement } = row
        cells.push([
          OPERATION_LABELS[operation],
          VARIANT_LABELS[variant],
          row.size.toLocaleString('en-US').replace(/,/g, ' '),
          measurement === undefined ? '–' : formatStatements(measurement.statementsPerCall),
          measurement === undefined ? (row.note ?? '–') : formatTime(measurement.median),
          measurement === undefined || operation === 'toggle' ? '–' : formatPerRow(measurement.median / row.size),
          measurement === undefined ? '–' : String(measurement.samples),
        ])
      }
    }
  }
  return renderTable(cells)
}

/** How the scaling table was measured, for its footnote (samples per size read from {@link scalingBudget}). */
export function scalingFootnote(quick: boolean): string {
  const describe = (size: number): string => {
    const budget = scalingBudget(size, quick)
    const samples = (count: number): string => `${String(count)} sample${count === 1 ? '' : 's'}`
    const time = budget.roundTime > 0 ? `${String(budget.roundTime)} ms of calls and at least ${samples(budget.minSamples)}` : samples(budget.minSamples)
    return `${time} (${samples(budget.resetSamples)} where the source is reset, untimed, before each: add, set)`
  }
  const { rounds } = scalingBudget(SCALING_SIZES[0]!, quick)
  return (
    `scaling: ${String(rounds)} measured round${rounds === 1 ? '' : 's'} per adapter after a warm-up round of 2 samples, the two adapters in rotating order; per round, N ≤ 10 000: ${describe(10_000)}; ` +
    `N = 100 000: ${describe(100_000)}; before all, ${String(WARM_UP_MS)} ms of each operation at N = ${String(WARM_UP_SIZE)} on each adapter (untimed); a full garbage collection (untimed) before each operation and size. Reads take max(1, 1000 ÷ N) calls per sample, toggles ${String(2 * TOGGLE_PAIRS_PER_SAMPLE)} ` +
    `(${String(TOGGLE_PAIRS_PER_SAMPLE)} on/off pairs of one pair). Each operation is called and its links checked before it is timed, every read and toggle answer is checked, and the links left are checked after`
  )
}
