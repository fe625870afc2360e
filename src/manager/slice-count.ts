/**
 * How many of `total` rows a slice `[offset, offset + limit)` holds: Django's `qs[2:3].count()`.
 * Counting the whole match and cutting it here keeps `count()` one statement on every adapter.
 */
export function sliceCount(total: number, offset: number | undefined, limit: number | undefined): number {
  const after = Math.max(0, total - (offset ?? 0))
  return limit === undefined ? after : Math.min(limit, after)
}
