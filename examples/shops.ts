/**
 * Seed 002: users (Account) collect shops (Shop).
 *
 *   1. The plain relation: Shop.collectors = ManyToManyField(Account), add() and create().
 *   2. The ValueError cases: an unsaved account as a target, an unsaved shop as the source.
 *   3. A through table ShopCollector with collect_at (auto_now_add).
 *   4. throughFields=("shop", "account") when ShopCollector also has an inviter foreign key.
 *   5. Self relations: symmetrical followers (friends), then symmetrical=False with followees.
 *
 * Run: npm run examples -- shops
 */
import { defineModel, defineThrough, isThroughlineError, manyToMany } from '../src/index.js'
import { createJoinTable, KnexAdapter } from '../src/adapters/knex/index.js'
import { openSqlite } from './_sqlite.js'

interface Account {
  id: number
  name: string
}
interface Shop {
  id: number
  name: string
}
interface ShopCollector {
  id: number
  shop_id: number
  account_id: number
  inviter_id: number | null
  collect_at: string
}

const db = openSqlite()
const adapter = new KnexAdapter(db)
await db.schema.createTable('account', (table) => {
  table.increments('id')
  table.string('name', 20).notNullable()
})
await db.schema.createTable('shop', (table) => {
  table.increments('id')
  table.string('name', 20).notNullable()
})

const Account = defineModel<Account>('Account', { table: 'account', columns: ['id', 'name'], describe: (row) => row.name })
const Shop = defineModel<Shop>('Shop', { table: 'shop', columns: ['id', 'name'], describe: (row) => row.name })
const names = (rows: readonly { name: string }[]): string => rows.map((row) => row.name).join(', ') || '(none)'

console.log('1. Shop.collectors = ManyToManyField(Account)')
const collectors = manyToMany(Shop, Account, { name: 'collectors', relatedName: 'shops', adapter })
await createJoinTable(db, collectors) // shop_collectors(id, shop_id, account_id), unique pair
const [kfc] = await db<Shop>('shop').insert({ name: 'kfc' }).returning('*')
const [alice] = await db<Account>('account').insert({ name: 'alice' }).returning('*')
if (kfc === undefined || alice === undefined) throw new Error('seeding failed')
await collectors.of(kfc).add(alice)
const bob = await collectors.of(kfc).create({ name: 'bob' })
console.log(`   the join table Django would create: ${collectors.through.table}(${collectors.through.sourceColumn}, ${collectors.through.targetColumn})`)
console.log(`   kfc.collectors.all(): ${names(await collectors.of(kfc).all())}`)
console.log(`   bob.shops.all(): ${names(await collectors.reverse.of(bob).all())}`)

console.log('2. Unsaved rows cannot be linked')
const carol: Partial<Account> = { name: 'carol' } // Account(name="carol"), not saved
try {
  await collectors.of(kfc).add(carol as Account)
} catch (error) {
  if (!isThroughlineError(error, 'M2M_UNSAVED_TARGET')) throw error
  console.log(`   kfc.collectors.add(carol) -> ${error.code}: ${error.message}`)
}
const burgerKing: Partial<Shop> = { name: 'burger king' }
try {
  collectors.of(burgerKing as Shop)
} catch (error) {
  if (!isThroughlineError(error, 'M2M_UNSAVED_SOURCE')) throw error
  console.log(`   burger_king.collectors -> ${error.code}: ${error.message}`)
}

console.log('3. A through table with the time of collection')
const Collected = defineThrough<ShopCollector>('ShopCollector', {
  table: 'shop_collector',
  primaryKey: 'id',
  foreignKeys: { shop_id: Shop, account_id: Account },
  // auto_now_add=True: filled when the row is inserted, unless the caller gives a value.
  columns: { collect_at: { default: () => new Date().toISOString(), required: true } },
})
const collected = manyToMany(Shop, Account, { name: 'collected_by', through: Collected, relatedName: 'collected', adapter })
await createJoinTable(db, collected, { collect_at: { kind: 'string', nullable: false } })
await collected.of(kfc).add([alice, bob])
for (const row of await collected.of(kfc).throughRows()) {
  console.log(`   ShopCollector shop=${String(row.shop_id)} account=${String(row.account_id)} collect_at is set: ${String(row.collect_at.length > 0)}`)
}

console.log('4. throughFields when the through table has an inviter too')
const Invited = defineThrough<ShopCollector>('InvitedCollector', {
  table: 'invited_collector',
  primaryKey: 'id',
  foreignKeys: { shop_id: Shop, account_id: Account, inviter_id: Account },
  columns: { collect_at: { default: () => new Date().toISOString() } },
})
try {
  manyToMany(Shop, Account, { name: 'invited', through: Invited })
} catch (error) {
  if (!isThroughlineError(error, 'M2M_INVALID_DEFINITION')) throw error
  console.log(`   without throughFields -> ${error.code}: ${error.message}`)
}
const invited = manyToMany(Shop, Account, { name: 'invited', through: Invited, throughFields: ['shop_id', 'account_id'], relatedName: 'invitations', adapter })
await createJoinTable(db, invited)
const dave = await invited.of(kfc).create({ name: 'dave' }, { throughDefaults: { inviter_id: alice.id } })
const [row] = await invited.of(kfc).throughRows(dave)
console.log(`   dave collects kfc, invited by account ${String(row?.inviter_id)} (alice is ${String(alice.id)})`)

console.log('5. Self relations')
const followers = manyToMany(Account, 'self', { name: 'followers', adapter })
await createJoinTable(db, followers)
await followers.of(alice).add(bob)
console.log(`   symmetrical (the default): alice.followers = ${names(await followers.of(alice).all())}; bob.followers = ${names(await followers.of(bob).all())}`)
try {
  manyToMany(Account, 'self', { name: 'followers', relatedName: 'followees' })
} catch (error) {
  if (!isThroughlineError(error, 'M2M_INVALID_DEFINITION')) throw error
  console.log(`   related_name on a symmetrical relation -> ${error.code}`)
}
const follows = manyToMany(Account, 'self', { name: 'follows', symmetrical: false, relatedName: 'followees', adapter })
await createJoinTable(db, follows)
await follows.of(alice).add(bob)
console.log(`   symmetrical=False: alice.follows = ${names(await follows.of(alice).all())}; bob.follows = ${names(await follows.of(bob).all())}`)
console.log(`   the reverse side: bob.followees = ${names(await follows.reverse.of(bob).all())}`)

await db.destroy()
