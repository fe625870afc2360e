import type { Condition, Key, LinkSpec, RelationAdapter, SourceQuery } from '../adapter/relation-adapter.js'
import { DefinitionError, InvalidArgumentError } from '../errors/throughline-error.js'
import { RelationEvents, type M2MEventFor, type M2MEventName, type M2MListener } from '../events/relation-events.js'
import {
  assertBindable,
  matchesNothing,
  modelScope,
  parseConditions,
  parseCount,
  parseOrderBy,
  storageOrder,
  withKeyOrder,
  type ColumnScope,
  type OrderBy,
  type ThroughOrderBy,
  type ThroughWhere,
  type Where,
} from '../manager/parse-where.js'
import { RelatedManager } from '../manager/related-manager.js'
import { storageCall } from '../manager/storage-call.js'
import { resolveSourceKey } from '../model/coerce-key.js'
import { ColumnNames, columnNamesOf } from '../model/column-names.js'
import type { AnyModel, KeyOf, RowOf } from '../model/define-model.js'
import type { Through, ThroughColumn } from '../model/define-through.js'
import { isIdentifier } from '../model/identifier.js'
import { tagRow } from '../model/model-of.js'
import { checkSchema, type SchemaReport } from '../schema/check-schema.js'
import { Prefetched } from './prefetched.js'
import { RelationQuery, type LinkGroup } from './relation-query.js'

/**
 * What `of()` takes: a whole row of the model or a raw key (for a model with a `Branded` row
 * type, a branded row: one throughline returned, or one tagged with `asRow()`).
 */
export type SourceInput<S extends AnyModel> = RowOf<S> | KeyOf<S> | (KeyOf<S> extends number | bigint ? string : never)

/** Options of {@link Relation.filter} and {@link Relation.exclude}. */
export interface RelationFilterOptions<TThrough extends object> {
  /** Conditions on the join table's columns (Django's `filter(membership__invite_reason=...)`). */
  readonly through?: ThroughWhere<TThrough>
}

/** Options of {@link Relation.exclude}. */
export interface RelationExcludeOptions<TThrough extends object> extends RelationFilterOptions<TThrough> {
  /**
   * Leave out only the rows with one link meeting every condition together, rather than
   * Django's rule for `exclude()` across a relation (each condition met by a link of its own).
   * Django writes it `exclude(publications__in=Publication.objects.filter(...))`.
   */
  readonly sameLink?: boolean
}

/** Options of {@link Relation.prefetch}. */
export interface PrefetchOptions<T extends AnyModel, TThrough extends object = object> {
  /** Only the related rows matching these conditions (Django's `Prefetch(queryset=...)`). */
  readonly where?: Where<T>
  /**
   * The order of each instance's rows. Default is the model's `ordering`, then the primary key.
   * `'-through__created_at'` orders by a through column, as a related manager's `orderBy()`.
   */
  readonly orderBy?: readonly (OrderBy<T> | ThroughOrderBy<TThrough>)[]
  /**
   * The most rows of each instance, the first in `orderBy` order: the three latest fans of each
   * interview (Django's `Prefetch(queryset=qs.order_by(…)[:3])`), still one statement (a window
   * function). `prefetched.rows(instance)` holds them; `prefetched.of(instance)` then reads
   * storage, so that its `count()` is every row's, not the limit's.
   */
  readonly limit?: number
}

/** Options of {@link Relation.countsOf}. */
export interface CountsOfOptions<T extends AnyModel, TThrough extends object> {
  /** Count only the links to rows matching these conditions (Django's `Count("tags", filter=Q(tags__name="x"))`). */
  readonly where?: Where<T>
  /** Count only the links whose join table row matches these conditions (`filter=Q(membership__invite_reason=...)`). */
  readonly through?: ThroughWhere<TThrough>
  /** Count each related row once, however many link rows link it (Django's `Count(..., distinct=True)`). */
  readonly distinct?: boolean
}

// A key type, or every key type when the model is `AnyModel` (whose key type is `any`).
type KeyValueOf<M extends AnyModel> = 0 extends 1 & KeyOf<M> ? Key : KeyOf<M>

// Flattens an intersection, so that the row reads `{ id: number; user_id: number; ... }`.
type Flatten<T> = { [K in keyof T]: T[K] }

/**
 * The row type of an auto-created join table: an `id` and the two key columns, named as
 * Django and `manyToMany()` name them: `<source>_id` and `<target>_id` (model names in lower
 * case), or `from_<model>_id` and `to_<model>_id` when both models have the same name (a self
 * relation). For `manyToMany(User, Interview, { name: 'favorites' })` it is
 * `{ id: number; user_id: number; interview_id: number }`.
 *
 * The column names need the models' literal names (see `defineModel`); for a model whose name
 * is typed `string`, it is an `id` and any column holding a key of either model.
 */
export type AutoThroughRow<S extends AnyModel = AnyModel, T extends AnyModel = S> = string extends S['name'] | T['name']
  ? { id: number; [column: string]: KeyValueOf<S> | KeyValueOf<T> | number }
  : Lowercase<S['name']> extends Lowercase<T['name']>
    ? Flatten<{ id: number } & Record<`from_${Lowercase<S['name']>}_id`, KeyValueOf<S>> & Record<`to_${Lowercase<T['name']>}_id`, KeyValueOf<T>>>
    : Flatten<{ id: number } & Record<`${Lowercase<S['name']>}_id`, KeyValueOf<S>> & Record<`${Lowercase<T['name']>}_id`, KeyValueOf<T>>>

/** Options of {@link manyToMany}. */
export interface ManyToManyOptions<TThrough extends object> {
  /**
   * The relation's name on the source model, like the Django field name (`'publications'`).
   * It names the auto join table: `<source table>_<name>`.
   */
  readonly name: string
  /**
   * An explicit through table with extra columns ({@link defineThrough}). Default is an auto
   * join table with Django's names: columns `<source>_id` and `<target>_id` (for a self
   * relation `from_<model>_id` and `to_<model>_id`), an `id` primary key and a unique pair.
   */
  readonly through?: Through<TThrough>
  /**
   * `[sourceColumn, targetColumn]`: which two foreign keys of the through table link the
   * source and the target, when the table has more than one to a side (`['shop_id', 'account_id']`
   * beside an `inviter_id`). The first points at the source model, as in Django.
   */
  readonly throughFields?: readonly [string, string]
  /**
   * For a self relation: whether a link is mutual (friends) rather than one-way (followers).
   * A symmetrical relation writes and deletes both rows `(a, b)` and `(b, a)`, and has no
   * reverse side. Default is `true` for a self relation, as in Django; only a self relation
   * can be symmetrical.
   */
  readonly symmetrical?: boolean
  /**
   * The name of the reverse side (Django's `related_name`). Default is `<source model>_set`
   * in lower case. A name ending in `'+'` hides the reverse side.
   */
  readonly relatedName?: string
  /** The adapter the relation uses. Another can be given later with `using()`. */
  readonly adapter?: RelationAdapter
}

/**
 * The join table of a relation, as resolved at definition time: the table as the database has
 * it, so every name here is a database column (for a through table whose `columnNames` renames
 * its properties, `columnNames` maps them; throughDefaults and through conditions name properties).
 */
export interface ThroughInfo {
  /** The through name: the `defineThrough()` name, or Django's `<Source>_<name>` for an auto table. */
  readonly name: string
  /** The join table. */
  readonly table: string
  /** The join table's own primary key column, if any. */
  readonly primaryKey: string | undefined
  /** The column holding the declaring (source) model's key. */
  readonly sourceColumn: string
  /** The column holding the target model's key. */
  readonly targetColumn: string
  /** Columns link rows may be given values for, with their options. */
  readonly columns: ReadonlyMap<string, ThroughColumn>
  /** The extra columns that are foreign keys (an `inviter_id`), with the model each points at. */
  readonly references: ReadonlyMap<string, AnyModel>
  /** The database column of each row property whose column has another name; empty for most tables. */
  readonly columnNames: Readonly<Record<string, string>>
  /** Whether the pair of link columns is unique. */
  readonly unique: boolean
  /** Whether throughline named this table itself (no `through` option). */
  readonly auto: boolean
}

/** What both sides of a relation share. Internal. */
export interface RelationCore {
  readonly name: string
  readonly source: AnyModel
  readonly target: AnyModel
  readonly symmetrical: boolean
  readonly reverseName: string
  readonly reverseHidden: boolean
  readonly through: ThroughInfo
  /** How the through rows' properties map to the join table's columns. */
  readonly throughNames: ColumnNames
  /** The join table's columns as properties, for conditions on them. */
  readonly throughScope: ColumnScope
  readonly forward: LinkSpec
  readonly backward: LinkSpec
  readonly events: RelationEvents
}

/**
 * One side of a many-to-many relation, bound to an adapter. `of(instance)` gives the
 * {@link RelatedManager} of one instance; `reverse` is the other side.
 */
export class Relation<S extends AnyModel, T extends AnyModel, TThrough extends object = AutoThroughRow<S, T>> {
  readonly #core: RelationCore
  readonly #adapter: RelationAdapter | undefined
  readonly #reverse: boolean

  /** @internal Use {@link manyToMany}. */
  constructor(core: RelationCore, adapter: RelationAdapter | undefined, reverse: boolean) {
    this.#core = core
    this.#adapter = adapter
    this.#reverse = reverse
  }

  /** This side's name: the relation name, or the reverse name on the reverse side. */
  get name(): string {
    return this.#reverse ? this.#core.reverseName : this.#core.name
  }

  /** The model whose instances `of()` takes. */
  get source(): S {
    return (this.#reverse ? this.#core.target : this.#core.source) as S
  }

  /** The model of the objects this side manages. */
  get target(): T {
    return (this.#reverse ? this.#core.source : this.#core.target) as T
  }

  /** Whether this is the reverse side (Django's `article_set`). */
  get isReverse(): boolean {
    return this.#reverse
  }

  /** Whether links are mutual and written in both directions. */
  get symmetrical(): boolean {
    return this.#core.symmetrical
  }

  /** The join table. */
  get through(): ThroughInfo {
    return this.#core.through
  }

  /** The storage description this side hands to adapters. */
  get link(): LinkSpec {
    return this.#reverse ? this.#core.backward : this.#core.forward
  }

  /** The adapter this relation is bound to, if any. */
  get adapter(): RelationAdapter | undefined {
    return this.#adapter
  }

  /**
   * The other side: `publications.reverse.of(p1)` manages the articles of a publication.
   * A symmetrical relation and a relation whose `relatedName` ends in `'+'` have none.
   */
  get reverse(): Relation<T, S, TThrough> {
    if (this.#core.symmetrical) {
      throw new DefinitionError(
        `${this.#core.source.name}.${this.#core.name} is symmetrical: both sides are the same, so it has no reverse. Use the relation itself.`,
        'M2M_REVERSE_HIDDEN',
      )
    }
    if (!this.#reverse && this.#core.reverseHidden) {
      throw new DefinitionError(
        `${this.#core.source.name}.${this.#core.name} hides its reverse side (relatedName ends with "+").`,
        'M2M_REVERSE_HIDDEN',
      )
    }
    return new Relation<T, S, TThrough>(this.#core, this.#adapter, !this.#reverse)
  }

  /** The same relation on another adapter: a transaction, another database, a test store. */
  using(adapter: RelationAdapter): Relation<S, T, TThrough> {
    return new Relation<S, T, TThrough>(this.#core, adapter, this.#reverse)
  }

  /**
   * The manager of one instance's related objects. Throws `M2M_UNSAVED_SOURCE` at once when
   * the instance has no primary key, as Django does when the attribute is read.
   *
   * @example
   * ```ts
   * await favorites.of(user).toggle(interview)
   * ```
   */
  of(instance: SourceInput<S>): RelatedManager<S, T, TThrough> {
    const sourceKey = resolveSourceKey(instance, this.source)
    return this.#manager(instance, sourceKey, undefined)
  }

  /**
   * The rows of this side's model by what they are linked to, like Django's
   * `Article.objects.filter(publications__title__startswith="Science")`: conditions on the
   * linked rows, and (`through`) on the join table's columns. A row comes once per matching
   * link until `distinct()`. One statement.
   *
   * @example
   * ```ts
   * await publications.filter({ title__startswith: 'Science' }).distinct().all() // articles
   * await members.reverse.filter({}, { through: { invite_reason: 'She was just awesome.' } }).all()
   * ```
   */
  filter(where: Where<T> = {}, options: RelationFilterOptions<TThrough> = {}): RelationQuery<S> {
    return this.#query('join', where, options)
  }

  /**
   * The rows of this side's model except those matching the conditions, like Django's
   * `Article.objects.exclude(publications=p2)`; rows with no links at all included. As in
   * Django, each condition (each entry of `where` and of `through`) is its own subquery: a row
   * is left out when every condition is met by one of its links, not necessarily the same one
   * (`exclude({ title__startswith: 'Science', title__contains: 'Python' })` leaves out an
   * article in "Science News" and in "The Python Journal"). With `sameLink`, only the rows
   * with one link meeting every condition are left out. With no condition, the rows with no
   * link are returned.
   *
   * @example
   * ```ts
   * await publications.exclude({ pk: p2 }).all()                     // articles not in p2
   * await members.exclude({ name: 'Bob' }, { through: { invite_reason: 'Awesome' } }).all()
   * await members.exclude({ name: 'Bob' }, { through: { invite_reason: 'Awesome' }, sameLink: true }).all()
   * ```
   */
  exclude(where: Where<T> = {}, options: RelationExcludeOptions<TThrough> = {}): RelationQuery<S> {
    return this.#query('not-exists', where, options)
  }

  /**
   * Loads the related rows of many instances in one statement (Django's `prefetch_related`):
   * no N+1. `prefetched.of(instance)` then answers `all()`, `count()`, `exists()` and `ids()`
   * without a statement, until a write on that manager drops the prefetched rows.
   *
   * @example
   * ```ts
   * const prefetched = await publications.prefetch(articles)
   * for (const article of articles) console.log(await prefetched.of(article).all()) // no statement
   * const latestFans = await favoritedBy.prefetch(interviews, { orderBy: ['-through__created_at'], limit: 3 })
   * latestFans.rows(interview) // the 3 latest fans of each interview, one statement for all
   * ```
   */
  async prefetch(instances: readonly SourceInput<S>[], options: PrefetchOptions<T, TThrough> = {}): Promise<Prefetched<S, T, TThrough>> {
    if (!Array.isArray(instances)) {
      throw new InvalidArgumentError(`prefetch() takes an array of ${this.source.name} rows or keys; got ${typeof instances}.`)
    }
    const target = this.target
    const keys = [...new Set(instances.map((instance) => resolveSourceKey(instance, this.source)))]
    const where = options.where === undefined ? [] : parseConditions(modelScope(target), options.where, 'prefetch()')
    const { throughNames, throughScope } = this.#core
    const orderBy = withKeyOrder(target, options.orderBy === undefined ? target.ordering : parseOrderBy(target, options.orderBy, throughScope))
    const limit = options.limit === undefined ? undefined : parseCount(options.limit, 'limit')
    const grouped = new Map<Key, RowOf<T>[]>(keys.map((key) => [key, []]))
    if (keys.length > 0 && !matchesNothing(where) && limit !== 0) {
      const adapter = this.#requireAdapter()
      assertBindable(where, adapter.capabilities.maxBindParameters, adapter.name)
      const names = columnNamesOf(target)
      const query = { where: names.conditions(where), exclude: [], orderBy: storageOrder(orderBy, names, throughNames), limit, offset: undefined }
      const rows = await storageCall(adapter, () => adapter.prefetchTargets({ link: this.link, sources: keys, query }))
      for (const { source, row } of rows) grouped.get(source)?.push(tagRow(names.fromStorage(row), target) as RowOf<T>)
    }
    // With a limit the rows are a few of each instance's: its manager reads storage, so that
    // count() and exists() answer for every row (Django's prefetch cache would answer 3).
    return new Prefetched<S, T, TThrough>(this.source, grouped, (instance, key, rows) => this.#manager(instance, key, limit === undefined ? rows : undefined))
  }

  /**
   * How many rows each of `instances` is linked to, in one statement however many instances:
   * Django's `annotate(Count("favorited_by"))` for a list page, with `count()`'s rules (a pair
   * stored twice counts twice unless `distinct`; a link to a missing row does not count). The
   * map holds every instance's key, coerced, in the order given, with 0 for one with no link
   * (or no row). `where` and `through` count only the links meeting them, as `Count(..., filter=Q(...))`.
   *
   * @example
   * ```ts
   * const hearts = await favoritedBy.countsOf(page) // Map { 1 => 2, 2 => 0, … }
   * const cards = page.map((interview) => ({ ...interview, hearts: hearts.get(interview.id) ?? 0 }))
   * await favoritedBy.countsOf(page, { through: { created_at__gte: lastWeek } }) // likes this week
   * ```
   */
  async countsOf(instances: readonly SourceInput<S>[], options: CountsOfOptions<T, TThrough> = {}): Promise<Map<KeyOf<S>, number>> {
    if (!Array.isArray(instances)) {
      throw new InvalidArgumentError(`countsOf() takes an array of ${this.source.name} rows or keys; got ${typeof instances}.`)
    }
    const distinct: unknown = options.distinct ?? false
    if (typeof distinct !== 'boolean') throw new InvalidArgumentError(`countsOf(): distinct is true or false; got ${typeof distinct}.`)
    const keys = [...new Set(instances.map((instance) => resolveSourceKey(instance, this.source)))]
    const counts = new Map<KeyOf<S>, number>(keys.map((key) => [key as KeyOf<S>, 0]))
    const related = options.where === undefined ? [] : parseConditions(modelScope(this.target), options.where, 'countsOf()')
    const through = options.through === undefined ? [] : parseConditions(this.#core.throughScope, options.through, 'through')
    // No instance, or a condition no link meets (an empty `in` list): zeros, without a statement.
    if (keys.length === 0 || matchesNothing(related) || matchesNothing(through)) return counts
    const adapter = this.#requireAdapter()
    assertBindable([...related, ...through], adapter.capabilities.maxBindParameters, adapter.name)
    const input = { link: this.link, sources: keys, related: columnNamesOf(this.target).conditions(related), through: this.#core.throughNames.conditions(through), distinct }
    for (const { source, count } of await storageCall(adapter, () => adapter.countLinks(input))) {
      if (counts.has(source as KeyOf<S>)) counts.set(source as KeyOf<S>, count)
    }
    return counts
  }

  /**
   * Deletes every link of an instance in this relation, as `ON DELETE CASCADE` does when the
   * row is deleted: for a database without that foreign key, or the memory adapter, call it
   * before deleting the row. Both columns are cleared for a self relation. No events (a
   * cascade sends none in Django either). One statement; resolves to the rows deleted.
   */
  async deleteLinksOf(instance: SourceInput<S>): Promise<number> {
    const key = resolveSourceKey(instance, this.source)
    const adapter = this.#requireAdapter()
    const self = this.#core.source === this.#core.target
    return storageCall(adapter, () => adapter.deleteLinks({ link: this.link, source: key, targets: undefined, mirror: self }))
  }

  /**
   * Reads the relation's tables in the real database (the join table, the source and target
   * tables) and compares them with the definition: missing tables and columns, no unique
   * index or primary key on exactly the pair of a unique relation, NOT NULL columns that
   * nothing fills, link columns of the wrong key type. Every mismatch is reported at once, in
   * one `SchemaMismatchError` (`M2M_SCHEMA_MISMATCH`) whose `mismatches` list them; with
   * none, resolves to the report, whose `warnings` note link columns without foreign keys.
   * Either side of a relation checks the same tables. Run it first on existing tables.
   *
   * Throws `M2M_SCHEMA_UNAVAILABLE` on an adapter that cannot read its schema (no
   * `describeTable`). The memory adapter has no fixed columns: it reports only a warning.
   *
   * @example
   * ```ts
   * try {
   *   const report = await likes.check()
   *   for (const warning of report.warnings) console.warn(warning.message)
   * } catch (error) {
   *   if (error instanceof SchemaMismatchError) console.error(error.mismatches.map((m) => m.message))
   *   throw error
   * }
   * ```
   */
  async check(): Promise<SchemaReport> {
    const { source, target, through, forward } = this.#core
    return checkSchema(this.#requireAdapter(), {
      relation: `${source.name}.${this.#core.name}`,
      table: through.table,
      primaryKey: through.primaryKey,
      sourceColumn: through.sourceColumn,
      targetColumn: through.targetColumn,
      columns: through.columns,
      references: forward.references,
      unique: through.unique,
      source: source.spec,
      target: target.spec,
    })
  }

  #query(mode: SourceQuery['mode'], where: Where<T>, options: RelationExcludeOptions<TThrough>): RelationQuery<S> {
    const context = mode === 'join' ? 'filter()' : 'exclude()'
    const relatedScope = modelScope(this.target)
    const throughScope = this.#core.throughScope
    const related = parseConditions(relatedScope, where, context)
    const through = options.through === undefined ? [] : parseConditions(throughScope, options.through, 'through')
    let links: LinkGroup[] = [{ related, through }]
    // Django's exclude() across a multi-valued relation: one subquery per condition (a `range`
    // is one condition, its two bounds on one link). filter() keeps them on one link.
    if (mode === 'not-exists' && options.sameLink !== true && related.length + through.length > 0) {
      const entries = (scope: ColumnScope, object: object | undefined, name: string): Condition[][] =>
        object === undefined ? [] : Object.keys(object).map((key) => parseConditions(scope, { [key]: (object as Record<string, unknown>)[key] }, name))
      links = [
        ...entries(relatedScope, where, context).map((conditions) => ({ related: conditions, through: [] })),
        ...entries(throughScope, options.through, 'through').map((conditions) => ({ related: [], through: conditions })),
      ]
    }
    return new RelationQuery<S>(
      { adapter: this.#requireAdapter(), link: this.link, model: this.source, related: this.target, through: this.#core.throughNames },
      { where: [], links, mode, orderBy: undefined, limit: undefined, offset: undefined },
    )
  }

  #requireAdapter(): RelationAdapter {
    if (this.#adapter === undefined) {
      throw new DefinitionError(
        `${this.#core.source.name}.${this.#core.name} has no adapter: pass { adapter } to manyToMany() or call .using(adapter).`,
        'M2M_NO_ADAPTER',
      )
    }
    return this.#adapter
  }

  #manager(instance: unknown, sourceKey: Key, prefetched: readonly RowOf<T>[] | undefined): RelatedManager<S, T, TThrough> {
    return new RelatedManager<S, T, TThrough>({
      core: this.#core,
      link: this.link,
      reverse: this.#reverse,
      adapter: this.#requireAdapter(),
      instance,
      sourceKey,
      sourceModel: this.source,
      targetModel: this.target,
      prefetched,
    })
  }

  /**
   * Listens to this relation's changes, from both sides, with Django's `m2m_changed` meaning.
   * Resolves nothing; returns a function that removes the listener.
   *
   * @example
   * ```ts
   * const off = publications.on('post_add', ({ instance, pkSet }) => audit(instance, pkSet))
   * ```
   */
  on<N extends M2MEventName>(name: N, listener: (event: M2MEventFor<N, S, T>) => void | Promise<void>): () => void {
    return this.#core.events.on(name, listener as M2MListener)
  }
}

/**
 * Declares a self relation: a model related to itself (friends, followers), as Django's
 * `ManyToManyField("self")`. Both sides manage rows of `source`.
 *
 * @example
 * ```ts
 * const friends = manyToMany(Person, 'self', { name: 'friends', adapter }) // symmetrical
 * ```
 */
export function manyToMany<S extends AnyModel, TThrough extends object = AutoThroughRow<S, S>>(
  source: S,
  target: 'self',
  options: ManyToManyOptions<TThrough>,
): Relation<S, S, TThrough>
/**
 * Declares a many-to-many relation between two existing models.
 *
 * @example
 * ```ts
 * const publications = manyToMany(Article, Publication, { name: 'publications', adapter })
 * await publications.of(article).add([p1, p2])
 * await publications.reverse.of(p1).all() // the articles of p1
 * ```
 */
export function manyToMany<S extends AnyModel, T extends AnyModel, TThrough extends object = AutoThroughRow<S, T>>(
  source: S,
  target: T,
  options: ManyToManyOptions<TThrough>,
): Relation<S, T, TThrough>
export function manyToMany<S extends AnyModel, T extends AnyModel, TThrough extends object>(
  source: S,
  target: T | 'self',
  options: ManyToManyOptions<TThrough>,
): Relation<S, T, TThrough> {
  const targetModel = (target === 'self' ? source : target) as T
  const core = defineCore(source, targetModel, options)
  return new Relation<S, T, TThrough>(core, options.adapter, false)
}

function isModel(value: unknown): value is AnyModel {
  return typeof value === 'object' && value !== null && 'spec' in value && 'primaryKey' in value
}

function defineCore(source: AnyModel, target: AnyModel, options: ManyToManyOptions<object>): RelationCore {
  if (!isModel(source) || !isModel(target)) {
    throw new DefinitionError('manyToMany(source, target, options) takes two models from defineModel() (or "self" as the target).')
  }
  const { name } = options
  const where = `manyToMany(${source.name}.${name})`
  if (!isIdentifier(name)) throw new DefinitionError(`${where}: name must be a plain identifier such as "publications".`)
  const self = source === target
  if (options.symmetrical === true && !self) {
    throw new DefinitionError(`${where}: only a self relation (${source.name} to ${source.name}) can be symmetrical; this one goes to ${target.name}.`)
  }
  const symmetrical = self && options.symmetrical !== false
  const { relatedName } = options
  if (relatedName !== undefined) {
    if (symmetrical) {
      throw new DefinitionError(`${where}: relatedName has no effect on a symmetrical relation, which has no reverse side. Remove it, or set symmetrical: false.`)
    }
    if (!isIdentifier(relatedName.replace(/\+$/, '')) && relatedName !== '+') {
      throw new DefinitionError(`${where}: relatedName must be an identifier, or end with "+" to hide the reverse side.`)
    }
  }
  const through = options.through === undefined ? autoThrough(source, target, name) : explicitThrough(source, target, options, where)
  const throughNames = options.through === undefined ? ColumnNames.identity : columnNamesOf(options.through)
  for (const model of [source, target]) {
    if (through.table === model.table) {
      throw new DefinitionError(`${where}: the join table "${through.table}" clashes with the table of ${model.name}.`)
    }
  }
  const columns = [
    ...(through.primaryKey === undefined ? [] : [through.primaryKey]),
    through.sourceColumn,
    through.targetColumn,
    ...through.columns.keys(),
  ]
  const link = (from: AnyModel, to: AnyModel, sourceColumn: string, targetColumn: string): LinkSpec =>
    Object.freeze({
      table: through.table,
      primaryKey: through.primaryKey,
      sourceColumn,
      targetColumn,
      columns: Object.freeze(columns),
      unique: through.unique,
      references: Object.freeze([...through.references].map(([column, model]) => Object.freeze({ column, target: model.spec }))),
      source: from.spec,
      target: to.spec,
    })
  return Object.freeze({
    name,
    source,
    target,
    symmetrical,
    reverseName: relatedName ?? `${source.name.toLowerCase()}_set`,
    reverseHidden: relatedName?.endsWith('+') ?? false,
    through,
    throughNames,
    throughScope: throughScope(through, throughNames, columns, source, target),
    forward: link(source, target, through.sourceColumn, through.targetColumn),
    backward: link(target, source, through.targetColumn, through.sourceColumn),
    events: new RelationEvents(),
  })
}

/** The columns of the join table as properties, for conditions on them; key columns coerced by their model. */
function throughScope(through: ThroughInfo, names: ColumnNames, columns: readonly string[], source: AnyModel, target: AnyModel): ColumnScope {
  const property = (column: string): string => names.property(column)
  const keys = new Map<string, AnyModel>([
    [property(through.sourceColumn), source],
    [property(through.targetColumn), target],
    ...[...through.references].map(([column, model]) => [property(column), model] as const),
  ])
  return Object.freeze({
    name: through.name,
    columns: Object.freeze(columns.map(property)),
    primaryKey: through.primaryKey === undefined ? undefined : property(through.primaryKey),
    keys,
  })
}

function autoThrough(source: AnyModel, target: AnyModel, name: string): ThroughInfo {
  const from = source.name.toLowerCase()
  const to = target.name.toLowerCase()
  const self = from === to
  return Object.freeze({
    name: `${source.name}_${name}`,
    table: `${source.table}_${name}`,
    primaryKey: 'id',
    sourceColumn: self ? `from_${from}_id` : `${from}_id`,
    targetColumn: self ? `to_${to}_id` : `${to}_id`,
    columns: new Map<string, ThroughColumn>(),
    references: new Map<string, AnyModel>(),
    unique: true,
    auto: true,
    columnNames: Object.freeze({}),
  })
}

function explicitThrough(source: AnyModel, target: AnyModel, options: ManyToManyOptions<object>, where: string): ThroughInfo {
  const through = options.through as Through
  const fks = through.foreignKeys
  const describeFks = (model: AnyModel): string => {
    const names = fks.filter((fk) => fk.model === model).map((fk) => fk.column)
    return names.length === 0 ? 'none' : names.join(', ')
  }
  let sourceColumn: string
  let targetColumn: string
  if (options.throughFields !== undefined) {
    const fields: readonly unknown[] = options.throughFields
    if (!Array.isArray(fields) || fields.length !== 2 || !fields.every((field) => typeof field === 'string' && field !== '')) {
      throw new DefinitionError(`${where}: throughFields must name the two link columns, as ["source_column", "target_column"].`)
    }
    const [first, second] = fields as [string, string]
    for (const [column, model] of [
      [first, source],
      [second, target],
    ] as const) {
      const fk = fks.find((candidate) => candidate.column === column)
      if (fk === undefined) {
        throw new DefinitionError(`${where}: the through table "${through.table}" has no foreign key "${column}"; its foreign keys to ${model.name} are: ${describeFks(model)}.`)
      }
      if (fk.model !== model) {
        throw new DefinitionError(`${where}: "${column}" is not a foreign key to ${model.name}; its foreign keys to ${model.name} are: ${describeFks(model)}.`)
      }
    }
    if (first === second) throw new DefinitionError(`${where}: throughFields names "${first}" twice.`)
    sourceColumn = first
    targetColumn = second
  } else if (source === target) {
    const toModel = fks.filter((fk) => fk.model === source)
    if (toModel.length < 2) {
      throw new DefinitionError(`${where}: the through table "${through.table}" needs two foreign keys to ${source.name} for a self relation; it has ${describeFks(source)}.`)
    }
    if (toModel.length > 2) {
      throw new DefinitionError(
        `${where}: the through table "${through.table}" has more than two foreign keys to ${source.name} (${describeFks(source)}), which is ambiguous. Name the two to use with throughFields.`,
      )
    }
    // As in Django: the first declared foreign key is the source, the second the target.
    sourceColumn = (toModel[0] as { column: string }).column
    targetColumn = (toModel[1] as { column: string }).column
  } else {
    const pick = (model: AnyModel, role: string): string => {
      const candidates = fks.filter((fk) => fk.model === model)
      if (candidates.length === 0) {
        throw new DefinitionError(`${where}: the through table "${through.table}" has no foreign key to ${model.name} (the ${role}).`)
      }
      if (candidates.length > 1) {
        throw new DefinitionError(
          `${where}: the through table "${through.table}" has more than one foreign key to ${model.name} (${describeFks(model)}), which is ambiguous. Name the two to use with throughFields.`,
        )
      }
      return (candidates[0] as { column: string }).column
    }
    sourceColumn = pick(source, 'source')
    targetColumn = pick(target, 'target')
  }
  // Every other foreign key and declared column can take a value through throughDefaults.
  const columns = new Map<string, ThroughColumn>()
  const references = new Map<string, AnyModel>()
  for (const fk of fks) {
    if (fk.column !== sourceColumn && fk.column !== targetColumn) {
      columns.set(fk.column, {})
      references.set(fk.column, fk.model)
    }
  }
  for (const [column, spec] of through.columns) {
    if (column === sourceColumn || column === targetColumn) {
      throw new DefinitionError(`${where}: "${column}" is a link column; it cannot also be an extra column with options.`)
    }
    columns.set(column, spec)
  }
  // Resolved in properties, as the definition names them; the join table has the columns.
  const names = columnNamesOf(through)
  const column = (property: string): string => names.column(property)
  return Object.freeze({
    name: through.name,
    table: through.table,
    primaryKey: through.primaryKey === undefined ? undefined : column(through.primaryKey),
    sourceColumn: column(sourceColumn),
    targetColumn: column(targetColumn),
    columns: new Map([...columns].map(([property, spec]) => [column(property), spec])),
    references: new Map([...references].map(([property, model]) => [column(property), model])),
    unique: through.unique,
    auto: false,
    columnNames: through.columnNames,
  })
}
