import type { Condition, OrderTerm, Row } from '../adapter/relation-adapter.js'
import { DefinitionError, InvalidArgumentError, InvalidLookupError, UnknownColumnError } from '../errors/throughline-error.js'
import type { ColumnConverter } from './define-model.js'
import { isIdentifier } from './identifier.js'

// The one place where row properties and database columns meet (Django's `db_column`). The
// user names properties everywhere (rows, filter(), orderBy(), create(), throughDefaults...);
// adapters receive and return column names. The manager layer calls this module at the storage
// boundary only: conditions, order terms and values on the way in, rows on the way out. Values
// cross the same boundary, converted by the `converters` option (Django's from_db_value and
// get_prep_value): decoded in every row read back, encoded in every value written or compared.
// A table with no renamed column and no converter has the identity mapping, which returns its
// input as it is, so the common path copies no row.

/**
 * How the properties of one table's rows map to its database columns. Internal: the public
 * form is the `columnNames` record of a model or through table.
 */
export class ColumnNames {
  /** The mapping of a table whose properties are its column names. */
  static readonly identity = new ColumnNames('', new Map())

  readonly #owner: string
  // property → column, and column → property, for the renamed properties only.
  readonly #columns: ReadonlyMap<string, string>
  readonly #properties: ReadonlyMap<string, string>
  readonly #renamed: boolean
  // The converters by property (to encode what the caller names) and by column (to decode rows).
  readonly #encoders: ReadonlyMap<string, ColumnConverter>
  readonly #decoders: ReadonlyMap<string, { readonly property: string; readonly converter: ColumnConverter }>
  /** Whether rows and values need translating: a property has a column of another name, or a converter. */
  readonly mapped: boolean

  private constructor(owner: string, columns: ReadonlyMap<string, string>, converters: ReadonlyMap<string, ColumnConverter> = new Map()) {
    this.#owner = owner
    this.#columns = columns
    this.#properties = new Map([...columns].map(([property, column]) => [column, property]))
    this.#renamed = columns.size > 0
    this.#encoders = converters
    this.#decoders = new Map([...converters].map(([property, converter]) => [columns.get(property) ?? property, { property, converter }]))
    this.mapped = this.#renamed || converters.size > 0
  }

  /**
   * Checks a `columnNames` option and builds its mapping. `declared` are the properties the
   * definition declares (a model's `columns`), or `undefined` when any identifier may be one;
   * `known` are the other properties it names (its primary key, ordering, link columns...).
   * Throws {@link DefinitionError} for a name that is not an identifier, a property that is not
   * declared, or two properties on one column.
   */
  static define(
    owner: string,
    option: unknown,
    declared: readonly string[] | undefined,
    known: readonly string[] = [],
    convertersOption?: unknown,
  ): ColumnNames {
    const converters = defineConverters(owner, convertersOption, declared)
    if (option === undefined) return converters.size === 0 ? ColumnNames.identity : new ColumnNames(owner, new Map(), converters)
    if (typeof option !== 'object' || option === null || Array.isArray(option)) {
      throw new DefinitionError(`${owner}: columnNames maps properties to database columns, as { userId: "user_id" }; got ${typeof option}.`)
    }
    const columns = new Map<string, string>()
    const holders = new Map<string, string>()
    for (const [property, column] of Object.entries(option as Record<string, unknown>)) {
      if (column === undefined) continue
      if (!isIdentifier(property)) {
        throw new DefinitionError(`${owner}: columnNames names the property ${JSON.stringify(property)}, which is not a plain identifier.`)
      }
      if (declared !== undefined && !declared.includes(property)) {
        throw new DefinitionError(`${owner}: columnNames names "${property}", which is not one of its columns (${declared.join(', ')}).`)
      }
      if (!isIdentifier(column)) {
        throw new DefinitionError(
          `${owner}: the database column of "${property}" must be a plain identifier (letters, digits and underscores); got ${JSON.stringify(column)}.`,
        )
      }
      const other = holders.get(column)
      if (other !== undefined) {
        throw new DefinitionError(`${owner}: "${other}" and "${property}" are both mapped to the column "${column}"; a column holds one property.`)
      }
      holders.set(column, property)
      if (column !== property) columns.set(property, column)
    }
    // A property left with its own name keeps its column: no renamed property may take it.
    for (const property of [...(declared ?? []), ...known]) {
      const holder = holders.get(property)
      if (holder !== undefined && holder !== property && !columns.has(property)) {
        throw new DefinitionError(
          `${owner}: "${holder}" is mapped to the column "${property}", which is also the column of the property "${property}"; a column holds one property.`,
        )
      }
    }
    return columns.size === 0 && converters.size === 0 ? ColumnNames.identity : new ColumnNames(owner, columns, converters)
  }

  /** The mapping as the public record: renamed properties only. */
  toRecord(): Readonly<Record<string, string>> {
    return Object.freeze(Object.fromEntries(this.#columns))
  }

  /** The converters as the public record, by property. */
  convertersRecord(): Readonly<Record<string, ColumnConverter>> {
    return Object.freeze(Object.fromEntries(this.#encoders))
  }

  /**
   * The column of a property. A property with no mapping is its own column, unless that name
   * is the column of a renamed property: then `M2M_UNKNOWN_COLUMN`, since rows never carry it.
   */
  column(property: string): string {
    if (!this.#renamed) return property
    const column = this.#columns.get(property)
    if (column !== undefined) return column
    const holder = this.#properties.get(property)
    if (holder !== undefined) {
      throw new UnknownColumnError(`${this.#owner} has no column "${property}": that database column holds the property "${holder}"; name the property.`)
    }
    return property
  }

  /** Whether `name` is the database column of a renamed property, and no property itself. */
  isRenamedColumn(name: string): boolean {
    return this.#renamed && this.#properties.has(name) && !this.#columns.has(name)
  }

  /** The property of a column. */
  property(column: string): string {
    return this.#properties.get(column) ?? column
  }

  /**
   * A row as an adapter returned it, keyed by properties, its values decoded by their converters:
   * the same object when nothing is renamed or converted.
   */
  fromStorage(row: Row): Row {
    if (!this.mapped) return row
    const renamed: Row = {}
    for (const key of Object.keys(row)) {
      const property = this.#properties.get(key)
      // A column named like a renamed property is not that property: leave it out rather than
      // overwrite the property's value with another column's.
      if (property === undefined && this.#columns.has(key)) continue
      renamed[property ?? key] = this.#decode(key, row[key])
    }
    return renamed
  }

  /**
   * Values keyed by properties, keyed by columns and encoded for an adapter: the same object
   * when nothing is renamed or converted.
   */
  toStorage(values: Readonly<Row>): Readonly<Row> {
    if (!this.mapped) return values
    const renamed: Row = {}
    for (const key of Object.keys(values)) renamed[this.column(key)] = this.encode(key, values[key])
    return renamed
  }

  /**
   * The value of a property as its column stores it: encoded by its converter, if it has one.
   * `null` and `undefined` are no value, never converted. Throws `M2M_INVALID_ARGUMENT` when the
   * converter refuses the value.
   */
  encode(property: string, value: unknown): unknown {
    const converter = this.#encoders.get(property)
    if (converter === undefined || value === null || value === undefined) return value
    try {
      return converter.toDatabase(value)
    } catch (error) {
      throw new InvalidArgumentError(`${this.#owner}: the value of "${property}" cannot be converted for its column: ${reason(error)}.`)
    }
  }

  /** Whether a property has a converter. */
  converts(property: string): boolean {
    return this.#encoders.has(property)
  }

  /**
   * Conditions on properties, on columns for an adapter. The values compared with a stored
   * value are encoded as stored values are (`exact`, `in`, the comparisons), as Django prepares
   * them; the string lookups and `isnull` compare with the stored text and are left as given.
   */
  conditions(conditions: readonly Condition[]): readonly Condition[] {
    if (!this.mapped) return conditions
    return conditions.map((condition) => {
      const column = this.column(condition.column)
      if (!this.#encoders.has(condition.column) || !ENCODED_LOOKUPS.has(condition.op)) return { ...condition, column }
      const encode = (value: unknown): unknown => {
        try {
          return this.encode(condition.column, value)
        } catch (error) {
          throw new InvalidLookupError(error instanceof Error ? error.message : String(error))
        }
      }
      const value: unknown = condition.value
      return { ...condition, column, value: Array.isArray(value) ? value.map(encode) : encode(value) }
    })
  }

  /** Order terms on properties, on columns for an adapter. */
  order(terms: readonly OrderTerm[]): readonly OrderTerm[] {
    if (!this.#renamed) return terms
    return terms.map((term) => ({ column: this.column(term.column), direction: term.direction }))
  }

  /** A stored value of `column`, decoded by the converter of its property. */
  #decode(column: string, value: unknown): unknown {
    const decoder = this.#decoders.get(column)
    if (decoder === undefined || value === null || value === undefined) return value
    try {
      return decoder.converter.fromDatabase(value)
    } catch (error) {
      throw new DefinitionError(
        `${this.#owner}: the converter of "${decoder.property}" cannot read the value its column holds (${describeStored(value)}): ${reason(error)}. ` +
          'Its fromDatabase must take every form the adapter returns for the column.',
      )
    }
  }
}

// The lookups whose value is a column value, encoded as one (Django's prepare_rhs).
const ENCODED_LOOKUPS: ReadonlySet<Condition['op']> = new Set<Condition['op']>(['exact', 'in', 'gt', 'gte', 'lt', 'lte'])

/** Checks a `converters` option: an object of `{ fromDatabase, toDatabase }` by declared property. */
function defineConverters(owner: string, option: unknown, declared: readonly string[] | undefined): ReadonlyMap<string, ColumnConverter> {
  const converters = new Map<string, ColumnConverter>()
  if (option === undefined) return converters
  if (typeof option !== 'object' || option === null || Array.isArray(option)) {
    throw new DefinitionError(`${owner}: converters maps properties to { fromDatabase, toDatabase }; got ${typeof option}.`)
  }
  for (const [property, converter] of Object.entries(option as Record<string, unknown>)) {
    if (converter === undefined) continue
    if (!isIdentifier(property)) {
      throw new DefinitionError(`${owner}: converters names the property ${JSON.stringify(property)}, which is not a plain identifier.`)
    }
    if (declared !== undefined && !declared.includes(property)) {
      throw new DefinitionError(`${owner}: converters names "${property}", which is not one of its columns (${declared.join(', ')}).`)
    }
    const methods = typeof converter === 'object' && converter !== null ? [Reflect.get(converter, 'fromDatabase'), Reflect.get(converter, 'toDatabase')] : []
    if (methods.length === 0 || methods.some((method) => typeof method !== 'function')) {
      throw new DefinitionError(`${owner}: the converter of "${property}" must have two functions, fromDatabase(stored) and toDatabase(value).`)
    }
    // The object itself, called as a method: a converter may keep its state on `this`.
    converters.set(property, converter as ColumnConverter)
  }
  return converters
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function describeStored(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value)
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${typeof value} ${String(value)}`
  return value instanceof Date ? 'a Date' : typeof value
}

// The mapping of each model and through table, set by defineModel() and defineThrough(). A
// definition made some other way has none: its properties are its columns.
const registry = new WeakMap<object, ColumnNames>()

/** Records the mapping of a model or through table. */
export function registerColumnNames(definition: object, names: ColumnNames): void {
  if (names.mapped) registry.set(definition, names)
}

/** The mapping of a model or through table (the identity when it renames nothing). */
export function columnNamesOf(definition: object): ColumnNames {
  return registry.get(definition) ?? ColumnNames.identity
}
