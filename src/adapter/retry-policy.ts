import { InvalidArgumentError } from '../errors/throughline-error.js'

/**
 * How an adapter runs a transaction again after the database aborted it for a conflict with
 * another one (a serialization failure, a deadlock, SQLite's busy): how many times, and how
 * long it waits before each new attempt. Only transactions the adapter opened itself are run
 * again: inside a caller's transaction the conflict aborts the caller's whole transaction,
 * which only the caller can run again.
 *
 * Waits grow exponentially with "full jitter": before attempt `n + 1` the adapter waits a
 * random time between 0 and `min(maxDelayMs, baseDelayMs * 2 ** (n - 1))`. Random waits keep
 * the conflicting callers from meeting again in lockstep; the cap bounds a single wait.
 *
 * @example
 * ```ts
 * new KnexAdapter(db, { retry: { retries: 50, maxDelayMs: 1000 } }) // a hot table, many processes
 * new KnexAdapter(db, { retry: { retries: 0 } })                    // fail at once; the caller retries
 * ```
 */
export interface RetryPolicy {
  /** How many times a call is run again after a conflict, at most. Default 30; 0 never runs it again. */
  readonly retries: number
  /** The upper bound of the first wait, in milliseconds. Default 2. */
  readonly baseDelayMs: number
  /** The upper bound of any one wait, in milliseconds. Default 250. */
  readonly maxDelayMs: number
}

/**
 * The default: up to 30 more attempts, waits from 0–2 ms doubling up to 0–250 ms. Under eight
 * processes toggling, setting and creating on the same few pairs of one PostgreSQL or MariaDB
 * server, no call needed more than a handful; the whole budget waits about 4 s on average
 * before the call gives up with the conflict.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({ retries: 30, baseDelayMs: 2, maxDelayMs: 250 })

/** A retry policy from partial options, the defaults filling the rest; throws `M2M_INVALID_ARGUMENT` for a bad value. */
export function retryPolicy(options: Partial<RetryPolicy> = {}): RetryPolicy {
  // Callers from JavaScript can pass anything.
  const input: unknown = options
  if (typeof input !== 'object' || input === null) {
    throw new InvalidArgumentError(`retry must be an object such as { retries: 30 }; got ${String(input)}.`)
  }
  const policy = { ...DEFAULT_RETRY_POLICY, ...options }
  for (const field of ['retries', 'baseDelayMs', 'maxDelayMs'] as const) {
    const value = policy[field]
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new InvalidArgumentError(`retry.${field} must be a whole number of 0 or more; got ${String(value)}.`)
    }
  }
  return Object.freeze(policy)
}

/** The random wait before attempt `attempt + 1`, after `attempt` attempts failed with a conflict. */
export function retryDelay(policy: RetryPolicy, attempt: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1))
  return Math.random() * ceiling
}

/** What {@link retryConflicts} tells its `onRetry` hook before it waits and runs again. */
export interface RetryEvent {
  /** The attempt that failed, from 1. */
  readonly attempt: number
  /** How long it waits before the next attempt, in milliseconds. */
  readonly delayMs: number
  /** The conflict that failed it. */
  readonly error: unknown
}

/**
 * Runs `run`, and runs it again after a random wait when it fails with an error that
 * `isConflict` accepts (itself or one of its causes), up to `policy.retries` times. The last
 * error is thrown as it is. For adapter authors: call it around a whole transaction that the
 * adapter opened, never around a savepoint in the caller's transaction.
 *
 * @example
 * ```ts
 * return retryConflicts(this.policy, (error) => error?.code === '40001', () => this.#transactionOnce(work))
 * ```
 */
export async function retryConflicts<R>(
  policy: RetryPolicy,
  isConflict: (error: unknown) => boolean,
  run: () => Promise<R>,
  onRetry?: (event: RetryEvent) => void,
): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run()
    } catch (error) {
      if (attempt > policy.retries || !causes(error).some(isConflict)) throw error
      const delayMs = retryDelay(policy, attempt)
      onRetry?.({ attempt, delayMs, error })
      await new Promise((resolve) => setTimeout(resolve, delayMs))
    }
  }
}

/** An error and its causes, nearest first (a few levels: the manager's wrapper, a StorageError, the driver's). */
export function causes(error: unknown): unknown[] {
  const chain: unknown[] = []
  let current: unknown = error
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    chain.push(current)
    current = (current as { cause?: unknown }).cause
  }
  return chain
}
