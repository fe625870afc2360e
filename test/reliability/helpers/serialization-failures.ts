import type {
  AdapterCapabilities,
  CountLinksInput,
  DeleteLinksInput,
  InsertLinksInput,
  InsertTargetInput,
  Key,
  LinkedRow,
  LinkCount,
  PrefetchTargetsInput,
  PrefetchedRow,
  ProbeLinksInput,
  ProbeLinksResult,
  RelationAdapter,
  Row,
  SelectSourcesInput,
  SelectTargetsInput,
  SelectThroughRowsInput,
  TransactionOptions,
  UpdateTargetsInput,
} from '../../../src/index.js'

// CockroachDB and YugabyteDB run every transaction SERIALIZABLE and, when it conflicts with
// another, abort it with SQLSTATE 40001 ("restart transaction"), often at COMMIT, after all its
// statements ran: the client must run the whole transaction again. Neither can be installed
// here, so this wrapper plays that part on a real PostgreSQL: around a KnexAdapter, each
// transaction the adapter opens itself fails at a chosen rate with an error whose code is
// '40001', after its work ran, thrown from inside the transaction, so that the adapter rolls
// the real transaction back and its retry policy (PostgreSQL's dialect takes 40001 for a
// conflict) runs the whole call again.

/** An error as node-postgres reports a serialization failure. */
export class SimulatedSerializationFailure extends Error {
  override readonly name = 'SimulatedSerializationFailure'
  readonly code = '40001'
  constructor() {
    super('restart transaction: TransactionRetryWithProtoRefreshError: could not serialize access (simulated at COMMIT)')
  }
}

/** A RelationAdapter whose own transactions fail with 40001 at COMMIT, at `rate`, after their work ran. */
export class SerializationFailures implements RelationAdapter {
  readonly #inner: RelationAdapter
  readonly #rate: number
  readonly #random: () => number
  /** Transactions failed on purpose (and so rolled back). */
  injected = 0
  /** Transactions whose work ran to the end and were let through to COMMIT. */
  committed = 0

  constructor(inner: RelationAdapter, rate: number, random: () => number) {
    this.#inner = inner
    this.#rate = rate
    this.#random = random
  }

  get name(): string {
    return `${this.#inner.name} with 40001 at COMMIT`
  }

  get capabilities(): AdapterCapabilities {
    return this.#inner.capabilities
  }

  get statementCount(): number {
    return this.#inner.statementCount
  }

  get inTransaction(): boolean {
    return this.#inner.inTransaction
  }

  transaction<R>(work: (adapter: RelationAdapter) => Promise<R>, options?: TransactionOptions): Promise<R> {
    // Inside a transaction this is a savepoint, which a distributed database does not abort on
    // its own: the whole transaction fails at its COMMIT, the outer one.
    if (this.#inner.inTransaction) return this.#inner.transaction(work, options)
    return this.#inner.transaction(async (tx) => {
      const result = await work(tx)
      if (this.#random() < this.#rate) {
        this.injected++
        throw new SimulatedSerializationFailure()
      }
      this.committed++
      return result
    }, options)
  }

  probeLinks(input: ProbeLinksInput): Promise<ProbeLinksResult> {
    return this.#inner.probeLinks(input)
  }
  insertLinks(input: InsertLinksInput): Promise<number | undefined> {
    return this.#inner.insertLinks(input)
  }
  deleteLinks(input: DeleteLinksInput): Promise<number> {
    return this.#inner.deleteLinks(input)
  }
  selectTargets(input: SelectTargetsInput): Promise<Row[]> {
    return this.#inner.selectTargets(input)
  }
  selectTargetKeys(input: SelectTargetsInput): Promise<Key[]> {
    return this.#inner.selectTargetKeys(input)
  }
  countTargets(input: SelectTargetsInput): Promise<number> {
    return this.#inner.countTargets(input)
  }
  selectThroughRows(input: SelectThroughRowsInput): Promise<Row[]> {
    return this.#inner.selectThroughRows(input)
  }
  prefetchTargets(input: PrefetchTargetsInput): Promise<PrefetchedRow[]> {
    return this.#inner.prefetchTargets(input)
  }
  countLinks(input: CountLinksInput): Promise<LinkCount[]> {
    return this.#inner.countLinks(input)
  }
  selectLinkedTargets(input: SelectTargetsInput): Promise<LinkedRow[]> {
    return this.#inner.selectLinkedTargets(input)
  }
  selectSources(input: SelectSourcesInput): Promise<Row[]> {
    return this.#inner.selectSources(input)
  }
  selectSourceKeys(input: SelectSourcesInput): Promise<Key[]> {
    return this.#inner.selectSourceKeys(input)
  }
  countSources(input: SelectSourcesInput): Promise<number> {
    return this.#inner.countSources(input)
  }
  insertTarget(input: InsertTargetInput): Promise<Row> {
    return this.#inner.insertTarget(input)
  }
  updateTargets(input: UpdateTargetsInput): Promise<number> {
    return this.#inner.updateTargets(input)
  }
}
