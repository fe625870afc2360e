import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import knex, { type Knex } from 'knex'
import { afterAll, afterEach, beforeEach, describe, it } from 'vitest'
import type { RelationAdapter } from '../../src/adapter/relation-adapter.js'
import { runAdapterConformance, type ConformanceOptions } from '../../src/conformance/index.js'
import { disconnect, isolatedName, knexTargets, reportSkippedTargets, SchemaKeeper, seedRows } from './knex-targets.js'

/**
 * A query library's client on one database (Kysely, Drizzle), opened by the library's tests:
 * `client` is what the adapter takes, `close` ends it.
 */
export interface LibraryClient<C> {
  readonly client: C
  readonly close: () => Promise<void> | void
}

/** How a library opens its client on each database the tests run on. */
export interface LibraryOpeners<C> {
  /** On the SQLite file the harness's knex also uses. */
  readonly sqlite: (database: Database.Database) => LibraryClient<C>
  /** On a server, in the schema (PostgreSQL) or database (MySQL) of its own that knex created: `name`. */
  readonly server: (kind: 'postgres' | 'mysql', name: string, connections: number) => LibraryClient<C>
}

/** A database a library's tests run on: the library's client for the adapter, and knex beside it for the harness (tables, inspection, seeds). */
export interface LibraryTarget<C> {
  readonly name: string
  readonly enabled: boolean
  readonly howToEnable: string
  /** Both clients on one database; close with {@link LibraryConnection.close}. */
  readonly connect: () => LibraryConnection<C>
}

/** The library's client and a knex one on the same database. */
export interface LibraryConnection<C> {
  /** For the harness: DDL, deletes between tests, inspection, seeds. */
  readonly knex: Knex
  /** Created on first use: on a server, after knex has created the schema or database it works in. */
  readonly client: () => C
  readonly close: () => Promise<void>
}

function tune(connection: Database.Database): void {
  connection.pragma('journal_mode = WAL')
  connection.pragma('synchronous = OFF')
}

function connectSqlite<C>(open: LibraryOpeners<C>): LibraryConnection<C> {
  // One file, two connections: knex's and the library's (an in-memory database is per connection).
  const dir = mkdtempSync(join(tmpdir(), 'throughline-library-'))
  const filename = join(dir, 'test.db')
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
  let opened: LibraryClient<C> | undefined
  return {
    knex: db,
    client: () => {
      if (opened === undefined) {
        const database = new Database(filename)
        tune(database)
        opened = open.sqlite(database)
      }
      return opened.client
    },
    close: async () => {
      await opened?.close()
      await db.destroy()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

function connectServer<C>(kind: 'postgres' | 'mysql', open: LibraryOpeners<C>, connections = 4): LibraryConnection<C> {
  const target = knexTargets.find((candidate) => candidate.name === kind)!
  const db = target.connect({ connections })
  let opened: LibraryClient<C> | undefined
  return {
    knex: db,
    client: () => {
      opened ??= open.server(kind, isolatedName(db) ?? '', connections)
      return opened.client
    },
    close: async () => {
      await opened?.close()
      await disconnect(db)
    },
  }
}

/** SQLite always; PostgreSQL and MySQL/MariaDB when their URLs are set, as for knex. */
export function libraryTargets<C>(open: LibraryOpeners<C>): readonly LibraryTarget<C>[] {
  return knexTargets.map((target) => ({
    name: target.name,
    enabled: target.enabled,
    howToEnable: target.howToEnable,
    connect: () => (target.name === 'sqlite' ? connectSqlite(open) : connectServer(target.name === 'postgres' ? 'postgres' : 'mysql', open)),
  }))
}

/** Where a library's conformance runs, beside SQLite with foreign keys (always). */
export interface LibraryConformanceScope {
  /** Whether the servers run (PostgreSQL and MariaDB, both table styles). */
  readonly servers: boolean
  /** Whether SQLite runs again on join tables without foreign keys. */
  readonly sqliteWithoutForeignKeys: boolean
}

/**
 * The whole conformance suite on a library's adapter, on every target in `scope`. knex stays the
 * harness (it creates the tables, empties them between tests, reads rows for inspection and
 * seeds the large calls) on the same database, so that the adapter under test never checks itself.
 */
export function runLibraryConformance<C>(
  library: string,
  targets: readonly LibraryTarget<C>[],
  adapter: (client: C) => RelationAdapter,
  scope: LibraryConformanceScope,
): void {
  reportSkippedTargets(`${library} conformance`)
  for (const target of targets) {
    describe.skipIf(!target.enabled || (target.name !== 'sqlite' && !scope.servers))(`${library} ${target.name}`, () => {
      let connection: LibraryConnection<C> | undefined
      let keeper: SchemaKeeper | undefined
      const connect = (): { connection: LibraryConnection<C>; keeper: SchemaKeeper } => {
        connection ??= target.connect()
        keeper ??= new SchemaKeeper(connection.knex)
        return { connection, keeper }
      }

      afterAll(async () => {
        await connection?.close()
      })

      const options: ConformanceOptions = {
        name: `${library}(${target.name})`,
        test: { describe, it, beforeEach, afterEach },
        createAdapter: async (schema) => {
          const { connection, keeper } = connect()
          await keeper.ensure(schema)
          await keeper.empty(schema)
          return adapter(connection.client())
        },
        inspect: async (table) => connect().connection.knex(table).select('*'),
        seedRows: async (table, rows) => {
          const { connection, keeper } = connect()
          await seedRows(connection.knex, keeper.schemaOf(table), table, rows)
        },
        largeCount: 100_000,
      }
      runAdapterConformance(options)
      if (target.name === 'sqlite' ? scope.sqliteWithoutForeignKeys : scope.servers) {
        runAdapterConformance({ ...options, name: `${library}(${target.name}) without foreign keys`, joinTables: 'without-foreign-keys' })
      }
    })
  }
}
