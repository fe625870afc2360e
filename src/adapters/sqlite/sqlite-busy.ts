// SQLite's answers that mean "another connection holds the database, or moved it on": the
// statement failed, nothing of it was written, and running the whole transaction again (a new
// BEGIN, a new snapshot) may succeed. Shared by the Knex adapter's SQLite dialect and
// BetterSqlite3Adapter.
//
// - SQLITE_BUSY: another connection held the lock past the busy timeout, or a read
//   transaction could not be upgraded to a write one (SQLite does not wait then: waiting could
//   deadlock two upgrading readers).
// - SQLITE_BUSY_SNAPSHOT: in WAL mode, a transaction that read a snapshot which another
//   connection has since written past tried to write. Waiting never helps; a new transaction does.
// - SQLITE_BUSY_RECOVERY: another connection is recovering the WAL after a crash.
// - SQLITE_BUSY_TIMEOUT: a blocking lock timed out (builds with SQLITE_ENABLE_SETLK_TIMEOUT;
//   better-sqlite3 12 does not name it and reports UNKNOWN_SQLITE_ERROR_773).
// - SQLITE_LOCKED_SHAREDCACHE: another connection of a shared cache holds a table lock.
// - SQLITE_PROTOCOL: a connection lost WAL's locking race many times in a row; SQLite's
//   documentation says to try again.
//
// A plain SQLITE_LOCKED is left out: with extended codes (which better-sqlite3 turns on) it is
// a conflict within one connection (a table dropped under a running read), which no retry mends.

// The primary result code of SQLITE_BUSY; an extended code carries it in its low byte.
const SQLITE_BUSY = 5

const RETRYABLE = new Set(['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY', 'SQLITE_BUSY_TIMEOUT', 'SQLITE_LOCKED_SHAREDCACHE', 'SQLITE_PROTOCOL'])

/**
 * Whether an error of an SQLite driver (better-sqlite3's `SqliteError`, node-sqlite3's `Error`
 * with `code`) says the database was busy with another connection, so that running the whole
 * transaction again may succeed. Only the error itself is looked at, not its causes.
 */
export function isSqliteBusy(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const code = (error as { code?: unknown }).code
  if (typeof code !== 'string') return false
  if (RETRYABLE.has(code)) return true
  // An extended code the driver has no name for (better-sqlite3: UNKNOWN_SQLITE_ERROR_773).
  const unknown = /^UNKNOWN_SQLITE_ERROR_(\d+)$/.exec(code)
  return unknown !== null && (Number(unknown[1]) & 0xff) === SQLITE_BUSY
}
