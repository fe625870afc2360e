import type Database from 'better-sqlite3'
import knex, { type Knex } from 'knex'
import { createTable } from '../src/adapters/knex/index.js'
import type { MemoryAdapter } from '../src/index.js'
import { joinNames, type RelationFixture } from './fixtures.js'

/**
 * SQLite in memory on one connection: knex's pool holds it, and the direct adapter and the raw
 * baseline use the very same connection (taken from the pool once, and given back).
 */
export async function openSqlite(): Promise<{ db: Knex; connection: Database.Database; version: string }> {
  const db = knex({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true, pool: { min: 1, max: 1, idleTimeoutMillis: 3_600_000 } })
  try {
    const client = db.client as { acquireConnection(): Promise<Database.Database>; releaseConnection(connection: Database.Database): Promise<void> }
    const connection = await client.acquireConnection()
    await client.releaseConnection(connection)
    return { db, connection, version: connection.prepare('SELECT sqlite_version()').pluck().get() as string }
  } catch (error) {
    await db.destroy()
    throw error
  }
}

/**
 * Untimed access to a variant's tables, beside the subject under test: seeding, the resets
 * between timed calls, and reading the links back to check that every variant did the same.
 */
export interface Storage {
  /** Creates (or recreates) the fixture's tables and fills the model tables. */
  create(fixture: RelationFixture): Promise<void>
  /** The targets linked from `source` (its own link rows), in key order. */
  linked(fixture: RelationFixture, source: number): Promise<number[]>
  /** Makes `source` linked to exactly `targets` (mirror rows included on a symmetrical relation). */
  reset(fixture: RelationFixture, source: number, targets: readonly number[]): Promise<void>
  /** Drops the fixture's tables. */
  drop(fixture: RelationFixture): Promise<void>
  /**
   * Refreshes the planner's statistics of the fixture's tables (PostgreSQL), so that plans do
   * not change in the middle of a measurement when autovacuum gets to the freshly filled tables.
   */
  analyze(fixture: RelationFixture): Promise<void>
}

function rowsOf(count: number, prefix: string): { id: number; name: string }[] {
  return Array.from({ length: count }, (_, index) => ({ id: index + 1, name: `${prefix} ${String(index + 1)}` }))
}

/** The model rows of a fixture: [table, rows] for the source table and, when distinct, the target table. */
function modelRows(fixture: RelationFixture): [string, { id: number; name: string }[]][] {
  const { layout, source, target } = fixture
  if (source.table === target.table) return [[source.table, rowsOf(Math.max(layout.sourceCount, layout.targetRowCount), source.name)]]
  return [
    [source.table, rowsOf(layout.sourceCount, source.name)],
    [target.table, rowsOf(layout.targetRowCount, target.name)],
  ]
}

/** Link rows making `source` linked to `targets`, as the hand-written baselines write them. */
function linkRows(fixture: RelationFixture, source: number, targets: readonly number[]): Record<string, unknown>[] {
  const { sourceColumn, targetColumn, symmetrical } = joinNames(fixture)
  const extra = fixture.extraValues?.() ?? {}
  const rows = targets.map((target) => ({ ...extra, [sourceColumn]: source, [targetColumn]: target }))
  if (symmetrical) for (const target of targets) rows.push({ ...extra, [sourceColumn]: target, [targetColumn]: source })
  return rows
}

/** A variant's tables on a database reached through knex (PostgreSQL, or SQLite for the schema). */
export class KnexStorage implements Storage {
  readonly #db: Knex

  constructor(db: Knex) {
    this.#db = db
  }

  async create(fixture: RelationFixture): Promise<void> {
    await this.drop(fixture)
    for (const table of fixture.schema) await createTable(this.#db, table)
    for (const [table, rows] of modelRows(fixture)) await this.#db.batchInsert(table, rows, 500)
    if (String((this.#db.client as { dialect?: unknown }).dialect) === 'postgresql') {
      // Keys were given: move the sequences past them, and let the planner see the rows.
      for (const [table] of modelRows(fixture)) {
        await this.#db.raw(`SELECT setval(pg_get_serial_sequence(?, 'id'), (SELECT MAX(id) FROM ??))`, [table, table])
      }
    }
  }

  async linked(fixture: RelationFixture, source: number): Promise<number[]> {
    const { table, sourceColumn, targetColumn } = joinNames(fixture)
    const rows = (await this.#db(table).where(sourceColumn, source).select(targetColumn).orderBy(targetColumn)) as Record<string, unknown>[]
    return rows.map((row) => Number(row[targetColumn]))
  }

  async reset(fixture: RelationFixture, source: number, targets: readonly number[]): Promise<void> {
    const { table, sourceColumn, targetColumn, symmetrical } = joinNames(fixture)
    await this.#db.transaction(async (trx) => {
      const doomed = trx(table).where(sourceColumn, source)
      await (symmetrical ? doomed.orWhere(targetColumn, source) : doomed).del()
      const rows = linkRows(fixture, source, targets)
      for (let start = 0; start < rows.length; start += 500) await trx(table).insert(rows.slice(start, start + 500))
    })
  }

  async analyze(fixture: RelationFixture): Promise<void> {
    if (String((this.#db.client as { dialect?: unknown }).dialect) !== 'postgresql') return
    for (const { table } of fixture.schema) await this.#db.raw('ANALYZE ??', [table])
  }

  async drop(fixture: RelationFixture): Promise<void> {
    const postgres = String((this.#db.client as { dialect?: unknown }).dialect) === 'postgresql'
    for (const { table } of [...fixture.schema].reverse()) {
      if (postgres) await this.#db.raw('DROP TABLE IF EXISTS ?? CASCADE', [table])
      else await this.#db.schema.dropTableIfExists(table)
    }
  }
}

/** A variant's tables on SQLite: created through knex, reset straight on the connection (faster). */
export class SqliteStorage implements Storage {
  readonly #schema: KnexStorage
  readonly #database: Database.Database

  constructor(db: Knex, database: Database.Database) {
    this.#schema = new KnexStorage(db)
    this.#database = database
  }

  create(fixture: RelationFixture): Promise<void> {
    return this.#schema.create(fixture)
  }

  drop(fixture: RelationFixture): Promise<void> {
    return this.#schema.drop(fixture)
  }

  analyze(): Promise<void> {
    return Promise.resolve()
  }

  linked(fixture: RelationFixture, source: number): Promise<number[]> {
    const { table, sourceColumn, targetColumn } = joinNames(fixture)
    const keys = this.#database.prepare(`SELECT "${targetColumn}" FROM "${table}" WHERE "${sourceColumn}" = ? ORDER BY 1`).pluck().all(source) as number[]
    return Promise.resolve(keys)
  }

  reset(fixture: RelationFixture, source: number, targets: readonly number[]): Promise<void> {
    const { table, sourceColumn, targetColumn, symmetrical } = joinNames(fixture)
    const rows = linkRows(fixture, source, targets)
    const columns = Object.keys(rows[0] ?? { [sourceColumn]: 0, [targetColumn]: 0 })
    const remove = this.#database.prepare(`DELETE FROM "${table}" WHERE "${sourceColumn}" = ?${symmetrical ? ` OR "${targetColumn}" = ?` : ''}`)
    const insert = this.#database.prepare(`INSERT INTO "${table}" (${columns.map((column) => `"${column}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`)
    this.#database.transaction(() => {
      remove.run(...(symmetrical ? [source, source] : [source]))
      for (const row of rows) insert.run(...columns.map((column) => (row[column] instanceof Date ? row[column].getTime() : row[column])))
    })()
    return Promise.resolve()
  }
}

/** A variant's relation in a {@link MemoryAdapter}, reset through the adapter's own operations. */
export class MemoryStorage implements Storage {
  readonly #store: MemoryAdapter

  constructor(store: MemoryAdapter) {
    this.#store = store
  }

  async create(fixture: RelationFixture): Promise<void> {
    for (const [table, rows] of modelRows(fixture)) {
      const model = table === fixture.source.table ? fixture.source : fixture.target
      await this.#store.insertMany(model, rows)
    }
  }

  async linked(fixture: RelationFixture, source: number): Promise<number[]> {
    const { linked } = await this.#store.probeLinks({ link: fixture.relation.link, source, targets: [], scope: 'all' })
    return (linked as number[]).sort((a, b) => a - b)
  }

  async reset(fixture: RelationFixture, source: number, targets: readonly number[]): Promise<void> {
    const { link, symmetrical } = fixture.relation
    const pairs: [number, number][] = targets.map((target) => [source, target])
    if (symmetrical) for (const target of targets) pairs.push([target, source])
    await this.#store.transaction(async (tx) => {
      await tx.deleteLinks({ link, source, targets: undefined, mirror: symmetrical })
      if (pairs.length > 0) await tx.insertLinks({ link, pairs, values: fixture.extraValues?.() ?? {} })
    })
  }

  drop(): Promise<void> {
    return Promise.resolve()
  }

  analyze(): Promise<void> {
    return Promise.resolve()
  }
}
