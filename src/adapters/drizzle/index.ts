/**
 * throughline/drizzle: the many-to-many manager on SQLite, PostgreSQL and MySQL/MariaDB through
 * your own Drizzle database (or, on PostgreSQL and MySQL, a transaction of yours). `drizzle-orm`
 * is an optional peer dependency: only this entry point loads it; the database, its driver and
 * schema are yours.
 *
 * @example
 * ```ts
 * import Database from 'better-sqlite3'
 * import { drizzle } from 'drizzle-orm/better-sqlite3'
 * import { manyToMany } from 'throughline'
 * import { DrizzleAdapter } from 'throughline/drizzle'
 *
 * const db = drizzle(new Database('app.db'))
 * const favorites = manyToMany(User, Interview, { name: 'favorite_interviews', adapter: new DrizzleAdapter(db) })
 * const liked = await favorites.of(user).toggle(interview) // true: now a favourite
 * ```
 *
 * @module throughline/drizzle
 */
export { DrizzleAdapter, type DrizzleAdapterOptions, type DrizzleDialectName } from './drizzle-adapter.js'
export {
  drizzleModel,
  drizzleThrough,
  type DrizzleCasing,
  type DrizzleModelOptions,
  type DrizzlePrimaryKey,
  type DrizzleRow,
  type DrizzleThroughOptions,
} from './drizzle-model.js'
