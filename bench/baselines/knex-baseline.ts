import type { Knex } from 'knex'
import type { JoinNames } from '../fixtures.js'
import type { Subject } from '../subject.js'

/** Limits of one database for a multi-row INSERT, as a careful developer would respect them. */
export interface InsertLimits {
  /** Rows per INSERT (500 on SQLite, where knex writes a compound SELECT limited to 500 terms). */
  readonly maxRows: number
  /** Bind parameters per statement. */
  readonly maxParameters: number
}

/** The same limits on each database knex reaches. */
export function insertLimits(db: Knex): InsertLimits {
  const dialect = String((db.client as { dialect?: unknown }).dialect)
  return dialect === 'sqlite3' ? { maxRows: 500, maxParameters: 30_000 } : { maxRows: Number.POSITIVE_INFINITY, maxParameters: 65_535 }
}

/** Groups prefetched rows by their source, as a prefetch hands them out; resolves to the row count. */
export function groupBySource(sources: readonly number[], rows: readonly { __source: number }[]): number {
  const grouped = new Map<number, unknown[]>(sources.map((source) => [source, []]))
  for (const row of rows) grouped.get(row.__source)?.push(row)
  let count = 0
  for (const list of grouped.values()) count += list.length
  return count
}

class TargetNotFound extends Error {
  override readonly name = 'TargetNotFound'
}

/**
 * The floor for throughline on Knex: what a careful developer writes by hand with knex for
 * the same behaviour — the same set-based statements, each call one transaction when it has
 * more than one statement, and nothing else (no validation, no events, no adapter layer):
 *
 * - add: one SELECT (which targets exist, which are linked), one INSERT … ON CONFLICT DO NOTHING;
 * - toggle: DELETE the pair, and INSERT it only when nothing was deleted (no read);
 * - set: one SELECT (current links UNION ALL the new targets that exist), one DELETE, one INSERT;
 * - remove: one DELETE, on its own (one statement is atomic: no transaction);
 * - list and count: one SELECT each; prefetch: one SELECT … WHERE source IN (…).
 */
export class KnexBaseline implements Subject {
  readonly prefetch: (sources: readonly number[]) => Promise<number>
  readonly #db: Knex
  readonly #names: JoinNames
  readonly #extraValues: (() => Record<string, unknown>) | undefined
  readonly #limits: InsertLimits
  #statements = 0

  constructor(db: Knex, names: JoinNames, extraValues: (() => Record<string, unknown>) | undefined) {
    this.#db = db
    this.#names = names
    this.#extraValues = extraValues
    this.#limits = insertLimits(db)
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
    const size = Math.min(this.#limits.maxRows, Math.floor(this.#limits.maxParameters / columns))
    return rows > size ? this.#db.transaction((trx) => this.#insert(trx, source, targets)) : this.#insert(this.#db, source, targets)
  }

  toggle(source: number, target: number): Promise<boolean> {
    return this.#db.transaction(async (trx) => {
      if ((await this.#delete(trx, source, [target])) > 0) return false
      // A target that does not exist fails the foreign key: the endpoint's 404.
      await this.#insert(trx, source, [target])
      return true
    })
  }

  set(source: number, targets: readonly number[]): Promise<void> {
    const { table, sourceColumn, targetColumn, targetTable, targetKey } = this.#names
    return this.#db.transaction(async (trx) => {
      this.#statements++
      const rows = (await trx
        .select(trx.raw('1 AS ??', ['linked']), { k: targetColumn })
        .from(table)
        .where(sourceColumn, source)
        .unionAll(function () {
          this.select(trx.raw('0 AS ??', ['linked']), { k: targetKey }).from(targetTable).whereIn(targetKey, targets as number[])
        })) as { linked: number | string; k: number }[]
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
    const { targetKey } = this.#names
    this.#statements++
    const rows = (await this.#joined(this.#db).where(`l.${this.#names.sourceColumn}`, source).select('t.*').orderBy(`t.${targetKey}`)) as unknown[]
    return rows.length
  }

  async count(source: number): Promise<number> {
    this.#statements++
    const result: unknown = await this.#joined(this.#db).where(`l.${this.#names.sourceColumn}`, source).count({ count: '*' })
    const [row] = result as { count: number | string }[]
    return Number(row?.count ?? 0)
  }

  /** The rows of every source in one statement, grouped by source (what a prefetch is for). */
  async #prefetch(sources: readonly number[]): Promise<number> {
    const { sourceColumn, targetKey } = this.#names
    this.#statements++
    const rows = (await this.#joined(this.#db)
      .whereIn(`l.${sourceColumn}`, sources as number[])
      .select({ __source: `l.${sourceColumn}` }, 't.*')
      .orderBy(`t.${targetKey}`)) as { __source: number }[]
    return groupBySource(sources, rows)
  }

  #joined(db: Knex): Knex.QueryBuilder {
    const { table, targetColumn, targetTable, targetKey } = this.#names
    return db({ t: targetTable }).join({ l: table }, `l.${targetColumn}`, `t.${targetKey}`)
  }

  /** One DELETE of the pairs (and of their mirror rows on a symmetrical relation). */
  async #delete(db: Knex, source: number, targets: readonly number[]): Promise<number> {
    const { table, sourceColumn, targetColumn, symmetrical } = this.#names
    this.#statements++
    const keys = targets as number[]
    if (!symmetrical) return db(table).where(sourceColumn, source).whereIn(targetColumn, keys).del()
    return db(table)
      .where((forward) => {
        void forward.where(sourceColumn, source).whereIn(targetColumn, keys)
      })
      .orWhere((mirror) => {
        void mirror.where(targetColumn, source).whereIn(sourceColumn, keys)
      })
      .del()
  }

  /** INSERT … ON CONFLICT DO NOTHING of the pairs (and mirror rows), in chunks under the database's limits. */
  async #insert(db: Knex, source: number, targets: readonly number[]): Promise<void> {
    const { table, sourceColumn, targetColumn, symmetrical } = this.#names
    const extra = this.#extraValues?.() ?? {}
    const sorted = [...targets].sort((a, b) => a - b)
    const rows: Record<string, unknown>[] = sorted.map((target) => ({ ...extra, [sourceColumn]: source, [targetColumn]: target }))
    if (symmetrical) for (const target of sorted) if (target !== source) rows.push({ ...extra, [sourceColumn]: target, [targetColumn]: source })
    const columns = Object.keys(extra).length + 2
    const size = Math.min(this.#limits.maxRows, Math.floor(this.#limits.maxParameters / columns))
    for (let start = 0; start < rows.length; start += size) {
      this.#statements++
      await db(table)
        .insert(rows.slice(start, start + size))
        .onConflict([sourceColumn, targetColumn])
        .ignore()
    }
  }
}
