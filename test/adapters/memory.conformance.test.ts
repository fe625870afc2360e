import { afterEach, beforeEach, describe, it } from 'vitest'
import { MemoryAdapter, type TableSpec } from '../../src/index.js'
import { runAdapterConformance } from '../../src/conformance/index.js'

// The reference adapter runs the whole suite first: a fresh store per test.
let store = new MemoryAdapter()
let specs = new Map<string, TableSpec>()

runAdapterConformance({
  name: 'memory',
  test: { describe, it, beforeEach, afterEach },
  createAdapter: (schema) => {
    store = new MemoryAdapter()
    specs = new Map(
      schema.flatMap((table) => {
        const key = table.columns.find((column) => column.name === table.primaryKey)
        if (key === undefined) return []
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
})
