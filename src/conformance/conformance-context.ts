import type { RelationAdapter, Row } from '../adapter/relation-adapter.js'
import type { AnyModel, RowOf } from '../model/define-model.js'
import { tagRow } from '../model/model-of.js'
import type { Relation } from '../relation/many-to-many.js'
import type { ColumnSchema, TableSchema } from '../schema/table-schema.js'
import type { ConformanceOptions, TestFn } from './conformance-options.js'

/**
 * What a conformance test works with: a fresh adapter over empty tables, and helpers to
 * seed rows, bind relations and read storage directly.
 */
export class ConformanceContext {
  readonly adapter: RelationAdapter
  /**
   * Whether the join tables have their foreign keys (the database refuses a link to a missing
   * row, and cascades deletes): false in the `joinTables: 'without-foreign-keys'` run.
   */
  readonly hasForeignKeys: boolean
  readonly #inspect: ((table: string) => Promise<Row[]>) | undefined
  readonly #seedRows: ((table: string, rows: readonly Row[]) => Promise<void>) | undefined

  constructor(adapter: RelationAdapter, options: Pick<ConformanceOptions, 'inspect' | 'seedRows' | 'joinTables'>) {
    this.adapter = adapter
    this.hasForeignKeys = options.joinTables !== 'without-foreign-keys'
    this.#inspect = options.inspect
    this.#seedRows = options.seedRows
  }

  /**
   * Seeds rows of `model` with explicit keys, in bulk when the harness gives `seedRows`.
   * The rows are not returned: the caller knows their keys.
   */
  async seed<M extends AnyModel>(model: M, rows: readonly Partial<RowOf<M>>[]): Promise<void> {
    if (this.#seedRows !== undefined) {
      await this.#seedRows(model.table, rows)
      return
    }
    for (const values of rows) await this.adapter.insertTarget({ target: model.spec, values: values })
  }

  /** The relation on this test's adapter. */
  bind<R extends Relation<AnyModel, AnyModel, object>>(relation: R): R {
    return relation.using(this.adapter) as R
  }

  /** Inserts a row through the adapter and returns it tagged with its model. */
  async insert<M extends AnyModel>(model: M, values: Partial<RowOf<M>>): Promise<RowOf<M>> {
    const row = await this.adapter.insertTarget({ target: model.spec, values: values })
    return tagRow(row, model) as RowOf<M>
  }

  /** Inserts several rows in order. */
  async insertAll<M extends AnyModel>(model: M, rows: readonly Partial<RowOf<M>>[]): Promise<RowOf<M>[]> {
    const inserted: RowOf<M>[] = []
    for (const values of rows) inserted.push(await this.insert(model, values))
    return inserted
  }

  /** Whether {@link rows} can read storage directly. */
  get canInspect(): boolean {
    return this.#inspect !== undefined
  }

  /** Every row of `table`, read from storage directly. */
  async rows(table: string): Promise<Row[]> {
    if (this.#inspect === undefined) throw new Error('This adapter gave no inspect() hook.')
    return this.#inspect(table)
  }

  /**
   * How many statements an `add()` of new targets (no listener, outside a transaction) takes on
   * this adapter for `relation`: one `INSERT` where the adapter says the database enforces the
   * join table's foreign keys (`foreignKeysEnforced`), else a read and an `INSERT`.
   */
  async addStatements(relation: Relation<AnyModel, AnyModel, object>): Promise<number> {
    return (await this.adapter.foreignKeysEnforced?.(relation.link)) === true ? 1 : 2
  }

  /** How many statements `work` ran on this adapter. */
  async statements(work: () => Promise<unknown>): Promise<number> {
    const before = this.adapter.statementCount
    await work()
    return this.adapter.statementCount - before
  }
}

/**
 * Registers the before/after hooks that give every test of a group a fresh context over
 * `schema`, and returns a getter for it.
 */
export function useContext(options: ConformanceOptions, schema: readonly TableSchema[]): () => ConformanceContext {
  let context: ConformanceContext | undefined
  const tables = options.joinTables === 'without-foreign-keys' ? withoutForeignKeys(schema) : schema
  options.test.beforeEach(async () => {
    context = new ConformanceContext(await options.createAdapter(tables), options)
  })
  options.test.afterEach(async () => {
    if (context !== undefined) await options.destroyAdapter?.(context.adapter)
    context = undefined
  })
  return () => {
    if (context === undefined) throw new Error('The conformance context is only available inside a test.')
    return context
  }
}

/** Registers a test that needs `inspect`, or a visible skip with the reason when there is none. */
export function itInspecting(options: ConformanceOptions, name: string, body: TestFn): void {
  const { it } = options.test
  if (options.inspect !== undefined) it(name, body)
  else if (it.skip !== undefined) it.skip(`${name} [needs the inspect option]`, body)
  else it(`${name} [skipped: needs the inspect option]`, () => undefined)
}

/**
 * The tables of `schema` with no foreign keys: every `references` left out. Only join tables
 * have foreign keys in the suite's schemas, so these are the join tables users bring without them.
 */
export function withoutForeignKeys(schema: readonly TableSchema[]): TableSchema[] {
  return schema.map((table) =>
    table.columns.some((column) => column.references !== undefined)
      ? { ...table, columns: table.columns.map((column) => Object.fromEntries(Object.entries(column).filter(([key]) => key !== 'references')) as ColumnSchema) }
      : table,
  )
}

/**
 * Registers a test that needs the database's foreign keys (a delete cascading to the links),
 * or, in the `joinTables: 'without-foreign-keys'` run, a visible skip with the reason.
 */
export function itWithForeignKeys(options: ConformanceOptions, name: string, body: TestFn, reason = 'needs foreign keys: the database cascades the delete'): void {
  const { it } = options.test
  if (options.joinTables !== 'without-foreign-keys') it(name, body)
  else if (it.skip !== undefined) it.skip(`${name} [${reason}]`, body)
  else it(`${name} [skipped: ${reason}]`, () => undefined)
}
