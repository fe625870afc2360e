import type { SqlDialectName, SqlFragment } from './sql-dialect.js'

/** Builds a fragment from parts: strings are SQL text, fragments bring their bindings along. */
export function fragment(sqlText: string, ...bindings: unknown[]): SqlFragment {
  return { sql: sqlText, bindings }
}

/** Fragments joined by `separator`, their bindings in order. */
export function joinFragments(parts: readonly SqlFragment[], separator: string): SqlFragment {
  return { sql: parts.map((part) => part.sql).join(separator), bindings: parts.flatMap((part) => part.bindings) }
}

/** `(a) AND (b) …`, or `undefined` for no fragment. */
export function allOf(parts: readonly SqlFragment[]): SqlFragment | undefined {
  if (parts.length === 0) return undefined
  return { sql: parts.map((part) => `(${part.sql})`).join(' AND '), bindings: parts.flatMap((part) => part.bindings) }
}

/** `(left) AND (right)`. */
export function and(left: SqlFragment, right: SqlFragment): SqlFragment {
  return { sql: `(${left.sql}) AND (${right.sql})`, bindings: [...left.bindings, ...right.bindings] }
}

/** `(left) OR (right)`. */
export function or(left: SqlFragment, right: SqlFragment): SqlFragment {
  return { sql: `(${left.sql}) OR (${right.sql})`, bindings: [...left.bindings, ...right.bindings] }
}

/**
 * How a value is bound on `dialect`. better-sqlite3 binds only numbers, strings, bigints,
 * buffers and null: a boolean goes as 1 or 0 and a Date as its milliseconds, as knex's
 * better-sqlite3 client (and BetterSqlite3Adapter) store them, so that every adapter reads the
 * others' rows. Other drivers take values as they are.
 */
export function driverValue(dialect: SqlDialectName): (value: unknown) => unknown {
  return dialect === 'sqlite' ? sqliteValue : identity
}

function identity(value: unknown): unknown {
  return value
}

function sqliteValue(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0
  if (value instanceof Date) return value.getTime()
  return value
}
