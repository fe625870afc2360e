// MySQL refuses identifiers over 64 characters and PostgreSQL truncates them past 63 (two long
// names could then collide), so constraint and index names past this length are shortened.
const MAX_NAME = 60

/**
 * A stable, short name for an index or constraint: `<table>_<columns>_<suffix>`, hashed when
 * too long. Shared by the Knex and Kysely schema helpers, so that both name a table's
 * constraints alike.
 */
export function constraintName(table: string, columns: readonly string[], suffix: string): string {
  const name = `${table}_${columns.join('_')}_${suffix}`
  if (name.length <= MAX_NAME) return name
  // FNV-1a: a deterministic hash, so that the same schema always gets the same names.
  let hash = 0x811c9dc5
  for (let index = 0; index < name.length; index++) {
    hash ^= name.charCodeAt(index)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  const tail = `_${hash.toString(16).padStart(8, '0')}_${suffix}`
  return `${name.slice(0, MAX_NAME - tail.length)}${tail}`
}
