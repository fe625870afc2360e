import type { Condition, OrderTerm, Row } from '../adapter/relation-adapter.js'
import { DefinitionError, UnknownColumnError } from '../errors/throughline-error.js'
import { isIdentifier } from './identifier.js'

// The one place where row properties and database columns meet (Django's `db_column`). The
// user names properties everywhere (rows, filter(), orderBy(), create(), throughDefaults...);
// adapters receive and return column names. The manager layer calls this module at the storage
// boundary only: conditions, order terms and values on the way in, rows on the way out. A table
// with no renamed column has the identity mapping, which returns its input as it is, so the
// common path copies no row.

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
  /** Whether any property has a column of another name. */
  readonly mapped: boolean

  private constructor(owner: string, columns: ReadonlyMap<string, string>) {
    this.#owner = owner
    this.#columns = columns
    this.#properties = new Map([...columns].map(([property, column]) => [column, property]))
    this.mapped = columns.size > 0
  }

  /**
   * Checks a `columnNames` option and builds its mapping. `declared` are the properties the
   * definition declares (a model's `columns`), or `undefined` when any identifier may be one;
   * `known` are the other properties it names (its primary key, ordering, link columns...).
   * Throws {@link DefinitionError} for a name that is not an identifier, a property that is not
   * declared, or two properties on one column.
   */
  static define(owner: string, option: unknown, declared: readonly string[] | undefined, known: readonly string[] = []): ColumnNames {
    if (option === undefined) return ColumnNames.identity
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
    return columns.size === 0 ? ColumnNames.identity : new ColumnNames(owner, columns)
  }

  /** The mapping as the public record: renamed properties only. */
  toRecord(): Readonly<Record<string, string>> {
    return Object.freeze(Object.fromEntries(this.#columns))
  }

  /**
   * The column of a property. A property with no mapping is its own column, unless that name
   * is the column of a renamed property: then `M2M_UNKNOWN_COLUMN`, since rows never carry it.
   */
  column(property: string): string {
    if (!this.mapped) return property
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
    return this.mapped && this.#properties.has(name) && !this.#columns.has(name)
  }

  /** The property of a column. */
  property(column: string): string {
    return this.#properties.get(column) ?? column
  }

  /** A row as an adapter returned it, keyed by properties: the same object when nothing is renamed. */
  fromStorage(row: Row): Row {
    if (!this.mapped) return row
    const renamed: Row = {}
    for (const key of Object.keys(row)) {
      const property = this.#properties.get(key)
      // A column named like a renamed property is not that property: leave it out rather than
      // overwrite the property's value with another column's.
      if (property !== undefined) renamed[property] = row[key]
      else if (!this.#columns.has(key)) renamed[key] = row[key]
    }
    return renamed
  }

  /** Values keyed by properties, keyed by columns for an adapter: the same object when nothing is renamed. */
  toStorage(values: Readonly<Row>): Readonly<Row> {
    if (!this.mapped) return values
    const renamed: Row = {}
    for (const key of Object.keys(values)) renamed[this.column(key)] = values[key]
    return renamed
  }

  /** Conditions on properties, on columns for an adapter. */
  conditions(conditions: readonly Condition[]): readonly Condition[] {
    if (!this.mapped) return conditions
    return conditions.map((condition) => ({ ...condition, column: this.column(condition.column) }))
  }

  /** Order terms on properties, on columns for an adapter. */
  order(terms: readonly OrderTerm[]): readonly OrderTerm[] {
    if (!this.mapped) return terms
    return terms.map((term) => ({ column: this.column(term.column), direction: term.direction }))
  }
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
