import type { Knex } from 'knex'
import { describeJoinTable, primaryKeyColumns, type ColumnSchema, type TableSchema } from '../../schema/table-schema.js'
import { MigrationError } from '../../errors/throughline-error.js'
import { constraintName } from '../sql/constraint-name.js'
import { knexDialect } from './knex-dialect.js'

/** The relation `createJoinTable` takes: any relation, either side. */
type AnyRelation = Parameters<typeof describeJoinTable>[0]

/** The kinds of a join table's extra columns, as {@link describeJoinTable} takes them. */
export type ExtraColumnKinds = Parameters<typeof describeJoinTable>[1]

function addColumn(knex: Knex, table: Knex.CreateTableBuilder, column: ColumnSchema, primaryKey: readonly string[]): void {
  const { name } = column
  // An auto-increment column is the primary key only when it is the whole key.
  const isKey = primaryKey.length === 1 && primaryKey[0] === name
  let builder: Knex.ColumnBuilder
  switch (column.kind) {
    case 'increments':
      builder = table.increments(name, { primaryKey: isKey })
      break
    case 'bigIncrements':
      builder = table.bigIncrements(name, { primaryKey: isKey })
      break
    case 'integer':
      builder = table.integer(name)
      // knex's increments() is unsigned on MySQL, and a foreign key must match its column's
      // type exactly there; PostgreSQL and SQLite ignore unsigned.
      if (column.references !== undefined) builder.unsigned()
      break
    case 'bigint':
      builder = table.bigInteger(name)
      if (column.references !== undefined) builder.unsigned()
      break
    case 'string':
      builder = table.string(name, 255)
      break
    case 'text':
      builder = table.text(name)
      break
    case 'uuid':
      builder = table.uuid(name)
      break
    case 'boolean':
      builder = table.boolean(name)
      break
    case 'datetime':
      // Milliseconds, as a JavaScript Date has (MySQL keeps whole seconds by default).
      builder = table.datetime(name, { precision: 3 })
      break
  }
  if (column.nullable) builder.nullable()
  else builder.notNullable()
  if (column.default !== undefined) {
    if (typeof column.default !== 'object') builder.defaultTo(column.default)
    // SQLite has no CURRENT_TIMESTAMP(3); elsewhere the precision must match the column's
    // (MySQL refuses a DATETIME(3) default of CURRENT_TIMESTAMP).
    else if (column.kind === 'datetime' && knexDialect(knex).name !== 'sqlite') builder.defaultTo(knex.fn.now(3))
    else builder.defaultTo(knex.fn.now())
  }
}

function defineTable(knex: Knex, table: Knex.CreateTableBuilder, schema: TableSchema): void {
  const dialect = knexDialect(knex).name
  if (dialect === 'mysql') {
    // Foreign keys and transactions need InnoDB; utf8mb4 holds every Unicode character.
    table.engine('InnoDB')
    table.charset('utf8mb4')
  }
  const primaryKey = primaryKeyColumns(schema)
  for (const column of schema.columns) addColumn(knex, table, column, primaryKey)
  const key = primaryKey.length === 1 ? schema.columns.find((column) => column.name === primaryKey[0]) : undefined
  if (primaryKey.length > 0 && key?.kind !== 'increments' && key?.kind !== 'bigIncrements') {
    // Named on PostgreSQL only, where a long default name would be truncated: MySQL names every
    // primary key PRIMARY, and knex 3 renders the name option wrongly for SQLite and MySQL.
    if (dialect === 'pg') table.primary([...primaryKey], { constraintName: constraintName(schema.table, primaryKey, 'pkey') })
    else table.primary([...primaryKey])
  }
  for (const column of schema.columns) {
    if (column.references === undefined) continue
    table
      .foreign(column.name, constraintName(schema.table, [column.name], 'foreign'))
      .references(column.references.column)
      .inTable(column.references.table)
      .onDelete('CASCADE')
  }
  for (const columns of schema.unique) table.unique([...columns], { indexName: constraintName(schema.table, columns, 'unique') })
  for (const columns of schema.indexes) table.index([...columns], constraintName(schema.table, columns, 'index'))
}

function createTableBuilder(knex: Knex, schema: TableSchema): Knex.SchemaBuilder {
  return knex.schema.createTable(schema.table, (table) => {
    defineTable(knex, table, schema)
  })
}

/**
 * Creates a table from a portable {@link TableSchema}: columns of every kind (`increments`,
 * `bigIncrements`, `integer`, `bigint`, `string` (255), `text`, `uuid`, `boolean`,
 * `datetime`), NOT NULL where not nullable, foreign keys with `ON DELETE CASCADE`, unique sets
 * and indexes. On MySQL the table is InnoDB in utf8mb4. Integer foreign keys are unsigned on
 * MySQL, to match knex's `increments()`.
 */
export async function createTable(knex: Knex, schema: TableSchema): Promise<void> {
  await createTableBuilder(knex, schema)
}

/**
 * The DDL {@link createTable} runs, as SQL strings for the dialect of `knex` (a migration file,
 * a review). Nothing is sent to the database.
 */
export function tableSql(knex: Knex, schema: TableSchema): string[] {
  return createTableBuilder(knex, schema)
    .toSQL()
    .map((query) => (query.bindings.length === 0 ? query.sql : knex.raw(query.sql, query.bindings).toQuery()))
}

/**
 * Creates the join table of a relation, as {@link describeJoinTable} describes it: the primary
 * key, the two link columns as foreign keys with `ON DELETE CASCADE`, the unique pair, an index
 * for the reverse direction, and the extra columns with the kinds you give (default `string`).
 * Either side of the relation gives the same table. On a table that exists it throws a
 * `MigrationError` with code `M2M_TABLE_EXISTS`, unless `options.ifNotExists` is set; so it
 * fits a migration's `up`, with {@link dropJoinTable} as its `down`.
 *
 * @example
 * ```ts
 * import { createJoinTable, joinTableSql } from 'throughline/knex'
 *
 * await createJoinTable(db, publications)
 * await createJoinTable(db, memberships, { date_joined: { kind: 'datetime' } })
 *
 * // Or write the DDL into a migration instead:
 * export async function up(knex) {
 *   for (const sql of joinTableSql(knex, publications)) await knex.raw(sql)
 * }
 * ```
 */
export async function createJoinTable(knex: Knex, relation: AnyRelation, extraColumns?: ExtraColumnKinds, options: CreateJoinTableOptions = {}): Promise<void> {
  const schema = describeJoinTable(relation, extraColumns)
  if (await knex.schema.hasTable(schema.table)) {
    if (options.ifNotExists === true) return
    throw new MigrationError(
      'M2M_TABLE_EXISTS',
      schema.table,
      `createJoinTable: the table "${schema.table}" already exists. Pass { ifNotExists: true } to leave an existing table as it is (then run relation.check() to see whether it fits), or drop it first (dropJoinTable).`,
    )
  }
  await createTable(knex, schema)
}

/** The DDL {@link createJoinTable} runs, as SQL strings, for a migration file. */
export function joinTableSql(knex: Knex, relation: AnyRelation, extraColumns?: ExtraColumnKinds): string[] {
  return tableSql(knex, describeJoinTable(relation, extraColumns))
}

/** Options of {@link createJoinTable}. */
export interface CreateJoinTableOptions {
  /** Leave an existing table as it is instead of throwing `M2M_TABLE_EXISTS`. Default `false`. */
  readonly ifNotExists?: boolean
}

/** Options of {@link dropJoinTable} and {@link dropJoinTableSql}. */
export interface DropJoinTableOptions {
  /** Do nothing when the table does not exist, instead of throwing `M2M_TABLE_MISSING`. Default `false`. */
  readonly ifExists?: boolean
}

/**
 * Drops the join table of a relation: the `down` of a migration whose `up` ran
 * {@link createJoinTable}. Either side of the relation drops the same table. Throws a
 * `MigrationError` with code `M2M_TABLE_MISSING` when there is no such table, unless
 * `ifExists` is set. The model tables are left alone.
 *
 * @example
 * ```ts
 * export const up = (knex: Knex) => createJoinTable(knex, publications)
 * export const down = (knex: Knex) => dropJoinTable(knex, publications)
 * ```
 */
export async function dropJoinTable(knex: Knex, relation: AnyRelation, options: DropJoinTableOptions = {}): Promise<void> {
  const table = relation.through.table
  if (!(await knex.schema.hasTable(table))) {
    if (options.ifExists === true) return
    throw new MigrationError(
      'M2M_TABLE_MISSING',
      table,
      `dropJoinTable: the table "${table}" does not exist, so there is nothing to drop. Pass { ifExists: true } if that is expected (a migration run down twice).`,
    )
  }
  await knex.schema.dropTable(table)
}

/** The DDL {@link dropJoinTable} runs (`DROP TABLE`, or `DROP TABLE IF EXISTS` with `ifExists`), as SQL strings, for a migration file. */
export function dropJoinTableSql(knex: Knex, relation: AnyRelation, options: DropJoinTableOptions = {}): string[] {
  const table = relation.through.table
  const builder = options.ifExists === true ? knex.schema.dropTableIfExists(table) : knex.schema.dropTable(table)
  return builder.toSQL().map((query) => query.sql)
}
