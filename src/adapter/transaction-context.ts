import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * The transaction of the current async context, for adapters: code that runs inside a
 * transaction (an m2m listener, the caller's `adapter.transaction(work)`) and calls the root
 * adapter joins that transaction, as a Django connection would, instead of waiting for a
 * second connection (with SQLite's single connection that wait would never end; on a server it
 * could deadlock on the rows the transaction holds).
 *
 * It is kept with Node's `AsyncLocalStorage`, which on Node 20 turns on promise hooks that slow
 * every promise of the process while any storage is enabled (hand-written queries beside
 * throughline ran 2–3× slower once it had run one transaction). So the context is kept only for
 * the transactions that ask for it (`joinable`: the manager asks only when a listener runs
 * inside, and a caller's `adapter.transaction()` always does), and the storage is disabled again
 * when the last of them ends, which turns the hooks off unless other code in the process keeps
 * a storage of its own enabled.
 *
 * @example
 * ```ts
 * const context = new TransactionContext<Scope>()
 * // in transaction(work, options):
 * return context.run(scope, options.joinable !== false, () => work(scopedAdapter))
 * // when choosing a connection:
 * const joined = context.current()
 * ```
 */
export class TransactionContext<S> {
  readonly #storage = new AsyncLocalStorage<S>()
  #running = 0

  /** Runs `work` with `scope` as the current transaction when `joinable`; otherwise simply runs it. */
  async run<R>(scope: S, joinable: boolean, work: () => Promise<R>): Promise<R> {
    if (!joinable) return work()
    this.#running++
    try {
      return await this.#storage.run(scope, work)
    } finally {
      // The last joinable transaction has ended: no context is left to find, and the hooks go.
      if (--this.#running === 0) this.#storage.disable()
    }
  }

  /** The joinable transaction of the current async context, if one is running. */
  current(): S | undefined {
    return this.#running === 0 ? undefined : this.#storage.getStore()
  }
}
