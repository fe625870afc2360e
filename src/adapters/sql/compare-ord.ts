/**
 * Orders link primary keys, to put link rows read in chunks back in insertion order: numbers,
 * or integers as strings (pg's bigint) compared as integers; other values (a string key) by
 * code unit. Missing ones keep their place. Shared by the Knex and Kysely adapters.
 */
export function compareOrd(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b
  const x = ordValue(a)
  const y = ordValue(b)
  if (x === undefined || y === undefined || typeof x !== typeof y) return 0
  return x < y ? -1 : x > y ? 1 : 0
}

function ordValue(value: unknown): bigint | string | undefined {
  if (typeof value === 'bigint') return value
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : undefined
  if (typeof value === 'string') return /^-?\d+$/.test(value) ? BigInt(value) : value
  return undefined
}
