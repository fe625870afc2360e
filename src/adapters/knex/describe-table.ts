import type { Knex } from 'knex'
import type { TableDescription } from '../../schema/table-description.js'
import { describeSqliteTable } from '../sqlite/describe-sqlite-table.js'
import { describeMysqlTable, describePostgresTable, type CatalogRow } from '../sql/describe-sql-table.js'
import type { KnexDialectName } from './knex-dialect.js'

/** The rows of a raw query, whatever shape the driver gives them in. */
export function rowsOf(dialect: KnexDialectName, result: unknown): CatalogRow[] {
  if (dialect === 'pg') return (result as { rows: CatalogRow[] }).rows
  if (dialect === 'mysql') return (result as [CatalogRow[], unknown])[0]
  return result as CatalogRow[]
}

/**
 * Describes a table from the catalog of the connection's database, or `undefined` when there
 * is no such table: SQLite's pragmas; on PostgreSQL `pg_catalog`, for the table an
 * unqualified name finds through the `search_path` (the one the adapter's statements use);
 * on MySQL/MariaDB `information_schema`, in the current database. Only reads. Internal: the
 * Knex adapter's `describeTable`.
 */
export async function describeKnexTable(db: Knex, dialect: KnexDialectName, table: string): Promise<TableDescription | undefined> {
  const read = async (sql: string, parameters: readonly unknown[]): Promise<CatalogRow[]> =>
    rowsOf(dialect, await db.raw(sql, parameters as Knex.RawBinding[]))
  switch (dialect) {
    case 'sqlite':
      return describeSqliteTable(read, table)
    case 'pg':
      return describePostgresTable(read, table)
    case 'mysql':
      return describeMysqlTable(read, table)
  }
}
