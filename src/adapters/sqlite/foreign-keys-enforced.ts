import type { LinkSpec } from '../../adapter/relation-adapter.js'

/**
 * A `SELECT` of two columns: `enforced`, 1 when SQLite itself refuses, at the end of a statement
 * run outside a transaction, a row of the join table whose source or target row does not exist,
 * and `version`, the schema version it was read at. Refused when the connection enforces foreign
 * keys (`PRAGMA foreign_keys`, per connection: off by default in SQLite, on in better-sqlite3's
 * build) and the join table has a one-column foreign key from each key column to its table's
 * key, none of them deferred (`INITIALLY DEFERRED`), as PostgreSQL's guard asks. Read from the schema SQLite keeps in memory (the `pragma_*` table-valued functions).
 *
 * `sql` has only `?` placeholders (values, no identifiers), in the order of `bindings`.
 */
export function sqliteForeignKeysQuery(link: LinkSpec): { readonly sql: string; readonly bindings: unknown[] } {
  // A reference to the parent's primary key may leave the column out ("to" is NULL): then the
  // parent's one-column primary key must be the model's key.
  const references =
    '(f."from" = ? COLLATE NOCASE AND f."table" = ? COLLATE NOCASE AND (f."to" = ? COLLATE NOCASE OR (f."to" IS NULL AND ' +
    '(SELECT count(*) FROM pragma_table_info(f."table") AS c WHERE c.pk > 0) = 1 AND ' +
    'EXISTS (SELECT 1 FROM pragma_table_info(f."table") AS c WHERE c.pk = 1 AND c.name = ? COLLATE NOCASE))))'
  const side = (column: string, spec: LinkSpec['source']): unknown[] => [column, spec.table, spec.primaryKey, spec.primaryKey]
  return {
    sql:
      'SELECT ((SELECT foreign_keys FROM pragma_foreign_keys()) = 1 AND ' +
      // A deferred foreign key (Django declares its own DEFERRABLE INITIALLY DEFERRED) refuses a
      // row only at COMMIT, which set()'s transaction cannot take back on every driver: read first.
      // (GLOB on the upper-cased text: any spacing or case between the two words; sqlite_master,
      // which every SQLite version has.)
      "NOT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE AND upper(sql) GLOB '*INITIALLY*DEFERRED*') AND " +
      '(SELECT count(DISTINCT lower(f."from")) FROM pragma_foreign_key_list(?) AS f WHERE ' +
      // Composite foreign keys do not count: each side needs a key of its own.
      'NOT EXISTS (SELECT 1 FROM pragma_foreign_key_list(?) AS g WHERE g.id = f.id AND g.seq > 0) AND ' +
      `(${references} OR ${references})) = 2) AS enforced, (SELECT schema_version FROM pragma_schema_version()) AS version`,
    bindings: [link.table, link.table, link.table, ...side(link.sourceColumn, link.source), ...side(link.targetColumn, link.target)],
  }
}

/**
 * What the `INSERT` that trusts the foreign keys checks again, evaluated once per statement (it
 * reads no row, about a microsecond): foreign keys still enforced on the connection, and the
 * schema unchanged since {@link sqliteForeignKeysQuery} read `version` (any `CREATE`, `ALTER` or
 * `DROP` changes it, from any connection to the file). Otherwise the `INSERT` checks the rows
 * itself (`WHERE <this> OR (EXISTS … AND EXISTS …)`), as every insert without foreign keys does:
 * a pragma turned off or a table recreated since cannot let a link to a missing row in.
 */
export function sqliteStillEnforced(version: number): string {
  if (!Number.isSafeInteger(version)) throw new TypeError(`SQLite schema version ${String(version)} is not an integer.`)
  return `((SELECT foreign_keys FROM pragma_foreign_keys()) = 1 AND (SELECT schema_version FROM pragma_schema_version()) = ${String(version)})`
}

/** The answer of {@link sqliteForeignKeysQuery}'s row: the guard to put in the INSERT, or `false` when not enforced. */
export function sqliteEnforcedGuard(row: { readonly enforced?: unknown; readonly version?: unknown } | undefined): string | false {
  return Number(row?.enforced) === 1 ? sqliteStillEnforced(Number(row?.version)) : false
}

/**
 * How many counts may trust one integrity check before {@link sqliteIntegrityQuery} is run again
 * (cheaply: it scans the join table again only when another connection has written since).
 */
export const SQLITE_RECHECK_EVERY = 1000

/**
 * The integrity check behind a count of the join table alone on SQLite, run once per join table
 * and again every {@link SQLITE_RECHECK_EVERY} counts: SQLite checks foreign keys only while a
 * connection has `PRAGMA foreign_keys` on, so a row written before, or by another connection
 * without it, may point at nothing. One row: `orphans`, the rows of the join table whose foreign
 * keys point at no row (`PRAGMA foreign_key_check`, a scan of the table; 0 without scanning when
 * `previous` was clean and neither the schema nor the data has changed since),
 * `target_not_null` (1 when the target column is declared NOT NULL), and the `schema_version`
 * and `data_version` it was read at (`data_version` changes when another connection commits,
 * and only then).
 */
export function sqliteIntegrityQuery(link: LinkSpec, previous?: Readonly<Record<string, unknown>>): { readonly sql: string; readonly bindings: unknown[] } {
  const clean = previous !== undefined && Number(previous.orphans) === 0
  const unchanged = clean
    ? `(SELECT schema_version FROM pragma_schema_version()) = ${integer(previous.schema_version)} AND (SELECT data_version FROM pragma_data_version()) = ${integer(previous.data_version)}`
    : '0'
  return {
    sql:
      `SELECT CASE WHEN ${unchanged} THEN 0 ELSE (SELECT count(*) FROM pragma_foreign_key_check(?)) END AS orphans, ` +
      'EXISTS (SELECT 1 FROM pragma_table_info(?) AS c WHERE c.name = ? COLLATE NOCASE AND c."notnull" = 1) AS target_not_null, ' +
      '(SELECT schema_version FROM pragma_schema_version()) AS schema_version, (SELECT data_version FROM pragma_data_version()) AS data_version',
    bindings: [link.table, link.table, link.targetColumn],
  }
}

/**
 * From the row of {@link sqliteIntegrityQuery}: `false`, or what a count of the join table alone
 * checks once per statement: foreign keys on, and neither the schema nor (from another
 * connection) the data changed since the check found every link row's rows. Writes on the same
 * connection keep it, since they are checked. Used outside transactions only, where every statement
 * committed has passed its checks, deferred or not: a deferred foreign key lets a transaction
 * see its own unchecked rows (Django declares its foreign keys DEFERRABLE INITIALLY DEFERRED).
 */
export function sqliteCountGuard(row: Readonly<Record<string, unknown>> | undefined): string | false {
  // A NULL target (ON DELETE SET NULL) is no orphan but joins no row: the target column must be NOT NULL.
  if (row === undefined || Number(row.orphans) !== 0 || Number(row.target_not_null) !== 1) return false
  return (
    `((SELECT foreign_keys FROM pragma_foreign_keys()) = 1 AND (SELECT schema_version FROM pragma_schema_version()) = ${integer(row.schema_version)} ` +
    `AND (SELECT data_version FROM pragma_data_version()) = ${integer(row.data_version)})`
  )
}

function integer(value: unknown): string {
  const number = Number(value)
  if (!Number.isSafeInteger(number)) throw new TypeError(`SQLite version ${String(value)} is not an integer.`)
  return String(number)
}
