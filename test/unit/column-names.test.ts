import { describe, expect, it } from 'vitest'
import { DefinitionError, defineModel, defineThrough, describeJoinTable, manyToMany, MemoryAdapter } from '../../src/index.js'
import { ColumnNames, columnNamesOf } from '../../src/model/column-names.js'

interface UserRow {
  userId: number
  displayName: string
  email: string
}

interface PostRow {
  id: number
  title: string
}

interface LikeRow {
  id: number
  userId: number
  postId: number
  likedAt: string
}

const User = defineModel<UserRow, 'userId', 'User'>('User', {
  table: 'users',
  primaryKey: 'userId',
  columns: ['userId', 'displayName', 'email'],
  columnNames: { userId: 'user_id', displayName: 'display_name' },
})
const Post = defineModel<PostRow>('Post', { table: 'posts' })

describe('defineModel({ columnNames })', () => {
  it('keeps properties for the user and gives adapters the columns', () => {
    expect(User.primaryKey).toBe('userId')
    expect(User.columns).toEqual(['userId', 'displayName', 'email'])
    expect(User.columnNames).toEqual({ userId: 'user_id', displayName: 'display_name' })
    expect(User.spec).toEqual({ model: 'User', table: 'users', primaryKey: 'user_id', keyType: 'integer', columns: ['user_id', 'display_name', 'email'] })
  })

  it('renames nothing, and copies no row, without a mapping', () => {
    expect(Post.columnNames).toEqual({})
    expect(columnNamesOf(Post)).toBe(ColumnNames.identity)
    const row = { id: 1, title: 'x' }
    expect(columnNamesOf(Post).fromStorage(row)).toBe(row)
    expect(columnNamesOf(Post).toStorage(row)).toBe(row)
    // A property mapped to its own name is no mapping.
    expect(columnNamesOf(defineModel<PostRow>('Post', { columnNames: { title: 'title' } }))).toBe(ColumnNames.identity)
  })

  it('renames rows both ways', () => {
    const names = columnNamesOf(User)
    expect(names.fromStorage({ user_id: 1, display_name: 'ann', email: 'a@x' })).toEqual({ userId: 1, displayName: 'ann', email: 'a@x' })
    expect(names.toStorage({ userId: 1, displayName: 'ann', email: 'a@x' })).toEqual({ user_id: 1, display_name: 'ann', email: 'a@x' })
    expect(names.conditions([{ column: 'displayName', op: 'startswith', value: 'a' }])).toEqual([{ column: 'display_name', op: 'startswith', value: 'a' }])
    expect(names.order([{ column: 'userId', direction: 'desc' }])).toEqual([{ column: 'user_id', direction: 'desc' }])
  })

  it('allows two properties to swap columns', () => {
    const Swap = defineModel<{ id: number; a: string; b: string }>('Swap', { columns: ['id', 'a', 'b'], columnNames: { a: 'b', b: 'a' } })
    expect(columnNamesOf(Swap).fromStorage({ id: 1, a: 'held by b', b: 'held by a' })).toEqual({ id: 1, a: 'held by a', b: 'held by b' })
  })

  it('refuses a column name that is not an identifier', () => {
    expect(() => defineModel<PostRow>('Post', { columnNames: { title: 'post title' } })).toThrow(DefinitionError)
    expect(() => defineModel<PostRow>('Post', { columnNames: { title: 'post title' } })).toThrow(
      'Post: the database column of "title" must be a plain identifier (letters, digits and underscores); got "post title".',
    )
    expect(() => defineModel<PostRow>('Post', { columnNames: { title: '' } })).toThrow(/must be a plain identifier/)
    expect(() => defineModel<PostRow>('Post', { columnNames: { title: 3 as unknown as string } })).toThrow(/must be a plain identifier/)
  })

  it('refuses two properties on one column', () => {
    expect(() => defineModel<UserRow, 'userId'>('User', { primaryKey: 'userId', columnNames: { displayName: 'name', email: 'name' } })).toThrow(
      'User: "displayName" and "email" are both mapped to the column "name"; a column holds one property.',
    )
    // A renamed property cannot take the column of a declared property that keeps its name.
    expect(() =>
      defineModel<UserRow, 'userId'>('User', { primaryKey: 'userId', columns: ['userId', 'displayName', 'email'], columnNames: { displayName: 'email' } }),
    ).toThrow(/"displayName" is mapped to the column "email", which is also the column of the property "email"/)
    // Nor the primary key's.
    expect(() => defineModel<PostRow>('Post', { columnNames: { title: 'id' } })).toThrow(/also the column of the property "id"/)
  })

  it('refuses a property that the model does not declare', () => {
    expect(() => defineModel<UserRow, 'userId'>('User', { primaryKey: 'userId', columns: ['userId', 'email'], columnNames: { displayName: 'display_name' } })).toThrow(
      /columnNames names "displayName", which is not one of its columns \(userId, email\)/,
    )
    expect(() => defineModel<PostRow>('Post', { columnNames: ['title'] as never })).toThrow(/columnNames maps properties to database columns/)
  })
})

describe('defineThrough({ columnNames })', () => {
  const Like = defineThrough<LikeRow>('Like', {
    table: 'likes',
    primaryKey: 'id',
    foreignKeys: { userId: User, postId: Post },
    columns: { likedAt: { required: true } },
    columnNames: { userId: 'user_id', postId: 'post_id', likedAt: 'liked_at' },
  })
  const liked = manyToMany(User, Post, { name: 'liked', through: Like })

  it('keeps properties in the definition and columns in the join table description', () => {
    expect(Like.foreignKeys.map((fk) => fk.column)).toEqual(['userId', 'postId'])
    expect(Like.columnNames).toEqual({ userId: 'user_id', postId: 'post_id', likedAt: 'liked_at' })
    expect(liked.through).toMatchObject({ table: 'likes', primaryKey: 'id', sourceColumn: 'user_id', targetColumn: 'post_id' })
    expect([...liked.through.columns.keys()]).toEqual(['liked_at'])
    expect(liked.link).toMatchObject({ sourceColumn: 'user_id', targetColumn: 'post_id', columns: ['id', 'user_id', 'post_id', 'liked_at'] })
    expect(liked.reverse.link).toMatchObject({ sourceColumn: 'post_id', targetColumn: 'user_id' })
  })

  it('describes the join table with its columns, its foreign keys on the renamed key column', () => {
    const schema = describeJoinTable(liked, { liked_at: { kind: 'string' } })
    expect(schema.columns.map((column) => column.name)).toEqual(['id', 'user_id', 'post_id', 'liked_at'])
    expect(schema.columns[1]?.references).toEqual({ table: 'users', column: 'user_id' })
    expect(schema.unique).toEqual([['user_id', 'post_id']])
    const auto = describeJoinTable(manyToMany(User, Post, { name: 'saved' }))
    expect(auto.columns[1]).toMatchObject({ name: 'user_id', references: { table: 'users', column: 'user_id' } })
  })

  it('takes throughFields as properties', () => {
    const Follow = defineThrough<{ id: number; followerId: number; followedId: number }>('Follow', {
      table: 'follows',
      foreignKeys: { followerId: User, followedId: User },
      columnNames: { followerId: 'follower_id', followedId: 'followed_id' },
    })
    const follows = manyToMany(User, User, { name: 'follows', through: Follow, symmetrical: false, throughFields: ['followedId', 'followerId'] })
    expect(follows.through).toMatchObject({ sourceColumn: 'followed_id', targetColumn: 'follower_id' })
  })

  it('refuses two properties on one column, and a column that is not an identifier', () => {
    expect(() =>
      defineThrough<LikeRow>('Like', { table: 'likes', foreignKeys: { userId: User, postId: Post }, columnNames: { userId: 'owner', postId: 'owner' } }),
    ).toThrow(/"userId" and "postId" are both mapped to the column "owner"/)
    expect(() =>
      defineThrough<LikeRow>('Like', { table: 'likes', foreignKeys: { userId: User, postId: Post }, columnNames: { userId: 'user-id' } }),
    ).toThrow(/database column of "userId" must be a plain identifier/)
    expect(() =>
      defineThrough<LikeRow>('Like', { table: 'likes', foreignKeys: { userId: User, postId: Post }, columnNames: { userId: 'postId' } }),
    ).toThrow(/also the column of the property "postId"/)
  })
})

describe('rows keyed by database columns', () => {
  it('are refused as sources and targets, naming the property of the column', async () => {
    const saved = manyToMany(User, Post, { name: 'saved', adapter: new MemoryAdapter() })
    const raw = { user_id: 1, display_name: 'ann', email: null }
    const expected = { code: 'M2M_WRONG_MODEL', message: expect.stringContaining('"user_id" is the column of "userId"') }
    expect(() => saved.of(raw as never)).toThrow(expect.objectContaining(expected))
    await expect(saved.reverse.of(1).add(raw as never)).rejects.toMatchObject(expected)
    // A row keyed by properties is a row.
    expect(saved.of({ userId: 1, displayName: 'ann', email: 'a@x' }).sourceKey).toBe(1)
  })
})
