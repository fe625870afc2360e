import { describe, expectTypeOf, it } from 'vitest'
import { defineModel, manyToMany, MemoryAdapter, type AutoThroughRow, type Branded, type Key } from '../../src/index.js'

interface UserRow {
  id: number
  name: string
}
interface InterviewRow {
  id: number
  title: string
}
interface TagRow {
  slug: string
}
interface PersonRow {
  id: bigint
}

const adapter = new MemoryAdapter()

describe('types: rows of an auto join table', () => {
  it('names the key columns from literal model names', async () => {
    const User = defineModel<Branded<UserRow, 'User'>>('User', { table: 'users' })
    const Interview = defineModel<InterviewRow, 'id', 'Interview'>('Interview', { table: 'interviews' })
    const favorites = manyToMany(User, Interview, { name: 'favorites', adapter })
    const rows = await favorites.of(1).throughRows()
    expectTypeOf(rows).toEqualTypeOf<{ id: number; user_id: number; interview_id: number }[]>()
    const [row] = rows
    if (row === undefined) return
    expectTypeOf(row.user_id).toEqualTypeOf<number>()
    // @ts-expect-error no such column
    expectTypeOf(row.nonexistent)
    // @ts-expect-error the reverse side has the same table and columns
    expectTypeOf((await favorites.reverse.of(1).throughRows())[0]?.nonexistent)
    expectTypeOf(await favorites.reverse.of(1).throughRows()).toEqualTypeOf<{ id: number; user_id: number; interview_id: number }[]>()
  })

  it('types the key columns by each model key type', () => {
    const Tag = defineModel<TagRow, 'slug', 'Tag'>('Tag', { primaryKey: 'slug', keyType: 'string' })
    const Post = defineModel('BlogPost')
    expectTypeOf(Post.name).toEqualTypeOf<'BlogPost'>()
    expectTypeOf(manyToMany(Post, Tag, { name: 'tags', adapter }).of(1).throughRows()).resolves.toEqualTypeOf<
      { id: number; blogpost_id: number; tag_id: string }[]
    >()
    expectTypeOf<AutoThroughRow<typeof Post, typeof Tag>>().toEqualTypeOf<{ id: number; blogpost_id: number; tag_id: string }>()
  })

  it('names the columns of a self relation from_ and to_', async () => {
    const Person = defineModel<Branded<PersonRow, 'Person'>>('Person', { keyType: 'bigint' })
    const friends = manyToMany(Person, 'self', { name: 'friends', adapter })
    expectTypeOf(await friends.of(1n).throughRows()).toEqualTypeOf<{ id: number; from_person_id: bigint; to_person_id: bigint }[]>()
    expectTypeOf(await friends.of(1n).all()).toEqualTypeOf<Branded<PersonRow, 'Person'>[]>()
    // @ts-expect-error <model>_id is the column of a relation between two models
    expectTypeOf((await friends.of(1n).throughRows())[0]?.person_id)
  })

  it('falls back to a record of key types when a name is not a literal', async () => {
    const User = defineModel<UserRow>('User', { table: 'users' })
    const Tag = defineModel<TagRow, 'slug'>('Tag', { primaryKey: 'slug', keyType: 'string' })
    const tags = manyToMany(User, Tag, { name: 'tags', adapter })
    const [row] = await tags.of(1).throughRows()
    if (row === undefined) return
    expectTypeOf(row.id).toEqualTypeOf<number>()
    expectTypeOf(row.user_id).toEqualTypeOf<string | number | undefined>()
    expectTypeOf<AutoThroughRow>().toEqualTypeOf<{ id: number; [column: string]: Key }>()
  })

  it('types throughDefaults by the columns', async () => {
    const User = defineModel<UserRow>('User')
    // @ts-expect-error throughDefaults of an auto table take key values only
    await manyToMany(User, User, { name: 'x', adapter }).of(1).add(2, { throughDefaults: { note: 'x' } })
  })
})
