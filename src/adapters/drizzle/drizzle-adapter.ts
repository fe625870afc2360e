import { DrizzleError, DrizzleQueryError, is, Param, SQL, sql, StringChunk, type SQLChunk } from 'drizzle-orm'
import { MySqlDialect, MySqlTransaction } from 'drizzle-orm/mysql-core'
import { PgDialect, PgTransaction } from 'drizzle-orm/pg-core'
import { SQLiteDialect, SQLiteTransaction } from 'drizzle-orm/sqlite-core'
import type { AdapterLogger } from '../../adapter/adapter-log.js'
import type { Row } from '../../adapter/relation-adapter.js'
import type { RetryPolicy } from '../../adapter/retry-policy.js'
import { InvalidArgumentError } from '../../errors/throughline-error.js'
import { connectionState } from '../better-sqlite3/connection-state.js'
import type { SqliteDatabase } from '../better-sqlite3/sqlite-database.js'
import { FragmentAdapter, type PreparedStatement, type SqlDriver, type SqlResult } from '../sql/fragment-adapter.js'
import { mysqlDialect, pgDialect, sqliteDialect, type SqlDialect, type SqlFragment } from '../sql/sql-dialect.js'
import { driverValue } from '../sql/sql-fragment.js'

/** The databases the Drizzle adapter supports: `'sqlite'`, `'pg'` (PostgreSQL) and `'mysql'` (MySQL/MariaDB). */
export type DrizzleDialectName = 'sqlite' | 'pg' | 'mysql'

/** Options of {@link DrizzleAdapter}. */
export interface DrizzleAdapterOptions {
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

/**
 * What the adapter uses of a Drizzle database or transaction, whatever its dialect: the
 * dialect object, the driver's client (`$client`: better-sqlite3's Database on SQLite), and on
 * PostgreSQL and MySQL `execute` and `transaction`. Structural, so that any driver's database
 * fits without naming its class; `all` marks a SQLite database.
 */
interface DrizzleLike {
  readonly dialect: unknown
  readonly $client?: unknown
  all?(query: SQL): unknown
  execute?(query: SQL): Promise<unknown>
  transaction?(work: (tx: never) => Promise<unknown>, config?: { isolationLevel?: string }): Promise<unknown>
}

/**
 * The handle statements run on: a Drizzle database or transaction, and on SQLite whether it
 * stands for a transaction of ours (opened with `BEGIN IMMEDIATE` on the database itself, as
 * Drizzle's SQLite transactions are synchronous and cannot await a call).
 */
interface Handle {
  readonly db: DrizzleLike
  readonly own: boolean
}

// One root handle per Drizzle database, so that every adapter on it sees the same transaction
// (a listener's call joins the call that emitted the event, whichever adapter it uses).
const roots = new WeakMap<object, Handle>()

/**
 * A `RelationAdapter` (see throughline's root entry) over a Drizzle database, for SQLite (`drizzle-orm/better-sqlite3`),
 * PostgreSQL (`drizzle-orm/node-postgres`) and MySQL/MariaDB (`drizzle-orm/mysql2`), with the
 * statements, limits and semantics of the Knex and Kysely adapters. Every statement is built
 * with Drizzle's `sql` tag: identifiers quoted by Drizzle's dialect, every value a bound
 * parameter. On PostgreSQL and MySQL, pass a transaction of yours
 * (`db.transaction(async (tx) => …)`) to run throughline's calls inside it: each call then takes
 * a savepoint, so that a failed call undoes only its own writes.
 *
 * @example
 * ```ts
 * import Database from 'better-sqlite3'
 * import { drizzle } from 'drizzle-orm/better-sqlite3'
 * import { manyToMany } from 'throughline'
 * import { DrizzleAdapter, drizzleModel } from 'throughline/drizzle'
 * import { users, interviews } from './schema'
 *
 * const db = drizzle(new Database('app.db'))
 * const favorites = manyToMany(drizzleModel('User', users), drizzleModel('Interview', interviews), {
 *   name: 'favorite_interviews',
 *   adapter: new DrizzleAdapter(db),
 * })
 * await favorites.of(user).toggle(interview)
 * ```
 */
export class DrizzleAdapter extends FragmentAdapter<Handle> {
  constructor(db: object, options: DrizzleAdapterOptions = {}) {
    const given = (typeof db === 'object' ? db : null) as Partial<DrizzleLike> | null
    if (given?.dialect === undefined || (typeof given.execute !== 'function' && typeof given.all !== 'function')) {
      throw new InvalidArgumentError('DrizzleAdapter takes a Drizzle database (or a Drizzle transaction): new DrizzleAdapter(db).')
    }
    const drizzle = given as DrizzleLike
    const dialect = drizzleDialect(drizzle)
    if (dialect.name === 'sqlite' && is(drizzle, SQLiteTransaction)) {
      throw new InvalidArgumentError(
        "DrizzleAdapter on SQLite takes the database, not a transaction: Drizzle's SQLite transactions are synchronous and cannot await throughline's calls. Pass db: each call is atomic on its own, and adapter.transaction(async (tx) => …relation.using(tx)…) groups calls in one transaction.",
      )
    }
    let root = roots.get(drizzle)
    if (root === undefined) {
      root = { db: drizzle, own: false }
      roots.set(drizzle, root)
    }
    super(drizzleDriver(dialect, drizzle), root, options)
  }
}

/** The database of a Drizzle database or transaction, from its dialect object. */
function drizzleDialect(db: DrizzleLike): SqlDialect {
  if (is(db.dialect, PgDialect)) return pgDialect
  if (is(db.dialect, MySqlDialect)) return mysqlDialect
  if (is(db.dialect, SQLiteDialect)) return sqliteDialect
  throw new InvalidArgumentError('DrizzleAdapter supports Drizzle databases on SQLite, PostgreSQL and MySQL/MariaDB (sqlite-core, pg-core and mysql-core dialects).')
}

/**
 * A fragment as Drizzle SQL: each `??` becomes `sql.identifier` (a dotted name, its quoted
 * parts), each `?` a `Param`. Built from chunks directly, one object per value, and the text
 * between values shared when it repeats (the `, ` of a key list): a statement of 65 535 keys
 * would otherwise make several objects per key, which a call of a million keys kept alive
 * chunk after chunk until the collector ran.
 */
function toDrizzle(part: SqlFragment, bind: (value: unknown) => unknown): SQL {
  const chunks: SQLChunk[] = []
  const texts = new Map<string, StringChunk>()
  const text = (value: string): StringChunk => {
    let chunk = texts.get(value)
    if (chunk === undefined) {
      chunk = new StringChunk(value)
      texts.set(value, chunk)
    }
    return chunk
  }
  let last = 0
  let index = 0
  for (const match of part.sql.matchAll(/\?\??/g)) {
    if (match.index > last) chunks.push(text(part.sql.slice(last, match.index)))
    const binding = part.bindings[index++]
    if (match[0] === '??') {
      const names = String(binding).split('.')
      chunks.push(sql.join(names.map((name) => sql.identifier(name)), sql.raw('.')))
    } else {
      // A Param, never a bare value: Drizzle would spread an array into a list, and a
      // PostgreSQL key list is one array parameter.
      chunks.push(new Param(bind(binding)))
    }
    last = match.index + match[0].length
  }
  if (last < part.sql.length) chunks.push(text(part.sql.slice(last)))
  return new SQL(chunks)
}

/** Statements and transactions through Drizzle. */
function drizzleDriver(dialect: SqlDialect, root: DrizzleLike): SqlDriver<Handle> {
  const bind = driverValue(dialect.name)
  const text = (db: DrizzleLike, query: SQL): string => (db.dialect as { sqlToQuery(query: SQL): { sql: string } }).sqlToQuery(query).sql
  const base = { library: 'Drizzle', dialect, name: `drizzle(${dialect.name})` }
  if (dialect.name === 'sqlite') {
    // better-sqlite3's Database (drizzle-orm/better-sqlite3's $client): statements go to it
    // directly, prepared once per text and cached, under the lock BetterSqlite3Adapter takes on
    // the same connection. (Drizzle's raw queries are compiled and prepared again on every call,
    // which cost a short call, a toggle, a third of its time.)
    const database = sqliteClient(root)
    const state = connectionState(database, STATEMENT_CACHE)
    const connection = state.lock
    const command = (statement: string): void => {
      state.cache.get(statement).run()
    }
    return {
      ...base,
      // better-sqlite3's one Database: the same connection for good.
      oneConnection: () => Promise.resolve(true),
      // A transaction of the caller's own, begun on the connection (`BEGIN`): open while no
      // transaction of ours holds the connection. Calls then take savepoints inside it.
      isTransaction: (handle) => !handle.own && connection.free && database.inTransaction,
      prepare(handle, statement) {
        const { text, parameters } = sqliteStatement(statement, bind)
        const execute = (): SqlResult => {
          const prepared = state.cache.get(text)
          if (prepared.reader) return { rows: prepared.all(...parameters) as Row[], affected: undefined }
          return { rows: [], affected: prepared.run(...parameters).changes }
        }
        return {
          sql: text,
          async run() {
            // Inside a transaction of ours, at once; outside, once no transaction holds the connection.
            if (handle.own || connection.free) return execute()
            await connection.acquire()
            try {
              return execute()
            } finally {
              connection.release()
            }
          },
        }
      },
      async transaction(rootHandle, _serializable, work) {
        const wait = connection.acquire()
        if (wait !== undefined) await wait
        try {
          // IMMEDIATE takes the write lock at once (through the busy timeout): a deferred BEGIN
          // would read first and then fail to upgrade, which no wait mends.
          command('BEGIN IMMEDIATE')
          let result: Awaited<ReturnType<typeof work>>
          try {
            result = await work({ db: rootHandle.db, own: true })
          } catch (error) {
            rollback(database, state)
            throw error
          }
          try {
            command('COMMIT')
          } catch (error) {
            rollback(database, state)
            throw error
          }
          return result
        } finally {
          connection.release()
        }
      },
    }
  }
  const isTransaction = (db: DrizzleLike): boolean => (dialect.name === 'pg' ? is(db, PgTransaction) : is(db, MySqlTransaction))
  return {
    ...base,
    isTransaction: (handle) => handle.own || isTransaction(handle.db),
    prepare(handle, statement) {
      const query = toDrizzle(statement, bind)
      return lazyText(
        () => text(handle.db, query),
        async () => (dialect.name === 'pg' ? pgResult(await handle.db.execute?.(query)) : mysqlResult(await handle.db.execute?.(query))),
      )
    },
    async transaction(rootHandle, serializable, work) {
      const { db } = rootHandle
      if (typeof db.transaction !== 'function') throw new InvalidArgumentError('This Drizzle database has no transaction(): pass the database, not a query builder.')
      const config = serializable ? { isolationLevel: 'serializable' } : undefined
      try {
        return (await db.transaction((tx: never) => work({ db: tx, own: true }), config)) as never
      } catch (error) {
        // BEGIN, COMMIT or ROLLBACK failed in Drizzle's hands: the driver's error tells a
        // serialization failure at COMMIT from any other.
        throw unwrap(error)
      }
    },
  }
}

// Prepared statements kept per SQLite connection (shared with BetterSqlite3Adapter's cache).
const STATEMENT_CACHE = 500

/** Whether a Drizzle SQLite database's client is better-sqlite3's Database (or one that works alike). */
function isBetterSqlite3(client: object): client is SqliteDatabase {
  const candidate = client as Partial<SqliteDatabase>
  return typeof candidate.prepare === 'function' && typeof candidate.inTransaction === 'boolean'
}

/**
 * A fragment as SQLite text and its parameters, in one pass: each `??` a quoted identifier (a
 * dotted name, its quoted parts), each `?` left a parameter whose value is bound as
 * better-sqlite3 takes it.
 */
function sqliteStatement(part: SqlFragment, bind: (value: unknown) => unknown): { readonly text: string; readonly parameters: unknown[] } {
  const parameters: unknown[] = []
  let index = 0
  const text = part.sql.replace(/\?\??/g, (match) => {
    const binding = part.bindings[index++]
    if (match === '?') {
      parameters.push(bind(binding))
      return '?'
    }
    return String(binding)
      .split('.')
      .map((name) => `"${name.replaceAll('"', '""')}"`)
      .join('.')
  })
  return { text, parameters }
}

/**
 * The better-sqlite3 Database of a Drizzle SQLite database. Only better-sqlite3 (or a client
 * that works alike: synchronous, one connection) keeps a transaction across the awaits of a
 * call: an asynchronous client (libSQL, D1, sqlite-proxy) may send BEGIN, the statements and
 * COMMIT each on a connection of their own, and a call would neither be atomic nor roll back.
 */
function sqliteClient(db: DrizzleLike): SqliteDatabase {
  const client = db.$client
  if (typeof client === 'object' && client !== null && isBetterSqlite3(client)) return client
  throw new InvalidArgumentError(
    'DrizzleAdapter on SQLite takes a drizzle-orm/better-sqlite3 database: an asynchronous SQLite driver (libSQL, D1, sqlite-proxy) cannot hold a transaction across the awaits of a call, ' +
      'so a call would not be atomic. Use BetterSqlite3Adapter or KyselyAdapter on better-sqlite3, or the Drizzle adapter on PostgreSQL or MySQL.',
  )
}

/** Rolls back after a failure, which stays the error reported: a failed rollback is not. */
function rollback(database: SqliteDatabase, state: ReturnType<typeof connectionState>): void {
  // SQLite rolls back by itself on some failures (a busy COMMIT, a full disk).
  if (!database.inTransaction) return
  try {
    state.cache.get('ROLLBACK').run()
  } catch {
    // The original failure is the news.
  }
}

/** The driver's own error out of Drizzle's wrappers (`DrizzleQueryError`, `DrizzleError`), whose messages repeat the query's values. */
function unwrap(error: unknown): unknown {
  const wrapped = error instanceof DrizzleQueryError || is(error, DrizzleError)
  return wrapped && error.cause instanceof Error ? error.cause : error
}

/**
 * A prepared statement whose text is compiled only when read (for the log). Drizzle wraps the
 * driver's error in a `DrizzleQueryError` carrying the query and its values (or, for SQLite's
 * `run()`, a `DrizzleError`): the driver's own
 * error comes out instead, whose code tells a conflict or a constraint, and whose message does
 * not repeat the caller's values.
 */
function lazyText(compile: () => string, run: () => Promise<SqlResult>): PreparedStatement {
  let compiled: string | undefined
  return {
    get sql() {
      return (compiled ??= compile())
    },
    async run() {
      try {
        return await run()
      } catch (error) {
        throw unwrap(error)
      }
    },
  }
}

/** node-postgres's `QueryResult`, PGlite's `Results`, or postgres.js's row array with `count`. */
function pgResult(result: unknown): SqlResult {
  if (Array.isArray(result)) {
    const count = (result as { count?: unknown }).count
    return { rows: result as Row[], affected: typeof count === 'number' ? count : undefined }
  }
  const value = (result ?? {}) as { rows?: Row[]; rowCount?: number | null; affectedRows?: number }
  return { rows: value.rows ?? [], affected: value.rowCount ?? value.affectedRows ?? undefined }
}

/** mysql2's `[rows, fields]`, or `[ResultSetHeader, undefined]` for a write. */
function mysqlResult(result: unknown): SqlResult {
  const first: unknown = Array.isArray(result) ? result[0] : result
  if (Array.isArray(first)) return { rows: first as Row[], affected: undefined }
  const header = (first ?? {}) as { affectedRows?: number; insertId?: unknown }
  return { rows: [], affected: header.affectedRows, insertId: header.insertId }
}
