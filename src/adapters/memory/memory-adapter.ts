import type {
  AdapterCapabilities,
  Condition,
  CountLinksInput,
  DeleteLinksInput,
  InsertLinksInput,
  InsertTargetInput,
  Key,
  LinkConditions,
  LinkCount,
  LinkedRow,
  LinkSpec,
  OrderTerm,
  PrefetchedRow,
  PrefetchTargetsInput,
  ProbeLinksInput,
  ProbeLinksResult,
  RelationAdapter,
  Row,
  SelectSourcesInput,
  SelectTargetsInput,
  SelectThroughRowsInput,
  TableSpec,
  UpdateTargetsInput,
  TransactionOptions,
} from '../../adapter/relation-adapter.js'
import { foldCase } from '../../adapter/fold-case.js'
import { TransactionContext } from '../../adapter/transaction-context.js'
import { InvalidArgumentError, StorageError, UnknownColumnError } from '../../errors/throughline-error.js'
import type { TableDescription } from '../../schema/table-description.js'
import { coerceKey, coerceSpecKey } from '../../model/coerce-key.js'
import { formatValue, type AnyModel, type KeyOf, type RowOf } from '../../model/define-model.js'
import { isIdentifier } from '../../model/identifier.js'
import { tagRow } from '../../model/model-of.js'
import { MemoryTable, type Undo } from './memory-table.js'

/** An open transaction of the memory store: its undo log. */
interface Transaction {
  readonly store: MemoryStore
  readonly log: Undo[]
  open: boolean
}

/** The state shared by a {@link MemoryAdapter} and the transaction adapters it opens. */
class MemoryStore {
  readonly tables = new Map<string, MemoryTable>()
  /** Join tables seen in link specs, for cascading deletes of their endpoints. */
  readonly joins = new Map<string, LinkSpec>()
  statements = 0
  #tail: Promise<unknown> = Promise.resolve()

  table(name: string, primaryKey: string | undefined): MemoryTable {
    let table = this.tables.get(name)
    if (table === undefined) {
      table = new MemoryTable(name, primaryKey)
      this.tables.set(name, table)
    } else {
      table.setPrimaryKey(primaryKey)
    }
    return table
  }

  /** Runs `work` alone: the store is serialisable, one transaction (or statement) at a time. */
  exclusive<R>(work: () => Promise<R>): Promise<R> {
    const run = this.#tail.then(work)
    this.#tail = run.catch(() => undefined)
    return run
  }
}

// The transaction of the current async context. A listener (or any code) that runs inside a
// call's transaction and uses the root adapter joins that transaction instead of waiting for
// it to end, which would never happen: the same thing a database connection gives Django.
const current = new TransactionContext<Transaction>()

/**
 * A complete in-memory store: target rows, join rows, generated keys, unique pairs and
 * transactions with rollback. It is the reference adapter: it passes the same conformance
 * suite as the SQL adapters and behaves as they do (foreign keys enforced, ties ordered by
 * primary key), so tests written against it hold on a database.
 *
 * @example
 * ```ts
 * const store = new MemoryAdapter()
 * const tags = manyToMany(Post, Tag, { name: 'tags', adapter: store })
 * const post = await store.insert(Post, { title: 'Hello' })
 * const tag = await store.insert(Tag, { name: 'news' })
 * await tags.of(post).add(tag)
 * ```
 */
export class MemoryAdapter implements RelationAdapter {
  readonly name: string = 'memory'
  readonly capabilities: AdapterCapabilities = Object.freeze({ transactions: true, maxBindParameters: Number.POSITIVE_INFINITY, countsInserts: true, serialStatements: true })
  readonly #store: MemoryStore
  readonly #transaction: Transaction | undefined

  constructor()
  /** @internal */
  constructor(store: MemoryStore, transaction: Transaction)
  constructor(store?: MemoryStore, transaction?: Transaction) {
    this.#store = store ?? new MemoryStore()
    this.#transaction = transaction
  }

  get statementCount(): number {
    return this.#store.statements
  }

  /** Whether statements run in a transaction of this store (this adapter's, or the one of the current async context). */
  get inTransaction(): boolean {
    return this.#activeTransaction() !== undefined
  }

  // ------------------------------------------------------------ user helpers

  /**
   * Inserts a row of `model` and resolves to it, with a generated key when none is given
   * (integer keys only). The row is tagged with its model, like every row throughline returns.
   */
  async insert<M extends AnyModel>(model: M, values: Partial<RowOf<M>>): Promise<RowOf<M>> {
    const row = await this.insertTarget({ target: model.spec, values: values })
    return tagRow(row, model) as RowOf<M>
  }

  /**
   * Inserts many rows of `model` in one statement, atomically, with generated keys where none
   * is given. Faster than `insert` in a loop for seeding large stores.
   */
  async insertMany<M extends AnyModel>(model: M, rows: readonly Partial<RowOf<M>>[]): Promise<void> {
    await this.#statement((log) => {
      for (const values of rows) log.push(this.#insertRow(model.spec, values).undo)
    })
  }

  /** Every row of `model`, in primary-key order. */
  async rows<M extends AnyModel>(model: M): Promise<RowOf<M>[]> {
    return this.#run(() => {
      const table = this.#store.tables.get(model.table)
      if (table === undefined) return []
      const rows = sortRows([...table.rows.values()], [{ column: model.primaryKey, direction: 'asc' }])
      return rows.map((row) => tagRow({ ...row }, model) as RowOf<M>)
    })
  }

  /**
   * Deletes a row of `model` and, like `ON DELETE CASCADE`, every link row that points at it,
   * in every join table this store has seen. Resolves to whether the row existed.
   */
  async delete<M extends AnyModel>(model: M, key: KeyOf<M> | string): Promise<boolean> {
    const coerced = coerceKey(key, model)
    return this.#run((log) => {
      const table = this.#store.tables.get(model.table)
      const id = table?.rowIdOfKey(coerced)
      if (table === undefined || id === undefined) return false
      for (const link of this.#store.joins.values()) {
        const join = this.#store.tables.get(link.table)
        if (join === undefined) continue
        for (const [column, spec] of [
          [link.sourceColumn, link.source],
          [link.targetColumn, link.target],
        ] as const) {
          if (spec.table !== model.table) continue
          for (const rowId of [...join.idsWhere(column, coerced)]) log.push(join.delete(rowId))
        }
      }
      log.push(table.delete(id))
      return true
    })
  }

  /** Every row of a table as stored, in insertion order: for tests that check storage directly. */
  async tableRows(table: string): Promise<Row[]> {
    return this.#run(() => [...(this.#store.tables.get(table)?.rows.values() ?? [])].map((row) => ({ ...row })))
  }

  // -------------------------------------------------------------- contract

  // Transactions run here one at a time: serializable already, and never in conflict, so
  // isolation and retries have nothing to do.
  async transaction<R>(work: (adapter: RelationAdapter) => Promise<R>, options: TransactionOptions = {}): Promise<R> {
    const joined = this.#activeTransaction()
    if (joined !== undefined) {
      // A savepoint: undo only this block's writes when it fails.
      const mark = joined.log.length
      try {
        return await work(this.#transaction === joined ? this : new MemoryAdapter(this.#store, joined))
      } catch (error) {
        rollback(joined, mark)
        throw error
      }
    }
    return this.#store.exclusive(async () => {
      const transaction: Transaction = { store: this.#store, log: [], open: true }
      const adapter = new MemoryAdapter(this.#store, transaction)
      try {
        return await current.run(transaction, options.joinable !== false, () => work(adapter))
      } catch (error) {
        rollback(transaction, 0)
        throw error
      } finally {
        transaction.open = false
      }
    })
  }

  async probeLinks({ link, source, targets, scope }: ProbeLinksInput): Promise<ProbeLinksResult> {
    return this.#statement(() => {
      const join = this.#join(link)
      const targetTable = this.#store.tables.get(link.target.table)
      const existing = targets.filter((key) => targetTable?.hasKey(key) === true)
      const linkedIds = join.idsWhere(link.sourceColumn, source)
      let linked: Key[]
      if (scope === 'all') {
        const keys = new Set<Key>()
        for (const id of [...linkedIds].sort(byNumber)) keys.add((join.rows.get(id)!)[link.targetColumn] as Key)
        linked = [...keys]
      } else {
        const present = new Set<unknown>()
        for (const id of linkedIds) present.add((join.rows.get(id)!)[link.targetColumn])
        linked = targets.filter((key) => present.has(key))
      }
      return { sourceExists: this.#store.tables.get(link.source.table)?.hasKey(source) === true, existing, linked }
    })
  }

  async insertLinks({ link, pairs, values }: InsertLinksInput): Promise<number> {
    return this.#statement((log) => {
      let inserted = 0
      const join = this.#join(link)
      const sources = this.#store.tables.get(link.source.table)
      const targets = this.#store.tables.get(link.target.table)
      const columns = [link.sourceColumn, link.targetColumn] as const
      // The join table's other foreign keys, checked once: every row shares these values.
      for (const { column, target } of link.references) {
        const value = values[column]
        if (value !== undefined && value !== null && this.#store.tables.get(target.table)?.hasKey(value) !== true) {
          throw new StorageError(this.name, `FOREIGN KEY constraint failed: ${link.table}.${column} ${formatValue(value)} is no ${target.model} row.`, {
            code: 'M2M_CONSTRAINT_VIOLATION',
          })
        }
      }
      for (const [source, target] of pairs) {
        // A pair whose source or target row is missing is skipped, as the SQL adapters' INSERT …
        // SELECT … WHERE EXISTS skips it. A self relation's mirror pair is checked against the same table.
        if (sources?.hasKey(source) !== true || targets?.hasKey(target) !== true) continue
        if (link.unique && join.findPair(columns, source, target) !== undefined) continue
        const row: Row = { ...values, [link.sourceColumn]: source, [link.targetColumn]: target }
        if (link.primaryKey !== undefined) row[link.primaryKey] = join.takeKey()
        log.push(join.insert(row).undo)
        inserted++
      }
      return inserted
    })
  }

  async deleteLinks({ link, source, targets, mirror, keep }: DeleteLinksInput): Promise<number> {
    return this.#statement((log) => {
      const join = this.#join(link)
      const wanted = targets === undefined ? undefined : new Set<unknown>(targets)
      const kept = targets === undefined && keep !== undefined ? new Set<unknown>(keep) : undefined
      const doomed = new Set<number>()
      for (const id of join.idsWhere(link.sourceColumn, source)) {
        const target = join.rows.get(id)![link.targetColumn]
        if (kept !== undefined ? !kept.has(target) : wanted === undefined || wanted.has(target)) doomed.add(id)
      }
      if (mirror) {
        for (const id of join.idsWhere(link.targetColumn, source)) {
          if (wanted === undefined || wanted.has((join.rows.get(id)!)[link.sourceColumn])) doomed.add(id)
        }
      }
      for (const id of doomed) log.push(join.delete(id))
      return doomed.size
    })
  }

  async selectTargets(input: SelectTargetsInput): Promise<Row[]> {
    return this.#statement(() => this.#selectTargets(input).map((row) => ({ ...row })))
  }

  async selectLinkedTargets(input: SelectTargetsInput): Promise<LinkedRow[]> {
    const { columns } = input.link
    // Every known column, null when the row was stored without it, as an SQL table has it.
    return this.#statement(() => this.#linkedTargets(input).map(({ row, through }) => ({ row: { ...row }, through: Object.fromEntries(columns.map((column) => [column, cell(through, column) ?? null])) })))
  }

  async selectTargetKeys(input: SelectTargetsInput): Promise<Key[]> {
    return this.#statement(() => this.#selectTargets(input).map((row) => row[input.link.target.primaryKey] as Key))
  }

  async countTargets(input: SelectTargetsInput): Promise<number> {
    const query = { ...input.query, limit: undefined, offset: undefined, orderBy: [] }
    return this.#statement(() => this.#selectTargets({ ...input, query }).length)
  }

  async selectThroughRows({ link, source, targets }: SelectThroughRowsInput): Promise<Row[]> {
    return this.#statement(() => {
      const join = this.#join(link)
      const wanted = targets === undefined ? undefined : new Set<unknown>(targets)
      const rows: Row[] = []
      for (const id of [...join.idsWhere(link.sourceColumn, source)].sort(byNumber)) {
        const row = join.rows.get(id)!
        if (wanted === undefined || wanted.has(row[link.targetColumn])) rows.push({ ...row })
      }
      return link.primaryKey === undefined ? rows : sortRows(rows, [{ column: link.primaryKey, direction: 'asc' }])
    })
  }

  async prefetchTargets({ link, sources, query }: PrefetchTargetsInput): Promise<PrefetchedRow[]> {
    return this.#statement(() => {
      const join = this.#join(link)
      const targets = this.#store.tables.get(link.target.table)
      if (targets === undefined) return []
      const found: { source: Key; row: Row; through: Row }[] = []
      for (const source of sources) {
        for (const id of [...join.idsWhere(link.sourceColumn, source)].sort(byNumber)) {
          const targetId = targets.rowIdOfKey((join.rows.get(id)!)[link.targetColumn])
          const row = targetId === undefined ? undefined : targets.rows.get(targetId)
          if (row !== undefined && query.where.every((condition) => matches(row, condition)) && !excluded(row, query.exclude)) found.push({ source, row, through: join.rows.get(id)! })
        }
      }
      // A stable sort: within one source, rows keep the query's order.
      const order = query.orderBy
      found.sort((a, b) => compareLinked(a, b, order))
      // A limit is per source: the first rows of each, in order.
      const { limit } = query
      const taken = new Map<Key, number>()
      const kept = (source: Key): boolean => {
        const count = (taken.get(source) ?? 0) + 1
        taken.set(source, count)
        return limit === undefined || count <= limit
      }
      return found.filter(({ source }) => kept(source)).map(({ source, row }) => ({ source, row: { ...row } }))
    })
  }

  async countLinks({ link, sources, related, through, distinct }: CountLinksInput): Promise<LinkCount[]> {
    return this.#statement(() => {
      const join = this.#join(link)
      const targets = this.#store.tables.get(link.target.table)
      if (targets === undefined) return []
      return sources.map((source) => {
        const counted = new Set<unknown>()
        let count = 0
        for (const id of join.idsWhere(link.sourceColumn, source)) {
          const linkRow = join.rows.get(id)!
          if (!through.every((condition) => matches(linkRow, condition))) continue
          const targetId = targets.rowIdOfKey(linkRow[link.targetColumn])
          const row = targetId === undefined ? undefined : targets.rows.get(targetId)
          if (row === undefined || !related.every((condition) => matches(row, condition))) continue
          counted.add(targetId)
          count++
        }
        return { source, count: distinct ? counted.size : count }
      })
    })
  }

  async selectSources(input: SelectSourcesInput): Promise<Row[]> {
    return this.#statement(() => this.#selectSources(input, true).map((row) => ({ ...row })))
  }

  async selectSourceKeys(input: SelectSourcesInput): Promise<Key[]> {
    return this.#statement(() => this.#selectSources(input, true).map((row) => row[input.link.source.primaryKey] as Key))
  }

  async countSources(input: SelectSourcesInput): Promise<number> {
    return this.#statement(() => this.#selectSources(input, false).length)
  }

  async insertTarget({ target, values }: InsertTargetInput): Promise<Row> {
    return this.#statement((log) => {
      const { row, undo } = this.#insertRow(target, values)
      log.push(undo)
      return { ...row }
    })
  }

  async updateTargets({ target, keys, values }: UpdateTargetsInput): Promise<number> {
    return this.#statement((log) => {
      const table = this.#store.tables.get(target.table)
      if (table === undefined) return 0
      let changed = 0
      for (const key of keys) {
        const id = table.rowIdOfKey(key)
        if (id === undefined) continue
        log.push(table.update(id, values))
        changed++
      }
      return changed
    })
  }

  /**
   * The memory store has no fixed schema: a table exists once it is used, takes any column,
   * and the store enforces a relation's unique pair and foreign keys itself. So every table is
   * described as `schemaless`, and `relation.check()` on memory reports only a warning saying
   * that there was nothing to compare: run it on your database's adapter too.
   */
  describeTable(table: string): Promise<TableDescription | undefined> {
    return Promise.resolve({ table, schemaless: true, columns: [], primaryKey: [], unique: [], foreignKeys: [] })
  }

  // -------------------------------------------------------------- internals

  #activeTransaction(): Transaction | undefined {
    if (this.#transaction !== undefined) {
      if (!this.#transaction.open) {
        throw new InvalidArgumentError('This memory transaction has already finished; use the adapter it was opened from.')
      }
      return this.#transaction
    }
    const joined = current.current()
    return joined?.store === this.#store && joined.open ? joined : undefined
  }

  /** One statement: counted, and atomic on its own when no transaction is open. */
  #statement<R>(work: (log: Undo[]) => R): Promise<R> {
    this.#store.statements++
    return this.#run(work)
  }

  #run<R>(work: (log: Undo[]) => R): Promise<R> {
    const transaction = this.#activeTransaction()
    if (transaction !== undefined) return Promise.resolve().then(() => work(transaction.log))
    return this.#store.exclusive(() => {
      // Outside a transaction a statement still commits or fails as a whole.
      const log: Undo[] = []
      try {
        return Promise.resolve(work(log))
      } catch (error) {
        rollback({ store: this.#store, log, open: false }, 0)
        return Promise.reject(error instanceof Error ? error : new Error(String(error)))
      }
    })
  }

  /** Validates and inserts one target row, generating its key when needed. */
  #insertRow(target: TableSpec, values: Readonly<Row>): { readonly row: Row; readonly undo: Undo } {
    const table = this.#store.table(target.table, target.primaryKey)
    const row: Row = {}
    for (const [column, value] of Object.entries(values)) {
      if (!isIdentifier(column) || (target.columns !== undefined && !target.columns.includes(column))) {
        throw new UnknownColumnError(`${target.model} has no column ${formatValue(column)}.`)
      }
      if (value !== undefined) row[column] = value
    }
    let key = row[target.primaryKey]
    if (key === undefined || key === null) {
      if (target.keyType !== 'integer' && target.keyType !== 'bigint') {
        throw new InvalidArgumentError(`${target.model} rows need a "${target.primaryKey}" value: only integer keys are generated.`)
      }
      const next = table.takeKey()
      key = target.keyType === 'bigint' ? BigInt(next) : next
    } else {
      key = coerceSpecKey(key, target)
    }
    row[target.primaryKey] = key
    if (table.hasKey(key)) {
      throw new StorageError(this.name, `UNIQUE constraint failed: ${target.table}.${target.primaryKey} ${formatValue(key)} exists.`, {
        code: 'M2M_CONSTRAINT_VIOLATION',
      })
    }
    return { row, undo: table.insert(row).undo }
  }

  #join(link: LinkSpec): MemoryTable {
    this.#store.joins.set(`${link.table}\u0000${[link.sourceColumn, link.targetColumn].sort().join('\u0000')}`, link)
    const table = this.#store.table(link.table, link.primaryKey)
    if (link.unique) table.ensureUnique([link.sourceColumn, link.targetColumn])
    return table
  }

  #selectSources({ link, query }: SelectSourcesInput, paged: boolean): Row[] {
    const join = this.#join(link)
    const sources = this.#store.tables.get(link.source.table)
    const targets = this.#store.tables.get(link.target.table)
    if (sources === undefined) return []
    const rows: Row[] = []
    for (const [, row] of [...sources.rows].sort(([a], [b]) => a - b)) {
      if (!query.where.every((condition) => matches(row, condition))) continue
      const ids = [...join.idsWhere(link.sourceColumn, row[link.source.primaryKey])]
      // How many of the row's links meet `conditions`; a row with no link row meets `unlinked` ones once.
      const hits = ({ related, through, unlinked }: LinkConditions, all: boolean): number => {
        if (ids.length === 0) return unlinked ? 1 : 0
        let count = 0
        for (const id of ids) {
          const linkRow = join.rows.get(id)!
          if (!through.every((condition) => matches(linkRow, condition))) continue
          const targetId = targets?.rowIdOfKey(linkRow[link.targetColumn])
          const target = targetId === undefined ? undefined : targets?.rows.get(targetId)
          if (target === undefined || !related.every((condition) => matches(target, condition))) continue
          count++
          if (!all) break
        }
        return count
      }
      const met = (): boolean => query.links.every((conditions) => hits(conditions, false) > 0)
      const times = query.mode === 'join' ? hits(query.links[0]!, true) : met() === (query.mode === 'exists') ? 1 : 0
      for (let index = 0; index < times; index++) rows.push(row)
    }
    if (!paged) return rows
    const sorted = sortRows(rows, query.orderBy)
    const offset = query.offset ?? 0
    return sorted.slice(offset, query.limit === undefined ? undefined : offset + query.limit)
  }

  #selectTargets(input: SelectTargetsInput): Row[] {
    return this.#linkedTargets(input).map(({ row }) => row)
  }

  /** The target rows linked from `source`, each with its link row, in the query's order and page (the stored objects: copy them). */
  #linkedTargets({ link, source, query }: SelectTargetsInput): LinkedRow[] {
    const join = this.#join(link)
    const targets = this.#store.tables.get(link.target.table)
    if (targets === undefined) return []
    const rows: LinkedRow[] = []
    for (const id of [...join.idsWhere(link.sourceColumn, source)].sort(byNumber)) {
      const through = join.rows.get(id)!
      const targetId = targets.rowIdOfKey(through[link.targetColumn])
      const row = targetId === undefined ? undefined : targets.rows.get(targetId)
      if (row !== undefined && query.where.every((condition) => matches(row, condition)) && !excluded(row, query.exclude)) rows.push({ row, through })
    }
    const sorted = query.orderBy.length === 0 ? rows : [...rows].sort((a, b) => compareLinked(a, b, query.orderBy))
    const offset = query.offset ?? 0
    return sorted.slice(offset, query.limit === undefined ? undefined : offset + query.limit)
  }
}

function rollback(transaction: Transaction, mark: number): void {
  const { log } = transaction
  while (log.length > mark) (log.pop()!)()
}

function byNumber(a: number, b: number): number {
  return a - b
}


/** Orders values as the SQL adapters do: nulls first, numbers numerically, strings by code unit. */
export function compareValues(a: unknown, b: unknown): number {
  const aNull = a === null || a === undefined
  const bNull = b === null || b === undefined
  if (aNull || bNull) return aNull === bNull ? 0 : aNull ? -1 : 1
  const x = a instanceof Date ? a.getTime() : typeof a === 'boolean' ? Number(a) : a
  const y = b instanceof Date ? b.getTime() : typeof b === 'boolean' ? Number(b) : b
  const numeric = (typeof x === 'number' || typeof x === 'bigint') && (typeof y === 'number' || typeof y === 'bigint')
  if (numeric || (typeof x === 'string' && typeof y === 'string')) {
    return (x as number) < (y as number) ? -1 : (x as number) > (y as number) ? 1 : 0
  }
  // Mixed types do not happen with a consistent schema; order them by type name for determinism.
  return typeof x < typeof y ? -1 : typeof x > typeof y ? 1 : 0
}

function compareRows(a: Row, b: Row, orderBy: readonly OrderTerm[]): number {
  for (const { column, direction } of orderBy) {
    const order = compareValues(cell(a, column), cell(b, column))
    if (order !== 0) return direction === 'asc' ? order : -order
  }
  return 0
}

/** Orders target rows by `orderBy`, reading a through term (`through__created_at`) from the link row. */
function compareLinked(a: LinkedRow, b: LinkedRow, orderBy: readonly OrderTerm[]): number {
  for (const { column, direction, through } of orderBy) {
    const order = through === true ? compareValues(cell(a.through, column), cell(b.through, column)) : compareValues(cell(a.row, column), cell(b.row, column))
    if (order !== 0) return direction === 'asc' ? order : -order
  }
  return 0
}

function sortRows(rows: Row[], orderBy: readonly OrderTerm[]): Row[] {
  return [...rows].sort((a, b) => compareRows(a, b, orderBy))
}

/** A row's own value for a column: never one inherited from `Object.prototype`. */
function cell(row: Row, column: string): unknown {
  return Object.hasOwn(row, column) ? row[column] : undefined
}

/** Whether `row` meets every condition of one of the `exclude` groups (two-valued: null meets none but `isnull`). */
function excluded(row: Row, exclude: readonly (readonly Condition[])[]): boolean {
  return exclude.some((group) => group.every((condition) => matches(row, condition)))
}

function matches(row: Row, { column, op, value }: Condition): boolean {
  const actual = cell(row, column)
  switch (op) {
    case 'isnull':
      return (actual === null || actual === undefined) === value
    case 'exact':
      return actual !== null && actual !== undefined && compareValues(actual, value) === 0
    case 'in':
      return actual !== null && actual !== undefined && (value as unknown[]).some((item) => compareValues(actual, item) === 0)
    case 'startswith':
      return typeof actual === 'string' && actual.startsWith(value as string)
    case 'endswith':
      return typeof actual === 'string' && actual.endsWith(value as string)
    case 'contains':
      return typeof actual === 'string' && actual.includes(value as string)
    // The value arrives folded (ASCII letters only, as the SQL adapters fold the column).
    case 'iexact':
      return typeof actual === 'string' && foldCase(actual) === value
    case 'istartswith':
      return typeof actual === 'string' && foldCase(actual).startsWith(value as string)
    case 'iendswith':
      return typeof actual === 'string' && foldCase(actual).endsWith(value as string)
    case 'icontains':
      return typeof actual === 'string' && foldCase(actual).includes(value as string)
    case 'gt':
      return actual !== null && actual !== undefined && compareValues(actual, value) > 0
    case 'gte':
      return actual !== null && actual !== undefined && compareValues(actual, value) >= 0
    case 'lt':
      return actual !== null && actual !== undefined && compareValues(actual, value) < 0
    case 'lte':
      return actual !== null && actual !== undefined && compareValues(actual, value) <= 0
  }
}
