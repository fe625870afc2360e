import { sliceCount } from '../manager/slice-count.js'
import type { Condition, Key, LinkConditions, LinkSpec, OrderTerm, RelationAdapter, Row, SourceQuery } from '../adapter/relation-adapter.js'
import { coerceKey } from '../model/coerce-key.js'
import { columnNamesOf, type ColumnNames } from '../model/column-names.js'
import type { AnyModel, KeyOf, RowOf } from '../model/define-model.js'
import { tagRow } from '../model/model-of.js'
import { assertBindable, matchesNothing, parseCount, parseOrderBy, parseWhere, withKeyOrder, type OrderBy, type Where } from '../manager/parse-where.js'
import { storageCall } from '../manager/storage-call.js'

/** What a relation query reads from. Internal. */
export interface RelationQuerySource {
  readonly adapter: RelationAdapter
  readonly link: LinkSpec
  /** The model of the rows returned (`link.source`). */
  readonly model: AnyModel
  /** The model of the linked rows (`link.target`), whose properties `related` conditions name. */
  readonly related: AnyModel
  /** How the join table's properties, which `through` conditions name, map to its columns. */
  readonly through: ColumnNames
}

/** Conditions one link meets together, on properties (the manager works out `unlinked`). Internal. */
export type LinkGroup = Omit<LinkConditions, 'unlinked'>

type QueryState = Omit<SourceQuery, 'orderBy' | 'links'> & { readonly links: readonly LinkGroup[]; readonly orderBy: readonly OrderTerm[] | undefined }

/**
 * A lazy, immutable read of the rows of one side of a relation by what they are linked to:
 * Django's `Article.objects.filter(publications__title__startswith="Science")`. Get one with
 * `relation.filter()` or `relation.exclude()`; nothing runs until `all()`, `first()`, `count()`,
 * `exists()` or `ids()`, each one statement.
 *
 * Like Django's query without `distinct()`, a row comes once per matching link: an article in
 * two "Science" publications comes twice, and `count()` counts it twice. `distinct()` returns
 * each row once.
 *
 * @example
 * ```ts
 * await publications.filter({ title__startswith: 'Science' }).count()            // 2: a2 twice
 * await publications.filter({ title__startswith: 'Science' }).distinct().count() // 1
 * await publications.filter({ pk__in: [p1, p2] }).distinct().all()                // a1, a2
 * await publications.exclude({ pk: p2 }).all()                                    // articles not in p2
 * await publications.reverse.filter({ headline__startswith: 'NASA' }).all()       // publications
 * ```
 */
export class RelationQuery<M extends AnyModel> {
  readonly #source: RelationQuerySource
  readonly #state: QueryState

  /** @internal Use `relation.filter()` or `relation.exclude()`. */
  constructor(source: RelationQuerySource, state: QueryState) {
    this.#source = source
    this.#state = state
  }

  /** Each row once, however many of its links match (Django's `distinct()`). */
  distinct(): RelationQuery<M> {
    return this.#with({ mode: this.#state.mode === 'join' ? 'exists' : this.#state.mode })
  }

  /** Also requires conditions on the returned rows themselves. */
  where(where: Where<M>): RelationQuery<M> {
    return this.#with({ where: [...this.#state.where, ...parseWhere(this.#source.model, where)] })
  }

  /** Orders the rows. Default is the model's `ordering`, then the primary key. */
  orderBy(...terms: OrderBy<M>[]): RelationQuery<M> {
    return this.#with({ orderBy: parseOrderBy(this.#source.model, terms) })
  }

  /** Returns at most `count` rows. */
  limit(count: number): RelationQuery<M> {
    return this.#with({ limit: parseCount(count, 'limit') })
  }

  /** Skips the first `count` rows. */
  offset(count: number): RelationQuery<M> {
    return this.#with({ offset: parseCount(count, 'offset') })
  }

  /** The matching rows, tagged with their model. */
  async all(): Promise<RowOf<M>[]> {
    const query = this.#query()
    if (query === undefined) return []
    const { adapter, link, model } = this.#source
    const rows = await storageCall(adapter, () => adapter.selectSources({ link, query }))
    const names = columnNamesOf(model)
    return rows.map((row: Row) => tagRow(names.fromStorage(row), model) as RowOf<M>)
  }

  /** The first matching row in order, or `undefined`. */
  async first(): Promise<RowOf<M> | undefined> {
    const [row] = await this.limit(1).all()
    return row
  }

  /**
   * How many rows match (a row matching through two links counts twice unless `distinct()`),
   * within `offset()` and `limit()` when given (Django's `qs[2:3].count()`).
   */
  async count(): Promise<number> {
    const query = this.#query()
    if (query === undefined) return 0
    const { adapter, link } = this.#source
    const total = await storageCall(adapter, () => adapter.countSources({ link, query }))
    return sliceCount(total, query.offset, query.limit)
  }

  /** Whether any row matches, within `offset()` and `limit()` when given. */
  async exists(): Promise<boolean> {
    const query = this.#query()
    if (query === undefined) return false
    const { adapter, link } = this.#source
    // A row at `offset` exists exactly when more than `offset` rows match, whatever the order.
    const keys = await storageCall(adapter, () => adapter.selectSourceKeys({ link, query: { ...query, orderBy: [], limit: 1, offset: query.offset } }))
    return keys.length > 0
  }

  /** The primary keys of the matching rows, in order. */
  async ids(): Promise<KeyOf<M>[]> {
    const query = this.#query()
    if (query === undefined) return []
    const { adapter, link, model } = this.#source
    const keys = await storageCall(adapter, () => adapter.selectSourceKeys({ link, query }))
    return keys.map((key: Key) => coerceKey(key, model) as KeyOf<M>)
  }

  #with(changes: Partial<QueryState>): RelationQuery<M> {
    return new RelationQuery<M>(this.#source, { ...this.#state, ...changes })
  }

  /**
   * The query for the adapter, on database columns, or `undefined` when nothing can match (then
   * no statement runs). An empty `in` list matches no link: a `filter()` with one then matches
   * no row, and an `exclude()` with one every row (its AND of subqueries never holds), read
   * with a link condition that no link meets (its source column is never null).
   */
  #query(): SourceQuery | undefined {
    const { model, link, related, through } = this.#source
    const state = this.#state
    if (state.limit === 0 || matchesNothing(state.where)) return undefined
    const { adapter } = this.#source
    assertBindable([...state.where, ...state.links.flatMap((group) => [...group.related, ...group.through])], adapter.capabilities.maxBindParameters, adapter.name)
    const names = columnNamesOf(model)
    const relatedNames = columnNamesOf(related)
    const query: SourceQuery = {
      ...state,
      where: names.conditions(state.where),
      links: state.links.map((group) => ({
        related: relatedNames.conditions(group.related),
        through: through.conditions(group.through),
        unlinked: meetsWithoutLink([...group.related, ...group.through]),
      })),
      orderBy: names.order(withKeyOrder(model, state.orderBy ?? model.ordering)),
    }
    if (!state.links.some((group) => matchesNothing(group.related) || matchesNothing(group.through))) return query
    if (state.mode !== 'not-exists') return undefined
    return { ...query, links: [{ related: [], through: [{ column: link.sourceColumn, op: 'isnull', value: true }], unlinked: false }] }
  }
}

/**
 * Whether a row with no link meets `conditions`, as Django's LEFT JOIN has it: its link's
 * columns are all null, which meets `isnull: true` and nothing else. No condition at all keeps
 * requiring a link (`relation.filter()` reads the linked rows).
 */
function meetsWithoutLink(conditions: readonly Condition[]): boolean {
  return conditions.length > 0 && conditions.every((condition) => condition.op === 'isnull' && condition.value === true)
}
