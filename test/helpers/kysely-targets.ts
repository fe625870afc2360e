import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect } from 'kysely'
import { createPool } from 'mysql2'
import pg from 'pg'
import { libraryTargets, type LibraryTarget } from './library-targets.js'

/** SQLite always; PostgreSQL and MySQL/MariaDB when their URLs are set: a Kysely instance beside the harness's knex. */
export const kyselyTargets: readonly LibraryTarget<Kysely<unknown>>[] = libraryTargets({
  sqlite: (database) => {
    const kysely = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) })
    return { client: kysely, close: () => kysely.destroy() }
  },
  server: (kind, name, connections) => {
    let kysely: Kysely<unknown>
    if (kind === 'postgres') {
      const pool = new pg.Pool({ connectionString: process.env.PG_URL ?? '', max: connections, options: `-c search_path=${name}` })
      kysely = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) })
    } else {
      const url = new URL(process.env.MYSQL_URL ?? '')
      url.pathname = `/${name}`
      kysely = new Kysely<unknown>({ dialect: new MysqlDialect({ pool: createPool({ uri: url.toString(), connectionLimit: connections }) }) })
    }
    return { client: kysely, close: () => kysely.destroy() }
  },
})
