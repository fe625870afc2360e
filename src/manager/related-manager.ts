import type { Key, LinkSpec, ProbeLinksResult, RelationAdapter, Row, TransactionOptions } from '../adapter/relation-adapter.js'
import {
  InvalidArgumentError,
  LookupError,
  MissingThroughValueError,
  StorageError,
  TargetNotFoundError,
  ThroughlineError,
  UnknownColumnError,
  type ErrorCode,
} from '../errors/throughline-error.js'
import type { M2MAction, M2MChangedEvent } from '../events/relation-events.js'
import { coerceKey, resolveTargetKey, type TargetVerb } from '../model/coerce-key.js'
import { columnNamesOf } from '../model/column-names.js'
import { assertColumnValue } from '../model/column-value.js'
import { formatValue, type AnyModel, type KeyOf, type RowOf } from '../model/define-model.js'
import type { ValueOrFactory } from '../model/define-through.js'
import { isIdentifier } from '../model/identifier.js'
import { tagRow } from '../model/model-of.js'
import type { RelationCore } from '../relation/many-to-many.js'
import { lookupBudget, type OrderBy, type ThroughOrderBy, type Where } from './parse-where.js'
import { RelatedQuery } from './related-query.js'
import { inTransaction, READ_THEN_WRITE, storageCall, WRITE } from './storage-call.js'

/**
 * Up to how many keys linkedAmong() reads as a query (`filter({ pk__in }).ids()`); a longer list
 * goes to probeLinks, which splits it under every database's bind-parameter limit.
 */
const LINKED_AMONG_AS_QUERY = 1000

/**
 * Each adapter's answer to `foreignKeysEnforced`, per link, as the adapter gave it once: the
 * adapters remember it for good (a catalog read per join table), so the manager may too, and
 * spare the two awaits of asking again on every add() (a like button's add is a few
 * microseconds in all).
 */
const enforcedAnswers = new WeakMap<RelationAdapter, WeakMap<LinkSpec, boolean>>()

/**
 * A target: a whole row of the target model, or a raw key. Keys given as strings are coerced
 * (`"3"` is the integer key 3).
 *
 * An object that carries only the key (`{ id: 3 }`) is not a target in the types: any row of any
 * model has an `id`, so accepting it would accept a `User` where an `Interview` is expected. Pass
 * the key itself (`3`, `row.id`). For a model with a `Branded` row type the row must be branded too: a row
 * throughline returned, or a plain row tagged with `asRow(model, row)`.
 */
export type TargetInput<M extends AnyModel> = RowOf<M> | KeyOf<M> | (KeyOf<M> extends number | bigint ? string : never)

/** One target or several. */
export type TargetsInput<M extends AnyModel> = TargetInput<M> | readonly TargetInput<M>[]

/**
 * Values for the extra columns of the link rows a call inserts. A function is called once
 * per call and its value shared by every row, mirror rows included.
 */
export type ThroughDefaults<TThrough extends object> = {
  readonly [K in keyof TThrough]?: ValueOrFactory<TThrough[K]>
}

/** Options of the calls that may insert link rows. */
export interface ThroughOptions<TThrough extends object> {
  /** Values for the extra columns of the link rows this call inserts (only those). */
  readonly throughDefaults?: ThroughDefaults<TThrough>
}

/** Options of {@link RelatedManager.set}. */
export interface SetOptions<TThrough extends object> extends ThroughOptions<TThrough> {
  /**
   * `false` (the default): diff, keeping the links that stay (and their through values).
   * `true`: clear every link, then add them all again, as Django's `set(clear=True)`.
   */
  readonly clear?: boolean
}

/** Options of {@link RelatedManager.getOrCreate}. */
export interface GetOrCreateOptions<T extends AnyModel, TThrough extends object> extends ThroughOptions<TThrough> {
  /** Extra column values for the created row only. */
  readonly defaults?: Partial<RowOf<T>>
}

/** Options of {@link RelatedManager.updateOrCreate}. */
export interface UpdateOrCreateOptions<T extends AnyModel, TThrough extends object> extends ThroughOptions<TThrough> {
  /** Values written to the row found, and used for the created row unless `createDefaults` is given. */
  readonly defaults?: Partial<RowOf<T>>
  /** Values for the created row only. */
  readonly createDefaults?: Partial<RowOf<T>>
}

/** What a manager is bound to. Internal. */
export interface ManagerContext {
  readonly core: RelationCore
  readonly link: LinkSpec
  readonly reverse: boolean
  readonly adapter: RelationAdapter
  readonly instance: unknown
  readonly sourceKey: Key
  readonly sourceModel: AnyModel
  readonly targetModel: AnyModel
  /** Rows loaded by `relation.prefetch()`, which answer the plain reads until a write. */
  readonly prefetched: readonly object[] | undefined
}

interface ResolvedThroughValues {
  /** The values of the link rows to insert, keyed by database column. */
  readonly values: Row
  /** The required columns with no value, as properties (for the message). */
  readonly missing: readonly string[]
}

/**
 * The related objects of one instance, with Django's many-to-many semantics: idempotent
 * `add`, `set` by diff, `remove`, `clear`, `create`, `toggle`, reads, and `m2m_changed`
 * events. Every write is atomic (one transaction, or one statement where one suffices, and a
 * savepoint inside a transaction of yours); every call is a constant number of statements
 * however many targets it gets. Get one with `relation.of(instance)`.
 *
 * @example
 * ```ts
 * const pubs = publications.of(article)
 * await pubs.add([p1, p2])          // idempotent; links only what is missing
 * await pubs.set([p2, p3])          // removes p1, adds p3, keeps p2's link row
 * await pubs.filter({ title__startswith: 'Science' }).count()
 * ```
 */
export class RelatedManager<S extends AnyModel, T extends AnyModel, TThrough extends object> {
  readonly #context: ManagerContext
  // The prefetched rows, until a write on this manager drops them (Django's prefetch cache).
  #prefetched: readonly RowOf<T>[] | undefined

  /** @internal Use `relation.of(instance)`. */
  constructor(context: ManagerContext) {
    this.#context = context
    this.#prefetched = context.prefetched as readonly RowOf<T>[] | undefined
  }

  /** Whether reads are answered from rows loaded by `relation.prefetch()`. */
  get isPrefetched(): boolean {
    return this.#prefetched !== undefined
  }

  /** The key of the instance this manager belongs to. */
  get sourceKey(): KeyOf<S> {
    return this.#context.sourceKey as KeyOf<S>
  }

  /** The model of the managed objects. */
  get model(): T {
    return this.#context.targetModel as T
  }

  // ---------------------------------------------------------------- writes

  /**
   * Links the targets. Targets already linked are left as they are (their through values
   * too); keys given twice, or as `3` and `"3"`, count once. Every key must have a target row
   * (`M2M_TARGET_NOT_FOUND` otherwise, with nothing written). Emits `pre_add`/`post_add` with
   * the keys actually added, even when that is none; an empty list does nothing at all.
   */
  async add(targets: TargetsInput<T>, options: ThroughOptions<TThrough> = {}): Promise<void> {
    this.#prefetched = undefined
    const keys = this.#resolveTargets(targets, 'add')
    if (keys.length === 0) return
    const through = this.#resolveThroughValues(options)
    let alone = false
    try {
      // (A required through value left out goes the long way: it is an error only when a key is new.)
      alone = through.missing.length === 0 && this.#mayInsertAlone(keys) && (this.#knownEnforced() ?? (await this.#foreignKeysEnforced()))
      if (alone) {
        // The database's foreign keys refuse a missing row, and the unique pair skips a linked
        // one: one INSERT says it all. A refused row fails the whole statement (nothing written),
        // and #explain then reads once to name it.
        const { adapter, link } = this.#context
        const insert = (store: RelationAdapter): Promise<number | undefined> =>
          storageCall(store, () => store.insertLinks({ link, pairs: this.#linkPairs(keys), values: through.values, refuseMissing: true }))
        if (this.#mirrored()) await this.#inTransaction(insert, READ_THEN_WRITE)
        else await insert(adapter)
        return
      }
      await this.#inTransaction((tx) => this.#addKeys(tx, keys, through), this.#mirrored() ? READ_THEN_WRITE : WRITE)
    } catch (error) {
      // The lone INSERT may also meet a key that no row of the column's type could have (the
      // read first would have found no row for it).
      throw await this.#explain(error, keys, alone ? ['M2M_CONSTRAINT_VIOLATION', 'M2M_STORAGE'] : ['M2M_CONSTRAINT_VIOLATION'])
    }
  }

  /**
   * Whether add() may be one INSERT and nothing else: no listener to tell the added keys to, a
   * unique pair to skip the linked ones, no transaction around the call (a deferred foreign key
   * would only be checked at the caller's COMMIT), an adapter that can say whether the database
   * enforces the join table's foreign keys (then the INSERT needs them to be), and a call of at
   * most LONE_INSERT_KEYS keys: a larger one reads first, which refuses missing targets before
   * any giant INSERT is sent.
   */
  #mayInsertAlone(keys: readonly Key[]): boolean {
    const { adapter, link, core } = this.#context
    return !core.events.active && link.unique && !adapter.inTransaction && adapter.foreignKeysEnforced !== undefined && keys.length <= LONE_INSERT_KEYS
  }

  /** The adapter's answer (read once from the catalog, then remembered by the adapter, and by {@link enforcedAnswers}). */
  async #foreignKeysEnforced(): Promise<boolean> {
    const { adapter, link } = this.#context
    const enforced = await storageCall(adapter, () => adapter.foreignKeysEnforced?.(link) ?? Promise.resolve(false))
    let answers = enforcedAnswers.get(adapter)
    if (answers === undefined) enforcedAnswers.set(adapter, (answers = new WeakMap()))
    answers.set(link, enforced)
    return enforced
  }

  /** The answer {@link RelatedManager.#foreignKeysEnforced} had from this adapter, without waiting for it. */
  #knownEnforced(): boolean | undefined {
    const { adapter, link } = this.#context
    return enforcedAnswers.get(adapter)?.get(link)
  }

  /**
   * Unlinks the targets (every link row of each pair). Targets that are not linked, or have
   * no row at all, are ignored. Emits `pre_remove`/`post_remove` with the keys asked to be
   * removed; an empty list does nothing at all.
   */
  async remove(targets: TargetsInput<T>): Promise<void> {
    this.#prefetched = undefined
    const keys = this.#resolveTargets(targets, 'remove')
    if (keys.length === 0) return
    await this.#deleteLinks(keys)
  }

  /** Unlinks every target. Always emits `pre_clear`/`post_clear` (with `pkSet` null), even when nothing was linked. */
  async clear(): Promise<void> {
    this.#prefetched = undefined
    await this.#deleteLinks(undefined)
  }

  /**
   * Makes the linked targets exactly `targets`. By default it diffs: one read, then removes
   * the links that go and adds the ones that are new, leaving the links that stay untouched
   * (their through values are kept). With `clear: true` it clears and adds everything again.
   * Events: `pre_remove`/`post_remove` if anything goes, then `pre_add`/`post_add` if
   * anything is new; with `clear: true`, `pre_clear`/`post_clear` then the add pair.
   */
  async set(targets: Iterable<TargetInput<T>>, options: SetOptions<TThrough> = {}): Promise<void> {
    this.#prefetched = undefined
    // Callers from JavaScript (or `as any`) can pass anything: check before reading it.
    const input: unknown = targets
    if (typeof input !== 'object' || input === null || typeof (input as Partial<Iterable<unknown>>)[Symbol.iterator] !== 'function') {
      throw new InvalidArgumentError(`set() takes an array (or another iterable) of targets; got ${formatValue(targets)}. Use set([]) to unlink everything.`)
    }
    // Read the iterable once, before any write, so that passing a query's result works.
    const keys = this.#resolveTargets([...targets], 'set')
    const through = this.#resolveThroughValues(options)
    const { link, sourceKey, core } = this.#context
    if (options.clear !== true && through.missing.length === 0 && !core.symmetrical && this.#mayInsertAlone(keys)) {
      let alone = false
      try {
        alone = this.#knownEnforced() ?? (await this.#foreignKeysEnforced())
        if (alone) {
          // Nothing to tell a listener, and foreign keys that refuse a missing row: no read. One
          // DELETE of the links not in the list, one INSERT of the list (the unique pair skips the
          // linked ones), in one transaction: a refused row rolls both back, and #explain names it.
          await this.#inTransaction(async (tx) => {
            await storageCall(tx, () => tx.deleteLinks({ link, source: sourceKey, targets: undefined, mirror: false, ...(keys.length > 0 ? { keep: keys } : {}) }))
            if (keys.length > 0) await storageCall(tx, () => tx.insertLinks({ link, pairs: this.#linkPairs(keys), values: through.values, refuseMissing: true }))
          }, READ_THEN_WRITE)
          return
        }
      } catch (error) {
        throw await this.#explain(error, keys, alone ? ['M2M_CONSTRAINT_VIOLATION', 'M2M_STORAGE'] : ['M2M_CONSTRAINT_VIOLATION'])
      }
    }
    await this.#inTransaction(async (tx) => {
      // Every check on the new targets (they exist, required through values are there) runs
      // before anything is unlinked, so that a failing set() emits no event and writes nothing.
      if (options.clear === true) {
        if (keys.length > 0) {
          const probe = await storageCall(tx, () => tx.probeLinks({ link, source: sourceKey, targets: keys, scope: 'targets' }))
          this.#assertInsertable(keys, probe, through)
        }
        await this.#clear(tx)
        if (keys.length > 0) await this.#insertWithEvents(tx, keys, through)
        return
      }
      const probe = await storageCall(tx, () => tx.probeLinks({ link, source: sourceKey, targets: keys, scope: 'all' }))
      const linked = new Set(probe.linked)
      const wanted = new Set(keys)
      const removed = probe.linked.filter((key) => !wanted.has(key))
      const added = keys.filter((key) => !linked.has(key))
      this.#assertInsertable(added, probe, through)
      if (removed.length > 0) await this.#deleteWithEvents(tx, removed)
      if (added.length > 0) await this.#insertWithEvents(tx, added, through)
    }, READ_THEN_WRITE).catch(async (error: unknown) => {
      throw await this.#explain(error, keys)
    })
  }

  /**
   * Links the target if it is not linked, unlinks it if it is, atomically, and resolves to the
   * new state: `true` when it is now linked. The seeds' favourite button. Without a listener,
   * on an adapter that counts inserted rows, it reads nothing: one `DELETE` when the pair was
   * linked, a `DELETE` and an `INSERT … WHERE EXISTS` when it was not, with no transaction
   * (but a serializable one on a symmetrical relation, outside SQLite and memory). A target or source with no row is refused, foreign keys or not.
   */
  async toggle(target: TargetInput<T>, options: ThroughOptions<TThrough> = {}): Promise<boolean> {
    this.#prefetched = undefined
    const key = resolveTargetKey(target, this.#context.targetModel, 'toggle')
    const through = this.#resolveThroughValues(options)
    const { adapter, link, sourceKey, core } = this.#context
    try {
      // Without a listener, on an adapter that counts inserted rows: no read at all.
      if (!core.events.active && adapter.capabilities.countsInserts) {
        const toggle = (store: RelationAdapter): Promise<boolean> => this.#toggleByCounts(store, key, through)
        return await (this.#mirrored() ? this.#inTransaction(toggle, READ_THEN_WRITE) : this.#alone(toggle))
      }
      // Listeners hear which way the toggle goes before the write, and an adapter that cannot
      // count inserted rows cannot tell a skipped pair from an inserted one: both read first.
      // SERIALIZABLE keeps two concurrent toggles of an unlinked pair from both answering true:
      // the database aborts one, and its retry then reads the pair linked.
      return await this.#inTransaction(async (tx) => {
        const probe = await storageCall(tx, () => tx.probeLinks({ link, source: sourceKey, targets: [key], scope: 'targets' }))
        if (probe.linked.length > 0) {
          await this.#deleteWithEvents(tx, [key])
          return false
        }
        this.#assertInsertable([key], probe, through)
        await this.#insertWithEvents(tx, [key], through)
        return true
      }, READ_THEN_WRITE)
    } catch (error) {
      // The toggle's INSERT may also meet a key that no row of the column's type could have.
      throw await this.#explain(error, [key], ['M2M_CONSTRAINT_VIOLATION', 'M2M_STORAGE'])
    }
  }

  /**
   * toggle() with no listener, on an adapter that counts inserted rows: no transaction of its
   * own for a one-row link (a symmetrical relation's two rows may need one, see #mirrored).
   * Each statement is atomic, and the one that changes something decides the answer: a DELETE
   * that deleted the link (now unlinked), or an INSERT that inserted it (now linked). An
   * INSERT that inserted nothing met a link another caller added after the DELETE: the next
   * DELETE unlinks it, as a toggle run after that caller's must. Concurrent toggles of a pair
   * thus never lose a flip, with no lock held and nothing to retry.
   */
  async #toggleByCounts(adapter: RelationAdapter, key: Key, through: ResolvedThroughValues): Promise<boolean> {
    const { link, sourceKey } = this.#context
    const pairs = this.#linkPairs([key])
    for (let attempt = 1; ; attempt++) {
      if ((await this.#unlink(adapter, [key])) > 0) return false
      if (attempt === 1) this.#assertRequired(through)
      const inserted = await storageCall(adapter, () => adapter.insertLinks({ link, pairs, values: through.values, count: true }))
      if (inserted === undefined || inserted > 0) return true
      // Nothing inserted: a row is missing (the INSERT inserts only pairs whose rows exist,
      // foreign keys or not), or another caller linked the pair after our DELETE. Only this
      // path reads, to tell which.
      const probe = await storageCall(adapter, () => adapter.probeLinks({ link, source: sourceKey, targets: [key], scope: 'targets' }))
      this.#assertInsertable([key], probe, through)
      // Others keep linking the pair between our two statements: give up rather than spin.
      if (attempt >= TOGGLE_ATTEMPTS) {
        throw new StorageError(adapter.name, `toggle() met a link added by another caller ${String(TOGGLE_ATTEMPTS)} times in a row; try again.`)
      }
    }
  }

  /**
   * Whether a link is two rows (a symmetrical relation's pair and its mirror) that only a
   * SERIALIZABLE transaction writes as one change. Where the adapter does not run one writing
   * statement at a time (PostgreSQL, MySQL), concurrent statements meet a statement's rows one
   * at a time: an INSERT of both rows could skip the first (another caller's, just committed)
   * and insert the second after a third caller deleted the pair, storing half a link, and a
   * toggle would answer as if it had flipped it (F15, docs/reliability.md). So the writes that
   * insert those rows run in such a transaction there, even where one statement does for a
   * one-row link. Deletes need none: a DELETE of rows inserted together deletes both or neither.
   * The INSERT that skips linked pairs decides on both rows alike: PostgreSQL's `NOT EXISTS`
   * reads them in the transaction's snapshot (a pair a concurrent DELETE removes after it is
   * skipped whole, not half), and MySQL locks the duplicate rows it skips. create() needs none: nobody else can link a new key yet.
   */
  #mirrored(): boolean {
    return this.#context.core.symmetrical && this.#context.adapter.capabilities.serialStatements !== true
  }

  /**
   * Runs a write that needs no transaction of its own (a lone DELETE, the counted toggle)
   * straight on the adapter; inside a transaction (the caller's, or a listener's `event.using`)
   * in a savepoint, so that a failure undoes only this call and leaves the transaction usable:
   * on PostgreSQL a failed statement would abort the caller's whole transaction, and its
   * COMMIT would silently roll back.
   */
  #alone<R>(work: (adapter: RelationAdapter) => Promise<R>): Promise<R> {
    const { adapter } = this.#context
    return adapter.inTransaction ? this.#inTransaction(work) : work(adapter)
  }

  /**
   * A transaction (or, inside one, a savepoint) for this manager's call. Joinable (calls on the
   * root adapter from inside it join it) only when a listener will run inside, the only code
   * other than the manager's that does: the adapter then need not track the async context,
   * which on Node 20 slows every promise of the process while it is on.
   */
  #inTransaction<R>(work: (tx: RelationAdapter) => Promise<R>, options: TransactionOptions = WRITE): Promise<R> {
    return inTransaction(this.#context.adapter, work, { ...options, joinable: this.#context.core.events.active })
  }

  /**
   * After a failed write (its transaction or savepoint rolled back), the error to report: a
   * constraint violation that a missing row explains (a foreign key refusing a target or the
   * source deleted meanwhile, or a key no row could have) becomes `M2M_TARGET_NOT_FOUND`, or a
   * violation naming the source, by one read on this failure path only; any other error is
   * reported as it is.
   */
  async #explain(error: unknown, keys: readonly Key[], codes: readonly ErrorCode[] = ['M2M_CONSTRAINT_VIOLATION']): Promise<unknown> {
    // Only the storage's own failures (they carry the driver's error): the manager's refusals
    // are explained already, and a lost connection or a conflict is no missing row.
    if (!(error instanceof ThroughlineError) || !codes.includes(error.code) || error.cause === undefined) return error
    const { adapter, link, sourceKey } = this.#context
    const probe = await storageCall(adapter, () => adapter.probeLinks({ link, source: sourceKey, targets: keys, scope: keys.length === 0 ? 'all' : 'targets' })).catch(
      () => undefined,
    )
    if (probe === undefined) return error
    try {
      this.#assertExisting(keys, probe.existing, error)
      this.#assertSource(probe.sourceExists, error)
    } catch (explained) {
      return explained
    }
    return error
  }

  /**
   * Creates a target row and links it, atomically (unlike Django, where a failed link leaves
   * the new row behind). Resolves to the new row, generated key included.
   */
  async create(fields: Partial<RowOf<T>>, options: ThroughOptions<TThrough> = {}): Promise<RowOf<T>> {
    this.#prefetched = undefined
    const values = this.#targetValues(fields, 'create()')
    const through = this.#resolveThroughValues(options)
    try {
      return await this.#inTransaction((tx) => this.#createLinked(tx, values, through))
    } catch (error) {
      throw await this.#explain(error, [])
    }
  }

  /**
   * Finds the one linked target matching `lookup`, or creates and links it. As in Django,
   * only linked targets are searched: an unlinked row that matches is not found, and a new
   * one is created. Resolves to `[row, created]`.
   */
  async getOrCreate(lookup: Where<T>, options: GetOrCreateOptions<T, TThrough> = {}): Promise<[RowOf<T>, boolean]> {
    this.#prefetched = undefined
    const query = this.query().filter(lookup)
    const values = { ...this.#lookupValues(lookup), ...this.#targetValues(options.defaults ?? {}, 'getOrCreate() defaults') }
    const through = this.#resolveThroughValues(options)
    return this.#inTransaction(async (tx) => {
      const found = await this.#findOne(tx, query)
      return found === undefined ? [await this.#createLinked(tx, values, through), true] : [found, false]
    }, READ_THEN_WRITE)
  }

  /**
   * Finds the one linked target matching `lookup` and updates it with `defaults`, or creates
   * and links a new one (with `createDefaults`, else `defaults`). Only linked targets are
   * searched, as in Django. Resolves to `[row, created]`.
   */
  async updateOrCreate(lookup: Where<T>, options: UpdateOrCreateOptions<T, TThrough> = {}): Promise<[RowOf<T>, boolean]> {
    this.#prefetched = undefined
    const query = this.query().filter(lookup)
    const updates = this.#targetValues(options.defaults ?? {}, 'updateOrCreate() defaults')
    const creates = {
      ...this.#lookupValues(lookup),
      ...(options.createDefaults === undefined ? updates : this.#targetValues(options.createDefaults, 'updateOrCreate() createDefaults')),
    }
    const through = this.#resolveThroughValues(options)
    const { targetModel } = this.#context
    return this.#inTransaction(async (tx) => {
      const found = await this.#findOne(tx, query)
      if (found === undefined) return [await this.#createLinked(tx, creates, through), true]
      const key = coerceKey((found as Record<string, unknown>)[targetModel.primaryKey], targetModel)
      if (Object.keys(updates).length > 0) {
        const values = columnNamesOf(targetModel).toStorage(updates)
        await storageCall(tx, () => tx.updateTargets({ target: targetModel.spec, keys: [key], values }))
        Object.assign(found, updates)
      }
      return [found, false]
    }, READ_THEN_WRITE)
  }

  // ----------------------------------------------------------------- reads

  /** A query over the related objects, to refine with `filter`, `orderBy`, `limit`... */
  query(): RelatedQuery<T, TThrough> {
    const { adapter, link, sourceKey, targetModel, core } = this.#context
    return new RelatedQuery<T, TThrough>({ adapter, link, sourceKey, targetModel, through: { scope: core.throughScope, names: core.throughNames } })
  }

  /** The related objects matching `where`. */
  filter(where: Where<T>): RelatedQuery<T, TThrough> {
    return this.query().filter(where)
  }

  /**
   * The related objects except those meeting every condition of `where` (Django's
   * `exclude()`); a null column does not meet a condition on it. See {@link RelatedQuery.exclude}.
   */
  exclude(where: Where<T>): RelatedQuery<T, TThrough> {
    return this.query().exclude(where)
  }

  /**
   * The related objects in the given order; `'-through__created_at'` orders by a through
   * column (see {@link RelatedQuery.orderBy}).
   */
  orderBy(...terms: (OrderBy<T> | ThroughOrderBy<TThrough>)[]): RelatedQuery<T, TThrough> {
    return this.query().orderBy(...terms)
  }

  /** Every related object, in the model's ordering (then primary key). */
  all(): Promise<RowOf<T>[]> {
    if (this.#prefetched !== undefined) return Promise.resolve([...this.#prefetched])
    return this.query().all()
  }

  /**
   * Every related object with the through row that links it, typed from the through
   * definition, in one statement (see {@link RelatedQuery.allWithThrough}).
   *
   * @example
   * ```ts
   * const latest = await favoritedBy.of(interview).orderBy('-through__created_at').limit(3).allWithThrough()
   * ```
   */
  allWithThrough(): Promise<{ row: RowOf<T>; through: TThrough }[]> {
    return this.query().allWithThrough()
  }

  /** The primary keys of the related objects, in order. */
  ids(): Promise<KeyOf<T>[]> {
    if (this.#prefetched !== undefined) return Promise.resolve(this.#prefetched.map((row) => this.#keyOf(row) as KeyOf<T>))
    return this.query().ids()
  }

  /** How many objects are related. */
  count(): Promise<number> {
    if (this.#prefetched !== undefined) return Promise.resolve(this.#prefetched.length)
    return this.query().count()
  }

  /**
   * Every related object, read in pages of `batchSize` in primary-key order (keyset
   * pagination), so that a relation of millions of rows streams in bounded memory.
   *
   * @example
   * ```ts
   * for await (const follower of followers.of(star).stream({ batchSize: 5000 })) notify(follower)
   * ```
   */
  stream(options: { readonly batchSize?: number } = {}): AsyncGenerator<RowOf<T>> {
    return this.query().stream(options)
  }

  /** The one related object matching `where`; `M2M_NOT_FOUND` or `M2M_MULTIPLE_FOUND` otherwise. */
  get(where?: Where<T>): Promise<RowOf<T>> {
    return this.query().get(where)
  }

  /**
   * Whether `target` is linked, or, without an argument, whether anything is.
   *
   * @example
   * ```ts
   * if (await favorites.of(user).exists(interview)) ...
   * ```
   */
  async exists(target?: TargetInput<T>): Promise<boolean> {
    if (target === undefined) return this.#prefetched === undefined ? this.query().exists() : this.#prefetched.length > 0
    const key = resolveTargetKey(target, this.#context.targetModel, 'check')
    if (this.#prefetched !== undefined) return this.#prefetched.some((row) => this.#keyOf(row) === key)
    return this.query()
      .filter({ pk: key } as Where<T>)
      .exists()
  }

  /**
   * Which of `targets` are linked from this instance, in one statement however many: the heart
   * on each card of a list page, without loading a row. Resolves to their keys, coerced (`"3"`
   * is `3`), in the order given; keys with no row or no link are left out.
   *
   * @example
   * ```ts
   * const hearts = new Set(await favorites.of(user).linkedAmong(page.map((interview) => interview.id)))
   * const cards = page.map((interview) => ({ ...interview, liked: hearts.has(interview.id) }))
   * ```
   */
  async linkedAmong(targets: TargetsInput<T>): Promise<KeyOf<T>[]> {
    const keys = this.#resolveTargets(targets, 'check')
    if (keys.length === 0) return []
    if (this.#prefetched !== undefined) {
      const linked = new Set(this.#prefetched.map((row) => this.#keyOf(row)))
      return keys.filter((key) => linked.has(key)) as KeyOf<T>[]
    }
    const { adapter, link, sourceKey, targetModel } = this.#context
    // Within the adapter's bind limit too (Cloudflare D1 binds 100): beyond it, probeLinks chunks.
    if (keys.length <= Math.min(LINKED_AMONG_AS_QUERY, lookupBudget(adapter.capabilities.maxBindParameters))) {
      // A page's worth: the linked rows' keys, joined to the target table by primary key (the
      // read of filter({ pk__in }).ids(), built here from the keys already checked, and in no
      // order: the answer follows the keys given). probeLinks also reads which targets and
      // source exist, which only add() needs: 4× the time for the 20 cards of a list page on SQLite.
      const where = columnNamesOf(targetModel).conditions([{ column: targetModel.primaryKey, op: 'in', value: keys }])
      const query = { where, exclude: [], orderBy: [], limit: undefined, offset: undefined }
      const found = await storageCall(adapter, () => adapter.selectTargetKeys({ link, source: sourceKey, query }))
      const linked = new Set<unknown>(found.map((key) => coerceKey(key, targetModel)))
      return keys.filter((key) => linked.has(key)) as KeyOf<T>[]
    }
    const probe = await storageCall(adapter, () => adapter.probeLinks({ link, source: sourceKey, targets: keys, scope: 'targets' }))
    return probe.linked as KeyOf<T>[]
  }

  /**
   * The link rows of this instance with every through column (seed 002's `collect_at`),
   * optionally only those linking to `targets`. Ordered by the through primary key when the
   * table has one.
   */
  async throughRows(targets?: TargetsInput<T>): Promise<TThrough[]> {
    const keys = targets === undefined ? undefined : this.#resolveTargets(targets, 'check')
    if (keys?.length === 0) return []
    const { adapter, link, sourceKey } = this.#context
    const rows = await storageCall(adapter, () => adapter.selectThroughRows({ link, source: sourceKey, targets: keys }))
    const names = this.#context.core.throughNames
    return (names.mapped ? rows.map((row) => names.fromStorage(row)) : rows) as TThrough[]
  }

  // -------------------------------------------------------------- internals

  #keyOf(row: RowOf<T>): Key {
    const { targetModel } = this.#context
    return coerceKey((row as Record<string, unknown>)[targetModel.primaryKey], targetModel)
  }

  /** The one row of `query` on the transaction's adapter, `undefined` for none; several is an error. */
  async #findOne(tx: RelationAdapter, query: RelatedQuery<T, TThrough>): Promise<RowOf<T> | undefined> {
    const rows = await query.withAdapter(tx).limit(2).all()
    if (rows.length > 1) {
      throw new LookupError('M2M_MULTIPLE_FOUND', `More than one related ${this.#context.targetModel.name} matches the lookup.`)
    }
    return rows[0]
  }

  #resolveTargets(targets: unknown, verb: TargetVerb): Key[] {
    const list: readonly unknown[] = Array.isArray(targets) ? targets : [targets]
    const { targetModel } = this.#context
    const keys = new Set<Key>()
    for (const target of list) keys.add(resolveTargetKey(target, targetModel, verb))
    return [...keys]
  }

  /**
   * Validates `throughDefaults` against the through columns and evaluates it once for the
   * call, adding declared column defaults. Unknown columns are an error on every path (Django
   * ignores them on its fast path). The caller names properties; the values are keyed by
   * database column, for the adapter.
   */
  #resolveThroughValues(options: ThroughOptions<TThrough>): ResolvedThroughValues {
    const input: unknown = options
    if (typeof input !== 'object' || input === null) {
      throw new InvalidArgumentError(`Options must be an object; got ${formatValue(input)}.`)
    }
    const { through, throughNames: names } = this.#context.core
    const given: unknown = options.throughDefaults ?? {}
    if (typeof given !== 'object' || given === null || Array.isArray(given)) {
      throw new InvalidArgumentError(`throughDefaults must be an object of column values; got ${formatValue(given)}.`)
    }
    const values: Row = {}
    for (const property of Object.keys(given)) {
      const column = through.columns.has(property) && !names.mapped ? property : this.#throughColumn(property)
      const value: unknown = (given as Record<string, unknown>)[property]
      const resolved: unknown = typeof value === 'function' ? (value as () => unknown)() : value
      if (resolved !== undefined) values[column] = this.#throughValue(column, property, resolved, 'throughDefaults')
    }
    const missing: string[] = []
    for (const [column, spec] of through.columns) {
      const property = names.property(column)
      if (values[column] === undefined && spec.default !== undefined) {
        const fallback: unknown = spec.default
        const resolved: unknown = typeof fallback === 'function' ? (fallback as () => unknown)() : fallback
        if (resolved !== undefined) values[column] = this.#throughValue(column, property, resolved, `The default of ${through.name}.${property}`)
      }
      if (spec.required === true && (values[column] === undefined || values[column] === null)) missing.push(property)
    }
    return { values, missing }
  }

  /** The column of a property given in `throughDefaults`, which must be an extra column. */
  #throughColumn(property: string): string {
    const { through, throughNames: names } = this.#context.core
    const known = [...through.columns.keys()].map((column) => names.property(column))
    const unknown = (): UnknownColumnError =>
      new UnknownColumnError(
        `throughDefaults: the through table "${through.table}" has no column ${formatValue(property)}` +
          (known.length === 0 ? ' (it has no extra columns).' : `; its extra columns are ${known.join(', ')}.`),
      )
    let column: string
    try {
      column = names.column(property)
    } catch {
      // A database column whose property has another name: not a name the caller may use.
      throw unknown()
    }
    if (through.columns.has(column)) return column
    if (column === through.sourceColumn || column === through.targetColumn || column === through.primaryKey) {
      throw new UnknownColumnError(`throughDefaults cannot set "${property}": the relation sets the link columns itself.`)
    }
    throw unknown()
  }

  /**
   * A through value as stored: a key of its model for another foreign key (an `inviter_id`,
   * which takes a key or a row), a value every adapter stores alike otherwise. Messages name
   * the property.
   */
  #throughValue(column: string, property: string, value: unknown, where: string): unknown {
    const model = this.#context.core.through.references.get(column)
    if (model !== undefined && value !== null) return resolveTargetKey(value, model, 'add')
    // Checked as stored: a converter may store a value no column holds as it is (JSON text of an object).
    const stored = this.#context.core.throughNames.encode(property, value)
    assertColumnValue(stored, where, property)
    return stored
  }

  /**
   * The column values of a target row to create or update, checked: known columns, and values
   * every adapter stores alike (column-value.ts); the primary key is coerced as a key (null
   * asks for a generated one).
   */
  #targetValues(fields: unknown, where: string): Row {
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
      throw new InvalidArgumentError(`${where} takes an object of column values; got ${formatValue(fields)}.`)
    }
    const { targetModel } = this.#context
    const values: Row = {}
    for (const column of Object.keys(fields)) {
      if (!isIdentifier(column) || (targetModel.columns !== undefined && !targetModel.columns.includes(column))) {
        throw new UnknownColumnError(`${where}: ${targetModel.name} has no column ${formatValue(column)}.`)
      }
      const value: unknown = (fields as Record<string, unknown>)[column]
      if (value === undefined) continue
      if (column === targetModel.primaryKey) values[column] = value === null ? null : coerceKey(value, targetModel)
      else {
        // Checked as stored (converted); the row keeps the property's value, converted at the boundary.
        assertColumnValue(columnNamesOf(targetModel).encode(column, value), where, column)
        values[column] = value
      }
    }
    return values
  }

  /** The plain `column: value` entries of a lookup, which a created row takes (as Django does). */
  #lookupValues(lookup: Where<T>): Row {
    const { targetModel } = this.#context
    const plain: Record<string, unknown> = {}
    for (const [name, value] of Object.entries(lookup as Record<string, unknown>)) {
      if (name.includes('__')) continue
      const column = name === 'pk' ? targetModel.primaryKey : name
      // A row stands for its key in a lookup (filter() has checked it).
      plain[column] = column === targetModel.primaryKey && value !== null && value !== undefined ? resolveTargetKey(value, targetModel, 'filter by') : value
    }
    return this.#targetValues(plain, 'lookup')
  }

  /**
   * Checks, from the read before a write, that rows for `keys` can be inserted: each target
   * exists, the source exists, and required through values are given.
   */
  #assertInsertable(keys: readonly Key[], probe: ProbeLinksResult, through: ResolvedThroughValues): void {
    this.#assertExisting(keys, probe.existing)
    if (keys.length === 0) return
    this.#assertSource(probe.sourceExists)
    this.#assertRequired(through)
  }

  /**
   * Refuses to link from a source with no row, with or without a foreign key on the join table
   * (`M2M_CONSTRAINT_VIOLATION`, as the foreign key would), naming the model, the key and the column.
   */
  #assertSource(exists: boolean, cause?: unknown): void {
    if (exists) return
    const { adapter, sourceModel, sourceKey, link } = this.#context
    throw new StorageError(
      adapter.name,
      `constraint violation: no ${sourceModel.name} has ${sourceModel.primaryKey} ${formatValue(sourceKey)}, so nothing can be linked from it ` +
        `("${link.table}"."${link.sourceColumn}"). Create the row first, or check the key.`,
      cause === undefined ? { code: 'M2M_CONSTRAINT_VIOLATION' } : { code: 'M2M_CONSTRAINT_VIOLATION', cause },
    )
  }

  /** Checks that every required through column has a value for this call. */
  #assertRequired(through: ResolvedThroughValues): void {
    if (through.missing.length > 0) {
      throw new MissingThroughValueError(
        `The through table "${this.#context.core.through.table}" needs a value for ${through.missing.map((column) => `"${column}"`).join(', ')}: ` +
          'pass it in throughDefaults or declare a default for the column.',
      )
    }
  }

  #assertExisting(keys: readonly Key[], existing: readonly Key[], cause?: unknown): void {
    if (keys.length === 0) return
    const found = new Set(existing)
    const missing = keys.filter((key) => !found.has(key))
    if (missing.length === 0) return
    const { targetModel } = this.#context
    const shown = missing.slice(0, 5).map(formatValue).join(', ')
    throw new TargetNotFoundError(
      `No ${targetModel.name} has ${targetModel.primaryKey} ${shown}${missing.length > 5 ? ` (and ${String(missing.length - 5)} more)` : ''}. ` +
        'Create the row first, or check the key.',
      missing,
      cause === undefined ? {} : { cause },
    )
  }

  async #addKeys(tx: RelationAdapter, keys: readonly Key[], through: ResolvedThroughValues): Promise<void> {
    const { link, sourceKey } = this.#context
    const probe = await storageCall(tx, () => tx.probeLinks({ link, source: sourceKey, targets: keys, scope: 'targets' }))
    const linked = new Set(probe.linked)
    const missing = keys.filter((key) => !linked.has(key))
    // Keys already linked need nothing: only the ones to insert must exist.
    this.#assertInsertable(missing, probe, through)
    await this.#insertWithEvents(tx, missing, through)
  }

  async #insertWithEvents(tx: RelationAdapter, keys: readonly Key[], through: ResolvedThroughValues): Promise<void> {
    const { link } = this.#context
    await this.#emit(tx, 'pre_add', keys)
    if (keys.length > 0) {
      const pairs = this.#linkPairs(keys)
      await storageCall(tx, () => tx.insertLinks({ link, pairs, values: through.values }))
    }
    await this.#emit(tx, 'post_add', keys)
  }

  /** The `[source, target]` rows that link this instance to `keys`, mirror rows included. */
  #linkPairs(keys: readonly Key[]): (readonly [Key, Key])[] {
    const { sourceKey, core } = this.#context
    const pairs: (readonly [Key, Key])[] = keys.map((key) => [sourceKey, key] as const)
    if (core.symmetrical) {
      // The mirror rows; a self link (a, a) is one row, not two.
      for (const key of keys) if (key !== sourceKey) pairs.push([key, sourceKey])
    }
    // Sorted by (source, target): every adapter inserts (and numbers generated ids) in the
    // same order, and two calls adding overlapping pairs lock the same index entries in the
    // same order, which keeps a database from deadlocking them against each other.
    return pairs.sort(([s1, t1], [s2, t2]) => compareKeys(s1, s2) || compareKeys(t1, t2))
  }

  /**
   * remove() (`keys`) and clear() (`undefined`). With no listener they are one deleteLinks(),
   * atomic by the adapter contract, so no transaction is opened around it: BEGIN and COMMIT
   * cost a round trip each, as much as the DELETE itself for a few keys.
   */
  async #deleteLinks(keys: readonly Key[] | undefined): Promise<void> {
    const { core } = this.#context
    if (!core.events.active) {
      await this.#alone((store) => this.#unlink(store, keys))
      return
    }
    await this.#inTransaction((tx) => (keys === undefined ? this.#clear(tx) : this.#deleteWithEvents(tx, keys)))
  }

  async #deleteWithEvents(tx: RelationAdapter, keys: readonly Key[]): Promise<void> {
    await this.#emit(tx, 'pre_remove', keys)
    await this.#unlink(tx, keys)
    await this.#emit(tx, 'post_remove', keys)
  }

  async #clear(tx: RelationAdapter): Promise<void> {
    await this.#emit(tx, 'pre_clear', null)
    await this.#unlink(tx, undefined)
    await this.#emit(tx, 'post_clear', null)
  }

  /** Deletes this instance's links to `keys` (every link for `undefined`) on `adapter`; resolves to the rows deleted. */
  #unlink(adapter: RelationAdapter, keys: readonly Key[] | undefined): Promise<number> {
    const { link, sourceKey, core } = this.#context
    return storageCall(adapter, () => adapter.deleteLinks({ link, source: sourceKey, targets: keys, mirror: core.symmetrical }))
  }

  async #createLinked(tx: RelationAdapter, values: Row, through: ResolvedThroughValues): Promise<RowOf<T>> {
    const { targetModel } = this.#context
    // Before the target row is inserted, so that nothing is written when the link cannot be.
    this.#assertRequired(through)
    const names = columnNamesOf(targetModel)
    // A null primary key (`getOrCreate({ pk: null })`) asks for a generated one, on every adapter.
    const stored = names.toStorage(values[targetModel.primaryKey] === null ? withoutKey(values, targetModel.primaryKey) : values)
    const row = names.fromStorage(await storageCall(tx, () => tx.insertTarget({ target: targetModel.spec, values: stored })))
    const key = coerceKey(row[targetModel.primaryKey], targetModel)
    const { link, sourceKey } = this.#context
    const counts = tx.capabilities.countsInserts
    // Where the insert cannot tell a pair it skipped for a missing source, read the source
    // first; refuse it after pre_add all the same, as the counted insert does.
    const probe = counts ? undefined : await storageCall(tx, () => tx.probeLinks({ link, source: sourceKey, targets: [key], scope: 'targets' }))
    await this.#emit(tx, 'pre_add', [key])
    if (probe !== undefined) this.#assertSource(probe.sourceExists)
    const inserted = await storageCall(tx, () => tx.insertLinks({ link, pairs: this.#linkPairs([key]), values: through.values, count: counts }))
    // The target row is new: a pair skipped can only be one whose source has no row.
    if (counts && inserted === 0) this.#assertSource(false)
    await this.#emit(tx, 'post_add', [key])
    return tagRow(row, targetModel) as RowOf<T>
  }

  async #emit(tx: RelationAdapter, action: M2MAction, keys: readonly Key[] | null): Promise<void> {
    const { core, instance, reverse, targetModel } = this.#context
    // No listener, no payload: the common path allocates nothing for events.
    if (!core.events.active) return
    const event = {
      action,
      relation: core.name,
      using: tx,
      instance,
      reverse,
      model: targetModel,
      pkSet: keys === null ? null : new Set(keys),
    } as unknown as M2MChangedEvent
    await core.events.emit(event)
  }
}

// The most keys an add() sends as one INSERT with nothing before it (see #mayInsertAlone): a
// million-key call then reads in chunks first, its memory bounded, as before.
const LONE_INSERT_KEYS = 100_000

// How many DELETE-then-INSERT rounds a toggle makes before it gives up (each extra round
// needs another caller to link the same pair in the instant between its two statements).
const TOGGLE_ATTEMPTS = 20

/** Orders keys of one model: numbers and bigints by value, strings by code unit. */
function compareKeys(a: Key, b: Key): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** `values` without the column `key`. */
function withoutKey(values: Row, key: string): Row {
  const rest = { ...values }
  Reflect.deleteProperty(rest, key)
  return rest
}
