import type { Row } from './relation-adapter.js'

/**
 * A copy of `row` without `column` (a helper column an adapter selected beside the row's own,
 * such as the source key of a prefetched row). Copying is several times faster than `delete`
 * on the driver's row: deleting a property turns the object into a slow dictionary, which
 * every later read of the row (and the model tag) then pays for, 10 000 rows per prefetch.
 */
export function withoutColumn(row: Row, column: string): Row {
  const copy: Row = {}
  for (const name in row) if (name !== column) copy[name] = row[name]
  return copy
}
