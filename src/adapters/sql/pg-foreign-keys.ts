import type { LinkSpec } from '../../adapter/relation-adapter.js'
import type { SqlFragment } from './sql-dialect.js'

// The join table as an unqualified name finds it through the search_path, as the adapters'
// statements do.
const TABLE = 'to_regclass(quote_ident(?))'

/**
 * The constraint of the join table that makes PostgreSQL refuse a row whose `column` holds no
 * key of `table`: a one-column foreign key to that table's `key` column, checked at the end of
 * each statement (not deferrable: a deferrable one may be deferred by `SET CONSTRAINTS`), whose
 * triggers are not disabled (`ALTER TABLE … DISABLE TRIGGER ALL`). `NOT VALID` is fine: it
 * checks new rows, which is all an insert needs.
 */
function foreignKey(validated = false): string {
  return (
    '(SELECT c.oid::text FROM pg_constraint c ' +
    'JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] ' +
    'JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1] ' +
    `WHERE c.conrelid = ${TABLE} AND c.contype = 'f' AND cardinality(c.conkey) = 1 AND NOT c.condeferrable${validated ? ' AND c.convalidated' : ''} ` +
    `AND a.attname = ? AND c.confrelid = ${TABLE} AND fa.attname = ? ` +
    "AND NOT EXISTS (SELECT 1 FROM pg_trigger tg WHERE tg.tgconstraint = c.oid AND tg.tgenabled = 'D') " +
    'ORDER BY c.oid LIMIT 1)'
  )
}

/**
 * The catalog read behind `foreignKeysEnforced` on PostgreSQL: the two constraints (their oids as
 * text, or NULL), the target's again when it is also validated (every row already in the table
 * was checked: `NOT VALID` skips them), and whether this session enforces foreign keys at all (a
 * session with `session_replication_role = replica` fires no foreign-key trigger).
 */
export function pgForeignKeysQuery(link: LinkSpec): SqlFragment {
  return {
    sql:
      `SELECT ${foreignKey()} AS source_fk, ${foreignKey()} AS target_fk, ${foreignKey(true)} AS target_validated, ` +
      "current_setting('session_replication_role') <> 'replica' AS enforcing",
    bindings: [
      link.table,
      link.sourceColumn,
      link.source.table,
      link.source.primaryKey,
      link.table,
      link.targetColumn,
      link.target.table,
      link.target.primaryKey,
      link.table,
      link.targetColumn,
      link.target.table,
      link.target.primaryKey,
    ],
  }
}

/**
 * From the row of {@link pgForeignKeysQuery}: `false`, or what the INSERT that trusts the
 * constraints checks again, once per statement (two catalog lookups by oid): the session still
 * enforces foreign keys, and both constraints are still there, not deferrable, triggers enabled.
 * A constraint dropped (or a table recreated) since then has another oid or none: the INSERT then
 * checks the rows itself.
 */
export function pgEnforcedGuard(row: Readonly<Record<string, unknown>> | undefined): string | false {
  const oids = [row?.source_fk, row?.target_fk]
  if (row?.enforcing !== true || !oids.every((oid) => typeof oid === 'string' && /^\d+$/.test(oid))) return false
  const still = (oid: unknown): string =>
    `EXISTS (SELECT 1 FROM pg_constraint c WHERE c.oid = ${String(oid)}::oid AND NOT c.condeferrable ` +
    `AND NOT EXISTS (SELECT 1 FROM pg_trigger tg WHERE tg.tgconstraint = c.oid AND tg.tgenabled = 'D'))`
  return `(current_setting('session_replication_role') <> 'replica' AND ${oids.map(still).join(' AND ')})`
}

/**
 * From the row of {@link pgForeignKeysQuery}: `false`, or what a count of links checks, once per
 * statement, before it counts the join table alone instead of joining the target table: the
 * target's foreign key still there, validated, not deferrable and with its triggers on. Then every
 * link row has its target row (PostgreSQL checked the rows there before, and checks every row
 * written since), so both counts agree. Only a superuser can break that, by disabling the
 * triggers or writing as a replica for a while: throughline cannot see that afterwards.
 */
export function pgCountGuard(row: Readonly<Record<string, unknown>> | undefined): string | false {
  const oid = row?.target_validated
  if (typeof oid !== 'string' || !/^\d+$/.test(oid)) return false
  return (
    `EXISTS (SELECT 1 FROM pg_constraint c WHERE c.oid = ${oid}::oid AND c.convalidated AND NOT c.condeferrable ` +
    "AND NOT EXISTS (SELECT 1 FROM pg_trigger tg WHERE tg.tgconstraint = c.oid AND tg.tgenabled = 'D'))"
  )
}
