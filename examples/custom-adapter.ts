/**
 * Writing your own adapter, and proving it with the conformance suite.
 *
 * TracingAdapter implements the whole RelationAdapter contract by wrapping another adapter
 * and recording every operation it forwards (the shape of an adapter that adds logging,
 * metrics or a cache in front of a store). It is run here through the full conformance
 * suite with node's own test runner, `node:test`: the suite takes any runner.
 *
 * Run: npm run examples -- custom-adapter (prints a summary line, and any failure in full)
 */
import { afterEach, beforeEach, describe, it } from 'node:test'
import {
  MemoryAdapter,
  type AdapterCapabilities,
  type CountLinksInput,
  type DeleteLinksInput,
  type InsertLinksInput,
  type InsertTargetInput,
  type Key,
  type LinkedRow,
  type LinkCount,
  type PrefetchedRow,
  type PrefetchTargetsInput,
  type ProbeLinksInput,
  type ProbeLinksResult,
  type RelationAdapter,
  type Row,
  type SelectSourcesInput,
  type SelectTargetsInput,
  type SelectThroughRowsInput,
  type TransactionOptions,
  type UpdateTargetsInput,
} from '../src/index.js'
import { runAdapterConformance, type TestApi } from '../src/conformance/index.js'

/** One operation the adapter forwarded. */
interface Trace {
  readonly operation: string
  readonly table: string
  readonly milliseconds: number
}

/** Records every operation of `inner`, and of the transactions it opens, into `traces`. */
export class TracingAdapter implements RelationAdapter {
  readonly name: string
  readonly capabilities: AdapterCapabilities
  readonly traces: Trace[]
  readonly #inner: RelationAdapter

  constructor(inner: RelationAdapter, traces: Trace[] = []) {
    this.#inner = inner
    this.name = `tracing(${inner.name})`
    this.capabilities = inner.capabilities
    this.traces = traces
  }

  get statementCount(): number {
    return this.#inner.statementCount
  }

  get inTransaction(): boolean {
    return this.#inner.inTransaction
  }

  transaction<R>(work: (adapter: RelationAdapter) => Promise<R>, options?: TransactionOptions): Promise<R> {
    // The transaction's adapter is traced too, into the same log.
    return this.#inner.transaction((tx) => work(new TracingAdapter(tx, this.traces)), options)
  }

  probeLinks(input: ProbeLinksInput): Promise<ProbeLinksResult> {
    return this.#trace('probeLinks', input.link.table, () => this.#inner.probeLinks(input))
  }

  insertLinks(input: InsertLinksInput): Promise<number | undefined> {
    return this.#trace('insertLinks', input.link.table, () => this.#inner.insertLinks(input))
  }

  deleteLinks(input: DeleteLinksInput): Promise<number> {
    return this.#trace('deleteLinks', input.link.table, () => this.#inner.deleteLinks(input))
  }

  selectTargets(input: SelectTargetsInput): Promise<Row[]> {
    return this.#trace('selectTargets', input.link.target.table, () => this.#inner.selectTargets(input))
  }

  selectTargetKeys(input: SelectTargetsInput): Promise<Key[]> {
    return this.#trace('selectTargetKeys', input.link.target.table, () => this.#inner.selectTargetKeys(input))
  }

  countTargets(input: SelectTargetsInput): Promise<number> {
    return this.#trace('countTargets', input.link.target.table, () => this.#inner.countTargets(input))
  }

  selectThroughRows(input: SelectThroughRowsInput): Promise<Row[]> {
    return this.#trace('selectThroughRows', input.link.table, () => this.#inner.selectThroughRows(input))
  }

  prefetchTargets(input: PrefetchTargetsInput): Promise<PrefetchedRow[]> {
    return this.#trace('prefetchTargets', input.link.target.table, () => this.#inner.prefetchTargets(input))
  }

  countLinks(input: CountLinksInput): Promise<LinkCount[]> {
    return this.#trace('countLinks', input.link.table, () => this.#inner.countLinks(input))
  }

  selectLinkedTargets(input: SelectTargetsInput): Promise<LinkedRow[]> {
    return this.#trace('selectLinkedTargets', input.link.target.table, () => this.#inner.selectLinkedTargets(input))
  }

  selectSources(input: SelectSourcesInput): Promise<Row[]> {
    return this.#trace('selectSources', input.link.source.table, () => this.#inner.selectSources(input))
  }

  selectSourceKeys(input: SelectSourcesInput): Promise<Key[]> {
    return this.#trace('selectSourceKeys', input.link.source.table, () => this.#inner.selectSourceKeys(input))
  }

  countSources(input: SelectSourcesInput): Promise<number> {
    return this.#trace('countSources', input.link.source.table, () => this.#inner.countSources(input))
  }

  insertTarget(input: InsertTargetInput): Promise<Row> {
    return this.#trace('insertTarget', input.target.table, () => this.#inner.insertTarget(input))
  }

  updateTargets(input: UpdateTargetsInput): Promise<number> {
    return this.#trace('updateTargets', input.target.table, () => this.#inner.updateTargets(input))
  }

  async #trace<R>(operation: string, table: string, run: () => Promise<R>): Promise<R> {
    const started = performance.now()
    try {
      return await run()
    } finally {
      this.traces.push({ operation, table, milliseconds: performance.now() - started })
    }
  }
}

// The conformance suite against TracingAdapter over a fresh memory store per test.
const traces: Trace[] = []
let store = new MemoryAdapter()

// node:test's describe() and it() return promises that its runner tracks itself.
const runner: TestApi = {
  describe: (name, body) => void describe(name, body),
  it: (name, body) => void it(name, body),
  beforeEach: (body) => {
    beforeEach(body)
  },
  afterEach: (body) => {
    afterEach(body)
  },
}

void describe('TracingAdapter', () => {
  runAdapterConformance({
    name: 'tracing(memory)',
    test: runner,
    createAdapter: () => {
      store = new MemoryAdapter()
      return new TracingAdapter(store, traces)
    },
    // Storage read directly, not through the adapter under test.
    inspect: (table) => store.tableRows(table),
    // A smaller large-call test keeps the example quick; the project's own run uses 100 000.
    largeCount: 5_000,
  })

  void it('traced every operation the suite ran', () => {
    const counts = new Map<string, number>()
    for (const { operation } of traces) counts.set(operation, (counts.get(operation) ?? 0) + 1)
    console.log(`traced ${String(traces.length)} operations: ${[...counts].map(([name, count]) => `${name} ${String(count)}`).join(', ')}`)
    if (counts.size < 13) throw new Error(`expected all thirteen operations to be traced, got ${String(counts.size)}`)
  })
})
