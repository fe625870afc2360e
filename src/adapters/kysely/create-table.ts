import { sql, type ColumnDefinitionBuilder, type CreateTableBuilder, type Kysely } from 'kysely'
import { describeJoinTable, primaryKeyColumns, type ColumnSchema, type TableSchema } from '../../schema/table-schema.js'
import { MigrationError } from '../../errors/throughline-error.js'
import { constraintName } from '../sql/constraint-name.js'
import { KyselyAdapter, kyselyDialectName, type KyselyDialectName } from './kysely-adapter.js'

/** The relation `createJoinTable` takes: any relation, either side. */
type AnyRelation = Parameters<typeof describeJoinTable>[0]

/** The kinds of a join table's extra columns, as {@link describeJoinTable} takes them. */
export type KyselyExtraColumnKinds = Parameters<typeof describeJoinTable>[1]

/** Options of the Kysely {@link createTable}. */
export interface KyselyCreateTableOptions {
  /**
   * The database, when the Kysely instance's dialect is not one of Kysely's own nor built on
   * their adapters (as `KyselyAdapterOptions.dialect`). Read from the instance by default.
   */
  readonly dialect?: KyselyDialectName
}

/** Options of the Kysely {@link createJoinTable}. */
export interface KyselyCreateJoinTableOptions extends KyselyCreateTableOptions {
  /** Leave an existing table as it is instead of throwing `M2M_TABLE_EXISTS`. Default `false`. */
  readonly ifNotExists?: boolean
}

/** Options of the Kysely {@link dropJoinTable}. */
export interface KyselyDropJoinTableOptions extends KyselyCreateTableOptions {
  /** Do nothing when the table does not exist, instead of throwing `M2M_TABLE_MISSING`. Default `false`. */
  readonly ifExists?: boolean
}

// Any Kysely instance or transaction, whatever its DB (a migration's is Kysely<any>).
type AnyKysely = Kysely<unknown>

// The types knex's schema builder gives each kind, so that a table made here and one made by
// the Knex helper read alike in the catalog (and relation.check() says the same of both).
function columnType(column: ColumnSchema, dialect: KyselyDialectName): string {
  // knex's increments() is unsigned on MySQL, and a foreign key must match its column's type
  // exactly there; PostgreSQL and SQLite have no unsigned.
  const unsigned = dialect === 'mysql' && column.references !== undefined ? ' unsigned' : ''
  switch (column.kind) {
    case 'increments':
      return dialect === 'pg' ? 'serial' : dialect === 'mysql' ? 'integer unsigned' : 'integer'
    case 'bigIncrements':
      return dialect === 'pg' ? 'bigserial' : dialect === 'mysql' ? 'bigint unsigned' : 'integer'
    case 'integer':
      return `integer${unsigned}`
    case 'bigint':
      return `bigint${unsigned}`
    case 'string':
      return 'varchar(255)'
    case 'text':
      return 'text'
    case 'uuid':
      return dialect === 'pg' ? 'uuid' : 'char(36)'
    case 'boolean':
      return 'boolean'
    case 'datetime':
      // Milliseconds, as a JavaScript Date has (MySQL keeps whole seconds by default).
      return dialect === 'pg' ? 'timestamptz(3)' : dialect === 'mysql' ? 'datetime(3)' : 'datetime'
  }
}

function defineColumn(column: ColumnSchema, dialect: KyselyDialectName, isKey: boolean, builder: ColumnDefinitionBuilder): ColumnDefinitionBuilder {
  let result = column.nullable ? builder : builder.notNull()
  const generated = column.kind === 'increments' || column.kind === 'bigIncrements'
  if (isKey) result = result.primaryKey()
  // SQLite auto-increments only its INTEGER PRIMARY KEY; PostgreSQL's serial needs nothing more.
  if (generated && dialect === 'mysql') result = result.autoIncrement()
  if (generated && dialect === 'sqlite' && isKey) result = result.autoIncrement()
  if (column.default !== undefined) {
    if (typeof column.default !== 'object') result = result.defaultTo(column.default)
    // SQLite has no CURRENT_TIMESTAMP(3); elsewhere the precision must match the column's
    // (MySQL refuses a DATETIME(3) default of CURRENT_TIMESTAMP).
    else if (column.kind === 'datetime' && dialect !== 'sqlite') result = result.defaultTo(sql`CURRENT_TIMESTAMP(3)`)
    else result = result.defaultTo(sql`CURRENT_TIMESTAMP`)
  }
  return result
}

function createTableBuilder(db: AnyKysely, schema: TableSchema, dialect: KyselyDialectName): CreateTableBuilder<string, string> {
  const primaryKey = primaryKeyColumns(schema)
  let table: CreateTableBuilder<string, string> = db.schema.createTable(schema.table)
  for (const column of schema.columns) {
    // An auto-increment column is the primary key only when it is the whole key.
    const isKey = primaryKey.length === 1 && primaryKey[0] === column.name && (column.kind === 'increments' || column.kind === 'bigIncrements')
    table = table.addColumn(column.name, sql.raw(columnType(column, dialect)), (builder) => defineColumn(column, dialect, isKey, builder))
  }
  const key = primaryKey.length === 1 ? schema.columns.find((column) => column.name === primaryKey[0]) : undefined
  if (primaryKey.length > 0 && key?.kind !== 'increments' && key?.kind !== 'bigIncrements') {
    table = table.addPrimaryKeyConstraint(constraintName(schema.table, primaryKey, 'pkey'), [...primaryKey])
  }
  for (const column of schema.columns) {
    if (column.references === undefined) continue
    table = table.addForeignKeyConstraint(
      constraintName(schema.table, [column.name], 'foreign'),
      [column.name],
      column.references.table,
      [column.references.column],
      (constraint) => constraint.onDelete('cascade'),
    )
  }
  for (const columns of schema.unique) table = table.addUniqueConstraint(constraintName(schema.table, columns, 'unique'), [...columns])
  // Foreign keys and transactions need InnoDB; utf8mb4 holds every Unicode character.
  if (dialect === 'mysql') table = table.modifyEnd(sql`engine = InnoDB default character set utf8mb4`)
  return table
}

/**
 * Creates a table from a portable {@link TableSchema} with Kysely's schema builder
 * (`db.schema.createTable`), as the Knex helper of the same name does: columns of every kind
 * (`increments`, `bigIncrements`, `integer`, `bigint`, `string` (255), `text`, `uuid`,
 * `boolean`, `datetime`) with the types knex gives them, NOT NULL where not nullable,
 * defaults, a composite primary key, foreign keys with `ON DELETE CASCADE`, unique sets, then
 * the indexes (`CREATE INDEX`). On MySQL the table is InnoDB in utf8mb4, and integer foreign
 * keys are unsigned, to match an auto-increment key. Takes a Kysely instance or a transaction
 * (a migration's `db`).
 */
export async function createTable<DB>(db: Kysely<DB>, schema: TableSchema, options: KyselyCreateTableOptions = {}): Promise<void> {
  const any = db as unknown as AnyKysely
  const dialect = options.dialect ?? kyselyDialectName(any)
  await createTableBuilder(any, schema, dialect).execute()
  for (const columns of schema.indexes) {
    await any.schema
      .createIndex(constraintName(schema.table, columns, 'index'))
      .on(schema.table)
      .columns([...columns])
      .execute()
  }
}

/** Whether `table` exists, read from the catalog as `relation.check()` reads it (the current schema on PostgreSQL, the current database on MySQL). */
async function hasTable(db: AnyKysely, table: string, dialect: KyselyDialectName): Promise<boolean> {
  return (await new KyselyAdapter(db, { dialect }).describeTable(table)) !== undefined
}

/**
 * Creates the join table of a relation with Kysely's schema builder, as
 * {@link describeJoinTable} describes it and as the Knex helper creates it: the primary key,
 * the two link columns as foreign keys with `ON DELETE CASCADE`, the unique pair, an index for
 * the reverse direction, and the extra columns with the kinds you give (default `string`).
 * Either side of the relation gives the same table. On a table that exists it throws a
 * `MigrationError` with code `M2M_TABLE_EXISTS`, unless `options.ifNotExists` is set; so it
 * fits a Kysely migration's `up`, with {@link dropJoinTable} as its `down`.
 *
 * @example
 * ```ts
 * import type { Kysely } from 'kysely'
 * import { createJoinTable, dropJoinTable } from 'throughline/kysely'
 * import { favorites } from '../relations.js'
 *
 * export async function up(db: Kysely<any>): Promise<void> {
 *   await createJoinTable(db, favorites, { created_at: { kind: 'datetime' } })
 * }
 *
 * export async function down(db: Kysely<any>): Promise<void> {
 *   await dropJoinTable(db, favorites)
 * }
 * ```
 */
export async function createJoinTable<DB>(db: Kysely<DB>, relation: AnyRelation, extraColumns?: KyselyExtraColumnKinds, options: KyselyCreateJoinTableOptions = {}): Promise<void> {
  const any = db as unknown as AnyKysely
  const dialect = options.dialect ?? kyselyDialectName(any)
  const schema = describeJoinTable(relation, extraColumns)
  if (await hasTable(any, schema.table, dialect)) {
    if (options.ifNotExists === true) return
    throw new MigrationError(
      'M2M_TABLE_EXISTS',
      schema.table,
      `createJoinTable: the table "${schema.table}" already exists. Pass { ifNotExists: true } to leave an existing table as it is (then run relation.check() to see whether it fits), or drop it first (dropJoinTable).`,
    )
  }
  await createTable(db, schema, { dialect })
}

/**
 * Drops the join table of a relation with Kysely's schema builder: the `down` of a migration
 * whose `up` ran {@link createJoinTable}. Either side of the relation drops the same table.
 * Throws a `MigrationError` with code `M2M_TABLE_MISSING` when there is no such table, unless
 * `ifExists` is set. The model tables are left alone.
 */
export async function dropJoinTable<DB>(db: Kysely<DB>, relation: AnyRelation, options: KyselyDropJoinTableOptions = {}): Promise<void> {
  const any = db as unknown as AnyKysely
  const dialect = options.dialect ?? kyselyDialectName(any)
  const table = relation.through.table
  if (!(await hasTable(any, table, dialect))) {
    if (options.ifExists === true) return
    throw new MigrationError(
      'M2M_TABLE_MISSING',
      table,
      `dropJoinTable: the table "${table}" does not exist, so there is nothing to drop. Pass { ifExists: true } if that is expected (a migration run down twice).`,
    )
  }
  await any.schema.dropTable(table).execute()
}
