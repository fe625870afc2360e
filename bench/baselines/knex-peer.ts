import type { Knex } from 'knex'
import type { JoinNames } from '../fixtures.js'
import type { PageCard, PageRows, PeerSubject } from '../peer-subject.js'
import { groupBySource, insertLimits, type InsertLimits } from './knex-baseline.js'

/**
 * The peer baseline on knex (issue #13): the favourites endpoints as a careful developer writes
 * them with knex, without a library, leaning on the join table's unique pair and foreign keys
 * instead of reading first:
 *
 * - add: one `INSERT … ON CONFLICT DO NOTHING` (`INSERT IGNORE` on MySQL/MariaDB, as knex writes
 *   `.onConflict().ignore()` there), chunked under the database's limits; a missing target
 *   fails the foreign key;
 * - toggle: `DELETE` the pair, then `INSERT … ON CONFLICT DO NOTHING` when nothing was deleted:
 *   each statement atomic, no transaction (as throughline's own toggle);
 * - the seed's like view: `SELECT 1 … LIMIT 1`, then `DELETE` or the `INSERT`;
 * - set: in one transaction, `DELETE` the links not in the new list, `INSERT … ON CONFLICT DO
 *   NOTHING` the new list;
 * - list: one `SELECT` of the target rows; count: one `SELECT count(*)` on the join table alone;
 * - prefetch: one `SELECT … WHERE source IN (…)`; N+1: the list's `SELECT` per source;
 * - the list page: the page's rows, one `SELECT target, count(*) … GROUP BY target` for the fan
 *   counts, one `SELECT target … WHERE source = ? AND target IN (…)` for the hearts.
 */
export class KnexPeer implements PeerSubject {
  readonly #db: Knex
  readonly #names: JoinNames
  readonly #limits: InsertLimits
  readonly #pageRows: PageRows
  #statements = 0

  constructor(db: Knex, names: JoinNames, pageRows: PageRows) {
    this.#db = db
    this.#names = names
    this.#limits = insertLimits(db)
    this.#pageRows = pageRows
  }

  statements(): number {
    return this.#statements
  }

  add(source: number, targets: readonly number[]): Promise<void> {
    return this.#insert(this.#db, source, targets)
  }

  async likeView(source: number, target: number): Promise<boolean> {
    const { table, sourceColumn, targetColumn } = this.#names
    this.#statements++
    const found: unknown = await this.#db(table).where(sourceColumn, source).andWhere(targetColumn, target).first(this.#db.raw('1 AS ??', ['one']))
    if (found !== undefined) {
      await this.#delete(this.#db, source, [target])
      return false
    }
    await this.#insert(this.#db, source, [target])
    return true
  }

  async toggle(source: number, target: number): Promise<boolean> {
    if ((await this.#delete(this.#db, source, [target])) > 0) return false
    await this.#insert(this.#db, source, [target])
    return true
  }

  set(source: number, targets: readonly number[]): Promise<void> {
    const { table, sourceColumn, targetColumn } = this.#names
    return this.#db.transaction(async (trx) => {
      this.#statements++
      await trx(table)
        .where(sourceColumn, source)
        .whereNotIn(targetColumn, targets as number[])
        .del()
      await this.#insert(trx, source, targets)
    })
  }

  async list(source: number): Promise<number> {
    this.#statements++
    const rows = (await this.#joined().where(`l.${this.#names.sourceColumn}`, source).select('t.*').orderBy(`t.${this.#names.targetKey}`)) as unknown[]
    return rows.length
  }

  async count(source: number): Promise<number> {
    const { table, sourceColumn } = this.#names
    this.#statements++
    const row = (await this.#db(table).where(sourceColumn, source).count({ count: '*' }).first()) as { count: number | string } | undefined
    return Number(row?.count ?? 0)
  }

  async prefetch(sources: readonly number[]): Promise<number> {
    const { sourceColumn, targetKey } = this.#names
    this.#statements++
    const rows = (await this.#joined()
      .whereIn(`l.${sourceColumn}`, sources as number[])
      .select({ __source: `l.${sourceColumn}` }, 't.*')
      .orderBy(`t.${targetKey}`)) as { __source: number }[]
    return groupBySource(sources, rows)
  }

  async nPlusOne(sources: readonly number[]): Promise<number> {
    let count = 0
    for (const source of sources) count += await this.list(source)
    return count
  }

  async listPage(user: number, offset: number, pageSize: number): Promise<PageCard[]> {
    const { table, sourceColumn, targetColumn } = this.#names
    const page = await this.#pageRows(offset, pageSize)
    const keys = page.map((row) => row.id)
    this.#statements += 2
    const [counts, hearts] = await Promise.all([
      this.#db(table).whereIn(targetColumn, keys).groupBy(targetColumn).select({ k: targetColumn }).count({ fans: '*' }) as Promise<{ k: number | string; fans: number | string }[]>,
      this.#db(table).where(sourceColumn, user).whereIn(targetColumn, keys).select({ k: targetColumn }) as Promise<{ k: number | string }[]>,
    ])
    const fans = new Map(counts.map((row) => [Number(row.k), Number(row.fans)]))
    const liked = new Set(hearts.map((row) => Number(row.k)))
    return keys.map((id) => ({ id, fans: fans.get(id) ?? 0, liked: liked.has(id) }))
  }

  #joined(): Knex.QueryBuilder {
    const { table, targetColumn, targetTable, targetKey } = this.#names
    return this.#db({ t: targetTable }).join({ l: table }, `l.${targetColumn}`, `t.${targetKey}`)
  }

  async #delete(db: Knex, source: number, targets: readonly number[]): Promise<number> {
    const { table, sourceColumn, targetColumn } = this.#names
    this.#statements++
    return db(table)
      .where(sourceColumn, source)
      .whereIn(targetColumn, targets as number[])
      .del()
  }

  /** INSERT … ON CONFLICT DO NOTHING of the pairs, in chunks under the database's limits. */
  async #insert(db: Knex, source: number, targets: readonly number[]): Promise<void> {
    const { table, sourceColumn, targetColumn } = this.#names
    const rows = targets.map((target) => ({ [sourceColumn]: source, [targetColumn]: target }))
    const size = Math.min(this.#limits.maxRows, Math.floor(this.#limits.maxParameters / 2))
    for (let start = 0; start < rows.length; start += size) {
      this.#statements++
      await db(table)
        .insert(rows.slice(start, start + size))
        .onConflict([sourceColumn, targetColumn])
        .ignore()
    }
  }
}
