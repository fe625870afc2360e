import type { TableDescription } from '../../schema/table-description.js'
import { describeSqliteTable } from '../sqlite/describe-sqlite-table.js'
import type { SqliteDatabase } from './sqlite-database.js'

/**
 * Describes a table of a better-sqlite3 connection from SQLite's pragmas, or `undefined` when
 * there is no such table. The statements are prepared here, not cached: a schema check runs
 * once, at start-up. Internal: the adapter's `describeTable`.
 */
export async function describeBetterSqlite3Table(database: SqliteDatabase, table: string): Promise<TableDescription | undefined> {
  return describeSqliteTable((sql, parameters) => database.prepare(sql).all(...parameters) as Record<string, unknown>[], table)
}
