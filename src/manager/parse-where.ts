import type { Condition, LookupOperator, OrderTerm } from '../adapter/relation-adapter.js'
import { InvalidArgumentError, InvalidLookupError, UnknownColumnError } from '../errors/throughline-error.js'
import { coerceKey } from '../model/coerce-key.js'
import { formatValue, type AnyModel, type KeyOf, type RowOf } from '../model/define-model.js'
import { isIdentifier } from '../model/identifier.js'

/** The lookups of `filter()`, as in Django (`title__startswith`). */
export const LOOKUPS: readonly LookupOperator[] = [
  'exact',
  'in',
  'startswith',
  'endswith',
  'contains',
  'gt',
  'gte',
  'lt',
  'lte',
  'isnull',
]

type StringLookup = 'startswith' | 'endswith' | 'contains'
type RangeLookup = 'gt' | 'gte' | 'lt' | 'lte'

/** The value a lookup takes on a column of type `V`. */
export type LookupValue<V, L extends LookupOperator> = L extends 'in'
  ? readonly NonNullable<V>[]
  : L extends 'isnull'
    ? boolean
    : L extends StringLookup
      ? [NonNullable<V>] extends [string]
        ? string
        : never
      : L extends RangeLookup
        ? NonNullable<V>
        : V | null

type ColumnLookups<TRow> = {
  readonly [P in `${keyof TRow & string}__${LookupOperator}`]?: P extends `${infer C}__${infer L}`
    ? C extends keyof TRow
      ? L extends LookupOperator
        ? LookupValue<TRow[C], L>
        : never
      : never
    : never
}

type PkLookups<TKey> = {
  readonly [L in LookupOperator as `pk__${L}`]?: L extends 'in'
    ? readonly (TKey | string)[]
    : L extends 'isnull'
      ? boolean
      : L extends StringLookup
        ? never
        : TKey | string
}

/**
 * A `filter()` condition on the target model, typed by its row: `{ title: 'Science News' }`,
 * `{ title__startswith: 'Science' }`, `{ id__in: [1, 2] }`, `{ pk: 3 }`. Every entry must hold.
 */
export type Where<M extends AnyModel> = {
  readonly [C in keyof RowOf<M> & string]?: RowOf<M>[C] | null
} & ColumnLookups<RowOf<M>> & { readonly pk?: KeyOf<M> | string } & PkLookups<KeyOf<M>>

/** An ordering term for `orderBy()`: `'title'` or `'-title'`, or `'pk'`. */
export type OrderBy<M extends AnyModel> = (keyof RowOf<M> & string) | `-${keyof RowOf<M> & string}` | 'pk' | '-pk'

function isScalar(value: unknown): boolean {
  return (
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'bigint' ||
    typeof value === 'boolean' ||
    (value instanceof Date && !Number.isNaN(value.getTime()))
  )
}

/** Resolves a column name of `model` for a query, or throws. `pk` names the primary key. */
export function resolveColumn(model: AnyModel, name: string, context: string): string {
  const column = name === 'pk' ? model.primaryKey : name
  if (!isIdentifier(column) || (model.columns !== undefined && !model.columns.includes(column))) {
    throw new UnknownColumnError(
      `${context}: ${model.name} has no column ${formatValue(name)}` +
        (model.columns === undefined ? '.' : `; its columns are ${model.columns.join(', ')}.`),
    )
  }
  return column
}

/**
 * Turns a `filter()` object into conditions, validating every column, lookup and value, so
 * that nothing unknown ever reaches storage. `null` on `exact` means `isnull`. Keys given as
 * strings on the primary key are coerced like every key.
 */
export function parseWhere(model: AnyModel, where: unknown): Condition[] {
  if (typeof where !== 'object' || where === null || Array.isArray(where)) {
    throw new InvalidArgumentError(`filter() takes an object such as { title__startswith: "S" }; got ${formatValue(where)}.`)
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
          `filter(): unknown lookup "${suffix}" in ${JSON.stringify(entry)}; the lookups are ${LOOKUPS.join(', ')}.`,
        )
      }
      name = entry.slice(0, split)
      op = suffix as LookupOperator
    }
    const column = resolveColumn(model, name, 'filter()')
    const isKey = column === model.primaryKey
    const fail = (expected: string): never => {
      throw new InvalidLookupError(`filter(): ${JSON.stringify(entry)} expects ${expected}; got ${formatValue(value)}.`)
    }
    const scalar = (item: unknown): unknown => {
      if (isKey) return coerceKey(item, model)
      if (!isScalar(item)) fail('a string, number, bigint, boolean or Date')
      return item
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
        conditions.push({ column, op, value })
        break
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
        if (value === null || value === undefined) fail('a value')
        conditions.push({ column, op, value: scalar(value) })
        break
    }
  }
  return conditions
}

/** Turns `orderBy()` terms into order terms, validating the columns. */
export function parseOrderBy(model: AnyModel, terms: readonly string[]): OrderTerm[] {
  return terms.map((term) => {
    if (typeof term !== 'string') throw new InvalidArgumentError(`orderBy() takes column names; got ${formatValue(term)}.`)
    const descending = term.startsWith('-')
    const column = resolveColumn(model, descending ? term.slice(1) : term, 'orderBy()')
    return { column, direction: descending ? 'desc' : 'asc' }
  })
}

/** Appends the primary key to an ordering so that every adapter returns ties in one order. */
export function withKeyOrder(model: AnyModel, orderBy: readonly OrderTerm[]): OrderTerm[] {
  return orderBy.some((term) => term.column === model.primaryKey)
    ? [...orderBy]
    : [...orderBy, { column: model.primaryKey, direction: 'asc' }]
}
