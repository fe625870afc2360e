import assert from 'node:assert/strict'
import { manyToMany } from '../../relation/many-to-many.js'
import type { ConformanceOptions } from '../conformance-options.js'
import { itInspecting, useContext, type ConformanceContext } from '../conformance-context.js'
import { pick, sortRows } from '../fixtures/link-rows.js'
import {
  Account,
  collectAtDefault,
  collectors,
  collectorsSchema,
  followees,
  followers,
  InviteCollector,
  invitedCollectors,
  MutualAccount,
  mutualFollowers,
  Shop,
  timedCollectors,
  type AccountRow,
  type ShopRow,
} from '../fixtures/seed-collectors.js'

interface Collectors {
  readonly kfc: ShopRow
  readonly alice: AccountRow
}

async function kfcAndAlice(ctx: ConformanceContext): Promise<Collectors> {
  const kfc = await ctx.insert(Shop, { name: 'kfc' })
  const alice = await ctx.insert(Account, { name: 'alice' })
  return { kfc, alice }
}

const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

/**
 * Seed 002: shops collected by accounts. Add and create on an auto join table, the errors for
 * unsaved rows, a through table whose collect time comes from a column default, one with an
 * inviter beside the link columns (throughFields), and symmetrical against one-way followers.
 */
export function seedCollectorsConformance(options: ConformanceOptions): void {
  const { describe, it } = options.test
  describe(`${options.name}: seed collectors (Account, Shop)`, () => {
    const context = useContext(options, collectorsSchema)

    it('adds and creates collectors, seen from both sides', async () => {
      const ctx = context()
      const { kfc, alice } = await kfcAndAlice(ctx)
      const manager = ctx.bind(collectors).of(kfc)
      await manager.add(alice)
      const bob = await manager.create({ name: 'bob' })
      assert.equal(bob.name, 'bob')
      assert.deepEqual(await manager.all(), [alice, bob])
      assert.equal(collectors.reverse.name, 'shop_set')
      assert.deepEqual(await ctx.bind(collectors).reverse.of(bob).all(), [kfc])
      assert.deepEqual(await ctx.bind(collectors).reverse.of(alice).all(), [kfc])
    })

    itInspecting(options, 'refuses an unsaved account as a target, writing nothing', async () => {
      const ctx = context()
      const { kfc, alice } = await kfcAndAlice(ctx)
      const carol = { name: 'carol' } as unknown as AccountRow
      await assert.rejects(ctx.bind(collectors).of(kfc).add(carol), { code: 'M2M_UNSAVED_TARGET' })
      await assert.rejects(ctx.bind(collectors).of(kfc).add([alice, carol]), { code: 'M2M_UNSAVED_TARGET' })
      await assert.rejects(ctx.bind(collectors).of(kfc).toggle(carol), { code: 'M2M_UNSAVED_TARGET' })
      assert.deepEqual(await ctx.rows(collectors.through.table), [])
      assert.deepEqual((await ctx.rows(Account.table)).map((row) => row.name), ['alice'])
    })

    it('refuses an unsaved shop as a source as soon as its manager is made', async () => {
      const ctx = context()
      const { alice } = await kfcAndAlice(ctx)
      const burgerKing = { name: 'burger king' } as unknown as ShopRow
      assert.throws(() => ctx.bind(collectors).of(burgerKing), { code: 'M2M_UNSAVED_SOURCE' })
      assert.throws(() => ctx.bind(timedCollectors).of(burgerKing), { code: 'M2M_UNSAVED_SOURCE' })
      assert.deepEqual(await ctx.bind(collectors).reverse.of(alice).all(), [])
    })

    it('fills the collect time from the column default, once per call', async () => {
      const ctx = context()
      const { kfc, alice } = await kfcAndAlice(ctx)
      const bob = await ctx.insert(Account, { name: 'bob' })
      const manager = ctx.bind(timedCollectors).of(kfc)
      const before = collectAtDefault.calls
      await manager.add([alice, bob])
      assert.equal(collectAtDefault.calls - before, 1)
      const first = await manager.throughRows()
      assert.equal(first.length, 2)
      assert.match(first[0]!.collect_at, ISO_TIMESTAMP)
      assert.equal(first[0]!.collect_at, first[1]!.collect_at)
      const carol = await manager.create({ name: 'carol' })
      assert.equal(collectAtDefault.calls - before, 2)
      const [carolRow] = await manager.throughRows(carol)
      assert.match(carolRow!.collect_at, ISO_TIMESTAMP)
      assert.notEqual(carolRow!.collect_at, first[0]!.collect_at)
      assert.deepEqual(await manager.all(), [alice, bob, carol])
    })

    it('takes the collect time from throughDefaults over the column default', async () => {
      const ctx = context()
      const { kfc, alice } = await kfcAndAlice(ctx)
      const manager = ctx.bind(timedCollectors).of(kfc)
      await manager.add(alice, { throughDefaults: { collect_at: '2020-02-29T12:00:00.000Z' } })
      assert.deepEqual(pick(await manager.throughRows(), 'account_id', 'shop_id', 'collect_at'), [
        { account_id: alice.id, shop_id: kfc.id, collect_at: '2020-02-29T12:00:00.000Z' },
      ])
    })

    it('links the named columns, with the inviter given through defaults', async () => {
      const ctx = context()
      const { kfc, alice } = await kfcAndAlice(ctx)
      const bob = await ctx.insert(Account, { name: 'bob' })
      const manager = ctx.bind(invitedCollectors).of(kfc)
      await manager.add(bob, { throughDefaults: { inviter_id: alice.id } })
      await manager.add(alice)
      assert.deepEqual(await manager.all(), [alice, bob])
      const rows = sortRows(await manager.throughRows(), 'account_id')
      assert.deepEqual(
        rows.map((row) => ({ shop_id: row.shop_id, account_id: row.account_id, inviter_id: row.inviter_id ?? null })),
        [
          { shop_id: kfc.id, account_id: alice.id, inviter_id: null },
          { shop_id: kfc.id, account_id: bob.id, inviter_id: alice.id },
        ],
      )
      assert.ok(rows.every((row) => ISO_TIMESTAMP.test(row.collect_at)))
      assert.deepEqual(await ctx.bind(invitedCollectors).reverse.of(bob).all(), [kfc])
      await manager.remove(alice)
      // Alice invited Bob, but only the account column links: she no longer collects kfc.
      assert.deepEqual(await ctx.bind(invitedCollectors).reverse.of(alice).all(), [])
      assert.deepEqual(await manager.all(), [bob])
    })

    it('rejects a link column given in throughDefaults', async () => {
      const ctx = context()
      const { kfc, alice } = await kfcAndAlice(ctx)
      const manager = ctx.bind(invitedCollectors).of(kfc)
      await assert.rejects(manager.add(alice, { throughDefaults: { account_id: alice.id } }), { code: 'M2M_UNKNOWN_COLUMN' })
      await assert.rejects(manager.add(alice, { throughDefaults: { shop_id: kfc.id } }), { code: 'M2M_UNKNOWN_COLUMN' })
      await assert.rejects(ctx.bind(collectors).of(kfc).add(alice, { throughDefaults: { collect_at: 'now' } as never }), { code: 'M2M_UNKNOWN_COLUMN' })
      assert.deepEqual(await manager.all(), [])
      assert.deepEqual(await ctx.bind(collectors).of(kfc).all(), [])
    })

    it('needs throughFields when the through table has two keys to the target', () => {
      assert.throws(() => manyToMany(Shop, Account, { name: 'ambiguous_collectors', through: InviteCollector }), {
        name: 'DefinitionError',
        code: 'M2M_INVALID_DEFINITION',
      })
      assert.throws(
        () => manyToMany(Shop, Account, { name: 'wrong_collectors', through: InviteCollector, throughFields: ['shop_id', 'collect_at'] }),
        { name: 'DefinitionError', code: 'M2M_INVALID_DEFINITION' },
      )
      assert.throws(
        () => manyToMany(Shop, Account, { name: 'swapped_collectors', through: InviteCollector, throughFields: ['account_id', 'shop_id'] }),
        { name: 'DefinitionError', code: 'M2M_INVALID_DEFINITION' },
      )
    })

    it('makes symmetrical followers mutual, with no reverse side', async () => {
      const ctx = context()
      const [alice, bob, carol] = await ctx.insertAll(MutualAccount, [{ name: 'alice' }, { name: 'bob' }, { name: 'carol' }])
      const relation = ctx.bind(mutualFollowers)
      await relation.of(alice!).add(bob!)
      await relation.of(carol!).add(alice!)
      assert.deepEqual(await relation.of(alice!).all(), [bob, carol])
      assert.deepEqual(await relation.of(bob!).all(), [alice])
      assert.deepEqual(await relation.of(carol!).all(), [alice])
      assert.equal(mutualFollowers.symmetrical, true)
      assert.throws(() => mutualFollowers.reverse, { code: 'M2M_REVERSE_HIDDEN' })
      assert.throws(() => manyToMany(MutualAccount, MutualAccount, { name: 'fans', relatedName: 'followees' }), {
        name: 'DefinitionError',
        code: 'M2M_INVALID_DEFINITION',
      })
    })

    it('keeps one-way followers one-way, with followees as the reverse side', async () => {
      const ctx = context()
      const [alice, bob, carol] = await ctx.insertAll(Account, [{ name: 'alice' }, { name: 'bob' }, { name: 'carol' }])
      await ctx.bind(followers).of(alice!).add(bob!)
      assert.equal(followees.name, 'followees')
      assert.deepEqual(await ctx.bind(followers).of(alice!).all(), [bob])
      assert.deepEqual(await ctx.bind(followers).of(bob!).all(), [])
      assert.deepEqual(await ctx.bind(followees).of(bob!).all(), [alice])
      assert.deepEqual(await ctx.bind(followees).of(alice!).all(), [])
      await ctx.bind(followees).of(carol!).add(alice!)
      assert.deepEqual(await ctx.bind(followers).of(alice!).all(), [bob, carol])
      await ctx.bind(followers).of(bob!).add(alice!)
      assert.deepEqual(await ctx.bind(followers).of(bob!).all(), [alice])
      await ctx.bind(followers).of(alice!).remove(bob!)
      assert.deepEqual(await ctx.bind(followers).of(bob!).all(), [alice])
      assert.deepEqual(await ctx.bind(followees).of(bob!).all(), [])
    })

    itInspecting(options, 'stores a symmetrical follow as two rows and a one-way follow as one', async () => {
      const ctx = context()
      const [alice, bob] = await ctx.insertAll(MutualAccount, [{ name: 'alice' }, { name: 'bob' }])
      const [ann, ben] = await ctx.insertAll(Account, [{ name: 'ann' }, { name: 'ben' }])
      await ctx.bind(mutualFollowers).of(alice!).add(bob!)
      await ctx.bind(followers).of(ann!).add(ben!)
      const mutual = await ctx.rows(mutualFollowers.through.table)
      assert.deepEqual(sortRows(pick(mutual, 'from_account_id', 'to_account_id'), 'from_account_id'), [
        { from_account_id: alice!.id, to_account_id: bob!.id },
        { from_account_id: bob!.id, to_account_id: alice!.id },
      ])
      const oneWay = await ctx.rows(followers.through.table)
      assert.deepEqual(pick(oneWay, 'from_account_id', 'to_account_id'), [{ from_account_id: ann!.id, to_account_id: ben!.id }])
    })
  })
}
