import type {
  AdapterCapabilities,
  CountLinksInput,
  DeleteLinksInput,
  InsertLinksInput,
  InsertTargetInput,
  Key,
  KeyType,
  LinkCount,
  LinkedRow,
  LinkSpec,
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
import { retryConflicts, retryPolicy, type RetryEvent, type RetryPolicy } from '../../adapter/retry-policy.js'
import { TransactionContext } from '../../adapter/transaction-context.js'
import { InvalidArgumentError, StorageError, ThroughlineError, UnknownColumnError } from '../../errors/throughline-error.js'
import { withoutColumn } from '../../adapter/without-column.js'
import { coerceSpecKey, readStoredKey } from '../../model/coerce-key.js'
import { formatValue } from '../../model/define-model.js'
import { isIdentifier } from '../../model/identifier.js'
import type { TableDescription } from '../../schema/table-description.js'
import { connectionState, type ConnectionState, type RowMode } from './connection-state.js'
import { describeBetterSqlite3Table } from './describe-table.js'
import type { SqliteDatabase, SqliteStatement, SqliteValue } from './sqlite-database.js'
import { keysJson, pairsJson } from '../sqlite/keys-json.js'
import { sqliteCountGuard, sqliteEnforcedGuard, sqliteForeignKeysQuery, sqliteIntegrityQuery } from '../sqlite/foreign-keys-enforced.js'
import { isSqliteBusy } from '../sqlite/sqlite-busy.js'
import { CONFLICT_ADVICE } from '../sql/to-storage-error.js'
import { integrityChecked, stillTrusted, type IntegrityCheck } from '../sql/foreign-key-facts.js'
import { aloneCountLinksSql, bindValue, countLinksSql, inJson, KEY_TEXT, keyColumn, prefetchSql, quote, RANK, SOURCE_KEY, sourcesSql, targetsSql, type SqlText } from './sqlite-sql.js'
import { splitLinkedRow, throughAliases } from '../sql/linked-row.js'

/** Options of {@link BetterSqlite3Adapter}. */
export interface BetterSqlite3AdapterOptions {
  /**
   * How many prepared statements to keep per connection (the first adapter on a connection
   * sets it). The adapter's own statements are a handful per relation; `filter()` reads add
   * one per query shape. Default 500.
   */
  readonly statementCacheSize?: number
  /**
   * How a call is run again after another process held the database (`SQLITE_BUSY`,
   * `SQLITE_BUSY_SNAPSHOT`…, past the connection's busy timeout): see {@link RetryPolicy}.
   * Default: `DEFAULT_RETRY_POLICY` (30 retries, jittered waits up to 250 ms).
   */
  readonly retry?: Partial<RetryPolicy>
  /**
   * Receives every statement the adapter runs (its SQL, without values) and every call it runs
   * again after a conflict. Off by default; `DEBUG=throughline*` prints the same to standard error.
   */
  readonly log?: AdapterLogger
}

/** A transaction this adapter opened, as seen by the code that runs inside it. */
interface Scope {
  readonly database: SqliteDatabase
  open: boolean
  /** Savepoints opened inside it so far, to name the next one. */
  savepoints: number
}

/** What an adapter shares with the transaction adapters it opens. */
interface Shared {
  readonly database: SqliteDatabase
  readonly state: ConnectionState
  readonly retry: RetryPolicy
  readonly log: AdapterLogger | undefined
  /** What {@link BetterSqlite3Adapter.foreignKeysEnforced} read, per join table: the INSERT's guard, or false. */
  readonly enforced: WeakMap<LinkSpec, string | false>
  /** The last integrity check of each join table (see #countGuard), and how many counts have trusted it. */
  readonly integrity: WeakMap<LinkSpec, IntegrityCheck>
  /** Checks whose guard a count found broken (see #guardHeld): counts join until the next check. */
  readonly broken: WeakSet<IntegrityCheck>
  /** `PRAGMA foreign_keys`, `schema_version` and `data_version`, prepared on the first count that needs them. */
  versions?: readonly [SqliteStatement, SqliteStatement, SqliteStatement]
  statements: number
}

// The transaction of the current async context. Code that runs inside a call's transaction (an
// m2m listener) and uses the root adapter joins that transaction, as the Knex and memory
// adapters do: on one connection, waiting for the transaction to end would never end.
const current = new TransactionContext<Scope>()

// SQLite's own limit on `?` parameters (since 3.32). Key lists never come near it: they travel
// as one JSON parameter each; only a `filter({ x__in: [...] })` list binds one per value.
const MAX_BIND_PARAMETERS = 32_766

const T = 't'
const L = 'l'

/** The statement texts of one link spec, built once: the hot paths only look them up. */
interface LinkTexts {
  readonly probeOne: string
  readonly probeMany: string
  readonly probeAll: string
  readonly probeAllWithTargets: string
  readonly deleteOne: string
  readonly deleteMany: string
  readonly deleteAll: string
  readonly deleteAllBut: string
  readonly deleteOneMirror: string
  readonly deleteManyMirror: string
  readonly deleteAllMirror: string
  /** INSERT texts by their extra columns (`''` for none). */
  readonly inserts: Map<string, InsertTexts>
}

interface InsertTexts {
  /** One row: `SELECT ?, ?, … WHERE EXISTS (source) AND EXISTS (target)`. */
  readonly one: string
  /** Every row from one source: `SELECT ?, value, … FROM json_each(?) WHERE …`. */
  readonly fromSource: string
  /** Any pairs: `SELECT value ->> 0, value ->> 1, … FROM json_each(?) WHERE …`. */
  readonly pairs: string
  /** The same three for `refuseMissing`, by guard (`WHERE <guard> OR (EXISTS … AND EXISTS …)`), built on first use. */
  readonly refusing: Map<string, InsertTriple>
  readonly withGuard: (guard: string) => InsertTriple
}

type InsertTriple = Pick<InsertTexts, 'one' | 'fromSource' | 'pairs'>

const linkTexts = new WeakMap<LinkSpec, LinkTexts>()

/** The text of the count of a source's links on the join table alone (see countTargets), per link. */
const aloneCounts = new WeakMap<LinkSpec, string>()

/** The text of a lookup of one linked target by its key, per link (`false`: its parameters are not the keys as given, as for UUID keys). */
const keyLookups = new WeakMap<LinkSpec, string | false>()

/** The texts of a lookup of the linked targets among n keys, per link and n, as keyLookups. */
const keyListLookups = new WeakMap<LinkSpec, Map<number, string | false>>()

/** The most keys a lookup among keys keeps a text for (linkedAmong() sends at most 1 000). */
const KEY_LIST_TEXTS = 1000

function textsOf(link: LinkSpec): LinkTexts {
  let texts = linkTexts.get(link)
  if (texts !== undefined) return texts
  const target = link.target
  const pk = `${T}.${quote(target.primaryKey)}`
  const sourceColumn = quote(link.sourceColumn)
  const targetColumn = quote(link.targetColumn)
  const table = quote(link.table)
  // The source row: one more row (marked 2, or 1 in the third column) when the source exists.
  const sourceRow = (columns: string): string =>
    `SELECT ${columns} FROM ${quote(link.source.table)} WHERE ${quote(link.source.primaryKey)} = ?`
  const probe =
    `SELECT ${keyColumn(pk, target.keyType)}, ${L}.${targetColumn}, 0 FROM ${quote(target.table)} AS ${T} ` +
    `LEFT JOIN ${table} AS ${L} ON ${L}.${targetColumn} = ${pk} AND ${L}.${sourceColumn} = ? WHERE `
  const ord = link.primaryKey === undefined ? 'NULL' : quote(link.primaryKey)
  const linked = `SELECT 1, ${keyColumn(targetColumn, target.keyType)}, ${ord} FROM ${table} WHERE ${sourceColumn} = ? UNION ALL ${sourceRow('2, NULL, NULL')}`
  const existing = `SELECT 0, ${keyColumn(quote(target.primaryKey), target.keyType)}, NULL FROM ${quote(target.table)} WHERE ${inJson(quote(target.primaryKey))}`
  // Linked rows in link-row order (the order events report them in); existence rows first.
  const order = link.primaryKey === undefined ? '' : ' ORDER BY 3'
  const remove = `DELETE FROM ${table} WHERE `
  texts = {
    probeOne: `${probe}${pk} = ? UNION ALL ${sourceRow('NULL, NULL, 1')}`,
    probeMany: `${probe}${inJson(pk)} UNION ALL ${sourceRow('NULL, NULL, 1')}`,
    probeAll: `${linked}${order}`,
    probeAllWithTargets: `${linked} UNION ALL ${existing}${order}`,
    deleteOne: `${remove}${sourceColumn} = ? AND ${targetColumn} = ?`,
    deleteMany: `${remove}${sourceColumn} = ? AND ${inJson(targetColumn)}`,
    deleteAll: `${remove}${sourceColumn} = ?`,
    deleteAllBut: `${remove}${sourceColumn} = ? AND ${targetColumn} NOT IN (SELECT value FROM json_each(?))`,
    // A symmetrical relation is a self relation: both columns hold keys of one model.
    deleteOneMirror: `${remove}(${sourceColumn} = ? AND ${targetColumn} = ?) OR (${targetColumn} = ? AND ${sourceColumn} = ?)`,
    deleteManyMirror: `${remove}(${sourceColumn} = ? AND ${inJson(targetColumn)}) OR (${targetColumn} = ? AND ${inJson(sourceColumn)})`,
    deleteAllMirror: `${remove}${sourceColumn} = ? OR ${targetColumn} = ?`,
    inserts: new Map(),
  }
  linkTexts.set(link, texts)
  return texts
}

function insertTexts(link: LinkSpec, texts: LinkTexts, extra: readonly string[]): InsertTexts {
  const signature = extra.join('\u0000')
  let found = texts.inserts.get(signature)
  if (found !== undefined) return found
  const columns = [link.sourceColumn, link.targetColumn, ...extra].map(quote).join(', ')
  const extraParameters = extra.map(() => ', ?').join('')
  // Only pairs whose source and target rows exist are inserted, foreign keys or not. The WHERE
  // clause also keeps SQLite from reading ON CONFLICT as a join constraint.
  // With a guard (refuseMissing: evaluated once, it reads no row), the foreign keys check the
  // rows instead, and a missing one fails the statement rather than being skipped.
  const rowsExist = (source: string, target: string): string =>
    `(EXISTS (SELECT 1 FROM ${quote(link.source.table)} WHERE ${quote(link.source.primaryKey)} = ${source})` +
    ` AND EXISTS (SELECT 1 FROM ${quote(link.target.table)} WHERE ${quote(link.target.primaryKey)} = ${target}))`
  const exists = (source: string, target: string, guard?: string): string => ` WHERE ${guard === undefined ? '' : `${guard} OR `}${rowsExist(source, target)}`
  const conflict = link.unique ? ` ON CONFLICT (${quote(link.sourceColumn)}, ${quote(link.targetColumn)}) DO NOTHING` : ''
  const head = `INSERT INTO ${quote(link.table)} (${columns}) `
  const texts3 = (guard?: string): InsertTriple => ({
    // One pair: its two primary-key lookups first, the guard (two pragma reads) only when a row
    // is missing: the same rows inserted or refused, for less work when both rows exist.
    one:
      guard === undefined
        ? `${head}SELECT ?, ?${extraParameters}${exists('?', '?')}${conflict}`
        : `${head}SELECT ?, ?${extraParameters} WHERE ${rowsExist('?', '?')} OR ${guard}${conflict}`,
    // In the order given (ids numbered alike, and index locks taken alike by concurrent calls).
    fromSource: `${head}SELECT ?, value${extraParameters} FROM json_each(?)${exists('?', 'value', guard)} ORDER BY key${conflict}`,
    pairs: `${head}SELECT value ->> 0, value ->> 1${extraParameters} FROM json_each(?)${exists('value ->> 0', 'value ->> 1', guard)} ORDER BY key${conflict}`,
  })
  found = { ...texts3(), refusing: new Map(), withGuard: (guard) => texts3(guard) }
  texts.inserts.set(signature, found)
  return found
}

/**
 * A {@link RelationAdapter} straight over a better-sqlite3 `Database`: the direct path for
 * SQLite, without a query builder. Every statement is prepared once per connection and run
 * from a cache; key lists of any length travel as one JSON parameter (`json_each(?)`), so one
 * statement text serves every call and no call is ever split into chunks. Semantics are the
 * Knex adapter's on SQLite, proven by the same conformance suite: `ON CONFLICT DO NOTHING`
 * inserts, strings compared by code unit, constraint failures as `M2M_CONSTRAINT_VIOLATION`.
 *
 * better-sqlite3 stays your dependency: this module imports nothing from it. The connection is
 * used for one transaction at a time (a call's `BEGIN` … `COMMIT` spans its `await`s); calls
 * from elsewhere wait for it, and code running inside it (a listener) joins it. Opened inside
 * a transaction of yours (`db.exec('BEGIN')`), a call takes a savepoint instead.
 *
 * Several processes may share the file (WAL mode and a busy timeout: see `docs/adapters.md`):
 * transactions begin with `BEGIN IMMEDIATE`, and a call that still meets another process's lock
 * (`SQLITE_BUSY*`) is run again per the `retry` policy, unless it is inside your transaction.
 *
 * @example
 * ```ts
 * import Database from 'better-sqlite3'
 * import { manyToMany } from 'throughline'
 * import { BetterSqlite3Adapter } from 'throughline/better-sqlite3'
 *
 * const db = new Database('app.db')
 * const favorites = manyToMany(User, Interview, { name: 'favorite_interviews', adapter: new BetterSqlite3Adapter(db) })
 * await favorites.of(user).toggle(interview)
 * ```
 */
export class BetterSqlite3Adapter implements RelationAdapter {
  readonly name: string = 'better-sqlite3'
  readonly capabilities: AdapterCapabilities = Object.freeze({ transactions: true, maxBindParameters: MAX_BIND_PARAMETERS, countsInserts: true, serialStatements: true })
  readonly #shared: Shared
  readonly #scope: Scope | undefined

  constructor(database: SqliteDatabase, options?: BetterSqlite3AdapterOptions)
  /** @internal */
  constructor(database: SqliteDatabase, options: BetterSqlite3AdapterOptions, shared: Shared, scope: Scope)
  constructor(database: SqliteDatabase, options: BetterSqlite3AdapterOptions = {}, shared?: Shared, scope?: Scope) {
    if (shared === undefined) {
      const candidate = database as Partial<SqliteDatabase> | null
      if (typeof candidate !== 'object' || candidate === null || typeof candidate.prepare !== 'function' || typeof candidate.inTransaction !== 'boolean') {
        throw new InvalidArgumentError('BetterSqlite3Adapter takes a better-sqlite3 Database: new BetterSqlite3Adapter(new Database(file)).')
      }
      const size = options.statementCacheSize ?? 500
      if (!Number.isSafeInteger(size) || size < 16) {
        throw new InvalidArgumentError(`statementCacheSize must be a whole number of at least 16; got ${formatValue(size)}.`)
      }
      shared = { database, state: connectionState(database, size), retry: retryPolicy(options.retry), log: adapterLogger(options.log, 'better-sqlite3'), enforced: new WeakMap(), integrity: new WeakMap(), broken: new WeakSet(), statements: 0 }
    }
    this.#shared = shared
    this.#scope = scope
  }

  /** Statements run by this adapter and the transactions it opened (BEGIN, COMMIT and savepoints not counted). */
  get statementCount(): number {
    return this.#shared.statements
  }

  /** Whether statements run in a transaction: one this adapter opened, or a `BEGIN` of the caller's on the connection. */
  get inTransaction(): boolean {
    return this.#activeScope() !== undefined || this.#shared.database.inTransaction
  }

  // -------------------------------------------------------------- contract

  async transaction<R>(work: (adapter: RelationAdapter) => Promise<R>, options: TransactionOptions = {}): Promise<R> {
    const active = this.#activeScope()
    if (active !== undefined) return this.#savepoint(active, work)
    const attempt = { nested: false }
    const joinable = options.joinable !== false
    if (options.retry !== true) return this.#transactionOnce(work, attempt, joinable)
    // Another process held the database past the busy timeout: run the whole call again, in a
    // new transaction. Only a transaction of ours: a savepoint in the caller's transaction
    // cannot be, the caller's snapshot and writes are the caller's to run again.
    return retryConflicts(this.#shared.retry, (error) => !attempt.nested && isSqliteBusy(error), () => this.#transactionOnce(work, attempt, joinable), this.#onRetry())
  }

  async #transactionOnce<R>(work: (adapter: RelationAdapter) => Promise<R>, attempt: { nested: boolean }, joinable: boolean): Promise<R> {
    const { database, state } = this.#shared
    const wait = state.lock.acquire()
    if (wait !== undefined) await wait
    try {
      // Inside a transaction of the caller's own (BEGIN run directly on the connection), a
      // savepoint: the caller commits or rolls back the whole.
      const nested = database.inTransaction
      attempt.nested = nested
      // The manager opens a transaction only to write. IMMEDIATE takes the write lock at once,
      // waiting for it through the busy timeout: a deferred BEGIN would read first and then
      // fail to upgrade (SQLITE_BUSY, at once, or SQLITE_BUSY_SNAPSHOT in WAL mode when
      // another process wrote since the read), which no wait mends.
      this.#control(nested ? 'SAVEPOINT throughline' : 'BEGIN IMMEDIATE')
      const scope: Scope = { database, open: true, savepoints: 0 }
      let result: R
      try {
        result = await current.run(scope, joinable, () => work(new BetterSqlite3Adapter(database, {}, this.#shared, scope)))
      } catch (error) {
        scope.open = false
        this.#undo(nested ? 'ROLLBACK TO throughline' : 'ROLLBACK', nested ? 'RELEASE throughline' : undefined)
        throw error
      }
      scope.open = false
      try {
        this.#control(nested ? 'RELEASE throughline' : 'COMMIT')
      } catch (error) {
        this.#undo(nested ? 'ROLLBACK TO throughline' : 'ROLLBACK', nested ? 'RELEASE throughline' : undefined)
        throw error
      }
      return result
    } finally {
      state.lock.release()
    }
  }

  async probeLinks(input: ProbeLinksInput): Promise<ProbeLinksResult> {
    return this.#exec(() => this.#probeLinks(input))
  }

  #probeLinks({ link, source, targets, scope }: ProbeLinksInput): ProbeLinksResult {
    const texts = textsOf(link)
    const keyType = link.target.keyType
    if (scope === 'targets') {
      const one = targets.length === 1
      const all = this.#all(one ? texts.probeOne : texts.probeMany, 'raw', [source, one ? targets[0] : keysJson(targets, keyType), source]) as unknown[][]
      const sourceExists = all.some((row) => row[2] === 1)
      const rows = sourceExists ? all.filter((row) => row[2] !== 1) : all
      if (one) {
        // The common case (toggle, add of one): no sets.
        const key = targets[0]!
        const found = rows.some((row) => readStoredKey(row[0], keyType) === key)
        const linked = found && rows.some((row) => row[1] !== null)
        return { sourceExists, existing: found ? [key] : [], linked: linked ? [key] : [] }
      }
      const existing = new Set<Key>()
      const linked = new Set<Key>()
      for (const row of rows) {
        const key = readStoredKey(row[0], keyType)
        existing.add(key)
        if (row[1] !== null) linked.add(key)
      }
      // Keys are compared as the model types them: a row found under another spelling does not count.
      return { sourceExists, existing: targets.filter((key) => existing.has(key)), linked: targets.filter((key) => linked.has(key)) }
    }
    const rows = (
      targets.length === 0
        ? this.#all(texts.probeAll, 'raw', [source, source])
        : this.#all(texts.probeAllWithTargets, 'raw', [source, source, keysJson(targets, keyType)])
    ) as unknown[][]
    let sourceExists = false
    const existing = new Set<Key>()
    const linked = new Set<Key>()
    for (const row of rows) {
      if (row[0] === 2) {
        sourceExists = true
        continue
      }
      const key = readStoredKey(row[1], keyType)
      if (row[0] === 1) linked.add(key)
      else existing.add(key)
    }
    return { sourceExists, existing: targets.filter((key) => existing.has(key)), linked: [...linked] }
  }

  async insertLinks(input: InsertLinksInput): Promise<number> {
    return this.#exec(() => this.#insertLinks(input))
  }

  #insertLinks({ link, pairs, values, refuseMissing }: InsertLinksInput): number {
    if (pairs.length === 0) return 0
    const texts = textsOf(link)
    const extra: string[] = []
    const extraValues: SqliteValue[] = []
    for (const column in values) {
      const value = values[column]
      if (value === undefined) continue
      extra.push(column)
      extraValues.push(bindValue(value))
    }
    const all = insertTexts(link, texts, extra)
    const guard = refuseMissing === true ? this.#shared.enforced.get(link) : undefined
    let inserts: InsertTriple = all
    if (typeof guard === 'string') {
      inserts = all.refusing.get(guard) ?? all.withGuard(guard)
      all.refusing.set(guard, inserts)
    }
    const [first] = pairs
    if (pairs.length === 1) return this.#run(inserts.one, [first![0], first![1], ...extraValues, first![0], first![1]])
    const source = first![0]
    // Every add's rows come from one source; a symmetrical relation's mirror rows do not.
    if (pairs.every((pair) => pair[0] === source)) {
      return this.#run(inserts.fromSource, [source, ...extraValues, keysJson(pairs.map((pair) => pair[1]), link.target.keyType), source])
    }
    return this.#run(inserts.pairs, [...extraValues, pairsJson(pairs, link.source.keyType, link.target.keyType)])
  }

  async deleteLinks(input: DeleteLinksInput): Promise<number> {
    return this.#exec(() => this.#deleteLinks(input))
  }

  #deleteLinks({ link, source, targets, mirror, keep }: DeleteLinksInput): number {
    const texts = textsOf(link)
    if (targets === undefined && keep !== undefined && !mirror) return this.#run(texts.deleteAllBut, [source, keysJson(keep, link.target.keyType)])
    if (targets === undefined) return this.#run(mirror ? texts.deleteAllMirror : texts.deleteAll, mirror ? [source, source] : [source])
    if (targets.length === 1) {
      const key = targets[0]
      return this.#run(mirror ? texts.deleteOneMirror : texts.deleteOne, mirror ? [source, key, source, key] : [source, key])
    }
    const json = keysJson(targets, link.target.keyType)
    return this.#run(mirror ? texts.deleteManyMirror : texts.deleteMany, mirror ? [source, json, source, json] : [source, json])
  }

  async selectTargets(input: SelectTargetsInput): Promise<Row[]> {
    return this.#exec(() => this.#selectTargets(input))
  }

  #selectTargets({ link, source, query }: SelectTargetsInput): Row[] {
    return this.#readRows(targetsSql(link, source, query, 'rows'), link.target)
  }

  async selectLinkedTargets(input: SelectTargetsInput): Promise<LinkedRow[]> {
    const { link, source, query } = input
    // The join table's columns beside the target's; link keys as text when 64-bit, as selectThroughRows reads them.
    const aliases = throughAliases(link)
    return this.#exec(() => this.#readRows(targetsSql(link, source, query, 'rows', aliases), link.target).map((row) => splitLinkedRow(row, aliases)))
  }

  async selectTargetKeys(input: SelectTargetsInput): Promise<Key[]> {
    return this.#exec(() => {
      const { link, source, query } = input
      // exists(target) and filter({ pk }).exists(): one key, at most one row. The text depends
      // on the link alone: built once, and kept where its parameters are the two keys as given.
      const [only, ...others] = query.where
      if (only?.column === link.target.primaryKey && only.op === 'exact' && others.length === 0 && query.exclude.length === 0 && query.orderBy.length === 0 && query.limit === 1 && !(query.offset !== undefined && query.offset > 0)) {
        let text = keyLookups.get(link)
        if (text === undefined) {
          const built = targetsSql(link, source, query, 'keys')
          text = built.parameters.length === 2 && built.parameters[0] === source && built.parameters[1] === only.value ? built.sql : false
          keyLookups.set(link, text)
        }
        if (text !== false) return this.#readKeys({ sql: text, parameters: [source, only.value as SqliteValue] }, link.target.keyType)
      }
      // linkedAmong() of a page: the keys among n, in no order. The text depends on the link and
      // n alone: built once per n, and kept where its parameters are the source and the keys as given.
      if (only?.column === link.target.primaryKey && only.op === 'in' && others.length === 0 && query.exclude.length === 0 && query.orderBy.length === 0 && query.limit === undefined && !(query.offset !== undefined && query.offset > 0)) {
        const keys = only.value as readonly SqliteValue[]
        let texts = keyListLookups.get(link)
        if (texts === undefined) keyListLookups.set(link, (texts = new Map<number, string | false>()))
        let text = texts.get(keys.length)
        if (text === undefined && keys.length <= KEY_LIST_TEXTS) {
          const built = targetsSql(link, source, query, 'keys')
          text = built.parameters.length === keys.length + 1 && built.parameters[0] === source && keys.every((key, index) => built.parameters[index + 1] === key) ? built.sql : false
          texts.set(keys.length, text)
        }
        if (typeof text === 'string') return this.#readKeys({ sql: text, parameters: [source, ...keys] }, link.target.keyType)
      }
      return this.#readKeys(targetsSql(link, source, query, 'keys'), link.target.keyType)
    })
  }

  async countTargets(input: SelectTargetsInput): Promise<number> {
    return this.#exec(() => {
      const { link, source, query } = input
      const check = query.where.length === 0 && query.exclude.length === 0 ? this.#countGuard(link) : undefined
      if (check !== undefined) {
        // Every link row has its target row while the guard holds: the join table's index alone.
        // COUNT(*): the guard holds only for a NOT NULL target column (sqliteCountGuard).
        let text = aloneCounts.get(link)
        if (text === undefined) aloneCounts.set(link, (text = `SELECT COUNT(*) FROM ${quote(link.table)} AS ${L} WHERE ${L}.${quote(link.sourceColumn)} = ?`))
        const count = this.#readCount({ sql: text, parameters: [source] })
        if (this.#guardHeld(check)) return count
      }
      return this.#readCount(targetsSql(link, source, query, 'count'))
    })
  }

  async selectThroughRows(input: SelectThroughRowsInput): Promise<Row[]> {
    return this.#exec(() => this.#selectThroughRows(input))
  }

  #selectThroughRows({ link, source, targets }: SelectThroughRowsInput): Row[] {
    // 64-bit link columns are also read as text, exactly.
    const exact = (
      [
        [link.sourceColumn, link.source.keyType, KEY_TEXT],
        [link.targetColumn, link.target.keyType, `${KEY_TEXT}_target`],
      ] as const
    ).filter(([, keyType]) => keyType === 'bigint')
    let sql = `SELECT *${exact.map(([column, , alias]) => `, CAST(${quote(column)} AS TEXT) AS ${alias}`).join('')} FROM ${quote(link.table)} WHERE ${quote(link.sourceColumn)} = ?`
    const parameters: unknown[] = [source]
    if (targets !== undefined) {
      sql += ` AND ${inJson(quote(link.targetColumn))}`
      parameters.push(keysJson(targets, link.target.keyType))
    }
    if (link.primaryKey !== undefined) sql += ` ORDER BY ${quote(link.primaryKey)}`
    const rows = this.#all(sql, 'objects', parameters) as Row[]
    return rows.map((stored) => {
      let row = stored
      row[link.sourceColumn] = readStoredKey(row[link.sourceColumn], link.source.keyType)
      row[link.targetColumn] = readStoredKey(row[link.targetColumn], link.target.keyType)
      for (const [column, keyType, alias] of exact) {
        row[column] = readStoredKey(row[alias], keyType)
        row = withoutColumn(row, alias)
      }
      return row
    })
  }

  async prefetchTargets(input: PrefetchTargetsInput): Promise<PrefetchedRow[]> {
    return this.#exec(() => this.#prefetchTargets(input))
  }

  #prefetchTargets({ link, sources, query }: PrefetchTargetsInput): PrefetchedRow[] {
    const rows = this.#readRows(prefetchSql(link, sources, query), link.target)
    const keyType = link.source.keyType
    // A limited prefetch numbers each source's rows (RANK): not a column of the row.
    return rows.map((row) => ({ source: readStoredKey(row[SOURCE_KEY], keyType), row: withoutColumn(query.limit === undefined ? row : withoutColumn(row, RANK), SOURCE_KEY) }))
  }

  async countLinks(input: CountLinksInput): Promise<LinkCount[]> {
    const { keyType } = input.link.source
    return this.#exec(() => {
      const check = input.related.length === 0 ? this.#countGuard(input.link) : undefined
      const read = ({ sql, parameters }: SqlText): LinkCount[] =>
        (this.#all(sql, 'objects', parameters) as Row[]).map((row) => ({ source: readStoredKey(row[SOURCE_KEY], keyType), count: Number(row.count) }))
      if (check !== undefined) {
        const counts = read(aloneCountLinksSql(input))
        if (this.#guardHeld(check)) return counts
      }
      return read(countLinksSql(input))
    })
  }

  async selectSources(input: SelectSourcesInput): Promise<Row[]> {
    return this.#exec(() => this.#readRows(sourcesSql(input.link, input.query, 'rows'), input.link.source))
  }

  async selectSourceKeys(input: SelectSourcesInput): Promise<Key[]> {
    return this.#exec(() => this.#readKeys(sourcesSql(input.link, input.query, 'keys'), input.link.source.keyType))
  }

  async countSources(input: SelectSourcesInput): Promise<number> {
    return this.#exec(() => this.#readCount(sourcesSql(input.link, input.query, 'count')))
  }

  async insertTarget({ target, values }: InsertTargetInput): Promise<Row> {
    const columns: string[] = []
    const parameters: SqliteValue[] = []
    let given: Key | undefined
    for (const [column, value] of Object.entries(values)) {
      if (!isIdentifier(column) || (target.columns !== undefined && !target.columns.includes(column))) {
        throw new UnknownColumnError(`${target.model} has no column ${formatValue(column)}.`)
      }
      if (value === undefined) continue
      if (column === target.primaryKey && value !== null) {
        given = coerceSpecKey(value, target)
        parameters.push(given)
      } else {
        parameters.push(bindValue(value))
      }
      columns.push(column)
    }
    // As the other adapters: only integer keys are generated.
    if (given === undefined && target.keyType !== 'integer' && target.keyType !== 'bigint') {
      throw new InvalidArgumentError(`${target.model} rows need a "${target.primaryKey}" value: only integer keys are generated.`)
    }
    return this.#exec(() => this.#insertTargetRow(target, columns, parameters, given))
  }

  #insertTargetRow(target: TableSpec, columns: readonly string[], parameters: readonly SqliteValue[], given: Key | undefined): Row {
    const exact = target.keyType === 'bigint' ? `, CAST(${quote(target.primaryKey)} AS TEXT) AS ${KEY_TEXT}` : ''
    const sql =
      columns.length === 0
        ? `INSERT INTO ${quote(target.table)} DEFAULT VALUES RETURNING *${exact}`
        : `INSERT INTO ${quote(target.table)} (${columns.map(quote).join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) RETURNING *${exact}`
    const [stored] = this.#all(sql, 'objects', parameters) as Row[]
    if (stored === undefined) throw new StorageError(this.name, `the new ${target.model} row could not be read back from "${target.table}".`)
    // A given key is returned as given; a generated one as read back (exactly, for 64-bit keys).
    stored[target.primaryKey] = given ?? readStoredKey(exact === '' ? stored[target.primaryKey] : stored[KEY_TEXT], target.keyType)
    return exact === '' ? stored : withoutColumn(stored, KEY_TEXT)
  }

  async updateTargets(input: UpdateTargetsInput): Promise<number> {
    return this.#exec(() => this.#updateTargets(input))
  }

  #updateTargets({ target, keys, values }: UpdateTargetsInput): number {
    const assignments: string[] = []
    const parameters: unknown[] = []
    for (const [column, value] of Object.entries(values)) {
      if (value === undefined) continue
      assignments.push(`${quote(column)} = ?`)
      parameters.push(bindValue(value))
    }
    parameters.push(keysJson(keys, target.keyType))
    const where = inJson(quote(target.primaryKey))
    if (assignments.length === 0) {
      // Nothing to write: the rows that would have been updated are the rows that exist.
      const [count] = this.#all(`SELECT COUNT(*) FROM ${quote(target.table)} WHERE ${where}`, 'pluck', parameters)
      return Number(count ?? 0)
    }
    return this.#run(`UPDATE ${quote(target.table)} SET ${assignments.join(', ')} WHERE ${where}`, parameters)
  }

  /** What SQLite's pragmas say about `table` (see `RelationAdapter.describeTable`); `undefined` when it does not exist. */
  async describeTable(table: string): Promise<TableDescription | undefined> {
    return describeBetterSqlite3Table(this.#shared.database, table)
  }

  /**
   * Whether SQLite refuses a link row to a missing row by itself (see
   * `RelationAdapter.foreignKeysEnforced`): `PRAGMA foreign_keys` on and a foreign key from each
   * key column. Read once per join table and remembered by this adapter and its transactions'
   * adapters; not counted as a statement (a catalog read, as describeTable's).
   */
  async foreignKeysEnforced(link: LinkSpec): Promise<boolean> {
    return (await this.#exec(() => this.#enforcedGuard(link))) !== false
  }

  /** The INSERT's guard for `link`, or false (see foreignKeysEnforced): the catalog read once per join table. */
  #enforcedGuard(link: LinkSpec): string | false {
    const { enforced } = this.#shared
    let guard = enforced.get(link)
    if (guard === undefined) {
      const { sql, bindings } = sqliteForeignKeysQuery(link)
      guard = sqliteEnforcedGuard(this.#catalogRow(sql, bindings))
      enforced.set(link, guard)
    }
    return guard
  }

  /** A catalog read's one row (not counted as a statement). */
  #catalogRow(sql: string, bindings: readonly unknown[]): Record<string, unknown> | undefined {
    return (this.#shared.database.prepare(sql).all(...bindings) as Record<string, unknown>[])[0]
  }

  // -------------------------------------------------------------- internals

  /**
   * The integrity check that lets a count of `link`'s join table read that table alone, or
   * undefined: foreign keys enforced (as {@link BetterSqlite3Adapter.foreignKeysEnforced} reads
   * them), no transaction open (a deferred foreign key lets one see its own unchecked rows), and
   * no orphan row found by `sqliteIntegrityQuery`, run on the first count and again every 1 000
   * counts or more (`integrityChecked`; a scan only when another connection has written since).
   * The count must then confirm the check's guard with {@link #guardHeld}. Catalog reads, not counted.
   */
  #countGuard(link: LinkSpec): IntegrityCheck | undefined {
    const { database, integrity, broken } = this.#shared
    if (database.inTransaction || this.#activeScope() !== undefined || this.#enforcedGuard(link) === false) return undefined
    const previous = integrity.get(link)
    let checked = stillTrusted(previous)
    if (checked === undefined) {
      const { sql, bindings } = sqliteIntegrityQuery(link, previous?.row)
      const row = this.#catalogRow(sql, bindings)
      checked = integrityChecked(previous, row, sqliteCountGuard(row))
      integrity.set(link, checked)
    }
    return checked.guard === false || broken.has(checked) ? undefined : checked
  }

  /**
   * Whether the guard of `check` (`sqliteCountGuard`: foreign keys on, the schema and, from other
   * connections, the data unchanged since the check) held for the count just run. The Knex
   * adapter puts the guard in the count's own statement; here three `PRAGMA` statements right
   * after it, a third of the cost (SQLite's `pragma_…()` table functions cost about 2 µs each).
   * It is the same answer: the count and the pragmas run synchronously on this connection, so
   * nothing of this connection ran between them, and another connection's write committed
   * before or during the count has changed `data_version` by now. When it did not hold, the
   * count is run again joining the target table, and so is every count until the next check.
   * Catalog reads, not counted.
   */
  #guardHeld(check: IntegrityCheck): boolean {
    const shared = this.#shared
    const { database } = shared
    const [foreignKeys, schema, data] = (shared.versions ??= [
      database.prepare('PRAGMA foreign_keys').pluck(),
      database.prepare('PRAGMA schema_version').pluck(),
      database.prepare('PRAGMA data_version').pluck(),
    ])
    let held: boolean
    try {
      held = Number(foreignKeys.get()) === 1 && Number(schema.get()) === Number(check.row?.schema_version) && Number(data.get()) === Number(check.row?.data_version)
    } catch {
      // Another process holds the database (SQLITE_BUSY in rollback-journal mode): no answer,
      // so the count joins, as a statement that is run again when busy; the next count checks again.
      return false
    }
    if (!held) shared.broken.add(check)
    return held
  }

  /** This adapter's open transaction, or the one of the current async context on the same connection. */
  #activeScope(): Scope | undefined {
    const scope = this.#scope
    if (scope !== undefined) {
      if (!scope.open) throw new InvalidArgumentError('This better-sqlite3 transaction has already finished; use the adapter it was opened from.')
      return scope
    }
    const joined = current.current()
    return joined !== undefined && joined.open && joined.database === this.#shared.database ? joined : undefined
  }

  /**
   * Runs `work` (statements, synchronously) when this adapter may use the connection: at once
   * inside a transaction of this connection, or when the connection is idle; otherwise once the
   * transaction that holds it has ended, holding the lock meanwhile so that nothing slips in.
   */
  #exec<R>(work: () => R): R | Promise<R> {
    if (this.#activeScope() !== undefined) return work()
    return this.#whenFree(() => this.#aloneOrAgain(work))
  }

  #whenFree<R>(work: () => R | Promise<R>): R | Promise<R> {
    const { lock } = this.#shared.state
    if (lock.free) return work()
    return (lock.acquire() ?? Promise.resolve()).then(() => {
      try {
        return work()
      } finally {
        lock.release()
      }
    })
  }

  /**
   * Runs a statement outside a transaction of ours. When it is a transaction of its own (no
   * `BEGIN` of the caller's is open) and another process held the database, it is run again,
   * as a transaction of ours would be: a statement that failed wrote nothing.
   */
  #aloneOrAgain<R>(work: () => R): R | Promise<R> {
    try {
      return work()
    } catch (error) {
      // Read at once, before anything else can use the connection.
      // (The StorageError of a statement carries the driver's error as its cause.)
      if (this.#shared.database.inTransaction || !isSqliteBusy(field(error, 'cause'))) throw error
      // The failed attempt already waited through the busy timeout: the first retry runs at once.
      return retryConflicts(this.#shared.retry, isSqliteBusy, () => Promise.resolve().then(() => this.#whenFree(work)), this.#onRetry())
    }
  }

  async #savepoint<R>(scope: Scope, work: (adapter: RelationAdapter) => Promise<R>): Promise<R> {
    const name = `throughline_${String(++scope.savepoints)}`
    this.#control(`SAVEPOINT ${name}`)
    let result: R
    try {
      result = await work(this.#scope === scope ? this : new BetterSqlite3Adapter(scope.database, {}, this.#shared, scope))
    } catch (error) {
      this.#undo(`ROLLBACK TO ${name}`, `RELEASE ${name}`)
      throw error
    }
    this.#control(`RELEASE ${name}`)
    return result
  }

  /** BEGIN, COMMIT, SAVEPOINT and RELEASE: not counted as statements. */
  #control(sql: string): void {
    try {
      this.#shared.state.cache.get(sql).run()
    } catch (error) {
      throw toStorageError(this.name, error)
    }
  }

  /** Rolls back after a failure, which stays the error reported: a failed rollback is not. */
  #undo(rollback: string, release: string | undefined): void {
    if (!this.#shared.database.inTransaction) return // SQLite already rolled the transaction back
    try {
      this.#shared.state.cache.get(rollback).run()
      if (release !== undefined) this.#shared.state.cache.get(release).run()
    } catch {
      // The original failure is the one to report.
    }
  }

  #statement(sql: string, mode: RowMode): SqliteStatement {
    this.#shared.statements++
    this.#shared.log?.({ type: 'statement', adapter: this.name, sql })
    return this.#shared.state.cache.get(sql, mode)
  }

  /** The retry hook for the log, when there is one. */
  #onRetry(): ((event: RetryEvent) => void) | undefined {
    const { log } = this.#shared
    return (
      log &&
      ((event) => {
        log({ type: 'retry', adapter: this.name, ...event })
      })
    )
  }

  #all(sql: string, mode: RowMode, parameters: readonly unknown[]): unknown[] {
    const statement = this.#statement(sql, mode)
    try {
      return statement.all(...parameters)
    } catch (error) {
      throw toStorageError(this.name, error)
    }
  }

  /** Rows of a model's table, with the primary key in the model's key type (exact for 64-bit keys). */
  #readRows({ sql, parameters }: SqlText, spec: TableSpec): Row[] {
    const { primaryKey, keyType } = spec
    const rows = this.#all(sql, 'objects', parameters) as Row[]
    if (keyType === 'bigint') {
      return rows.map((row) => {
        row[primaryKey] = readStoredKey(row[KEY_TEXT], keyType)
        return withoutColumn(row, KEY_TEXT)
      })
    } else {
      // As the model types it: a string key stored in a column of numeric affinity reads back
      // as a number, a uuid in capitals is lower-cased. An integer read as one is already right.
      for (const row of rows) {
        const key = row[primaryKey]
        if (typeof key !== 'number' || keyType !== 'integer') row[primaryKey] = readStoredKey(key, keyType)
      }
    }
    return rows
  }

  #readKeys({ sql, parameters }: SqlText, keyType: KeyType): Key[] {
    return this.#all(sql, 'pluck', parameters).map((value) => readStoredKey(value, keyType))
  }

  #readCount({ sql, parameters }: SqlText): number {
    const [count] = this.#all(sql, 'pluck', parameters)
    return Number(count ?? 0)
  }

  #run(sql: string, parameters: readonly unknown[]): number {
    const statement = this.#statement(sql, 'objects')
    try {
      return statement.run(...parameters).changes
    } catch (error) {
      throw toStorageError(this.name, error)
    }
  }
}



function field(error: unknown, name: string): unknown {
  return typeof error === 'object' && error !== null ? (error as Record<string, unknown>)[name] : undefined
}

/**
 * A driver error as throughline's {@link StorageError}, the driver error as `cause`:
 * `M2M_CONFLICT` when another connection held the database (SQLite busy),
 * `M2M_CONSTRAINT_VIOLATION` for `SQLITE_CONSTRAINT_*` (unique, not null, foreign key,
 * check), `M2M_STORAGE` otherwise. throughline's own errors pass through.
 */
function toStorageError(adapter: string, error: unknown): ThroughlineError {
  if (error instanceof ThroughlineError) return error
  const code = field(error, 'code')
  let message = error instanceof Error ? error.message : String(error)
  if (typeof code === 'string' && !message.includes(code)) message = `${message} [${code}]`
  if (isSqliteBusy(error)) {
    return new StorageError(adapter, `conflict with another connection, which held the database: ${message}. ${CONFLICT_ADVICE}`, { code: 'M2M_CONFLICT', cause: error })
  }
  const constraint = typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT')
  return new StorageError(adapter, `${constraint ? 'constraint violation' : 'statement failed'}: ${message}`, {
    code: constraint ? 'M2M_CONSTRAINT_VIOLATION' : 'M2M_STORAGE',
    cause: error,
  })
}
