import { foldCase } from '../adapter/fold-case.js'
import type { Condition, LookupOperator, OrderTerm } from '../adapter/relation-adapter.js'
import { InvalidArgumentError, InvalidLookupError, UnknownColumnError } from '../errors/throughline-error.js'
import { textFault, valueFault } from '../model/column-value.js'
import { resolveTargetKey } from '../model/coerce-key.js'
import type { ColumnNames } from '../model/column-names.js'
import { formatValue, type AnyModel, type KeyOf, type RowOf } from '../model/define-model.js'
import { isIdentifier } from '../model/identifier.js'

/** The lookups of `filter()`, as in Django (`title__startswith`, `title__iexact`, `rank__range`). */
export const LOOKUPS: readonly LookupOperator[] = [
  'exact',
  'iexact',
  'in',
  'startswith',
  'istartswith',
  'endswith',
  'iendswith',
  'contains',
  'icontains',
  'gt',
  'gte',
  'lt',
  'lte',
  'range',
  'isnull',
]

/**
 * The lookups of string columns only (`title__startswith`, `title__icontains`); other columns
 * have none. The `i` ones ignore the case of ASCII letters only (see `docs/guide.md`).
 */
export type StringLookup = 'iexact' | 'startswith' | 'istartswith' | 'endswith' | 'iendswith' | 'contains' | 'icontains'
/** The comparison lookups (`id__gt`), which take a value of the column's type but never `null`. */
export type RangeLookup = 'gt' | 'gte' | 'lt' | 'lte'

/** The value a lookup takes on a column of type `V`. */
export type LookupValue<V, L extends LookupOperator> = L extends 'in'
  ? readonly NonNullable<V>[]
  : L extends 'isnull'
    ? boolean
    : L extends 'range'
      ? readonly [NonNullable<V>, NonNullable<V>]
      : L extends StringLookup
        ? [NonNullable<V>] extends [string]
          ? // As in Django, `iexact: null` is `isnull: true`.
            L extends 'iexact'
            ? string | null
            : string
          : never
        : L extends RangeLookup
          ? NonNullable<V>
          : V | null

/**
 * The `column__lookup` keys of a row type, each typed by its column: `{ title__startswith: 'S' }`,
 * `{ id__in: [1, 2] }`, `{ rating__isnull: true }`. Part of {@link RowWhere}.
 */
export type ColumnLookups<TRow> = {
  readonly [P in `${keyof TRow & string}__${LookupOperator}`]?: P extends `${infer C}__${infer L}`
    ? C extends keyof TRow
      ? L extends LookupOperator
        ? LookupValue<TRow[C], L>
        : never
      : never
    : never
}

/**
 * The `pk__lookup` keys of a model (`{ pk__in: [1, 2] }`, `{ pk__range: [1, 9] }`), taking keys,
 * their string forms or rows; `pk` has no string lookups. Part of {@link Where}.
 */
export type PkLookups<TKey> = {
  readonly [L in LookupOperator as `pk__${L}`]?: L extends 'in'
    ? readonly (TKey | string)[]
    : L extends 'isnull'
      ? boolean
      : L extends 'range'
        ? readonly [TKey | string, TKey | string]
        : L extends StringLookup
          ? never
          : TKey | string
}

/** Conditions on the columns of a row type: `{ title: 'x' }`, `{ title__startswith: 'S' }`. */
export type RowWhere<TRow> = {
  readonly [C in keyof TRow & string]?: TRow[C] | null
} & ColumnLookups<TRow>

/**
 * A `filter()` condition on a model, typed by its row: `{ title: 'Science News' }`,
 * `{ title__startswith: 'Science' }`, `{ id__in: [1, 2] }`, `{ pk: 3 }` or `{ pk: p1 }` (a row
 * stands for its key, as in Django's `filter(publications=p1)`). Every entry must hold.
 * `null` is `isnull`: across a relation, `{ pk: null }` matches the rows with no link, as
 * Django's `filter(members=None)`.
 */
export type Where<M extends AnyModel> = RowWhere<RowOf<M>> & {
  readonly pk?: KeyOf<M> | string | RowOf<M> | null
} & PkLookups<KeyOf<M> | RowOf<M>>

/** A condition on the columns of a through table: `{ invite_reason: 'He is good.' }`. */
export type ThroughWhere<TThrough> = RowWhere<TThrough>

/** An ordering term for `orderBy()`: `'title'` or `'-title'`, or `'pk'`. */
export type OrderBy<M extends AnyModel> = (keyof RowOf<M> & string) | `-${keyof RowOf<M> & string}` | 'pk' | '-pk'

/**
 * An ordering term on a through column, for the reads of a related manager:
 * `'through__created_at'` or `'-through__created_at'` (Django's `'-favoriteinterview__created_at'`).
 * The `through__` prefix is reserved: it never names a target column.
 */
export type ThroughOrderBy<TThrough> = `through__${keyof TThrough & string}` | `-through__${keyof TThrough & string}`

// The prefix of an ordering term on a through column.
const THROUGH_ORDER = 'through__'

/** What a set of conditions applies to: a model's table, or a join table. */
export interface ColumnScope {
  /** The table's model or through name, for messages. */
  readonly name: string
  /** The known columns, or `undefined` when any identifier may be a column. */
  readonly columns: readonly string[] | undefined
  /** The column `pk` names, if any. */
  readonly primaryKey: string | undefined
  /** Columns that hold keys of a model: their values are coerced (and rows stand for their keys). */
  readonly keys: ReadonlyMap<string, AnyModel>
}

/** The scope of a model's own table. */
export function modelScope(model: AnyModel): ColumnScope {
  // Read-only and the same for every call on a model: made once (a filter() per like button).
  let scope = scopes.get(model)
  if (scope === undefined) {
    scope = { name: model.name, columns: model.columns, primaryKey: model.primaryKey, keys: new Map([[model.primaryKey, model]]) }
    scopes.set(model, scope)
  }
  return scope
}

const scopes = new WeakMap<AnyModel, ColumnScope>()

/** Resolves a column name of a scope for a query, or throws. `pk` names the primary key. */
export function resolveColumn(scope: ColumnScope, name: string, context: string): string {
  const column = name === 'pk' && scope.primaryKey !== undefined ? scope.primaryKey : name
  if (!isIdentifier(column) || (scope.columns !== undefined && !scope.columns.includes(column))) {
    throw new UnknownColumnError(
      `${context}: ${scope.name} has no column ${formatValue(name)}` +
        (scope.columns === undefined ? '.' : `; its columns are ${scope.columns.join(', ')}.`),
    )
  }
  return column
}

/**
 * Turns a `filter()` object into conditions, validating every column, lookup and value, so
 * that nothing unknown ever reaches storage. `null` on `exact` and `iexact` means `isnull`.
 * Values of key columns are coerced like every key, and a row stands for its key. The values
 * of the case-insensitive lookups are folded here ({@link foldCase}), and `range` becomes
 * `gte` and `lte`: adapters see neither `range` nor a capital ASCII letter in an `i` lookup.
 */
export function parseWhere(model: AnyModel, where: unknown): Condition[] {
  return parseConditions(modelScope(model), where, 'filter()')
}

/** {@link parseWhere} for any scope. */
export function parseConditions(scope: ColumnScope, where: unknown, context: string): Condition[] {
  if (typeof where !== 'object' || where === null || Array.isArray(where)) {
    throw new InvalidArgumentError(`${context} takes an object such as { title__startswith: "S" }; got ${formatValue(where)}.`)
  }
  const conditions: Condition[] = []
  // Own enumerable keys only: a `__proto__` or `constructor` key is checked like any other
  // name and rejected as an unknown column, never followed up the prototype chain.
  for (const entry of Object.keys(where)) {
    const value: unknown = (where as Record<string, unknown>)[entry]
    const split = entry.lastIndexOf('__')
    let name = entry
    let op: LookupOperator = 'exact'
    if (split > 0) {
      const suffix = entry.slice(split + 2)
      if (!(LOOKUPS as readonly string[]).includes(suffix)) {
        throw new InvalidLookupError(
          `${context}: unknown lookup "${suffix}" in ${JSON.stringify(entry)}; the lookups are ${LOOKUPS.join(', ')}.`,
        )
      }
      name = entry.slice(0, split)
      op = suffix as LookupOperator
    }
    const column = resolveColumn(scope, name, context)
    const keyModel = scope.keys.get(column)
    const fail = (expected: string): never => {
      throw new InvalidLookupError(`${context}: ${JSON.stringify(entry)} expects ${expected}; got ${formatValue(value)}.`)
    }
    // The values a column holds (column-value.ts), binary data aside: null has its own lookups.
    const scalar = (item: unknown): unknown => {
      if (keyModel !== undefined) return resolveTargetKey(item, keyModel, 'filter by')
      if (typeof item === 'string') return text(item)
      if (item === null || item === undefined || valueFault(item, { binary: false }) !== undefined) {
        fail('a string, a finite number, a bigint within 64 bits, a boolean or a valid Date')
      }
      return item
    }
    // No stored string holds a NUL character or a lone surrogate alike on every database.
    const text = (item: string): string => {
      const fault = textFault(item)
      if (fault === undefined) return item
      throw new InvalidLookupError(`${context}: ${JSON.stringify(entry)} got ${fault.what} (${formatValue(item)}), which no database stores as it is. ${fault.fix}`)
    }
    switch (op) {
      case 'exact':
        if (value === undefined) fail('a value (use null to match missing values)')
        conditions.push(value === null ? { column, op: 'isnull', value: true } : { column, op, value: scalar(value) })
        break
      case 'in': {
        if (!Array.isArray(value)) fail('an array')
        const items = (value as unknown[]).map((item) => (item === null || item === undefined ? fail('an array without null') : scalar(item)))
        conditions.push({ column, op, value: [...new Set(items)] })
        break
      }
      case 'isnull':
        if (typeof value !== 'boolean') fail('true or false')
        conditions.push({ column, op, value })
        break
      case 'startswith':
      case 'endswith':
      case 'contains':
        if (typeof value !== 'string') fail('a string')
        conditions.push({ column, op, value: text(value as string) })
        break
      case 'iexact':
      case 'istartswith':
      case 'iendswith':
      case 'icontains':
        if (op === 'iexact' && value === null) conditions.push({ column, op: 'isnull', value: true })
        else if (typeof value === 'string') conditions.push({ column, op, value: foldCase(text(value)) })
        else fail(op === 'iexact' ? 'a string (or null for isnull)' : 'a string')
        break
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
        if (value === null || value === undefined) fail('a value')
        conditions.push({ column, op, value: scalar(value) })
        break
      case 'range': {
        // Both ends read by index: map() over the given array would skip the hole of a sparse [, 3].
        const pair = Array.isArray(value) && value.length === 2 ? (value as unknown[]) : fail('a pair [low, high] (both included)')
        const [low, high] = [pair[0], pair[1]].map((item) =>
          item === null || item === undefined ? fail('a pair [low, high] with neither null') : scalar(item),
        ) as [unknown, unknown]
        if (valueKind(low) !== valueKind(high)) fail('a pair [low, high] of one type (two numbers, two strings or two Dates)')
        conditions.push({ column, op: 'gte', value: low }, { column, op: 'lte', value: high })
        break
      }
    }
  }
  return conditions
}

/** What a `range` bound is, to refuse a pair that mixes kinds (a number and a string compare differently per database). */
function valueKind(value: unknown): string {
  if (value instanceof Date) return 'date'
  return typeof value === 'bigint' ? 'number' : typeof value
}

/**
 * Whether `conditions` can match no row: an `in` lookup with an empty list. Reads answer
 * those without a statement rather than send `IN ()`.
 */
export function matchesNothing(conditions: readonly Condition[]): boolean {
  return conditions.some((condition) => condition.op === 'in' && (condition.value as unknown[]).length === 0)
}

/** Checks a `limit()` or `offset()` argument: a whole number of rows, 0 or more. */
export function parseCount(count: number, what: string): number {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new InvalidArgumentError(`${what}() takes a whole number of rows, 0 or more; got ${formatValue(count)}.`)
  }
  return count
}

/** The most values the conditions of one read may hold, on every adapter. */
export const MAX_LOOKUP_VALUES = 10_000

/** The most lookup values one read may bind on an adapter that takes `maxBindParameters` (see {@link assertBindable}). */
export function lookupBudget(maxBindParameters: number): number {
  return Math.min(MAX_LOOKUP_VALUES, Math.floor((maxBindParameters - 64) / 2))
}

/**
 * Checks that the values of `conditions` fit in one statement of an adapter that binds at most
 * `maxBindParameters` values (keys of the relation itself are chunked by the adapter; the
 * values of a read's conditions cannot be). Throws `M2M_INVALID_LOOKUP` before any statement.
 */
export function assertBindable(conditions: readonly Condition[], maxBindParameters: number, adapter: string): void {
  // One limit on every adapter, so that a query that works on one works on all (10 000 fits
  // every SQL adapter's bind limit with room for dialects that bind a string twice), or less
  // when the adapter declares less.
  const budget = lookupBudget(maxBindParameters)
  const used = conditions.reduce((sum, { value }) => sum + (Array.isArray(value) ? value.length : 1), 0)
  if (used > budget) {
    const biggest = conditions.reduce((best, condition) =>
      Array.isArray(condition.value) && (!Array.isArray(best.value) || condition.value.length > best.value.length) ? condition : best,
    )
    throw new InvalidLookupError(
      `filter(): ${String(used)} values in one query, more than one statement on ${adapter} takes (${String(budget)}); ` +
        `"${biggest.column}__${biggest.op}" is the largest. Split the list, or read the rows in several queries.`,
    )
  }
}

/** Turns `orderBy()` terms into order terms, validating the columns. */
export function parseOrderBy(model: AnyModel, terms: readonly string[], through?: ColumnScope): OrderTerm[] {
  return terms.map((term) => {
    if (typeof term !== 'string') throw new InvalidArgumentError(`orderBy() takes column names; got ${formatValue(term)}.`)
    const descending = term.startsWith('-')
    const name = descending ? term.slice(1) : term
    // `through__created_at`: a column of the join table (as properties), where the read allows it.
    if (through !== undefined && name.startsWith(THROUGH_ORDER)) {
      return { column: resolveColumn(through, name.slice(THROUGH_ORDER.length), 'orderBy()'), direction: descending ? 'desc' : 'asc', through: true }
    }
    const column = resolveColumn(modelScope(model), descending ? term.slice(1) : term, 'orderBy()')
    return { column, direction: descending ? 'desc' : 'asc' }
  })
}

/** Order terms on database columns: target terms by the target's names, through terms by the through table's. */
export function storageOrder(terms: readonly OrderTerm[], names: ColumnNames, throughNames: ColumnNames): readonly OrderTerm[] {
  if (!terms.some((term) => term.through === true)) return names.order(terms)
  return terms.map((term) => (term.through === true ? { ...throughNames.order([term])[0]!, through: true } : names.order([term])[0]!))
}

/** Appends the primary key to an ordering so that every adapter returns ties in one order. */
export function withKeyOrder(model: AnyModel, orderBy: readonly OrderTerm[]): OrderTerm[] {
  // A through term on a column named like the target's key (the join table's `id`) is no key order.
  return orderBy.some((term) => term.column === model.primaryKey && term.through !== true)
    ? [...orderBy]
    : [...orderBy, { column: model.primaryKey, direction: 'asc' }]
}
