import type { SqliteDatabase, SqliteStatement } from './sqlite-database.js'

/** How a cached statement returns its rows. */
export type RowMode = 'objects' | 'raw' | 'pluck'

/**
 * The prepared statements of one connection, by text and row mode: a statement is compiled
 * once and run many times. The oldest entry goes when the cache is full; the statements the
 * adapter writes have a text per relation and operation (key lists travel as one JSON
 * parameter), so only `filter()` shapes can fill it.
 */
export class StatementCache {
  readonly #database: SqliteDatabase
  readonly #size: number
  // One map per row mode, keyed by the text itself: a key made of mode and text would be a new
  // string to build and hash on every call.
  readonly #statements: Record<RowMode, Map<string, SqliteStatement>> = { objects: new Map(), raw: new Map(), pluck: new Map() }
  #count = 0

  constructor(database: SqliteDatabase, size: number) {
    this.#database = database
    this.#size = size
  }

  /** The prepared statement for `sql`, compiled on first use. */
  get(sql: string, mode: RowMode = 'objects'): SqliteStatement {
    const statements = this.#statements[mode]
    let statement = statements.get(sql)
    if (statement === undefined) {
      statement = this.#database.prepare(sql)
      if (mode === 'raw') statement.raw(true)
      else if (mode === 'pluck') statement.pluck(true)
      if (this.#count >= this.#size) {
        // Full: forget the oldest text of this mode (or of any mode, when this one has none).
        const oldest = statements.size > 0 ? statements : Object.values(this.#statements).find((map) => map.size > 0)!
        oldest.delete(oldest.keys().next().value!)
        this.#count--
      }
      statements.set(sql, statement)
      this.#count++
    }
    return statement
  }
}

/**
 * One connection is one transaction at a time: the adapter's transactions take this lock for
 * their whole duration (across every `await` inside them), and a statement outside any
 * transaction waits while another holds it, so that it never runs inside someone else's
 * transaction. Uncontended, it is taken and released without waiting.
 */
export class ConnectionLock {
  #held = false
  readonly #waiting: (() => void)[] = []

  /** Whether nothing holds the lock or waits for it. */
  get free(): boolean {
    return !this.#held && this.#waiting.length === 0
  }

  /** Takes the lock: at once when it is free, else after those waiting before. */
  acquire(): Promise<void> | undefined {
    if (this.free) {
      this.#held = true
      return undefined
    }
    return new Promise((resolve) => {
      this.#waiting.push(resolve)
    })
  }

  /** Hands the lock to the next waiting caller, or frees it. */
  release(): void {
    const next = this.#waiting.shift()
    if (next === undefined) this.#held = false
    else next()
  }
}

/** What every adapter over one connection shares: its statements and its lock. */
export interface ConnectionState {
  readonly cache: StatementCache
  readonly lock: ConnectionLock
}

const states = new WeakMap<SqliteDatabase, ConnectionState>()

/** The shared state of a connection, created on first use and dropped with the connection. */
export function connectionState(database: SqliteDatabase, cacheSize: number): ConnectionState {
  let state = states.get(database)
  if (state === undefined) {
    state = { cache: new StatementCache(database, cacheSize), lock: new ConnectionLock() }
    states.set(database, state)
  }
  return state
}
