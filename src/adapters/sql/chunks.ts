/**
 * Splits `items` into consecutive chunks of at most `size` items (at least one per chunk), so
 * that one statement per chunk stays under a database's bind-parameter or row limits.
 */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const step = Math.max(1, Math.floor(size))
  const result: T[][] = []
  for (let start = 0; start < items.length; start += step) result.push(items.slice(start, start + step))
  return result
}

/**
 * An upper bound of the bytes a value takes once inlined in an SQL text, as the MySQL drivers
 * send statements (quoted, escaped, with a separator). Used to keep a statement under the
 * server's packet limit; exactness does not matter, staying above the real size does.
 */
export function inlinedBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value) * 2 + 4
  if (Buffer.isBuffer(value)) return value.length * 2 + 5
  if (value instanceof Date) return 32
  return 24
}

/** The largest {@link inlinedBytes} among `values` (0 for none), without spreading them into arguments. */
export function largestInlined(values: Iterable<unknown>): number {
  let largest = 0
  for (const value of values) largest = Math.max(largest, inlinedBytes(value))
  return largest
}
