import { AsyncLocalStorage } from 'node:async_hooks'
import { sql, type Kysely, type QueryResult, type Transaction } from 'kysely'
import type {
  AdapterCapabilities,
  Condition,
  DeleteLinksInput,
  InsertLinksInput,
  InsertTargetInput,
  Key,
  KeyType,
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
import { withoutColumn } from '../../adapter/without-column.js'
import { InvalidArgumentError, StorageError, UnknownColumnError } from '../../errors/throughline-error.js'
import { coerceSpecKey, readStoredKey } from '../../model/coerce-key.js'
import { formatValue } from '../../model/define-model.js'
import { isIdentifier } from '../../model/identifier.js'
import type { TableDescription } from '../../schema/table-description.js'
import { describeSqliteTable } from '../sqlite/describe-sqlite-table.js'
import { chunks, inlinedBytes, largestInlined } from '../sql/chunks.js'
import { compareOrd } from '../sql/compare-ord.js'
import { ProbeRows } from '../sql/probe-rows.js'
import { describeMysqlTable, describePostgresTable, type CatalogRow } from '../sql/describe-sql-table.js'
import { exactKeyChecks, missingKeysError, type ExactKeyPart } from '../sql/exact-keys.js'
import { mysqlDialect, pgDialect, sqliteDialect, type SqlDialect, type SqlFragment } from '../sql/sql-dialect.js'
import { toStorageError } from '../sql/to-storage-error.js'
import { conditionBinds, linkUuidColumns, uuidColumns } from '../sql/uuid-columns.js'
import { toRaw } from './kysely-sql.js'
import { conditionFragment } from '../sql/condition-fragment.js'
import { allOf, and, fragment, joinFragments, or } from '../sql/sql-fragment.js'

/** The databases the Kysely adapter supports: `'sqlite'`, `'pg'` (PostgreSQL) and `'mysql'` (MySQL/MariaDB). */
export type KyselyDialectName = 'sqlite' | 'pg' | 'mysql'

/** Options of {@link KyselyAdapter}. */
export interface KyselyAdapterOptions {
  /**
   * The database, when the Kysely instance's dialect is not one of Kysely's own (`SqliteDialect`,
   * `PostgresDialect`, `MysqlDialect`) nor built on their adapters: a third-party dialect for
   * a database that speaks SQLite's, PostgreSQL's or MySQL's SQL. Default: read from the
   * instance's dialect adapter.
   */
  readonly dialect?: KyselyDialectName
  /**
   * The most bind parameters one statement may carry, when the database's is lower than the
   * dialect's default (30 000 on SQLite, 65 535 on PostgreSQL and MySQL).
   */
  readonly maxBindParameters?: number
  /**
   * How a call is run again after the database aborted its transaction for a conflict with
   * another (PostgreSQL `40001`/`40P01`, MySQL/MariaDB deadlocks and lock wait timeouts,
   * SQLite busy): see {@link RetryPolicy}. Default: `DEFAULT_RETRY_POLICY`.
   */
  readonly retry?: Partial<RetryPolicy>
  /**
   * Receives every statement the adapter sends (its SQL, without values) and every call it runs
   * again after a conflict. Off by default; `DEBUG=throughline*` prints the same to standard error.
   */
  readonly log?: AdapterLogger
}

// The adapter works on any database interface: its statements name tables from the relation's
// definitions, not from the user's `DB` type.
type AnyKysely = Kysely<unknown>

/** A transaction opened by a {@link KyselyAdapter}, as seen by the code that runs inside it. */
interface Scope {
  /** The Kysely instance (or caller's transaction) the opening adapter was built on. */
  readonly owner: AnyKysely
  readonly trx: AnyKysely
  open: boolean
}

/** What a {@link KyselyAdapter} shares with the transaction adapters it opens. */
interface Shared {
  readonly root: AnyKysely
  readonly dialect: SqlDialect
  readonly name: string
  readonly maxBindParameters: number
  readonly retry: RetryPolicy
  readonly log: AdapterLogger | undefined
  statements: number
  savepoints: number
}

// The transaction of the current async context: code that runs inside a call's transaction (an
// m2m listener) and uses the root adapter joins it instead of waiting for another connection
// (with SQLite's single connection, Kysely's mutex would make that wait endless).
const current = new AsyncLocalStorage<Scope>()

// Aliases of the tables in every statement: a self relation joins a table to itself.
const T = 't'
const L = 'l'
const S = 's'
const SOURCE_KEY = '__throughline_source'
const KEY_TEXT = '__throughline_key'

const DIALECTS: Readonly<Record<KyselyDialectName, SqlDialect>> = { sqlite: sqliteDialect, pg: pgDialect, mysql: mysqlDialect }

// Kysely's own dialect adapters, by class name: read up the prototype chain, so that a
// dialect built on them (PGlite's, libSQL's) is recognised, and a second copy of kysely in
// node_modules (an ESM and a CommonJS one) too, where `instanceof` would fail.
const ADAPTER_CLASSES: Readonly<Record<string, KyselyDialectName>> = { SqliteAdapter: 'sqlite', PostgresAdapter: 'pg', MysqlAdapter: 'mysql' }

/**
 * A {@link RelationAdapter} over a Kysely instance: SQLite (`SqliteDialect` on better-sqlite3),
 * PostgreSQL (`PostgresDialect` on pg) and MySQL/MariaDB (`MysqlDialect` on mysql2), with the
 * statements, limits and semantics of the Knex adapter. Pass your `Kysely<DB>`, or a transaction
 * of yours (`db.transaction().execute((trx) => …)`) to run throughline's calls inside it: each
 * call then takes a savepoint, so that a failed call undoes only its own writes and leaves your
 * transaction usable. Every statement is built with Kysely's `sql` tag: identifiers quoted by
 * Kysely's compiler, every value a bound parameter.
 *
 * @example
 * ```ts
 * import { Kysely, SqliteDialect } from 'kysely'
 * import Database from 'better-sqlite3'
 * import { KyselyAdapter } from 'throughline/kysely'
 *
 * const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: new Database('app.db') }) })
 * const favorites = manyToMany(User, Interview, { name: 'favorite_interviews', adapter: new KyselyAdapter(db) })
 * await favorites.of(user).toggle(interview)
 *
 * // Inside your own transaction: rolled back with it.
 * await db.transaction().execute(async (trx) => {
 *   await trx.insertInto('audit').values({ action: 'like' }).execute()
 *   await favorites.using(new KyselyAdapter(trx)).of(user).add(interview)
 * })
 * ```
 */
export class KyselyAdapter<DB = unknown> implements RelationAdapter {
  readonly name: string
  readonly capabilities: AdapterCapabilities
  readonly #shared: Shared
  readonly #scope: Scope | undefined

  // Transaction<DB> is named beside Kysely<DB> so that a caller's transaction infers its DB
  // (inferred from Kysely<DB> alone, a Transaction<DB> gave a widened one that did not fit).
  constructor(db: Kysely<DB> | Transaction<DB>, options?: KyselyAdapterOptions)
  /** @internal */
  constructor(db: Kysely<DB> | Transaction<DB>, options: KyselyAdapterOptions, shared: Shared, scope: Scope)
  constructor(db: Kysely<DB> | Transaction<DB>, options: KyselyAdapterOptions = {}, shared?: Shared, scope?: Scope) {
    if (shared === undefined) {
      const given: unknown = db
      if (typeof given !== 'object' || given === null || typeof (given as Partial<AnyKysely>).executeQuery !== 'function' || typeof (given as Partial<AnyKysely>).getExecutor !== 'function') {
        throw new InvalidArgumentError('KyselyAdapter takes a Kysely instance (or a Kysely transaction): new KyselyAdapter(db).')
      }
      const root = db as unknown as AnyKysely
      const dialect = DIALECTS[options.dialect ?? kyselyDialectName(root)]
      const max = options.maxBindParameters ?? dialect.maxBindParameters
      if (!Number.isSafeInteger(max) || max < 16) {
        throw new InvalidArgumentError(`maxBindParameters must be a whole number of at least 16; got ${formatValue(max)}.`)
      }
      const name = `kysely(${dialect.name})`
      shared = {
        root,
        dialect,
        name,
        maxBindParameters: Math.min(max, dialect.maxBindParameters),
        retry: retryPolicy(options.retry),
        log: adapterLogger(options.log, name),
        statements: 0,
        savepoints: 0,
      }
    }
    this.#shared = shared
    this.#scope = scope
    this.name = shared.name
    this.capabilities = Object.freeze({ transactions: true, maxBindParameters: shared.maxBindParameters, countsInserts: shared.dialect.countsInserts })
  }

  /** Statements sent by this adapter and the transactions it opened (BEGIN, COMMIT and savepoints not counted). */
  get statementCount(): number {
    return this.#shared.statements
  }

  /** Whether statements run in a transaction: the caller's (a Kysely transaction passed in) or one this adapter opened. */
  get inTransaction(): boolean {
    return this.#executor().isTransaction
  }

  // -------------------------------------------------------------- contract

  async transaction<R>(work: (adapter: RelationAdapter) => Promise<R>, options: TransactionOptions = {}): Promise<R> {
    const outer = this.#executor()
    // Only a transaction of our own can be made serializable, and run again: inside the
    // caller's transaction (or ours), this is a savepoint.
    const own = !outer.isTransaction
    const serializable = own && options.isolation === 'serializable' && this.#shared.dialect.name !== 'sqlite'
    const once = (): Promise<R> => (own ? this.#transactionOnce(outer, work, serializable) : this.#savepoint(outer, work))
    return own && options.retry === true ? this.#retryingConflicts(once) : once()
  }

  #retryingConflicts<R>(run: () => Promise<R>): Promise<R> {
    const { dialect, retry, log, name } = this.#shared
    return retryConflicts(retry, (error) => dialect.isConflict(error), run, log && ((event) => {
      log({ type: 'retry', adapter: name, ...event })
    }))
  }

  /** Runs `work` with an adapter over `trx`, visible to the code inside as the current transaction. */
  async #inScope<R>(trx: AnyKysely, work: (adapter: RelationAdapter) => Promise<R>): Promise<R> {
    const scope: Scope = { owner: this.#shared.root, trx, open: true }
    const adapter = new KyselyAdapter(trx, {}, this.#shared, scope)
    try {
      return await current.run(scope, () => work(adapter))
    } finally {
      scope.open = false
    }
  }

  async #transactionOnce<R>(root: AnyKysely, work: (adapter: RelationAdapter) => Promise<R>, serializable: boolean): Promise<R> {
    let failure: { readonly error: unknown } | undefined
    try {
      const builder = serializable ? root.transaction().setIsolationLevel('serializable') : root.transaction()
      return await builder.execute(async (trx) => {
        try {
          return await this.#inScope(trx, work)
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
   * A savepoint inside a running transaction (the caller's, or ours when calls nest). Kysely's
   * `Transaction` has no savepoint method (only a `ControlledTransaction` has), so the commands
   * go as SQL on the transaction's connection; every supported database spells them alike.
   */
  async #savepoint<R>(trx: AnyKysely, work: (adapter: RelationAdapter) => Promise<R>): Promise<R> {
    const name = sql.raw(`throughline_${String(++this.#shared.savepoints)}`)
    const command = async (text: ReturnType<typeof sql>): Promise<void> => {
      try {
        await text.execute(trx)
      } catch (error) {
        throw toStorageError(this.name, this.#shared.dialect, error)
      }
    }
    await command(sql`SAVEPOINT ${name}`)
    let result: R
    try {
      result = await this.#inScope(trx, work)
    } catch (error) {
      // Undo only this call; the caller's transaction stays usable (on PostgreSQL, the failed
      // statement's abort is lifted too). If even that fails, the call's own error is the news.
      try {
        await command(sql`ROLLBACK TO SAVEPOINT ${name}`)
        await command(sql`RELEASE SAVEPOINT ${name}`)
      } catch {
        // The connection is gone or the transaction already aborted: the caller learns it next.
      }
      throw error
    }
    await command(sql`RELEASE SAVEPOINT ${name}`)
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
      const insert = dialect.insertPairs(link, pairs, extra)
      const result = await this.#alone(db, () => this.#statement(db, insert))
      // Kysely's own drivers always report the rows an INSERT affected; kysely-pglite-dialect
      // leaves numAffectedRows out when there were none. Read as 0, as deleteLinks reads it.
      return input.count === true ? Number(result.numAffectedRows ?? 0) : undefined
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
    const { link, source, targets, mirror } = input
    const db = this.#executor()
    const { dialect } = this.#shared
    const { sourceColumn, targetColumn } = link
    const remove = async (where: SqlFragment): Promise<number> => {
      const result = await this.#alone(db, () => this.#statement(db, joinFragments([fragment('DELETE FROM ?? WHERE ', link.table), where], '')))
      return Number(result.numAffectedRows ?? 0)
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
  #alone<R>(db: AnyKysely, run: () => Promise<R>): Promise<R> {
    return db.isTransaction ? run() : this.#retryingConflicts(run)
  }

  async selectTargets(input: SelectTargetsInput): Promise<Row[]> {
    const db = this.#executor()
    return this.#selectRows(db, [], this.#targetsFrom(input), this.#page(input.link.target, T, input.query), T, input.link.target)
  }

  async selectTargetKeys(input: SelectTargetsInput): Promise<Key[]> {
    const db = this.#executor()
    const { primaryKey, keyType } = input.link.target
    const statement = joinFragments([fragment('SELECT '), this.#keyColumn(`${T}.${primaryKey}`, keyType, 'k'), this.#targetsFrom(input), this.#page(input.link.target, T, input.query)], '')
    return (await this.#rows(db, statement)).map((row) => readStoredKey(row.k, keyType))
  }

  async countTargets(input: SelectTargetsInput): Promise<number> {
    return this.#count(joinFragments([fragment('SELECT COUNT(*) AS ??', 'count'), this.#targetsFrom(input)], ''))
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
      for (const row of await this.#selectRows(db, extra, from, this.#orderBy(T, link.target, query.orderBy), T, link.target)) {
        found.push({ source: readStoredKey(row[SOURCE_KEY], link.source.keyType), row: withoutColumn(row, SOURCE_KEY) })
      }
    }
    return found
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
        changed += Number(result.numAffectedRows ?? 0)
      }
    }
    return changed
  }

  /** What the database's catalog says about `table` (see `RelationAdapter.describeTable`); `undefined` when it does not exist. */
  async describeTable(table: string): Promise<TableDescription | undefined> {
    const db = this.#executor()
    // Catalog reads are introspection, as BEGIN is: not counted as statements.
    const read = async (text: string, parameters: readonly unknown[]): Promise<CatalogRow[]> => {
      try {
        return (await db.executeQuery(this.#raw({ sql: text, bindings: [...parameters] }).compile(db))).rows as CatalogRow[]
      } catch (error) {
        throw toStorageError(this.name, this.#shared.dialect, error)
      }
    }
    switch (this.#shared.dialect.name) {
      case 'sqlite':
        return describeSqliteTable(read, table)
      case 'pg':
        return describePostgresTable(read, table)
      case 'mysql':
        return describeMysqlTable(read, table)
    }
  }

  // -------------------------------------------------------------- internals

  /** The connection to run on: this adapter's transaction, the one of the current context, or the root. */
  #executor(): AnyKysely {
    const scope = this.#scope
    if (scope !== undefined) {
      if (!scope.open) throw new InvalidArgumentError('This Kysely transaction has already finished; use the adapter it was opened from.')
      return scope.trx
    }
    const joined = current.getStore()
    return joined !== undefined && joined.open && joined.owner === this.#shared.root ? joined.trx : this.#shared.root
  }

  /** Whether statements run in a transaction this adapter (or the one it was opened from) began. */
  #inOwnTransaction(): boolean {
    if (this.#scope !== undefined) return true
    const joined = current.getStore()
    return joined !== undefined && joined.open && joined.owner === this.#shared.root
  }

  /** A fragment as Kysely SQL; on SQLite, booleans and dates bound as knex's better-sqlite3 client binds them. */
  #raw(part: SqlFragment): ReturnType<typeof toRaw> {
    return toRaw(part, this.#shared.dialect.name === 'sqlite' ? sqliteValue : identity)
  }

  /** Runs one statement: counted, logged, with driver errors turned into throughline's. */
  async #statement(db: AnyKysely, statement: SqlFragment): Promise<QueryResult<Row>> {
    const shared = this.#shared
    shared.statements++
    try {
      const compiled = this.#raw(statement).compile(db)
      shared.log?.({ type: 'statement', adapter: this.name, sql: compiled.sql })
      return (await db.executeQuery(compiled)) as QueryResult<Row>
    } catch (error) {
      throw toStorageError(this.name, shared.dialect, error)
    }
  }

  async #rows(db: AnyKysely, statement: SqlFragment): Promise<Row[]> {
    return [...(await this.#statement(db, statement)).rows]
  }

  async #count(statement: SqlFragment): Promise<number> {
    const rows = await this.#rows(this.#executor(), statement)
    // pg returns COUNT(*) (a bigint) as a string.
    return Number(rows[0]?.count ?? 0)
  }

  /** Throws `M2M_CONSTRAINT_VIOLATION` when a string key among `pairs` has no row by exact comparison (MySQL/MariaDB only). */
  async #assertExactKeys(db: AnyKysely, link: LinkSpec, pairs: InsertLinksInput['pairs']): Promise<void> {
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

  /** Whether this MySQL-protocol server has INSERT ... RETURNING (MariaDB 10.5+); asked once per Kysely instance, not counted. */
  async #supportsReturning(db: AnyKysely): Promise<boolean> {
    const root = this.#shared.root
    let known = returningSupport.get(root)
    if (known === undefined) {
      known = db.executeQuery(sql<{ version: unknown }>`SELECT VERSION() AS ${sql.id('version')}`.compile(db)).then(({ rows }) => {
        const version = typeof rows[0]?.version === 'string' ? rows[0].version : ''
        const [major = 0, minor = 0] = version.split(/[.-]/).map(Number)
        return /mariadb/i.test(version) && (major > 10 || (major === 10 && minor >= 5))
      })
      // A failed probe is asked again next time rather than remembered.
      void known.catch(() => returningSupport.delete(root))
      returningSupport.set(root, known)
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
  async #selectRows(db: AnyKysely, extra: readonly SqlFragment[], from: SqlFragment, tail: SqlFragment, alias: string, spec: TableSpec): Promise<Row[]> {
    const { primaryKey, keyType } = spec
    const exact = keyType === 'bigint'
    const columns = [fragment('??.*', alias), ...extra]
    if (exact) columns.push(this.#keyColumn(`${alias}.${primaryKey}`, keyType, KEY_TEXT))
    const rows = await this.#rows(db, joinFragments([fragment('SELECT '), joinFragments(columns, ', '), from, tail], ''))
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
  #orderBy(alias: string, spec: TableSpec, orderBy: readonly OrderTerm[]): SqlFragment {
    const { dialect } = this.#shared
    if (orderBy.length === 0) return fragment('')
    const terms = orderBy.map(({ column, direction }) => {
      const qualified = `${alias}.${column}`
      return column === spec.primaryKey ? dialect.keyOrderTerm(qualified, direction, spec.keyType) : dialect.orderTerm(qualified, direction)
    })
    return joinFragments([fragment(' ORDER BY '), joinFragments(terms, ', ')], '')
  }

  /** ` ORDER BY … LIMIT … OFFSET …`: an offset alone needs a limit on SQLite and MySQL, as knex writes it. */
  #page(spec: TableSpec, alias: string, query: { readonly orderBy: readonly OrderTerm[]; readonly limit: number | undefined; readonly offset: number | undefined }): SqlFragment {
    const parts = [this.#orderBy(alias, spec, query.orderBy)]
    const offset = query.offset !== undefined && query.offset > 0 ? query.offset : undefined
    if (query.limit !== undefined) parts.push(fragment(' LIMIT ?', query.limit))
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
    const perKey = dialect.bindsPerKey(keyType)
    const byParameters = Math.floor((maxBindParameters - fixed) / perKey)
    if (!Number.isFinite(dialect.maxStatementBytes)) return byParameters
    const largest = largestInlined(keys)
    return Math.min(byParameters, Math.floor(dialect.maxStatementBytes / ((largest + 16) * perKey)))
  }

  /** ` FROM target t JOIN link l … WHERE …` of the targets linked from one source. */
  #targetsFrom({ link, source, query }: SelectTargetsInput): SqlFragment {
    const sourceCondition = this.#shared.dialect.keysIn(`${L}.${link.sourceColumn}`, [source], link.source.keyType)
    return this.#linkedTargets(link, sourceCondition, query.where)
  }

  /** The target table `T` joined to the link table `L`, for the sources in `sourceCondition`. */
  #linkedTargets(link: LinkSpec, sourceCondition: SqlFragment, where: readonly Condition[]): SqlFragment {
    const { dialect } = this.#shared
    const target = link.target
    const conditions = allOf([sourceCondition, ...where.map((condition) => conditionFragment(dialect, T, uuidColumns(target), condition))])
    return joinFragments(
      [fragment(' FROM ?? AS ?? INNER JOIN ?? AS ?? ON ?? = ?? WHERE ', target.table, T, link.table, L, `${L}.${link.targetColumn}`, `${T}.${target.primaryKey}`), conditions ?? fragment('1 = 1')],
      '',
    )
  }

  /** ` FROM source s …`: the source reads, as a join (one row per matching link), or with EXISTS / NOT EXISTS (each row once). */
  #sourcesFrom({ link, query }: SelectSourcesInput): SqlFragment {
    const { dialect } = this.#shared
    const { source, target } = link
    const linkedConditions = [
      ...query.through.map((condition) => conditionFragment(dialect, L, linkUuidColumns(link), condition)),
      ...query.related.map((condition) => conditionFragment(dialect, T, uuidColumns(target), condition)),
    ]
    const own = query.where.map((condition) => conditionFragment(dialect, S, uuidColumns(source), condition))
    const parts = [fragment(' FROM ?? AS ??', source.table, S)]
    let where: SqlFragment | undefined
    if (query.mode === 'join') {
      parts.push(
        fragment(' INNER JOIN ?? AS ?? ON ?? = ??', link.table, L, `${L}.${link.sourceColumn}`, `${S}.${source.primaryKey}`),
        fragment(' INNER JOIN ?? AS ?? ON ?? = ??', target.table, T, `${T}.${target.primaryKey}`, `${L}.${link.targetColumn}`),
      )
      where = allOf([...linkedConditions, ...own])
    } else {
      const exists = joinFragments(
        [
          fragment(
            `${query.mode === 'exists' ? 'EXISTS' : 'NOT EXISTS'} (SELECT 1 FROM ?? AS ?? INNER JOIN ?? AS ?? ON ?? = ?? WHERE `,
            link.table,
            L,
            target.table,
            T,
            `${T}.${target.primaryKey}`,
            `${L}.${link.targetColumn}`,
          ),
          allOf([fragment('?? = ??', `${L}.${link.sourceColumn}`, `${S}.${source.primaryKey}`), ...linkedConditions]) ?? fragment('1 = 1'),
          fragment(')'),
        ],
        '',
      )
      where = allOf([exists, ...own])
    }
    if (where !== undefined) parts.push(fragment(' WHERE '), where)
    return joinFragments(parts, '')
  }
}

// An operation run outside a transaction: retried as a write call's transaction is.
const ALONE: TransactionOptions = { retry: true }

// Whether a MySQL-protocol server has INSERT ... RETURNING, asked once per Kysely instance.
const returningSupport = new WeakMap<AnyKysely, Promise<boolean>>()

/** The database of a Kysely instance, from its dialect adapter's class; throws for other databases. */
/** The database of a Kysely instance, read from its dialect adapter (see {@link KyselyAdapterOptions.dialect}). */
export function kyselyDialectName(db: AnyKysely): KyselyDialectName {
  const adapter: unknown = db.getExecutor().adapter
  const seen: string[] = []
  for (let prototype: unknown = Object.getPrototypeOf(adapter); typeof prototype === 'object' && prototype !== null; prototype = Object.getPrototypeOf(prototype)) {
    const name: unknown = (prototype as { constructor?: { name?: unknown } }).constructor?.name
    if (typeof name !== 'string') continue
    const found = ADAPTER_CLASSES[name]
    if (found !== undefined) return found
    seen.push(name)
  }
  throw new InvalidArgumentError(
    `KyselyAdapter supports SQLite, PostgreSQL and MySQL/MariaDB (Kysely's SqliteDialect, PostgresDialect and MysqlDialect, and dialects built on their adapters); ` +
      `this Kysely instance's dialect adapter is ${seen[0] ?? 'unknown'}. If it speaks one of those databases' SQL, say which: new KyselyAdapter(db, { dialect: 'pg' }).`,
  )
}

function identity(value: unknown): unknown {
  return value
}

// better-sqlite3 binds only numbers, strings, bigints, buffers and null: a boolean goes as 1 or
// 0 and a Date as its milliseconds, as knex's better-sqlite3 client (and BetterSqlite3Adapter)
// store them, so that all three read each other's rows.
function sqliteValue(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0
  if (value instanceof Date) return value.getTime()
  return value
}
