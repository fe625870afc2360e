import { afterEach, beforeEach, describe, it } from 'vitest'
import { MemoryAdapter, type TableSpec } from '../../src/index.js'
import { runAdapterConformance, type ConformanceOptions } from '../../src/conformance/index.js'
import { primaryKeyColumns } from '../../src/schema/table-schema.js'

// The reference adapter runs the whole suite first: a fresh store per test. It runs again on
// join tables without foreign keys: the memory store reads no schema, so the second run proves
// that the suite's expectations hold whatever the tables say.
let store = new MemoryAdapter()
let specs = new Map<string, TableSpec>()

const options: ConformanceOptions = {
  name: 'memory',
  test: { describe, it, beforeEach, afterEach },
  createAdapter: (schema) => {
    store = new MemoryAdapter()
    specs = new Map(
      schema.flatMap((table) => {
        const [single, ...more] = primaryKeyColumns(table)
        const key = table.columns.find((column) => column.name === single)
        // Only model tables are seeded: a composite key is a join table's.
        if (key === undefined || more.length > 0) return []
        const keyType = key.kind === 'uuid' ? 'uuid' : key.kind === 'string' ? 'string' : key.kind === 'bigIncrements' ? 'bigint' : 'integer'
        return [[table.table, { model: table.table, table: table.table, primaryKey: key.name, keyType, columns: undefined } satisfies TableSpec]]
      }),
    )
    return store
  },
  inspect: (table) => store.tableRows(table),
  seedRows: async (table, rows) => {
    const spec = specs.get(table)
    if (spec === undefined) throw new Error(`No table ${table} in the schema.`)
    await store.transaction(async (tx) => {
      for (const values of rows) await tx.insertTarget({ target: spec, values })
    })
  },
}

runAdapterConformance(options)
runAdapterConformance({ ...options, name: 'memory without foreign keys', joinTables: 'without-foreign-keys' })
