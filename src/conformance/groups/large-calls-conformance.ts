import assert from 'node:assert/strict'
import type { Row } from '../../adapter/relation-adapter.js'
import type { ConformanceOptions } from '../conformance-options.js'
import { useContext, type ConformanceContext } from '../conformance-context.js'
import { Bucket, bucketsSchema, Item, items } from '../fixtures/buckets.js'

/**
 * The optional seeding hook of the large-call tests: inserts many rows at once, straight into
 * storage (a multi-row INSERT, COPY, a bulk write), with the primary keys given. Without it
 * the rows are inserted one by one through the adapter, which is fine in memory and slow on
 * a database.
 */
type SeedRows = (table: string, rows: readonly Row[]) => Promise<void>

function seedHook(options: ConformanceOptions): SeedRows | undefined {
  return options.seedRows
}

/** Inserts items with keys 1..count, with the hook when there is one. */
async function seedItems(ctx: ConformanceContext, count: number, seedRows: SeedRows | undefined): Promise<number[]> {
  const rows = Array.from({ length: count }, (_, index) => ({ id: index + 1, name: `item ${String(index + 1)}` }))
  if (seedRows === undefined) await ctx.insertAll(Item, rows)
  else await seedRows(Item.table, rows)
  return rows.map((row) => row.id)
}

function sameKeys(actual: readonly unknown[], expected: readonly number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: expected ${String(expected.length)} keys, got ${String(actual.length)}`)
  const wanted = new Set(expected)
  const stray = actual.filter((key) => !wanted.has(Number(key)))
  assert.deepEqual(stray.slice(0, 10), [], `${what}: keys that should not be linked`)
  assert.equal(new Set(actual.map(Number)).size, expected.length, `${what}: duplicate keys`)
}

/** add, set (half overlapping), remove half and clear, each of `count` targets in one call. */
async function addSetRemoveClear(ctx: ConformanceContext, count: number, seedRows: SeedRows | undefined): Promise<void> {
  const half = Math.floor(count / 2)
  // Keys 1..count + half: the first list is 1..count, the second half..count + half.
  const keys = await seedItems(ctx, count + half, seedRows)
  const bucket = await ctx.insert(Bucket, { name: 'large' })
  const manager = ctx.bind(items).of(bucket)

  const first = keys.slice(0, count)
  await manager.add(first)
  assert.equal(await manager.count(), count)
  // Adding them again (as strings, so that coercion runs on every key) changes nothing.
  await manager.add(first.map(String))
  assert.equal(await manager.count(), count)

  const second = keys.slice(half, half + count)
  await manager.set(second)
  assert.equal(await manager.count(), count)
  sameKeys(await manager.ids(), second, 'after set()')
  assert.equal(await manager.filter({ id__lte: half }).count(), 0)
  assert.equal(await manager.filter({ id__gt: count }).count(), half)

  const removed = second.slice(0, half)
  await manager.remove(removed)
  assert.equal(await manager.count(), count - half)
  sameKeys(await manager.ids(), second.slice(half), 'after remove()')

  await manager.clear()
  assert.equal(await manager.count(), 0)
  assert.equal(await manager.exists(), false)
}

/**
 * Large calls: add, set, remove and clear of `largeCount` targets in one call each, enough to
 * cross every bind-parameter limit (an SQL adapter has to chunk).
 */
export function largeCallsConformance(options: ConformanceOptions): void {
  const { describe, it } = options.test
  const largeCount = options.largeCount ?? 100_000
  describe(`${options.name}: large calls`, () => {
    const context = useContext(options, bucketsSchema)

    it('adds, sets, removes and clears 2,000 targets per call', async () => {
      await addSetRemoveClear(context(), 2_000, undefined)
    })

    it(`adds, sets, removes and clears ${largeCount.toLocaleString('en-US')} targets per call`, async () => {
      await addSetRemoveClear(context(), largeCount, seedHook(options))
    })
  })
}
