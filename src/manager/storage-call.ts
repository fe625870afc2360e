import type { RelationAdapter } from '../adapter/relation-adapter.js'
import { StorageError, ThroughlineError } from '../errors/throughline-error.js'

/** Wraps an error from storage in a {@link StorageError}, leaving throughline's own errors as they are. */
export function asStorageError(adapter: RelationAdapter, error: unknown): ThroughlineError {
  if (error instanceof ThroughlineError) return error
  const detail = error instanceof Error ? error.message : String(error)
  return new StorageError(adapter.name, `storage failed: ${detail}`, { cause: error })
}

/** Runs one adapter operation, turning a driver error into a {@link StorageError}. */
export async function storageCall<R>(adapter: RelationAdapter, run: () => Promise<R>): Promise<R> {
  try {
    return await run()
  } catch (error) {
    throw asStorageError(adapter, error)
  }
}

/**
 * Runs `work` in one transaction of `adapter`. Errors thrown by `work` itself (a listener's
 * own error, a validation error) come out unchanged; a failure to begin or commit is
 * wrapped as a {@link StorageError}.
 */
export async function inTransaction<R>(adapter: RelationAdapter, work: (tx: RelationAdapter) => Promise<R>): Promise<R> {
  let failure: { readonly error: unknown } | undefined
  try {
    return await adapter.transaction(async (tx) => {
      try {
        return await work(tx)
      } catch (error) {
        failure = { error }
        throw error
      }
    })
  } catch (error) {
    if (failure !== undefined && failure.error === error) throw error
    throw asStorageError(adapter, error)
  }
}
