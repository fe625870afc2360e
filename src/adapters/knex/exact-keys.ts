import type { Knex } from 'knex'
import type { ExactKeyCheck, ExactKeyPart } from '../sql/exact-keys.js'
import type { KnexDialect } from './knex-dialect.js'

/**
 * One SELECT that returns, for each part, the keys found exactly in its table (`c`: the check's
 * index, `k`: the stored key), the parts joined with UNION ALL. `dialect.keysIn` adds the binary
 * comparison to the plain, indexable one.
 */
export function exactKeysQuery(
  db: Knex,
  dialect: KnexDialect,
  checks: readonly ExactKeyCheck[],
  [first, ...others]: readonly [ExactKeyPart, ...ExactKeyPart[]],
): Knex.QueryBuilder {
  const select = (builder: Knex.QueryBuilder, part: ExactKeyPart): Knex.QueryBuilder => {
    const { table, primaryKey, keyType } = checks[part.check]!.spec
    const where = dialect.keysIn(primaryKey, part.keys, keyType)
    // The check's index is a small integer of ours, not a value from the caller.
    return builder.select(db.raw(`${String(part.check)} AS ??`, ['c']), { k: primaryKey }).from(table).whereRaw(where.sql, where.bindings as Knex.RawBinding[])
  }
  const query = select(db.queryBuilder(), first)
  for (const part of others) {
    query.unionAll(function (this: Knex.QueryBuilder) {
      select(this, part)
    })
  }
  return query
}
