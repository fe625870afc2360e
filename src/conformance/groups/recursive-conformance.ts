import assert from 'node:assert/strict'
import type { ConformanceOptions } from '../conformance-options.js'
import { itInspecting, useContext, type ConformanceContext } from '../conformance-context.js'
import {
  colleagues,
  idols,
  RecursivePerson,
  recursiveFriends,
  recursiveSchema,
  stalkers,
  type RecursivePersonRow,
} from '../fixtures/recursive.js'

/** Anne, Bill, Chuck and David, created in that order (so in primary key order). */
async function people(ctx: ConformanceContext): Promise<[RecursivePersonRow, RecursivePersonRow, RecursivePersonRow, RecursivePersonRow]> {
  const [a, b, c, d] = await ctx.insertAll(RecursivePerson, [{ name: 'Anne' }, { name: 'Bill' }, { name: 'Chuck' }, { name: 'David' }])
  return [a!, b!, c!, d!]
}

function names(rows: readonly RecursivePersonRow[]): string[] {
  return rows.map((row) => row.name)
}

/**
 * Django's m2m_recursive: a symmetrical self relation (friends), a one-way self relation with
 * a reverse name (idols/stalkers), and a symmetrical self relation through a table with a
 * required column (colleagues).
 */
export function m2mRecursiveConformance(options: ConformanceOptions): void {
  const { describe, it } = options.test
  describe(`${options.name}: m2m_recursive`, () => {
    const context = useContext(options, recursiveSchema)

    /** The fixture of RecursiveM2MTests: `a.friends.add(b, c)`, then `d.friends.add(a, c)`. */
    async function friendsFixture(ctx: ConformanceContext): Promise<[RecursivePersonRow, RecursivePersonRow, RecursivePersonRow, RecursivePersonRow]> {
      const [a, b, c, d] = await people(ctx)
      const friends = ctx.bind(recursiveFriends)
      await friends.of(a).add([b, c])
      await friends.of(d).add([a, c])
      return [a, b, c, d]
    }

    it('lists the friends of each person from both directions', async () => {
      const ctx = context()
      const [a, b, c, d] = await friendsFixture(ctx)
      const friends = ctx.bind(recursiveFriends)
      assert.deepEqual(names(await friends.of(a).all()), ['Bill', 'Chuck', 'David'])
      assert.deepEqual(names(await friends.of(b).all()), ['Anne'])
      assert.deepEqual(names(await friends.of(c).all()), ['Anne', 'David'])
      assert.deepEqual(names(await friends.of(d).all()), ['Anne', 'Chuck'])
    })

    it('ignores adding a friendship again from the other side', async () => {
      const ctx = context()
      const [a, b] = await friendsFixture(ctx)
      const friends = ctx.bind(recursiveFriends)
      await friends.of(b).add(a)
      assert.deepEqual(names(await friends.of(a).all()), ['Bill', 'Chuck', 'David'])
      assert.deepEqual(names(await friends.of(b).all()), ['Anne'])
    })

    itInspecting(options, 'stores each friendship as two rows, one per direction', async () => {
      const ctx = context()
      const [a, b] = await friendsFixture(ctx)
      await ctx.bind(recursiveFriends).of(b).add(a)
      const rows = await ctx.rows(recursiveFriends.through.table)
      const pairs = rows.map((row) => `${String(row.from_person_id)}-${String(row.to_person_id)}`).sort()
      assert.equal(rows.length, 8)
      assert.equal(new Set(pairs).size, 8)
      assert.ok(pairs.includes(`${String(a.id)}-${String(b.id)}`))
      assert.ok(pairs.includes(`${String(b.id)}-${String(a.id)}`))
    })

    it('removes a friendship from both sides', async () => {
      const ctx = context()
      const [a, b] = await friendsFixture(ctx)
      const friends = ctx.bind(recursiveFriends)
      await friends.of(b).remove(a)
      assert.deepEqual(names(await friends.of(a).all()), ['Chuck', 'David'])
      assert.deepEqual(names(await friends.of(b).all()), [])
    })

    it('removes several friendships from both sides in one statement', async () => {
      const ctx = context()
      const [a, b, c] = await friendsFixture(ctx)
      const friends = ctx.bind(recursiveFriends)
      assert.equal(await ctx.statements(() => friends.of(a).remove([b, c])), 1)
      assert.deepEqual(names(await friends.of(a).all()), ['David'])
      assert.deepEqual(names(await friends.of(c).all()), ['David'])
    })

    it('clears the friendships of one person on both sides', async () => {
      const ctx = context()
      const [a, , c, d] = await friendsFixture(ctx)
      const friends = ctx.bind(recursiveFriends)
      await friends.of(a).clear()
      assert.deepEqual(names(await friends.of(a).all()), [])
      assert.deepEqual(names(await friends.of(c).all()), ['David'])
      assert.deepEqual(names(await friends.of(d).all()), ['Chuck'])
    })

    itInspecting(options, 'writes one row when a person is made their own friend', async () => {
      const ctx = context()
      const [a] = await people(ctx)
      const friends = ctx.bind(recursiveFriends)
      await friends.of(a).add(a)
      assert.deepEqual(names(await friends.of(a).all()), ['Anne'])
      assert.equal((await ctx.rows(recursiveFriends.through.table)).length, 1)
    })

    it('adds through the reverse name of a one-way relation', async () => {
      const ctx = context()
      const [a, , , d] = await friendsFixture(ctx)
      await ctx.bind(stalkers).of(d).add(a)
      assert.deepEqual(names(await ctx.bind(idols).of(a).all()), ['David'])
      assert.deepEqual(names(await ctx.bind(stalkers).of(a).all()), [])
      assert.deepEqual(names(await ctx.bind(stalkers).of(d).all()), ['Anne'])
      assert.deepEqual(names(await ctx.bind(idols).of(d).all()), [])
    })

    itInspecting(options, 'keeps one row when a one-way link is added from both sides', async () => {
      const ctx = context()
      const [a, , , d] = await friendsFixture(ctx)
      await ctx.bind(idols).of(a).add(d)
      await ctx.bind(stalkers).of(d).add(a)
      assert.deepEqual(names(await ctx.bind(idols).of(a).all()), ['David'])
      const rows = await ctx.rows(idols.through.table)
      assert.equal(rows.length, 1)
      assert.equal(rows[0]!.from_person_id, a.id)
      assert.equal(rows[0]!.to_person_id, d.id)
    })

    it('lets a person idolise themselves, seen from both sides', async () => {
      const ctx = context()
      const [a] = await friendsFixture(ctx)
      await ctx.bind(idols).of(a).add(a)
      assert.deepEqual(names(await ctx.bind(idols).of(a).all()), ['Anne'])
      assert.deepEqual(names(await ctx.bind(stalkers).of(a).all()), ['Anne'])
    })

    it('clears only the rows where the person is the target on the reverse side', async () => {
      const ctx = context()
      const [a, b, c] = await people(ctx)
      await ctx.bind(idols).of(a).add([b, c])
      await ctx.bind(idols).of(b).add(a)
      await ctx.bind(stalkers).of(b).clear()
      assert.deepEqual(names(await ctx.bind(idols).of(a).all()), ['Chuck'])
      assert.deepEqual(names(await ctx.bind(idols).of(b).all()), ['Anne'])
    })

    it('has no reverse side for a symmetrical relation', () => {
      assert.equal(recursiveFriends.symmetrical, true)
      assert.equal(idols.symmetrical, false)
      assert.throws(() => recursiveFriends.reverse, { code: 'M2M_REVERSE_HIDDEN' })
      assert.throws(() => colleagues.reverse, { code: 'M2M_REVERSE_HIDDEN' })
    })
  })

  describe(`${options.name}: m2m_recursive through a table`, () => {
    const context = useContext(options, recursiveSchema)

    /**
     * The fixture of RecursiveSymmetricalM2MThroughTests: Anne meets Bill and Chuck on
     * 2013-01-05, David meets Anne and Chuck on 2015-06-15.
     */
    async function colleaguesFixture(ctx: ConformanceContext): Promise<[RecursivePersonRow, RecursivePersonRow, RecursivePersonRow, RecursivePersonRow]> {
      const [a, b, c, d] = await people(ctx)
      const relation = ctx.bind(colleagues)
      await relation.of(a).add([b, c], { throughDefaults: { first_meet: '2013-01-05' } })
      await relation.of(d).add([a, c], { throughDefaults: { first_meet: '2015-06-15' } })
      return [a, b, c, d]
    }

    it('lists the colleagues of each person from both directions', async () => {
      const ctx = context()
      const [a, b, c, d] = await colleaguesFixture(ctx)
      const relation = ctx.bind(colleagues)
      assert.deepEqual(names(await relation.of(a).all()), ['Bill', 'Chuck', 'David'])
      assert.deepEqual(names(await relation.of(b).all()), ['Anne'])
      assert.deepEqual(names(await relation.of(c).all()), ['Anne', 'David'])
      assert.deepEqual(names(await relation.of(d).all()), ['Anne', 'Chuck'])
    })

    it('ignores adding a colleague again from the other side', async () => {
      const ctx = context()
      const [a, b] = await colleaguesFixture(ctx)
      const relation = ctx.bind(colleagues)
      await relation.of(b).add(a, { throughDefaults: { first_meet: '2013-01-05' } })
      assert.deepEqual(names(await relation.of(a).all()), ['Bill', 'Chuck', 'David'])
      assert.deepEqual(names(await relation.of(b).all()), ['Anne'])
    })

    it('removes a colleague from both sides', async () => {
      const ctx = context()
      const [a, b] = await colleaguesFixture(ctx)
      const relation = ctx.bind(colleagues)
      await relation.of(b).remove(a)
      assert.deepEqual(names(await relation.of(a).all()), ['Chuck', 'David'])
      assert.deepEqual(names(await relation.of(b).all()), [])
    })

    it('clears the colleagues of one person on both sides', async () => {
      const ctx = context()
      const [a, , c, d] = await colleaguesFixture(ctx)
      const relation = ctx.bind(colleagues)
      await relation.of(a).clear()
      assert.deepEqual(names(await relation.of(a).all()), [])
      assert.deepEqual(names(await relation.of(c).all()), ['David'])
      assert.deepEqual(names(await relation.of(d).all()), ['Chuck'])
    })

    it('sets the colleagues of one person and removes the mirror links that go', async () => {
      const ctx = context()
      const [a, b, c, d] = await colleaguesFixture(ctx)
      const relation = ctx.bind(colleagues)
      await relation.of(c).set([b, d], { throughDefaults: { first_meet: '2013-01-05' } })
      assert.deepEqual(names(await relation.of(c).orderBy('name').all()), ['Bill', 'David'])
      assert.deepEqual(names(await relation.of(a).orderBy('name').all()), ['Bill', 'David'])
    })

    it('writes the through value on both rows of a link', async () => {
      const ctx = context()
      const [a, b, c, d] = await colleaguesFixture(ctx)
      const relation = ctx.bind(colleagues)
      const fromAnne = await relation.of(a).throughRows()
      assert.deepEqual(
        fromAnne.map((row) => [row.first_id, row.second_id, row.first_meet]).sort((x, y) => Number(x[1]) - Number(y[1])),
        [
          [a.id, b.id, '2013-01-05'],
          [a.id, c.id, '2013-01-05'],
          [a.id, d.id, '2015-06-15'],
        ],
      )
      const fromBill = await relation.of(b).throughRows()
      assert.deepEqual(
        fromBill.map((row) => [row.first_id, row.second_id, row.first_meet]),
        [[b.id, a.id, '2013-01-05']],
      )
      const fromDavid = await relation.of(d).throughRows(a)
      assert.deepEqual(
        fromDavid.map((row) => [row.first_id, row.second_id, row.first_meet]),
        [[d.id, a.id, '2015-06-15']],
      )
    })

    itInspecting(options, 'refuses a link without its required column and writes nothing', async () => {
      const ctx = context()
      const [a, b] = await people(ctx)
      const relation = ctx.bind(colleagues)
      await assert.rejects(relation.of(a).add(b), { code: 'M2M_MISSING_THROUGH_VALUE' })
      await assert.rejects(relation.of(a).set([b]), { code: 'M2M_MISSING_THROUGH_VALUE' })
      await assert.rejects(relation.of(a).add(b, { throughDefaults: { first_meet: null as unknown as string } }), {
        code: 'M2M_MISSING_THROUGH_VALUE',
      })
      assert.deepEqual(await ctx.rows(colleagues.through.table), [])
    })

    itInspecting(options, 'writes one row when a person is made their own colleague', async () => {
      const ctx = context()
      const [a] = await people(ctx)
      await ctx.bind(colleagues).of(a).add(a, { throughDefaults: { first_meet: '2020-02-02' } })
      const rows = await ctx.rows(colleagues.through.table)
      assert.equal(rows.length, 1)
      assert.equal(rows[0]!.first_id, a.id)
      assert.equal(rows[0]!.second_id, a.id)
    })
  })
}
