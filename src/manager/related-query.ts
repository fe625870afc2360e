import { sliceCount } from './slice-count.js'
import type { Condition, Key, LinkedRow, LinkSpec, OrderTerm, RelationAdapter, Row, TargetQuery } from '../adapter/relation-adapter.js'
import { InvalidArgumentError, LookupError } from '../errors/throughline-error.js'
import { coerceKey, resolveTargetKey } from '../model/coerce-key.js'
import { columnNamesOf, type ColumnNames } from '../model/column-names.js'
import { formatValue, type AnyModel, type KeyOf, type RowOf } from '../model/define-model.js'
import { tagRow } from '../model/model-of.js'
import {
  assertBindable,
  matchesNothing,
  modelScope,
  parseConditions,
  parseCount,
  parseOrderBy,
  parseWhere,
  storageOrder,
  withKeyOrder,
  type ColumnScope,
  type OrderBy,
  type ThroughOrderBy,
  type Where,
} from './parse-where.js'
import { storageCall } from './storage-call.js'

/** What a query needs to read. Internal. */
export interface QuerySource {
  readonly adapter: RelationAdapter
  readonly link: LinkSpec
  readonly sourceKey: Key
  readonly targetModel: AnyModel
  /** The join table's columns as properties, which `through__` order terms name, and their database names. */
  readonly through?: { readonly scope: ColumnScope; readonly names: ColumnNames }
}

interface QueryState {
  readonly where: readonly Condition[]
  /** One group per `exclude()`: a row meeting every condition of a group is left out. */
  readonly exclude: readonly (readonly Condition[])[]
  readonly orderBy: readonly OrderTerm[] | undefined
  readonly limit: number | undefined
  readonly offset: number | undefined
}

/**
 * A lazy, immutable read of the objects related to one instance, like a Django QuerySet
 * on a related manager. Nothing runs until `all()`, `first()`, `get()`, `count()`,
 * `exists()` or `ids()`, each of which is one statement.
 *
 * @example
 * ```ts
 * const liked = await user.favorites.filter({ pk: interview.id }).exists()
 * const science = await article.publications.filter({ title__startswith: 'Science' }).all()
 * ```
 */
export class RelatedQuery<T extends AnyModel, TThrough extends object = object> {
  readonly #source: QuerySource
  readonly #state: QueryState

  /** @internal Use `manager.filter()` or `manager.query()`. */
  constructor(source: QuerySource, state: QueryState = { where: [], exclude: [], orderBy: undefined, limit: undefined, offset: undefined }) {
    this.#source = source
    this.#state = state
  }

  /** Narrows the query: every condition of `where` must also hold. */
  filter(where: Where<T>): RelatedQuery<T, TThrough> {
    const conditions = parseWhere(this.#source.targetModel, where)
    return new RelatedQuery<T, TThrough>(this.#source, { ...this.#state, where: [...this.#state.where, ...conditions] })
  }

  /**
   * Leaves out the rows meeting every condition of `where` (Django's `exclude()`): with two
   * conditions, a row meeting only one stays. A row whose column is null is not left out by a
   * condition on that column (`exclude({ rank: 1 })` keeps a null rank), as in Django. Chains
   * with `filter()` and other `exclude()` calls, each of which must also hold.
   *
   * @example
   * ```ts
   * await article.publications.filter({ title__startswith: 'Science' }).exclude({ title__in: ['Science News'] }).all()
   * ```
   */
  exclude(where: Where<T>): RelatedQuery<T, TThrough> {
    const conditions = parseConditions(modelScope(this.#source.targetModel), where, 'exclude()')
    // As Django: exclude() with no condition leaves out nothing, and a condition no row meets
    // (an empty `in` list) leaves out nothing either.
    if (conditions.length === 0 || matchesNothing(conditions)) return this
    return new RelatedQuery<T, TThrough>(this.#source, { ...this.#state, exclude: [...this.#state.exclude, conditions] })
  }

  /**
   * Orders the rows: `orderBy('-title', 'id')`. Default is the model's `ordering`, then the
   * primary key. A term `through__<column>` orders by a column of the through table (Django's
   * `order_by("-favoriteinterview__created_at")`): the most recent likes first.
   *
   * @example
   * ```ts
   * await favoritedBy.reverse.of(user).orderBy('-through__created_at').limit(10).all()
   * ```
   */
  orderBy(...terms: (OrderBy<T> | ThroughOrderBy<TThrough>)[]): RelatedQuery<T, TThrough> {
    return new RelatedQuery<T, TThrough>(this.#source, { ...this.#state, orderBy: parseOrderBy(this.#source.targetModel, terms, this.#source.through?.scope) })
  }

  /** Returns at most `count` rows. */
  limit(count: number): RelatedQuery<T, TThrough> {
    return new RelatedQuery<T, TThrough>(this.#source, { ...this.#state, limit: parseCount(count, 'limit') })
  }

  /** Skips the first `count` rows. */
  offset(count: number): RelatedQuery<T, TThrough> {
    return new RelatedQuery<T, TThrough>(this.#source, { ...this.#state, offset: parseCount(count, 'offset') })
  }

  /**
   * Keyset pagination: the rows after `key` in primary-key order (before it, with
   * `orderBy('-pk')`). Pages stay fast however deep, unlike `offset()`. Without an `orderBy`,
   * the rows are ordered by primary key.
   *
   * @example
   * ```ts
   * const page = await pubs.query().after(lastSeenId).limit(50).all()
   * ```
   */
  after(key: unknown): RelatedQuery<T, TThrough> {
    const { targetModel } = this.#source
    const primaryKey = targetModel.primaryKey
    const order = this.#state.orderBy ?? [{ column: primaryKey, direction: 'asc' as const }]
    const [term] = order
    if (order.length !== 1 || term?.column !== primaryKey || term.through === true) {
      throw new InvalidArgumentError(
      `after() pages by primary key: order by "pk" or "-pk" (or not at all), not by ${order.map((item) => (item.through === true ? `through__${item.column}` : item.column)).join(', ')}.`,
    )
    }
    const condition = { column: primaryKey, op: term.direction === 'asc' ? ('gt' as const) : ('lt' as const), value: resolveTargetKey(key, targetModel, 'filter by') }
    return new RelatedQuery<T, TThrough>(this.#source, { ...this.#state, orderBy: order, where: [...this.#state.where, condition] })
  }

  /**
   * Every matching row, read in pages of `batchSize` (default 1 000) by keyset pagination on
   * the primary key: memory stays bounded however many rows there are. Each page is one
   * statement. A target linked twice (a through table allowing duplicate pairs) comes once.
   */
  async *stream(options: { readonly batchSize?: number } = {}): AsyncGenerator<RowOf<T>> {
    const batchSize = options.batchSize ?? 1000
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
      throw new InvalidArgumentError(`stream() takes a batchSize of 1 or more; got ${formatValue(batchSize)}.`)
    }
    if (this.#state.limit !== undefined || this.#state.offset !== undefined) {
      throw new InvalidArgumentError('stream() reads every matching row: remove limit() and offset().')
    }
    const { targetModel } = this.#source
    const query = this.#state.orderBy === undefined ? this.orderBy('pk') : this
    let last: unknown
    for (;;) {
      const rows = await (last === undefined ? query : query.after(last)).limit(batchSize).all()
      yield* rows
      const tail = rows.at(-1)
      if (rows.length < batchSize || tail === undefined) return
      last = (tail as Record<string, unknown>)[targetModel.primaryKey]
    }
  }

  /** @internal The same query, run on another adapter (the call's transaction). */
  withAdapter(adapter: RelationAdapter): RelatedQuery<T, TThrough> {
    return new RelatedQuery<T, TThrough>({ ...this.#source, adapter }, this.#state)
  }

  /** The related rows, one per link row, tagged with their model. */
  async all(): Promise<RowOf<T>[]> {
    if (this.#matchesNothing()) return []
    const { adapter, link, sourceKey, targetModel } = this.#source
    const rows = await storageCall(adapter, () => adapter.selectTargets({ link, source: sourceKey, query: this.#query() }))
    const names = columnNamesOf(targetModel)
    return rows.map((row: Row) => tagRow(names.fromStorage(row), targetModel) as RowOf<T>)
  }

  /**
   * The related rows, each with the through row that links it (typed from the through
   * definition), in one statement: `{ row, through }`, in the query's order. A target linked
   * twice (a through table allowing duplicate pairs) comes twice, each with its own through row.
   *
   * @example
   * ```ts
   * for (const { row: fan, through } of await favoritedBy.of(interview).orderBy('-through__created_at').limit(3).allWithThrough()) {
   *   console.log(fan.username, through.created_at)
   * }
   * ```
   */
  async allWithThrough(): Promise<{ row: RowOf<T>; through: TThrough }[]> {
    if (this.#matchesNothing()) return []
    const { adapter, link, sourceKey, targetModel } = this.#source
    const linked = await storageCall(adapter, () => adapter.selectLinkedTargets({ link, source: sourceKey, query: this.#query() }))
    const names = columnNamesOf(targetModel)
    const throughNames = this.#source.through?.names
    return linked.map(({ row, through }: LinkedRow) => ({
      row: tagRow(names.fromStorage(row), targetModel) as RowOf<T>,
      through: (throughNames === undefined ? through : throughNames.fromStorage(through)) as TThrough,
    }))
  }

  /** The first row in order, or `undefined`. */
  async first(): Promise<RowOf<T> | undefined> {
    const [row] = await this.limit(1).all()
    return row
  }

  /**
   * The one row matching `where` (and the query). Throws `M2M_NOT_FOUND` when there is none
   * and `M2M_MULTIPLE_FOUND` when there are several, like Django's `get()`.
   */
  async get(where?: Where<T>): Promise<RowOf<T>> {
    const query = where === undefined ? this : this.filter(where)
    const rows = await new RelatedQuery<T, TThrough>(query.#source, { ...query.#state, limit: 2 }).all()
    const { targetModel } = this.#source
    if (rows.length === 0) throw new LookupError('M2M_NOT_FOUND', `No related ${targetModel.name} matches the query.`)
    if (rows.length > 1) throw new LookupError('M2M_MULTIPLE_FOUND', `More than one related ${targetModel.name} matches the query.`)
    return rows[0]!
  }

  /**
   * How many related rows match (duplicate link rows count twice, as in SQL), within
   * `offset()` and `limit()` when given: `query().offset(2).limit(1).count()` is Django's
   * `qs[2:3].count()`, at most 1.
   */
  async count(): Promise<number> {
    if (this.#matchesNothing()) return 0
    const { adapter, link, sourceKey } = this.#source
    const total = await storageCall(adapter, () => adapter.countTargets({ link, source: sourceKey, query: this.#query() }))
    return sliceCount(total, this.#state.offset, this.#state.limit)
  }

  /** Whether any related row matches, within `offset()` and `limit()` when given. */
  async exists(): Promise<boolean> {
    if (this.#matchesNothing()) return false
    const { adapter, link, sourceKey } = this.#source
    // A row at `offset` exists exactly when more than `offset` rows match, whatever the order.
    const keys = await storageCall(adapter, () =>
      adapter.selectTargetKeys({ link, source: sourceKey, query: { ...this.#query(false), limit: 1, offset: this.#state.offset } }),
    )
    return keys.length > 0
  }

  /** The primary keys of the related rows, in order. */
  async ids(): Promise<KeyOf<T>[]> {
    if (this.#matchesNothing()) return []
    const { adapter, link, sourceKey, targetModel } = this.#source
    const keys = await storageCall(adapter, () => adapter.selectTargetKeys({ link, source: sourceKey, query: this.#query() }))
    // Drivers may return keys in another type (PostgreSQL bigint as a string): coerce them back.
    return keys.map((key) => coerceKey(key, targetModel) as KeyOf<T>)
  }

  /** The order for the adapter, on database columns: through terms named by the through table's names. */
  #order(names: ColumnNames): readonly OrderTerm[] {
    const { targetModel, through } = this.#source
    const terms = withKeyOrder(targetModel, this.#state.orderBy ?? targetModel.ordering)
    return through === undefined ? names.order(terms) : storageOrder(terms, names, through.names)
  }

  // `in: []` can match nothing: answer without a statement rather than send `IN ()`.
  #matchesNothing(): boolean {
    return this.#state.limit === 0 || matchesNothing(this.#state.where)
  }

  /**
   * The query for the adapter: conditions and order on database columns; `ordered: false` for
   * a read whose order does not matter (exists()).
   */
  #query(ordered = true): TargetQuery {
    const { targetModel, adapter } = this.#source
    const { where, exclude } = this.#state
    // One condition and no exclude (filter({ pk }).exists()): nothing to gather first.
    assertBindable(exclude.length === 0 ? where : [...where, ...exclude.flat()], adapter.capabilities.maxBindParameters, adapter.name)
    const names = columnNamesOf(targetModel)
    return {
      where: names.conditions(where),
      exclude: exclude.length === 0 ? [] : exclude.map((group) => names.conditions(group)),
      orderBy: ordered ? this.#order(names) : [],
      limit: this.#state.limit,
      offset: this.#state.offset,
    }
  }
}

