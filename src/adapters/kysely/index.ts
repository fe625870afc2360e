/**
 * throughline/kysely: the many-to-many manager on SQLite, PostgreSQL and MySQL/MariaDB through
 * your own Kysely instance (or a transaction of yours). `kysely` is an optional peer
 * dependency: only this entry point loads it; the instance, its dialect and driver are yours.
 *
 * @example
 * ```ts
 * import Database from 'better-sqlite3'
 * import { Kysely, SqliteDialect } from 'kysely'
 * import { manyToMany } from 'throughline'
 * import { KyselyAdapter, kyselyModel } from 'throughline/kysely'
 *
 * const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: new Database('app.db') }) })
 * const User = kyselyModel<DB>()('User', { table: 'users' })             // rows typed from DB['users']
 * const Interview = kyselyModel<DB>()('Interview', { table: 'interviews' })
 * const favorites = manyToMany(User, Interview, { name: 'favorite_interviews', adapter: new KyselyAdapter(db) })
 * const liked = await favorites.of(user).toggle(interview) // true: now a favourite
 * ```
 *
 * @module throughline/kysely
 */
export { KyselyAdapter, type KyselyAdapterOptions, type KyselyDialectName } from './kysely-adapter.js'
export { kyselyModel, type DefaultKyselyPk, type KyselyModelOptions, type KyselyRow } from './kysely-model.js'
export {
  createJoinTable,
  createTable,
  dropJoinTable,
  type KyselyCreateJoinTableOptions,
  type KyselyCreateTableOptions,
  type KyselyDropJoinTableOptions,
  type KyselyExtraColumnKinds,
} from './create-table.js'
