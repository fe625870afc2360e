import { Column, entityKind, getTableColumns, getTableName, is, Table, type InferSelectModel } from 'drizzle-orm'
import { toCamelCase, toSnakeCase } from 'drizzle-orm/casing'
import type { KeyType } from '../../adapter/relation-adapter.js'
import { DefinitionError } from '../../errors/throughline-error.js'
import type { AnyModel, ColumnConverter, Model, ModelOptions, OrderingTerm, PlainRow } from '../../model/define-model.js'
import { defineModel } from '../../model/define-model.js'
import { defineThrough, type Through, type ThroughColumn, type ThroughOptions } from '../../model/define-through.js'

// Models and through tables read from Drizzle table objects (sqlite-core, pg-core and
// mysql-core alike): the table name, the columns, the primary key and its type, and the
// property → column map (Drizzle rows use the table object's keys, `userId`, for the column
// `user_id`). Only drizzle-orm's dialect-neutral helpers are used, so one function serves the
// three dialects, and this file loads drizzle-orm only from the `throughline/drizzle` entry.

/** The row type of a Drizzle table, as a `select()` returns it: `typeof table.$inferSelect`. */
export type DrizzleRow<TTable extends Table> = InferSelectModel<TTable>

/**
 * The property of the column a Drizzle table marks `.primaryKey()`, or `never` for a table
 * without one (a composite key declared with `primaryKey({ columns })`, or none at all).
 */
export type DrizzlePrimaryKey<TTable extends Table> = {
  [K in keyof TTable['_']['columns']]: TTable['_']['columns'][K]['_']['isPrimaryKey'] extends true ? K : never
}[keyof TTable['_']['columns']] &
  string

/**
 * How the database names the columns whose name Drizzle takes from the property (`userId:
 * integer()`), when the Drizzle database was made with a `casing` option: give the same one.
 */
export type DrizzleCasing = 'snake_case' | 'camelCase'

/** Options of {@link drizzleModel}: the table gives its name, columns, key and column names. */
export interface DrizzleModelOptions<TTable extends Table, TPk extends keyof DrizzleRow<TTable> & string> {
  /**
   * The primary key property, for a table whose key Drizzle does not mark on one column (or to
   * use another unique column). Default: the column marked `.primaryKey()`.
   */
  readonly primaryKey?: TPk
  /** How the key is typed. Default: read from the key column (see {@link drizzleModel}). */
  readonly keyType?: KeyType
  /** Default order of related rows, on properties, like Django's `Meta.ordering`. */
  readonly ordering?: readonly OrderingTerm<DrizzleRow<TTable>>[]
  /** A class whose instances are rows of this model. */
  readonly class?: abstract new (...args: never[]) => PlainRow<DrizzleRow<TTable>>
  /** How a row reads in error messages. */
  readonly describe?: (row: DrizzleRow<TTable>) => string
  /** The `casing` of your Drizzle database, if it has one. */
  readonly casing?: DrizzleCasing
}

/** Options of {@link drizzleThrough}. */
export interface DrizzleThroughOptions<TTable extends Table> {
  /**
   * The foreign-key properties and the model each one points at, in declaration order (the
   * first to a model is the source of a self relation): `{ userId: User, interviewId: Interview }`.
   */
  readonly foreignKeys: ThroughOptions<DrizzleRow<TTable>>['foreignKeys']
  /**
   * Defaults and `required` for the extra columns. Every column of the table other than the
   * link columns and the primary key is an extra column already (settable in `throughDefaults`),
   * required when Drizzle says it is `notNull` with no default, and defaulting to its `$defaultFn`.
   */
  readonly columns?: { readonly [K in keyof DrizzleRow<TTable> & string]?: ThroughColumn<DrizzleRow<TTable>[K]> }
  /**
   * The join table's own primary key property. Default: the column marked `.primaryKey()`, or
   * none (a composite key on the link columns is no column of its own).
   */
  readonly primaryKey?: keyof DrizzleRow<TTable> & string
  /** Whether the pair of link columns is unique in the database. Default is `true`. */
  readonly unique?: boolean
  /** The `casing` of your Drizzle database, if it has one. */
  readonly casing?: DrizzleCasing
}

/**
 * A model over a Drizzle table: its name, columns, primary key, key type and the property →
 * column map are read from the table object, and rows are typed `typeof table.$inferSelect`,
 * so no type or column name is written twice. `filter()`, `orderBy()` and `create()` name the
 * table's properties (`userId`) and reject any other; the SQL names its columns (`user_id`).
 *
 * The key type comes from the key column: an integer or serial column is `'integer'` (a
 * `bigint` column in `mode: 'number'` too), a `bigint` column in `mode: 'bigint'` is `'bigint'`,
 * a PostgreSQL `uuid` is `'uuid'`, a text, varchar or char column `'string'`. Throws
 * `M2M_INVALID_DEFINITION` for a table without a single key column (pass `primaryKey`), a key
 * of another type (pass `keyType`), and a table in a named PostgreSQL schema.
 *
 * @example
 * ```ts
 * import { sqliteTable, integer, text } from 'drizzle-orm/sqlite-core'
 * import { drizzleModel } from 'throughline/drizzle'
 *
 * const users = sqliteTable('users', { id: integer().primaryKey(), displayName: text('display_name').notNull() })
 * const User = drizzleModel('User', users, { ordering: ['displayName'] })
 * // rows: typeof users.$inferSelect; filter({ displayName__startswith: 'A' }) reads display_name
 * ```
 */
export function drizzleModel<
  TTable extends Table,
  TName extends string,
  TPk extends keyof DrizzleRow<TTable> & string = DrizzlePrimaryKey<TTable>,
>(name: TName, table: TTable, options: DrizzleModelOptions<TTable, TPk> = {}): Model<DrizzleRow<TTable>, TPk, TName> {
  const where = `drizzleModel(${JSON.stringify(name)})`
  const read = readTable(where, table, options.casing)
  const primaryKey = options.primaryKey ?? singleKey(where, read, 'model')
  if (primaryKey === undefined) {
    throw new DefinitionError(
      `${where}: the table "${read.table}" has ${read.composite ? 'a composite primary key' : 'no primary key'}; a model needs one key column. ` +
        'Pass { primaryKey } naming a unique column, or mark the key column .primaryKey().',
    )
  }
  const column = read.columns.get(primaryKey)
  if (column === undefined) {
    throw new DefinitionError(`${where}: primaryKey "${primaryKey}" is not a column of the table "${read.table}"; its columns are ${[...read.columns.keys()].join(', ')}.`)
  }
  const keyType = options.keyType ?? keyTypeOf(where, primaryKey, column)
  const modelOptions = {
    table: read.table,
    primaryKey,
    keyType,
    columns: [...read.columns.keys()],
    columnNames: read.columnNames,
    converters: read.converters,
    ...(options.ordering === undefined ? {} : { ordering: options.ordering }),
    ...(options.class === undefined ? {} : { class: options.class }),
    ...(options.describe === undefined ? {} : { describe: options.describe }),
  }
  // The row type is Drizzle's; at run time this is defineModel, with every check it makes.
  return defineModel<DrizzleRow<TTable>, TPk, TName>(name, modelOptions as unknown as ModelOptions<DrizzleRow<TTable>, TPk>)
}

/**
 * A through table over a Drizzle join table: its name, column names and row type (its extra
 * columns typed) are read from the table object. Name the link columns' models by property in
 * `foreignKeys`; every other column can be given in `throughDefaults`, and is required when the
 * table declares it `notNull` without a default (a `$defaultFn` is its default).
 *
 * @example
 * ```ts
 * const favorites = sqliteTable('favorites', {
 *   userId: integer('user_id').notNull().references(() => users.id),
 *   interviewId: integer('interview_id').notNull().references(() => interviews.id),
 *   note: text('note'),
 * }, (t) => [primaryKey({ columns: [t.userId, t.interviewId] })])
 * const Favorite = drizzleThrough('Favorite', favorites, { foreignKeys: { userId: User, interviewId: Interview } })
 * const liked = manyToMany(User, Interview, { name: 'favorites', through: Favorite, adapter })
 * await liked.of(user).add(interview, { throughDefaults: { note: 'to watch' } })
 * ```
 */
export function drizzleThrough<TTable extends Table>(name: string, table: TTable, options: DrizzleThroughOptions<TTable>): Through<DrizzleRow<TTable>> {
  const where = `drizzleThrough(${JSON.stringify(name)})`
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new DefinitionError(`${where} takes options with the foreign keys: { foreignKeys: { userId: User, interviewId: Interview } }.`)
  }
  const read = readTable(where, table, options.casing)
  const primaryKey = options.primaryKey ?? singleKey(where, read, 'through')
  const given = (options.columns ?? {}) as Readonly<Record<string, ThroughColumn | undefined>>
  // Callers from JavaScript can leave it out: defineThrough() then says what is missing.
  const declared: unknown = options.foreignKeys
  const foreignKeys = (declared ?? {}) as Readonly<Record<string, AnyModel | undefined>>
  for (const property of [...Object.keys(foreignKeys), ...Object.keys(given), ...(primaryKey === undefined ? [] : [primaryKey])]) {
    if (!read.columns.has(property)) {
      throw new DefinitionError(`${where}: "${property}" is not a column of the table "${read.table}"; its columns are ${[...read.columns.keys()].join(', ')}.`)
    }
  }
  // Every other column is an extra column, but those the database computes and refuses to be
  // given (generated columns, `GENERATED ALWAYS` identities); the table says which ones an
  // insert must fill.
  const columns: Record<string, ThroughColumn> = {}
  for (const [property, column] of read.columns) {
    if (property === primaryKey || foreignKeys[property] !== undefined) continue
    const computed = column.generated !== undefined || column.generatedIdentity?.type === 'always'
    if (computed && given[property] === undefined) continue
    const fromTable: { default?: () => unknown; required?: boolean } = {}
    const defaultFn = column.defaultFn
    if (defaultFn !== undefined) fromTable.default = () => defaultFn()
    if (column.notNull && !column.hasDefault && !computed && column.generatedIdentity === undefined) fromTable.required = true
    columns[property] = { ...fromTable, ...given[property] }
  }
  return defineThrough<DrizzleRow<TTable>>(name, {
    table: read.table,
    ...(primaryKey === undefined ? {} : { primaryKey }),
    foreignKeys: options.foreignKeys,
    columns: columns as ThroughOptions<DrizzleRow<TTable>>['columns'] & object,
    columnNames: read.columnNames as ThroughOptions<DrizzleRow<TTable>>['columnNames'] & object,
    converters: read.converters as ThroughOptions<DrizzleRow<TTable>>['converters'] & object,
    ...(options.unique === undefined ? {} : { unique: options.unique }),
  })
}

/** What throughline reads from a Drizzle table. */
interface TableReading {
  readonly table: string
  /** The columns by property, in declaration order. */
  readonly columns: ReadonlyMap<string, Column>
  /** The database column of each property whose column has another name. */
  readonly columnNames: Readonly<Record<string, string>>
  /** The converter of each property whose Drizzle column converts its values. */
  readonly converters: Readonly<Record<string, ColumnConverter>>
  /** The properties of the columns marked `.primaryKey()`. */
  readonly primary: readonly string[]
  /** Whether the table declares a primary key over several columns (`primaryKey({ columns })`). */
  readonly composite: boolean
}

const SCHEMA = Symbol.for('drizzle:Schema')
const EXTRA_CONFIG_BUILDER = Symbol.for('drizzle:ExtraConfigBuilder')
const EXTRA_CONFIG_COLUMNS = Symbol.for('drizzle:ExtraConfigColumns')

function readTable(where: string, table: unknown, casing: DrizzleCasing | undefined): TableReading {
  if (!is(table, Table)) {
    throw new DefinitionError(`${where} takes a Drizzle table (sqliteTable(), pgTable() or mysqlTable()); got ${table === null ? 'null' : typeof table}.`)
  }
  const name = getTableName(table)
  const schema: unknown = Reflect.get(table, SCHEMA)
  if (typeof schema === 'string') {
    throw new DefinitionError(`${where}: the table "${schema}.${name}" is in a named schema; throughline reads tables by a plain name (on the search path).`)
  }
  const option: unknown = casing
  if (option !== undefined && option !== 'snake_case' && option !== 'camelCase') {
    throw new DefinitionError(`${where}: casing is "snake_case" or "camelCase", as the Drizzle database's; got ${JSON.stringify(casing)}.`)
  }
  const columns = new Map<string, Column>(Object.entries(getTableColumns(table)))
  const columnNames: Record<string, string> = {}
  for (const [property, column] of columns) {
    // A column named after its property (`userId: integer()`) is renamed by the database's casing.
    const stored = column.keyAsName && casing !== undefined ? (casing === 'snake_case' ? toSnakeCase(column.name) : toCamelCase(column.name)) : column.name
    if (stored !== property) columnNames[property] = stored
  }
  const converters: Record<string, ColumnConverter> = {}
  for (const [property, column] of columns) {
    const converter = drizzleConverter(column)
    if (converter !== undefined) converters[property] = converter
  }
  const primary = [...columns].filter(([, column]) => column.primary).map(([property]) => property)
  return { table: name, columns, columnNames, converters, primary, composite: primary.length === 0 && hasCompositeKey(table) }
}

// Drizzle's conversions of column values (`mapFromDriverValue`, `mapToDriverValue`) are applied
// by Drizzle's own queries only; throughline reads and writes through any adapter, so the model
// carries them as converters. A column class that overrides neither has no conversion.
function conversion(column: Column, method: 'mapFromDriverValue' | 'mapToDriverValue'): ((value: unknown) => unknown) | undefined {
  const own: unknown = Reflect.get(column, method)
  if (typeof own !== 'function' || own === Reflect.get(Column.prototype, method)) return undefined
  return (value) => (own as (this: Column, value: unknown) => unknown).call(column, value)
}

// Number columns of 32 bits or floats: every driver reads them as numbers already, so Drizzle's
// conversion (from a string) never applies and the model keeps the fast path of no converter.
const NATIVE_NUMBER = /^(integer|int|smallint|tinyint|mediumint|serial|smallserial|real|double|double precision|float)\b/i

/**
 * The converter of a Drizzle column, or `undefined` for a column without a conversion. Each
 * adapter returns what its driver reads, which differs by database and client (a `timestamptz`
 * is a `Date` through knex and a string through Drizzle's node-postgres session; an SQLite
 * `timestamp_ms` is a number; a MariaDB `DATETIME` a `Date` or a string), so Drizzle's decoding
 * applies only to a value not yet of the type Drizzle gives the column: a `Date` for a `date`
 * column, a boolean, a number, a bigint, a string, an array, binary data; for a `json` column,
 * anything but a string (the JSON a driver parsed already). A custom type is always decoded.
 */
function drizzleConverter(column: Column): ColumnConverter | undefined {
  const from = conversion(column, 'mapFromDriverValue')
  const to = comparableDate(column) ?? conversion(column, 'mapToDriverValue')
  if (from === undefined && to === undefined && column.dataType !== 'json') return undefined
  if (to === undefined && column.dataType === 'number' && NATIVE_NUMBER.test(column.getSQLType())) return undefined
  const decoded = isDecoded(column.dataType)
  // A JSON column Drizzle does not decode (MySQL's `json()`, read as text by a driver or database
  // that does not parse it) is parsed here, so that its rows hold the JSON value everywhere.
  const decode = from ?? (column.dataType === 'json' ? parseJson : (value: unknown) => value)
  return {
    fromDatabase: (stored) => (decoded(stored) ? stored : decode(stored)),
    toDatabase: to ?? ((value) => value),
  }
}

/** Whether a value read for a column of Drizzle's `dataType` is already of the type its rows hold. */
function isDecoded(dataType: string): (value: unknown) => boolean {
  switch (dataType) {
    case 'date':
      return (value) => value instanceof Date
    case 'boolean':
    case 'number':
    case 'bigint':
    case 'string':
      return (value) => typeof value === dataType
    case 'json':
      return (value) => typeof value !== 'string' && !(value instanceof Uint8Array)
    case 'array':
      return (value) => Array.isArray(value)
    case 'buffer':
      return (value) => value instanceof Uint8Array
    default:
      return () => false
  }
}

/**
 * How a server date column in `mode: 'date'` stores a `Date`: the instant Drizzle stores, in a
 * form every adapter also compares right. Drizzle's own form is an ISO string (UTC), but SQL
 * adapters compare a string with a column as text (PostgreSQL `::text COLLATE "C"`, MySQL
 * `CAST(... AS BINARY)`), where `2025-03-01T10:00:00.000Z` does not sort with the database's
 * `2025-03-01 10:00:00`. So a PostgreSQL `timestamptz` takes the `Date` itself (an instant,
 * which the driver sends with its offset), and the columns without a time zone take the text
 * the database prints for the UTC wall-clock time Drizzle stores (PostgreSQL trims zero
 * fractions, MySQL prints `fsp` digits), which is also the text they parse.
 */
function comparableDate(column: Column): ((value: unknown) => unknown) | undefined {
  const config = column as Column & { readonly withTimezone?: boolean; readonly fsp?: number }
  switch (column.columnType) {
    case 'PgTimestamp':
      return config.withTimezone === true ? (value) => value : (value) => utcText(value, 'trim')
    case 'PgDate':
    case 'MySqlDate':
      return (value) => utcText(value, 'day')
    case 'MySqlDateTime':
    case 'MySqlTimestamp':
      return (value) => utcText(value, config.fsp ?? 0)
    default:
      return undefined
  }
}

/** A Date's UTC wall-clock time as `YYYY-MM-DD HH:MM:SS[.fff]`, to the day, or with `fsp` digits or trimmed ones. */
function utcText(value: unknown, fraction: 'day' | 'trim' | number): string {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new TypeError(`expected a valid Date, got ${typeof value}`)
  const iso = value.toISOString()
  const day = iso.slice(0, 10)
  if (fraction === 'day') return day
  const digits = iso.slice(20, 23)
  const fractional = fraction === 'trim' ? digits.replace(/0+$/, '') : `${digits}000`.slice(0, fraction)
  return `${day} ${iso.slice(11, 19)}${fractional === '' ? '' : `.${fractional}`}`
}

function parseJson(value: unknown): unknown {
  const text = value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : value
  return typeof text === 'string' ? JSON.parse(text) : text
}

/** The one column marked primary, `undefined` for none or a composite key. */
function singleKey(where: string, read: TableReading, what: 'model' | 'through'): string | undefined {
  if (read.primary.length > 1) {
    throw new DefinitionError(`${where}: the table "${read.table}" marks several columns .primaryKey() (${read.primary.join(', ')}); pass the ${what}'s { primaryKey }.`)
  }
  return read.primary[0]
}

/**
 * Whether the table's extra config declares a primary key (`primaryKey({ columns })`), told
 * apart by Drizzle's entity kind, which every dialect names `<Dialect>PrimaryKeyBuilder`.
 */
function hasCompositeKey(table: Table): boolean {
  const builder: unknown = Reflect.get(table, EXTRA_CONFIG_BUILDER)
  if (typeof builder !== 'function') return false
  const config: unknown = (builder as (columns: unknown) => unknown)(Reflect.get(table, EXTRA_CONFIG_COLUMNS))
  const items: unknown[] = Array.isArray(config) ? config.flat(1) : typeof config === 'object' && config !== null ? Object.values(config) : []
  return items.some((item) => {
    if (typeof item !== 'object' || item === null) return false
    const kind: unknown = Reflect.get(item.constructor, entityKind)
    return typeof kind === 'string' && kind.endsWith('PrimaryKeyBuilder')
  })
}

/** The key type of a key column, from the type Drizzle gives its values. */
function keyTypeOf(where: string, property: string, column: Column): KeyType {
  const type = column.columnType
  if (column.dataType === 'bigint') return 'bigint'
  if (column.dataType === 'number' && /int|serial/i.test(type)) return 'integer'
  if (column.dataType === 'string') return /uuid/i.test(type) ? 'uuid' : 'string'
  throw new DefinitionError(
    `${where}: cannot tell the key type of "${property}" (${type}, ${column.dataType}); keys are integers, bigints, strings or UUIDs. Pass { keyType }.`,
  )
}
