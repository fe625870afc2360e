import type { Knex } from 'knex'
import { afterAll, afterEach, beforeEach, describe, it } from 'vitest'
import { KnexAdapter } from '../../src/adapters/knex/index.js'
import { runAdapterConformance } from '../../src/conformance/index.js'
import { connectToNode, galeraDatabaseName, galeraEnabled, reportGaleraSkipped } from '../helpers/galera-targets.js'
import { SchemaKeeper, seedRows } from '../helpers/knex-targets.js'

// The whole conformance suite through KnexAdapter on one node of a MariaDB Galera cluster
// (scripts/galera.sh), in a database of its own: every commit is certified by the cluster and
// replicated to the two other nodes before it returns, every CREATE/DROP runs in total order on
// all three. Part of `npm run test:long` (the cluster is started by .ci/run); skipped when
// GALERA_URLS is unset. Smaller large writes than on a lone server (largeCount 10 000, so the
// million-key test writes 100 000): a transaction is one write set, held in memory and sent to
// every node.
reportGaleraSkipped('galera conformance')

describe.skipIf(!galeraEnabled)('knex on a Galera node', () => {
  const name = galeraDatabaseName('conf')
  let db: Knex | undefined
  let keeper: SchemaKeeper | undefined
  const connection = (): { db: Knex; keeper: SchemaKeeper } => {
    db ??= connectToNode(0, name)
    keeper ??= new SchemaKeeper(db)
    return { db, keeper }
  }

  afterAll(async () => {
    if (db === undefined) return
    try {
      await db.raw('DROP DATABASE IF EXISTS ??', [name])
    } finally {
      await db.destroy()
    }
  })

  runAdapterConformance({
    name: 'knex(galera)',
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
    largeCount: 10_000,
  })
})
