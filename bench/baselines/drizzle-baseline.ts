/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument -- a hand-written query on tables the bench names at run time: Drizzle tables built at run time, and one class for both SQLite's and PostgreSQL's databases, as a user would write two of them */
import { and, asc, count, eq, inArray, or, sql } from 'drizzle-orm'
import { integer as pgInteger, pgTable, text as pgText, timestamp } from 'drizzle-orm/pg-core'
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import type { JoinNames } from '../fixtures.js'
import type { Subject } from '../subject.js'
import { groupBySource } from './knex-baseline.js'

class TargetNotFound extends Error {
  override readonly name = 'TargetNotFound'
}

// Bind parameters per statement: SQLite's default limit is 32 766, PostgreSQL's 65 535.
const MAX_PARAMETERS = 30_000

/** The bench's tables as Drizzle tables, as a user's schema file declares them. */
function tables(names: JoinNames, sqlite: boolean, through: boolean): { link: any; target: any } {
  const { table, sourceColumn, targetColumn, targetTable, targetKey } = names
  if (sqlite) {
    const extra = through ? { role: text('role'), joined_at: integer('joined_at', { mode: 'timestamp_ms' }) } : {}
    return {
      link: sqliteTable(table, { [sourceColumn]: integer(sourceColumn).notNull(), [targetColumn]: integer(targetColumn).notNull(), ...extra }),
      target: sqliteTable(targetTable, { [targetKey]: integer(targetKey).primaryKey(), name: text('name') }),
    }
  }
  const extra = through ? { role: pgText('role'), joined_at: timestamp('joined_at', { withTimezone: true }) } : {}
  return {
    link: pgTable(table, { [sourceColumn]: pgInteger(sourceColumn).notNull(), [targetColumn]: pgInteger(targetColumn).notNull(), ...extra }),
    target: pgTable(targetTable, { [targetKey]: pgInteger(targetKey).primaryKey(), name: pgText('name') }),
  }
}

/**
 * The floor for throughline on Drizzle: what a careful developer writes by hand with Drizzle's
 * query builder for the same behaviour, statement for statement what {@link KnexBaseline}
 * writes with knex (one SELECT and one INSERT … ON CONFLICT DO NOTHING for add; DELETE then,
 * only when nothing was deleted, INSERT for toggle; one SELECT … UNION ALL, one DELETE and one
 * INSERT for set; one DELETE for remove; one SELECT for list, count and prefetch), each call
 * with more than one statement in a transaction. On SQLite, Drizzle's transactions are
 * synchronous (better-sqlite3's), and so is this code: no await inside them.
 */
export class DrizzleBaseline implements Subject {
  readonly prefetch: (sources: readonly number[]) => Promise<number>
  readonly #db: any
  readonly #names: JoinNames
  readonly #extraValues: (() => Record<string, unknown>) | undefined
  readonly #sqlite: boolean
  readonly #link: any
  readonly #target: any
  #statements = 0

  constructor(db: object, names: JoinNames, extraValues: (() => Record<string, unknown>) | undefined, sqlite: boolean) {
    this.#db = db
    this.#names = names
    this.#extraValues = extraValues
    this.#sqlite = sqlite
    const { link, target } = tables(names, sqlite, extraValues !== undefined)
    this.#link = link
    this.#target = target
    this.prefetch = (sources) => this.#prefetch(sources)
  }

  statements(): number {
    return this.#statements
  }

  /**
   * The same statements as throughline's add() where the join table's foreign keys are enforced
   * (every table of the bench): the INSERT alone, a missing target failing the foreign key; in a
   * transaction only when it takes more than one statement.
   */
  async add(source: number, targets: readonly number[]): Promise<void> {
    const columns = Object.keys(this.#extraValues?.() ?? {}).length + 2
    const rows = targets.length * (this.#names.symmetrical ? 2 : 1)
    if (rows > Math.floor(MAX_PARAMETERS / columns)) await this.#transaction((tx: any) => this.#insert(tx, source, targets))
    else await this.#insert(this.#db, source, targets)
  }

  toggle(source: number, target: number): Promise<boolean> {
    if (this.#sqlite) {
      return Promise.resolve(this.#db.transaction((tx: any) => {
        if (this.#delete(tx, source, [target]) > 0) return false
        this.#insert(tx, source, [target])
        return true
      }))
    }
    return this.#db.transaction(async (tx: any) => {
      if ((await this.#delete(tx, source, [target])) > 0) return false
      // A target that does not exist fails the foreign key: the endpoint's 404.
      await this.#insert(tx, source, [target])
      return true
    })
  }

  async set(source: number, targets: readonly number[]): Promise<void> {
    const { sourceColumn, targetColumn } = this.#names
    const work = (tx: any): unknown => {
      this.#statements++
      const query = tx
        .select({ linked: sql<number>`1`.as('linked'), k: this.#col(targetColumn) })
        .from(this.#link)
        .where(eq(this.#col(sourceColumn), source))
        .unionAll(
          tx
            .select({ linked: sql<number>`0`.as('linked'), k: this.#targetKey() })
            .from(this.#target)
            .where(inArray(this.#targetKey(), targets as number[])),
        )
      const finish = (rows: { linked: number | string; k: number }[]): unknown => {
        const linked = new Set<number>()
        const existing = new Set<number>()
        for (const row of rows) (Number(row.linked) === 1 ? linked : existing).add(row.k)
        const wanted = new Set(targets)
        const removed = [...linked].filter((key) => !wanted.has(key))
        const added = targets.filter((key) => !linked.has(key))
        if (added.some((key) => !existing.has(key))) throw new TargetNotFound('a target does not exist')
        if (this.#sqlite) {
          if (removed.length > 0) this.#delete(tx, source, removed)
          if (added.length > 0) this.#insert(tx, source, added)
          return undefined
        }
        return (async () => {
          if (removed.length > 0) await this.#delete(tx, source, removed)
          if (added.length > 0) await this.#insert(tx, source, added)
        })()
      }
      return this.#sqlite ? finish(query.all()) : query.then(finish)
    }
    await this.#transaction(work)
  }

  async remove(source: number, targets: readonly number[]): Promise<void> {
    await this.#delete(this.#db, source, targets)
  }

  async list(source: number): Promise<number> {
    this.#statements++
    const rows = (await this.#joined(this.#db.select({ id: this.#targetKey(), name: this.#target.name }))
      .where(eq(this.#col(this.#names.sourceColumn), source))
      .orderBy(asc(this.#targetKey()))) as unknown[]
    return rows.length
  }

  async count(source: number): Promise<number> {
    this.#statements++
    const [row] = (await this.#joined(this.#db.select({ count: count() })).where(eq(this.#col(this.#names.sourceColumn), source))) as { count: number }[]
    return row?.count ?? 0
  }

  /** The rows of every source in one statement, grouped by source (what a prefetch is for). */
  async #prefetch(sources: readonly number[]): Promise<number> {
    this.#statements++
    const rows = (await this.#joined(this.#db.select({ __source: this.#col(this.#names.sourceColumn), id: this.#targetKey(), name: this.#target.name }))
      .where(inArray(this.#col(this.#names.sourceColumn), sources as number[]))
      .orderBy(asc(this.#targetKey()))) as { __source: number }[]
    return groupBySource(sources, rows)
  }

  #joined(select: any): any {
    return select.from(this.#target).innerJoin(this.#link, eq(this.#col(this.#names.targetColumn), this.#targetKey()))
  }

  #col(name: string): any {
    return this.#link[name]
  }

  #targetKey(): any {
    return this.#target[this.#names.targetKey]
  }

  /** Runs `work` in a transaction: synchronous on SQLite (better-sqlite3's), async on PostgreSQL. */
  #transaction(work: (tx: any) => unknown): Promise<unknown> {
    return this.#sqlite ? Promise.resolve(this.#db.transaction(work)) : this.#db.transaction(async (tx: any) => await work(tx))
  }

  /** One DELETE of the pairs (and of their mirror rows on a symmetrical relation): the rows deleted, at once on SQLite. */
  #delete(db: any, source: number, targets: readonly number[]): any {
    const { sourceColumn, targetColumn, symmetrical } = this.#names
    this.#statements++
    const forward = and(eq(this.#col(sourceColumn), source), inArray(this.#col(targetColumn), targets as number[]))
    const where = symmetrical ? or(forward, and(eq(this.#col(targetColumn), source), inArray(this.#col(sourceColumn), targets as number[]))) : forward
    const query = db.delete(this.#link).where(where)
    if (this.#sqlite) return query.run().changes as number
    return query.then((result: { rowCount: number | null }) => result.rowCount ?? 0)
  }

  /** INSERT … ON CONFLICT DO NOTHING of the pairs (and mirror rows), in chunks under the bind limit; at once on SQLite. */
  #insert(db: any, source: number, targets: readonly number[]): any {
    const { sourceColumn, targetColumn, symmetrical } = this.#names
    const extra = this.#extraValues?.() ?? {}
    const sorted = [...targets].sort((a, b) => a - b)
    const rows: Record<string, unknown>[] = sorted.map((target) => ({ ...extra, [sourceColumn]: source, [targetColumn]: target }))
    if (symmetrical) for (const target of sorted) if (target !== source) rows.push({ ...extra, [sourceColumn]: target, [targetColumn]: source })
    const size = Math.floor(MAX_PARAMETERS / (Object.keys(extra).length + 2))
    const statements = []
    for (let start = 0; start < rows.length; start += size) {
      this.#statements++
      const query = db
        .insert(this.#link)
        .values(rows.slice(start, start + size))
        .onConflictDoNothing({ target: [this.#col(sourceColumn), this.#col(targetColumn)] })
      if (this.#sqlite) query.run()
      else statements.push(query)
    }
    if (this.#sqlite) return undefined
    return (async () => {
      for (const query of statements) await query
    })()
  }
}
