/**
 * throughline/knex: the many-to-many manager on SQLite, PostgreSQL and MySQL/MariaDB through
 * your own Knex instance, and schema helpers that create join tables (or print their DDL for a
 * migration). `knex` is an optional peer dependency: only this entry point uses it, and only
 * its types; the instance is yours.
 *
 * @example
 * ```ts
 * import knex from 'knex'
 * import { manyToMany } from 'throughline'
 * import { KnexAdapter, createJoinTable } from 'throughline/knex'
 *
 * const db = knex({ client: 'better-sqlite3', connection: { filename: 'app.db' }, useNullAsDefault: true })
 * const publications = manyToMany(Article, Publication, { name: 'publications', adapter: new KnexAdapter(db) })
 * await createJoinTable(db, publications)
 * ```
 *
 * @module throughline/knex
 */
export { KnexAdapter, type KnexAdapterOptions } from './knex-adapter.js'
export {
  createJoinTable,
  createTable,
  dropJoinTable,
  dropJoinTableSql,
  joinTableSql,
  tableSql,
  type CreateJoinTableOptions,
  type DropJoinTableOptions,
  type ExtraColumnKinds,
} from './create-table.js'
export type { KnexDialectName } from './knex-dialect.js'
