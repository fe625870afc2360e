/**
 * The part of better-sqlite3's API the adapter uses, described structurally so that
 * `throughline/better-sqlite3` imports nothing from better-sqlite3, not even its types: a
 * `Database` from `better-sqlite3` (9 or later) fits, and so does a compatible wrapper.
 */

/** A value better-sqlite3 binds to a `?` parameter. */
export type SqliteValue = number | bigint | string | Uint8Array | null

/** What running a writing statement reports. */
export interface SqliteRunResult {
  /** Rows inserted, updated or deleted by the statement itself (not by cascades or triggers). */
  readonly changes: number
}

/** A prepared statement of better-sqlite3. */
export interface SqliteStatement {
  /** Whether the statement returns rows (a `SELECT`, or a write with `RETURNING`). */
  readonly reader: boolean
  /** Runs a statement that returns no rows. */
  run(...parameters: readonly unknown[]): SqliteRunResult
  /** Runs the statement and returns every row. */
  all(...parameters: readonly unknown[]): unknown[]
  /** Runs the statement and returns its first row, or `undefined`. */
  get(...parameters: readonly unknown[]): unknown
  /** Rows as arrays of values instead of objects. */
  raw(toggle?: boolean): this
  /** Only the first column of each row. */
  pluck(toggle?: boolean): this
}

/** A better-sqlite3 `Database`: one connection. */
export interface SqliteDatabase {
  /** Prepares (compiles) a statement. */
  prepare(source: string): SqliteStatement
  /** Whether a transaction is open on the connection. */
  readonly inTransaction: boolean
  /** Whether the connection is open. */
  readonly open: boolean
}
