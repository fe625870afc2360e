import type { Condition, LinkSpec, TableSpec } from '../../adapter/relation-adapter.js'

// Shared by the Knex and Kysely adapters, which build the same conditions.

/** The uuid key columns of a model's table: compared as the database types them. */
export function uuidColumns(spec: TableSpec): ReadonlySet<string> {
  return spec.keyType === 'uuid' ? new Set([spec.primaryKey]) : new Set()
}

/** The uuid key columns of a join table. */
export function linkUuidColumns(link: LinkSpec): ReadonlySet<string> {
  const columns = new Set<string>()
  if (link.source.keyType === 'uuid') columns.add(link.sourceColumn)
  if (link.target.keyType === 'uuid') columns.add(link.targetColumn)
  return columns
}

/** How many values `conditions` bind, at most: room to leave beside a chunk of keys. */
export function conditionBinds(conditions: readonly Condition[]): number {
  return conditions.reduce((sum, { value }) => sum + 2 * (Array.isArray(value) ? value.length : 1), 0)
}
