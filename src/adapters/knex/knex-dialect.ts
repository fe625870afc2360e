import type { Knex } from 'knex'
import type { LinkSpec } from '../../adapter/relation-adapter.js'
import { InvalidArgumentError } from '../../errors/throughline-error.js'
import { errorField, mysqlDialect, pgDialect, sqliteDialect, type SqlDialect } from '../sql/sql-dialect.js'

export type { SqlFragment, StringComparison, TextMatch } from '../sql/sql-dialect.js'

/** The databases the Knex adapter supports (the shared dialect's names, spelt out for the API reference). */
export type KnexDialectName = 'sqlite' | 'pg' | 'mysql'

/**
 * The {@link SqlDialect} of a database (what the Kysely adapter shares), and what only knex
 * needs: its multi-row INSERT's limits, its ignore-duplicates clause, and the shape of the
 * result it resolves a raw INSERT to. Internal.
 */
export interface KnexDialect extends SqlDialect {
  /** The most rows one multi-row INSERT may carry, whatever the parameters. */
  readonly maxInsertRows: number
  /**
   * Turns an INSERT into one that skips the rows whose `(source, target)` pair already exists,
   * and only those: foreign-key and not-null failures must still raise.
   */
  ignoreDuplicatePairs(insert: Knex.QueryBuilder, link: LinkSpec, knex: Knex): Knex.QueryBuilder
  /** How many rows the INSERT inserted, from what knex resolved it to; `undefined` where that cannot be told. */
  insertedRows(result: unknown): number | undefined
}

const sqlite: KnexDialect = {
  ...sqliteDialect,
  // Knex renders a multi-row INSERT on SQLite as INSERT ... SELECT ... UNION ALL SELECT ...,
  // and SQLite refuses a compound SELECT of more than 500 terms.
  maxInsertRows: 500,
  ignoreDuplicatePairs: (insert, link) => insert.onConflict([link.sourceColumn, link.targetColumn]).ignore(),
  // knex resolves a raw INSERT on better-sqlite3 to { changes }, which leaves out the rows
  // ON CONFLICT skipped and those the EXISTS filtered.
  insertedRows(result) {
    const changes = errorField(result, 'changes')
    return typeof changes === 'number' ? changes : undefined
  },
}

const pg: KnexDialect = {
  ...pgDialect,
  maxInsertRows: Number.POSITIVE_INFINITY,
  ignoreDuplicatePairs: (insert, link) => insert.onConflict([link.sourceColumn, link.targetColumn]).ignore(),
  // pg's rowCount leaves out the rows ON CONFLICT skipped and those the EXISTS filtered.
  insertedRows(result) {
    const count = errorField(result, 'rowCount')
    return typeof count === 'number' ? count : undefined
  },
}

const mysql: KnexDialect = {
  ...mysqlDialect,
  maxInsertRows: Number.POSITIVE_INFINITY,
  ignoreDuplicatePairs(insert, link, knex) {
    // INSERT IGNORE would also turn foreign-key failures into warnings. A no-op update on a
    // duplicate key ignores only duplicates; foreign-key and not-null errors still raise.
    return insert.onConflict().merge({ [link.sourceColumn]: knex.ref(link.sourceColumn) } as Record<string, unknown>)
  },
  // A duplicate's no-op update counts as an affected row (see mysqlDialect.countsInserts).
  insertedRows: () => undefined,
}

const DIALECTS: Readonly<Record<string, KnexDialect>> = {
  sqlite3: sqlite,
  'better-sqlite3': sqlite,
  postgresql: pg,
  postgres: pg,
  pg,
  mysql,
  mysql2: mysql,
}

/** The dialect of a Knex instance (or transaction), from its client; throws for other databases. */
export function knexDialect(knex: Knex): KnexDialect {
  const client: unknown = (knex as { client?: unknown }).client
  const dialect = errorField(client, 'dialect')
  const found = typeof dialect === 'string' ? DIALECTS[dialect] : undefined
  if (found === undefined) {
    throw new InvalidArgumentError(
      `KnexAdapter supports SQLite (better-sqlite3, sqlite3), PostgreSQL (pg) and MySQL/MariaDB (mysql2, mysql); ` +
        `this Knex instance uses ${typeof dialect === 'string' ? JSON.stringify(dialect) : 'an unknown client'}.`,
    )
  }
  return found
}
