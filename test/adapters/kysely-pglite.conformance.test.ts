import { Kysely, sql } from 'kysely'
import { afterAll, afterEach, beforeEach, describe, it } from 'vitest'
import { createTable, KyselyAdapter } from '../../src/adapters/kysely/index.js'
import { runAdapterConformance, type ConformanceOptions } from '../../src/conformance/index.js'
import { primaryKeyColumns, type TableSchema } from '../../src/index.js'

// The whole conformance suite on KyselyAdapter over PGlite: PostgreSQL compiled to WebAssembly,
// in this process, with no server (@electric-sql/pglite and the kysely-pglite-dialect dialect,
// both dev dependencies). PGlite has one connection: what needs two (a lock wait, a
// serialization failure between two transactions) cannot happen on it, and calls run one after
// the other. There is no knex client for PGlite, so the harness (tables, emptying, inspection,
// seeds) runs through Kysely on the same database, with throughline/kysely's createTable.

type Row = Record<string, unknown>

const modules = await Promise.all([import('@electric-sql/pglite'), import('kysely-pglite-dialect')]).catch((error: unknown) => {
  console.log(
    `[kysely pglite conformance] skipped: @electric-sql/pglite or kysely-pglite-dialect does not load (${String(error)}). ` +
      'To run it: npm install -D @electric-sql/pglite kysely-pglite-dialect',
  )
  return undefined
})

/** The harness's tables, as SchemaKeeper keeps them for knex: created once, recreated when their description changes. */
class PgliteKeeper {
  readonly #db: Kysely<unknown>
  readonly #created = new Map<string, { readonly signature: string; readonly schema: TableSchema }>()

  constructor(db: Kysely<unknown>) {
    this.#db = db
  }

  async ensure(schema: readonly TableSchema[]): Promise<void> {
    const stale = new Set<string>()
    for (const table of schema) {
      const known = this.#created.get(table.table)
      const pointsAtStale = table.columns.some((column) => column.references !== undefined && stale.has(column.references.table))
      if (known?.signature !== JSON.stringify(table) || pointsAtStale) stale.add(table.table)
    }
    if (stale.size === 0) return
    for (const [name, { schema: table }] of this.#created) {
      if (table.columns.some((column) => column.references !== undefined && stale.has(column.references.table))) {
        this.#created.delete(name)
        stale.add(name)
      }
    }
    for (const name of [...stale].reverse()) await sql`DROP TABLE IF EXISTS ${sql.table(name)} CASCADE`.execute(this.#db)
    for (const table of schema) {
      if (!stale.has(table.table)) continue
      await createTable(this.#db, table)
      this.#created.set(table.table, { signature: JSON.stringify(table), schema: table })
    }
  }

  async empty(schema: readonly TableSchema[]): Promise<void> {
    for (const table of [...schema].reverse()) await sql`DELETE FROM ${sql.table(table.table)}`.execute(this.#db)
  }

  async inspect(table: string): Promise<Row[]> {
    return (await sql<Row>`SELECT * FROM ${sql.table(table)}`.execute(this.#db)).rows
  }

  /** Inserts rows straight into the table, then moves the key sequence past the keys given. */
  async seed(table: string, rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return
    const size = Math.max(1, Math.floor(30_000 / Math.max(1, Object.keys(rows[0]!).length)))
    for (let start = 0; start < rows.length; start += size) {
      await this.#db
        .insertInto(table as never)
        .values(rows.slice(start, start + size))
        .execute()
    }
    const schema = this.#created.get(table)?.schema
    const keys = schema === undefined ? [] : primaryKeyColumns(schema)
    const key = keys.length === 1 ? schema?.columns.find((column) => column.name === keys[0]) : undefined
    if (key?.kind === 'increments' || key?.kind === 'bigIncrements') {
      await sql`SELECT setval(pg_get_serial_sequence(${table}, ${key.name}), (SELECT MAX(${sql.ref(key.name)}) FROM ${sql.table(table)}))`.execute(this.#db)
    }
  }
}

// In `npm run test:long` (THROUGHLINE_LONG=1), beside the suite on the PostgreSQL server.
const long = process.env.THROUGHLINE_LONG === '1'
if (!long && modules !== undefined) console.info('[kysely pglite conformance] in npm run test:long (THROUGHLINE_LONG=1).')

describe.skipIf(modules === undefined || !long)('kysely pglite', () => {
  let db: Kysely<unknown> | undefined
  let keeper: PgliteKeeper | undefined
  const connect = (): { db: Kysely<unknown>; keeper: PgliteKeeper } => {
    if (db === undefined || keeper === undefined) {
      const [{ PGlite }, { PGliteDialect }] = modules!
      db = new Kysely<unknown>({ dialect: new PGliteDialect(new PGlite()) })
      keeper = new PgliteKeeper(db)
    }
    return { db, keeper }
  }

  afterAll(async () => {
    await db?.destroy()
  })

  const options: ConformanceOptions = {
    name: 'kysely(pglite)',
    test: { describe, it, beforeEach, afterEach },
    createAdapter: async (schema) => {
      const { db, keeper } = connect()
      await keeper.ensure(schema)
      await keeper.empty(schema)
      return new KyselyAdapter(db)
    },
    inspect: (table) => connect().keeper.inspect(table),
    seedRows: (table, rows) => connect().keeper.seed(table, rows),
    largeCount: 100_000,
  }
  runAdapterConformance(options)
})
