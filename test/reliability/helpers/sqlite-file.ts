import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import knex, { type Knex } from 'knex'

// One SQLite database file shared by several OS processes, as a Node cluster or PM2 runs an
// application: each process opens its own connection on the file, in WAL mode, with foreign
// keys on. The concurrency test runs its workers on such a file, through the Knex adapter or
// the direct better-sqlite3 adapter.

/** The adapters the workers can use on an SQLite file. */
export type SqliteFileAdapter = 'knex' | 'better-sqlite3'

/** An SQLite file of one test run, in a temporary directory of its own. */
export interface SqliteFilePlace {
  readonly server: 'sqlite-file'
  readonly file: string
  /**
   * Each connection's busy timeout, in milliseconds: how long a statement waits for another
   * process's lock before it fails with `SQLITE_BUSY`. better-sqlite3's default is 5 000.
   */
  readonly busyTimeout: number
}

/** A new SQLite file (created when the first connection opens). */
export function newSqliteFilePlace(label: string, busyTimeout = 5000): SqliteFilePlace {
  const directory = mkdtempSync(join(tmpdir(), `throughline-${label}-`))
  return { server: 'sqlite-file', file: join(directory, `${label}.db`), busyTimeout }
}

/** Removes the file, its WAL and shared-memory files, and their directory. */
export function removeSqliteFilePlace(place: SqliteFilePlace): void {
  rmSync(dirname(place.file), { recursive: true, force: true })
}

/** The pragmas of every connection: WAL (several readers beside one writer), foreign keys, the busy timeout. */
function prepare(connection: Database.Database, place: SqliteFilePlace): Database.Database {
  connection.pragma('journal_mode = WAL')
  connection.pragma('foreign_keys = ON')
  connection.pragma(`busy_timeout = ${String(place.busyTimeout)}`)
  return connection
}

/** A better-sqlite3 connection on the file, for the direct adapter. */
export function openSqliteFile(place: SqliteFilePlace): Database.Database {
  return prepare(new Database(place.file, { timeout: place.busyTimeout }), place)
}

/** A Knex instance on the file (one connection, as Knex keeps for SQLite). */
export function connectToSqliteFile(place: SqliteFilePlace): Knex {
  return knex({
    client: 'better-sqlite3',
    connection: { filename: place.file },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      afterCreate: (connection: Database.Database, done: (error: Error | null, connection: Database.Database) => void) => {
        try {
          done(null, prepare(connection, place))
        } catch (error) {
          done(error as Error, connection)
        }
      },
    },
  })
}
