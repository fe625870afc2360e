/**
 * The examples' database: SQLite in memory through knex and better-sqlite3, with foreign keys
 * enforced, so that deleting a row removes its links as ON DELETE CASCADE does on PostgreSQL
 * and MySQL. better-sqlite3 enforces them by default; the pragma says so explicitly, and keeps
 * this right with the `sqlite3` driver, which does not.
 */
import knex, { type Knex } from 'knex'

interface SqliteConnection {
  pragma: (statement: string) => unknown
}

export function openSqlite(): Knex {
  return knex({
    client: 'better-sqlite3',
    connection: { filename: ':memory:' },
    useNullAsDefault: true,
    pool: {
      afterCreate: (connection: SqliteConnection, done: (error: Error | null, connection: SqliteConnection) => void) => {
        connection.pragma('foreign_keys = ON')
        done(null, connection)
      },
    },
  })
}
