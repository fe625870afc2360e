import type { Condition } from '../../adapter/relation-adapter.js'
import type { SqlDialect, SqlFragment, StringComparison } from './sql-dialect.js'
import { allOf, and, fragment } from './sql-fragment.js'

const RANGE: Readonly<Record<'gt' | 'gte' | 'lt' | 'lte', StringComparison>> = { gt: '>', gte: '>=', lt: '<', lte: '<=' }

/** One `filter()` condition on a column of the table aliased `alias`, as the Knex adapter writes it. */
export function conditionFragment(dialect: SqlDialect, alias: string, uuid: ReadonlySet<string>, { column, op, value }: Condition): SqlFragment {
  const name = `${alias}.${column}`
  // A uuid key is compared as the database types it: coerceKey has already lower-cased it.
  const plainStrings = uuid.has(column)
  switch (op) {
    case 'isnull':
      return fragment(value === true ? '?? IS NULL' : '?? IS NOT NULL', name)
    case 'exact':
      if (typeof value === 'string' && !plainStrings) return dialect.compareString(name, '=', value)
      return fragment(`?? = ${dialect.valuePlaceholder(value)}`, name, value)
    case 'in': {
      const items = value as readonly unknown[]
      const strings = plainStrings ? [] : items.filter((item): item is string => typeof item === 'string')
      const others = plainStrings ? items : items.filter((item) => typeof item !== 'string')
      const parts: SqlFragment[] = []
      if (others.length > 0) parts.push(fragment(`?? IN (${others.map((item) => dialect.valuePlaceholder(item)).join(', ')})`, name, ...others))
      if (strings.length > 0) parts.push(dialect.inStrings(name, strings))
      return { sql: parts.map((part) => `(${part.sql})`).join(' OR '), bindings: parts.flatMap((part) => part.bindings) }
    }
    case 'startswith':
    case 'endswith':
    case 'contains':
      return dialect.textMatch(name, op, value as string)
    case 'iexact':
    case 'istartswith':
    case 'iendswith':
    case 'icontains':
      return dialect.foldedMatch(name, op, value as string)
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      if (typeof value === 'string') return dialect.compareString(name, RANGE[op], value)
      return fragment(`?? ${RANGE[op]} ${dialect.valuePlaceholder(value)}`, name, value)
  }
}


/**
 * `NOT (…)` of one `exclude()` group on the table aliased `alias`: true for a row that does
 * not meet every condition. Each condition but `isnull` also requires its column not null (as
 * Django's exclude() does on nullable columns), so that a null column fails the condition
 * rather than make the NOT unknown and drop the row.
 */
export function excludedFragment(dialect: SqlDialect, alias: string, uuid: ReadonlySet<string>, group: readonly Condition[]): SqlFragment {
  const parts = group.map((condition) => {
    const part = conditionFragment(dialect, alias, uuid, condition)
    return condition.op === 'isnull' ? part : and(part, fragment('?? IS NOT NULL', `${alias}.${condition.column}`))
  })
  const all = allOf(parts) ?? fragment('1 = 1')
  return { sql: `NOT (${all.sql})`, bindings: all.bindings }
}
