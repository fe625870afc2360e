import type { Key, KeyType, TableSpec } from '../adapter/relation-adapter.js'
import { DefinitionError } from '../errors/throughline-error.js'
import { ColumnNames, registerColumnNames } from './column-names.js'
import { isIdentifier } from './identifier.js'

/** The row type of a model defined without one: an integer `id` and any other columns. */
export interface DefaultRow {
  id: number
  [column: string]: unknown
}

// The brand's key: a symbol that exists only in the types, so that a branded row type has a
// member no plain row has, without a column name that `filter()` or `orderBy()` would offer.
declare const rowBrand: unique symbol

/**
 * The phantom member of a branded row type: `N` names the model. It exists only in the types;
 * nothing is added to the rows. See {@link Branded}.
 */
export interface RowBrand<N extends string> {
  /** Type-only: the model's name. Never set at run time. */
  readonly [rowBrand]: N
}

/**
 * A row type branded with its model's name, so that the compiler tells apart two models whose
 * rows have the same shape (a `User` and an `Interview` that are both `{ id: number }`). Opt in
 * by defining the model with it; the name given to {@link defineModel} must then be `N`:
 *
 * ```ts
 * const User = defineModel<Branded<UserRow, 'User'>>('User', { table: 'users' })
 * ```
 *
 * Rows that throughline returns are typed branded (and tagged at run time, see `modelOf`). A
 * plain row from your own query is not: pass its key, or tag it with {@link asRow}.
 */
export type Branded<TRow extends object, N extends string> = TRow & RowBrand<N>

/** The brand name of a row type, or `never` for a row type without a brand. */
export type BrandOf<TRow> = TRow extends RowBrand<infer N> ? N : never

/**
 * A row type without its brand: the type of a plain row from your own query. A row type
 * without a brand is returned as it is.
 */
export type PlainRow<TRow> = TRow extends RowBrand<string>
  ? { [K in keyof TRow as K extends typeof rowBrand ? never : K]: TRow[K] }
  : TRow

/** The key types that fit a primary key value type `V`. */
export type KeyTypeFor<V> = [V] extends [bigint]
  ? 'bigint'
  : [V] extends [number]
    ? 'integer'
    : [V] extends [string]
      ? 'string' | 'uuid'
      : KeyType

/** An ordering term on a column: `'title'` ascending, `'-title'` descending. */
export type OrderingTerm<TRow> = (keyof TRow & string) | `-${keyof TRow & string}`

/**
 * How one property's values are converted between the row and its database column, like
 * Django's `from_db_value` and `get_prep_value`: a `Date` property stored as epoch seconds, a
 * boolean stored as `0`/`1`, an object stored as JSON text. Give one per property in the
 * `converters` option of a model or through table.
 *
 * throughline calls it at the storage boundary, the same for every adapter: `fromDatabase` on
 * each value of every row read back (targets, sources, `create()`'s row, `throughRows()`,
 * prefetched rows); `toDatabase` on each value written (`create()` and update values,
 * `throughDefaults` and through column defaults) or compared (`filter()` and `exclude()` values
 * of `exact`, `in`, `range` and the comparisons; the string lookups and `isnull` compare with
 * the stored text as given). `null` is no value and is never converted.
 *
 * @example
 * ```ts
 * const epochSeconds: ColumnConverter<Date> = {
 *   fromDatabase: (stored) => (stored instanceof Date ? stored : new Date(Number(stored) * 1000)),
 *   toDatabase: (value) => Math.floor(value.getTime() / 1000),
 * }
 * const Event = defineModel<EventRow>('Event', { converters: { startsAt: epochSeconds } })
 * ```
 */
export interface ColumnConverter<V = unknown> {
  /**
   * The property's value from the value the adapter read. Adapters and databases differ in
   * what they return for one column (a `Date` or a string for a timestamp, a number or a
   * boolean for a flag): take every form, and return a value already decoded as it is. A
   * throw fails the read with `M2M_INVALID_DEFINITION`.
   */
  fromDatabase(stored: unknown): V
  /**
   * The value to store, or to compare stored values with, for a property's value: a string,
   * a finite number, a bigint, a boolean, a `Date` or binary data, which every adapter binds.
   * A throw fails the call with `M2M_INVALID_ARGUMENT` (`M2M_INVALID_LOOKUP` in a filter).
   */
  toDatabase(value: V): unknown
}

/** The `converters` option of a model or through table with rows of type `TRow`. */
export type ColumnConverters<TRow> = { readonly [K in keyof TRow & string]?: ColumnConverter<NonNullable<TRow[K]>> }

/** Options of {@link defineModel}. */
export interface ModelOptionsBase<TRow extends object, TPk extends keyof TRow & string> {
  /** The table that holds the rows. Default is the model name in lower case. */
  readonly table?: string
  /** The primary key column (its property, when {@link columnNames} renames it). Default is `'id'`. */
  readonly primaryKey?: TPk
  /**
   * Columns of the table. When given, `filter()`, `orderBy()` and `create()` reject any other
   * column with `M2M_UNKNOWN_COLUMN`; when absent, any identifier is accepted (and always
   * quoted by SQL adapters). These are row properties: see {@link columnNames}.
   */
  readonly columns?: readonly (keyof TRow & string)[]
  /**
   * The database column of each row property whose column has another name, like Django's
   * `db_column`: `{ userId: 'user_id' }`. Everything you write names properties (rows,
   * `filter()` keys, `orderBy()`, `create()` values, `columns`, `primaryKey`, `ordering`);
   * adapters get the columns, and the rows they return are renamed back. A property not
   * listed is its own column. Two properties cannot share a column.
   *
   * @example
   * ```ts
   * interface User { id: number; displayName: string }
   * const User = defineModel<User>('User', { table: 'users', columnNames: { displayName: 'display_name' } })
   * ```
   */
  readonly columnNames?: Readonly<Partial<Record<keyof TRow & string, string>>>
  /**
   * How the values of some properties are converted between rows and columns (see
   * {@link ColumnConverter}): `{ startsAt: epochSeconds }`. Rows read back hold the converted
   * values, and values written or compared are converted back, on every adapter.
   */
  readonly converters?: ColumnConverters<TRow>
  /** Default order of related rows, like Django's `Meta.ordering`. Default is the primary key. */
  readonly ordering?: readonly OrderingTerm<TRow>[]
  /** A class whose instances are rows of this model, so that `instanceof` tells models apart. */
  readonly class?: abstract new (...args: never[]) => PlainRow<TRow>
  /** How a row reads in error messages. Default is `Model(pk=value)`. */
  readonly describe?: (row: TRow) => string
}

/** Options of {@link defineModel}; `keyType` is required when the key is not a number. */
export type ModelOptions<TRow extends object, TPk extends keyof TRow & string> = ModelOptionsBase<TRow, TPk> &
  ([NonNullable<TRow[TPk]>] extends [number]
    ? { /** How the primary key is typed. Default is `'integer'`. */ readonly keyType?: 'integer' }
    : { /** How the primary key is typed. */ readonly keyType: KeyTypeFor<NonNullable<TRow[TPk]>> })

/**
 * A model: metadata about one of the user's existing tables. throughline never owns the
 * model; it only needs to know where its rows live and how its key is typed.
 */
export interface Model<
  TRow extends object = DefaultRow,
  TPk extends keyof TRow & string = keyof TRow & string,
  TName extends string = string,
> {
  /**
   * The model name, as in messages (`Publication`). Its type is the literal name when
   * {@link defineModel} could see it, which names the columns of an auto join table in the types.
   */
  readonly name: TName
  /** The table that holds the rows. */
  readonly table: string
  /** The primary key column, as a row property (`spec.primaryKey` is its database column). */
  readonly primaryKey: TPk
  /** How the primary key is typed. */
  readonly keyType: KeyType
  /** Declared columns, if any, as row properties (`spec.columns` are the database columns). */
  readonly columns: readonly string[] | undefined
  /**
   * The database column of each property whose column has another name (the `columnNames`
   * option, Django's `db_column`); empty when every property is its own column.
   */
  readonly columnNames: Readonly<Record<string, string>>
  /** The converter of each property that has one (the `converters` option); empty for none. */
  readonly converters: Readonly<Record<string, ColumnConverter>>
  /** Default ordering of related rows, on row properties. */
  readonly ordering: readonly { readonly column: string; readonly direction: 'asc' | 'desc' }[]
  /** The class given in the options, if any. */
  readonly class: (abstract new (...args: never[]) => PlainRow<TRow>) | undefined
  /** The storage description adapters receive: database column names. */
  readonly spec: TableSpec
  /** How a row reads in messages. */
  describe(row: object): string
  /** Type-only: the row type. Never set at run time. */
  readonly $row?: TRow
}

/** Any model. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the row type is variant in both directions here
export type AnyModel = Model<any, string>

/** The row type of a model (branded, for a model defined with a {@link Branded} row type). */
export type RowOf<M extends AnyModel> = Exclude<M['$row'], undefined>

/** The row type of a model without its brand: what a query of your own returns for its table. */
export type PlainRowOf<M extends AnyModel> = PlainRow<RowOf<M>>

/** The primary key type of a model. */
export type KeyOf<M extends AnyModel> =
  M extends Model<infer TRow, infer TPk> ? Extract<NonNullable<TRow[TPk]>, Key> : never

const KEY_TYPES: readonly KeyType[] = ['integer', 'bigint', 'string', 'uuid']

/**
 * The name type {@link defineModel} gives a model when the name is not inferred: the brand's
 * name for a {@link Branded} row type, else `string`.
 */
export type ModelNameFor<TRow> = [BrandOf<TRow>] extends [never] ? string : BrandOf<TRow>

/**
 * Defines a model over an existing table.
 *
 * The model's name is typed as its literal when the compiler can see it: when no type argument
 * is given, when the row type is {@link Branded} (`defineModel<Branded<User, 'User'>>('User')`,
 * and the name must then match the brand), or when it is given as the third type argument
 * (`defineModel<User, 'id', 'User'>('User')`). A literal name types the columns of the relation's
 * auto join table (`user_id`).
 *
 * @example
 * ```ts
 * interface Publication { id: number; title: string }
 * const Publication = defineModel<Publication>('Publication', {
 *   table: 'publications',
 *   columns: ['id', 'title'],
 *   ordering: ['title'],
 * })
 * ```
 */
export function defineModel<
  TRow extends object = DefaultRow,
  TPk extends keyof TRow & string = 'id' extends keyof TRow ? 'id' : keyof TRow & string,
  TName extends string = ModelNameFor<TRow>,
>(name: TName, options: ModelOptions<TRow, TPk> = {} as ModelOptions<TRow, TPk>): Model<TRow, TPk, TName> {
  if (typeof name !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(name)) {
    throw new DefinitionError(`defineModel() needs a model name such as "Publication", got ${JSON.stringify(name)}.`)
  }
  const table = options.table ?? name.toLowerCase()
  const primaryKey = (options.primaryKey ?? 'id') as TPk
  const keyType: KeyType = options.keyType ?? 'integer'
  if (!KEY_TYPES.includes(keyType)) {
    throw new DefinitionError(`${name}: keyType must be one of ${KEY_TYPES.join(', ')}; got ${JSON.stringify(keyType)}.`)
  }
  for (const [what, value] of [
    ['table', table],
    ['primaryKey', primaryKey],
  ] as const) {
    if (!isIdentifier(value)) {
      throw new DefinitionError(`${name}: ${what} must be a plain identifier; got ${JSON.stringify(value)}.`)
    }
  }
  const columns = options.columns === undefined ? undefined : Object.freeze([...new Set<string>(options.columns)])
  if (columns !== undefined) {
    for (const column of columns) {
      if (!isIdentifier(column)) throw new DefinitionError(`${name}: column ${JSON.stringify(column)} is not a plain identifier.`)
    }
    if (!columns.includes(primaryKey)) {
      throw new DefinitionError(`${name}: columns must include the primary key "${primaryKey}".`)
    }
  }
  const ordering = Object.freeze(
    (options.ordering ?? []).map((term) => {
      const descending = term.startsWith('-')
      const column = descending ? term.slice(1) : term
      if (!isIdentifier(column) || (columns !== undefined && !columns.includes(column))) {
        throw new DefinitionError(`${name}: ordering names an unknown column ${JSON.stringify(term)}.`)
      }
      return Object.freeze({ column, direction: descending ? ('desc' as const) : ('asc' as const) })
    }),
  )
  const names = ColumnNames.define(name, options.columnNames, columns, [primaryKey, ...ordering.map((term) => term.column)], options.converters)
  const describeRow = options.describe
  const model: Model<TRow, TPk, TName> = {
    name,
    table,
    primaryKey,
    keyType,
    columns,
    columnNames: names.toRecord(),
    converters: names.convertersRecord(),
    ordering,
    class: options.class,
    spec: Object.freeze({
      model: name,
      table,
      primaryKey: names.column(primaryKey),
      keyType,
      columns: columns === undefined ? undefined : Object.freeze(columns.map((column) => names.column(column))),
    }),
    describe(row: object): string {
      if (describeRow !== undefined) return `${name} "${describeRow(row as TRow)}"`
      const key = (row as Record<string, unknown>)[primaryKey]
      return key === undefined || key === null ? name : `${name}(${primaryKey}=${formatValue(key)})`
    },
  }
  registerColumnNames(model, names)
  return Object.freeze(model)
}

/** Formats a value for an error message, safely and briefly. */
export function formatValue(value: unknown): string {
  if (typeof value === 'bigint') return `${String(value)}n`
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value)
  }
  if (Array.isArray(value)) return `an array of ${String(value.length)}`
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'symbol') return 'a symbol'
  return 'an object'
}
