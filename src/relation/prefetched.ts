import type { Key } from '../adapter/relation-adapter.js'
import { InvalidArgumentError } from '../errors/throughline-error.js'
import type { RelatedManager } from '../manager/related-manager.js'
import { resolveSourceKey } from '../model/coerce-key.js'
import type { AnyModel, KeyOf, RowOf } from '../model/define-model.js'

/**
 * The related rows of many instances, loaded in one statement by `relation.prefetch()`.
 *
 * @example
 * ```ts
 * const prefetched = await tags.prefetch(posts)
 * prefetched.rows(post)            // Tag[], no statement
 * await prefetched.of(post).count() // answered from the prefetched rows
 * ```
 */
export class Prefetched<S extends AnyModel, T extends AnyModel, TThrough extends object> {
  readonly #model: S
  readonly #rows: ReadonlyMap<Key, readonly RowOf<T>[]>
  readonly #manager: (instance: unknown, key: Key, rows: readonly RowOf<T>[]) => RelatedManager<S, T, TThrough>

  /** @internal Use `relation.prefetch()`. */
  constructor(
    model: S,
    rows: ReadonlyMap<Key, readonly RowOf<T>[]>,
    manager: (instance: unknown, key: Key, rows: readonly RowOf<T>[]) => RelatedManager<S, T, TThrough>,
  ) {
    this.#model = model
    this.#rows = rows
    this.#manager = manager
  }

  /** How many instances were prefetched. */
  get size(): number {
    return this.#rows.size
  }

  /** The prefetched related rows of an instance (a copy of the list). */
  rows(instance: RowOf<S> | KeyOf<S>): RowOf<T>[] {
    return [...this.#lookup(instance)[1]]
  }

  /**
   * The manager of an instance, answering `all()`, `count()`, `exists()` and `ids()` from the
   * prefetched rows without a statement, until a write on it (add, remove, clear, set, toggle,
   * create...) drops them; `filter()` and the other reads run their own statement, as in Django.
   * After a prefetch with a `limit`, the manager reads storage: the rows are a few of its rows.
   */
  of(instance: RowOf<S> | KeyOf<S>): RelatedManager<S, T, TThrough> {
    const [key, rows] = this.#lookup(instance)
    return this.#manager(instance, key, rows)
  }

  /** The prefetched keys and their rows, in the order the instances were given. */
  entries(): IterableIterator<[KeyOf<S>, readonly RowOf<T>[]]> {
    return (this.#rows as ReadonlyMap<KeyOf<S>, readonly RowOf<T>[]>).entries()
  }

  #lookup(instance: unknown): [Key, readonly RowOf<T>[]] {
    const key = resolveSourceKey(instance, this.#model)
    const rows = this.#rows.get(key)
    if (rows === undefined) {
      throw new InvalidArgumentError(`${this.#model.name} ${String(key)} was not prefetched: pass it to prefetch(), or use relation.of().`)
    }
    return [key, rows]
  }
}
