/* eslint-disable @typescript-eslint/no-explicit-any -- a hand-written query on tables that the bench names at run time: Kysely<any>, as a user without a DB interface writes it */
import { sql, type Kysely } from 'kysely'
import type { JoinNames } from '../fixtures.js'
import type { Subject } from '../subject.js'
import { groupBySource } from './knex-baseline.js'

class TargetNotFound extends Error {
  override readonly name = 'TargetNotFound'
}

// Bind parameters per statement: SQLite's default limit is 32 766, PostgreSQL's 65 535. Kysely
// writes one multi-row VALUES list, so rows are limited by parameters only.
const MAX_PARAMETERS = 30_000

/**
 * The floor for throughline on Kysely: what a careful developer writes by hand with Kysely's
 * query builder for the same behaviour, statement for statement what {@link KnexBaseline}
 * writes with knex (one SELECT and one INSERT … ON CONFLICT DO NOTHING for add; DELETE then,
 * only when nothing was deleted, INSERT for toggle; one SELECT … UNION ALL, one DELETE and one
 * INSERT for set; one DELETE for remove; one SELECT for list, count and prefetch), each call
 * with more than one statement in a transaction, and nothing else.
 */
export class KyselyBaseline implements Subject {
  readonly prefetch: (sources: readonly number[]) => Promise<number>
  readonly #db: Kysely<any>
  readonly #names: JoinNames
  readonly #extraValues: (() => Record<string, unknown>) | undefined
  readonly #sqlite: boolean
  #statements = 0

  /** `sqlite`: better-sqlite3 binds no Date, so a date goes as its milliseconds (as knex's client stores it). */
  constructor(db: Kysely<any>, names: JoinNames, extraValues: (() => Record<string, unknown>) | undefined, sqlite: boolean) {
    this.#db = db
    this.#names = names
    this.#extraValues = extraValues
    this.#sqlite = sqlite
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
  add(source: number, targets: readonly number[]): Promise<void> {
    const columns = Object.keys(this.#extraValues?.() ?? {}).length + 2
    const rows = targets.length * (this.#names.symmetrical ? 2 : 1)
    return rows > Math.floor(MAX_PARAMETERS / columns) ? this.#db.transaction().execute((trx) => this.#insert(trx, source, targets)) : this.#insert(this.#db, source, targets)
  }

  toggle(source: number, target: number): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      if ((await this.#delete(trx, source, [target])) > 0) return false
      // A target that does not exist fails the foreign key: the endpoint's 404.
      await this.#insert(trx, source, [target])
      return true
    })
  }

  set(source: number, targets: readonly number[]): Promise<void> {
    const { table, sourceColumn, targetColumn, targetTable, targetKey } = this.#names
    return this.#db.transaction().execute(async (trx) => {
      this.#statements++
      const rows = (await trx
        .selectFrom(table)
        .select([sql<number>`1`.as('linked'), `${targetColumn} as k`])
        .where(sourceColumn, '=', source)
        .unionAll(
          trx
            .selectFrom(targetTable)
            .select([sql<number>`0`.as('linked'), `${targetKey} as k`])
            .where(targetKey, 'in', targets),
        )
        .execute()) as { linked: number | string; k: number }[]
      const linked = new Set<number>()
      const existing = new Set<number>()
      for (const row of rows) (Number(row.linked) === 1 ? linked : existing).add(row.k)
      const wanted = new Set(targets)
      const removed = [...linked].filter((key) => !wanted.has(key))
      const added = targets.filter((key) => !linked.has(key))
      if (added.some((key) => !existing.has(key))) throw new TargetNotFound('a target does not exist')
      if (removed.length > 0) await this.#delete(trx, source, removed)
      if (added.length > 0) await this.#insert(trx, source, added)
    })
  }

  async remove(source: number, targets: readonly number[]): Promise<void> {
    await this.#delete(this.#db, source, targets)
  }

  async list(source: number): Promise<number> {
    this.#statements++
    const { sourceColumn, targetKey } = this.#names
    const rows = await this.#joined().where(`l.${sourceColumn}`, '=', source).selectAll('t').orderBy(`t.${targetKey}`).execute()
    return rows.length
  }

  async count(source: number): Promise<number> {
    this.#statements++
    const row = (await this.#joined()
      .where(`l.${this.#names.sourceColumn}`, '=', source)
      .select((eb) => eb.fn.countAll().as('count'))
      .executeTakeFirst()) as { count: number | string | bigint } | undefined
    return Number(row?.count ?? 0)
  }

  /** The rows of every source in one statement, grouped by source (what a prefetch is for). */
  async #prefetch(sources: readonly number[]): Promise<number> {
    const { sourceColumn, targetKey } = this.#names
    this.#statements++
    const rows = (await this.#joined()
      .where(`l.${sourceColumn}`, 'in', sources)
      .select(`l.${sourceColumn} as __source`)
      .selectAll('t')
      .orderBy(`t.${targetKey}`)
      .execute()) as { __source: number }[]
    return groupBySource(sources, rows)
  }

  #joined() {
    const { table, targetColumn, targetTable, targetKey } = this.#names
    return this.#db.selectFrom(`${targetTable} as t`).innerJoin(`${table} as l`, `l.${targetColumn}`, `t.${targetKey}`)
  }

  /** One DELETE of the pairs (and of their mirror rows on a symmetrical relation). */
  async #delete(db: Kysely<any>, source: number, targets: readonly number[]): Promise<number> {
    const { table, sourceColumn, targetColumn, symmetrical } = this.#names
    this.#statements++
    const result = await db
      .deleteFrom(table)
      .where((eb) => {
        const forward = eb.and([eb(sourceColumn, '=', source), eb(targetColumn, 'in', targets)])
        return symmetrical ? eb.or([forward, eb.and([eb(targetColumn, '=', source), eb(sourceColumn, 'in', targets)])]) : forward
      })
      .executeTakeFirst()
    return Number(result.numDeletedRows)
  }

  /** INSERT … ON CONFLICT DO NOTHING of the pairs (and mirror rows), in chunks under the bind limit. */
  async #insert(db: Kysely<any>, source: number, targets: readonly number[]): Promise<void> {
    const { table, sourceColumn, targetColumn, symmetrical } = this.#names
    const extra = this.#extraValues?.() ?? {}
    if (this.#sqlite) for (const [column, value] of Object.entries(extra)) if (value instanceof Date) extra[column] = value.getTime()
    const sorted = [...targets].sort((a, b) => a - b)
    const rows: Record<string, unknown>[] = sorted.map((target) => ({ ...extra, [sourceColumn]: source, [targetColumn]: target }))
    if (symmetrical) for (const target of sorted) if (target !== source) rows.push({ ...extra, [sourceColumn]: target, [targetColumn]: source })
    const size = Math.floor(MAX_PARAMETERS / (Object.keys(extra).length + 2))
    for (let start = 0; start < rows.length; start += size) {
      this.#statements++
      await db
        .insertInto(table)
        .values(rows.slice(start, start + size))
        .onConflict((conflict) => conflict.columns([sourceColumn, targetColumn]).doNothing())
        .execute()
    }
  }
}
