import type { LinkSpec, OrderTerm } from '../../adapter/relation-adapter.js'

/**
 * Whether a target read may order by the join table's copy of the target key (`l.target_id`)
 * instead of the target's own column (`t.id`). The join makes the two equal, so the order is the
 * same, but the join table's unique `(source, target)` index already holds the rows of one source
 * in that order: SQLite then sorts nothing (it built a temporary B-tree for `ORDER BY t.id`, about
 * 8 % of a 1 000-row list and 20 % of a 10 000-row prefetch). Only for numeric keys: two strings
 * a join finds equal may still differ (a case-insensitive collation on MySQL, or on one column).
 */
export function ordersKeyByLink(link: LinkSpec): boolean {
  return link.target.keyType === 'integer' || link.target.keyType === 'bigint'
}

/**
 * Whether `orderBy` is the target key alone (a model without `ordering`): then a prefetch ordered
 * by source first and the link's target key second reads the rows in index order, and each
 * source's rows keep the order asked for.
 */
export function ordersByKeyAlone(link: LinkSpec, orderBy: readonly OrderTerm[]): boolean {
  const [first] = orderBy
  return orderBy.length === 1 && first !== undefined && first.through !== true && first.column === link.target.primaryKey && ordersKeyByLink(link)
}
