import type { Knex } from 'knex'
import { afterAll, afterEach, beforeEach, describe, it } from 'vitest'
import { KnexAdapter } from '../../src/adapters/knex/index.js'
import { runAdapterConformance, type ConformanceOptions } from '../../src/conformance/index.js'
import { disconnect, knexTargets, reportSkippedTargets, SchemaKeeper, seedRows } from '../helpers/knex-targets.js'

// The whole conformance suite on every database Knex reaches: SQLite always, PostgreSQL and
// MySQL/MariaDB when their URLs are set. Tables are created once per database; each test
// starts from empty tables (DELETE, children first) and a fresh adapter. Each database runs the
// suite twice: on join tables as describeJoinTable() describes them, then without their foreign
// keys (the keeper recreates the join tables once, between the runs). On the servers the second
// run is part of `npm run test:long` (THROUGHLINE_LONG=1) only, to keep `npm test` short.
reportSkippedTargets('knex conformance')
const long = process.env.THROUGHLINE_LONG === '1'

for (const target of knexTargets) {
  describe.skipIf(!target.enabled)(`knex ${target.name}`, () => {
    let db: Knex | undefined
    let keeper: SchemaKeeper | undefined
    const connection = (): { db: Knex; keeper: SchemaKeeper } => {
      db ??= target.connect()
      keeper ??= new SchemaKeeper(db)
      return { db, keeper }
    }

    afterAll(async () => {
      await disconnect(db)
    })

    const options: ConformanceOptions = {
      name: `knex(${target.name})`,
      test: { describe, it, beforeEach, afterEach },
      createAdapter: async (schema) => {
        const { db, keeper } = connection()
        await keeper.ensure(schema)
        await keeper.empty(schema)
        return new KnexAdapter(db)
      },
      inspect: async (table) => connection().db(table).select('*'),
      seedRows: async (table, rows) => {
        const { db, keeper } = connection()
        await seedRows(db, keeper.schemaOf(table), table, rows)
      },
      largeCount: 100_000,
    }
    runAdapterConformance(options)
    if (target.name === 'sqlite' || long) {
      runAdapterConformance({ ...options, name: `knex(${target.name}) without foreign keys`, joinTables: 'without-foreign-keys' })
    }
  })
}
