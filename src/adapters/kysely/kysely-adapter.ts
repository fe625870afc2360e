import type { Kysely, Transaction } from 'kysely'
import type { AdapterLogger } from '../../adapter/adapter-log.js'
import type { RetryPolicy } from '../../adapter/retry-policy.js'
import type { Row } from '../../adapter/relation-adapter.js'
import { InvalidArgumentError } from '../../errors/throughline-error.js'
import { FragmentAdapter, type SqlDriver } from '../sql/fragment-adapter.js'
import { mysqlDialect, pgDialect, sqliteDialect, type SqlDialect } from '../sql/sql-dialect.js'
import { driverValue } from '../sql/sql-fragment.js'
import { toRaw } from './kysely-sql.js'

/** The databases the Kysely adapter supports: `'sqlite'`, `'pg'` (PostgreSQL) and `'mysql'` (MySQL/MariaDB). */
export type KyselyDialectName = 'sqlite' | 'pg' | 'mysql'

/** Options of {@link KyselyAdapter}. */
export interface KyselyAdapterOptions {
  /**
   * The database, when the Kysely instance's dialect is not one of Kysely's own (`SqliteDialect`,
   * `PostgresDialect`, `MysqlDialect`) nor built on their adapters: a third-party dialect for
   * a database that speaks SQLite's, PostgreSQL's or MySQL's SQL. Default: read from the
   * instance's dialect adapter.
   */
  readonly dialect?: KyselyDialectName
  /**
   * The most bind parameters one statement may carry, when the database's is lower than the
   * dialect's default (30 000 on SQLite, 65 535 on PostgreSQL and MySQL).
   */
  readonly maxBindParameters?: number
  /**
   * How a call is run again after the database aborted its transaction for a conflict with
   * another (PostgreSQL `40001`/`40P01`, MySQL/MariaDB deadlocks and lock wait timeouts,
   * SQLite busy): see {@link RetryPolicy}. Default: `DEFAULT_RETRY_POLICY`.
   */
  readonly retry?: Partial<RetryPolicy>
  /**
   * Receives every statement the adapter sends (its SQL, without values) and every call it runs
   * again after a conflict. Off by default; `DEBUG=throughline*` prints the same to standard error.
   */
  readonly log?: AdapterLogger
}

// The adapter works on any database interface: its statements name tables from the relation's
// definitions, not from the user's `DB` type.
type AnyKysely = Kysely<unknown>

const DIALECTS: Readonly<Record<KyselyDialectName, SqlDialect>> = { sqlite: sqliteDialect, pg: pgDialect, mysql: mysqlDialect }

// Kysely's own dialect adapters, by class name: read up the prototype chain, so that a
// dialect built on them (PGlite's, libSQL's) is recognised, and a second copy of kysely in
// node_modules (an ESM and a CommonJS one) too, where `instanceof` would fail.
const ADAPTER_CLASSES: Readonly<Record<string, KyselyDialectName>> = { SqliteAdapter: 'sqlite', PostgresAdapter: 'pg', MysqlAdapter: 'mysql' }

/**
 * A `RelationAdapter` (see throughline's root entry) over a Kysely instance: SQLite (`SqliteDialect` on better-sqlite3),
 * PostgreSQL (`PostgresDialect` on pg) and MySQL/MariaDB (`MysqlDialect` on mysql2), with the
 * statements, limits and semantics of the Knex adapter. Pass your `Kysely<DB>`, or a transaction
 * of yours (`db.transaction().execute((trx) => …)`) to run throughline's calls inside it: each
 * call then takes a savepoint, so that a failed call undoes only its own writes and leaves your
 * transaction usable. Every statement is built with Kysely's `sql` tag: identifiers quoted by
 * Kysely's compiler, every value a bound parameter.
 *
 * @example
 * ```ts
 * import { Kysely, SqliteDialect } from 'kysely'
 * import Database from 'better-sqlite3'
 * import { KyselyAdapter } from 'throughline/kysely'
 *
 * const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: new Database('app.db') }) })
 * const favorites = manyToMany(User, Interview, { name: 'favorite_interviews', adapter: new KyselyAdapter(db) })
 * await favorites.of(user).toggle(interview)
 *
 * // Inside your own transaction: rolled back with it.
 * await db.transaction().execute(async (trx) => {
 *   await trx.insertInto('audit').values({ action: 'like' }).execute()
 *   await favorites.using(new KyselyAdapter(trx)).of(user).add(interview)
 * })
 * ```
 */
export class KyselyAdapter<DB = unknown> extends FragmentAdapter<AnyKysely> {
  // Transaction<DB> is named beside Kysely<DB> so that a caller's transaction infers its DB
  // (inferred from Kysely<DB> alone, a Transaction<DB> gave a widened one that did not fit).
  constructor(db: Kysely<DB> | Transaction<DB>, options: KyselyAdapterOptions = {}) {
    const given: unknown = db
    if (typeof given !== 'object' || given === null || typeof (given as Partial<AnyKysely>).executeQuery !== 'function' || typeof (given as Partial<AnyKysely>).getExecutor !== 'function') {
      throw new InvalidArgumentError('KyselyAdapter takes a Kysely instance (or a Kysely transaction): new KyselyAdapter(db).')
    }
    const root = db as unknown as AnyKysely
    super(kyselyDriver(DIALECTS[options.dialect ?? kyselyDialectName(root)]), root, options)
  }
}

/** Statements and transactions through Kysely: `sql` templates compiled by the instance's own dialect. */
function kyselyDriver(dialect: SqlDialect): SqlDriver<AnyKysely> {
  const bind = driverValue(dialect.name)
  return {
    library: 'Kysely',
    dialect,
    name: `kysely(${dialect.name})`,
    isTransaction: (db) => db.isTransaction,
    prepare(db, statement) {
      const compiled = toRaw(statement, bind).compile(db)
      return {
        sql: compiled.sql,
        async run() {
          const result = await db.executeQuery(compiled)
          const affected = result.numAffectedRows
          return { rows: result.rows as Row[], affected: affected === undefined ? undefined : Number(affected), insertId: result.insertId }
        },
      }
    },
    transaction(root, serializable, work) {
      return (serializable ? root.transaction().setIsolationLevel('serializable') : root.transaction()).execute(work)
    },
    // Kysely's own SqliteDialect holds one connection for good (its SqliteConnection); a
    // third-party dialect on Kysely's SqliteAdapter (libSQL, D1) may not, and is not trusted.
    oneConnection: (root) =>
      root
        .getExecutor()
        .provideConnection((connection) => Promise.resolve((connection as { constructor?: { name?: unknown } }).constructor?.name === 'SqliteConnection'))
        .catch(() => false),
  }
}

/** The database of a Kysely instance, read from its dialect adapter (see {@link KyselyAdapterOptions.dialect}). */
export function kyselyDialectName(db: AnyKysely): KyselyDialectName {
  const adapter: unknown = db.getExecutor().adapter
  const seen: string[] = []
  for (let prototype: unknown = Object.getPrototypeOf(adapter); typeof prototype === 'object' && prototype !== null; prototype = Object.getPrototypeOf(prototype)) {
    const name: unknown = (prototype as { constructor?: { name?: unknown } }).constructor?.name
    if (typeof name !== 'string') continue
    const found = ADAPTER_CLASSES[name]
    if (found !== undefined) return found
    seen.push(name)
  }
  throw new InvalidArgumentError(
    `KyselyAdapter supports SQLite, PostgreSQL and MySQL/MariaDB (Kysely's SqliteDialect, PostgresDialect and MysqlDialect, and dialects built on their adapters); ` +
      `this Kysely instance's dialect adapter is ${seen[0] ?? 'unknown'}. If it speaks one of those databases' SQL, say which: new KyselyAdapter(db, { dialect: 'pg' }).`,
  )
}
