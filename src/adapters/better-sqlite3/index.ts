/**
 * throughline/better-sqlite3: the many-to-many manager straight over a better-sqlite3
 * `Database`, with prepared statements cached per connection, for the hot paths where a query
 * builder costs more than the statement itself. `better-sqlite3` is an optional peer
 * dependency: this entry point imports nothing from it at run time, and the connection is
 * yours.
 *
 * @example
 * ```ts
 * import Database from 'better-sqlite3'
 * import { manyToMany } from 'throughline'
 * import { BetterSqlite3Adapter } from 'throughline/better-sqlite3'
 *
 * const db = new Database('app.db')
 * const favorites = manyToMany(User, Interview, { name: 'favorite_interviews', adapter: new BetterSqlite3Adapter(db) })
 * await favorites.of(user).toggle(interview)
 * ```
 *
 * @module throughline/better-sqlite3
 */
export { BetterSqlite3Adapter, type BetterSqlite3AdapterOptions } from './better-sqlite3-adapter.js'
export type { SqliteDatabase, SqliteRunResult, SqliteStatement, SqliteValue } from './sqlite-database.js'
