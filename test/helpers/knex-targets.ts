import { randomBytes } from 'node:crypto'
import knex, { type Knex } from 'knex'
import type { Row } from '../../src/index.js'
import { primaryKeyColumns, type TableSchema } from '../../src/schema/table-schema.js'
import { createTable } from '../../src/adapters/knex/index.js'

/** A database the Knex tests run on. */
export interface KnexTarget {
  /** `sqlite`, `postgres` or `mysql`. */
  readonly name: string
  /** Whether this database is available to this run. */
  readonly enabled: boolean
  /** What to do to enable it, for the skip message. */
  readonly howToEnable: string
  /**
   * A new Knex instance on this database, in a schema (or database) of its own on a server:
   * close it with {@link disconnect}. Knex loads the driver (better-sqlite3, pg, mysql2) only
   * here, so a disabled target never loads its driver.
   */
  readonly connect: (options?: ConnectOptions) => Knex
}

/** Options of {@link KnexTarget.connect}. */
export interface ConnectOptions {
  /** The most connections of the pool on a server (default 4): a test of conflicts wants more. */
  readonly connections?: number
}

const START = 'or run `eval "$(bash scripts/databases.sh start)"`'

// Each Knex instance on a server works in a schema (PostgreSQL) or database (MariaDB) of its
// own, created when its first connection opens and dropped by disconnect(): two test runs, or
// two test files, against one server never touch each other's tables.
const isolated = new WeakMap<Knex, { readonly dialect: 'postgres' | 'mysql'; readonly name: string }>()

function runName(): string {
  return `throughline_run_${String(process.pid)}_${randomBytes(4).toString('hex')}`
}

interface CallbackConnection {
  query: (sql: string, callback: (error: Error | null) => void) => void
}

/** A pool hook that runs `statements` in order on every new connection. */
function onConnect(statements: readonly string[]) {
  return (connection: CallbackConnection, done: (error: Error | null, connection: CallbackConnection) => void): void => {
    const next = (index: number): void => {
      const statement = statements[index]
      if (statement === undefined) {
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
}

function connectPostgres(options: ConnectOptions = {}): Knex {
  const name = runName()
  const db = knex({
    client: 'pg',
    connection: process.env.PG_URL ?? '',
    searchPath: [name],
    pool: { min: 0, max: options.connections ?? 4, afterCreate: onConnect([`CREATE SCHEMA IF NOT EXISTS "${name}"`]) },
  })
  isolated.set(db, { dialect: 'postgres', name })
  return db
}

function connectMysql(options: ConnectOptions = {}): Knex {
  const name = runName()
  const db = knex({
    client: 'mysql2',
    connection: process.env.MYSQL_URL ?? '',
    pool: { min: 0, max: options.connections ?? 4, afterCreate: onConnect([`CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4`, `USE \`${name}\``]) },
  })
  isolated.set(db, { dialect: 'mysql', name })
  return db
}

/**
 * The PostgreSQL schema or MariaDB database a Knex instance of {@link knexTargets} works in
 * (`undefined` on SQLite): another client (Kysely) opens its connections there too.
 */
export function isolatedName(db: Knex): string | undefined {
  return isolated.get(db)?.name
}

/** Drops the schema or database a Knex instance worked in, then closes it. */
export async function disconnect(db: Knex | undefined): Promise<void> {
  if (db === undefined) return
  const own = isolated.get(db)
  try {
    if (own?.dialect === 'postgres') await db.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [own.name])
    if (own?.dialect === 'mysql') await db.raw('DROP DATABASE IF EXISTS ??', [own.name])
  } finally {
    await db.destroy()
  }
}

/** SQLite always; PostgreSQL when PG_URL is set; MySQL/MariaDB when MYSQL_URL is set. */
export const knexTargets: readonly KnexTarget[] = [
  {
    name: 'sqlite',
    enabled: true,
    howToEnable: 'always on',
    // One connection: every connection to ':memory:' is a database of its own.
    connect: () => knex({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true, pool: { min: 1, max: 1 } }),
  },
  {
    name: 'postgres',
    enabled: process.env.PG_URL !== undefined && process.env.PG_URL !== '',
    howToEnable: `set PG_URL=postgres://user:password@host:port/database, ${START}`,
    connect: connectPostgres,
  },
  {
    name: 'mysql',
    enabled: process.env.MYSQL_URL !== undefined && process.env.MYSQL_URL !== '',
    howToEnable: `set MYSQL_URL=mysql://user:password@host:port/database, ${START}`,
    connect: connectMysql,
  },
]

/** Says once, on the console, which Knex suites are skipped and how to run them. */
export function reportSkippedTargets(suite: string): void {
  const skipped = knexTargets.filter((target) => !target.enabled)
  if (skipped.length === 0) return
  const lines = skipped.map((target) => `  - ${target.name}: ${target.howToEnable}`)
  console.info(`[${suite}] skipped on ${skipped.map((target) => target.name).join(', ')}. To run them:\n${lines.join('\n')}`)
}

function dialectOf(db: Knex): string {
  return String((db.client as { dialect?: unknown }).dialect)
}

/**
 * Drops tables if they exist, whatever points at them: leftovers of an earlier run may have
 * dependents that are dropped later (or never). PostgreSQL drops the dependents' foreign keys
 * with CASCADE; MySQL is told not to check them, on one connection.
 */
export async function dropTables(db: Knex, tables: readonly string[]): Promise<void> {
  if (tables.length === 0) return
  const dialect = dialectOf(db)
  if (dialect === 'postgresql') {
    for (const table of tables) await db.raw('DROP TABLE IF EXISTS ?? CASCADE', [table])
  } else if (dialect === 'mysql') {
    await db.transaction(async (trx) => {
      await trx.raw('SET FOREIGN_KEY_CHECKS = 0')
      for (const table of tables) await trx.schema.dropTableIfExists(table)
      await trx.raw('SET FOREIGN_KEY_CHECKS = 1')
    })
  } else {
    for (const table of tables) await db.schema.dropTableIfExists(table)
  }
}

/**
 * Keeps the tables of the schemas a suite asks for: creates each table once (dropping a
 * leftover of the same name first), recreates a table whose description changed (and the
 * tables that point at it), and empties a schema's tables before each test.
 */
export class SchemaKeeper {
  readonly #db: Knex
  // Table name to the description it was created from.
  readonly #created = new Map<string, { readonly signature: string; readonly schema: TableSchema }>()

  constructor(db: Knex) {
    this.#db = db
  }

  /** Makes sure the tables of `schema` exist as described (created in the order given). */
  async ensure(schema: readonly TableSchema[]): Promise<void> {
    const stale = new Set<string>()
    for (const table of schema) {
      const known = this.#created.get(table.table)
      const pointsAtStale = table.columns.some((column) => column.references !== undefined && stale.has(column.references.table))
      if (known?.signature !== JSON.stringify(table) || pointsAtStale) stale.add(table.table)
    }
    if (stale.size === 0) return
    // Tables of other schemas that point at a recreated table lose their foreign key with
    // the drop: they are recreated the next time a test asks for them.
    for (const [name, { schema: table }] of this.#created) {
      if (table.columns.some((column) => column.references !== undefined && stale.has(column.references.table))) {
        this.#created.delete(name)
        stale.add(name)
      }
    }
    await dropTables(this.#db, [...stale].reverse())
    for (const table of schema) {
      if (!stale.has(table.table)) continue
      await createTable(this.#db, table)
      this.#created.set(table.table, { signature: JSON.stringify(table), schema: table })
    }
  }

  /** Deletes every row of the tables of `schema`, children first; resets nothing else. */
  async empty(schema: readonly TableSchema[]): Promise<void> {
    for (const table of [...schema].reverse()) await this.#db(table.table).del()
  }

  /** The description a table was created from, if this keeper created it. */
  schemaOf(table: string): TableSchema | undefined {
    return this.#created.get(table)?.schema
  }
}

/**
 * Inserts many rows at once, in chunks under every database's limits, straight into the
 * table. On PostgreSQL the key sequence then moves past the keys given, so that later
 * generated keys do not collide with them (MySQL and SQLite do that by themselves).
 */
export async function seedRows(db: Knex, schema: TableSchema | undefined, table: string, rows: readonly Row[]): Promise<void> {
  if (rows.length === 0) return
  const columns = Math.max(1, Object.keys(rows[0]!).length)
  const dialect = dialectOf(db)
  // SQLite: at most 500 rows per multi-row INSERT; everywhere: under the bind-parameter limit.
  const size = Math.max(1, Math.min(dialect === 'sqlite3' ? 500 : 10_000, Math.floor(30_000 / columns)))
  await db.batchInsert(table, rows, size)
  const keyColumns = schema === undefined ? [] : primaryKeyColumns(schema)
  const key = keyColumns.length === 1 ? schema?.columns.find((column) => column.name === keyColumns[0]) : undefined
  if (dialect === 'postgresql' && (key?.kind === 'increments' || key?.kind === 'bigIncrements')) {
    await db.raw(
      `SELECT setval(seq, GREATEST((SELECT MAX(??) FROM ??), COALESCE(pg_sequence_last_value(seq), 1)))
         FROM (SELECT pg_get_serial_sequence(?, ?)::regclass AS seq) AS sequence`,
      [key.name, table, table, key.name],
    )
  }
}
