import type { Knex } from 'knex'

/** What this module needs of a better-sqlite3 statement. */
interface PreparedStatement {
  readonly reader: boolean
  all(parameters: unknown[]): unknown[]
  run(parameters: unknown[]): { readonly changes: number; readonly lastInsertRowid: number | bigint }
}

/** What this module needs of a better-sqlite3 connection. */
interface SqliteConnection {
  prepare(sql: string): PreparedStatement
}

/** What this module needs of knex's client (the root's, or a transaction's). */
interface KnexClient {
  readonly driverName?: unknown
  /** Set on a transaction's client. */
  readonly transacting?: unknown
  readonly config?: { readonly postProcessResponse?: unknown }
  acquireConnection(): Promise<unknown>
  releaseConnection(connection: unknown): Promise<unknown>
  emit(event: string, ...data: unknown[]): boolean
}

/** A knex query (builder or raw) compiled: one statement, as `toSQL()` gives it. */
interface Compiled {
  readonly method?: string
  readonly sql: string
  readonly bindings: readonly unknown[]
  readonly returning?: unknown
  readonly pluck?: string
}

/** More texts than this on one connection: the cache starts again (lists of keys travel as one parameter, so texts are few). */
const MAX_TEXTS = 500

/**
 * Runs knex statements on knex's better-sqlite3 connection with statements prepared once per
 * connection and text. knex's better-sqlite3 client prepares every statement again, which is
 * SQLite parsing and planning it each time: 5 µs for a one-row INSERT, 12–17 µs for
 * throughline's guarded INSERT or count, more than the statement's own run. The connection
 * is taken from and given back to knex's pool, the answer has the shape knex gives (rows for a
 * read, the changes for a delete or update, the insert id for an insert, the driver's run
 * result for a raw write), and knex's `query`, `query-response` and `query-error` events are
 * emitted with what knex gives them, so that `knex.on(…)` listeners still see every statement.
 *
 * Everything else runs through knex itself: statements in a transaction (knex checks there
 * that the transaction is still open, and pins its connection), a knex with a
 * `postProcessResponse` hook, any other client, and a query knex compiles to several
 * statements.
 */
export class PreparedSqlite {
  readonly #texts = new WeakMap<SqliteConnection, Map<string, PreparedStatement>>()

  /** Whether `db` runs on better-sqlite3 (the driver whose statements this can keep), with no hook on knex's answers. */
  static applies(db: Knex): boolean {
    const client = (db as unknown as { client?: KnexClient }).client
    return client?.driverName === 'better-sqlite3' && client.config?.postProcessResponse === undefined
  }

  /** Runs `query` (a knex builder or raw, not yet run) and resolves to what awaiting it would. */
  async run(query: PromiseLike<unknown>): Promise<unknown> {
    const { client, toSQL } = query as unknown as { client?: KnexClient; toSQL?: () => Compiled | Compiled[] }
    if (client === undefined || client.transacting === true || toSQL === undefined) return query
    const compiled = toSQL.call(query)
    if (Array.isArray(compiled) || compiled.sql === '') return query
    const connection = (await client.acquireConnection()) as SqliteConnection & { readonly __knexUid?: unknown; readonly __knexTxId?: unknown }
    const event = { __knexUid: connection.__knexUid, __knexTxId: connection.__knexTxId, ...compiled }
    try {
      client.emit('query', event)
      let response: unknown
      try {
        const statement = this.#prepared(connection, compiled.sql)
        const bindings = compiled.bindings.map(bindingOf)
        if (statement.reader) response = answer(compiled, statement.all(bindings))
        else {
          const result = statement.run(bindings)
          response = answer(compiled, result, result)
        }
      } catch (error) {
        client.emit('query-error', error, event)
        throw error
      }
      client.emit('query-response', response, event, query)
      return response
    } finally {
      await client.releaseConnection(connection)
    }
  }

  #prepared(connection: SqliteConnection, sql: string): PreparedStatement {
    let texts = this.#texts.get(connection)
    if (texts === undefined || texts.size > MAX_TEXTS) {
      texts = new Map()
      this.#texts.set(connection, texts)
    }
    let statement = texts.get(sql)
    if (statement === undefined) {
      statement = connection.prepare(sql)
      texts.set(sql, statement)
    }
    return statement
  }
}

/** A binding as knex's better-sqlite3 client sends it: dates as milliseconds, booleans as 0 or 1. */
function bindingOf(binding: unknown): unknown {
  if (binding instanceof Date) return binding.valueOf()
  if (typeof binding === 'boolean') return Number(binding)
  return binding
}

/** The answer knex's SQLite client gives for the query's method (its `processResponse`). */
function answer(compiled: Compiled, response: unknown, run?: { readonly changes: number; readonly lastInsertRowid: number | bigint }): unknown {
  switch (compiled.method) {
    case 'first':
      return (response as unknown[])[0]
    case 'pluck':
      return (response as Record<string, unknown>[]).map((row) => row[compiled.pluck ?? ''])
    case 'insert':
      return run === undefined ? response : [run.lastInsertRowid]
    case 'update':
      return run === undefined ? response : run.changes
    case 'del':
    case 'counter':
      return run === undefined ? response : run.changes
    default:
      return response
  }
}
