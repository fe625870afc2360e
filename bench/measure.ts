import { Bench } from 'tinybench'

/** One variant of a scenario: what is timed, and the untimed reset before each timed call. */
export interface Contender {
  readonly name: string
  /** One timed sample: `callsPerSample` calls. */
  readonly run: () => Promise<void>
  /** Untimed, before each sample. */
  readonly beforeEach?: () => Promise<void>
  /** Statements sent so far by this contender (read before and after the timed samples). */
  readonly statements: () => number
}

/** How long to measure. */
export interface Budget {
  /** Rounds measured (after one warm-up round); contenders take turns, in a rotating order, each round. */
  readonly rounds: number
  /** Time per contender per round, in milliseconds of timed calls. */
  readonly roundTime: number
  /** Samples per contender per round, at least. */
  readonly minSamples: number
  /**
   * Samples per contender per round for scenarios that reset their tables before each sample:
   * a fixed count, since the reset (untimed) can cost many times the call it prepares.
   */
  readonly resetSamples: number
}

/** The outcome for one contender. */
export interface Measurement {
  /** Median of every sample, per call, in milliseconds. */
  readonly median: number
  /** Samples taken (all rounds). */
  readonly samples: number
  /** Statements per call, averaged over the timed calls. */
  readonly statementsPerCall: number
  /** The median of each measured round, per call, in milliseconds (for ratios paired by round). */
  readonly roundMedians: readonly number[]
}

/**
 * How many times slower `a` is than `b`: the median of the ratios of their medians round by
 * round. Both ran within the same round, a moment apart, so a slow spell of a shared machine
 * weighs on both sides of each ratio rather than on one side of the whole.
 */
export function pairedRatio(a: Measurement, b: Measurement): number {
  const ratios = a.roundMedians.map((value, round) => value / b.roundMedians[round]!)
  return ratios.length === 0 ? a.median / b.median : median(ratios)
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/**
 * Measures contenders side by side: a warm-up round, then `rounds` rounds in which each
 * contender runs for `roundTime` (tinybench, with the reset outside the timing), the order
 * rotating from round to round so that a slow spell of the machine falls on all of them. The
 * median is taken over every sample of every measured round.
 */
export async function measure(contenders: readonly Contender[], budget: Budget, callsPerSample: number): Promise<Measurement[]> {
  const samples = contenders.map((): number[] => [])
  const rounds = contenders.map((): number[] => [])
  const statements = contenders.map(() => ({ total: 0, calls: 0 }))
  for (let round = 0; round <= budget.rounds; round++) {
    const warmUp = round === 0
    for (let turn = 0; turn < contenders.length; turn++) {
      const index = (turn + round) % contenders.length
      const contender = contenders[index]!
      const counter = statements[index]!
      const resets = contender.beforeEach !== undefined
      const bench = new Bench({
        // tinybench samples until both the time and the count are reached.
        time: resets ? 0 : warmUp ? budget.roundTime / 2 : budget.roundTime,
        iterations: warmUp ? 2 : resets ? budget.resetSamples : budget.minSamples,
        warmupTime: 0,
        warmupIterations: 0,
      })
      bench.add(
        contender.name,
        async () => {
          const before = contender.statements()
          await contender.run()
          counter.total += contender.statements() - before
          counter.calls += callsPerSample
        },
        contender.beforeEach === undefined ? {} : { beforeEach: contender.beforeEach },
      )
      await bench.run()
      const result = bench.tasks[0]?.result
      if (result?.error !== undefined) throw result.error instanceof Error ? result.error : new Error(`${contender.name} failed`, { cause: result.error })
      if (!warmUp) {
        const perCall = (result?.samples ?? []).map((sample) => sample / callsPerSample)
        samples[index]!.push(...perCall)
        rounds[index]!.push(median(perCall))
      }
      if (warmUp) counter.total = counter.calls = 0
    }
  }
  return contenders.map((_, index) => {
    const counter = statements[index]!
    return {
      median: median(samples[index]!),
      samples: samples[index]!.length,
      statementsPerCall: counter.calls === 0 ? Number.NaN : counter.total / counter.calls,
      roundMedians: rounds[index]!,
    }
  })
}
