import { DefinitionError } from '../errors/throughline-error.js'
import type { AnyModel, ColumnConverter, ColumnConverters } from './define-model.js'
import { ColumnNames, registerColumnNames } from './column-names.js'
import { isIdentifier } from './identifier.js'

/** A value, or a function called once per manager call to produce it. */
export type ValueOrFactory<V> = V | (() => V)

/** How one extra column of a through table behaves when a link row is inserted. */
export interface ThroughColumn<V = unknown> {
  /**
   * The value used when `throughDefaults` does not give one, like a Django field default
   * (`auto_now_add` is `{ default: () => new Date() }`). A function is called once per call.
   */
  readonly default?: ValueOrFactory<V>
  /**
   * Whether a value must be given (by `throughDefaults` or `default`) for a row to be
   * inserted; the call fails with `M2M_MISSING_THROUGH_VALUE` before writing otherwise.
   * Default is `false` (the column may be left to the database).
   */
  readonly required?: boolean
}

/** Options of {@link defineThrough}. */
export interface ThroughOptions<TRow extends object> {
  /** The join table. */
  readonly table: string
  /** The join table's own primary key column, if it has one. */
  readonly primaryKey?: keyof TRow & string
  /**
   * The foreign-key columns and the model each one points at, in declaration order (the
   * order decides which column is the source of a self relation, as in Django).
   */
  readonly foreignKeys: Readonly<Partial<Record<keyof TRow & string, AnyModel>>>
  /**
   * The other columns that link rows may be given values for, with their defaults and whether
   * they are required. A foreign key that is not one of the relation's two link columns (an
   * `inviter_id`) may be listed here too, to make it required or give it a default.
   */
  readonly columns?: { readonly [K in keyof TRow & string]?: ThroughColumn<TRow[K]> }
  /**
   * Whether the pair of link columns is unique in the database (a unique index or
   * constraint). Default is `true`: adds then ignore existing rows atomically, so concurrent
   * adds never duplicate a link. Set `false` only for a table that really allows duplicate
   * pairs; adds then check first and insert the missing rows, which two concurrent callers
   * can both do.
   */
  readonly unique?: boolean
  /**
   * The database column of each row property whose column has another name, like Django's
   * `db_column`: `{ userId: 'user_id', createdAt: 'created_at' }`. `foreignKeys`, `columns`,
   * `primaryKey`, `throughFields`, `throughDefaults`, through conditions and the rows of
   * `throughRows()` all name properties; the join table has the columns. A property not listed
   * is its own column.
   */
  readonly columnNames?: Readonly<Partial<Record<keyof TRow & string, string>>>
  /**
   * How the values of some properties are converted between link rows and columns (see
   * {@link ColumnConverter}): the rows of `throughRows()` hold the converted values, and
   * `throughDefaults`, column defaults and through conditions are converted back.
   */
  readonly converters?: ColumnConverters<TRow>
}

/** A through (join) table with extra columns: rows of type `TRow`. */
export interface Through<TRow extends object = Record<string, unknown>> {
  /** The name, for messages. */
  readonly name: string
  /** The join table. */
  readonly table: string
  /** The join table's own primary key, as a row property. */
  readonly primaryKey: string | undefined
  /** Foreign-key columns (row properties) in declaration order, with the model each points at. */
  readonly foreignKeys: readonly { readonly column: string; readonly model: AnyModel }[]
  /** Extra columns (row properties) and their options. */
  readonly columns: ReadonlyMap<string, ThroughColumn>
  /** Whether the pair of link columns is unique. */
  readonly unique: boolean
  /** The database column of each property whose column has another name (the `columnNames` option). */
  readonly columnNames: Readonly<Record<string, string>>
  /** The converter of each property that has one (the `converters` option). */
  readonly converters: Readonly<Record<string, ColumnConverter>>
  /** Type-only: the row type. Never set at run time. */
  readonly $row?: TRow
}

/**
 * Defines an explicit through table, with extra columns, for `manyToMany({ through })`.
 *
 * @example
 * ```ts
 * interface ShopCollector { id: number; shop_id: number; account_id: number; collect_at: Date }
 * const ShopCollector = defineThrough<ShopCollector>('ShopCollector', {
 *   table: 'shop_collector',
 *   primaryKey: 'id',
 *   foreignKeys: { shop_id: Shop, account_id: Account },
 *   columns: { collect_at: { default: () => new Date() } },
 * })
 * ```
 */
export function defineThrough<TRow extends object = Record<string, unknown>>(
  name: string,
  options: ThroughOptions<TRow>,
): Through<TRow> {
  const where = `defineThrough(${JSON.stringify(name)})`
  if (typeof name !== 'string' || name.length === 0) throw new DefinitionError('defineThrough() needs a name.')
  if (!isIdentifier(options.table)) throw new DefinitionError(`${where}: table must be a plain identifier.`)
  const foreignKeys = Object.entries(options.foreignKeys as Record<string, AnyModel | undefined>).flatMap(
    ([column, model]) => (model === undefined ? [] : [{ column, model }]),
  )
  if (foreignKeys.length < 2) {
    throw new DefinitionError(`${where}: a through table needs at least two foreign keys; got ${String(foreignKeys.length)}.`)
  }
  const columns = new Map<string, ThroughColumn>()
  for (const [column, spec] of Object.entries((options.columns ?? {}) as Record<string, ThroughColumn | undefined>)) {
    if (spec !== undefined) columns.set(column, Object.freeze({ ...spec }))
  }
  const primaryKey = options.primaryKey
  const all = [...foreignKeys.map((fk) => fk.column), ...columns.keys(), ...(primaryKey === undefined ? [] : [primaryKey])]
  for (const column of all) {
    if (!isIdentifier(column)) throw new DefinitionError(`${where}: column ${JSON.stringify(column)} is not a plain identifier.`)
  }
  if (primaryKey !== undefined && (columns.has(primaryKey) || foreignKeys.some((fk) => fk.column === primaryKey))) {
    throw new DefinitionError(`${where}: the primary key "${primaryKey}" cannot also be a foreign key or an extra column.`)
  }
  // Other columns of the join table may be renamed too (a database default the rows carry).
  const names = ColumnNames.define(where, options.columnNames, undefined, all, options.converters)
  const through: Through<TRow> = Object.freeze({
    name,
    table: options.table,
    primaryKey,
    foreignKeys: Object.freeze(foreignKeys.map((fk) => Object.freeze(fk))),
    columns,
    unique: options.unique ?? true,
    columnNames: names.toRecord(),
    converters: names.convertersRecord(),
  })
  registerColumnNames(through, names)
  return through
}
