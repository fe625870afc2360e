import type { LinkSpec } from '../../adapter/relation-adapter.js'
import type { SqlDialect, SqlFragment } from './sql-dialect.js'
import { joinFragments, fragment } from './sql-fragment.js'
import { SQLITE_RECHECK_EVERY } from '../sqlite/foreign-keys-enforced.js'

/**
 * What an SQL adapter remembers of a join table's foreign keys, read once by
 * `foreignKeysEnforced`: the guard of the INSERT that trusts them, and the guard of a count of
 * the join table alone (`false`: not to be trusted).
 */
export interface ForeignKeyFacts {
  readonly insert: string | false
  readonly count: string | false
}

const NO_FACTS: ForeignKeyFacts = { insert: false, count: false }

/**
 * The facts of each join table, read from the catalog once (the dialect's `foreignKeysQuery`)
 * and shared by an adapter and the adapters of its transactions. The Knex and fragment adapters
 * differ only in how they run the catalog read.
 */
export class ForeignKeyFactsCache {
  readonly #dialect: SqlDialect
  readonly #facts = new WeakMap<LinkSpec, ForeignKeyFacts>()
  readonly #integrity = new WeakMap<LinkSpec, IntegrityCheck>()

  constructor(dialect: SqlDialect) {
    this.#dialect = dialect
  }

  /** The facts of `link`; `readRow` runs the catalog query and resolves to its one row. */
  async get(link: LinkSpec, readRow: (query: SqlFragment) => Promise<Readonly<Record<string, unknown>> | undefined>): Promise<ForeignKeyFacts> {
    const known = this.#facts.get(link)
    if (known !== undefined) return known
    const dialect = this.#dialect
    const query = dialect.foreignKeysQuery?.(link)
    let facts = NO_FACTS
    if (query !== undefined) {
      const row = await readRow(query)
      const insert = dialect.enforcedGuard?.(row) ?? false
      // Where the rows need a check of their own (SQLite), countGuard() runs it when first asked.
      facts = { insert, count: dialect.integrityQuery === undefined ? (dialect.countGuard?.(row) ?? false) : insert }
    }
    this.#facts.set(link, facts)
    return facts
  }

  /**
   * The guard of a count of `link`'s join table alone (`false`: join the target table). Where the
   * dialect checks the rows themselves (SQLite's {@link SqlDialect.integrityQuery}, a scan of the
   * join table), the check runs on the first count, not on the first `add()`, and again every
   * {@link SQLITE_RECHECK_EVERY} counts, which scans again only when another connection has
   * written since. Not inside a transaction, where a deferred foreign key may let the
   * transaction see its own unchecked rows (the catalog's guard, PostgreSQL's, is for
   * non-deferrable constraints only and holds there too).
   */
  async countGuard(link: LinkSpec, readRow: (query: SqlFragment) => Promise<Readonly<Record<string, unknown>> | undefined>, inTransaction: boolean): Promise<string | false> {
    const facts = await this.get(link, readRow)
    const dialect = this.#dialect
    if (dialect.integrityQuery === undefined || dialect.countGuard === undefined) return facts.count
    if (facts.count === false || inTransaction) return false
    const previous = this.#integrity.get(link)
    let checked = stillTrusted(previous)
    if (checked === undefined) {
      // A driver that refuses the check (a SQLite-like service without the pragma) gets the join.
      const row = await readRow(dialect.integrityQuery(link, previous?.row)).catch(() => undefined)
      checked = integrityChecked(previous, row, dialect.countGuard(row))
      this.#integrity.set(link, checked)
    }
    return checked.guard
  }

  /** The INSERT's guard, when `get` has said the foreign keys are enforced. */
  insertGuard(link: LinkSpec): string | undefined {
    const guard = this.#facts.get(link)?.insert
    return typeof guard === 'string' ? guard : undefined
  }
}

/** The last integrity check of a join table, how many counts have trusted it, and after how many to check again. */
export interface IntegrityCheck {
  readonly row: Readonly<Record<string, unknown>> | undefined
  uses: number
  readonly every: number
  readonly guard: string | false
}

/** `checked`, counting this use, while it may still be trusted; `undefined` once a check is due (none yet, or `every` counts since). */
export function stillTrusted(checked: IntegrityCheck | undefined): IntegrityCheck | undefined {
  return checked !== undefined && ++checked.uses < checked.every ? checked : undefined
}

/**
 * The check just read (`row`, and the count guard it gives). It is trusted for
 * {@link SQLITE_RECHECK_EVERY} counts, doubled each time the data had changed since the check
 * before (another connection keeps writing: each check then scans the table, and its answer is
 * soon stale again), up to a thousand times that.
 */
export function integrityChecked(previous: IntegrityCheck | undefined, row: Readonly<Record<string, unknown>> | undefined, guard: string | false): IntegrityCheck {
  const moved = previous !== undefined && (previous.row?.data_version !== row?.data_version || previous.row?.schema_version !== row?.schema_version)
  const every = moved ? Math.min(previous.every * 2, SQLITE_RECHECK_EVERY * 1000) : SQLITE_RECHECK_EVERY
  return { row, uses: 0, every, guard }
}

/**
 * A count of the links of one source that counts the join table alone while `guard` holds (every
 * link row has its target row) and falls back to `joined`, the count joining the target table:
 * `SELECT CASE WHEN <guard> THEN (SELECT COUNT(target) FROM link AS linkAlias WHERE <source>) ELSE (<joined>) END AS count`.
 */
export function guardedLinkCount(guard: string, link: LinkSpec, linkAlias: string, sourceCondition: SqlFragment, joined: SqlFragment, notNull: boolean): SqlFragment {
  // COUNT of the target column, unless the guard says it is NOT NULL: a link whose target was
  // set to NULL (ON DELETE SET NULL) has no row to join. COUNT(*) reads no column (SQLite: 40 % faster).
  const count = notNull ? fragment('COUNT(*)') : fragment('COUNT(??)', `${linkAlias}.${link.targetColumn}`)
  return joinFragments(
    [fragment(`SELECT CASE WHEN ${guard} THEN (SELECT `), count, fragment(' FROM ?? AS ?? WHERE ', link.table, linkAlias), sourceCondition, fragment(') ELSE ('), joined, fragment(') END AS ??', 'count')],
    '',
  )
}

/**
 * SQLite's count of the links of each of `sources` (Django's `Count`, with no condition on the
 * rows), for a join table whose rows all have their target rows while `guard` holds: one row per
 * source (`sourceAlias`, as text for 64-bit keys, and `count`), counted on the join table's index
 * alone, or joined to the target table when the guard fails. Per source rather than `GROUP BY`:
 * SQLite evaluates the guard once for the statement in a `CASE`, but once per row in a `WHERE`.
 * The sources travel as one JSON parameter (`json_each`).
 */
export function guardedSqliteLinkCounts(guard: string, link: LinkSpec, sourcesJson: string, sourceAlias: string, distinct: boolean): SqlFragment {
  const [l, t] = ['l', 't']
  const target = `${l}.${link.targetColumn}`
  // The guard holds only for a NOT NULL target column (sqliteCountGuard): COUNT(*) reads no column.
  const count = (what: SqlFragment): SqlFragment => (distinct ? fragment('COUNT(DISTINCT ??)', target) : what)
  const linksOf = fragment(' WHERE ?? = k.value)', `${l}.${link.sourceColumn}`)
  const source = link.source.keyType === 'bigint' ? 'CAST(k.value AS TEXT)' : 'k.value'
  return joinFragments(
    [
      fragment(`SELECT ${source} AS ??, CASE WHEN ${guard} THEN (SELECT `, sourceAlias),
      count(fragment('COUNT(*)')),
      fragment(' FROM ?? AS ??', link.table, l),
      linksOf,
      fragment(' ELSE (SELECT '),
      count(fragment('COUNT(*)')),
      fragment(' FROM ?? AS ?? INNER JOIN ?? AS ?? ON ?? = ??', link.table, l, link.target.table, t, `${t}.${link.target.primaryKey}`, target),
      linksOf,
      fragment(' END AS ?? FROM json_each(?) AS k', 'count', sourcesJson),
    ],
    '',
  )
}
