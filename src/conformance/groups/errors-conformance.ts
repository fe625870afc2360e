import assert from 'node:assert/strict'
import type { ConformanceOptions } from '../conformance-options.js'
import { itInspecting, useContext, type ConformanceContext } from '../conformance-context.js'
import { expectError, expectSyncError, expectUnchanged, recordEvents, titles } from '../fixtures/assertions.js'
import { Article, articlesSchema, Publication, publications, type ArticleRow, type PublicationRow } from '../fixtures/articles.js'
import { Player, players, Roster, rostersSchema, Team } from '../fixtures/rosters.js'

interface Seeded {
  readonly p1: PublicationRow
  readonly p2: PublicationRow
  readonly a1: ArticleRow
  readonly a2: ArticleRow
  /** A well-formed publication key that no row has. */
  readonly missing: number
}

// a1 is linked to p1; p2 and a2 are linked to nothing.
async function seed(ctx: ConformanceContext): Promise<Seeded> {
  const p1 = await ctx.insert(Publication, { title: 'The Python Journal' })
  const p2 = await ctx.insert(Publication, { title: 'Science News' })
  const a1 = await ctx.insert(Article, { headline: 'Django lets you build web apps easily' })
  const a2 = await ctx.insert(Article, { headline: 'NASA uses Python' })
  await ctx.bind(publications).of(a1).add(p1)
  return { p1, p2, a1, a2, missing: Math.max(p1.id, p2.id) + 1000 }
}

const tables = [publications.through.table, Publication.table, Article.table]
const rosterTables = [Roster.table, Team.table, Player.table]

/** Runs failing calls and checks that they wrote nothing and sent no event. */
async function failsCleanly(ctx: ConformanceContext, work: () => Promise<void>): Promise<void> {
  const events = await recordEvents(publications, () => expectUnchanged(ctx, tables, work))
  assert.deepEqual(events, [], 'A call that failed its checks sent events.')
}

/**
 * Every error path of the manager with its code, and that a failed call writes nothing: the
 * join table (read directly) is as it was, and no event was sent.
 */
export function errorsConformance(options: ConformanceOptions): void {
  const { describe, it } = options.test
  describe(`${options.name}: errors`, () => {
    const context = useContext(options, [...articlesSchema, ...rostersSchema])
    const pubsOf = (article: ArticleRow) => context().bind(publications).of(article)
    const articlesOf = (publication: PublicationRow) => context().bind(publications).reverse.of(publication)

    it('refuses an unsaved source as soon as of() is called', async () => {
      const ctx = context()
      await seed(ctx)
      const message = 'needs a value for "id" before this many-to-many relationship can be used'
      const relation = ctx.bind(publications)
      expectSyncError(() => relation.of({ headline: 'Unsaved' } as unknown as ArticleRow), 'M2M_UNSAVED_SOURCE', message)
      expectSyncError(() => relation.of({ id: null, headline: 'Unsaved' } as unknown as ArticleRow), 'M2M_UNSAVED_SOURCE', message)
      expectSyncError(() => relation.of(null as never), 'M2M_UNSAVED_SOURCE', message)
      expectSyncError(() => relation.of(undefined as never), 'M2M_UNSAVED_SOURCE', message)
      expectSyncError(() => relation.reverse.of({ title: 'Unsaved' } as unknown as PublicationRow), 'M2M_UNSAVED_SOURCE', message)
      // A source key that cannot be a key is not "unsaved".
      expectSyncError(() => relation.of('abc'), 'M2M_INVALID_KEY')
      expectSyncError(() => relation.of(1.5), 'M2M_INVALID_KEY')
    })

    it('refuses a source of another model at of()', async () => {
      const ctx = context()
      const { p1, a1 } = await seed(ctx)
      expectSyncError(() => ctx.bind(publications).of(p1 as never), 'M2M_WRONG_MODEL', 'Article instance expected, got Publication')
      expectSyncError(() => ctx.bind(publications).reverse.of(a1 as never), 'M2M_WRONG_MODEL', 'Publication instance expected, got Article')
    })

    it('refuses a relation with no adapter', () => {
      // The fixture relations are declared without one; tests bind them with using().
      expectSyncError(() => publications.of(1), 'M2M_NO_ADAPTER')
    })

    itInspecting(options, 'refuses an unsaved target in add, remove, set and toggle, writing nothing', async () => {
      const ctx = context()
      const { p1, p2, a1 } = await seed(ctx)
      const unsaved = { title: 'Unsaved' } as unknown as PublicationRow
      const nullKey = { id: null, title: 'Unsaved' } as unknown as PublicationRow
      await failsCleanly(ctx, async () => {
        await expectError(() => pubsOf(a1).add(unsaved), 'M2M_UNSAVED_TARGET')
        await expectError(() => pubsOf(a1).add([p2, unsaved]), 'M2M_UNSAVED_TARGET')
        await expectError(() => pubsOf(a1).add(nullKey), 'M2M_UNSAVED_TARGET')
        await expectError(() => pubsOf(a1).remove([p1, unsaved]), 'M2M_UNSAVED_TARGET')
        await expectError(() => pubsOf(a1).set([p2, unsaved]), 'M2M_UNSAVED_TARGET')
        await expectError(() => pubsOf(a1).set([p2, unsaved], { clear: true }), 'M2M_UNSAVED_TARGET')
        await expectError(() => pubsOf(a1).toggle(unsaved), 'M2M_UNSAVED_TARGET')
        await expectError(() => articlesOf(p2).add({ headline: 'Unsaved' } as unknown as ArticleRow), 'M2M_UNSAVED_TARGET')
      })
      assert.deepEqual(titles(await pubsOf(a1).all()), [p1.title])
    })

    itInspecting(options, 'refuses a row of another model, writing nothing', async () => {
      const ctx = context()
      const { p1, p2, a1, a2 } = await seed(ctx)
      const expected = 'Publication instance expected, got Article'
      await failsCleanly(ctx, async () => {
        await expectError(() => pubsOf(a1).add(a2 as never), 'M2M_WRONG_MODEL', expected)
        await expectError(() => pubsOf(a1).add([p2, a2] as never), 'M2M_WRONG_MODEL', expected)
        await expectError(() => pubsOf(a1).remove([p1, a2] as never), 'M2M_WRONG_MODEL', expected)
        await expectError(() => pubsOf(a1).set([p2, a2] as never), 'M2M_WRONG_MODEL', expected)
        await expectError(() => pubsOf(a1).toggle(a2 as never), 'M2M_WRONG_MODEL', expected)
        await expectError(() => pubsOf(a1).exists(a2 as never), 'M2M_WRONG_MODEL', expected)
        await expectError(() => articlesOf(p2).add(p1 as never), 'M2M_WRONG_MODEL', 'Article instance expected, got Publication')
      })
      assert.deepEqual(titles(await pubsOf(a1).all()), [p1.title])
    })

    itInspecting(options, 'rejects values that cannot be integer keys, writing nothing', async () => {
      const ctx = context()
      const { p1, p2, a1 } = await seed(ctx)
      const invalid: readonly unknown[] = [null, undefined, Number.NaN, Number.POSITIVE_INFINITY, 1.5, 'abc', '', [], true, 2 ** 53, new Date()]
      await failsCleanly(ctx, async () => {
        for (const value of invalid) {
          const bad = value as never
          const label = `${String(value)} (${Array.isArray(value) ? 'array' : typeof value})`
          await expectError(() => pubsOf(a1).add([p2, bad]), 'M2M_INVALID_KEY').catch((error: unknown) => {
            throw new Error(`add() of ${label}: ${String(error)}`)
          })
          await expectError(() => pubsOf(a1).remove([p1, bad]), 'M2M_INVALID_KEY').catch((error: unknown) => {
            throw new Error(`remove() of ${label}: ${String(error)}`)
          })
          await expectError(() => pubsOf(a1).set([p2, bad]), 'M2M_INVALID_KEY').catch((error: unknown) => {
            throw new Error(`set() of ${label}: ${String(error)}`)
          })
          await expectError(() => pubsOf(a1).toggle(bad), 'M2M_INVALID_KEY').catch((error: unknown) => {
            throw new Error(`toggle() of ${label}: ${String(error)}`)
          })
        }
        // Alone rather than in a list: add(null) is a key, not "nothing".
        await expectError(() => pubsOf(a1).add(null as never), 'M2M_INVALID_KEY')
        await expectError(() => pubsOf(a1).add(undefined as never), 'M2M_INVALID_KEY')
        await expectError(() => pubsOf(a1).remove(null as never), 'M2M_INVALID_KEY')
      })
      assert.deepEqual(titles(await pubsOf(a1).all()), [p1.title])
    })

    itInspecting(options, 'rejects an empty object as a key', async () => {
      const ctx = context()
      const { a1 } = await seed(ctx)
      await failsCleanly(ctx, async () => {
        await expectError(() => pubsOf(a1).add({} as never), 'M2M_INVALID_KEY')
        await expectError(() => pubsOf(a1).remove({} as never), 'M2M_INVALID_KEY')
      })
    })

    itInspecting(options, 'reports keys that have no row, writing nothing', async () => {
      const ctx = context()
      const { p1, p2, a1, missing } = await seed(ctx)
      await failsCleanly(ctx, async () => {
        const alone = await expectError(() => pubsOf(a1).add(missing), 'M2M_TARGET_NOT_FOUND')
        assert.deepEqual((alone as unknown as { keys: unknown[] }).keys, [missing])
        // Coerced and listed once, and only the missing ones.
        const mixed = await expectError(() => pubsOf(a1).add([p2, String(missing), missing, missing + 1]), 'M2M_TARGET_NOT_FOUND')
        assert.deepEqual((mixed as unknown as { keys: unknown[] }).keys, [missing, missing + 1])
        // set() must not have removed p1 before finding out.
        const set = await expectError(() => pubsOf(a1).set([p2, missing]), 'M2M_TARGET_NOT_FOUND')
        assert.deepEqual((set as unknown as { keys: unknown[] }).keys, [missing])
        const toggled = await expectError(() => pubsOf(a1).toggle(missing), 'M2M_TARGET_NOT_FOUND')
        assert.deepEqual((toggled as unknown as { keys: unknown[] }).keys, [missing])
      })
      // With clear: true the links come back too.
      await expectUnchanged(ctx, tables, async () => {
        await expectError(() => pubsOf(a1).set([missing], { clear: true }), 'M2M_TARGET_NOT_FOUND')
      })
      assert.deepEqual(titles(await pubsOf(a1).all()), [p1.title])
      // remove() of a key with no row is not an error: there is nothing to unlink.
      await pubsOf(a1).remove(missing)
      assert.deepEqual(titles(await pubsOf(a1).all()), [p1.title])
    })

    itInspecting(options, 'rejects unknown through columns on every path, writing nothing', async () => {
      const ctx = context()
      const { p1, p2, a1 } = await seed(ctx)
      const unknown = { throughDefaults: { foo: 1 } } as never
      await failsCleanly(ctx, async () => {
        await expectError(() => pubsOf(a1).add(p2, unknown), 'M2M_UNKNOWN_COLUMN', 'foo')
        // Validated even when nothing would be inserted (Django's fast path ignores them).
        await expectError(() => pubsOf(a1).add(p1, unknown), 'M2M_UNKNOWN_COLUMN', 'foo')
        await expectError(() => pubsOf(a1).set([p1, p2], unknown), 'M2M_UNKNOWN_COLUMN', 'foo')
        await expectError(() => pubsOf(a1).set([p2], { ...(unknown as object), clear: true }), 'M2M_UNKNOWN_COLUMN', 'foo')
        await expectError(() => pubsOf(a1).toggle(p2, unknown), 'M2M_UNKNOWN_COLUMN', 'foo')
        await expectError(() => pubsOf(a1).create({ title: 'New' }, unknown), 'M2M_UNKNOWN_COLUMN', 'foo')
        await expectError(() => pubsOf(a1).getOrCreate({ title: 'New' }, unknown), 'M2M_UNKNOWN_COLUMN', 'foo')
        await expectError(() => pubsOf(a1).updateOrCreate({ title: 'New' }, unknown), 'M2M_UNKNOWN_COLUMN', 'foo')
        // The link columns and the join table's key are set by the relation itself.
        for (const column of [publications.through.sourceColumn, publications.through.targetColumn, 'id']) {
          await expectError(() => pubsOf(a1).add(p2, { throughDefaults: { [column]: 1 } }), 'M2M_UNKNOWN_COLUMN')
        }
      })
    })

    itInspecting(options, 'rejects __proto__ and constructor keys in throughDefaults', async () => {
      const ctx = context()
      const { p2, a1 } = await seed(ctx)
      const proto = JSON.parse('{"__proto__": "x"}') as object
      assert.deepEqual(Object.keys(proto), ['__proto__'])
      await failsCleanly(ctx, async () => {
        await expectError(() => pubsOf(a1).add(p2, { throughDefaults: proto }), 'M2M_UNKNOWN_COLUMN')
        await expectError(() => pubsOf(a1).add(p2, { throughDefaults: { constructor: 'x' } as never }), 'M2M_UNKNOWN_COLUMN')
        await expectError(() => pubsOf(a1).add(p2, { throughDefaults: { toString: 'x' } as never }), 'M2M_UNKNOWN_COLUMN')
      })
    })

    itInspecting(options, 'rejects unknown columns in create(), leaving no new row', async () => {
      const ctx = context()
      const { a1 } = await seed(ctx)
      await failsCleanly(ctx, async () => {
        await expectError(() => pubsOf(a1).create({ title: 'New', nope: 1 } as never), 'M2M_UNKNOWN_COLUMN', 'nope')
        await expectError(() => pubsOf(a1).create(JSON.parse('{"__proto__": "x"}') as never), 'M2M_UNKNOWN_COLUMN')
        await expectError(() => pubsOf(a1).getOrCreate({ title: 'New' }, { defaults: { nope: 1 } } as never), 'M2M_UNKNOWN_COLUMN')
        await expectError(() => pubsOf(a1).create('title' as never), 'M2M_INVALID_ARGUMENT')
      })
    })

    it('rejects unknown columns, unknown lookups and bad lookup values in filter()', async () => {
      const ctx = context()
      const { a1 } = await seed(ctx)
      const manager = pubsOf(a1)
      expectSyncError(() => manager.filter({ nope: 1 } as never), 'M2M_UNKNOWN_COLUMN', 'nope')
      expectSyncError(() => manager.filter({ title__like: 'S%' } as never), 'M2M_INVALID_LOOKUP', 'like')
      expectSyncError(() => manager.filter({ constructor: 'x' } as never), 'M2M_UNKNOWN_COLUMN')
      expectSyncError(() => manager.filter({ constructor__exact: 'x' } as never), 'M2M_UNKNOWN_COLUMN')
      expectSyncError(() => manager.filter({ toString: 'x' } as never), 'M2M_UNKNOWN_COLUMN')
      // "__proto__" ends with "__", so it reads as an empty lookup: refused either way.
      assert.throws(
        () => manager.filter(JSON.parse('{"__proto__": "x"}') as never),
        (error: unknown) => error instanceof Error && 'code' in error && ['M2M_UNKNOWN_COLUMN', 'M2M_INVALID_LOOKUP'].includes(String(error.code)),
      )
      expectSyncError(() => manager.filter({ title__startswith: 5 } as never), 'M2M_INVALID_LOOKUP')
      expectSyncError(() => manager.filter({ id__in: 'x' } as never), 'M2M_INVALID_LOOKUP')
      expectSyncError(() => manager.filter({ title__isnull: 'yes' } as never), 'M2M_INVALID_LOOKUP')
      expectSyncError(() => manager.filter({ title: undefined } as never), 'M2M_INVALID_LOOKUP')
      expectSyncError(() => manager.filter({ title: { nested: true } } as never), 'M2M_INVALID_LOOKUP')
      expectSyncError(() => manager.filter({ id: 'abc' } as never), 'M2M_INVALID_KEY')
      expectSyncError(() => manager.filter(null as never), 'M2M_INVALID_ARGUMENT')
      expectSyncError(() => manager.orderBy('nope' as never), 'M2M_UNKNOWN_COLUMN')
      expectSyncError(() => manager.query().limit(-1), 'M2M_INVALID_ARGUMENT')
      expectSyncError(() => manager.query().offset(1.5), 'M2M_INVALID_ARGUMENT')
      await expectError(() => manager.get({ nope: 1 } as never), 'M2M_UNKNOWN_COLUMN')
      await expectError(() => manager.getOrCreate({ title__like: 'S%' } as never), 'M2M_INVALID_LOOKUP')
    })

    it('fails get() when no row or several rows match', async () => {
      const ctx = context()
      const { p1, p2, a1, a2 } = await seed(ctx)
      assert.equal((await pubsOf(a1).get()).title, p1.title)
      await expectError(() => pubsOf(a1).get({ title: 'Science News' }), 'M2M_NOT_FOUND')
      // p2 exists but is not linked to a1: not found through a1.
      await expectError(() => pubsOf(a1).get({ id: p2.id }), 'M2M_NOT_FOUND')
      await expectError(() => pubsOf(a2).get(), 'M2M_NOT_FOUND')
      await pubsOf(a2).add([p1, p2])
      await expectError(() => pubsOf(a2).get(), 'M2M_MULTIPLE_FOUND')
      await expectError(() => pubsOf(a2).filter({ title__contains: 'e' }).get(), 'M2M_MULTIPLE_FOUND')
      assert.equal((await pubsOf(a2).get({ title__startswith: 'Science' })).title, p2.title)
    })

    itInspecting(options, 'refuses set() of something that is not iterable, keeping the links', async () => {
      const ctx = context()
      const { p1, a1 } = await seed(ctx)
      await failsCleanly(ctx, async () => {
        for (const value of [7, null, undefined, 'abc', {}, p1]) {
          await expectError(() => pubsOf(a1).set(value as never), 'M2M_INVALID_ARGUMENT')
          await expectError(() => pubsOf(a1).set(value as never, { clear: true }), 'M2M_INVALID_ARGUMENT')
        }
      })
      assert.deepEqual(titles(await pubsOf(a1).all()), [p1.title])
    })

    itInspecting(options, 'refuses options of the wrong shape, writing nothing', async () => {
      const ctx = context()
      const { p2, a1 } = await seed(ctx)
      await failsCleanly(ctx, async () => {
        await expectError(() => pubsOf(a1).add(p2, 5 as never), 'M2M_INVALID_ARGUMENT')
        await expectError(() => pubsOf(a1).add(p2, { throughDefaults: 5 } as never), 'M2M_INVALID_ARGUMENT')
        await expectError(() => pubsOf(a1).add(p2, { throughDefaults: [] } as never), 'M2M_INVALID_ARGUMENT')
        await expectError(() => pubsOf(a1).set([p2], null as never), 'M2M_INVALID_ARGUMENT')
      })
    })

    itInspecting(options, 'refuses to link without a required through value, writing nothing', async () => {
      const ctx = context()
      const team = await ctx.insert(Team, { name: 'Reds' })
      const ann = await ctx.insert(Player, { name: 'Ann' })
      const bob = await ctx.insert(Player, { name: 'Bob' })
      const roster = ctx.bind(players).of(team)
      await roster.add(ann, { throughDefaults: { role: 'captain' } })
      const events = await recordEvents(players, () =>
        expectUnchanged(ctx, rosterTables, async () => {
          await expectError(() => roster.add(bob), 'M2M_MISSING_THROUGH_VALUE', 'role')
          await expectError(() => roster.add([ann, bob]), 'M2M_MISSING_THROUGH_VALUE', 'role')
          await expectError(() => roster.add(bob, { throughDefaults: { role: undefined } } as never), 'M2M_MISSING_THROUGH_VALUE', 'role')
          await expectError(() => roster.add(bob, { throughDefaults: { role: null } } as never), 'M2M_MISSING_THROUGH_VALUE', 'role')
          await expectError(() => roster.set([ann, bob]), 'M2M_MISSING_THROUGH_VALUE', 'role')
          await expectError(() => roster.toggle(bob), 'M2M_MISSING_THROUGH_VALUE', 'role')
          // create() is atomic: no player row is left behind.
          await expectError(() => roster.create({ name: 'Cat' }), 'M2M_MISSING_THROUGH_VALUE', 'role')
          await expectError(() => roster.getOrCreate({ name: 'Cat' }), 'M2M_MISSING_THROUGH_VALUE', 'role')
        }),
      )
      assert.deepEqual(events, [])
      // set() that would also unlink: whatever it did first is undone.
      await expectUnchanged(ctx, rosterTables, async () => {
        await expectError(() => roster.set([bob]), 'M2M_MISSING_THROUGH_VALUE', 'role')
        await expectError(() => roster.set([bob], { clear: true }), 'M2M_MISSING_THROUGH_VALUE', 'role')
      })
      // Nothing to insert, nothing required: adding a linked player needs no value.
      await roster.add(ann)
      assert.deepEqual((await roster.all()).map((row) => row.name), ['Ann'])
      await roster.add(bob, { throughDefaults: { role: 'keeper' } })
      assert.deepEqual((await roster.all()).map((row) => row.name), ['Ann', 'Bob'])
    })

    itInspecting(options, 'checks the new targets of set() before it unlinks anything', async () => {
      // A required through value, and a key with no row, are known to be missing before any
      // write: set() should fail before it removes or clears (no remove or clear event).
      const ctx = context()
      const team = await ctx.insert(Team, { name: 'Reds' })
      const ann = await ctx.insert(Player, { name: 'Ann' })
      const bob = await ctx.insert(Player, { name: 'Bob' })
      const roster = ctx.bind(players).of(team)
      await roster.add(ann, { throughDefaults: { role: 'captain' } })
      const rosterEvents = await recordEvents(players, async () => {
        await expectError(() => roster.set([bob]), 'M2M_MISSING_THROUGH_VALUE')
        await expectError(() => roster.set([bob], { clear: true }), 'M2M_MISSING_THROUGH_VALUE')
      })
      assert.deepEqual(rosterEvents, [], 'set() unlinked before finding the missing through value')

      const { a1, missing } = await seed(ctx)
      const articleEvents = await recordEvents(publications, async () => {
        await expectError(() => pubsOf(a1).set([missing], { clear: true }), 'M2M_TARGET_NOT_FOUND')
      })
      assert.deepEqual(articleEvents, [], 'set(clear: true) cleared before finding the missing key')
    })

    itInspecting(options, 'reports a storage refusal as M2M_CONSTRAINT_VIOLATION, writing nothing', async () => {
      const ctx = context()
      const { p1, p2, a1 } = await seed(ctx)
      await expectUnchanged(ctx, tables, async () => {
        // A primary key that is taken.
        await expectError(() => pubsOf(a1).create({ id: p2.id, title: 'Duplicate' }), 'M2M_CONSTRAINT_VIOLATION')
        // A source key with no row: the foreign key on the source refuses the link.
        const ghost = Math.max(a1.id, p1.id) + 1000
        await expectError(() => ctx.bind(publications).of(ghost).add(p2), 'M2M_CONSTRAINT_VIOLATION')
      })
      assert.deepEqual(titles(await pubsOf(a1).all()), [p1.title])
    })
  })
}
