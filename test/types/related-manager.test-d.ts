import { describe, expectTypeOf, it } from 'vitest'
import {
  defineModel,
  defineThrough,
  manyToMany,
  MemoryAdapter,
  type KeyOf,
  type M2MChangedEvent,
  type RowOf,
  type Where,
} from '../../src/index.js'

interface Account {
  id: number
  name: string
}
interface Shop {
  id: number
  name: string
  opened: Date | null
}
interface ShopCollector {
  id: number
  shop_id: number
  account_id: number
  inviter_id: number | null
  collect_at: Date
}
interface Tag {
  slug: string
  label: string
}

const adapter = new MemoryAdapter()
const Account = defineModel<Account>('Account', { table: 'accounts' })
const Shop = defineModel<Shop>('Shop', { table: 'shops' })
const Tag = defineModel<Tag, 'slug'>('Tag', { table: 'tags', primaryKey: 'slug', keyType: 'string' })
const ShopCollectorThrough = defineThrough<ShopCollector>('ShopCollector', {
  table: 'shop_collector',
  primaryKey: 'id',
  foreignKeys: { shop_id: Shop, account_id: Account, inviter_id: Account },
  columns: { collect_at: { default: () => new Date() } },
})
const collectors = manyToMany(Shop, Account, {
  name: 'collectors',
  through: ShopCollectorThrough,
  throughFields: ['shop_id', 'account_id'],
  adapter,
})
const shopTags = manyToMany(Shop, Tag, { name: 'tags', adapter })

describe('types: models', () => {
  it('carries the row and key types', () => {
    expectTypeOf<RowOf<typeof Shop>>().toEqualTypeOf<Shop>()
    expectTypeOf<KeyOf<typeof Shop>>().toEqualTypeOf<number>()
    expectTypeOf<KeyOf<typeof Tag>>().toEqualTypeOf<string>()
  })

  it('requires keyType when the key is not a number', () => {
    // @ts-expect-error keyType is required for a string key
    defineModel<Tag, 'slug'>('Tag', { table: 'tags', primaryKey: 'slug' })
    // @ts-expect-error a string key cannot be an integer key
    defineModel<Tag, 'slug'>('Tag', { table: 'tags', primaryKey: 'slug', keyType: 'integer' })
  })
})

describe('types: the manager', () => {
  it('returns target rows and keys', async () => {
    const manager = collectors.of({ id: 1, name: 'kfc', opened: null })
    expectTypeOf(await manager.all()).toEqualTypeOf<Account[]>()
    expectTypeOf(await manager.ids()).toEqualTypeOf<number[]>()
    expectTypeOf(await manager.toggle(3)).toEqualTypeOf<boolean>()
    expectTypeOf(await manager.create({ name: 'bob' })).toEqualTypeOf<Account>()
    expectTypeOf(await manager.getOrCreate({ name: 'bob' })).toEqualTypeOf<[Account, boolean]>()
    expectTypeOf(await shopTags.of(1).all()).toEqualTypeOf<Tag[]>()
    expectTypeOf(await collectors.reverse.of(1).all()).toEqualTypeOf<Shop[]>()
  })

  it('types the through rows and throughDefaults', async () => {
    const manager = collectors.of(1)
    expectTypeOf(await manager.throughRows()).toEqualTypeOf<ShopCollector[]>()
    await manager.add(2, { throughDefaults: { inviter_id: 1, collect_at: () => new Date() } })
    // @ts-expect-error collect_at is a Date
    await manager.add(2, { throughDefaults: { collect_at: 'yesterday' } })
    // @ts-expect-error no such through column
    await manager.add(2, { throughDefaults: { colour: 'red' } })
  })

  it('takes rows, keys and numeric strings as targets', async () => {
    const manager = collectors.of(1)
    await manager.add([{ id: 2, name: 'alice' }, 3, '4'])
    // @ts-expect-error an object carrying only the key is not a target (wrong-model.test-d.ts): pass the key
    await manager.add({ id: 'x' })
    // @ts-expect-error string keys are not numbers
    await shopTags.of(1).add(5)
  })
})

describe('types: filter()', () => {
  it('types lookups by column', () => {
    expectTypeOf<{ name__startswith: string }>().toExtend<Where<typeof Account>>()
    expectTypeOf<{ id__in: number[] }>().toExtend<Where<typeof Account>>()
    expectTypeOf<{ opened__isnull: boolean }>().toExtend<Where<typeof Shop>>()
    expectTypeOf<{ pk: number }>().toExtend<Where<typeof Shop>>()
    expectTypeOf<{ name: null }>().toExtend<Where<typeof Shop>>()
  })

  it('rejects lookups that do not fit the column', () => {
    expectTypeOf<{ id__startswith: string }>().not.toExtend<Where<typeof Account>>()
    expectTypeOf<{ name__in: number[] }>().not.toExtend<Where<typeof Account>>()
    expectTypeOf<{ name__gt: number }>().not.toExtend<Where<typeof Account>>()
  })

  it('types filter() on the manager', () => {
    const manager = collectors.of(1)
    manager.filter({ name__contains: 'a', id__gte: 2 })
    // @ts-expect-error unknown column
    manager.filter({ colour: 'red' })
    // @ts-expect-error unknown lookup
    manager.filter({ name__like: 'a%' })
  })

  it('types exclude() on the manager and its queries, as filter()', async () => {
    const manager = collectors.of(1)
    expectTypeOf(await manager.exclude({ name__in: ['a', 'b'] }).all()).toEqualTypeOf<Account[]>()
    expectTypeOf(await manager.filter({ id__gte: 2 }).exclude({ pk: 3 }).exclude({ name: null }).ids()).toEqualTypeOf<number[]>()
    // @ts-expect-error unknown column
    manager.exclude({ colour: 'red' })
    // @ts-expect-error a name is a string
    manager.query().exclude({ name__gt: 3 })
  })
})

describe('types: events', () => {
  it('types the payload by side', () => {
    collectors.on('m2m_changed', (event) => {
      expectTypeOf(event).toEqualTypeOf<M2MChangedEvent<typeof Shop, typeof Account>>()
      if (event.action === 'post_add' && !event.reverse) {
        expectTypeOf(event.instance).toEqualTypeOf<Shop | number>()
        expectTypeOf(event.pkSet).toEqualTypeOf<ReadonlySet<number>>()
      }
    })
  })

  it('types the payload by event name', () => {
    collectors.on('post_add', (event) => {
      expectTypeOf(event.action).toEqualTypeOf<'post_add'>()
      expectTypeOf(event.pkSet).toEqualTypeOf<ReadonlySet<number>>()
    })
    collectors.on('pre_clear', (event) => {
      expectTypeOf(event.pkSet).toEqualTypeOf<null>()
    })
  })
})

describe('types: queries across the relation', () => {
  it('returns rows of the source side, typed', async () => {
    expectTypeOf(await collectors.filter({ name__startswith: 'a' }).all()).toEqualTypeOf<Shop[]>()
    expectTypeOf(await collectors.reverse.filter({ name: 'kfc' }).distinct().all()).toEqualTypeOf<Account[]>()
    expectTypeOf(await collectors.exclude({ pk: 1 }).ids()).toEqualTypeOf<number[]>()
    expectTypeOf(await collectors.exclude({ pk: 1, name: 'x' }, { sameLink: true }).ids()).toEqualTypeOf<number[]>()
    // Django's filter(members=None): the rows with no link.
    expectTypeOf(await collectors.filter({ pk: null }).all()).toEqualTypeOf<Shop[]>()
    expectTypeOf(await collectors.filter({ pk__in: [{ id: 1, name: 'alice' }, 2] }).count()).toEqualTypeOf<number>()
  })

  it('types conditions on the through columns', () => {
    collectors.filter({}, { through: { inviter_id: 3, collect_at__gt: new Date() } })
    // @ts-expect-error collect_at is a Date
    collectors.filter({}, { through: { collect_at__startswith: 'x' } })
    // @ts-expect-error no such through column
    collectors.filter({}, { through: { colour: 'red' } })
  })

  it('types prefetched rows and managers', async () => {
    const prefetched = await collectors.prefetch([{ id: 1, name: 'kfc', opened: null }, 2])
    expectTypeOf(prefetched.rows(1)).toEqualTypeOf<Account[]>()
    expectTypeOf(await prefetched.of(2).all()).toEqualTypeOf<Account[]>()
    for await (const account of collectors.of(1).stream()) expectTypeOf(account).toEqualTypeOf<Account>()
  })
})
