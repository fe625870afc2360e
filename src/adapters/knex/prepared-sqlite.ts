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
  acquireConnection(): Promise<unknown>
  releaseConnection(connection: unknown): Promise<unknown>
  emit(event: string, data: unknown): boolean
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
 * Runs knex statements on knex's better-sqlite3 connections with statements prepared once per
 * connection and text. knex's better-sqlite3 client prepares every statement again, which is
 * SQLite parsing and planning it each time: 5 µs for a one-row INSERT, 12–17 µs for
 * throughline's guarded INSERT or count, more than the statement's own run. The connection
 * is taken from and given back to knex's pool (a transaction's own connection inside one),
 * the answer has the shape knex gives (rows for a read, the changes for a delete or update,
 * the insert id for an insert, the driver's run result for a raw write), and knex's `query`
 * event is emitted as knex emits it, so that `knex.on('query')` and `DEBUG=knex:query` still
 * see every statement. Any other client, or a query knex compiles to several statements, runs
 * through knex itself.
 */
export class PreparedSqlite {
  readonly #texts = new WeakMap<object, Map<string, PreparedStatement>>()

  /** Whether `db` runs on better-sqlite3 (the driver whose statements this can keep). */
  static applies(db: Knex): boolean {
    return (db as unknown as { client?: KnexClient }).client?.driverName === 'better-sqlite3'
  }

  /** Runs `query` (a knex builder or raw, not yet run) and resolves to what awaiting it would. */
  async run(query: PromiseLike<unknown>): Promise<unknown> {
    const { client, toSQL } = query as unknown as { client?: KnexClient; toSQL?: () => Compiled | Compiled[] }
    const compiled = toSQL?.call(query)
    if (client === undefined || compiled === undefined || Array.isArray(compiled) || compiled.sql === '') return query
    const connection = (await client.acquireConnection()) as SqliteConnection & object
    try {
      const statement = this.#prepared(connection, compiled.sql)
      const bindings = compiled.bindings.map(bindingOf)
      client.emit('query', { method: compiled.method, sql: compiled.sql, bindings: compiled.bindings, options: {} })
      if (statement.reader) return answer(compiled, statement.all(bindings))
      const result = statement.run(bindings)
      return answer(compiled, result, result)
    } finally {
      await client.releaseConnection(connection)
    }
  }

  #prepared(connection: SqliteConnection & object, sql: string): PreparedStatement {
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
