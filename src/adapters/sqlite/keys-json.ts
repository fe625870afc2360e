import type { Key, KeyType } from '../../adapter/relation-adapter.js'

/**
 * Keys as one JSON array, for `json_each(?)`: a list of any length travels as one parameter,
 * so that one prepared statement serves every list (no `IN (?, ?, …)` text per length) and
 * no list ever meets the bind-parameter limit. 64-bit keys are written as exact integers.
 */
export function keysJson(keys: readonly Key[], keyType: KeyType): string {
  if (keyType !== 'bigint') return JSON.stringify(keys)
  let json = '['
  for (let index = 0; index < keys.length; index++) {
    if (index > 0) json += ','
    json += String(keys[index])
  }
  return `${json}]`
}

/** The same for `[first, second]` pairs: `[[1,2],[1,3]]`. */
export function pairsJson(pairs: readonly (readonly [Key, Key])[], firstType: KeyType, secondType: KeyType): string {
  if (firstType !== 'bigint' && secondType !== 'bigint') return JSON.stringify(pairs)
  let json = '['
  for (let index = 0; index < pairs.length; index++) {
    const [first, second] = pairs[index]!
    if (index > 0) json += ','
    json += `[${firstType === 'bigint' ? String(first) : JSON.stringify(first)},${secondType === 'bigint' ? String(second) : JSON.stringify(second)}]`
  }
  return `${json}]`
}
