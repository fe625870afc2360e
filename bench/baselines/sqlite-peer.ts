import type Database from 'better-sqlite3'
import type { JoinNames } from '../fixtures.js'
import type { PageCard, PeerSubject } from '../peer-subject.js'
import { groupBySource } from './knex-baseline.js'

function quote(name: string): string {
  return `"${name}"`
}

function list(count: number, item = '?'): string {
  return Array.from({ length: count }, () => item).join(', ')
}

/** SQLite's parameters per statement, with room to spare. */
const MAX_PARAMETERS = 30_000

/**
 * The peer baseline on raw better-sqlite3: {@link KnexPeer}'s statements, each prepared once
 * (by its text) and run synchronously; `set` in `db.transaction()`. The floor for
 * BetterSqlite3Adapter.
 */
export class SqlitePeer implements PeerSubject {
  readonly #db: Database.Database
  readonly #names: JoinNames
  readonly #cache = new Map<string, Database.Statement>()
  readonly #setTransaction: (source: number, targets: readonly number[]) => void
  #pageRows: Database.Statement | undefined
  #statements = 0

  constructor(db: Database.Database, names: JoinNames) {
    this.#db = db
    this.#names = names
    this.#setTransaction = db.transaction((source: number, targets: readonly number[]) => {
      const { table, sourceColumn, targetColumn } = this.#names
      this.#statement(`DELETE FROM ${quote(table)} WHERE ${quote(sourceColumn)} = ? AND ${quote(targetColumn)} NOT IN (${list(targets.length)})`).run(source, ...targets)
      this.#insert(source, targets)
    })
  }

  statements(): number {
    return this.#statements
  }

  add(source: number, targets: readonly number[]): Promise<void> {
    this.#insert(source, targets)
    return Promise.resolve()
  }

  likeView(source: number, target: number): Promise<boolean> {
    const { table, sourceColumn, targetColumn } = this.#names
    const found = this.#statement(`SELECT 1 FROM ${quote(table)} WHERE ${quote(sourceColumn)} = ? AND ${quote(targetColumn)} = ? LIMIT 1`).get(source, target)
    if (found !== undefined) {
      this.#delete(source, target)
      return Promise.resolve(false)
    }
    this.#insert(source, [target])
    return Promise.resolve(true)
  }

  toggle(source: number, target: number): Promise<boolean> {
    if (this.#delete(source, target) > 0) return Promise.resolve(false)
    this.#insert(source, [target])
    return Promise.resolve(true)
  }

  set(source: number, targets: readonly number[]): Promise<void> {
    this.#setTransaction(source, targets)
    return Promise.resolve()
  }

  list(source: number): Promise<number> {
    return Promise.resolve(this.#list(source))
  }

  count(source: number): Promise<number> {
    const { table, sourceColumn } = this.#names
    const count = this.#statement(`SELECT count(*) FROM ${quote(table)} WHERE ${quote(sourceColumn)} = ?`, true).get(source)
    return Promise.resolve(Number(count))
  }

  prefetch(sources: readonly number[]): Promise<number> {
    const { sourceColumn, targetKey } = this.#names
    const sql = `SELECT l.${quote(sourceColumn)} AS __source, t.* ${this.#joined()} WHERE l.${quote(sourceColumn)} IN (${list(sources.length)}) ORDER BY t.${quote(targetKey)}`
    return Promise.resolve(groupBySource(sources, this.#statement(sql).all(...sources) as { __source: number }[]))
  }

  nPlusOne(sources: readonly number[]): Promise<number> {
    let count = 0
    for (const source of sources) count += this.#list(source)
    return Promise.resolve(count)
  }

  listPage(user: number, offset: number, pageSize: number): Promise<PageCard[]> {
    const { table, sourceColumn, targetColumn, targetTable, targetKey } = this.#names
    // The page's own rows are the application's query, not counted, as for the other variants.
    this.#pageRows ??= this.#db.prepare(`SELECT * FROM ${quote(targetTable)} ORDER BY ${quote(targetKey)} LIMIT ? OFFSET ?`)
    const page = this.#pageRows.all(pageSize, offset) as { id: number }[]
    const keys = page.map((row) => row.id)
    const inKeys = `${quote(targetColumn)} IN (${list(keys.length)})`
    const counts = this.#statement(`SELECT ${quote(targetColumn)} AS k, count(*) AS fans FROM ${quote(table)} WHERE ${inKeys} GROUP BY ${quote(targetColumn)}`).all(...keys) as { k: number; fans: number }[]
    const hearts = this.#statement(`SELECT ${quote(targetColumn)} FROM ${quote(table)} WHERE ${quote(sourceColumn)} = ? AND ${inKeys}`, true).all(user, ...keys) as number[]
    const fans = new Map(counts.map((row) => [row.k, row.fans]))
    const liked = new Set(hearts)
    return Promise.resolve(keys.map((id) => ({ id, fans: fans.get(id) ?? 0, liked: liked.has(id) })))
  }

  #list(source: number): number {
    const { sourceColumn, targetKey } = this.#names
    return this.#statement(`SELECT t.* ${this.#joined()} WHERE l.${quote(sourceColumn)} = ? ORDER BY t.${quote(targetKey)}`).all(source).length
  }

  #joined(): string {
    const { table, targetColumn, targetTable, targetKey } = this.#names
    return `FROM ${quote(targetTable)} AS t JOIN ${quote(table)} AS l ON l.${quote(targetColumn)} = t.${quote(targetKey)}`
  }

  /** A statement prepared once per text, counted each time it is used. */
  #statement(sql: string, pluck = false): Database.Statement {
    let statement = this.#cache.get(sql)
    if (statement === undefined) {
      statement = this.#db.prepare(sql)
      if (pluck) statement.pluck(true)
      this.#cache.set(sql, statement)
    }
    this.#statements++
    return statement
  }

  #delete(source: number, target: number): number {
    const { table, sourceColumn, targetColumn } = this.#names
    return this.#statement(`DELETE FROM ${quote(table)} WHERE ${quote(sourceColumn)} = ? AND ${quote(targetColumn)} = ?`).run(source, target).changes
  }

  #insert(source: number, targets: readonly number[]): void {
    const { table, sourceColumn, targetColumn } = this.#names
    const size = Math.floor(MAX_PARAMETERS / 2)
    for (let start = 0; start < targets.length; start += size) {
      const chunk = targets.slice(start, start + size)
      const sql = `INSERT INTO ${quote(table)} (${quote(sourceColumn)}, ${quote(targetColumn)}) VALUES ${list(chunk.length, '(?, ?)')} ON CONFLICT (${quote(sourceColumn)}, ${quote(targetColumn)}) DO NOTHING`
      this.#statement(sql).run(...chunk.flatMap((target) => [source, target]))
    }
  }
}
