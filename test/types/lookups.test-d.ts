import { describe, expectTypeOf, it } from 'vitest'
import { defineModel, defineThrough, manyToMany, MemoryAdapter, type LookupValue, type ThroughWhere, type Where } from '../../src/index.js'

interface Book {
  id: number
  title: string
  subtitle: string | null
  pages: number | null
  published: Date | null
}
interface Tag {
  slug: string
  label: string
}
interface Shelving {
  id: number
  shelf_id: number
  book_id: number
  note: string | null
  placed_at: Date
}
interface Shelf {
  id: number
  name: string
}

const Book = defineModel<Book>('Book', { table: 'books' })
const Tag = defineModel<Tag, 'slug'>('Tag', { table: 'tags', primaryKey: 'slug', keyType: 'string' })
const Shelf = defineModel<Shelf>('Shelf', { table: 'shelves' })
const Shelving = defineThrough<Shelving>('Shelving', { table: 'shelvings', primaryKey: 'id', foreignKeys: { shelf_id: Shelf, book_id: Book } })
const books = manyToMany(Shelf, Book, { name: 'books', through: Shelving, adapter: new MemoryAdapter() })
const tags = manyToMany(Book, Tag, { name: 'tags', adapter: new MemoryAdapter() })

describe('types: case-insensitive lookups', () => {
  it('takes a string on string columns, nullable or not', () => {
    expectTypeOf<{ title__iexact: string }>().toExtend<Where<typeof Book>>()
    expectTypeOf<{ title__istartswith: string }>().toExtend<Where<typeof Book>>()
    expectTypeOf<{ subtitle__iendswith: string }>().toExtend<Where<typeof Book>>()
    expectTypeOf<{ subtitle__icontains: string }>().toExtend<Where<typeof Book>>()
    expectTypeOf<{ label__icontains: string; slug__istartswith: string }>().toExtend<Where<typeof Tag>>()
  })

  it('takes null on iexact only, as Django does (isnull)', () => {
    expectTypeOf<{ subtitle__iexact: null }>().toExtend<Where<typeof Book>>()
    expectTypeOf<{ subtitle__icontains: null }>().not.toExtend<Where<typeof Book>>()
    expectTypeOf<LookupValue<string | null, 'iexact'>>().toEqualTypeOf<string | null>()
    expectTypeOf<LookupValue<string, 'istartswith'>>().toEqualTypeOf<string>()
  })

  it('has none on other columns, nor on pk', () => {
    expectTypeOf<{ pages__iexact: string }>().not.toExtend<Where<typeof Book>>()
    expectTypeOf<{ published__icontains: string }>().not.toExtend<Where<typeof Book>>()
    expectTypeOf<{ id__istartswith: string }>().not.toExtend<Where<typeof Book>>()
    expectTypeOf<{ pk__iexact: string }>().not.toExtend<Where<typeof Tag>>()
    expectTypeOf<{ title__icontains: number }>().not.toExtend<Where<typeof Book>>()
  })
})

describe('types: range', () => {
  it('takes a pair of the column type', () => {
    expectTypeOf<{ pages__range: [number, number] }>().toExtend<Where<typeof Book>>()
    expectTypeOf<{ title__range: readonly [string, string] }>().toExtend<Where<typeof Book>>()
    expectTypeOf<{ published__range: [Date, Date] }>().toExtend<Where<typeof Book>>()
    expectTypeOf<{ id__range: [number, number] }>().toExtend<Where<typeof Book>>()
    expectTypeOf<LookupValue<number | null, 'range'>>().toEqualTypeOf<readonly [number, number]>()
  })

  it('takes keys, their string forms or rows on pk', () => {
    expectTypeOf<{ pk__range: [number, string] }>().toExtend<Where<typeof Book>>()
    expectTypeOf<{ pk__range: [string, string] }>().toExtend<Where<typeof Tag>>()
  })

  it('refuses what is not a pair of the column type', () => {
    expectTypeOf<{ pages__range: number }>().not.toExtend<Where<typeof Book>>()
    expectTypeOf<{ pages__range: number[] }>().not.toExtend<Where<typeof Book>>()
    expectTypeOf<{ pages__range: [number] }>().not.toExtend<Where<typeof Book>>()
    expectTypeOf<{ pages__range: [number, number, number] }>().not.toExtend<Where<typeof Book>>()
    expectTypeOf<{ pages__range: [number, null] }>().not.toExtend<Where<typeof Book>>()
    expectTypeOf<{ pages__range: [string, string] }>().not.toExtend<Where<typeof Book>>()
    expectTypeOf<{ published__range: [number, number] }>().not.toExtend<Where<typeof Book>>()
  })
})

describe('types: the new lookups in calls', () => {
  it('types filter(), get(), across the relation and on the through table', () => {
    const manager = books.of(1)
    manager.filter({ title__iexact: 'dune', pages__range: [100, 300] })
    void manager.get({ subtitle__iexact: null })
    books.filter({ title__icontains: 'dune' }, { through: { note__istartswith: 'top', placed_at__range: [new Date(0), new Date()] } })
    expectTypeOf<{ note__iendswith: string }>().toExtend<ThroughWhere<Shelving>>()
    tags.of(1).filter({ pk__range: ['a', 'm'], label__iexact: 'sci-fi' })
    // @ts-expect-error a case-insensitive lookup of a number column
    manager.filter({ pages__icontains: '1' })
    // @ts-expect-error a range is a pair
    manager.filter({ pages__range: 3 })
    // @ts-expect-error still no like lookup
    manager.filter({ title__ilike: 'a%' })
  })
})
