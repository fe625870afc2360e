import type { RelationAdapter, Row } from '../adapter/relation-adapter.js'
import type { TableSchema } from '../schema/table-schema.js'

/** A test callback: may be async. */
export type TestFn = () => void | Promise<void>

/**
 * The test runner's functions, injected so that the suite runs under vitest, jest, mocha or
 * `node:test` alike. Pass your runner's own `describe`, `it`, `beforeEach` and `afterEach`.
 */
export interface TestApi {
  /** Declares a group of tests; the suite calls it once per behaviour (`add()`, `set()`, …). */
  readonly describe: (name: string, body: () => void) => void
  /** Declares one test, whose body may be async. */
  readonly it: ((name: string, body: TestFn) => void) & {
    /** Declares a test that is reported as skipped, for what the adapter's capabilities rule out. */
    readonly skip?: (name: string, body: TestFn) => void
  }
  /** Runs before each test of the current group: where the suite creates a fresh adapter. */
  readonly beforeEach: (body: TestFn) => void
  /** Runs after each test of the current group: where the suite releases the adapter. */
  readonly afterEach: (body: TestFn) => void
}

/** Options of {@link runAdapterConformance} and of every conformance group. */
export interface ConformanceOptions {
  /** The adapter's name, used in the suite's titles. */
  readonly name: string
  /** The test runner. */
  readonly test: TestApi
  /**
   * Returns an adapter over empty tables: the tables described by `schema` must exist (create
   * them the first time) and hold no rows (empty them before each test). Called before every
   * test. Join tables have foreign keys with `ON DELETE CASCADE`, as `describeJoinTable()`
   * produces, unless {@link joinTables} says otherwise; some tables have a composite primary
   * key (`primaryKey: ['user_id', 'interview_id']`) or columns with a database `default`.
   */
  readonly createAdapter: (schema: readonly TableSchema[]) => RelationAdapter | Promise<RelationAdapter>
  /** Called after every test with the adapter `createAdapter` returned. Default does nothing. */
  readonly destroyAdapter?: (adapter: RelationAdapter) => void | Promise<void>
  /**
   * Reads every row of a table straight from storage, without the adapter, so that an
   * adapter cannot pass by being wrong in a self-consistent way. Rows may come in any order.
   * Without it, the tests that check stored rows directly are skipped, and say so.
   */
  readonly inspect?: (table: string) => Promise<Row[]>
  /**
   * Inserts many rows into a table at once, straight into storage, to seed the large-call
   * tests quickly (100 000 single-row `insertTarget` calls would take minutes on a server).
   * Default inserts the rows one by one through the adapter.
   */
  readonly seedRows?: (table: string, rows: readonly Row[]) => Promise<void>
  /**
   * How many targets the large-call tests use. Default is `100_000`: enough to cross every
   * bind-parameter limit. Lower it only to run a quick subset.
   */
  readonly largeCount?: number
  /**
   * How the join tables handed to `createAdapter` look. `'described'` (the default): as
   * `describeJoinTable()` describes them, link columns as foreign keys with `ON DELETE CASCADE`.
   * `'without-foreign-keys'`: the same tables with every `references` left out, as many
   * existing schemas have them, so that every group also proves the adapter on join tables
   * whose database checks nothing. Tests that need the database to cascade a delete are then
   * skipped, and say so. Run the suite once with each to cover both.
   */
  readonly joinTables?: JoinTables
}

/** The join tables a conformance run uses: see {@link ConformanceOptions.joinTables}. */
export type JoinTables = 'described' | 'without-foreign-keys'
