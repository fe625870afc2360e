/**
 * The examples' database: SQLite in memory through knex and better-sqlite3, with foreign keys
 * enforced (SQLite leaves them off unless each connection turns them on), so that deleting a
 * row removes its links, as ON DELETE CASCADE does on PostgreSQL and MySQL.
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
