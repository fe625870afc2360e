import type { LinkSpec } from '../../adapter/relation-adapter.js'

/**
 * An SQLite expression, true when SQLite itself refuses, at the end of a statement run outside
 * a transaction, a row of the join table whose source or target row does not exist: the
 * connection enforces foreign keys (`PRAGMA foreign_keys`, per connection, off by default in
 * SQLite and on in better-sqlite3's build) and the join table has a one-column foreign key from
 * each key column to its table's key. Read from the schema SQLite keeps in memory (the
 * `pragma_*` table-valued functions): a few microseconds, no table read.
 *
 * The adapters read it once per join table to answer `foreignKeysEnforced`, and put it again in
 * the INSERT that trusts it (`WHERE <this> OR (EXISTS … AND EXISTS …)`), so that a schema or
 * pragma changed since cannot let a link to a missing row in: the INSERT then checks the rows
 * itself, as every other insert does.
 *
 * `sql` has only `?` placeholders (values, no identifiers), in the order of `bindings`.
 */
export function sqliteForeignKeysEnforced(link: LinkSpec): { readonly sql: string; readonly bindings: readonly unknown[] } {
  // A reference to the parent's primary key may leave the column out ("to" is NULL): then the
  // parent's one-column primary key must be the model's key.
  const references =
    '(f."from" = ? COLLATE NOCASE AND f."table" = ? COLLATE NOCASE AND (f."to" = ? COLLATE NOCASE OR (f."to" IS NULL AND ' +
    '(SELECT count(*) FROM pragma_table_info(f."table") AS c WHERE c.pk > 0) = 1 AND ' +
    'EXISTS (SELECT 1 FROM pragma_table_info(f."table") AS c WHERE c.pk = 1 AND c.name = ? COLLATE NOCASE))))'
  const side = (column: string, spec: LinkSpec['source']): unknown[] => [column, spec.table, spec.primaryKey, spec.primaryKey]
  return {
    sql:
      '((SELECT foreign_keys FROM pragma_foreign_keys()) = 1 AND ' +
      '(SELECT count(DISTINCT lower(f."from")) FROM pragma_foreign_key_list(?) AS f WHERE ' +
      // Composite foreign keys do not count: each side needs a key of its own.
      'NOT EXISTS (SELECT 1 FROM pragma_foreign_key_list(?) AS g WHERE g.id = f.id AND g.seq > 0) AND ' +
      `(${references} OR ${references})) = 2)`,
    bindings: [link.table, link.table, ...side(link.sourceColumn, link.source), ...side(link.targetColumn, link.target)],
  }
}

/**
 * {@link sqliteForeignKeysEnforced} with its values written into the text as string literals,
 * for an adapter that builds each statement text once and binds only the call's values.
 */
export function sqliteForeignKeysEnforcedText(link: LinkSpec): string {
  const { sql, bindings } = sqliteForeignKeysEnforced(link)
  let index = 0
  return sql.replace(/\?/g, () => `'${String(bindings[index++]).replace(/'/g, "''")}'`)
}
