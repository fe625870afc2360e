/**
 * Streams 1 000 000 links of one source from SQLite through throughline and reports the extra
 * heap it took, to show that stream() reads any number of rows in bounded memory. A benchmark
 * script, not a test: `npm run bench:stream` (ROWS=200000 for a shorter run).
 */
import knex from 'knex'
import { defineModel, manyToMany } from '../src/index.js'
import { createJoinTable, KnexAdapter } from '../src/adapters/knex/index.js'

const ROWS = Number(process.env.ROWS ?? 1_000_000)
const BATCH = Number(process.env.BATCH ?? 5_000)
const MB = 1024 * 1024

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('Run with --expose-gc (npm run bench:stream does).')

interface Item {
  id: number
  name: string
}
const db = knex({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true })
const Bucket = defineModel<{ id: number }>('Bucket', { table: 'bucket' })
const Item = defineModel<Item>('Item', { table: 'item', columns: ['id', 'name'] })
const items = manyToMany(Bucket, Item, { name: 'items', adapter: new KnexAdapter(db) })

await db.schema.createTable('bucket', (table) => table.increments('id'))
await db.schema.createTable('item', (table) => {
  table.increments('id')
  table.string('name').notNullable()
})
await createJoinTable(db, items)

// Seeding in SQL itself, so that the script's own heap holds none of the rows.
const started = Date.now()
await db('bucket').insert({ id: 1 })
await db.raw(`WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < ?) INSERT INTO item (id, name) SELECT x, 'item ' || x FROM seq`, [ROWS])
await db.raw(`INSERT INTO bucket_items (bucket_id, item_id) SELECT 1, id FROM item`)
console.log(`seeded ${ROWS.toLocaleString('en')} items and links in ${String(Date.now() - started)} ms`)

gc()
const baseline = process.memoryUsage().heapUsed
let peak = baseline
let count = 0
let checksum = 0
const streaming = Date.now()
for await (const item of items.of(1).stream({ batchSize: BATCH })) {
  count++
  checksum += item.id
  if (count % BATCH === 0) peak = Math.max(peak, process.memoryUsage().heapUsed)
}
const elapsed = Date.now() - streaming
const extra = (peak - baseline) / MB
console.log(`streamed ${count.toLocaleString('en')} rows in pages of ${BATCH.toLocaleString('en')}: ${String(elapsed)} ms`)
console.log(`extra heap at its peak: ${extra.toFixed(1)} MB (baseline ${(baseline / MB).toFixed(1)} MB)`)
const expected = (ROWS * (ROWS + 1)) / 2
if (count !== ROWS || checksum !== expected) throw new Error(`expected ${String(ROWS)} rows, got ${String(count)}`)
console.log(extra < 100 ? 'bounded: under 100 MB of extra heap' : 'NOT bounded: 100 MB of extra heap or more')
await db.destroy()
if (extra >= 100) process.exit(1)
