import { describe, expectTypeOf, it } from 'vitest'
import { defineModel, defineThrough, manyToMany, MemoryAdapter, type RelatedQuery, type RowOf } from '../../src/index.js'

interface UserRow {
  id: number
  username: string
}
interface InterviewRow {
  id: string
  title: string
}
interface FavoriteRow {
  id: number
  user_id: number
  interview_id: string
  created_at: string
}

const User = defineModel<UserRow, 'id', 'User'>('User', { table: 'users' })
const Interview = defineModel<InterviewRow, 'id', 'Interview'>('Interview', { table: 'interviews', keyType: 'string' })
const Favorite = defineThrough<FavoriteRow>('FavoriteInterview', { table: 'favorites', foreignKeys: { user_id: User, interview_id: Interview } })
const favoritedBy = manyToMany(Interview, User, { name: 'favorited_by', through: Favorite, adapter: new MemoryAdapter() })

describe('types: the list page', () => {
  it('countsOf: a Map keyed by the source key type, conditions typed by the related and through rows', async () => {
    expectTypeOf(await favoritedBy.countsOf([{ id: 'a', title: 'A' }, 'b'])).toEqualTypeOf<Map<string, number>>()
    expectTypeOf(await favoritedBy.reverse.countsOf([1, { id: 2, username: 'ann' }])).toEqualTypeOf<Map<number, number>>()
    await favoritedBy.countsOf(['a'], { where: { username__startswith: 'a' }, through: { created_at__gte: '2026' }, distinct: true })
    // @ts-expect-error not a column of User
    await favoritedBy.countsOf(['a'], { where: { title: 'A' } })
    // @ts-expect-error not a column of the through table
    await favoritedBy.countsOf(['a'], { through: { liked_at: '2026' } })
    // @ts-expect-error an Interview is no User
    await favoritedBy.reverse.countsOf([{ id: 'a', title: 'A' }])
  })

  it('orders by through columns, a wrong one does not compile, and types the through rows', async () => {
    const fans = favoritedBy.of('a')
    await fans.orderBy('-through__created_at', 'username').all()
    await fans.filter({ username: 'ann' }).orderBy('through__created_at').limit(3).all()
    // @ts-expect-error not a column of the through table
    fans.orderBy('-through__liked_at')
    // @ts-expect-error a target column is not a through column
    fans.orderBy('through__username')
    // @ts-expect-error the through prefix, not the through model's name
    fans.orderBy('-favoriteinterview__created_at')
    expectTypeOf(await fans.orderBy('-through__created_at').allWithThrough()).toEqualTypeOf<{ row: RowOf<typeof User>; through: FavoriteRow }[]>()
    expectTypeOf(await favoritedBy.reverse.of(1).allWithThrough()).toEqualTypeOf<{ row: RowOf<typeof Interview>; through: FavoriteRow }[]>()
    // An auto join table: its row type's columns.
    const auto = manyToMany(User, Interview, { name: 'watched', adapter: new MemoryAdapter() })
    await auto.of(1).orderBy('-through__id').all()
  })

  it('prefetch: orders by through columns and takes a limit per instance', async () => {
    const latest = await favoritedBy.prefetch(['a', 'b'], { orderBy: ['-through__created_at', 'username'], limit: 3, where: { username__startswith: 'a' } })
    expectTypeOf(latest.rows('a')).toEqualTypeOf<RowOf<typeof User>[]>()
    // @ts-expect-error not a column of the through table
    await favoritedBy.prefetch(['a'], { orderBy: ['-through__liked_at'] })
    // @ts-expect-error a limit is a number
    await favoritedBy.prefetch(['a'], { limit: '3' })
  })

  it('a RelatedQuery without the through type still takes a manager\'s query', () => {
    const query: RelatedQuery<typeof User> = favoritedBy.of('a').query()
    // @ts-expect-error without the through row type, no through column is known
    query.orderBy('-through__created_at')
    expectTypeOf(query.orderBy('-username')).toEqualTypeOf<RelatedQuery<typeof User>>()
  })
})
