import { afterEach, beforeEach, describe, it } from 'vitest'
import { MemoryAdapter } from '../../src/index.js'
import { runAdapterConformance } from '../../src/conformance/index.js'

// The reference adapter runs the whole suite first: a fresh store per test.
let store: MemoryAdapter | undefined

runAdapterConformance({
  name: 'memory',
  test: { describe, it, beforeEach, afterEach },
  createAdapter: () => (store = new MemoryAdapter()),
  inspect: (table) => (store!).tableRows(table),
  largeCount: 100_000,
})
