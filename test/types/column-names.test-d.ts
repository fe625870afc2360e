import { describe, expectTypeOf, it } from 'vitest'
import { defineModel, defineThrough, manyToMany, MemoryAdapter, type RowOf } from '../../src/index.js'

interface UserRow {
  userId: number
  displayName: string
}
interface PostRow {
  id: number
  title: string
}
interface LikeRow {
  userId: number
  postId: number
  likedAt: string
}

const User = defineModel<UserRow, 'userId', 'User'>('User', { primaryKey: 'userId', columnNames: { userId: 'user_id', displayName: 'display_name' } })
const Post = defineModel<PostRow, 'id', 'Post'>('Post', {})
const Like = defineThrough<LikeRow>('Like', {
  table: 'likes',
  foreignKeys: { userId: User, postId: Post },
  columnNames: { userId: 'user_id', postId: 'post_id', likedAt: 'liked_at' },
})
const likes = manyToMany(User, Post, { name: 'likes', through: Like, adapter: new MemoryAdapter() })

describe('types: columnNames', () => {
  it('keys the mapping by properties', () => {
    // @ts-expect-error not a property of the row
    defineModel<UserRow, 'userId'>('User', { primaryKey: 'userId', columnNames: { user_id: 'user_id' } })
    // @ts-expect-error a column name is a string
    defineModel<UserRow, 'userId'>('User', { primaryKey: 'userId', columnNames: { displayName: 1 } })
    // @ts-expect-error not a property of the through row
    defineThrough<LikeRow>('Like', { table: 'likes', foreignKeys: { userId: User, postId: Post }, columnNames: { liked_at: 'liked_at' } })
    expectTypeOf(User.columnNames).toEqualTypeOf<Readonly<Record<string, string>>>()
  })

  it('types rows, filters and through values by properties', async () => {
    expectTypeOf(await likes.reverse.of(1).all()).toEqualTypeOf<RowOf<typeof User>[]>()
    expectTypeOf(await likes.of(1).throughRows()).toEqualTypeOf<LikeRow[]>()
    likes.reverse.of(1).filter({ displayName__startswith: 'a' })
    // @ts-expect-error the database column is not a property
    likes.reverse.of(1).filter({ display_name: 'a' })
    await likes.of(1).add(2, { throughDefaults: { likedAt: 'now' } })
    // @ts-expect-error the database column is not a property
    await likes.of(1).add(2, { throughDefaults: { liked_at: 'now' } })
  })
})
