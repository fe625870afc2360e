import type { Knex } from 'knex'
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
import { InvalidArgumentError, StorageError, UnknownColumnError } from '../../errors/throughline-error.js'
import { withoutColumn } from '../../adapter/without-column.js'
import { coerceSpecKey, readStoredKey } from '../../model/coerce-key.js'
import { formatValue } from '../../model/define-model.js'
import { isIdentifier } from '../../model/identifier.js'
import type { TableDescription } from '../../schema/table-description.js'
import { chunks, inlinedBytes, largestInlined } from '../sql/chunks.js'
import { compareOrd } from '../sql/compare-ord.js'
import { keyOrderColumn, prefetchKeyOrder } from '../sql/key-order.js'
import { excludedFragment } from '../sql/condition-fragment.js'
import { splitLinkedRow, throughAliases } from '../sql/linked-row.js'
import { describeKnexTable, rowsOf } from './describe-table.js'
import { exactKeyChecks, missingKeysError, type ExactKeyPart } from '../sql/exact-keys.js'
import { exactKeysQuery } from './exact-keys.js'
import { knexDialect, type KnexDialect, type SqlFragment, type StringComparison } from './knex-dialect.js'
import { MAX_KEYS_PER_LIST } from '../sql/sql-dialect.js'
import { ForeignKeyFactsCache, guardedLinkCount, guardedSqliteLinkCounts, type ForeignKeyFacts } from '../sql/foreign-key-facts.js'
import { ProbeRows } from '../sql/probe-rows.js'
import { limitLiteral } from '../sql/limit-literal.js'
import { keysJson } from '../sqlite/keys-json.js'
import { PreparedSqlite } from './prepared-sqlite.js'
import { toStorageError } from '../sql/to-storage-error.js'
import { conditionBinds, linkUuidColumns, uuidColumns } from '../sql/uuid-columns.js'

/** Options of {@link KnexAdapter}. */
export interface KnexAdapterOptions {
  /**
   * The most bind parameters one statement may carry, when the database's is lower than the
   * dialect's default (30 000 on SQLite, 65 535 on PostgreSQL and MySQL): an SQLite built with
   * `SQLITE_MAX_VARIABLE_NUMBER=999`, a proxy with its own limit.
   */
  readonly maxBindParameters?: number
  /**
   * How a call is run again after the database aborted its transaction for a conflict with
   * another (PostgreSQL `40001`/`40P01`, MySQL/MariaDB deadlocks and lock wait timeouts,
   * SQLite busy): see {@link RetryPolicy}. Default: `DEFAULT_RETRY_POLICY` (30 retries, jittered waits up to 250 ms).
   */
  readonly retry?: Partial<RetryPolicy>
  /**
   * Receives every statement the adapter sends (its SQL, without values) and every call it runs
   * again after a conflict. Off by default; `DEBUG=throughline*` prints the same to standard error.
   */
  readonly log?: AdapterLogger
}

/** A transaction opened by a {@link KnexAdapter}, as seen by the code that runs inside it. */
interface Scope {
  /** The Knex instance (or caller's transaction) the opening adapter was built on. */
  readonly owner: Knex
  readonly trx: Knex.Transaction
  open: boolean
}

/** What a {@link KnexAdapter} shares with the transaction adapters it opens. */
interface Shared {
  readonly root: Knex
  readonly dialect: KnexDialect
  readonly name: string
  readonly maxBindParameters: number
  readonly retry: RetryPolicy
  readonly log: AdapterLogger | undefined
  /** What {@link KnexAdapter.foreignKeysEnforced} read, per join table. */
  readonly foreignKeys: ForeignKeyFactsCache
  /** On better-sqlite3: runs the statements prepared once per connection (knex prepares each again). */
  readonly prepared: PreparedSqlite | undefined
  /** The text of countTargets' guarded count, per join table, with the guard it was built for. */
  readonly countTexts: WeakMap<LinkSpec, { readonly guard: string; readonly condition: string; readonly sql: string }>
  statements: number
}

// The transaction of the current async context. Code that runs inside a call's transaction
// (an m2m listener, say) and uses the root adapter joins that transaction, as a Django
// connection would, instead of waiting for a second connection: with SQLite's single
// connection that wait would never end, and on a server it could deadlock on the rows the
// transaction holds.
const current = new TransactionContext<Scope>()

// Aliases of the two tables in every statement; a self relation joins a table to its own
// join table, so the aliases keep them apart.
const T = 't'
const L = 'l'
// The alias of the returned table in the source reads (a self relation joins a table to itself).
const S = 's'
// The alias of the source key beside each prefetched row.
const SOURCE_KEY = '__throughline_source'
// The rank of a prefetched row among its source's (a limited prefetch), and the ranked subquery.
const RANK = '__throughline_rank'
const RANKED = 'ranked'
// The alias of a 64-bit key read as text beside the row's own columns.
const KEY_TEXT = '__throughline_key'

/**
 * A {@link RelationAdapter} over a Knex instance: SQLite (better-sqlite3), PostgreSQL (pg)
 * and MySQL/MariaDB (mysql2). Pass your own Knex instance, or a transaction of yours to run
 * throughline's calls inside it (each call then takes a savepoint, so that a failed call
 * undoes only its own writes). Every call is a constant number of statements whatever the
 * number of keys, split into chunks only past the database's bind-parameter limits; adds
 * ignore existing pairs in the statement itself (`ON CONFLICT DO NOTHING`, or a no-op
 * `ON DUPLICATE KEY UPDATE` on MySQL), so concurrent adds never duplicate a link, and on
 * SQLite and PostgreSQL insert only pairs whose rows exist (`INSERT … SELECT … WHERE EXISTS`),
 * so a join table without foreign keys never gets a link to a missing row.
 *
 * Foreign keys must be enforced: SQLite needs `PRAGMA foreign_keys = ON` on each connection
 * (better-sqlite3 turns it on by default; the `sqlite3` driver does not).
 *
 * @example
 * ```ts
 * import knex from 'knex'
 * import { KnexAdapter } from 'throughline/knex'
 *
 * const db = knex({ client: 'pg', connection: process.env.DATABASE_URL })
 * const publications = manyToMany(Article, Publication, { name: 'publications', adapter: new KnexAdapter(db) })
 * await publications.of(article).add([p1, p2])
 *
 * // Inside your own transaction: rolled back with it.
 * await db.transaction(async (trx) => {
 *   await trx('audit').insert({ action: 'link' })
 *   await publications.using(new KnexAdapter(trx)).of(article).add(p3)
 * })
 * ```
 */
export class KnexAdapter implements RelationAdapter {
  readonly name: string
  readonly capabilities: AdapterCapabilities
  readonly #shared: Shared
  readonly #scope: Scope | undefined

  constructor(knex: Knex, options?: KnexAdapterOptions)
  /** @internal */
  constructor(knex: Knex, options: KnexAdapterOptions, shared: Shared, scope: Scope)
  constructor(knex: Knex, options: KnexAdapterOptions = {}, shared?: Shared, scope?: Scope) {
    if (shared === undefined) {
      if (typeof knex !== 'function' || typeof (knex as Partial<Knex>).transaction !== 'function') {
        throw new InvalidArgumentError('KnexAdapter takes a Knex instance (or a Knex transaction): new KnexAdapter(knex).')
      }
      const dialect = knexDialect(knex)
      const max = options.maxBindParameters ?? dialect.maxBindParameters
      if (!Number.isSafeInteger(max) || max < 16) {
        throw new InvalidArgumentError(`maxBindParameters must be a whole number of at least 16; got ${formatValue(max)}.`)
      }
      shared = {
        root: knex,
        dialect,
        name: `knex(${dialect.name})`,
        maxBindParameters: Math.min(max, dialect.maxBindParameters),
        retry: retryPolicy(options.retry),
        log: adapterLogger(options.log, `knex(${dialect.name})`),
        foreignKeys: new ForeignKeyFactsCache(dialect),
        countTexts: new WeakMap(),
        prepared: PreparedSqlite.applies(knex) ? new PreparedSqlite() : undefined,
        statements: 0,
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

  /** Whether statements run in a transaction: the caller's (a Knex transaction passed in) or one this adapter opened. */
  get inTransaction(): boolean {
    return isTransaction(this.#executor())
  }

  // -------------------------------------------------------------- contract

  async transaction<R>(work: (adapter: RelationAdapter) => Promise<R>, options: TransactionOptions = {}): Promise<R> {
    const outer = this.#executor()
    // Only a transaction of our own can be made serializable, and run again: inside the
    // caller's transaction, this is a savepoint.
    const own = !isTransaction(outer)
    const isolation = own && options.isolation === 'serializable' && this.#shared.dialect.name !== 'sqlite' ? 'serializable' : undefined
    const joinable = options.joinable !== false
    const once = (): Promise<R> => this.#transactionOnce(outer, work, isolation, joinable)
    return own && options.retry === true ? this.#retryingConflicts(once) : once()
  }

  /**
   * Runs `run` again, per the retry policy, when the database aborted it for a conflict with
   * another transaction (and so rolled all of it back).
   */
  #retryingConflicts<R>(run: () => Promise<R>): Promise<R> {
    const { dialect, retry, log, name } = this.#shared
    return retryConflicts(retry, (error) => dialect.isConflict(error), run, log && ((event) => {
      log({ type: 'retry', adapter: name, ...event })
    }))
  }

  async #transactionOnce<R>(outer: Knex, work: (adapter: RelationAdapter) => Promise<R>, isolation: 'serializable' | undefined, joinable: boolean): Promise<R> {
    let failure: { readonly error: unknown } | undefined
    try {
      // On a Knex instance this is BEGIN; on a transaction (the caller's, or one of ours when
      // calls nest) knex takes a savepoint.
      return await outer.transaction(
        async (trx) => {
          const scope: Scope = { owner: this.#shared.root, trx, open: true }
          const adapter = new KnexAdapter(trx, {}, this.#shared, scope)
          try {
            return await current.run(scope, joinable, () => work(adapter))
          } catch (error) {
            failure = { error }
            throw error
          } finally {
            scope.open = false
          }
        },
        isolation === undefined ? undefined : { isolationLevel: isolation },
      )
    } catch (error) {
      // The work's own errors come out as they are; BEGIN or COMMIT failing is storage's.
      if (failure !== undefined && failure.error === error) throw error
      throw toStorageError(this.name, this.#shared.dialect, error)
    }
  }

  async probeLinks({ link, source, targets, scope }: ProbeLinksInput): Promise<ProbeLinksResult> {
    const db = this.#executor()
    const { dialect } = this.#shared
    const target = link.target
    const sourceCondition = dialect.keysIn(`${L}.${link.sourceColumn}`, [bindKey(source)], link.source.keyType)
    const probe = new ProbeRows(target.keyType)
    // Beside the target keys: the source key, in the join condition and in the source row.
    const size = this.#keysPerStatement(target.keyType, 2 * dialect.bindsPerKey(link.source.keyType), targets)

    // The source row, as one more row of the first statement, its columns the given literals:
    // it is there when the source exists.
    const sourceRow = (builder: Knex.QueryBuilder, columns: Readonly<Record<string, string>>): Knex.QueryBuilder =>
      builder
        .select(...Object.entries(columns).map(([column, literal]) => db.raw(`${literal} AS ??`, [column])))
        .from({ [S]: link.source.table })
        .whereRaw(...raw(dialect.keysIn(`${S}.${link.source.primaryKey}`, [bindKey(source)], link.source.keyType)))

    if (scope === 'targets') {
      // One LEFT JOIN per chunk: every given target that exists, with its link from source if any.
      for (const [index, chunk] of chunks(targets, size).entries()) {
        const rows = await this.#statement<Row[]>(() => {
          const builder = db({ [T]: target.table })
            .select(this.#keyColumn(db, `${T}.${target.primaryKey}`, target.keyType, 'k'), { linked: `${L}.${link.targetColumn}` }, db.raw('0 AS ??', ['src']))
            .leftJoin({ [L]: link.table }, function () {
              this.on(`${L}.${link.targetColumn}`, '=', `${T}.${target.primaryKey}`).andOn(db.raw(...raw(sourceCondition)))
            })
            .whereRaw(...raw(dialect.keysIn(`${T}.${target.primaryKey}`, chunk.map(bindKey), target.keyType)))
          return index > 0 ? builder : builder.unionAll(function () {
            sourceRow(this, { k: 'NULL', linked: 'NULL', src: '1' })
          })
        })
        probe.addTargetRows(rows)
      }
      return probe.result(targets, 'targets')
    }

    // Scope 'all': the linked keys of source and the existing keys among targets, in one
    // UNION ALL (the first chunk carries the linked part; the others only check existence).
    const parts = targets.length === 0 ? [[]] : chunks(targets, size)
    for (const [index, chunk] of parts.entries()) {
      const existence = (builder: Knex.QueryBuilder): Knex.QueryBuilder =>
        builder
          .select(db.raw('0 AS ??', ['linked']), this.#keyColumn(db, `${T}.${target.primaryKey}`, target.keyType, 'k'), db.raw('NULL AS ??', ['ord']))
          .from({ [T]: target.table })
          .whereRaw(...raw(dialect.keysIn(`${T}.${target.primaryKey}`, chunk.map(bindKey), target.keyType)))
      const rows = await this.#statement<Row[]>(() => {
        if (index > 0) return existence(db.queryBuilder())
        const linkedPart = db
          .select(
            db.raw('1 AS ??', ['linked']),
            this.#keyColumn(db, `${L}.${link.targetColumn}`, target.keyType, 'k'),
            link.primaryKey === undefined ? db.raw('NULL AS ??', ['ord']) : { ord: `${L}.${link.primaryKey}` },
          )
          .from({ [L]: link.table })
          .whereRaw(...raw(sourceCondition))
          // linked = 2: the source row exists.
          .unionAll(function () {
            sourceRow(this, { linked: '2', k: 'NULL', ord: 'NULL' })
          })
        return chunk.length === 0 ? linkedPart : linkedPart.unionAll(function () {
          existence(this)
        })
      })
      probe.addAllRows(rows)
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
      // One statement whatever the number of pairs (they travel as one or two parameters),
      // which inserts only pairs whose rows exist: atomic on its own.
      const insert = dialect.insertPairs(link, pairs, extra, input.refuseMissing === true ? this.#shared.foreignKeys.insertGuard(link) : undefined)
      const result = await this.#alone(db, () => this.#statement(() => db.raw(...raw(insert))))
      return input.count === true ? dialect.insertedRows(result) : undefined
    }
    // Pairs come sorted by (source, target): concurrent adds of overlapping keys take their
    // index locks in one order and wait for each other, where differing orders could deadlock.
    const rows = pairs.map(([source, target]) => ({ ...extra, [link.sourceColumn]: source, [link.targetColumn]: target }))
    const columns = Object.keys(extra).length + 2
    let size = Math.min(dialect.maxInsertRows, Math.floor(this.#shared.maxBindParameters / columns))
    if (Number.isFinite(dialect.maxStatementBytes)) {
      // Every row repeats the extra values; its keys are at most the largest of each side.
      const rowBytes =
        Object.values(extra).reduce<number>((sum, value) => sum + inlinedBytes(value), 16) +
        largestInlined(pairs.map(([source]) => source)) +
        largestInlined(pairs.map(([, target]) => target))
      size = Math.min(size, Math.floor(dialect.maxStatementBytes / rowBytes))
    }
    const parts = chunks(rows, size)
    // Atomic on its own, as deleteLinks (see there).
    if (parts.length > 1 && !this.#inOwnTransaction()) return this.transaction((tx) => tx.insertLinks(input), ALONE)
    // On MySQL/MariaDB the foreign key compares string keys by the column's collation, and
    // would take 'ALPHA' for 'alpha' (F14): look them up exactly first.
    await this.#assertExactKeys(db, link, pairs)
    for (const chunk of parts) {
      await this.#alone(db, () =>
        this.#statement(() => {
          const insert = db(link.table).insert(chunk as Record<string, Knex.Value>[])
          return link.unique ? dialect.ignoreDuplicatePairs(insert, link, db) : insert
        }),
      )
    }
    // A multi-row VALUES insert (MySQL) cannot tell a skipped duplicate from an inserted row.
    return undefined
  }

  async deleteLinks(input: DeleteLinksInput): Promise<number> {
    const { link, source, targets, mirror, keep } = input
    const db = this.#executor()
    const { dialect } = this.#shared
    const { sourceColumn, targetColumn } = link
    const sourceKey = bindKey(source)
    if (targets === undefined && keep !== undefined && !mirror) {
      // set()'s one DELETE: the list travels whole (one parameter on SQLite and PostgreSQL, the
      // only databases whose foreign keys throughline trusts), since NOT IN cannot be cut up.
      const kept = dialect.keysIn(targetColumn, keep.map(bindKey), link.target.keyType)
      const where = and(dialect.keysIn(sourceColumn, [sourceKey], link.source.keyType), { sql: `NOT (${kept.sql})`, bindings: kept.bindings })
      return this.#alone(db, () => this.#statement<number>(() => db(link.table).whereRaw(...raw(where)).del()))
    }
    if (targets === undefined) {
      const forward = dialect.keysIn(sourceColumn, [sourceKey], link.source.keyType)
      // A symmetrical relation is a self relation: both columns hold keys of the same model.
      const where = mirror ? or(forward, dialect.keysIn(targetColumn, [sourceKey], link.target.keyType)) : forward
      return this.#alone(db, () => this.#statement<number>(() => db(link.table).whereRaw(...raw(where)).del()))
    }
    const sides = mirror ? 2 : 1
    const fixed = dialect.bindsPerKey(link.source.keyType) * sides
    const parts = chunks(targets, this.#keysPerStatement(link.target.keyType, fixed, targets) / sides)
    // The contract makes every operation atomic: called outside a transaction of ours (remove()
    // with no listener), chunks need one of their own (a savepoint in the caller's transaction).
    if (parts.length > 1 && !this.#inOwnTransaction()) return this.transaction((tx) => tx.deleteLinks(input), ALONE)
    let deleted = 0
    for (const chunk of parts) {
      const keys = chunk.map(bindKey)
      const forward = and(dialect.keysIn(sourceColumn, [sourceKey], link.source.keyType), dialect.keysIn(targetColumn, keys, link.target.keyType))
      const where = mirror
        ? or(forward, and(dialect.keysIn(targetColumn, [sourceKey], link.target.keyType), dialect.keysIn(sourceColumn, keys, link.source.keyType)))
        : forward
      deleted += await this.#alone(db, () => this.#statement<number>(() => db(link.table).whereRaw(...raw(where)).del()))
    }
    return deleted
  }

  /**
   * Runs one statement; outside a transaction, where the statement is a transaction of its own,
   * runs it again when the database aborted it for a conflict (a deadlock), as a transaction
   * of ours would be.
   */
  #alone<R>(db: Knex, run: () => Promise<R>): Promise<R> {
    return isTransaction(db) ? run() : this.#retryingConflicts(run)
  }

  async selectTargets(input: SelectTargetsInput): Promise<Row[]> {
    const db = this.#executor()
    return this.#selectRows(db, this.#targetsQuery(db, input, true), T, input.link.target)
  }

  async selectLinkedTargets(input: SelectTargetsInput): Promise<LinkedRow[]> {
    const db = this.#executor()
    const { link } = input
    // The join table's columns beside the target's; link keys as text when 64-bit, as selectThroughRows reads them.
    const aliases = throughAliases(link)
    const builder = this.#targetsQuery(db, input, true)
    for (const { column, alias, keyType } of aliases) builder.select(this.#keyColumn(db, `${L}.${column}`, keyType ?? 'integer', alias))
    return (await this.#selectRows(db, builder, T, link.target)).map((row) => splitLinkedRow(row, aliases))
  }

  async selectTargetKeys(input: SelectTargetsInput): Promise<Key[]> {
    const db = this.#executor()
    const { primaryKey, keyType } = input.link.target
    const rows = await this.#statement<Row[]>(() => this.#targetsQuery(db, input, true).select(this.#keyColumn(db, `${T}.${primaryKey}`, keyType, 'k')))
    return rows.map((row) => readStoredKey(row.k, keyType))
  }

  async countTargets(input: SelectTargetsInput): Promise<number> {
    const db = this.#executor()
    const { link, source, query } = input
    const { dialect } = this.#shared
    const guard = query.where.length === 0 && query.exclude.length === 0 ? await this.#countGuard(link) : false
    if (guard !== false) {
      // Every link row has its target row (see countGuard): the join table's index alone, while
      // that holds. The text is the same for every source of the link (two bindings, the source
      // twice): built once per guard with knex's builder, then sent as it is.
      // The source's condition is part of the key: on PostgreSQL a key beyond 32 bits is cast.
      const sourceCondition = dialect.keysIn(`${L}.${link.sourceColumn}`, [bindKey(source)], link.source.keyType)
      const known = this.#shared.countTexts.get(link)
      let text = known?.guard === guard && known.condition === sourceCondition.sql ? known.sql : undefined
      if (text === undefined) {
        const joined = this.#targetsQuery(db, input, false).count({ count: '*' }).toSQL()
        const statement = db.raw(...raw(guardedLinkCount(guard, link, L, sourceCondition, { sql: joined.sql, bindings: [...joined.bindings] }, dialect.integrityQuery !== undefined))).toSQL()
        if (statement.bindings.length !== 2) throw new StorageError(this.name, `the count of ${link.table} has ${String(statement.bindings.length)} bindings, not 2.`)
        text = statement.sql
        this.#shared.countTexts.set(link, { guard, condition: sourceCondition.sql, sql: text })
      }
      const sql = text
      const counted = await this.#statement(() => db.raw(sql, [bindKey(source), bindKey(source)]))
      return Number(rowsOf(dialect.name, counted)[0]?.count ?? 0)
    }
    const rows = await this.#statement<Row[]>(() => this.#targetsQuery(db, input, false).count({ count: '*' }))
    // pg returns COUNT(*) (a bigint) as a string.
    return Number(rows[0]?.count ?? 0)
  }

  async selectThroughRows({ link, source, targets }: SelectThroughRowsInput): Promise<Row[]> {
    const db = this.#executor()
    const { dialect } = this.#shared
    const sourceCondition = dialect.keysIn(link.sourceColumn, [bindKey(source)], link.source.keyType)
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
      const where = chunk === undefined ? sourceCondition : and(sourceCondition, dialect.keysIn(link.targetColumn, chunk.map(bindKey), link.target.keyType))
      const query = (): Knex.QueryBuilder => {
        const builder = db(link.table).select('*').whereRaw(...raw(where))
        for (const [column, spec, alias] of exactColumns) builder.select(this.#keyColumn(db, column, spec.keyType, alias))
        return link.primaryKey === undefined ? builder : builder.orderBy(link.primaryKey, 'asc')
      }
      rows.push(...(await this.#statement<Row[]>(query)))
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
      const sourceCondition = dialect.keysIn(`${L}.${link.sourceColumn}`, chunk.map(bindKey), link.source.keyType)
      const builder = this.#linkedTargets(db, link, sourceCondition, query.where).select(
        this.#keyColumn(db, `${L}.${link.sourceColumn}`, link.source.keyType, SOURCE_KEY),
      )
      const { limit } = query
      let rows: Row[]
      if (limit === undefined) {
        // By source, then the key, where that is the order asked for: the join table's index order.
        const byIndex = prefetchKeyOrder(link, query.orderBy, this.#shared.dialect.name, L)
        if (byIndex !== undefined) builder.orderByRaw(...raw(byIndex))
        else this.#orderBy(builder, T, link.target, query.orderBy, link)
        rows = await this.#selectRows(db, builder, T, link.target)
      } else {
        // The first `limit` rows of each source, in one statement: numbered per source in the
        // query's order by a window function (PostgreSQL, MySQL 8, MariaDB 10.2, SQLite 3.25).
        const terms = this.#orderTerms(T, link.target, query.orderBy, link)
        const order = { sql: terms.map((term) => term.sql).join(', '), bindings: terms.flatMap((term) => term.bindings) }
        builder.select(db.raw(...raw({ sql: `ROW_NUMBER() OVER (PARTITION BY ?? ORDER BY ${order.sql}) AS ??`, bindings: [`${L}.${link.sourceColumn}`, ...order.bindings, RANK] })))
        const ranked = (inner: Knex.QueryBuilder): Knex.QueryBuilder =>
          db.select('*').from(inner.as(RANKED)).where(`${RANKED}.${RANK}`, '<=', limit).orderBy(`${RANKED}.${RANK}`, 'asc')
        rows = (await this.#selectRows(db, builder, T, link.target, ranked)).map((row) => withoutColumn(row, RANK))
      }
      for (const row of rows) found.push({ source: readStoredKey(row[SOURCE_KEY], link.source.keyType), row: withoutColumn(row, SOURCE_KEY) })
    }
    return found
  }

  async countLinks({ link, sources, related, through, distinct }: CountLinksInput): Promise<LinkCount[]> {
    const db = this.#executor()
    const { dialect } = this.#shared
    const { target } = link
    const sourceColumn = `${L}.${link.sourceColumn}`
    const counted: LinkCount[] = []
    const guard = dialect.name === 'sqlite' && related.length === 0 && through.length === 0 ? await this.#countGuard(link) : false
    if (guard !== false) {
      const statement = guardedSqliteLinkCounts(guard, link, keysJson(sources, link.source.keyType), SOURCE_KEY, distinct)
      const rows = rowsOf(dialect.name, await this.#statement(() => db.raw(...raw(statement))))
      return rows.map((row) => ({ source: readStoredKey(row[SOURCE_KEY], link.source.keyType), count: Number(row.count) }))
    }
    for (const chunk of chunks(sources, this.#keysPerStatement(link.source.keyType, conditionBinds([...related, ...through]), sources))) {
      const query = (): Knex.QueryBuilder => {
        const builder = db({ [L]: link.table })
          .join({ [T]: target.table }, `${T}.${target.primaryKey}`, `${L}.${link.targetColumn}`)
          .whereRaw(...raw(dialect.keysIn(sourceColumn, chunk.map(bindKey), link.source.keyType)))
        for (const condition of through) applyCondition(builder, dialect, L, linkUuidColumns(link), condition)
        for (const condition of related) applyCondition(builder, dialect, T, uuidColumns(target), condition)
        builder.select(this.#keyColumn(db, sourceColumn, link.source.keyType, SOURCE_KEY)).groupBy(sourceColumn)
        // COUNT(DISTINCT target) for Django's Count(distinct=True): a pair stored twice counts once.
        return distinct ? builder.countDistinct({ count: `${L}.${link.targetColumn}` }) : builder.count({ count: '*' })
      }
      // pg returns COUNT(*) (a bigint) as a string.
      for (const row of await this.#statement<Row[]>(query)) counted.push({ source: readStoredKey(row[SOURCE_KEY], link.source.keyType), count: Number(row.count) })
    }
    return counted
  }

  async selectSources(input: SelectSourcesInput): Promise<Row[]> {
    const db = this.#executor()
    return this.#selectRows(db, this.#sourcesQuery(db, input, true), S, input.link.source)
  }

  async selectSourceKeys(input: SelectSourcesInput): Promise<Key[]> {
    const db = this.#executor()
    const { primaryKey, keyType } = input.link.source
    const rows = await this.#statement<Row[]>(() => this.#sourcesQuery(db, input, true).select(this.#keyColumn(db, `${S}.${primaryKey}`, keyType, 'k')))
    return rows.map((row) => readStoredKey(row.k, keyType))
  }

  async countSources(input: SelectSourcesInput): Promise<number> {
    const db = this.#executor()
    const rows = await this.#statement<Row[]>(() => this.#sourcesQuery(db, input, false).count({ count: '*' }))
    // pg returns COUNT(*) (a bigint) as a string.
    return Number(rows[0]?.count ?? 0)
  }

  async insertTarget({ target, values }: InsertTargetInput): Promise<Row> {
    const db = this.#executor()
    const row: Record<string, Knex.Value> = {}
    for (const [column, value] of Object.entries(values)) {
      if (!isIdentifier(column) || (target.columns !== undefined && !target.columns.includes(column))) {
        throw new UnknownColumnError(`${target.model} has no column ${formatValue(column)}.`)
      }
      if (value !== undefined) row[column] = value as Knex.Value
    }
    const given = row[target.primaryKey]
    if (given === undefined || given === null) {
      // As the memory adapter: only integer keys are generated.
      if (target.keyType !== 'integer' && target.keyType !== 'bigint') {
        throw new InvalidArgumentError(`${target.model} rows need a "${target.primaryKey}" value: only integer keys are generated.`)
      }
    } else {
      const key = coerceSpecKey(given, target)
      // knex cannot quote a BigInt into the message of a failed SQLite statement (it throws a
      // TypeError instead, losing the driver's error): a 64-bit key goes as its digits, which
      // the INTEGER column's affinity stores as the same integer, exactly.
      row[target.primaryKey] = typeof key === 'bigint' && this.#shared.dialect.name === 'sqlite' ? String(key) : bindKey(key)
    }
    let stored: Row | undefined
    if (this.#shared.dialect.returning) {
      const rows = await this.#statement<Row[]>(() => db(target.table).insert(row).returning('*'))
      stored = rows[0]
    } else if (await this.#supportsReturning(db)) {
      // MariaDB has INSERT ... RETURNING, which knex's MySQL compiler leaves out: append it to
      // the statement knex compiled (placeholders and bindings unchanged).
      const insert = db(target.table).insert(row).toSQL()
      const [rows] = await this.#statement<[Row[]]>(() => db.raw(`${insert.sql} RETURNING *`, insert.bindings))
      stored = rows[0]
    } else {
      // MySQL has no RETURNING: insert, then read the row back as stored (defaults included).
      const ids = await this.#statement<unknown[]>(() => db(target.table).insert(row))
      const key = row[target.primaryKey] ?? (ids[0] as Knex.Value)
      const rows = await this.#statement<Row[]>(() =>
        db(target.table).select('*').whereRaw(...raw(this.#shared.dialect.keysIn(target.primaryKey, [key], target.keyType))),
      )
      stored = rows[0]
    }
    if (stored === undefined) throw new StorageError(this.name, `the new ${target.model} row could not be read back from "${target.table}".`)
    // A given key is stored as given (and a 64-bit one could come back rounded); a generated
    // one is read back.
    const key = row[target.primaryKey]
    stored[target.primaryKey] = readStoredKey(key === undefined ? stored[target.primaryKey] : key, target.keyType)
    return stored
  }

  async updateTargets({ target, keys, values }: UpdateTargetsInput): Promise<number> {
    const db = this.#executor()
    const { dialect } = this.#shared
    const changes: Record<string, Knex.Value> = {}
    for (const [column, value] of Object.entries(values)) if (value !== undefined) changes[column] = value as Knex.Value
    const noChange = Object.keys(changes).length === 0
    let changed = 0
    for (const chunk of chunks(keys, this.#keysPerStatement(target.keyType, Object.keys(changes).length, keys))) {
      const where = dialect.keysIn(target.primaryKey, chunk.map(bindKey), target.keyType)
      if (noChange) {
        // Nothing to write: the rows that would have been updated are the rows that exist.
        const rows = await this.#statement<Row[]>(() => db(target.table).whereRaw(...raw(where)).count({ count: '*' }))
        changed += Number(rows[0]?.count ?? 0)
      } else {
        changed += await this.#statement<number>(() => db(target.table).update(changes).whereRaw(...raw(where)))
      }
    }
    return changed
  }

  /** What the database's catalog says about `table` (see `RelationAdapter.describeTable`); `undefined` when it does not exist. */
  async describeTable(table: string): Promise<TableDescription | undefined> {
    return describeKnexTable(this.#executor(), this.#shared.dialect.name, table)
  }

  /**
   * Whether the database refuses a link row to a missing row by itself (see
   * `RelationAdapter.foreignKeysEnforced`): on SQLite from its pragmas, on PostgreSQL from
   * pg_catalog; `false` on MySQL, where add() keeps its read. Read once per join table and remembered by this
   * adapter and its transactions' adapters; not counted as a statement (a catalog read, as
   * describeTable's).
   */
  async foreignKeysEnforced(link: LinkSpec): Promise<boolean> {
    return (await this.#foreignKeyFacts(link)).insert !== false
  }

  /** What the catalog says of the join table's foreign keys, read once per join table. */
  #foreignKeyFacts(link: LinkSpec): Promise<ForeignKeyFacts> {
    return this.#shared.foreignKeys.get(link, (query) => this.#catalogRow(query))
  }

  /** The guard of a count of the join table alone, or false (see ForeignKeyFactsCache.countGuard). */
  #countGuard(link: LinkSpec): Promise<string | false> {
    const { dialect, root } = this.#shared
    if (dialect.countGuard === undefined) return Promise.resolve(false)
    // SQLite's guard compares PRAGMA data_version, which each connection numbers its own way
    // (a new one starts again at 1), with the value one connection read: only a pool that keeps
    // one connection for good (knex's default for SQLite: min 1, max 1) may trust it.
    const pool = (root as { client?: { pool?: { min?: unknown; max?: unknown } } }).client?.pool
    if (dialect.name === 'sqlite' && (pool?.min !== 1 || pool.max !== 1)) return Promise.resolve(false)
    return this.#shared.foreignKeys.countGuard(link, (query) => this.#catalogRow(query), this.inTransaction)
  }

  /** A catalog read's one row: introspection, so not counted as a statement. */
  async #catalogRow(query: SqlFragment): Promise<Row | undefined> {
    const { dialect } = this.#shared
    try {
      return rowsOf(dialect.name, await this.#executor().raw(query.sql, query.bindings as Knex.RawBinding[]))[0]
    } catch (error) {
      throw toStorageError(this.name, dialect, error)
    }
  }

  // -------------------------------------------------------------- internals

  /** The connection to run on: this adapter's transaction, the one of the current context, or the root. */
  #executor(): Knex {
    const scope = this.#scope
    if (scope !== undefined) {
      if (!scope.open) {
        throw new InvalidArgumentError('This Knex transaction has already finished; use the adapter it was opened from.')
      }
      return scope.trx
    }
    const joined = current.current()
    return joined !== undefined && joined.open && joined.owner === this.#shared.root ? joined.trx : this.#shared.root
  }

  /** Whether statements run in a transaction this adapter (or the one it was opened from) began. */
  #inOwnTransaction(): boolean {
    if (this.#scope !== undefined) return true
    const joined = current.current()
    return joined !== undefined && joined.open && joined.owner === this.#shared.root
  }

  /** Runs one statement: counted, with driver errors turned into throughline's. */
  async #statement<R>(build: () => PromiseLike<unknown>): Promise<R> {
    this.#shared.statements++
    try {
      const { log, prepared } = this.#shared
      if (log === undefined && prepared === undefined) return (await build()) as R
      const query = build()
      log?.({ type: 'statement', adapter: this.name, sql: sqlOf(query) })
      return (await (prepared === undefined ? query : prepared.run(query))) as R
    } catch (error) {
      throw toStorageError(this.name, this.#shared.dialect, error)
    }
  }

  /**
   * Throws `M2M_CONSTRAINT_VIOLATION` when a string key among `pairs` has no row by exact
   * comparison in its model table, on MySQL/MariaDB (elsewhere there is nothing to check: see
   * exact-keys.ts). Both sides are checked, the target too, since a write may come without a
   * read of its targets. One SELECT for both sides, chunked as any key list; a statement, counted.
   */
  async #assertExactKeys(db: Knex, link: LinkSpec, pairs: InsertLinksInput['pairs']): Promise<void> {
    const checks = exactKeyChecks(this.#shared.dialect, link, pairs)
    if (checks.length === 0) return
    // Every key takes the same room (two bindings, its bytes), whichever table it is looked up
    // in, so one size cuts the keys of all checks into statements.
    const size = Math.max(1, this.#keysPerStatement('string', 0, checks.flatMap((check) => check.keys)))
    const found = checks.map(() => new Set<Key>())
    let parts: ExactKeyPart[] = []
    // Sends the parts gathered so far as one statement (a part per check it reaches into).
    const flush = async (): Promise<void> => {
      const [first, ...others] = parts
      parts = []
      if (first === undefined) return
      const rows = await this.#statement<Row[]>(() => exactKeysQuery(db, this.#shared.dialect, checks, [first, ...others]))
      for (const row of rows) found[Number(row.c)]?.add(readStoredKey(row.k, 'string'))
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

  /** Whether this MySQL-protocol server has INSERT ... RETURNING; failures mapped as for statements. */
  async #supportsReturning(db: Knex): Promise<boolean> {
    try {
      return await supportsReturning(this.#shared.root, db)
    } catch (error) {
      throw toStorageError(this.name, this.#shared.dialect, error)
    }
  }

  /**
   * Runs `builder` selecting every column of the table aliased `alias` (a model's table), and
   * returns the rows with their primary key in the model's key type. A 64-bit key is also
   * selected as text, so that it reads back exactly whatever the driver does with bigints.
   */
  async #selectRows(
    db: Knex,
    builder: Knex.QueryBuilder,
    alias: string,
    spec: TableSpec,
    wrap: (select: Knex.QueryBuilder) => Knex.QueryBuilder = (select) => select,
  ): Promise<Row[]> {
    const { primaryKey, keyType } = spec
    const exact = keyType === 'bigint'
    builder.select(`${alias}.*`)
    if (exact) builder.select(this.#keyColumn(db, `${alias}.${primaryKey}`, keyType, KEY_TEXT))
    const rows = await this.#statement<Row[]>(() => wrap(builder))
    if (!exact) {
      for (const row of rows) row[primaryKey] = readStoredKey(row[primaryKey], keyType)
      return rows
    }
    return rows.map((row) => {
      row[primaryKey] = readStoredKey(row[KEY_TEXT], keyType)
      return withoutColumn(row, KEY_TEXT)
    })
  }

  /** Orders `builder` by `orderBy` on the table aliased `alias` (a model's table, described by `spec`). */
  #orderBy(builder: Knex.QueryBuilder, alias: string, spec: TableSpec, orderBy: SelectTargetsInput['query']['orderBy'], link?: LinkSpec): void {
    for (const term of this.#orderTerms(alias, spec, orderBy, link)) builder.orderByRaw(...raw(term))
  }

  /** The terms of an order on the table aliased `alias`, each a fragment (`ORDER BY` and `OVER (ORDER BY …)` take them). */
  #orderTerms(alias: string, spec: TableSpec, orderBy: SelectTargetsInput['query']['orderBy'], link?: LinkSpec): SqlFragment[] {
    const { dialect } = this.#shared
    // In a target read (`link` given), a numeric key orders by the join table's copy of it (see ordersKeyByLink).
    const key = link !== undefined ? keyOrderColumn(link, dialect.name, L, alias) : `${alias}.${spec.primaryKey}`
    return orderBy.map(({ column, direction, through }) => {
      // A through term (`through__created_at`) orders by the join table's column, aliased L.
      if (through === true) return dialect.orderTerm(`${L}.${column}`, direction)
      return column === spec.primaryKey ? dialect.keyOrderTerm(key, direction, spec.keyType) : dialect.orderTerm(`${alias}.${column}`, direction)
    })
  }

  /** Selects a key column as `alias`: as text for 64-bit keys, so that it reads back exactly. */
  #keyColumn(db: Knex, column: string, keyType: KeyType, alias: string): Knex.Raw | Record<string, string> {
    if (keyType !== 'bigint') return { [alias]: column }
    return db.raw(`CAST(?? AS ${this.#shared.dialect.keyTextType}) AS ??`, [column, alias])
  }

  /**
   * How many of `keys` (of `keyType`) fit in one statement beside `fixed` other bound values:
   * under the bind-parameter limit and, where values are inlined, under the statement size.
   */
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

  /** The target rows linked from source, filtered, and (when `ordered`) ordered and paged. */
  #targetsQuery(db: Knex, { link, source, query }: SelectTargetsInput, ordered: boolean): Knex.QueryBuilder {
    const { dialect } = this.#shared
    const sourceCondition = dialect.keysIn(`${L}.${link.sourceColumn}`, [bindKey(source)], link.source.keyType)
    const builder = this.#linkedTargets(db, link, sourceCondition, query.where)
    for (const group of query.exclude) builder.whereRaw(...raw(excludedFragment(dialect, T, uuidColumns(link.target), group)))
    if (!ordered) return builder
    this.#orderBy(builder, T, link.target, query.orderBy, link)
    // The limit in the text, the offset bound: see limitLiteral.
    if (query.limit !== undefined) builder.limit(Number(limitLiteral(query.limit)), { skipBinding: true })
    if (query.offset !== undefined && query.offset > 0) builder.offset(query.offset)
    return builder
  }

  /** The target table `T` joined to the link table `L`, for the sources in `sourceCondition`. */
  #linkedTargets(db: Knex, link: LinkSpec, sourceCondition: SqlFragment, where: readonly Condition[]): Knex.QueryBuilder {
    const { dialect } = this.#shared
    const target = link.target
    const builder = db({ [T]: target.table })
      .join({ [L]: link.table }, `${L}.${link.targetColumn}`, `${T}.${target.primaryKey}`)
      .whereRaw(...raw(sourceCondition))
    for (const condition of where) applyCondition(builder, dialect, T, uuidColumns(target), condition)
    return builder
  }

  /**
   * The source reads: the rows of `S` (the link's source table) by their links `L` and linked
   * rows `T`, as a join (one row per matching link; a LEFT JOIN when rows with no link match
   * too), or with EXISTS / NOT EXISTS (each row once).
   */
  #sourcesQuery(db: Knex, { link, query }: SelectSourcesInput, ordered: boolean): Knex.QueryBuilder {
    const { dialect } = this.#shared
    const { source, target } = link
    const linked = (builder: Knex.QueryBuilder, { related, through }: LinkConditions): void => {
      for (const condition of through) applyCondition(builder, dialect, L, linkUuidColumns(link), condition)
      for (const condition of related) applyCondition(builder, dialect, T, uuidColumns(target), condition)
    }
    const builder = db({ [S]: source.table })
    const [first] = query.links
    if (query.mode === 'join' && first !== undefined) {
      if (!first.unlinked) {
        builder
          .join({ [L]: link.table }, `${L}.${link.sourceColumn}`, `${S}.${source.primaryKey}`)
          .join({ [T]: target.table }, `${T}.${target.primaryKey}`, `${L}.${link.targetColumn}`)
        linked(builder, first)
      } else {
        // A row with no link row comes once, with nulls for L; a link to a missing row never matches.
        builder
          .leftJoin({ [L]: link.table }, `${L}.${link.sourceColumn}`, `${S}.${source.primaryKey}`)
          .leftJoin({ [T]: target.table }, `${T}.${target.primaryKey}`, `${L}.${link.targetColumn}`)
          .where((either) => {
            either.whereNull(`${L}.${link.sourceColumn}`).orWhere((linkedRow) => {
              linkedRow.whereNotNull(`${T}.${target.primaryKey}`)
              linked(linkedRow, first)
            })
          })
      }
    } else {
      const exists = (conditions: LinkConditions) =>
        function (this: Knex.QueryBuilder): void {
          this.select(db.raw('1'))
            .from({ [L]: link.table })
            .join({ [T]: target.table }, `${T}.${target.primaryKey}`, `${L}.${link.targetColumn}`)
            .whereRaw('?? = ??', [`${L}.${link.sourceColumn}`, `${S}.${source.primaryKey}`])
          linked(this, conditions)
        }
      const noLink = function (this: Knex.QueryBuilder): void {
        this.select(db.raw('1'))
          .from({ [L]: link.table })
          .whereRaw('?? = ??', [`${L}.${link.sourceColumn}`, `${S}.${source.primaryKey}`])
      }
      if (query.links.length === 1 && first !== undefined && !first.unlinked) {
        // The common read, one entry met by a link, keeps its plain EXISTS / NOT EXISTS.
        if (query.mode === 'exists') builder.whereExists(exists(first))
        else builder.whereNotExists(exists(first))
      } else {
        const met = (all: Knex.QueryBuilder): void => {
          for (const conditions of query.links) {
            all.where((entry) => {
              entry.whereExists(exists(conditions))
              if (conditions.unlinked) entry.orWhereNotExists(noLink)
            })
          }
        }
        if (query.mode === 'exists') builder.where(met)
        else builder.whereNot(met)
      }
    }
    for (const condition of query.where) applyCondition(builder, dialect, S, uuidColumns(source), condition)
    if (!ordered) return builder
    this.#orderBy(builder, S, source, query.orderBy)
    // The limit in the text, the offset bound: see limitLiteral.
    if (query.limit !== undefined) builder.limit(Number(limitLiteral(query.limit)), { skipBinding: true })
    if (query.offset !== undefined && query.offset > 0) builder.offset(query.offset)
    return builder
  }
}

// An operation run outside a transaction: retried as a write call's transaction is.
const ALONE: TransactionOptions = { retry: true }

/** The SQL text of a knex query or raw statement, placeholders and all, for the log. */
function sqlOf(query: unknown): string {
  const compiled = (query as { toSQL?: () => { sql?: unknown } | { sql?: unknown }[] }).toSQL?.()
  const parts = Array.isArray(compiled) ? compiled : compiled === undefined ? [] : [compiled]
  return parts.map((part) => String(part.sql)).join('; ')
}

/** Whether `db` is a transaction (the caller's, or one of ours), rather than a Knex instance. */
function isTransaction(db: Knex): boolean {
  return (db as { isTransaction?: boolean }).isTransaction === true
}

// Whether a MySQL-protocol server has INSERT ... RETURNING (MariaDB 10.5+), asked once per Knex
// instance. The version query is introspection, like BEGIN, and is not counted as a statement.
const returningSupport = new WeakMap<Knex, Promise<boolean>>()

function supportsReturning(root: Knex, db: Knex): Promise<boolean> {
  let known = returningSupport.get(root)
  if (known === undefined) {
    known = db.raw('SELECT VERSION() AS ??', ['version']).then((result: unknown) => {
      const rows = (Array.isArray(result) ? result[0] : undefined) as { version?: unknown }[] | undefined
      const version = typeof rows?.[0]?.version === 'string' ? rows[0].version : ''
      const [major = 0, minor = 0] = version.split(/[.-]/).map(Number)
      return /mariadb/i.test(version) && (major > 10 || (major === 10 && minor >= 5))
    })
    // A failed probe is asked again next time rather than remembered.
    void known.catch(() => returningSupport.delete(root))
    returningSupport.set(root, known)
  }
  return known
}

const RANGE: Readonly<Record<'gt' | 'gte' | 'lt' | 'lte', StringComparison>> = { gt: '>', gte: '>=', lt: '<', lte: '<=' }

/** Adds one `filter()` condition on a column of the table aliased `alias`. */
function applyCondition(builder: Knex.QueryBuilder, dialect: KnexDialect, alias: string, uuid: ReadonlySet<string>, { column, op, value }: Condition): void {
  const name = `${alias}.${column}`
  // A uuid key is compared as the database types it (uuid on PostgreSQL, and
  // case-insensitively elsewhere): coerceKey has already lower-cased it.
  const plainStrings = uuid.has(column)
  switch (op) {
    case 'isnull':
      if (value === true) builder.whereNull(name)
      else builder.whereNotNull(name)
      return
    case 'exact':
      if (typeof value === 'string' && !plainStrings) builder.whereRaw(...raw(dialect.compareString(name, '=', value)))
      else builder.whereRaw(`?? = ${dialect.valuePlaceholder(value)}`, [name, bindValue(value)])
      return
    case 'in': {
      const items = value as readonly unknown[]
      const strings = plainStrings ? [] : items.filter((item): item is string => typeof item === 'string')
      const others = plainStrings ? items : items.filter((item) => typeof item !== 'string')
      builder.where((inner) => {
        if (others.length > 0) inner.orWhereRaw(`?? IN (${others.map((item) => dialect.valuePlaceholder(item)).join(', ')})`, [name, ...others.map(bindValue)])
        if (strings.length > 0) inner.orWhereRaw(...raw(dialect.inStrings(name, strings)))
      })
      return
    }
    case 'startswith':
    case 'endswith':
    case 'contains':
      builder.whereRaw(...raw(dialect.textMatch(name, op, value as string)))
      return
    case 'iexact':
    case 'istartswith':
    case 'iendswith':
    case 'icontains':
      builder.whereRaw(...raw(dialect.foldedMatch(name, op, value as string)))
      return
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      if (typeof value === 'string') builder.whereRaw(...raw(dialect.compareString(name, RANGE[op], value)))
      else builder.whereRaw(`?? ${RANGE[op]} ${dialect.valuePlaceholder(value)}`, [name, bindValue(value)])
      return
  }
}

/** A fragment as `whereRaw`/`orderByRaw` arguments. */
function raw(fragment: SqlFragment): [string, Knex.RawBinding[]] {
  // The shared dialect binds keys, arrays of keys and the caller's values, all of which the
  // drivers take: knex's binding type leaves some of them out (bigint).
  return [fragment.sql, fragment.bindings as Knex.RawBinding[]]
}

function and(left: SqlFragment, right: SqlFragment): SqlFragment {
  return { sql: `(${left.sql}) AND (${right.sql})`, bindings: [...left.bindings, ...right.bindings] }
}

function or(left: SqlFragment, right: SqlFragment): SqlFragment {
  return { sql: `(${left.sql}) OR (${right.sql})`, bindings: [...left.bindings, ...right.bindings] }
}

// Knex's types leave out bigint, which every supported driver binds (as a 64-bit integer).
function bindKey(key: Key): Knex.Value {
  return key as Knex.Value
}

function bindValue(value: unknown): Knex.Value {
  return value as Knex.Value
}
