/**
 * What a database says about one of its tables, in portable terms: the answer of
 * `RelationAdapter.describeTable`, which `relation.check()` compares with the relation's
 * definition. Adapters only read their catalog; every rule lives in `checkSchema`.
 */

/**
 * The kind of values a column holds, whatever the database calls its type: `integer` for
 * `int`, `bigint`, `smallint` and SQLite's `INTEGER`; `string` for `text`, `varchar`, `char`;
 * `uuid` for a native UUID type (a `char(36)` is a `string`); `other` for what does not map
 * (an SQLite column declared without a type, a PostgreSQL `inet`).
 */
export type ColumnFamily = 'integer' | 'decimal' | 'float' | 'string' | 'uuid' | 'boolean' | 'datetime' | 'binary' | 'json' | 'other'

/** One column of a {@link TableDescription}. */
export interface ColumnDescription {
  readonly name: string
  /** The portable kind of the column. */
  readonly family: ColumnFamily
  /** The type as the database writes it (`integer`, `character varying(255)`), for messages. */
  readonly type: string
  /** Whether NULL is allowed. */
  readonly nullable: boolean
  /** Whether the database fills the column when an insert leaves it out: a default, or {@link ColumnDescription.generated}. */
  readonly hasDefault: boolean
  /** Whether the database generates the value: auto-increment, identity, serial, SQLite's rowid alias. */
  readonly generated: boolean
}

/** A foreign key of a {@link TableDescription}: `columns` point at `references` of `table`. */
export interface ForeignKeyDescription {
  readonly columns: readonly string[]
  /** The table pointed at, without its schema. */
  readonly table: string
  /** The columns pointed at; empty when the database leaves them implicit (the primary key, on SQLite). */
  readonly references: readonly string[]
}

/** A table as the database describes it. */
export interface TableDescription {
  readonly table: string
  /**
   * Whether the store has no fixed columns (the memory adapter takes any column and enforces
   * a relation's unique pair and foreign keys itself): then there is nothing to compare, and
   * `columns`, `primaryKey`, `unique` and `foreignKeys` are empty.
   */
  readonly schemaless: boolean
  /** The columns, in table order. */
  readonly columns: readonly ColumnDescription[]
  /** The primary key columns, in key order; empty when the table has no primary key. */
  readonly primaryKey: readonly string[]
  /**
   * The column sets of the unique indexes and constraints that an `ON CONFLICT` can use:
   * partial, expression and deferrable ones are left out. The primary key may be among them.
   */
  readonly unique: readonly (readonly string[])[]
  /** The foreign keys. */
  readonly foreignKeys: readonly ForeignKeyDescription[]
}
