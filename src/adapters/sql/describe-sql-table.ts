import type { ColumnDescription, ColumnFamily, ForeignKeyDescription, TableDescription } from '../../schema/table-description.js'

/** A catalog row, as the driver returns it. */
export type CatalogRow = Record<string, unknown>

function text(value: unknown): string {
  if (typeof value === 'string') return value
  return typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' ? String(value) : ''
}

function flag(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 't'
}

/** Runs one catalog read (placeholders `?`) on the adapter's connection. Internal. */
export type Read = (sql: string, parameters: readonly unknown[]) => Promise<CatalogRow[]>

function postgresFamily(base: string): ColumnFamily {
  switch (base) {
    case 'int2':
    case 'int4':
    case 'int8':
      return 'integer'
    case 'numeric':
      return 'decimal'
    case 'float4':
    case 'float8':
      return 'float'
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'char':
    case 'name':
    case 'citext':
      return 'string'
    case 'uuid':
      return 'uuid'
    case 'bool':
      return 'boolean'
    case 'timestamp':
    case 'timestamptz':
    case 'date':
    case 'time':
    case 'timetz':
      return 'datetime'
    case 'bytea':
      return 'binary'
    case 'json':
    case 'jsonb':
      return 'json'
    default:
      return 'other'
  }
}

// The table an unqualified name finds through the search_path, as the adapter's statements do.
const PG_TABLE = 'to_regclass(quote_ident(?))'

/**
 * Describes a PostgreSQL table from `pg_catalog`, for the table an unqualified name finds
 * through the `search_path` (the one the adapter's statements use), or `undefined` when there
 * is none. Shared by the Knex and Kysely adapters.
 */
export async function describePostgresTable(read: Read, table: string): Promise<TableDescription | undefined> {
  const found = await read(`SELECT c.relkind FROM pg_class c WHERE c.oid = ${PG_TABLE} AND c.relkind IN ('r', 'p', 'v', 'f', 'm')`, [table])
  if (found.length === 0) return undefined
  const columnRows = await read(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, COALESCE(bt.typname, t.typname) AS base,
            NOT a.attnotnull AS nullable, a.atthasdef AS has_default,
            (a.attidentity <> '' OR a.attgenerated <> '' OR COALESCE(pg_get_expr(d.adbin, d.adrelid), '') LIKE 'nextval(%') AS generated
       FROM pg_attribute a
       JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = ${PG_TABLE} AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [table],
  )
  const columns: ColumnDescription[] = columnRows.map((row) => {
    const generated = flag(row.generated)
    return {
      name: text(row.name),
      family: postgresFamily(text(row.base)),
      type: text(row.type),
      nullable: flag(row.nullable),
      hasDefault: flag(row.has_default) || generated,
      generated,
    }
  })
  // Unique indexes back both unique constraints and the primary key. Partial and expression
  // indexes, and deferrable constraints, cannot be the arbiter of an ON CONFLICT.
  const indexRows = await read(
    `SELECT i.indexrelid::text AS id, i.indisprimary AS is_primary, (i.indimmediate AND i.indpred IS NULL AND i.indexprs IS NULL) AS usable, a.attname AS name
       FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
       LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = ${PG_TABLE} AND i.indisunique AND k.ord <= i.indnkeyatts
      ORDER BY i.indexrelid, k.ord`,
    [table],
  )
  let primaryKey: string[] = []
  const unique: string[][] = []
  for (const { first, rows } of groupBy(indexRows, 'id')) {
    const names = rows.map((row) => row.name)
    if (!names.every((name) => typeof name === 'string')) continue
    const set = names.map(text)
    if (flag(first.is_primary)) primaryKey = set
    if (flag(first.usable)) unique.push(set)
  }
  const keyRows = await read(
    `SELECT c.conname AS id, r.relname AS ref_table, a.attname AS name, fa.attname AS ref_name
       FROM pg_constraint c
       JOIN pg_class r ON r.oid = c.confrelid
       CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(attnum, fattnum, ord)
       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
       JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = k.fattnum
      WHERE c.conrelid = ${PG_TABLE} AND c.contype = 'f'
      ORDER BY c.conname, k.ord`,
    [table],
  )
  return { table, schemaless: false, columns, primaryKey, unique, foreignKeys: foreignKeysOf(keyRows) }
}

function mysqlFamily(dataType: string, columnType: string): ColumnFamily {
  // knex's boolean() is tinyint(1) on MySQL, which is also what BOOLEAN means there.
  if (columnType.startsWith('tinyint(1)')) return 'boolean'
  switch (dataType) {
    case 'tinyint':
    case 'smallint':
    case 'mediumint':
    case 'int':
    case 'integer':
    case 'bigint':
      return 'integer'
    case 'decimal':
    case 'numeric':
      return 'decimal'
    case 'float':
    case 'double':
    case 'real':
      return 'float'
    case 'char':
    case 'varchar':
    case 'tinytext':
    case 'text':
    case 'mediumtext':
    case 'longtext':
    case 'enum':
    case 'set':
      return 'string'
    case 'uuid':
      return 'uuid'
    case 'binary':
    case 'varbinary':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
      return 'binary'
    case 'date':
    case 'datetime':
    case 'timestamp':
    case 'time':
    case 'year':
      return 'datetime'
    case 'json':
      return 'json'
    default:
      return 'other'
  }
}

/**
 * Describes a MySQL/MariaDB table from `information_schema`, in the current database, or
 * `undefined` when there is none. Shared by the Knex and Kysely adapters.
 */
export async function describeMysqlTable(read: Read, table: string): Promise<TableDescription | undefined> {
  const columnRows = await read(
    `SELECT COLUMN_NAME AS name, DATA_TYPE AS data_type, COLUMN_TYPE AS column_type, IS_NULLABLE AS is_nullable,
            COLUMN_DEFAULT AS column_default, EXTRA AS extra
       FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?
      ORDER BY ORDINAL_POSITION`,
    [table],
  )
  // Every table has a column: none means no table.
  if (columnRows.length === 0) return undefined
  const columns: ColumnDescription[] = columnRows.map((row) => {
    const extra = text(row.extra)
    const generated = /auto_increment|(virtual|stored|persistent) generated/i.test(extra)
    const columnType = text(row.column_type).toLowerCase()
    return {
      name: text(row.name),
      family: mysqlFamily(text(row.data_type).toLowerCase(), columnType),
      type: columnType,
      nullable: text(row.is_nullable) === 'YES',
      // MariaDB writes the string 'NULL' for DEFAULT NULL; a NOT NULL column without a
      // default has NULL here on both MySQL and MariaDB.
      hasDefault: row.column_default !== null || generated,
      generated,
    }
  })
  const indexRows = await read(
    `SELECT INDEX_NAME AS id, NON_UNIQUE AS non_unique, COLUMN_NAME AS name
       FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?
      ORDER BY INDEX_NAME, SEQ_IN_INDEX`,
    [table],
  )
  let primaryKey: string[] = []
  const unique: string[][] = []
  for (const { first, rows } of groupBy(indexRows, 'id')) {
    if (Number(first.non_unique) !== 0) continue
    const names = rows.map((row) => row.name)
    // A functional key part has no column name.
    if (!names.every((name) => typeof name === 'string')) continue
    const set = names.map(text)
    if (text(first.id) === 'PRIMARY') primaryKey = set
    unique.push(set)
  }
  const keyRows = await read(
    `SELECT CONSTRAINT_NAME AS id, COLUMN_NAME AS name, REFERENCED_TABLE_NAME AS ref_table, REFERENCED_COLUMN_NAME AS ref_name
       FROM information_schema.KEY_COLUMN_USAGE
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND REFERENCED_TABLE_NAME IS NOT NULL
      ORDER BY CONSTRAINT_NAME, ORDINAL_POSITION`,
    [table],
  )
  return { table, schemaless: false, columns, primaryKey, unique, foreignKeys: foreignKeysOf(keyRows) }
}

/** Consecutive rows with the same `key`, as groups (the queries order by it). */
function groupBy(rows: readonly CatalogRow[], key: string): { first: CatalogRow; rows: CatalogRow[] }[] {
  const groups: { first: CatalogRow; rows: CatalogRow[] }[] = []
  for (const row of rows) {
    const last = groups[groups.length - 1]
    if (last !== undefined && text(last.first[key]) === text(row[key])) last.rows.push(row)
    else groups.push({ first: row, rows: [row] })
  }
  return groups
}

function foreignKeysOf(rows: readonly CatalogRow[]): ForeignKeyDescription[] {
  return groupBy(rows, 'id').map(({ first, rows: parts }) => ({
    columns: parts.map((row) => text(row.name)),
    table: text(first.ref_table),
    references: parts.map((row) => text(row.ref_name)),
  }))
}
