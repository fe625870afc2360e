import { afterAll, afterEach, beforeEach, describe, it } from 'vitest'
import { DrizzleAdapter } from '../../src/adapters/drizzle/drizzle-adapter.js'
import { runAdapterConformance, type ConformanceOptions } from '../../src/conformance/index.js'
import { reportSkippedTargets, SchemaKeeper, seedRows } from '../helpers/knex-targets.js'
import { drizzleTargets, type DrizzleConnection } from '../helpers/drizzle-targets.js'

// The whole conformance suite on DrizzleAdapter, on every database the Knex suite runs on:
// SQLite always, PostgreSQL and MySQL/MariaDB when their URLs are set. knex stays the harness
// (it creates the tables, empties them between tests, reads rows for inspection and seeds the
// large calls) on the same database, so that the adapter under test never checks itself.
// On the servers, and on join tables without foreign keys, the suite runs in `npm run test:long`
// (THROUGHLINE_LONG=1), which keeps `npm test` under five minutes: `npm test` runs the Knex suite
// on the servers and Kysely's on SQLite without foreign keys, whose statements are this
// adapter's (both are FragmentAdapter), and SQLite here proves the Drizzle driver.
reportSkippedTargets('drizzle conformance')
const long = process.env.THROUGHLINE_LONG === '1'
if (!long) console.info('[drizzle conformance] PostgreSQL, MariaDB and the tables without foreign keys: in npm run test:long (THROUGHLINE_LONG=1).')

for (const target of drizzleTargets) {
  describe.skipIf(!target.enabled || (target.name !== 'sqlite' && !long))(`drizzle ${target.name}`, () => {
    let connection: DrizzleConnection | undefined
    let keeper: SchemaKeeper | undefined
    const connect = (): { connection: DrizzleConnection; keeper: SchemaKeeper } => {
      connection ??= target.connect()
      keeper ??= new SchemaKeeper(connection.knex)
      return { connection, keeper }
    }

    afterAll(async () => {
      await connection?.close()
    })

    const options: ConformanceOptions = {
      name: `drizzle(${target.name})`,
      test: { describe, it, beforeEach, afterEach },
      createAdapter: async (schema) => {
        const { connection, keeper } = connect()
        await keeper.ensure(schema)
        await keeper.empty(schema)
        return new DrizzleAdapter(connection.drizzle())
      },
      inspect: async (table) => connect().connection.knex(table).select('*'),
      seedRows: async (table, rows) => {
        const { connection, keeper } = connect()
        await seedRows(connection.knex, keeper.schemaOf(table), table, rows)
      },
      largeCount: 100_000,
    }
    runAdapterConformance(options)
    if (long) {
      runAdapterConformance({ ...options, name: `drizzle(${target.name}) without foreign keys`, joinTables: 'without-foreign-keys' })
    }
  })
}
