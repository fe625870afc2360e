import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3'
import { drizzle as drizzleMysql } from 'drizzle-orm/mysql2'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { createPool } from 'mysql2/promise'
import pg from 'pg'
import { libraryTargets, type LibraryTarget } from './library-targets.js'

/** SQLite always; PostgreSQL and MySQL/MariaDB when their URLs are set: a Drizzle database beside the harness's knex. */
export const drizzleTargets: readonly LibraryTarget<object>[] = libraryTargets<object>({
  sqlite: (database) => ({
    client: drizzleSqlite(database),
    close: () => {
      database.close()
    },
  }),
  server: (kind, name, connections) => {
    if (kind === 'postgres') {
      const pool = new pg.Pool({ connectionString: process.env.PG_URL ?? '', max: connections, options: `-c search_path=${name}` })
      return { client: drizzlePg(pool), close: () => pool.end() }
    }
    const url = new URL(process.env.MYSQL_URL ?? '')
    url.pathname = `/${name}`
    const pool = createPool({ uri: url.toString(), connectionLimit: connections })
    return { client: drizzleMysql(pool), close: () => pool.end() }
  },
})
