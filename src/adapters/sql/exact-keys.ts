import type { Key, LinkSpec, TableSpec } from '../../adapter/relation-adapter.js'
import { StorageError } from '../../errors/throughline-error.js'
import { formatValue } from '../../model/define-model.js'
import type { SqlDialect } from './sql-dialect.js'

// Why this file exists (F14 in docs/reliability.md): MySQL and MariaDB compare a string primary
// key by its column's collation, usually case-insensitive and PAD SPACE. The join table's
// foreign key therefore accepts 'ALPHA' or 'alpha ' when the row is 'alpha', and the link is
// stored under a key that no read matches (reads compare exactly, as the memory adapter does).
// Before inserting links, the Knex and Kysely adapters look the string keys up exactly, so that such a key
// is refused like any key with no row.

/** The most keys an error message names; the rest are counted. */
const SHOWN_KEYS = 5

/** The distinct string keys of one model table that a link insert is about to write. */
export interface ExactKeyCheck {
  /** The model table the keys must exist in. */
  readonly spec: TableSpec
  /** Distinct keys, in the order the pairs first give them. */
  readonly keys: readonly Key[]
}

/** A slice of one check's keys, looked up in one statement beside slices of the others. */
export interface ExactKeyPart {
  /** The index of the check in the list {@link exactKeyChecks} returned. */
  readonly check: number
  readonly keys: readonly Key[]
}

/**
 * The exact lookups `insertLinks` needs before writing `pairs`: one per model table whose key is
 * a string, on MySQL/MariaDB only (SQLite and PostgreSQL compare strings exactly, and their
 * foreign keys already refuse such keys). A self relation's two sides share one table and one
 * lookup. Uuid keys are left out: they are case-insensitive by design.
 */
export function exactKeyChecks(dialect: SqlDialect, link: LinkSpec, pairs: readonly (readonly [Key, Key])[]): ExactKeyCheck[] {
  if (dialect.name !== 'mysql' || pairs.length === 0) return []
  const checks: { spec: TableSpec; keys: Set<Key> }[] = []
  const add = (spec: TableSpec, side: 0 | 1): void => {
    if (spec.keyType !== 'string') return
    let check = checks.find((other) => other.spec.table === spec.table && other.spec.primaryKey === spec.primaryKey)
    if (check === undefined) {
      check = { spec, keys: new Set() }
      checks.push(check)
    }
    for (const pair of pairs) check.keys.add(pair[side])
  }
  add(link.source, 0)
  add(link.target, 1)
  return checks.map(({ spec, keys }) => ({ spec, keys: [...keys] }))
}

/**
 * The error for keys of `spec`'s table that have no row by exact comparison: the same code as a
 * foreign key's refusal, `M2M_CONSTRAINT_VIOLATION`, with nothing written.
 */
export function missingKeysError(adapter: string, spec: TableSpec, missing: readonly Key[]): StorageError {
  const shown = missing.slice(0, SHOWN_KEYS).map(formatValue).join(', ')
  const more = missing.length > SHOWN_KEYS ? ` and ${String(missing.length - SHOWN_KEYS)} more` : ''
  return new StorageError(
    adapter,
    `constraint violation: "${spec.table}" has no ${spec.model} row whose "${spec.primaryKey}" is exactly ${shown}${more}. ` +
      `String keys are checked byte for byte before links are inserted: the column's collation ` +
      `(case-insensitive and ignoring trailing spaces on MySQL/MariaDB) would have let the foreign key ` +
      `accept a key that matches a row only by case or trailing spaces, storing a link no read finds.`,
    { code: 'M2M_CONSTRAINT_VIOLATION' },
  )
}
