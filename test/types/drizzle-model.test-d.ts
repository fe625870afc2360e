import { pgTable, serial, uuid, varchar } from 'drizzle-orm/pg-core'
import { integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { describe, expectTypeOf, it } from 'vitest'
import { drizzleModel, drizzleThrough } from '../../src/adapters/drizzle/drizzle-model.js'
import { manyToMany, MemoryAdapter, type KeyOf, type RowOf } from '../../src/index.js'

// The tables, declared once in Drizzle: no row type or column name is written again.
const users = sqliteTable('users', { id: integer().primaryKey(), displayName: text('display_name').notNull() })
const interviews = sqliteTable('interviews', { id: integer('interview_id').primaryKey(), title: text().notNull(), publishedAt: text('published_at') })
const favorites = sqliteTable(
  'favorites',
  {
    userId: integer('user_id').notNull(),
    interviewId: integer('interview_id').notNull(),
    rating: integer().notNull(),
    note: text(),
  },
  (table) => [primaryKey({ columns: [table.userId, table.interviewId] })],
)

const User = drizzleModel('User', users)
const Interview = drizzleModel('Interview', interviews, { ordering: ['-publishedAt'] })
const Favorite = drizzleThrough('Favorite', favorites, { foreignKeys: { userId: User, interviewId: Interview } })
const liked = manyToMany(User, Interview, { name: 'favorites', through: Favorite, adapter: new MemoryAdapter() })

describe('types: models from Drizzle tables', () => {
  it('types rows as $inferSelect and keys from the key column', () => {
    expectTypeOf<RowOf<typeof User>>().toEqualTypeOf<typeof users.$inferSelect>()
    expectTypeOf<RowOf<typeof Interview>>().toEqualTypeOf<typeof interviews.$inferSelect>()
    expectTypeOf<KeyOf<typeof Interview>>().toEqualTypeOf<number>()
    expectTypeOf(User.primaryKey).toEqualTypeOf<'id'>()
    expectTypeOf(User.name).toEqualTypeOf<'User'>()
    const accounts = pgTable('accounts', { accountId: uuid('account_id').primaryKey(), handle: varchar({ length: 40 }) })
    const Account = drizzleModel('Account', accounts)
    expectTypeOf(Account.primaryKey).toEqualTypeOf<'accountId'>()
    expectTypeOf<KeyOf<typeof Account>>().toEqualTypeOf<string>()
    const Counter = drizzleModel('Counter', pgTable('counters', { id: serial().primaryKey() }))
    expectTypeOf(Counter.primaryKey).toEqualTypeOf<'id'>()
    expectTypeOf<KeyOf<typeof Counter>>().toEqualTypeOf<number>()
  })

  it('types the reads and the through rows', async () => {
    const rows = await liked.of(1).filter({ title__startswith: 'S' }).all()
    expectTypeOf(rows).toEqualTypeOf<(typeof interviews.$inferSelect)[]>()
    expectTypeOf(await liked.reverse.of(1).all()).toEqualTypeOf<(typeof users.$inferSelect)[]>()
    expectTypeOf(await liked.of(1).throughRows()).toEqualTypeOf<(typeof favorites.$inferSelect)[]>()
    expectTypeOf(await liked.of(1).create({ title: 'x', publishedAt: null })).toEqualTypeOf<typeof interviews.$inferSelect>()
  })

  it('refuses a wrong column in filter, orderBy, create and ordering', () => {
    // @ts-expect-error no such lookup
    liked.of(1).filter({ title__icontainz: 'x' })
    // @ts-expect-error no such property
    liked.of(1).filter({ nope: 1 })
    // @ts-expect-error the database column is not a property
    liked.of(1).filter({ published_at: null })
    // @ts-expect-error a string lookup on a number column
    liked.of(1).filter({ id__startswith: '1' })
    // @ts-expect-error a title is a string
    liked.of(1).filter({ title: 3 })
    // @ts-expect-error no such property to order by
    liked.of(1).orderBy('-nope')
    // @ts-expect-error no such property to create
    void liked.of(1).create({ headline: 'x' })
    // @ts-expect-error no such property to order by
    drizzleModel('Interview', interviews, { ordering: ['name'] })
    // @ts-expect-error no such column as primary key
    drizzleModel('User', users, { primaryKey: 'userId' })
    liked.filter({}, { through: { rating__gte: 3 } })
    // @ts-expect-error no such through column
    liked.filter({}, { through: { stars: 3 } })
  })

  it('refuses a wrong through value and a wrong foreign key', async () => {
    await liked.of(1).add(2, { throughDefaults: { rating: 5, note: null } })
    // @ts-expect-error a rating is a number
    await liked.of(1).add(2, { throughDefaults: { rating: 'five' } })
    // @ts-expect-error no such through column
    await liked.of(1).add(2, { throughDefaults: { stars: 5 } })
    // @ts-expect-error no such property in the join table
    drizzleThrough('Favorite', favorites, { foreignKeys: { userId: User, nope: Interview } })
    // @ts-expect-error the database column is not a property
    drizzleThrough('Favorite', favorites, { foreignKeys: { user_id: User, interviewId: Interview } })
    // @ts-expect-error a rating default is a number
    drizzleThrough('Favorite', favorites, { foreignKeys: { userId: User, interviewId: Interview }, columns: { rating: { default: 'five' } } })
    // @ts-expect-error foreignKeys are required
    drizzleThrough('Favorite', favorites, {})
  })
})
