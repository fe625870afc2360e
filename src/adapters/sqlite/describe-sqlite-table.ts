import type { ColumnDescription, ColumnFamily, ForeignKeyDescription, TableDescription } from '../../schema/table-description.js'

/**
 * Runs one read on an SQLite connection: the Knex adapter's `raw`, or a better-sqlite3
 * statement (synchronous, which `await` takes as well). Internal.
 */
export type SqliteRead = (sql: string, parameters: readonly unknown[]) => Promise<readonly Record<string, unknown>[]> | readonly Record<string, unknown>[]

/** The family of an SQLite declared type, by the words that give SQLite its affinity. */
export function sqliteFamily(declared: string): ColumnFamily {
  const type = declared.toUpperCase()
  if (type === '') return 'other'
  if (type.includes('BOOL')) return 'boolean'
  if (type.includes('UUID')) return 'uuid'
  if (type.includes('INT')) return 'integer'
  if (type.includes('CHAR') || type.includes('CLOB') || type.includes('TEXT')) return 'string'
  if (type.includes('BLOB')) return 'binary'
  if (type.includes('REAL') || type.includes('FLOA') || type.includes('DOUB')) return 'float'
  if (type.includes('DATE') || type.includes('TIME')) return 'datetime'
  if (type.includes('JSON')) return 'json'
  if (type.includes('NUM') || type.includes('DEC')) return 'decimal'
  return 'other'
}

function text(value: unknown): string {
  if (typeof value === 'string') return value
  return typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' ? String(value) : ''
}

/**
 * Describes an SQLite table from its pragmas (`table_info`, `index_list`, `index_info`,
 * `foreign_key_list`, as table-valued functions so that the name is a bound parameter), or
 * `undefined` when there is no such table. Shared by the Knex and better-sqlite3 adapters.
 */
export async function describeSqliteTable(read: SqliteRead, table: string): Promise<TableDescription | undefined> {
  const info = await read('SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid', [table])
  if (info.length === 0) return undefined
  const indexes = await read('SELECT name, "unique", origin, partial FROM pragma_index_list(?)', [table])
  const primaryKey = info
    .filter((row) => Number(row.pk) > 0)
    .sort((a, b) => Number(a.pk) - Number(b.pk))
    .map((row) => text(row.name))
  // A lone INTEGER PRIMARY KEY of a rowid table is the rowid: SQLite generates it. A WITHOUT
  // ROWID table lists its primary key as an index (origin 'pk'); a rowid alias has none.
  const keyIndex = indexes.some((row) => row.origin === 'pk')
  const rowid = primaryKey.length === 1 && !keyIndex ? primaryKey[0] : undefined
  const columns: ColumnDescription[] = info.map((row) => {
    const name = text(row.name)
    const type = text(row.type)
    const generated = name === rowid && type.toUpperCase() === 'INTEGER'
    return {
      name,
      family: sqliteFamily(type),
      type: type === '' ? '(no type)' : type.toLowerCase(),
      nullable: Number(row.notnull) === 0 && !generated,
      hasDefault: row.dflt_value !== null || generated,
      generated,
    }
  })
  const unique: string[][] = []
  for (const index of indexes) {
    // Partial indexes cannot serve an ON CONFLICT without their WHERE clause.
    if (Number(index.unique) !== 1 || Number(index.partial) === 1) continue
    const parts = await read('SELECT name FROM pragma_index_info(?) ORDER BY seqno', [text(index.name)])
    // An expression part has no name: such an index is not on plain columns.
    if (parts.length > 0 && parts.every((part) => typeof part.name === 'string')) unique.push(parts.map((part) => text(part.name)))
  }
  const keys = await read('SELECT id, seq, "table", "from", "to" FROM pragma_foreign_key_list(?) ORDER BY id, seq', [table])
  const foreignKeys = new Map<number, { columns: string[]; table: string; references: string[] }>()
  for (const row of keys) {
    const id = Number(row.id)
    let fk = foreignKeys.get(id)
    if (fk === undefined) {
      fk = { columns: [], table: text(row.table), references: [] }
      foreignKeys.set(id, fk)
    }
    fk.columns.push(text(row.from))
    // `to` is NULL when the key points at the parent's primary key implicitly.
    if (row.to !== null && row.to !== undefined) fk.references.push(text(row.to))
  }
  return {
    table,
    schemaless: false,
    columns,
    primaryKey,
    unique,
    foreignKeys: [...foreignKeys.values()] satisfies ForeignKeyDescription[],
  }
}
