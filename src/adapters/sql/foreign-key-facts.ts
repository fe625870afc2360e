import type { LinkSpec } from '../../adapter/relation-adapter.js'
import type { SqlDialect, SqlFragment } from './sql-dialect.js'
import { joinFragments, fragment } from './sql-fragment.js'

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
      facts = { insert: dialect.enforcedGuard?.(row) ?? false, count: dialect.countGuard?.(row) ?? false }
    }
    this.#facts.set(link, facts)
    return facts
  }

  /** The INSERT's guard, when `get` has said the foreign keys are enforced. */
  insertGuard(link: LinkSpec): string | undefined {
    const guard = this.#facts.get(link)?.insert
    return typeof guard === 'string' ? guard : undefined
  }
}

/**
 * A count of the links of one source that counts the join table alone while `guard` holds (every
 * link row has its target row) and falls back to `joined`, the count joining the target table:
 * `SELECT CASE WHEN <guard> THEN (SELECT COUNT(*) FROM link AS linkAlias WHERE <source>) ELSE (<joined>) END AS count`.
 */
export function guardedLinkCount(guard: string, link: LinkSpec, linkAlias: string, sourceCondition: SqlFragment, joined: SqlFragment): SqlFragment {
  return joinFragments(
    [fragment(`SELECT CASE WHEN ${guard} THEN (SELECT COUNT(*) FROM ?? AS ?? WHERE `, link.table, linkAlias), sourceCondition, fragment(') ELSE ('), joined, fragment(') END AS ??', 'count')],
    '',
  )
}
