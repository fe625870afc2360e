import type { RelationAdapter, TransactionOptions } from '../adapter/relation-adapter.js'
import { StorageError, ThroughlineError } from '../errors/throughline-error.js'

/** Wraps an error from storage in a {@link StorageError}, leaving throughline's own errors as they are. */
export function asStorageError(adapter: RelationAdapter, error: unknown): ThroughlineError {
  if (error instanceof ThroughlineError) return error
  const detail = error instanceof Error ? error.message : String(error)
  return new StorageError(adapter.name, `storage failed: ${detail}`, { cause: error })
}

/** Runs one adapter operation, turning a driver error into a {@link StorageError}. */
export function storageCall<R>(adapter: RelationAdapter, run: () => Promise<R>): Promise<R> {
  // Not an async function: one promise fewer per statement (a like button sends two).
  let pending: Promise<R>
  try {
    // An adapter written in JavaScript may return a plain value: resolve it (a promise comes back as it is).
    pending = Promise.resolve(run())
  } catch (error) {
    return Promise.reject(asStorageError(adapter, error))
  }
  return pending.then(undefined, (error: unknown) => {
    throw asStorageError(adapter, error)
  })
}

/** Every write: run again (per the adapter's retry policy) when the database aborted it for a deadlock. */
export const WRITE: TransactionOptions = { retry: true }

/**
 * Writes that decide from what they read (set, toggle, getOrCreate, updateOrCreate): as if
 * each ran alone, so that concurrent toggles of a pair never lose a flip and concurrent sets
 * never mix, and run again (per the adapter's retry policy) when the database aborted one for a conflict.
 */
export const READ_THEN_WRITE: TransactionOptions = { isolation: 'serializable', retry: true }

/** Carries an error thrown by a transaction's work through the adapter, whatever it is. */
class WorkFailed extends Error {
  override readonly name = 'WorkFailed'
}

/**
 * Runs `work` in one transaction of `adapter`. Errors thrown by `work` itself (a listener's
 * own error, a validation error) come out unchanged; a failure to begin or commit is
 * wrapped as a {@link StorageError}.
 */
export async function inTransaction<R>(adapter: RelationAdapter, work: (tx: RelationAdapter) => Promise<R>, options: TransactionOptions = WRITE): Promise<R> {
  let failure: { readonly error: unknown } | undefined
  let result: R
  try {
    result = await adapter.transaction(async (tx) => {
      // An attempt that the adapter runs again starts afresh: the failure of the one before,
      // which the database rolled back, is not this call's.
      failure = undefined
      try {
        return await work(tx)
      } catch (error) {
        failure = { error }
        // The adapter sees a real Error whatever was thrown: a rejection with `undefined`
        // (`Promise.reject()` in a listener) must roll back, and some drivers' transaction
        // helpers treat an empty rejection reason as a commit.
        throw new WorkFailed('the transaction work failed', { cause: error })
      }
    }, options)
  } catch (error) {
    if (failure !== undefined) throw failure.error
    throw asStorageError(adapter, error)
  }
  // An adapter that resolved although its work failed must not turn the failure into success.
  if (failure !== undefined) throw failure.error
  return result
}
