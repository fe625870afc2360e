import assert from 'node:assert/strict'
import type { Key, Row } from '../../adapter/relation-adapter.js'
import type { AnyModel } from '../../model/define-model.js'
import { coerceKey } from '../../model/coerce-key.js'
import type { ConformanceOptions } from '../conformance-options.js'
import { itInspecting, useContext, type ConformanceContext } from '../conformance-context.js'
import { expectError, expectUnchanged } from '../fixtures/assertions.js'
import { useEventLog } from '../fixtures/event-log.js'
import { userTablesCases, userTablesSchema, type AnyUserRelation, type UserTablesCase } from '../fixtures/user-tables.js'

/** The rows a test starts from: two sources and three targets, none linked, and their keys. */
interface Seeded {
  readonly sources: readonly [Row, Row]
  readonly targets: readonly [Row, Row, Row]
  readonly sourceKeys: readonly [Key, Key]
  readonly targetKeys: readonly [Key, Key, Key]
}

function keyOf(row: Row, model: AnyModel): Key {
  return coerceKey(row[model.primaryKey], model)
}

async function seed(ctx: ConformanceContext, fixture: UserTablesCase): Promise<Seeded> {
  const { source, target } = fixture.relation
  const [s1, s2] = fixture.sources
  const [t1, t2, t3] = fixture.targets
  const sources: readonly [Row, Row] = [(await ctx.insert(source, s1)) as Row, (await ctx.insert(source, s2)) as Row]
  const targets: readonly [Row, Row, Row] = [(await ctx.insert(target, t1)) as Row, (await ctx.insert(target, t2)) as Row, (await ctx.insert(target, t3)) as Row]
  return {
    sources,
    targets,
    sourceKeys: [keyOf(sources[0], source), keyOf(sources[1], source)],
    targetKeys: [keyOf(targets[0], target), keyOf(targets[1], target), keyOf(targets[2], target)],
  }
}

/** The keys of rows, in the order given. */
function keysOf(rows: readonly Row[], model: AnyModel): Key[] {
  return rows.map((row) => keyOf(row, model))
}

/**
 * Link rows as sorted `[source key, target key]` pairs of the declaring side, whichever side read
 * them (drivers read 64-bit columns as strings or lossy numbers: throughRows does not).
 */
function linkPairs(rows: readonly object[], relation: AnyUserRelation): [Key, Key][] {
  const { sourceColumn, targetColumn } = relation.through
  const { source, target } = relation.isReverse ? relation.reverse : relation
  return (rows as readonly Row[])
    .map((row): [Key, Key] => [coerceKey(row[sourceColumn], source), coerceKey(row[targetColumn], target)])
    .sort(([a1, a2], [b1, b2]) => (a1 < b1 ? -1 : a1 > b1 ? 1 : a2 < b2 ? -1 : a2 > b2 ? 1 : 0))
}

/**
 * Whether a stored key is `key`, as the driver reads it back: 64-bit integers come as bigints,
 * as decimal strings (pg) or as the nearest double (mysql2 without `supportBigNumbers`).
 */
function storedKeyIs(stored: unknown, key: Key): boolean {
  if (typeof key === 'bigint' && typeof stored === 'number') return stored === Number(key)
  if (typeof key === 'string' && typeof stored === 'string') return stored.toLowerCase() === key.toLowerCase()
  return String(stored) === String(key)
}

/** The tables a case's calls may write: the join table and both model tables. */
function tablesOf(relation: AnyUserRelation): string[] {
  return [relation.through.table, relation.source.table, relation.target.table]
}

/** Checks an M2M_CONSTRAINT_VIOLATION for a source with no row: the message names the model and the key. */
async function expectMissingSource(work: () => Promise<unknown>, model: AnyModel, key: Key): Promise<void> {
  const error = await expectError(work, 'M2M_CONSTRAINT_VIOLATION')
  assert.ok(error.message.includes(model.name), `Expected the message ${JSON.stringify(error.message)} to name the source model ${model.name}.`)
  assert.ok(error.message.includes(String(key)), `Expected the message ${JSON.stringify(error.message)} to name the source key ${String(key)}.`)
}

/** Checks an M2M_TARGET_NOT_FOUND that lists exactly `keys`. */
async function expectMissingTargets(work: () => Promise<unknown>, keys: readonly Key[]): Promise<void> {
  const error = await expectError(work, 'M2M_TARGET_NOT_FOUND')
  assert.deepEqual((error as unknown as { keys: unknown }).keys, keys)
}

/**
 * The manager over the tables users bring rather than the ones throughline creates: join tables
 * without foreign keys, with a composite primary key and no `id`, without a unique pair, with
 * NOT NULL columns that only the database fills (DEFAULT); models keyed by uuid, by 64-bit
 * integers beyond 2^53 and by strings. Every call, both directions, events, and the failures
 * the database would not catch: a target or a source with no row is refused, writing nothing.
 */
export function userTablesConformance(options: ConformanceOptions): void {
  const { describe, it } = options.test
  for (const fixture of userTablesCases) {
    describe(`${options.name}: user tables: ${fixture.title}`, () => {
      const context = useContext(options, userTablesSchema)
      const events = useEventLog(options)
      const { relation } = fixture
      const { source: sourceModel, target: targetModel } = relation
      const manager = (ctx: ConformanceContext, source: Row | Key) => ctx.bind(relation).of(source)
      const reverse = (ctx: ConformanceContext, target: Row | Key) => ctx.bind(relation).reverse.of(target)

      it('adds targets once and reads them from both sides', async () => {
        const ctx = context()
        const { sources, targets, targetKeys: [k1, k2, k3], sourceKeys: [sk1, sk2] } = await seed(ctx, fixture)
        const mine = manager(ctx, sources[0])
        await mine.add([targets[0], targets[1]])
        await mine.add([targets[1], k1])
        assert.deepEqual(await mine.ids(), [k1, k2])
        assert.deepEqual(keysOf(await mine.all(), targetModel), [k1, k2])
        assert.equal(await mine.count(), 2)
        assert.equal(await mine.exists(), true)
        assert.equal(await mine.exists(k2), true)
        assert.equal(await mine.exists(k3), false)
        assert.deepEqual(await reverse(ctx, k1).ids(), [sk1])
        assert.deepEqual(keysOf(await reverse(ctx, targets[1]).all(), sourceModel), [sk1])
        assert.equal(await reverse(ctx, k3).exists(), false)
        assert.deepEqual(await manager(ctx, sk2).ids(), [])
        assert.deepEqual(linkPairs(await mine.throughRows(), relation), [
          [sk1, k1],
          [sk1, k2],
        ])
      })

      it('removes targets, ignoring those not linked', async () => {
        const ctx = context()
        const { sources, targets, targetKeys: [k1, k2, k3] } = await seed(ctx, fixture)
        const mine = manager(ctx, sources[0])
        await mine.add([k1, k2, k3])
        await mine.remove([targets[0], k3])
        assert.deepEqual(await mine.ids(), [k2])
        await mine.remove(k1)
        assert.deepEqual(await mine.ids(), [k2])
        await mine.remove(fixture.missingTarget([k1, k2, k3]))
        assert.deepEqual(await mine.ids(), [k2])
      })

      it('sets by diff, keeping the link rows that stay as they were', async () => {
        const ctx = context()
        const { sources, targetKeys: [k1, k2, k3] } = await seed(ctx, fixture)
        const mine = manager(ctx, sources[0])
        const column = fixture.throughColumn
        await mine.add([k1, k2], column === undefined ? {} : { throughDefaults: { [column.name]: column.first } })
        const kept = (await mine.throughRows(k1)) as Row[]
        await mine.set([k1, k3], column === undefined ? {} : { throughDefaults: { [column.name]: column.second } })
        assert.deepEqual(await mine.ids(), [k1, k3])
        // The row of k1 is the same row: its own key, through values and database defaults.
        assert.deepEqual(await mine.throughRows(k1), kept)
        if (column !== undefined) {
          assert.equal(((await mine.throughRows(k3)) as Row[])[0]?.[column.name], column.second)
          assert.equal(kept[0]?.[column.name], column.first)
        }
        await mine.set([])
        assert.deepEqual(await mine.ids(), [])
      })

      it('toggles a target on and off, from both sides', async () => {
        const ctx = context()
        const { sources, targets, sourceKeys: [sk1, sk2], targetKeys: [k1, k2] } = await seed(ctx, fixture)
        const mine = manager(ctx, sources[0])
        assert.equal(await mine.toggle(targets[0]), true)
        assert.equal(await mine.toggle(k2), true)
        assert.deepEqual(await mine.ids(), [k1, k2])
        assert.equal(await mine.toggle(k1), false)
        assert.deepEqual(await mine.ids(), [k2])
        assert.equal(await reverse(ctx, k2).toggle(sk2), true)
        assert.deepEqual(await reverse(ctx, k2).ids(), [sk1, sk2])
        assert.equal(await reverse(ctx, targets[1]).toggle(sources[0]), false)
        assert.deepEqual(await mine.ids(), [])
        assert.deepEqual(await manager(ctx, sk2).ids(), [k2])
      })

      it('clears the links of one source only', async () => {
        const ctx = context()
        const { sources, sourceKeys: [, sk2], targetKeys: [k1, k2, k3] } = await seed(ctx, fixture)
        await manager(ctx, sources[0]).add([k1, k2, k3])
        await manager(ctx, sources[1]).add(k2)
        await manager(ctx, sources[0]).clear()
        assert.deepEqual(await manager(ctx, sources[0]).ids(), [])
        assert.deepEqual(await manager(ctx, sources[1]).ids(), [k2])
        assert.deepEqual(await reverse(ctx, k2).ids(), [sk2])
      })

      it('creates target rows and links them', async () => {
        const ctx = context()
        const { sources, sourceKeys: [sk1], targetKeys: [k1] } = await seed(ctx, fixture)
        const mine = manager(ctx, sources[0])
        await mine.add(k1)
        const created = (await mine.create(fixture.created[0])) as Row
        const key = keyOf(created, targetModel)
        for (const [column, value] of Object.entries(fixture.created[0])) assert.deepEqual(created[column], value)
        assert.deepEqual(await mine.ids(), [k1, key])
        assert.deepEqual(await reverse(ctx, key).ids(), [sk1])
      })

      it('gets a linked target, or creates and links a new one', async () => {
        const ctx = context()
        const { sources, targets, targetKeys: [k1, k2] } = await seed(ctx, fixture)
        const mine = manager(ctx, sources[0])
        await mine.add(k1)
        const [found, foundCreated] = (await mine.getOrCreate({ pk: k1 } as never)) as [Row, boolean]
        assert.equal(foundCreated, false)
        assert.deepEqual(keyOf(found, targetModel), k1)
        // Only linked targets are searched, as in Django: an unlinked row is not found.
        const lookup = { [targetModel.primaryKey]: keyOf(targets[1], targetModel) }
        await expectError(() => mine.getOrCreate(lookup as never), 'M2M_CONSTRAINT_VIOLATION')
        assert.deepEqual(await mine.ids(), [k1])
        const [made, madeCreated] = (await mine.getOrCreate(fixture.created[1] as never)) as [Row, boolean]
        assert.equal(madeCreated, true)
        const key = keyOf(made, targetModel)
        assert.deepEqual(await mine.ids(), [k1, key])
        assert.notDeepEqual(key, k2)
      })

      it('filters, counts and checks existence by key', async () => {
        const ctx = context()
        const { sources, targetKeys: [k1, k2, k3] } = await seed(ctx, fixture)
        const mine = manager(ctx, sources[0])
        await mine.add([k1, k2, k3])
        assert.deepEqual(await mine.filter({ pk__in: [k1, k3] } as never).ids(), [k1, k3])
        assert.equal(await mine.filter({ pk: k2 } as never).exists(), true)
        assert.equal(await mine.filter({ pk: fixture.missingTarget([k1, k2, k3]) } as never).exists(), false)
        assert.equal(await mine.filter({ pk__in: [k2, k3] } as never).count(), 2)
        assert.deepEqual(keysOf(await mine.filter({ pk: k3 } as never).all(), targetModel), [k3])
      })

      it('prefetches the targets of several sources in one statement', async () => {
        const ctx = context()
        const { sources, targetKeys: [k1, k2, k3] } = await seed(ctx, fixture)
        await manager(ctx, sources[0]).add([k1, k3])
        await manager(ctx, sources[1]).add(k2)
        const bound = ctx.bind(relation)
        let prefetched: Awaited<ReturnType<typeof bound.prefetch>> | undefined
        assert.equal(
          await ctx.statements(async () => {
            prefetched = await bound.prefetch([sources[0], sources[1]] as never)
          }),
          1,
        )
        assert.ok(prefetched !== undefined)
        assert.deepEqual(keysOf(await prefetched.of(sources[0] as never).all(), targetModel), [k1, k3])
        assert.deepEqual(await prefetched.of(sources[1] as never).ids(), [k2])
        assert.equal(await prefetched.of(sources[1] as never).count(), 1)
      })

      it('reads link rows with throughRows, from both sides', async () => {
        const ctx = context()
        const { sources, sourceKeys: [sk1, sk2], targetKeys: [k1, k2] } = await seed(ctx, fixture)
        await manager(ctx, sources[0]).add([k1, k2])
        await manager(ctx, sources[1]).add(k2)
        assert.deepEqual(linkPairs(await manager(ctx, sources[0]).throughRows(), relation), [
          [sk1, k1],
          [sk1, k2],
        ])
        assert.deepEqual(linkPairs(await manager(ctx, sources[0]).throughRows(k2), relation), [[sk1, k2]])
        assert.deepEqual(linkPairs(await reverse(ctx, k2).throughRows(), relation.reverse), [
          [sk1, k2],
          [sk2, k2],
        ])
      })

      it('sends events whose key sets name the targets changed', async () => {
        const ctx = context()
        const { sources, targets, targetKeys: [k1, k2, k3] } = await seed(ctx, fixture)
        const log = events()
        log.listen(relation)
        const mine = manager(ctx, sources[0])
        await mine.add([targets[0], k2])
        await mine.remove(targets[0])
        assert.equal(await mine.toggle(k3), true)
        assert.equal(await mine.toggle(k3), false)
        await mine.set([k1])
        await mine.clear()
        assert.deepEqual(
          log.events.map((event) => [event.action, event.instance, event.reverse, event.pkSet === null ? null : [...event.pkSet].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0))]),
          [
            ['pre_add', sources[0], false, [k1, k2]],
            ['post_add', sources[0], false, [k1, k2]],
            ['pre_remove', sources[0], false, [k1]],
            ['post_remove', sources[0], false, [k1]],
            ['pre_add', sources[0], false, [k3]],
            ['post_add', sources[0], false, [k3]],
            ['pre_remove', sources[0], false, [k3]],
            ['post_remove', sources[0], false, [k3]],
            ['pre_remove', sources[0], false, [k2]],
            ['post_remove', sources[0], false, [k2]],
            ['pre_add', sources[0], false, [k1]],
            ['post_add', sources[0], false, [k1]],
            ['pre_clear', sources[0], false, null],
            ['post_clear', sources[0], false, null],
          ],
        )
      })

      itInspecting(options, 'stores one row per link, with the values the database fills in', async () => {
        const ctx = context()
        const { sources, sourceKeys: [sk1], targetKeys: [k1, k2] } = await seed(ctx, fixture)
        const mine = manager(ctx, sources[0])
        await mine.add([k1, k2])
        await mine.add(k1)
        assert.equal(await mine.toggle(k2), false)
        const rows = await ctx.rows(relation.through.table)
        assert.equal(rows.length, 1)
        const [row] = rows
        assert.ok(storedKeyIs(row?.[relation.through.sourceColumn], sk1))
        assert.ok(storedKeyIs(row?.[relation.through.targetColumn], k1))
        // A store without column defaults (memory) leaves the columns out; a database fills them.
        for (const [column, value] of Object.entries(fixture.databaseDefaults ?? {})) {
          if (row === undefined || !(column in row)) continue
          if (value === 'now') assert.ok(row[column] !== null && row[column] !== undefined, `${column} was not filled`)
          else assert.equal(Number(row[column]), value)
        }
      })

      itInspecting(options, 'refuses targets with no row in add, set and toggle, writing nothing', async () => {
        const ctx = context()
        const { sources, targetKeys } = await seed(ctx, fixture)
        const [k1, k2] = targetKeys
        const missing = fixture.missingTarget(targetKeys)
        const mine = manager(ctx, sources[0])
        await mine.add(k1)
        await expectUnchanged(ctx, tablesOf(relation), async () => {
          await expectMissingTargets(() => mine.add([k2, missing]), [missing])
          await expectMissingTargets(() => mine.set([k2, missing]), [missing])
          await expectMissingTargets(() => mine.set([missing], { clear: true }), [missing])
          await expectMissingTargets(() => mine.toggle(missing), [missing])
        })
        assert.deepEqual(await mine.ids(), [k1])
      })

      itInspecting(options, 'refuses to toggle a target with no row while a listener is attached, writing nothing', async () => {
        const ctx = context()
        const { sources, targetKeys } = await seed(ctx, fixture)
        const missing = fixture.missingTarget(targetKeys)
        const log = events()
        log.listen(relation)
        await expectUnchanged(ctx, tablesOf(relation), async () => {
          await expectMissingTargets(() => manager(ctx, sources[0]).toggle(missing), [missing])
        })
        assert.deepEqual(log.events, [])
      })

      itInspecting(options, 'refuses add() for a source with no row, naming it, writing nothing', async () => {
        const ctx = context()
        const { sourceKeys, targets, targetKeys: [k1, k2] } = await seed(ctx, fixture)
        const ghost = fixture.missingSource(sourceKeys)
        await expectUnchanged(ctx, tablesOf(relation), async () => {
          await expectMissingSource(() => manager(ctx, ghost).add(targets[0]), sourceModel, ghost)
          await expectMissingSource(() => manager(ctx, ghost).add([k1, k2]), sourceModel, ghost)
        })
        assert.deepEqual(await manager(ctx, ghost).ids(), [])
      })

      itInspecting(options, 'refuses toggle() for a source with no row, naming it, writing nothing', async () => {
        const ctx = context()
        const { sourceKeys, targets } = await seed(ctx, fixture)
        const ghost = fixture.missingSource(sourceKeys)
        await expectUnchanged(ctx, tablesOf(relation), async () => {
          await expectMissingSource(() => manager(ctx, ghost).toggle(targets[0]), sourceModel, ghost)
        })
        assert.deepEqual(await manager(ctx, ghost).ids(), [])
      })

      itInspecting(options, 'refuses set() for a source with no row, naming it, writing nothing', async () => {
        const ctx = context()
        const { sourceKeys, targetKeys: [k1, k2] } = await seed(ctx, fixture)
        const ghost = fixture.missingSource(sourceKeys)
        await expectUnchanged(ctx, tablesOf(relation), async () => {
          await expectMissingSource(() => manager(ctx, ghost).set([k1, k2]), sourceModel, ghost)
        })
      })

      itInspecting(options, 'refuses create() for a source with no row, naming it, leaving no new row', async () => {
        const ctx = context()
        const { sourceKeys } = await seed(ctx, fixture)
        const ghost = fixture.missingSource(sourceKeys)
        await expectUnchanged(ctx, tablesOf(relation), async () => {
          await expectMissingSource(() => manager(ctx, ghost).create(fixture.created[0]), sourceModel, ghost)
        })
      })

      itInspecting(options, "keeps a caller transaction's earlier writes when a call in it fails", async () => {
        const ctx = context()
        const { sources, targetKeys } = await seed(ctx, fixture)
        const [k1, k2, k3] = targetKeys
        const missing = fixture.missingTarget(targetKeys)
        await ctx.adapter.transaction(async (tx) => {
          const mine = relation.using(tx).of(sources[0])
          await mine.add([k1, k2])
          await expectMissingTargets(() => mine.toggle(missing), [missing])
          await mine.toggle(k3)
          await mine.remove(k2)
        })
        assert.deepEqual(await manager(ctx, sources[0]).ids(), [k1, k3])
        assert.equal((await ctx.rows(relation.through.table)).length, 2)
      })

      if (!relation.through.unique) {
        itInspecting(options, 'adds a pair once though the table would take it twice', async () => {
          const ctx = context()
          const { sources, targetKeys: [k1, k2] } = await seed(ctx, fixture)
          const mine = manager(ctx, sources[0])
          await mine.add(k1)
          await mine.add([k1, k2])
          await mine.set([k1, k2])
          assert.equal((await ctx.rows(relation.through.table)).length, 2)
          assert.deepEqual(await mine.ids(), [k1, k2])
        })
      }
    })
  }
}
