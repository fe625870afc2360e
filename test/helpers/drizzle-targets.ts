import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3'
import { drizzle as drizzleMysql } from 'drizzle-orm/mysql2'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import knex, { type Knex } from 'knex'
import { createPool } from 'mysql2/promise'
import pg from 'pg'
import { disconnect, isolatedName, knexTargets } from './knex-targets.js'

/** A database the Drizzle tests run on: Drizzle for the adapter, knex beside it for the harness (tables, inspection, seeds). */
export interface DrizzleTarget {
  readonly name: string
  readonly enabled: boolean
  readonly howToEnable: string
  /** Both clients on one database (a schema or database of its own on a server); close with {@link DrizzleConnection.close}. */
  readonly connect: () => DrizzleConnection
}

/** A Drizzle database and a knex one on the same database. */
export interface DrizzleConnection {
  /** For the harness: DDL, deletes between tests, inspection, seeds. */
  readonly knex: Knex
  /** Created on first use: on a server, after knex has created the schema or database it works in. */
  readonly drizzle: () => object
  readonly close: () => Promise<void>
}

function connectSqlite(): DrizzleConnection {
  // One file, two connections: knex's and Drizzle's (an in-memory database is per connection).
  const dir = mkdtempSync(join(tmpdir(), 'throughline-drizzle-'))
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
  let database: Database.Database | undefined
  let drizzle: object | undefined
  return {
    knex: db,
    drizzle: () => {
      if (drizzle === undefined) {
        database = new Database(filename)
        tune(database)
        drizzle = drizzleSqlite(database)
      }
      return drizzle
    },
    close: async () => {
      database?.close()
      await db.destroy()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

function connectServer(kind: 'postgres' | 'mysql', connections = 4): DrizzleConnection {
  const target = knexTargets.find((candidate) => candidate.name === kind)!
  const db = target.connect({ connections })
  let drizzle: object | undefined
  let end: (() => Promise<void>) | undefined
  return {
    knex: db,
    drizzle: () => {
      if (drizzle !== undefined) return drizzle
      const name = isolatedName(db) ?? ''
      if (kind === 'postgres') {
        const pool = new pg.Pool({ connectionString: process.env.PG_URL ?? '', max: connections, options: `-c search_path=${name}` })
        drizzle = drizzlePg(pool)
        end = () => pool.end()
      } else {
        const url = new URL(process.env.MYSQL_URL ?? '')
        url.pathname = `/${name}`
        const pool = createPool({ uri: url.toString(), connectionLimit: connections })
        drizzle = drizzleMysql(pool)
        end = () => pool.end()
      }
      return drizzle
    },
    close: async () => {
      await end?.()
      await disconnect(db)
    },
  }
}

/** SQLite always; PostgreSQL and MySQL/MariaDB when their URLs are set, as for knex. */
export const drizzleTargets: readonly DrizzleTarget[] = knexTargets.map((target) => ({
  name: target.name,
  enabled: target.enabled,
  howToEnable: target.howToEnable,
  connect: () => (target.name === 'sqlite' ? connectSqlite() : connectServer(target.name === 'postgres' ? 'postgres' : 'mysql')),
}))
