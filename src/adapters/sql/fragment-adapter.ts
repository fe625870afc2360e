import type {
  AdapterCapabilities,
  Condition,
  CountLinksInput,
  DeleteLinksInput,
  InsertLinksInput,
  InsertTargetInput,
  Key,
  KeyType,
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
  TransactionOptions,
  UpdateTargetsInput,
} from '../../adapter/relation-adapter.js'
import { adapterLogger, type AdapterLogger } from '../../adapter/adapter-log.js'
import { retryConflicts, retryPolicy, type RetryPolicy } from '../../adapter/retry-policy.js'
import { TransactionContext } from '../../adapter/transaction-context.js'
import { withoutColumn } from '../../adapter/without-column.js'
import { keyOrderColumn, prefetchKeyOrder } from './key-order.js'
import { InvalidArgumentError, StorageError, UnknownColumnError } from '../../errors/throughline-error.js'
import { coerceSpecKey, readStoredKey } from '../../model/coerce-key.js'
import { formatValue } from '../../model/define-model.js'
import { isIdentifier } from '../../model/identifier.js'
import type { TableDescription } from '../../schema/table-description.js'
import { describeSqliteTable } from '../sqlite/describe-sqlite-table.js'
import { chunks, inlinedBytes, largestInlined } from './chunks.js'
import { compareOrd } from './compare-ord.js'
import { conditionFragment, excludedFragment } from './condition-fragment.js'
import { splitLinkedRow, throughAliases } from './linked-row.js'
import { describeMysqlTable, describePostgresTable, type CatalogRow } from './describe-sql-table.js'
import { exactKeyChecks, missingKeysError, type ExactKeyPart } from './exact-keys.js'
import { ProbeRows } from './probe-rows.js'
import { MAX_KEYS_PER_LIST, type SqlDialect, type SqlFragment } from './sql-dialect.js'
import { limitLiteral } from './limit-literal.js'
import { keysJson } from '../sqlite/keys-json.js'
import { ForeignKeyFactsCache, guardedLinkCount, guardedSqliteLinkCounts, type ForeignKeyFacts } from './foreign-key-facts.js'
import { allOf, and, fragment, joinFragments, or } from './sql-fragment.js'
import { toStorageError } from './to-storage-error.js'
import { conditionBinds, linkUuidColumns, uuidColumns } from './uuid-columns.js'

/** What a statement gave back: its rows, and for writes the rows affected and a generated key. */
export interface SqlResult {
  readonly rows: Row[]
  /** Rows inserted, updated or deleted; `undefined` when the driver did not say. */
  readonly affected: number | undefined
  /** The key MySQL generated for an INSERT, if any. */
  readonly insertId?: unknown
}

/** A statement in the driver's own SQL, ready to run. */
export interface PreparedStatement {
  /** Its SQL text, without values, for the log. */
  readonly sql: string
  /** Runs it; driver errors come out as the driver throws them. */
  run(): Promise<SqlResult>
}

/**
 * What {@link FragmentAdapter} needs from a query library: statements from the shared fragments,
 * and transactions. `H` is the library's handle: its database object or one of its
 * transactions. Internal: one per library (Kysely, Drizzle).
 */
export interface SqlDriver<H> {
  /** The library, as messages name it (`Kysely`). */
  readonly library: string
  readonly dialect: SqlDialect
  /** The adapter's name, `kysely(pg)`. */
  readonly name: string
  /** Whether `handle` is a transaction the caller opened and passed in. */
  isTransaction(handle: H): boolean
  /** `statement` on `handle`: each `??` an identifier, each `?` a bound value. */
  prepare(handle: H, statement: SqlFragment): PreparedStatement
  /**
   * Runs `work` in a new transaction on `root` (serializable when asked: PostgreSQL and MySQL),
   * committed when it resolves and rolled back when it throws; `work` receives the handle its
   * statements run on.
   */
  transaction<R>(root: H, serializable: boolean, work: (trx: H) => Promise<R>): Promise<R>
  /**
   * On SQLite: whether every statement of `root` runs on one connection, the same for good
   * (Kysely's `SqliteDialect`, Drizzle's better-sqlite3). A count of the join table alone
   * trusts `PRAGMA data_version`, which each connection numbers its own way: without this, it
   * joins the target table.
   */
  oneConnection?(root: H): Promise<boolean>
}

/** Options every fragment-based adapter takes. */
export interface FragmentAdapterOptions {
  readonly maxBindParameters?: number | undefined
  readonly retry?: Partial<RetryPolicy> | undefined
  readonly log?: AdapterLogger | undefined
}

/** A transaction opened by a {@link FragmentAdapter}, as seen by the code that runs inside it. */
interface Scope<H> {
  /** The handle (database, or caller's transaction) the opening adapter was built on. */
  readonly owner: H
  readonly trx: H
  open: boolean
}

/** What an adapter shares with the transaction adapters it opens. */
interface Shared<H> {
  readonly root: H
  readonly driver: SqlDriver<H>
  readonly dialect: SqlDialect
  readonly name: string
  readonly maxBindParameters: number
  readonly retry: RetryPolicy
  readonly log: AdapterLogger | undefined
  /** What {@link FragmentAdapter.foreignKeysEnforced} read, per join table. */
  readonly foreignKeys: ForeignKeyFactsCache
  /** The driver's `oneConnection` answer, asked once. */
  oneConnection?: Promise<boolean>
  statements: number
  savepoints: number
}

// The transaction of the current async context: code that runs inside a call's transaction (an
// m2m listener) and uses the root adapter joins it instead of waiting for another connection
// (with SQLite's single connection, a library's mutex would make that wait endless).
const current = new TransactionContext<Scope<unknown>>()

// Aliases of the tables in every statement: a self relation joins a table to itself.
const T = 't'
const L = 'l'
const S = 's'
const SOURCE_KEY = '__throughline_source'
// The rank of a prefetched row among its source's (a limited prefetch), and the ranked subquery.
const RANK = '__throughline_rank'
const RANKED = 'ranked'
const KEY_TEXT = '__throughline_key'

/**
 * A {@link RelationAdapter} that writes every statement as shared SQL fragments and runs them
 * through a query library's {@link SqlDriver}: the statements, limits and semantics of the Knex
 * adapter, for SQLite, PostgreSQL and MySQL/MariaDB. The Kysely and Drizzle adapters are this
 * class with their driver. Internal.
 */
export class FragmentAdapter<H> implements RelationAdapter {
  readonly name: string
  readonly capabilities: AdapterCapabilities
  readonly #shared: Shared<H>
  readonly #scope: Scope<H> | undefined

  /** @internal */
  constructor(driver: SqlDriver<H>, root: H, options: FragmentAdapterOptions, shared?: Shared<H>, scope?: Scope<H>) {
    if (shared === undefined) {
      const { dialect } = driver
      const max = options.maxBindParameters ?? dialect.maxBindParameters
      if (!Number.isSafeInteger(max) || max < 16) {
        throw new InvalidArgumentError(`maxBindParameters must be a whole number of at least 16; got ${formatValue(max)}.`)
      }
      shared = {
        root,
        driver,
        dialect,
        name: driver.name,
        maxBindParameters: Math.min(max, dialect.maxBindParameters),
        retry: retryPolicy(options.retry),
        log: adapterLogger(options.log, driver.name),
        foreignKeys: new ForeignKeyFactsCache(dialect),
        statements: 0,
        savepoints: 0,
      }
    }
    this.#shared = shared
    this.#scope = scope
    this.name = shared.name
    this.capabilities = Object.freeze({ transactions: true, maxBindParameters: shared.maxBindParameters, countsInserts: shared.dialect.countsInserts, serialStatements: shared.dialect.serialStatements })
  }

  /** Statements sent by this adapter and the transactions it opened (BEGIN, COMMIT and savepoints not counted). */
  get statementCount(): number {
    return this.#shared.statements
  }

  /** Whether statements run in a transaction: the caller's (passed in) or one this adapter opened. */
  get inTransaction(): boolean {
    return this.#inAnyTransaction()
  }

  // -------------------------------------------------------------- contract

  async transaction<R>(work: (adapter: RelationAdapter) => Promise<R>, options: TransactionOptions = {}): Promise<R> {
    const outer = this.#executor()
    // Only a transaction of our own can be made serializable, and run again: inside the
    // caller's transaction (or ours), this is a savepoint.
    const own = !this.#inAnyTransaction()
    const serializable = own && options.isolation === 'serializable' && this.#shared.dialect.name !== 'sqlite'
    const joinable = options.joinable !== false
    const once = (): Promise<R> => (own ? this.#transactionOnce(outer, work, serializable, joinable) : this.#savepoint(outer, work, joinable))
    return own && options.retry === true ? this.#retryingConflicts(once) : once()
  }

  #retryingConflicts<R>(run: () => Promise<R>): Promise<R> {
    const { dialect, retry, log, name } = this.#shared
    return retryConflicts(retry, (error) => dialect.isConflict(error), run, log && ((event) => {
      log({ type: 'retry', adapter: name, ...event })
    }))
  }

  /** Runs `work` with an adapter over `trx`, visible to the code inside as the current transaction. */
  async #inScope<R>(trx: H, work: (adapter: RelationAdapter) => Promise<R>, joinable: boolean): Promise<R> {
    const scope: Scope<H> = { owner: this.#shared.root, trx, open: true }
    const adapter = new FragmentAdapter(this.#shared.driver, trx, {}, this.#shared, scope)
    try {
      return await current.run(scope, joinable, () => work(adapter))
    } finally {
      scope.open = false
    }
  }

  async #transactionOnce<R>(root: H, work: (adapter: RelationAdapter) => Promise<R>, serializable: boolean, joinable: boolean): Promise<R> {
    let failure: { readonly error: unknown } | undefined
    try {
      return await this.#shared.driver.transaction(root, serializable, async (trx) => {
        try {
          return await this.#inScope(trx, work, joinable)
        } catch (error) {
          failure = { error }
          throw error
        }
      })
    } catch (error) {
      // The work's own errors come out as they are; BEGIN or COMMIT failing is storage's.
      if (failure !== undefined && failure.error === error) throw error
      throw toStorageError(this.name, this.#shared.dialect, error)
    }
  }

  /**
   * A savepoint inside a running transaction (the caller's, or ours when calls nest), as SQL on
   * the transaction's connection: every supported database spells the commands alike.
   */
  async #savepoint<R>(trx: H, work: (adapter: RelationAdapter) => Promise<R>, joinable: boolean): Promise<R> {
    const name = `throughline_${String(++this.#shared.savepoints)}`
    const command = async (text: string): Promise<void> => {
      try {
        await this.#shared.driver.prepare(trx, fragment(text)).run()
      } catch (error) {
        throw toStorageError(this.name, this.#shared.dialect, error)
      }
    }
    await command(`SAVEPOINT ${name}`)
    let result: R
    try {
      result = await this.#inScope(trx, work, joinable)
    } catch (error) {
      // Undo only this call; the caller's transaction stays usable (on PostgreSQL, the failed
      // statement's abort is lifted too). If even that fails, the call's own error is the news.
      try {
        await command(`ROLLBACK TO SAVEPOINT ${name}`)
        await command(`RELEASE SAVEPOINT ${name}`)
      } catch {
        // The connection is gone or the transaction already aborted: the caller learns it next.
      }
      throw error
    }
    await command(`RELEASE SAVEPOINT ${name}`)
    return result
  }

  async probeLinks({ link, source, targets, scope }: ProbeLinksInput): Promise<ProbeLinksResult> {
    const db = this.#executor()
    const { dialect } = this.#shared
    const target = link.target
    const sourceCondition = dialect.keysIn(`${L}.${link.sourceColumn}`, [source], link.source.keyType)
    const sourceRowWhere = dialect.keysIn(`${S}.${link.source.primaryKey}`, [source], link.source.keyType)
    const probe = new ProbeRows(target.keyType)
    const size = this.#keysPerStatement(target.keyType, 2 * dialect.bindsPerKey(link.source.keyType), targets)
    // The source row, as one more row of the first statement, its columns the given literals:
    // it is there when the source exists.
    const sourceRow = (columns: readonly (readonly [string, string])[]): SqlFragment =>
      joinFragments(
        [
          fragment(`SELECT ${columns.map(([, literal]) => `${literal} AS ??`).join(', ')} FROM ?? AS ?? WHERE `, ...columns.map(([column]) => column), link.source.table, S),
          sourceRowWhere,
        ],
        '',
      )

    if (scope === 'targets') {
      for (const [index, chunk] of chunks(targets, size).entries()) {
        const parts = [
          fragment('SELECT '),
          this.#keyColumn(`${T}.${target.primaryKey}`, target.keyType, 'k'),
          fragment(', ?? AS ??, 0 AS ?? FROM ?? AS ?? LEFT JOIN ?? AS ?? ON ?? = ?? AND (', `${L}.${link.targetColumn}`, 'linked', 'src', target.table, T, link.table, L, `${L}.${link.targetColumn}`, `${T}.${target.primaryKey}`),
          sourceCondition,
          fragment(') WHERE '),
          dialect.keysIn(`${T}.${target.primaryKey}`, chunk, target.keyType),
        ]
        if (index === 0) parts.push(fragment(' UNION ALL '), sourceRow([['k', 'NULL'], ['linked', 'NULL'], ['src', '1']]))
        const rows = await this.#rows(db, joinFragments(parts, ''))
        probe.addTargetRows(rows)
      }
      return probe.result(targets, 'targets')
    }

    // Scope 'all': the linked keys of source, the source row and the existing keys among
    // targets, in one UNION ALL (the first chunk carries the linked part).
    const chunked = targets.length === 0 ? [[]] : chunks(targets, size)
    for (const [index, chunk] of chunked.entries()) {
      const existence = joinFragments(
        [
          fragment('SELECT 0 AS ??, ', 'linked'),
          this.#keyColumn(`${T}.${target.primaryKey}`, target.keyType, 'k'),
          fragment(', NULL AS ?? FROM ?? AS ?? WHERE ', 'ord', target.table, T),
          dialect.keysIn(`${T}.${target.primaryKey}`, chunk, target.keyType),
        ],
        '',
      )
      let statement = existence
      if (index === 0) {
        const parts = [
          fragment('SELECT 1 AS ??, ', 'linked'),
          this.#keyColumn(`${L}.${link.targetColumn}`, target.keyType, 'k'),
          link.primaryKey === undefined ? fragment(', NULL AS ??', 'ord') : fragment(', ?? AS ??', `${L}.${link.primaryKey}`, 'ord'),
          fragment(' FROM ?? AS ?? WHERE ', link.table, L),
          sourceCondition,
          // linked = 2: the source row exists.
          fragment(' UNION ALL '),
          sourceRow([['linked', '2'], ['k', 'NULL'], ['ord', 'NULL']]),
        ]
        if (chunk.length > 0) parts.push(fragment(' UNION ALL '), existence)
        statement = joinFragments(parts, '')
      }
      probe.addAllRows(await this.#rows(db, statement))
    }
    return probe.result(targets, 'all')
  }

  async insertLinks(input: InsertLinksInput): Promise<number | undefined> {
    const { link, pairs, values } = input
    const db = this.#executor()
    const { dialect } = this.#shared
    const extra: Row = {}
    for (const [column, value] of Object.entries(values)) if (value !== undefined) extra[column] = value
    if (dialect.insertPairs !== undefined) {
      // One statement whatever the number of pairs, which inserts only pairs whose rows exist.
      const insert = dialect.insertPairs(link, pairs, extra, input.refuseMissing === true ? this.#shared.foreignKeys.insertGuard(link) : undefined)
      const result = await this.#alone(db, () => this.#statement(db, insert))
      // A driver that leaves the count out (kysely-pglite-dialect does when no row changed) inserted none.
      return input.count === true ? (result.affected ?? 0) : undefined
    }
    // MySQL: multi-row VALUES, pairs in the order given (sorted: concurrent adds take their
    // index locks in one order), chunked under the bind and packet limits.
    const extraColumns = Object.keys(extra)
    const columns = extraColumns.length + 2
    let size = Math.floor(this.#shared.maxBindParameters / columns)
    if (Number.isFinite(dialect.maxStatementBytes)) {
      const rowBytes =
        Object.values(extra).reduce<number>((sum, value) => sum + inlinedBytes(value), 16) +
        largestInlined(pairs.map(([source]) => source)) +
        largestInlined(pairs.map(([, target]) => target))
      size = Math.min(size, Math.floor(dialect.maxStatementBytes / rowBytes))
    }
    const parts = chunks(pairs, size)
    if (parts.length > 1 && !this.#inOwnTransaction()) return this.transaction((tx) => tx.insertLinks(input), ALONE)
    // The foreign key compares string keys by the column's collation ('ALPHA' for 'alpha'):
    // look them up exactly first.
    await this.#assertExactKeys(db, link, pairs)
    const row = `(${['?', '?', ...extraColumns.map(() => '?')].join(', ')})`
    const extraValues = extraColumns.map((column) => extra[column])
    for (const chunk of parts) {
      const insert = fragment(
        `INSERT INTO ?? (${['??', '??', ...extraColumns.map(() => '??')].join(', ')}) VALUES ${chunk.map(() => row).join(', ')}` +
          (link.unique ? ' ON DUPLICATE KEY UPDATE ?? = ??' : ''),
        link.table,
        link.sourceColumn,
        link.targetColumn,
        ...extraColumns,
        ...chunk.flatMap(([source, target]) => [source, target, ...extraValues]),
        // INSERT IGNORE would also turn foreign-key failures into warnings: a no-op update on
        // a duplicate key ignores only duplicates.
        ...(link.unique ? [link.sourceColumn, link.sourceColumn] : []),
      )
      await this.#alone(db, () => this.#statement(db, insert))
    }
    // A duplicate's no-op update counts as an affected row: the count cannot be told.
    return undefined
  }

  async deleteLinks(input: DeleteLinksInput): Promise<number> {
    const { link, source, targets, mirror, keep } = input
    const db = this.#executor()
    const { dialect } = this.#shared
    const { sourceColumn, targetColumn } = link
    const remove = async (where: SqlFragment): Promise<number> => {
      const result = await this.#alone(db, () => this.#statement(db, joinFragments([fragment('DELETE FROM ?? WHERE ', link.table), where], '')))
      return result.affected ?? 0
    }
    if (targets === undefined && keep !== undefined && !mirror) {
      // set()'s one DELETE: the list travels whole (one parameter on SQLite and PostgreSQL, the
      // only databases whose foreign keys throughline trusts), since NOT IN cannot be cut up.
      const kept = dialect.keysIn(targetColumn, keep, link.target.keyType)
      return remove(and(dialect.keysIn(sourceColumn, [source], link.source.keyType), joinFragments([fragment('NOT ('), kept, fragment(')')], '')))
    }
    if (targets === undefined) {
      const forward = dialect.keysIn(sourceColumn, [source], link.source.keyType)
      // A symmetrical relation is a self relation: both columns hold keys of the same model.
      return remove(mirror ? or(forward, dialect.keysIn(targetColumn, [source], link.target.keyType)) : forward)
    }
    const sides = mirror ? 2 : 1
    const fixed = dialect.bindsPerKey(link.source.keyType) * sides
    const parts = chunks(targets, this.#keysPerStatement(link.target.keyType, fixed, targets) / sides)
    // Atomic on its own: chunks outside a transaction of ours get one of their own.
    if (parts.length > 1 && !this.#inOwnTransaction()) return this.transaction((tx) => tx.deleteLinks(input), ALONE)
    let deleted = 0
    for (const chunk of parts) {
      const forward = and(dialect.keysIn(sourceColumn, [source], link.source.keyType), dialect.keysIn(targetColumn, chunk, link.target.keyType))
      deleted += await remove(
        mirror ? or(forward, and(dialect.keysIn(targetColumn, [source], link.target.keyType), dialect.keysIn(sourceColumn, chunk, link.source.keyType))) : forward,
      )
    }
    return deleted
  }

  /** Runs one statement; outside a transaction, runs it again after a conflict, as a transaction of ours would be. */
  #alone<R>(db: H, run: () => Promise<R>): Promise<R> {
    return this.#inAnyTransaction() ? run() : this.#retryingConflicts(run)
  }

  async selectTargets(input: SelectTargetsInput): Promise<Row[]> {
    const db = this.#executor()
    return this.#selectRows(db, [], this.#targetsFrom(input), this.#page(input.link.target, T, input.query, input.link), T, input.link.target)
  }

  async selectLinkedTargets(input: SelectTargetsInput): Promise<LinkedRow[]> {
    const db = this.#executor()
    const { link } = input
    // The join table's columns beside the target's; link keys as text when 64-bit, as selectThroughRows reads them.
    const aliases = throughAliases(link)
    const extra = aliases.map(({ column, alias, keyType }) => this.#keyColumn(`${L}.${column}`, keyType ?? 'integer', alias))
    const rows = await this.#selectRows(db, extra, this.#targetsFrom(input), this.#page(link.target, T, input.query, link), T, link.target)
    return rows.map((row) => splitLinkedRow(row, aliases))
  }

  async selectTargetKeys(input: SelectTargetsInput): Promise<Key[]> {
    const db = this.#executor()
    const { primaryKey, keyType } = input.link.target
    const statement = joinFragments([fragment('SELECT '), this.#keyColumn(`${T}.${primaryKey}`, keyType, 'k'), this.#targetsFrom(input), this.#page(input.link.target, T, input.query, input.link)], '')
    return (await this.#rows(db, statement)).map((row) => readStoredKey(row.k, keyType))
  }

  async countTargets(input: SelectTargetsInput): Promise<number> {
    const joined = joinFragments([fragment('SELECT COUNT(*) AS ??', 'count'), this.#targetsFrom(input)], '')
    const { link, source, query } = input
    const guard = query.where.length === 0 && query.exclude.length === 0 ? await this.#countGuard(link) : false
    if (guard === false) return this.#count(joined)
    // Every link row has its target row (see countGuard): the join table's index alone, while that holds.
    const sourceCondition = this.#shared.dialect.keysIn(`${L}.${link.sourceColumn}`, [source], link.source.keyType)
    return this.#count(guardedLinkCount(guard, link, L, sourceCondition, joined, this.#shared.dialect.integrityQuery !== undefined))
  }

  async selectThroughRows({ link, source, targets }: SelectThroughRowsInput): Promise<Row[]> {
    const db = this.#executor()
    const { dialect } = this.#shared
    const sourceCondition = dialect.keysIn(link.sourceColumn, [source], link.source.keyType)
    const size = this.#keysPerStatement(link.target.keyType, dialect.bindsPerKey(link.source.keyType), targets ?? [])
    const parts = targets === undefined ? [undefined] : chunks(targets, size)
    // 64-bit link columns are also read as text, exactly (see keyTextType).
    const exactColumns = (
      [
        [link.sourceColumn, link.source, KEY_TEXT],
        [link.targetColumn, link.target, `${KEY_TEXT}_target`],
      ] as const
    ).filter(([, spec]) => spec.keyType === 'bigint')
    const rows: Row[] = []
    for (const chunk of parts) {
      const where = chunk === undefined ? sourceCondition : and(sourceCondition, dialect.keysIn(link.targetColumn, chunk, link.target.keyType))
      const statement = joinFragments(
        [
          fragment('SELECT *'),
          ...exactColumns.map(([column, spec, alias]) => joinFragments([fragment(', '), this.#keyColumn(column, spec.keyType, alias)], '')),
          fragment(' FROM ?? WHERE ', link.table),
          where,
          link.primaryKey === undefined ? fragment('') : fragment(' ORDER BY ?? ASC', link.primaryKey),
        ],
        '',
      )
      rows.push(...(await this.#rows(db, statement)))
    }
    if (parts.length > 1 && link.primaryKey !== undefined) {
      const primaryKey = link.primaryKey
      rows.sort((a, b) => compareOrd(a[primaryKey], b[primaryKey]))
    }
    return rows.map((stored) => {
      let row = stored
      row[link.sourceColumn] = readStoredKey(row[link.sourceColumn], link.source.keyType)
      row[link.targetColumn] = readStoredKey(row[link.targetColumn], link.target.keyType)
      for (const [column, spec, alias] of exactColumns) {
        row[column] = readStoredKey(row[alias], spec.keyType)
        row = withoutColumn(row, alias)
      }
      return row
    })
  }

  async prefetchTargets({ link, sources, query }: PrefetchTargetsInput): Promise<PrefetchedRow[]> {
    const db = this.#executor()
    const { dialect } = this.#shared
    const found: PrefetchedRow[] = []
    // Each source falls in one chunk, so each source's rows keep the query's order.
    for (const chunk of chunks(sources, this.#keysPerStatement(link.source.keyType, conditionBinds(query.where), sources))) {
      const sourceCondition = dialect.keysIn(`${L}.${link.sourceColumn}`, chunk, link.source.keyType)
      const from = this.#linkedTargets(link, sourceCondition, query.where)
      const extra = [this.#keyColumn(`${L}.${link.sourceColumn}`, link.source.keyType, SOURCE_KEY)]
      const { limit } = query
      let rows: Row[]
      if (limit === undefined) {
        // By source, then the key, where that is the order asked for: the join table's index order.
        const byIndex = prefetchKeyOrder(link, query.orderBy, this.#shared.dialect.name, L)
        const order = byIndex !== undefined ? joinFragments([fragment(' ORDER BY '), byIndex], '') : this.#orderBy(T, link.target, query.orderBy, link)
        rows = await this.#selectRows(db, extra, from, order, T, link.target)
      } else {
        // The first `limit` rows of each source, in one statement: numbered per source in the
        // query's order by a window function (PostgreSQL, MySQL 8, MariaDB 10.2, SQLite 3.25).
        const rank = joinFragments([fragment('ROW_NUMBER() OVER (PARTITION BY ??', `${L}.${link.sourceColumn}`), this.#orderBy(T, link.target, query.orderBy, link), fragment(') AS ??', RANK)], '')
        const ranked = (select: SqlFragment): SqlFragment =>
          joinFragments([fragment('SELECT * FROM ('), select, fragment(') AS ?? WHERE ?? <= ? ORDER BY ?? ASC', RANKED, `${RANKED}.${RANK}`, limit, `${RANKED}.${RANK}`)], '')
        rows = (await this.#selectRows(db, [...extra, rank], from, fragment(''), T, link.target, ranked)).map((row) => withoutColumn(row, RANK))
      }
      for (const row of rows) found.push({ source: readStoredKey(row[SOURCE_KEY], link.source.keyType), row: withoutColumn(row, SOURCE_KEY) })
    }
    return found
  }

  async countLinks({ link, sources, related, through, distinct }: CountLinksInput): Promise<LinkCount[]> {
    const db = this.#executor()
    const { dialect } = this.#shared
    const { target } = link
    const counted: LinkCount[] = []
    const guard = dialect.name === 'sqlite' && related.length === 0 && through.length === 0 ? await this.#countGuard(link) : false
    if (guard !== false) {
      const statement = guardedSqliteLinkCounts(guard, link, keysJson(sources, link.source.keyType), SOURCE_KEY, distinct)
      return (await this.#rows(db, statement)).map((row) => ({ source: readStoredKey(row[SOURCE_KEY], link.source.keyType), count: Number(row.count) }))
    }
    const sourceColumn = `${L}.${link.sourceColumn}`
    // COUNT(DISTINCT target) for Django's Count(distinct=True): a pair stored twice counts once.
    const count = distinct ? fragment('COUNT(DISTINCT ??) AS ??', `${L}.${link.targetColumn}`, 'count') : fragment('COUNT(*) AS ??', 'count')
    for (const chunk of chunks(sources, this.#keysPerStatement(link.source.keyType, conditionBinds([...related, ...through]), sources))) {
      const where = allOf([
        dialect.keysIn(sourceColumn, chunk, link.source.keyType),
        ...through.map((condition) => conditionFragment(dialect, L, linkUuidColumns(link), condition)),
        ...related.map((condition) => conditionFragment(dialect, T, uuidColumns(target), condition)),
      ])!
      const statement = joinFragments(
        [
          fragment('SELECT '),
          this.#keyColumn(sourceColumn, link.source.keyType, SOURCE_KEY),
          fragment(', '),
          count,
          fragment(' FROM ?? AS ?? INNER JOIN ?? AS ?? ON ?? = ?? WHERE ', link.table, L, target.table, T, `${T}.${target.primaryKey}`, `${L}.${link.targetColumn}`),
          where,
          fragment(' GROUP BY ??', sourceColumn),
        ],
        '',
      )
      // pg returns COUNT(*) (a bigint) as a string.
      for (const row of await this.#rows(db, statement)) counted.push({ source: readStoredKey(row[SOURCE_KEY], link.source.keyType), count: Number(row.count) })
    }
    return counted
  }

  async selectSources(input: SelectSourcesInput): Promise<Row[]> {
    const db = this.#executor()
    return this.#selectRows(db, [], this.#sourcesFrom(input), this.#page(input.link.source, S, input.query), S, input.link.source)
  }

  async selectSourceKeys(input: SelectSourcesInput): Promise<Key[]> {
    const db = this.#executor()
    const { primaryKey, keyType } = input.link.source
    const statement = joinFragments([fragment('SELECT '), this.#keyColumn(`${S}.${primaryKey}`, keyType, 'k'), this.#sourcesFrom(input), this.#page(input.link.source, S, input.query)], '')
    return (await this.#rows(db, statement)).map((row) => readStoredKey(row.k, keyType))
  }

  async countSources(input: SelectSourcesInput): Promise<number> {
    return this.#count(joinFragments([fragment('SELECT COUNT(*) AS ??', 'count'), this.#sourcesFrom(input)], ''))
  }

  async insertTarget({ target, values }: InsertTargetInput): Promise<Row> {
    const db = this.#executor()
    const { dialect } = this.#shared
    const row: Row = {}
    for (const [column, value] of Object.entries(values)) {
      if (!isIdentifier(column) || (target.columns !== undefined && !target.columns.includes(column))) {
        throw new UnknownColumnError(`${target.model} has no column ${formatValue(column)}.`)
      }
      if (value !== undefined) row[column] = value
    }
    const given = row[target.primaryKey]
    if (given === undefined || given === null) {
      // As the memory adapter: only integer keys are generated.
      if (target.keyType !== 'integer' && target.keyType !== 'bigint') {
        throw new InvalidArgumentError(`${target.model} rows need a "${target.primaryKey}" value: only integer keys are generated.`)
      }
    } else {
      row[target.primaryKey] = coerceSpecKey(given, target)
    }
    const columns = Object.keys(row)
    const insert =
      columns.length === 0
        ? fragment(dialect.name === 'mysql' ? 'INSERT INTO ?? () VALUES ()' : 'INSERT INTO ?? DEFAULT VALUES', target.table)
        : fragment(`INSERT INTO ?? (${columns.map(() => '??').join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`, target.table, ...columns, ...columns.map((column) => row[column]))
    let stored: Row | undefined
    if (dialect.name !== 'mysql' || (await this.#supportsReturning(db))) {
      // MariaDB 10.5+ has INSERT ... RETURNING too.
      stored = (await this.#rows(db, joinFragments([insert, fragment(' RETURNING *')], '')))[0]
    } else {
      // MySQL has no RETURNING: insert, then read the row back as stored (defaults included).
      const result = await this.#statement(db, insert)
      const key = row[target.primaryKey] ?? result.insertId
      stored = (await this.#rows(db, joinFragments([fragment('SELECT * FROM ?? WHERE ', target.table), dialect.keysIn(target.primaryKey, [key], target.keyType)], '')))[0]
    }
    if (stored === undefined) throw new StorageError(this.name, `the new ${target.model} row could not be read back from "${target.table}".`)
    // A given key is stored as given (and a 64-bit one could come back rounded); a generated one is read back.
    const key = row[target.primaryKey]
    stored[target.primaryKey] = readStoredKey(key === undefined ? stored[target.primaryKey] : key, target.keyType)
    return stored
  }

  async updateTargets({ target, keys, values }: UpdateTargetsInput): Promise<number> {
    const db = this.#executor()
    const { dialect } = this.#shared
    const changes = Object.entries(values).filter(([, value]) => value !== undefined)
    let changed = 0
    for (const chunk of chunks(keys, this.#keysPerStatement(target.keyType, changes.length, keys))) {
      const where = dialect.keysIn(target.primaryKey, chunk, target.keyType)
      if (changes.length === 0) {
        // Nothing to write: the rows that would have been updated are the rows that exist.
        changed += await this.#count(joinFragments([fragment('SELECT COUNT(*) AS ?? FROM ?? WHERE ', 'count', target.table), where], ''))
      } else {
        const set = fragment(`UPDATE ?? SET ${changes.map(() => '?? = ?').join(', ')} WHERE `, target.table, ...changes.flat())
        const result = await this.#statement(db, joinFragments([set, where], ''))
        changed += result.affected ?? 0
      }
    }
    return changed
  }

  /** What the database's catalog says about `table` (see `RelationAdapter.describeTable`); `undefined` when it does not exist. */
  async describeTable(table: string): Promise<TableDescription | undefined> {
    const read = (text: string, parameters: readonly unknown[]): Promise<CatalogRow[]> => this.#catalog(text, parameters)
    switch (this.#shared.dialect.name) {
      case 'sqlite':
        return describeSqliteTable(read, table)
      case 'pg':
        return describePostgresTable(read, table)
      case 'mysql':
        return describeMysqlTable(read, table)
    }
  }

  /**
   * Whether the database refuses a link row to a missing row by itself (see
   * `RelationAdapter.foreignKeysEnforced`): on SQLite from its pragmas, on PostgreSQL from
   * pg_catalog; `false` on MySQL, where add() keeps its read. Read once per join table and remembered by this
   * adapter and its transactions' adapters.
   */
  async foreignKeysEnforced(link: LinkSpec): Promise<boolean> {
    return (await this.#foreignKeyFacts(link)).insert !== false
  }

  /** What the catalog says of the join table's foreign keys, read once per join table. */
  #foreignKeyFacts(link: LinkSpec): Promise<ForeignKeyFacts> {
    return this.#shared.foreignKeys.get(link, async (query) => (await this.#catalog(query.sql, query.bindings))[0])
  }

  /** The guard of a count of the join table alone, or false (see ForeignKeyFactsCache.countGuard). */
  async #countGuard(link: LinkSpec): Promise<string | false> {
    const { dialect, driver, root } = this.#shared
    if (dialect.countGuard === undefined) return false
    if (dialect.name === 'sqlite') {
      this.#shared.oneConnection ??= driver.oneConnection?.(root) ?? Promise.resolve(false)
      if (!(await this.#shared.oneConnection)) return false
    }
    return this.#shared.foreignKeys.countGuard(link, async (query) => (await this.#catalog(query.sql, query.bindings))[0], this.inTransaction)
  }

  // -------------------------------------------------------------- internals

  /** A catalog read: introspection, as BEGIN is, so not counted as a statement. */
  async #catalog(text: string, parameters: readonly unknown[]): Promise<CatalogRow[]> {
    try {
      return (await this.#shared.driver.prepare(this.#executor(), { sql: text, bindings: [...parameters] }).run()).rows
    } catch (error) {
      throw toStorageError(this.name, this.#shared.dialect, error)
    }
  }

  /** The connection to run on: this adapter's transaction, the one of the current context, or the root. */
  #executor(): H {
    const scope = this.#scope
    if (scope !== undefined) {
      if (!scope.open) throw new InvalidArgumentError(`This ${this.#shared.driver.library} transaction has already finished; use the adapter it was opened from.`)
      return scope.trx
    }
    const joined = current.current() as Scope<H> | undefined
    return joined !== undefined && joined.open && joined.owner === this.#shared.root ? joined.trx : this.#shared.root
  }

  /** Whether statements run in a transaction: one of ours, or the caller's handle is one. */
  #inAnyTransaction(): boolean {
    return this.#inOwnTransaction() || this.#shared.driver.isTransaction(this.#executor())
  }

  /** Whether statements run in a transaction this adapter (or the one it was opened from) began. */
  #inOwnTransaction(): boolean {
    if (this.#scope !== undefined) return true
    const joined = current.current()
    return joined !== undefined && joined.open && joined.owner === this.#shared.root
  }

  /** Runs one statement: counted, logged, with driver errors turned into throughline's. */
  async #statement(db: H, statement: SqlFragment): Promise<SqlResult> {
    const shared = this.#shared
    shared.statements++
    try {
      const prepared = shared.driver.prepare(db, statement)
      shared.log?.({ type: 'statement', adapter: this.name, sql: prepared.sql })
      return await prepared.run()
    } catch (error) {
      throw toStorageError(this.name, shared.dialect, error)
    }
  }

  async #rows(db: H, statement: SqlFragment): Promise<Row[]> {
    return [...(await this.#statement(db, statement)).rows]
  }

  async #count(statement: SqlFragment): Promise<number> {
    const rows = await this.#rows(this.#executor(), statement)
    // pg returns COUNT(*) (a bigint) as a string.
    return Number(rows[0]?.count ?? 0)
  }

  /** Throws `M2M_CONSTRAINT_VIOLATION` when a string key among `pairs` has no row by exact comparison (MySQL/MariaDB only). */
  async #assertExactKeys(db: H, link: LinkSpec, pairs: InsertLinksInput['pairs']): Promise<void> {
    const { dialect } = this.#shared
    const checks = exactKeyChecks(dialect, link, pairs)
    if (checks.length === 0) return
    const size = Math.max(1, this.#keysPerStatement('string', 0, checks.flatMap((check) => check.keys)))
    const found = checks.map(() => new Set<Key>())
    let parts: ExactKeyPart[] = []
    const flush = async (): Promise<void> => {
      if (parts.length === 0) return
      const selects = parts.map((part) => {
        const { table, primaryKey, keyType } = checks[part.check]!.spec
        // The check's index is a small integer of ours, not a value from the caller.
        return joinFragments([fragment(`SELECT ${String(part.check)} AS ??, ?? AS ?? FROM ?? WHERE `, 'c', primaryKey, 'k', table), dialect.keysIn(primaryKey, part.keys, keyType)], '')
      })
      parts = []
      for (const row of await this.#rows(db, joinFragments(selects, ' UNION ALL '))) found[Number(row.c)]?.add(readStoredKey(row.k, 'string'))
    }
    let room = size
    for (const [check, { keys }] of checks.entries()) {
      for (let start = 0; start < keys.length; ) {
        const take = Math.min(room, keys.length - start)
        parts.push({ check, keys: keys.slice(start, start + take) })
        start += take
        room -= take
        if (room === 0) {
          await flush()
          room = size
        }
      }
    }
    await flush()
    for (const [index, check] of checks.entries()) {
      const missing = check.keys.filter((key) => found[index]?.has(key) !== true)
      if (missing.length > 0) throw missingKeysError(this.name, check.spec, missing)
    }
  }

  /** Whether this MySQL-protocol server has INSERT ... RETURNING (MariaDB 10.5+); asked once per database handle, not counted. */
  async #supportsReturning(db: H): Promise<boolean> {
    const root = this.#shared.root
    let known = returningSupport.get(root as object)
    if (known === undefined) {
      known = this.#shared.driver.prepare(db, fragment('SELECT VERSION() AS ??', 'version')).run().then(({ rows }) => {
        const version = typeof rows[0]?.version === 'string' ? rows[0].version : ''
        const [major = 0, minor = 0] = version.split(/[.-]/).map(Number)
        return /mariadb/i.test(version) && (major > 10 || (major === 10 && minor >= 5))
      })
      // A failed probe is asked again next time rather than remembered.
      void known.catch(() => returningSupport.delete(root as object))
      returningSupport.set(root as object, known)
    }
    try {
      return await known
    } catch (error) {
      throw toStorageError(this.name, this.#shared.dialect, error)
    }
  }

  /**
   * Runs `SELECT alias.* [, extra…] <from> <tail>` and returns the rows with their primary key in
   * the model's key type; a 64-bit key is also selected as text, so that it reads back exactly.
   */
  async #selectRows(
    db: H,
    extra: readonly SqlFragment[],
    from: SqlFragment,
    tail: SqlFragment,
    alias: string,
    spec: TableSpec,
    wrap: (select: SqlFragment) => SqlFragment = (select) => select,
  ): Promise<Row[]> {
    const { primaryKey, keyType } = spec
    const exact = keyType === 'bigint'
    const columns = [fragment('??.*', alias), ...extra]
    if (exact) columns.push(this.#keyColumn(`${alias}.${primaryKey}`, keyType, KEY_TEXT))
    const rows = await this.#rows(db, wrap(joinFragments([fragment('SELECT '), joinFragments(columns, ', '), from, tail], '')))
    if (!exact) {
      for (const row of rows) row[primaryKey] = readStoredKey(row[primaryKey], keyType)
      return rows
    }
    return rows.map((row) => {
      row[primaryKey] = readStoredKey(row[KEY_TEXT], keyType)
      return withoutColumn(row, KEY_TEXT)
    })
  }

  /** ` ORDER BY …` on the table aliased `alias`, or nothing. */
  #orderBy(alias: string, spec: TableSpec, orderBy: readonly OrderTerm[], link?: LinkSpec): SqlFragment {
    const { dialect } = this.#shared
    if (orderBy.length === 0) return fragment('')
    // In a target read (`link` given), a numeric key orders by the join table's copy of it (see ordersKeyByLink).
    const key = link !== undefined ? keyOrderColumn(link, dialect.name, L, alias) : `${alias}.${spec.primaryKey}`
    const terms = orderBy.map(({ column, direction, through }) => {
      // A through term (`through__created_at`) orders by the join table's column, aliased L.
      if (through === true) return dialect.orderTerm(`${L}.${column}`, direction)
      return column === spec.primaryKey ? dialect.keyOrderTerm(key, direction, spec.keyType) : dialect.orderTerm(`${alias}.${column}`, direction)
    })
    return joinFragments([fragment(' ORDER BY '), joinFragments(terms, ', ')], '')
  }

  /** ` ORDER BY … LIMIT … OFFSET …`: an offset alone needs a limit on SQLite and MySQL, as knex writes it. */
  #page(
    spec: TableSpec,
    alias: string,
    query: { readonly orderBy: readonly OrderTerm[]; readonly limit: number | undefined; readonly offset: number | undefined },
    link?: LinkSpec,
  ): SqlFragment {
    const parts = [this.#orderBy(alias, spec, query.orderBy, link)]
    const offset = query.offset !== undefined && query.offset > 0 ? query.offset : undefined
    // The limit in the text, the offset bound: see limitLiteral.
    if (query.limit !== undefined) parts.push(fragment(` LIMIT ${limitLiteral(query.limit)}`))
    else if (offset !== undefined) {
      const { name } = this.#shared.dialect
      // No limit: the largest each database takes (PostgreSQL needs none).
      if (name === 'sqlite') parts.push(fragment(' LIMIT -1'))
      else if (name === 'mysql') parts.push(fragment(' LIMIT 18446744073709551615'))
    }
    if (offset !== undefined) parts.push(fragment(' OFFSET ?', offset))
    return joinFragments(parts, '')
  }

  /** Selects a key column as `alias`: as text for 64-bit keys, so that it reads back exactly. */
  #keyColumn(column: string, keyType: KeyType, alias: string): SqlFragment {
    if (keyType !== 'bigint') return fragment('?? AS ??', column, alias)
    return fragment(`CAST(?? AS ${this.#shared.dialect.keyTextType}) AS ??`, column, alias)
  }

  /** How many of `keys` fit in one statement beside `fixed` other bound values, under the bind and size limits. */
  #keysPerStatement(keyType: KeyType, fixed: number, keys: readonly Key[]): number {
    const { dialect, maxBindParameters } = this.#shared
    // A list sent as one parameter binds the same however long it is: one statement, up to a
    // bound that keeps each statement's parameter a few megabytes.
    if (dialect.keyListInOneParameter) return MAX_KEYS_PER_LIST
    const perKey = dialect.bindsPerKey(keyType)
    const byParameters = Math.floor((maxBindParameters - fixed) / perKey)
    if (!Number.isFinite(dialect.maxStatementBytes)) return byParameters
    const largest = largestInlined(keys)
    return Math.min(byParameters, Math.floor(dialect.maxStatementBytes / ((largest + 16) * perKey)))
  }

  /** ` FROM target t JOIN link l … WHERE …` of the targets linked from one source. */
  #targetsFrom({ link, source, query }: SelectTargetsInput): SqlFragment {
    const sourceCondition = this.#shared.dialect.keysIn(`${L}.${link.sourceColumn}`, [source], link.source.keyType)
    return this.#linkedTargets(link, sourceCondition, query.where, query.exclude)
  }

  /** The target table `T` joined to the link table `L`, for the sources in `sourceCondition`. */
  #linkedTargets(link: LinkSpec, sourceCondition: SqlFragment, where: readonly Condition[], exclude: readonly (readonly Condition[])[] = []): SqlFragment {
    const { dialect } = this.#shared
    const target = link.target
    const uuid = uuidColumns(target)
    const conditions = allOf([
      sourceCondition,
      ...where.map((condition) => conditionFragment(dialect, T, uuid, condition)),
      ...exclude.map((group) => excludedFragment(dialect, T, uuid, group)),
    ])
    return joinFragments(
      [fragment(' FROM ?? AS ?? INNER JOIN ?? AS ?? ON ?? = ?? WHERE ', target.table, T, link.table, L, `${L}.${link.targetColumn}`, `${T}.${target.primaryKey}`), conditions ?? fragment('1 = 1')],
      '',
    )
  }

  /**
   * ` FROM source s …`: the source reads, as a join (one row per matching link; a LEFT JOIN when
   * rows with no link match too), or with EXISTS / NOT EXISTS (each row once).
   */
  #sourcesFrom({ link, query }: SelectSourcesInput): SqlFragment {
    const { dialect } = this.#shared
    const { source, target } = link
    const linkedConditions = ({ related, through }: LinkConditions): SqlFragment[] => [
      ...through.map((condition) => conditionFragment(dialect, L, linkUuidColumns(link), condition)),
      ...related.map((condition) => conditionFragment(dialect, T, uuidColumns(target), condition)),
    ]
    const ofSource = fragment('?? = ??', `${L}.${link.sourceColumn}`, `${S}.${source.primaryKey}`)
    const own = query.where.map((condition) => conditionFragment(dialect, S, uuidColumns(source), condition))
    const parts = [fragment(' FROM ?? AS ??', source.table, S)]
    let where: SqlFragment | undefined
    const [first] = query.links
    if (query.mode === 'join' && first !== undefined) {
      const joinType = first.unlinked ? 'LEFT' : 'INNER'
      parts.push(
        fragment(` ${joinType} JOIN ?? AS ?? ON ?? = ??`, link.table, L, `${L}.${link.sourceColumn}`, `${S}.${source.primaryKey}`),
        fragment(` ${joinType} JOIN ?? AS ?? ON ?? = ??`, target.table, T, `${T}.${target.primaryKey}`, `${L}.${link.targetColumn}`),
      )
      if (!first.unlinked) where = allOf([...linkedConditions(first), ...own])
      else {
        // A row with no link row comes once, with nulls for L; a link to a missing row never matches.
        const linked = allOf([fragment('?? IS NOT NULL', `${T}.${target.primaryKey}`), ...linkedConditions(first)])!
        where = allOf([or(fragment('?? IS NULL', `${L}.${link.sourceColumn}`), linked), ...own])
      }
    } else {
      const exists = (conditions: LinkConditions, negated: boolean): SqlFragment =>
        joinFragments(
          [
            fragment(
              `${negated ? 'NOT EXISTS' : 'EXISTS'} (SELECT 1 FROM ?? AS ?? INNER JOIN ?? AS ?? ON ?? = ?? WHERE `,
              link.table,
              L,
              target.table,
              T,
              `${T}.${target.primaryKey}`,
              `${L}.${link.targetColumn}`,
            ),
            allOf([ofSource, ...linkedConditions(conditions)])!,
            fragment(')'),
          ],
          '',
        )
      const noLink = joinFragments([fragment('NOT EXISTS (SELECT 1 FROM ?? AS ?? WHERE ', link.table, L), ofSource, fragment(')')], '')
      // The common read, one entry met by a link, keeps its plain EXISTS / NOT EXISTS.
      if (query.links.length === 1 && first !== undefined && !first.unlinked) where = allOf([exists(first, query.mode === 'not-exists'), ...own])
      else {
        const met = allOf(query.links.map((conditions) => (conditions.unlinked ? or(exists(conditions, false), noLink) : exists(conditions, false)))) ?? fragment('1 = 1')
        where = allOf([query.mode === 'exists' ? met : { sql: `NOT (${met.sql})`, bindings: met.bindings }, ...own])
      }
    }
    if (where !== undefined) parts.push(fragment(' WHERE '), where)
    return joinFragments(parts, '')
  }
}

// An operation run outside a transaction: retried as a write call's transaction is.
const ALONE: TransactionOptions = { retry: true }

// Whether a MySQL-protocol server has INSERT ... RETURNING, asked once per database handle.
const returningSupport = new WeakMap<object, Promise<boolean>>()

