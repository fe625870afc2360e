import type Database from 'better-sqlite3'
import type { JoinNames } from '../fixtures.js'
import { groupBySource } from './knex-baseline.js'
import type { Subject } from '../subject.js'

class TargetNotFound extends Error {
  override readonly name = 'TargetNotFound'
}

function quote(name: string): string {
  return `"${name}"`
}

function list(count: number, item = '?'): string {
  return Array.from({ length: count }, () => item).join(', ')
}

/** SQLite's parameters per statement, with room to spare. */
const MAX_PARAMETERS = 30_000

/**
 * The physical floor on SQLite: the same statements as {@link KnexBaseline}, hand-written for
 * better-sqlite3 with every statement prepared once and cached (by its number of keys), run
 * synchronously, transactions through `db.transaction()`. Nothing sits between the call and
 * the driver.
 */
export class SqliteBaseline implements Subject {
  readonly prefetch: (sources: readonly number[]) => Promise<number>
  readonly #db: Database.Database
  readonly #names: JoinNames
  readonly #extraValues: (() => Record<string, unknown>) | undefined
  readonly #statementsByText = new Map<string, Database.Statement>()
  readonly #addTransaction: (source: number, targets: readonly number[]) => void
  readonly #toggleTransaction: (source: number, target: number) => boolean
  readonly #setTransaction: (source: number, targets: readonly number[]) => void
  #statements = 0

  constructor(db: Database.Database, names: JoinNames, extraValues: (() => Record<string, unknown>) | undefined) {
    this.#db = db
    this.#names = names
    this.#extraValues = extraValues
    this.prefetch = (sources) => Promise.resolve(this.#prefetch(sources))
    this.#addTransaction = db.transaction((source: number, targets: readonly number[]) => {
      this.#insert(source, targets)
    })
    this.#toggleTransaction = db.transaction((source: number, target: number) => {
      if (this.#delete(source, [target]) > 0) return false
      this.#insert(source, [target])
      return true
    })
    this.#setTransaction = db.transaction((source: number, targets: readonly number[]) => {
      this.#setKeys(source, targets)
    })
  }

  statements(): number {
    return this.#statements
  }

  /**
   * The same statements as throughline's add() where the join table's foreign keys are enforced
   * (every table of the bench): the INSERT alone, a missing target failing the foreign key; in a
   * transaction only when it takes more than one statement.
   */
  add(source: number, targets: readonly number[]): Promise<void> {
    const columns = Object.keys(this.#extraValues?.() ?? {}).length + 2
    const rows = targets.length * (this.#names.symmetrical ? 2 : 1)
    if (rows > Math.floor(MAX_PARAMETERS / columns)) this.#addTransaction(source, targets)
    else this.#insert(source, targets)
    return Promise.resolve()
  }

  toggle(source: number, target: number): Promise<boolean> {
    return Promise.resolve(this.#toggleTransaction(source, target))
  }

  set(source: number, targets: readonly number[]): Promise<void> {
    this.#setTransaction(source, targets)
    return Promise.resolve()
  }

  remove(source: number, targets: readonly number[]): Promise<void> {
    this.#delete(source, targets)
    return Promise.resolve()
  }

  list(source: number): Promise<number> {
    const { sourceColumn, targetKey } = this.#names
    const rows = this.#statement(`${this.#joined()} WHERE l.${quote(sourceColumn)} = ? ORDER BY t.${quote(targetKey)}`, 't.*').all(source)
    return Promise.resolve(rows.length)
  }

  count(source: number): Promise<number> {
    const { sourceColumn } = this.#names
    const count = this.#statement(`${this.#joined()} WHERE l.${quote(sourceColumn)} = ?`, 'COUNT(*)', 'pluck').get(source)
    return Promise.resolve(Number(count))
  }

  #prefetch(sources: readonly number[]): number {
    const { sourceColumn, targetKey } = this.#names
    const where = `WHERE l.${quote(sourceColumn)} IN (${list(sources.length)}) ORDER BY t.${quote(targetKey)}`
    const rows = this.#statement(`${this.#joined()} ${where}`, `l.${quote(sourceColumn)} AS __source, t.*`).all(...sources) as { __source: number }[]
    return groupBySource(sources, rows)
  }

  #joined(): string {
    const { table, targetColumn, targetTable, targetKey } = this.#names
    return `FROM ${quote(targetTable)} AS t JOIN ${quote(table)} AS l ON l.${quote(targetColumn)} = t.${quote(targetKey)}`
  }

  /** A statement prepared once (`columns` and `from` make its text), counted each time it is used. */
  #statement(from: string, columns: string | undefined, mode?: 'raw' | 'pluck'): Database.Statement {
    const sql = columns === undefined ? from : `SELECT ${columns} ${from}`
    const key = mode === undefined ? sql : `${mode}:${sql}`
    let statement = this.#statementsByText.get(key)
    if (statement === undefined) {
      statement = this.#db.prepare(sql)
      if (mode === 'raw') statement.raw(true)
      if (mode === 'pluck') statement.pluck(true)
      this.#statementsByText.set(key, statement)
    }
    this.#statements++
    return statement
  }

  #setKeys(source: number, targets: readonly number[]): void {
    const { table, sourceColumn, targetColumn, targetTable, targetKey } = this.#names
    const probe =
      `SELECT 1, ${quote(targetColumn)} FROM ${quote(table)} WHERE ${quote(sourceColumn)} = ? ` +
      `UNION ALL SELECT 0, ${quote(targetKey)} FROM ${quote(targetTable)} WHERE ${quote(targetKey)} IN (${list(targets.length)})`
    const rows = this.#statement(probe, undefined, 'raw').all(source, ...targets) as [number, number][]
    const linked = new Set<number>()
    const existing = new Set<number>()
    for (const [isLinked, key] of rows) (isLinked === 1 ? linked : existing).add(key)
    const wanted = new Set(targets)
    const removed = [...linked].filter((key) => !wanted.has(key))
    const added = targets.filter((key) => !linked.has(key))
    if (added.some((key) => !existing.has(key))) throw new TargetNotFound('a target does not exist')
    if (removed.length > 0) this.#delete(source, removed)
    if (added.length > 0) this.#insert(source, added)
  }

  #delete(source: number, targets: readonly number[]): number {
    const { table, sourceColumn, targetColumn, symmetrical } = this.#names
    const keys = list(targets.length)
    const forward = `${quote(sourceColumn)} = ? AND ${quote(targetColumn)} IN (${keys})`
    if (!symmetrical) return this.#statement(`DELETE FROM ${quote(table)} WHERE ${forward}`, undefined).run(source, ...targets).changes
    const mirror = `${quote(targetColumn)} = ? AND ${quote(sourceColumn)} IN (${keys})`
    return this.#statement(`DELETE FROM ${quote(table)} WHERE (${forward}) OR (${mirror})`, undefined).run(source, ...targets, source, ...targets).changes
  }

  #insert(source: number, targets: readonly number[]): void {
    const { table, sourceColumn, targetColumn, symmetrical } = this.#names
    const extra = this.#extraValues?.() ?? {}
    const extraColumns = Object.keys(extra)
    // Stored as knex stores them on SQLite: a Date as its milliseconds.
    const extraValues = extraColumns.map((column) => {
      const value = extra[column]
      return value instanceof Date ? value.getTime() : value
    })
    const sorted = [...targets].sort((a, b) => a - b)
    const rows: unknown[][] = sorted.map((target) => [source, target, ...extraValues])
    if (symmetrical) for (const target of sorted) if (target !== source) rows.push([target, source, ...extraValues])
    const columns = [sourceColumn, targetColumn, ...extraColumns]
    const size = Math.floor(MAX_PARAMETERS / columns.length)
    for (let start = 0; start < rows.length; start += size) {
      const chunk = rows.slice(start, start + size)
      const sql =
        `INSERT INTO ${quote(table)} (${columns.map(quote).join(', ')}) VALUES ${list(chunk.length, `(${list(columns.length)})`)} ` +
        `ON CONFLICT (${quote(sourceColumn)}, ${quote(targetColumn)}) DO NOTHING`
      this.#statement(sql, undefined).run(...chunk.flat())
    }
  }
}
