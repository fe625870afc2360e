import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import knex, { type Knex } from 'knex'
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect } from 'kysely'
import { createPool } from 'mysql2'
import pg from 'pg'
import { disconnect, isolatedName, knexTargets } from './knex-targets.js'

/** A database the Kysely tests run on: Kysely for the adapter, knex beside it for the harness (tables, inspection, seeds). */
export interface KyselyTarget {
  readonly name: string
  readonly enabled: boolean
  readonly howToEnable: string
  /** Both clients on one database (a schema or database of its own on a server); close with {@link KyselyConnection.close}. */
  readonly connect: () => KyselyConnection
}

/** A Kysely instance and a knex one on the same database. */
export interface KyselyConnection {
  /** For the harness: DDL, deletes between tests, inspection, seeds. */
  readonly knex: Knex
  /** Created on first use: on a server, after knex has created the schema or database it works in. */
  readonly kysely: () => Kysely<unknown>
  readonly close: () => Promise<void>
}

function connectSqlite(): KyselyConnection {
  // One file, two connections: knex's and Kysely's (an in-memory database is per connection).
  const dir = mkdtempSync(join(tmpdir(), 'throughline-kysely-'))
  const filename = join(dir, 'test.db')
  const tune = (connection: Database.Database): void => {
    connection.pragma('journal_mode = WAL')
    connection.pragma('synchronous = OFF')
  }
  const db = knex({
    client: 'better-sqlite3',
    connection: { filename },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      afterCreate: (connection: Database.Database, done: (error: Error | null, connection: Database.Database) => void) => {
        tune(connection)
        done(null, connection)
      },
    },
  })
  let kysely: Kysely<unknown> | undefined
  return {
    knex: db,
    kysely: () => {
      if (kysely === undefined) {
        const database = new Database(filename)
        tune(database)
        kysely = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) })
      }
      return kysely
    },
    close: async () => {
      await kysely?.destroy()
      await db.destroy()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

function connectServer(kind: 'postgres' | 'mysql', connections = 4): KyselyConnection {
  const target = knexTargets.find((candidate) => candidate.name === kind)!
  const db = target.connect({ connections })
  let kysely: Kysely<unknown> | undefined
  return {
    knex: db,
    kysely: () => {
      if (kysely !== undefined) return kysely
      const name = isolatedName(db) ?? ''
      if (kind === 'postgres') {
        const pool = new pg.Pool({ connectionString: process.env.PG_URL ?? '', max: connections, options: `-c search_path=${name}` })
        kysely = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) })
      } else {
        const url = new URL(process.env.MYSQL_URL ?? '')
        url.pathname = `/${name}`
        kysely = new Kysely<unknown>({ dialect: new MysqlDialect({ pool: createPool({ uri: url.toString(), connectionLimit: connections }) }) })
      }
      return kysely
    },
    close: async () => {
      await kysely?.destroy()
      await disconnect(db)
    },
  }
}

/** SQLite always; PostgreSQL and MySQL/MariaDB when their URLs are set, as for knex. */
export const kyselyTargets: readonly KyselyTarget[] = knexTargets.map((target) => ({
  name: target.name,
  enabled: target.enabled,
  howToEnable: target.howToEnable,
  connect: () => (target.name === 'sqlite' ? connectSqlite() : connectServer(target.name === 'postgres' ? 'postgres' : 'mysql')),
}))
