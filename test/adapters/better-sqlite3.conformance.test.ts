import Database from 'better-sqlite3'
import knex from 'knex'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BetterSqlite3Adapter } from '../../src/adapters/better-sqlite3/index.js'
import { tableSql } from '../../src/adapters/knex/index.js'
import { runAdapterConformance, type ConformanceOptions } from '../../src/conformance/index.js'
import { defineModel, describeJoinTable, isThroughlineError, manyToMany, type Row } from '../../src/index.js'
import type { TableSchema } from '../../src/schema/table-schema.js'

// The whole conformance suite on the direct SQLite adapter, over one in-memory connection.
// Tables are created once (from the DDL the Knex schema helper writes for SQLite, run on this
// connection: knex only compiles it); each test starts from empty tables and a fresh adapter.
const database = new Database(':memory:')
const compiler = knex({ client: 'better-sqlite3', useNullAsDefault: true })
const created = new Map<string, TableSchema>()

afterAll(async () => {
  database.close()
  await compiler.destroy()
})

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** Creates the tables of `schema` that are missing or changed (and those pointing at a changed one). */
function ensure(schema: readonly TableSchema[]): void {
  const stale = new Set<string>()
  for (const table of schema) {
    const pointsAtStale = table.columns.some((column) => column.references !== undefined && stale.has(column.references.table))
    if (JSON.stringify(created.get(table.table)) !== JSON.stringify(table) || pointsAtStale) stale.add(table.table)
  }
  if (stale.size === 0) return
  // Tables of other schemas that point at a recreated table lose their foreign key with the
  // drop: they are created again the next time a test asks for them.
  for (const [name, table] of created) {
    if (table.columns.some((column) => column.references !== undefined && stale.has(column.references.table))) stale.add(name)
  }
  database.pragma('foreign_keys = OFF')
  for (const name of stale) {
    database.exec(`DROP TABLE IF EXISTS ${quote(name)}`)
    created.delete(name)
  }
  database.pragma('foreign_keys = ON')
  for (const table of schema) {
    if (!stale.has(table.table)) continue
    for (const sql of tableSql(compiler, table)) database.exec(sql)
    created.set(table.table, table)
  }
}

/** A value as knex's better-sqlite3 client binds it. */
function bind(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0
  if (value instanceof Date) return value.getTime()
  return value
}

function seedRows(table: string, rows: readonly Row[]): void {
  const statements = new Map<string, Database.Statement>()
  database.transaction(() => {
    for (const row of rows) {
      const columns = Object.keys(row)
      const sql =
        columns.length === 0
          ? `INSERT INTO ${quote(table)} DEFAULT VALUES`
          : `INSERT INTO ${quote(table)} (${columns.map(quote).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`
      let statement = statements.get(sql)
      if (statement === undefined) {
        statement = database.prepare(sql)
        statements.set(sql, statement)
      }
      statement.run(...columns.map((column) => bind(row[column])))
    }
  })()
}

const options: ConformanceOptions = {
  name: 'BetterSqlite3Adapter',
  test: { describe, it, beforeEach, afterEach },
  createAdapter: (schema) => {
    ensure(schema)
    database.transaction(() => {
      for (const table of [...schema].reverse()) database.exec(`DELETE FROM ${quote(table.table)}`)
    })()
    return new BetterSqlite3Adapter(database)
  },
  inspect: (table) => Promise.resolve(database.prepare(`SELECT * FROM ${quote(table)}`).all() as Row[]),
  seedRows: (table, rows) => {
    seedRows(table, rows)
    return Promise.resolve()
  },
  largeCount: 100_000,
}

runAdapterConformance(options)
// Again on join tables without foreign keys, over the same connection: ensure() recreates the
// join tables once when the second run starts.
runAdapterConformance({ ...options, name: 'BetterSqlite3Adapter without foreign keys', joinTables: 'without-foreign-keys' })

// What the suite cannot see from outside: statements per call whatever the number of keys, one
// transaction at a time on the one connection, the caller's own transaction, 64-bit keys.
interface BigRow {
  id: bigint
  name: string
}

const Post = defineModel<{ id: number; name: string }>('Post', { table: 'bs_post', columns: ['id', 'name'] })
const Label = defineModel<{ id: number; name: string }>('Label', { table: 'bs_label', columns: ['id', 'name'] })
const labels = manyToMany(Post, Label, { name: 'labels' })
const Big = defineModel<BigRow>('Big', { table: 'bs_big', columns: ['id', 'name'], keyType: 'bigint' })
const bigFriends = manyToMany<typeof Big, typeof Big>(Big, 'self', { name: 'friends' })

const named = (table: string, key: 'increments' | 'bigIncrements'): TableSchema => ({
  table,
  primaryKey: 'id',
  columns: [
    { name: 'id', kind: key, nullable: false },
    { name: 'name', kind: 'string', nullable: true },
  ],
  unique: [],
  indexes: [],
})
const ownSchema = [named('bs_post', 'increments'), named('bs_label', 'increments'), describeJoinTable(labels), named('bs_big', 'bigIncrements'), describeJoinTable(bigFriends)]

describe('BetterSqlite3Adapter specifics', () => {
  let adapter = new BetterSqlite3Adapter(database)

  beforeEach(() => {
    ensure(ownSchema)
    for (const table of [...ownSchema].reverse()) database.exec(`DELETE FROM ${quote(table.table)}`)
    seedRows('bs_post', Array.from({ length: 20 }, (_, index) => ({ id: index + 1, name: `post ${String(index + 1)}` })))
    seedRows('bs_label', Array.from({ length: 5000 }, (_, index) => ({ id: index + 1, name: `label ${String(index + 1)}` })))
    adapter = new BetterSqlite3Adapter(database)
  })

  const statements = async (work: () => Promise<unknown>): Promise<number> => {
    const before = adapter.statementCount
    await work()
    return adapter.statementCount - before
  }

  it('runs each operation as one statement, whatever the number of keys', async () => {
    const manager = labels.using(adapter).of(1)
    const keys = Array.from({ length: 5000 }, (_, index) => index + 1)
    // One INSERT: better-sqlite3 enforces foreign keys, and the join table has them.
    expect(await statements(() => manager.add(keys))).toBe(1)
    expect(await statements(() => manager.add(keys))).toBe(1)
    // set(): a DELETE of the links not in the list and an INSERT of the list, no read.
    expect(await statements(() => manager.set(keys.slice(2500)))).toBe(2)
    expect(await statements(() => manager.remove(keys.slice(0, 4000)))).toBe(1)
    expect(await manager.count()).toBe(1000)
    expect(await statements(() => manager.set(keys.slice(0, 3000)))).toBe(2)
    expect(await manager.ids()).toEqual(keys.slice(0, 3000))
  })

  it('runs one transaction at a time on the connection; the others wait for it', async () => {
    const relation = labels.using(adapter)
    const seen: number[] = []
    const off = relation.on('post_add', async (event) => {
      // Another call's statements would run inside this transaction if they did not wait.
      await new Promise((resolve) => setTimeout(resolve, 5))
      seen.push(await relation.using(event.using).of(event.instance).count())
    })
    try {
      await Promise.all([
        relation.of(1).add([1, 2]),
        relation.of(1).add([3, 4]),
        relation.of(2).add([1, 2, 3]),
        relation.of(1).count(),
        adapter
          .transaction(async (tx) => {
            await labels.using(tx).of(3).add(9)
            throw new Error('the caller changed its mind')
          })
          .catch(() => undefined),
      ])
    } finally {
      off()
    }
    expect(await relation.of(1).ids()).toEqual([1, 2, 3, 4])
    expect(await relation.of(2).ids()).toEqual([1, 2, 3])
    expect(await relation.of(3).count()).toBe(0)
    // Every listener saw its own call's writes, and no other call's uncommitted ones.
    expect(seen).toEqual([2, 4, 3, 1])
  })

  it('lets code inside a call (a listener) use the root adapter: it joins the transaction', async () => {
    const relation = labels.using(adapter)
    const off = relation.on('post_add', async (event) => {
      if (event.instance === 1) await relation.of(2).add(7)
    })
    try {
      await relation.of(1).add(5)
    } finally {
      off()
    }
    expect(await relation.of(2).ids()).toEqual([7])
  })

  it('takes a savepoint inside a transaction opened on the connection', async () => {
    const relation = labels.using(adapter)
    database.exec('BEGIN')
    await relation.of(1).add([1, 2])
    await expect(relation.of(1).add(999_999)).rejects.toSatisfy((error) => isThroughlineError(error, 'M2M_TARGET_NOT_FOUND'))
    expect(await relation.of(1).count()).toBe(2)
    database.exec('ROLLBACK')
    expect(await relation.of(1).count()).toBe(0)
  })

  it('reads and writes 64-bit keys exactly', async () => {
    const keys = [2n ** 60n + 1n, 2n ** 60n + 2n, 2n ** 60n + 3n]
    for (const id of keys) await adapter.insertTarget({ target: Big.spec, values: { id, name: String(id) } })
    const generated = await adapter.insertTarget({ target: Big.spec, values: { name: 'generated' } })
    expect(generated.id).toBe(2n ** 60n + 4n)
    const friends = bigFriends.using(adapter)
    await friends.of(keys[0]!).add([keys[1]!, keys[2]!])
    expect(await friends.of(keys[0]!).ids()).toEqual([keys[1], keys[2]])
    expect(await friends.of(keys[2]!).ids()).toEqual([keys[0]])
    expect((await friends.of(keys[1]!).all()).map((row) => row.id)).toEqual([keys[0]])
    const [through] = await friends.of(keys[1]!).throughRows()
    expect(through).toMatchObject({ from_big_id: keys[1], to_big_id: keys[0] })
    expect(await friends.of(keys[0]!).toggle(keys[1]!)).toBe(false)
    expect(await friends.of(keys[1]!).count()).toBe(0)
  })

  it('refuses what is not a better-sqlite3 Database', () => {
    expect(() => new BetterSqlite3Adapter({} as Database.Database)).toThrow(/better-sqlite3 Database/)
  })
})
