/**
 * Seed 004: the related manager's methods on a many-to-many relation (Pizza.toppings), with
 * through_defaults and the m2m_changed events that add(), remove(), clear() and set() send.
 *
 *   class Topping(models.Model): ...
 *   class Pizza(models.Model):
 *       toppings = models.ManyToManyField(Topping, through="PizzaTopping")
 *
 * Run: npm run examples -- related-manager
 */
import { defineModel, defineThrough, manyToMany, type M2MChangedEvent } from '../src/index.js'
import { createJoinTable, KnexAdapter } from '../src/adapters/knex/index.js'
import { openSqlite } from './_sqlite.js'

interface Topping {
  id: number
  name: string
}
interface Pizza {
  id: number
  name: string
}
interface PizzaTopping {
  id: number
  pizza_id: number
  topping_id: number
  portion: string
}

const db = openSqlite()
await db.schema.createTable('topping', (table) => {
  table.increments('id')
  table.string('name').notNullable()
})
await db.schema.createTable('pizza', (table) => {
  table.increments('id')
  table.string('name').notNullable()
})

const Topping = defineModel<Topping>('Topping', { table: 'topping', columns: ['id', 'name'], ordering: ['name'] })
const Pizza = defineModel<Pizza>('Pizza', { table: 'pizza', columns: ['id', 'name'] })
const PizzaTopping = defineThrough<PizzaTopping>('PizzaTopping', {
  table: 'pizza_topping',
  primaryKey: 'id',
  foreignKeys: { pizza_id: Pizza, topping_id: Topping },
  columns: { portion: { default: 'normal' } },
})
const toppings = manyToMany(Pizza, Topping, { name: 'toppings', through: PizzaTopping, adapter: new KnexAdapter(db) })
await createJoinTable(db, toppings)

// m2m_changed: every add/remove/clear reports what it changes, inside its transaction.
const describe = (event: M2MChangedEvent<typeof Pizza, typeof Topping>): string =>
  `${event.action}${event.reverse ? ' (reverse)' : ''} pk_set=${event.pkSet === null ? 'None' : `{${[...event.pkSet].join(', ')}}`}`
const stop = toppings.on('m2m_changed', (event) => {
  console.log(`      m2m_changed: ${describe(event)}`)
})

const [cheese, ham, olive, basil] = await db<Topping>('topping')
  .insert([{ name: 'cheese' }, { name: 'ham' }, { name: 'olive' }, { name: 'basil' }])
  .returning('*')
const [margherita] = await db<Pizza>('pizza').insert({ name: 'margherita' }).returning('*')
if (cheese === undefined || ham === undefined || olive === undefined || basil === undefined || margherita === undefined) {
  throw new Error('seeding failed')
}
const pizza = toppings.of(margherita)
const list = async (): Promise<string> => {
  const rows = await pizza.throughRows()
  const names = new Map((await pizza.all()).map((topping) => [topping.id, topping.name]))
  return rows.map((row) => `${names.get(row.topping_id) ?? '?'} (${row.portion})`).join(', ') || '(none)'
}

console.log('1. add(*objs, through_defaults=None)')
console.log('   pizza.toppings.add(cheese)')
await pizza.add(cheese)
console.log(`   pizza.toppings.add(${String(ham.id)})  # a raw primary key works too, and so does "${String(ham.id)}"`)
await pizza.add(ham.id, { throughDefaults: { portion: 'extra' } })
console.log('   pizza.toppings.add(cheese) again: no duplicate, but the events still fire (with an empty set)')
await pizza.add([cheese, String(cheese.id)])
console.log(`   -> ${await list()}`)

console.log('2. create(through_defaults=None, **kwargs)')
await pizza.create({ name: 'mushroom' }, { throughDefaults: { portion: () => 'light' } })
console.log(`   -> ${await list()}`)

console.log('3. remove(*objs)')
await pizza.remove([ham, 999])
console.log(`   -> ${await list()}`)

console.log('4. clear()')
await pizza.clear()
console.log(`   -> ${await list()}`)

console.log('5. set(objs, clear=False, through_defaults=None)')
await pizza.set([cheese, olive], { throughDefaults: { portion: 'light' } })
console.log(`   set([cheese, olive])                 -> ${await list()}`)
await pizza.set([cheese, basil], { throughDefaults: { portion: 'extra' } })
console.log(`   set([cheese, basil])                 -> ${await list()}  (cheese keeps its row)`)
await pizza.set([cheese, basil], { clear: true, throughDefaults: { portion: 'extra' } })
console.log(`   set([cheese, basil], clear=True)     -> ${await list()}  (every row written again)`)

console.log('6. From the other side: topping.pizza_set')
console.log(`   basil.pizza_set.all(): ${(await toppings.reverse.of(basil).all()).map((row) => row.name).join(', ')}`)
await toppings.reverse.of(basil).remove(margherita)

stop()
await db.destroy()
