import { randomBytes } from 'node:crypto'
import knex, { type Knex } from 'knex'
import { createTable } from '../../../src/adapters/knex/index.js'
import type { TableSchema } from '../../../src/schema/table-schema.js'
import { dropTables, knexTargets, type KnexTarget } from '../../helpers/knex-targets.js'

// Connections for the reliability tests. Each test file works in a PostgreSQL schema or a
// MariaDB database of its own (as the other Knex tests do), named once per run and shared by
// every connection of the file: its own pools, the pools it kills connections of, and the
// worker processes it starts. So it can kill its own connections and hammer its own rows while
// other test files, and other runs, use the same servers.

/** The database servers the reliability tests run on: PostgreSQL and MariaDB when their URLs are set. */
export const serverTargets: readonly KnexTarget[] = knexTargets.filter((target) => target.name !== 'sqlite')

/** Every Knex target, SQLite included. */
export const allTargets: readonly KnexTarget[] = knexTargets

export type ServerName = 'postgres' | 'mysql'

/** Says on the console which server parts of a reliability test are skipped, and how to run them. */
export function reportSkippedServers(suite: string): void {
  const skipped = serverTargets.filter((target) => !target.enabled)
  if (skipped.length === 0) return
  console.info(
    `[${suite}] skipped on ${skipped.map((target) => target.name).join(', ')} (no server URL). To run them:\n` +
      skipped.map((target) => `  - ${target.name}: ${target.howToEnable}`).join('\n'),
  )
}

/** The connection URL of a server, from the environment. */
export function serverUrl(server: ServerName): string {
  const url = server === 'postgres' ? process.env.PG_URL : process.env.MYSQL_URL
  if (url === undefined || url === '') throw new Error(`No URL for ${server}.`)
  return url
}

/** A schema (PostgreSQL) or database (MariaDB) of one test file's run. */
export interface Place {
  readonly server: ServerName
  readonly url: string
  readonly name: string
}

/** A new place on a server; nothing is created until a connection opens. */
export function newPlace(server: ServerName, label: string): Place {
  return { server, url: serverUrl(server), name: `throughline_${label}_${String(process.pid)}_${randomBytes(3).toString('hex')}` }
}

export interface ConnectOptions {
  /** Pool size. */
  readonly max?: number
  /** Told the server-side id of each connection the pool opens. */
  readonly onConnection?: (id: number) => void
  /** Knex's logger (it reports connections that the server ended). */
  readonly log?: Knex.Config['log']
}

interface CallbackConnection {
  query: (sql: string, callback: (error: Error | null, rows?: unknown) => void) => void
}

/** A Knex instance whose every connection works in `place` (created on first use). */
export function connectTo(place: Place, options: ConnectOptions = {}): Knex {
  const statements =
    place.server === 'postgres'
      ? [`CREATE SCHEMA IF NOT EXISTS "${place.name}"`]
      : [`CREATE DATABASE IF NOT EXISTS \`${place.name}\` CHARACTER SET utf8mb4`, `USE \`${place.name}\``]
  const afterCreate = (connection: CallbackConnection, done: (error: Error | null, connection: CallbackConnection) => void): void => {
    const next = (index: number): void => {
      const statement = statements[index]
      if (statement === undefined) {
        const id = connectionIdOf(connection)
        if (id !== undefined) options.onConnection?.(id)
        done(null, connection)
        return
      }
      connection.query(statement, (error) => {
        if (error === null) next(index + 1)
        else done(error, connection)
      })
    }
    next(0)
  }
  return knex({
    client: place.server === 'postgres' ? 'pg' : 'mysql2',
    connection: place.url,
    ...(place.server === 'postgres' ? { searchPath: [place.name] } : {}),
    ...(options.log === undefined ? {} : { log: options.log }),
    pool: { min: 0, max: options.max ?? 4, afterCreate },
  })
}

/** Drops the place, from any Knex instance on its server. */
export async function dropPlace(db: Knex, place: Place): Promise<void> {
  if (place.server === 'postgres') await db.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [place.name])
  else await db.raw('DROP DATABASE IF EXISTS ??', [place.name])
}

/** A Knex instance on a target: SQLite in memory, or a server in a place of this file's own. */
export function connect(target: KnexTarget, label: string, max = 4): { readonly db: Knex; readonly close: () => Promise<void> } {
  if (target.name === 'sqlite') {
    const db = target.connect()
    return { db, close: () => db.destroy() }
  }
  const place = newPlace(target.name as ServerName, label)
  const db = connectTo(place, { max })
  return {
    db,
    close: async () => {
      try {
        await dropPlace(db, place)
      } finally {
        await db.destroy()
      }
    },
  }
}

/** Drops and creates the tables of `schema` (in order), so that keys start from 1. */
export async function recreateTables(db: Knex, schema: readonly TableSchema[]): Promise<void> {
  await dropTables(db, [...schema].reverse().map((table) => table.table))
  for (const table of schema) await createTable(db, table)
}

/** Deletes every row of `tables`, in the order given (children first). */
export async function emptyTables(db: Knex, tables: readonly string[]): Promise<void> {
  for (const table of tables) await db(table).del()
}

/** The server-side id of a raw driver connection (`pg_backend_pid()` or `CONNECTION_ID()`). */
export function connectionIdOf(connection: unknown): number | undefined {
  const pg = connection as { processID?: unknown }
  if (typeof pg.processID === 'number') return pg.processID
  const mysql = connection as { threadId?: unknown }
  if (typeof mysql.threadId === 'number') return mysql.threadId
  return undefined
}
