import assert from 'node:assert/strict'
import type { RelationAdapter } from '../../adapter/relation-adapter.js'
import type { M2MChangedEvent } from '../../events/relation-events.js'
import type { ConformanceOptions } from '../conformance-options.js'
import { itInspecting, useContext, type ConformanceContext } from '../conformance-context.js'
import { expectError, expectUnchanged, titles, withListener } from '../fixtures/assertions.js'
import {
  Article,
  articlesSchema,
  Publication,
  publications,
  Tag,
  tags,
  type ArticleRow,
  type PublicationRow,
  type TagRow,
} from '../fixtures/articles.js'

interface Seeded {
  readonly p1: PublicationRow
  readonly p2: PublicationRow
  readonly p3: PublicationRow
  readonly a1: ArticleRow
  readonly t1: TagRow
}

// p1, p2 and p3 exist; a1 is linked to nothing.
async function seed(ctx: ConformanceContext): Promise<Seeded> {
  const p1 = await ctx.insert(Publication, { title: 'The Python Journal' })
  const p2 = await ctx.insert(Publication, { title: 'Science News' })
  const p3 = await ctx.insert(Publication, { title: 'Science Weekly' })
  const a1 = await ctx.insert(Article, { headline: 'Django lets you build web apps easily' })
  const t1 = await ctx.insert(Tag, { name: 'python' })
  return { p1, p2, p3, a1, t1 }
}

/** An error of the test's own, to check that it comes out of the call unchanged. */
class ListenerFailure extends Error {
  override readonly name = 'ListenerFailure'
}

function isSame(expected: unknown): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.equal(error, expected, `Expected the listener's own error, got ${String(error)}`)
    return true
  }
}

const tables = [publications.through.table, tags.through.table, Publication.table, Article.table, Tag.table]

/**
 * Every write call is one transaction: a throwing listener aborts it with nothing written,
 * a call inside the caller's transaction rolls back only its own writes (a savepoint), and
 * listeners work inside the call's transaction through `event.using`.
 */
export function transactionsConformance(options: ConformanceOptions): void {
  const { describe, it } = options.test
  describe(`${options.name}: transactions`, () => {
    const context = useContext(options, articlesSchema)

    itInspecting(options, 'aborts add() when a pre_add listener throws, with the listener error unchanged', async () => {
      const ctx = context()
      const { p1, p2, a1 } = await seed(ctx)
      const failure = new ListenerFailure('pre_add refused')
      await expectUnchanged(ctx, tables, () =>
        withListener(publications, 'pre_add', () => {
          throw failure
        }, () => assert.rejects(ctx.bind(publications).of(a1).add([p1, p2]), isSame(failure))),
      )
      assert.equal(await ctx.bind(publications).of(a1).count(), 0)
    })

    itInspecting(options, 'rolls add() back when a post_add listener throws', async () => {
      const ctx = context()
      const { p1, p2, a1 } = await seed(ctx)
      await ctx.bind(publications).of(a1).add(p1)
      const failure = new ListenerFailure('post_add refused')
      await expectUnchanged(ctx, tables, () =>
        withListener(publications, 'post_add', async () => {
          await Promise.resolve()
          throw failure
        }, () => assert.rejects(ctx.bind(publications).of(a1).add(p2), isSame(failure))),
      )
      assert.deepEqual(titles(await ctx.bind(publications).of(a1).all()), [p1.title])
    })

    itInspecting(options, 'rolls remove(), clear() and set() back when a listener throws', async () => {
      const ctx = context()
      const { p1, p2, p3, a1 } = await seed(ctx)
      const manager = ctx.bind(publications).of(a1)
      await manager.add([p1, p2])
      const failure = new ListenerFailure('refused')
      const fail = (): never => {
        throw failure
      }
      await expectUnchanged(ctx, tables, async () => {
        await withListener(publications, 'pre_remove', fail, () => assert.rejects(manager.remove(p1), isSame(failure)))
        await withListener(publications, 'post_remove', fail, () => assert.rejects(manager.remove([p1, p2]), isSame(failure)))
        await withListener(publications, 'pre_clear', fail, () => assert.rejects(manager.clear(), isSame(failure)))
        await withListener(publications, 'post_clear', fail, () => assert.rejects(manager.clear(), isSame(failure)))
        // set() removes p1 before it adds p3: the removal is undone with the failed add.
        await withListener(publications, 'post_add', fail, () => assert.rejects(manager.set([p2, p3]), isSame(failure)))
        await withListener(publications, 'post_add', fail, () => assert.rejects(manager.set([p3], { clear: true }), isSame(failure)))
        await withListener(publications, 'post_remove', fail, () => assert.rejects(manager.toggle(p1), isSame(failure)))
      })
      assert.deepEqual(titles(await manager.all()), [p2.title, p1.title])
    })

    itInspecting(options, 'leaves no new row when create() fails to link', async () => {
      const ctx = context()
      const { a1 } = await seed(ctx)
      const failure = new ListenerFailure('no links today')
      const manager = ctx.bind(publications).of(a1)
      await expectUnchanged(ctx, tables, async () => {
        await withListener(publications, 'pre_add', () => {
          throw failure
        }, async () => {
          await assert.rejects(manager.create({ title: 'Highlights for Adults' }), isSame(failure))
          await assert.rejects(manager.getOrCreate({ title: 'Highlights for Adults' }), isSame(failure))
          await assert.rejects(manager.updateOrCreate({ title: 'Highlights for Adults' }, { defaults: { title: 'Other' } }), isSame(failure))
        })
      })
      assert.equal(await manager.count(), 0)
    })

    itInspecting(options, 'undoes only the failed call inside a caller transaction, which still commits', async () => {
      const ctx = context()
      const { p1, p2, p3, a1 } = await seed(ctx)
      const failure = new ListenerFailure('not p2')
      const rejectP2 = (event: M2MChangedEvent): void => {
        if (event.pkSet?.has(p2.id) === true) throw failure
      }
      await ctx.adapter.transaction(async (tx) => {
        const manager = publications.using(tx).of(a1)
        await manager.add(p1)
        // Fails after its insert ran: the savepoint takes back the p2 link only.
        await withListener(publications, 'post_add', rejectP2, () => assert.rejects(manager.add([p2, p3]), isSame(failure)))
        assert.deepEqual(titles(await manager.all()), [p1.title])
        // Fails its checks: nothing to undo, and the transaction is still usable.
        await expectError(() => manager.add(p1.id + p2.id + p3.id + 1000), 'M2M_TARGET_NOT_FOUND')
        await manager.add(p3)
        assert.deepEqual(titles(await manager.all()), [p3.title, p1.title])
      })
      assert.deepEqual(titles(await ctx.bind(publications).of(a1).all()), [p3.title, p1.title])
      const links = await ctx.rows(publications.through.table)
      assert.equal(links.length, 2)
    })

    itInspecting(options, 'rolls a successful call back with the caller transaction that fails', async () => {
      const ctx = context()
      const { p1, p2, a1 } = await seed(ctx)
      await ctx.bind(publications).of(a1).add(p1)
      const failure = new ListenerFailure('the caller changed its mind')
      await expectUnchanged(ctx, tables, () =>
        assert.rejects(
          ctx.adapter.transaction(async (tx) => {
            const manager = publications.using(tx).of(a1)
            await manager.add(p2)
            await manager.remove(p1)
            const created = await manager.create({ title: 'Highlights for Children' })
            assert.deepEqual(titles(await manager.all()), [created.title, p2.title])
            throw failure
          }),
          isSame(failure),
        ),
      )
      assert.deepEqual(titles(await ctx.bind(publications).of(a1).all()), [p1.title])
    })

    it('gives listeners the transaction, whose reads see the call in progress', async () => {
      const ctx = context()
      const { p1, p2, a1 } = await seed(ctx)
      await ctx.bind(publications).of(a1).add(p1)
      const seen: { action: string; titles: string[] }[] = []
      const usings: RelationAdapter[] = []
      await withListener(publications, 'm2m_changed', async (event) => {
        usings.push(event.using)
        const rows = await publications.using(event.using).of(a1).all()
        seen.push({ action: event.action, titles: titles(rows) })
      }, async () => {
        await ctx.bind(publications).of(a1).add(p2)
        await ctx.bind(publications).of(a1).remove(p1)
        await ctx.bind(publications).of(a1).clear()
      })
      assert.deepEqual(seen, [
        { action: 'pre_add', titles: [p1.title] },
        { action: 'post_add', titles: [p2.title, p1.title] },
        { action: 'pre_remove', titles: [p2.title, p1.title] },
        { action: 'post_remove', titles: [p2.title] },
        { action: 'pre_clear', titles: [p2.title] },
        { action: 'post_clear', titles: [] },
      ])
      for (const using of usings) {
        assert.equal(typeof using.transaction, 'function')
        assert.equal(typeof using.probeLinks, 'function')
      }
      // The pre and post events of one call share its transaction.
      assert.equal(usings[0], usings[1])
      assert.equal(usings[2], usings[3])
      assert.equal(usings[4], usings[5])
    })

    itInspecting(options, 'commits and rolls back a listener\'s writes through event.using with the call', async () => {
      const ctx = context()
      const { p1, p2, a1, t1 } = await seed(ctx)
      // A listener that tags the article whenever a publication is added.
      const tagOnAdd = async (event: M2MChangedEvent): Promise<void> => {
        await tags.using(event.using).of(a1).add(t1)
      }
      await withListener(publications, 'post_add', tagOnAdd, () => ctx.bind(publications).of(a1).add(p1))
      assert.deepEqual((await ctx.bind(tags).of(a1).all()).map((row) => row.name), ['python'])

      await ctx.bind(tags).of(a1).clear()
      const failure = new ListenerFailure('after the tag')
      await expectUnchanged(ctx, tables, async () => {
        const offTag = publications.on('post_add', tagOnAdd)
        const offFail = publications.on('post_add', () => {
          throw failure
        })
        try {
          await assert.rejects(ctx.bind(publications).of(a1).add(p2), isSame(failure))
        } finally {
          offTag()
          offFail()
        }
      })
      assert.equal(await ctx.bind(tags).of(a1).count(), 0)
      assert.deepEqual(titles(await ctx.bind(publications).of(a1).all()), [p1.title])
    })

    it('runs listeners inside the caller transaction when the call is made in one', async () => {
      const ctx = context()
      const { p1, a1 } = await seed(ctx)
      const inside: string[][] = []
      await ctx.adapter.transaction(async (tx) => {
        await withListener(publications, 'post_add', async (event) => {
          inside.push(titles(await publications.using(event.using).of(a1).all()))
        }, () => publications.using(tx).of(a1).add(p1))
        assert.deepEqual(titles(await publications.using(tx).of(a1).all()), [p1.title])
      })
      assert.deepEqual(inside, [[p1.title]])
      assert.deepEqual(titles(await ctx.bind(publications).of(a1).all()), [p1.title])
    })
  })
}
