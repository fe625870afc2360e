import Database from 'better-sqlite3'
import { getTableName, sql } from 'drizzle-orm'
import { bigint as mysqlBigint, int, mysqlTable, serial as mysqlSerial, text as mysqlText, varchar as mysqlVarchar } from 'drizzle-orm/mysql-core'
import { bigint, integer as pgInteger, pgSchema, pgTable, real as pgReal, serial, text as pgText, uuid, varchar } from 'drizzle-orm/pg-core'
import { integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import knex, { type Knex } from 'knex'
import { afterEach, describe, expect, it } from 'vitest'
import { BetterSqlite3Adapter } from '../../src/adapters/better-sqlite3/index.js'
import { drizzleModel, drizzleThrough } from '../../src/adapters/drizzle/drizzle-model.js'
import { KnexAdapter } from '../../src/adapters/knex/index.js'
import { DefinitionError, manyToMany, MemoryAdapter, type RelationAdapter } from '../../src/index.js'
import { disconnect, knexTargets } from '../helpers/knex-targets.js'

// The tables: users, interviews and favorites, declared once in Drizzle.
const users = sqliteTable('users', {
  id: integer().primaryKey(),
  displayName: text('display_name').notNull(),
  email: text(),
})
const interviews = sqliteTable('interviews', {
  id: integer('interview_id').primaryKey(),
  title: text().notNull(),
  publishedAt: text('published_at'),
})
const favorites = sqliteTable(
  'favorites',
  {
    userId: integer('user_id')
      .notNull()
      .references(() => users.id),
    interviewId: integer('interview_id')
      .notNull()
      .references(() => interviews.id),
    createdAt: text('created_at')
      .notNull()
      .$defaultFn(() => '2025-01-01T00:00:00.000Z'),
    rating: integer().notNull(),
    note: text('note_text'),
  },
  (table) => [primaryKey({ columns: [table.userId, table.interviewId] })],
)

const User = drizzleModel('User', users, { ordering: ['displayName'] })
const Interview = drizzleModel('Interview', interviews, { ordering: ['title'] })
const Favorite = drizzleThrough('Favorite', favorites, { foreignKeys: { userId: User, interviewId: Interview } })
const favoriteInterviews = manyToMany(User, Interview, { name: 'favorites', through: Favorite })

describe('drizzleModel() on SQLite tables', () => {
  it('reads the table, the key, its type, the columns and their names', () => {
    expect(User).toMatchObject({ name: 'User', table: 'users', primaryKey: 'id', keyType: 'integer', columns: ['id', 'displayName', 'email'] })
    expect(User.columnNames).toEqual({ displayName: 'display_name' })
    expect(User.spec).toEqual({ model: 'User', table: 'users', primaryKey: 'id', keyType: 'integer', columns: ['id', 'display_name', 'email'] })
    expect(Interview.columnNames).toEqual({ id: 'interview_id', publishedAt: 'published_at' })
    expect(Interview.spec.primaryKey).toBe('interview_id')
    expect(Interview.ordering).toEqual([{ column: 'title', direction: 'asc' }])
  })

  it('reads a join table as the through table: link columns by property, the others extra columns', () => {
    expect(Favorite).toMatchObject({ name: 'Favorite', table: 'favorites', primaryKey: undefined, unique: true })
    expect(Favorite.foreignKeys.map((fk) => [fk.column, fk.model.name])).toEqual([
      ['userId', 'User'],
      ['interviewId', 'Interview'],
    ])
    expect(Favorite.columnNames).toEqual({ userId: 'user_id', interviewId: 'interview_id', createdAt: 'created_at', note: 'note_text' })
    expect([...Favorite.columns.keys()]).toEqual(['createdAt', 'rating', 'note'])
    // notNull without a default: required; a $defaultFn is the default; nullable: optional.
    expect(Favorite.columns.get('rating')).toEqual({ required: true })
    expect(Favorite.columns.get('note')).toEqual({})
    const createdAt = Favorite.columns.get('createdAt')?.default
    expect(typeof createdAt === 'function' ? (createdAt as () => unknown)() : createdAt).toBe('2025-01-01T00:00:00.000Z')
    expect(favoriteInterviews.through).toMatchObject({ table: 'favorites', sourceColumn: 'user_id', targetColumn: 'interview_id', primaryKey: undefined })
    expect([...favoriteInterviews.through.columns.keys()]).toEqual(['created_at', 'rating', 'note_text'])
  })

  it('takes defaults and required from the options over the table', () => {
    const Rated = drizzleThrough('Rated', favorites, {
      foreignKeys: { userId: User, interviewId: Interview },
      columns: { rating: { default: 3 }, note: { required: true } },
      unique: false,
    })
    expect(Rated.columns.get('rating')).toEqual({ required: true, default: 3 })
    expect(Rated.columns.get('note')).toEqual({ required: true })
    expect(Rated.unique).toBe(false)
  })

  it('leaves out the columns the database computes', () => {
    const scored = sqliteTable('scored', {
      userId: integer('user_id').notNull(),
      interviewId: integer('interview_id').notNull(),
      points: integer().notNull(),
      doubled: integer().generatedAlwaysAs(sql`points * 2`),
    })
    const Scored = drizzleThrough('Scored', scored, { foreignKeys: { userId: User, interviewId: Interview } })
    expect([...Scored.columns.keys()]).toEqual(['points'])
    const tickets = pgTable('tickets', {
      id: pgInteger().primaryKey().generatedAlwaysAsIdentity(),
      seq: pgInteger().notNull().generatedByDefaultAsIdentity(),
      userId: pgInteger('user_id').notNull(),
      interviewId: pgInteger('interview_id').notNull(),
    })
    const Ticket = drizzleThrough('Ticket', tickets, { foreignKeys: { userId: User, interviewId: Interview } })
    expect(Ticket.primaryKey).toBe('id')
    expect(Ticket.columns.get('seq')).toEqual({})
  })

  it('renames columns named after their property by the database casing', () => {
    const posts = sqliteTable('posts', { id: integer().primaryKey(), authorId: integer(), postedAt: text('posted') })
    expect(drizzleModel('Post', posts).columnNames).toEqual({ postedAt: 'posted' })
    expect(drizzleModel('Post', posts, { casing: 'snake_case' }).columnNames).toEqual({ authorId: 'author_id', postedAt: 'posted' })
  })

  it('refuses a table without one key column, unless primaryKey names one', () => {
    expect(() => drizzleModel('Favorite', favorites)).toThrow(DefinitionError)
    expect(() => drizzleModel('Favorite', favorites)).toThrow(/the table "favorites" has a composite primary key; a model needs one key column/)
    const logs = sqliteTable('logs', { at: text(), line: text() })
    expect(() => drizzleModel('Log', logs)).toThrow(/the table "logs" has no primary key/)
    const Log = drizzleModel('Log', logs, { primaryKey: 'line' })
    expect(Log).toMatchObject({ primaryKey: 'line', keyType: 'string' })
    expect(() => drizzleModel('Log', logs, { primaryKey: 'nope' as 'line' })).toThrow(/primaryKey "nope" is not a column of the table "logs"/)
  })

  it('refuses column names that are not identifiers and two properties on one column', () => {
    const spaced = sqliteTable('spaced', { id: integer().primaryKey(), name: text('full name') })
    expect(() => drizzleModel('Spaced', spaced)).toThrow(/the database column of "name" must be a plain identifier/)
    const twice = sqliteTable('twice', { id: integer().primaryKey(), a: text('x'), b: text('x') })
    expect(() => drizzleModel('Twice', twice)).toThrow(/"a" and "b" are both mapped to the column "x"/)
  })

  it('refuses foreign keys and columns the join table does not have, and what is not a table', () => {
    expect(() => drizzleThrough('Favorite', favorites, { foreignKeys: { userId: User, nope: Interview } as never })).toThrow(
      /"nope" is not a column of the table "favorites"/,
    )
    expect(() => drizzleModel('User', { id: 1 } as never)).toThrow(/takes a Drizzle table/)
  })
})

describe('drizzleModel() on PostgreSQL and MySQL tables', () => {
  it('reads the key type of each key column', () => {
    const cases = [
      [pgTable('a', { id: serial().primaryKey() }), 'integer'],
      [pgTable('b', { id: pgInteger('b_id').primaryKey() }), 'integer'],
      [pgTable('c', { id: uuid().primaryKey() }), 'uuid'],
      [pgTable('d', { id: bigint({ mode: 'bigint' }).primaryKey() }), 'bigint'],
      [pgTable('e', { id: bigint({ mode: 'number' }).primaryKey() }), 'integer'],
      [pgTable('f', { id: varchar({ length: 20 }).primaryKey() }), 'string'],
      [pgTable('g', { id: pgText().primaryKey() }), 'string'],
      [mysqlTable('h', { id: mysqlSerial().primaryKey() }), 'integer'],
      [mysqlTable('i', { id: int().primaryKey() }), 'integer'],
      [mysqlTable('j', { id: mysqlBigint({ mode: 'bigint' }).primaryKey() }), 'bigint'],
      [mysqlTable('k', { id: mysqlVarchar({ length: 36 }).primaryKey() }), 'string'],
    ] as const
    for (const [table, keyType] of cases) expect(drizzleModel('M', table).keyType, getTableName(table)).toBe(keyType)
  })

  it('reads names, columns and column names from pg-core and mysql-core tables', () => {
    const accounts = pgTable('accounts', { accountId: uuid('account_id').primaryKey(), handle: varchar({ length: 40 }).notNull(), createdAt: pgText('created_at') })
    const Account = drizzleModel('Account', accounts)
    expect(Account).toMatchObject({ table: 'accounts', primaryKey: 'accountId', keyType: 'uuid', columns: ['accountId', 'handle', 'createdAt'] })
    expect(Account.columnNames).toEqual({ accountId: 'account_id', createdAt: 'created_at' })
    const shops = mysqlTable('shops', { shopId: mysqlSerial('shop_id').primaryKey(), label: mysqlVarchar({ length: 50 }) })
    const Shop = drizzleModel('Shop', shops)
    expect(Shop).toMatchObject({ table: 'shops', primaryKey: 'shopId', keyType: 'integer', columns: ['shopId', 'label'] })
    expect(Shop.spec).toMatchObject({ primaryKey: 'shop_id', columns: ['shop_id', 'label'] })
    const follows = pgTable('follows', { followerId: uuid('follower_id').notNull(), followedId: uuid('followed_id').notNull() })
    const Follow = drizzleThrough('Follow', follows, { foreignKeys: { followerId: Account, followedId: Account } })
    expect(manyToMany(Account, Account, { name: 'following', through: Follow, symmetrical: false }).through).toMatchObject({
      sourceColumn: 'follower_id',
      targetColumn: 'followed_id',
    })
  })

  it('refuses a key of another type, unless keyType is given, and a table in a named schema', () => {
    const scores = pgTable('scores', { value: pgReal().primaryKey() })
    expect(() => drizzleModel('Score', scores)).toThrow(/cannot tell the key type of "value" \(PgReal, number\)/)
    expect(drizzleModel('Score', scores, { keyType: 'integer' }).keyType).toBe('integer')
    const tenant = pgSchema('tenant').table('people', { id: serial().primaryKey() })
    expect(() => drizzleModel('Person', tenant)).toThrow(/"tenant.people" is in a named schema/)
  })
})

// The models on adapters, over tables created with plain SQL (the database's column names).
const DDL = [
  'CREATE TABLE users (id INTEGER PRIMARY KEY, display_name TEXT NOT NULL, email TEXT)',
  'CREATE TABLE interviews (interview_id INTEGER PRIMARY KEY, title TEXT NOT NULL, published_at TEXT)',
  `CREATE TABLE favorites (
     user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
     interview_id INTEGER NOT NULL REFERENCES interviews (interview_id) ON DELETE CASCADE,
     created_at TEXT NOT NULL, rating INTEGER NOT NULL, note_text TEXT,
     PRIMARY KEY (user_id, interview_id))`,
]

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

const adapters: readonly (readonly [string, () => RelationAdapter | Promise<RelationAdapter>])[] = [
  ['memory', () => new MemoryAdapter()],
  [
    'better-sqlite3',
    () => {
      const database = new Database(':memory:')
      database.pragma('foreign_keys = ON')
      for (const statement of DDL) database.exec(statement)
      cleanups.push(() => {
        database.close()
      })
      return new BetterSqlite3Adapter(database)
    },
  ],
  [
    'knex(sqlite)',
    async () => {
      const db: Knex = knex({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true, pool: { min: 1, max: 1 } })
      for (const statement of DDL) await db.raw(statement)
      cleanups.push(() => db.destroy())
      return new KnexAdapter(db)
    },
  ],
]

describe.each(adapters)('models from Drizzle tables on %s', (_name, connect) => {
  async function seed(adapter: RelationAdapter): Promise<{ ann: typeof users.$inferSelect; bob: typeof users.$inferSelect; a: number; b: number; c: number }> {
    const user = async (name: string): Promise<typeof users.$inferSelect> => {
      const row = await adapter.insertTarget({ target: User.spec, values: { display_name: name, email: null } })
      return { id: Number(row.id), displayName: name, email: null }
    }
    const interview = async (title: string, published: string | null): Promise<number> =>
      Number((await adapter.insertTarget({ target: Interview.spec, values: { title, published_at: published } })).interview_id)
    return { ann: await user('ann'), bob: await user('bob'), a: await interview('Alpha', '2024-01-01'), b: await interview('Beta', null), c: await interview('Gamma', '2023-06-01') }
  }

  it('adds, toggles, filters and orders, with rows typed and keyed as $inferSelect', async () => {
    const adapter = await connect()
    const { ann, bob, a, b, c } = await seed(adapter)
    const liked = favoriteInterviews.using(adapter)
    await liked.of(ann).add([a, b], { throughDefaults: { rating: 5 } })
    expect(await liked.of(ann).toggle(c, { throughDefaults: { rating: 2, note: 'later' } })).toBe(true)
    const rows: (typeof interviews.$inferSelect)[] = await liked.of(ann).all()
    expect(rows).toEqual([
      { id: a, title: 'Alpha', publishedAt: '2024-01-01' },
      { id: b, title: 'Beta', publishedAt: null },
      { id: c, title: 'Gamma', publishedAt: '2023-06-01' },
    ])
    expect(await liked.of(ann).filter({ publishedAt__isnull: false }).orderBy('-publishedAt').ids()).toEqual([a, c])
    expect(await liked.of(ann).filter({ title__startswith: 'G', id__in: [a, c] }).ids()).toEqual([c])
    expect(await liked.filter({}, { through: { rating__gte: 5 } }).distinct().all()).toEqual([ann])
    expect(await liked.reverse.of(c).all()).toEqual([ann])
    await liked.of(bob).add(c, { throughDefaults: { rating: 1 } })
    expect(await liked.reverse.of(c).orderBy('-displayName').all()).toEqual([bob, ann])
    const prefetched = await liked.prefetch([ann, bob], { where: { title__contains: 'mm' } })
    expect(prefetched.rows(ann)).toEqual([{ id: c, title: 'Gamma', publishedAt: '2023-06-01' }])
  })

  it('writes through values by property, reads through rows by property, and requires the NOT NULL ones', async () => {
    const adapter = await connect()
    const { ann, a, b } = await seed(adapter)
    const liked = favoriteInterviews.using(adapter)
    await expect(liked.of(ann).add(a)).rejects.toMatchObject({ code: 'M2M_MISSING_THROUGH_VALUE', message: expect.stringContaining('"rating"') })
    await liked.of(ann).add(a, { throughDefaults: { rating: 4, note: 'great' } })
    const through: (typeof favorites.$inferSelect)[] = await liked.of(ann).throughRows()
    expect(through).toEqual([{ userId: ann.id, interviewId: a, createdAt: '2025-01-01T00:00:00.000Z', rating: 4, note: 'great' }])
    const created = await liked.of(ann).create({ title: 'Delta', publishedAt: null }, { throughDefaults: { rating: 3 } })
    expect(created).toEqual({ id: created.id, title: 'Delta', publishedAt: null })
    expect(await liked.of(ann).filter({ title: 'Delta' }).all()).toEqual([created])
    await liked.of(ann).remove(a)
    expect(await liked.of(ann).ids()).toEqual([created.id])
    await liked.of(ann).set([b, created], { throughDefaults: { rating: 2 } })
    expect(await liked.of(ann).ids()).toEqual([b, created.id])
  })

  it('checks against the real tables by their column names', async () => {
    const adapter = await connect()
    if (adapter.describeTable === undefined || adapter instanceof MemoryAdapter) return
    const report = await favoriteInterviews.using(adapter).check()
    expect(report.warnings).toEqual([])
  })
})

// pg-core and mysql-core tables on their servers (PG_URL, MYSQL_URL), tables made with plain SQL:
// a uuid (PostgreSQL) or string (MySQL) key in a renamed column, a through table with its own
// key and a column the database defaults.
const pgAuthors = pgTable('dz_authors', { authorId: uuid('author_id').primaryKey(), penName: varchar('pen_name', { length: 40 }).notNull() })
const pgBooks = pgTable('dz_books', { id: serial().primaryKey(), bookTitle: pgText('book_title').notNull(), pages: pgInteger() })
const pgWrote = pgTable('dz_wrote', {
  id: serial().primaryKey(),
  authorId: uuid('author_id').notNull(),
  bookId: pgInteger('book_id').notNull(),
  role: varchar({ length: 20 }).notNull().default('author'),
})
const mysqlAuthors = mysqlTable('dz_authors', { authorId: mysqlVarchar('author_id', { length: 36 }).primaryKey(), penName: mysqlVarchar('pen_name', { length: 40 }).notNull() })
const mysqlBooks = mysqlTable('dz_books', { id: int().primaryKey().autoincrement(), bookTitle: mysqlText('book_title').notNull(), pages: int() })
const mysqlWrote = mysqlTable('dz_wrote', {
  id: int().primaryKey().autoincrement(),
  authorId: mysqlVarchar('author_id', { length: 36 }).notNull(),
  bookId: int('book_id').notNull(),
  role: mysqlVarchar({ length: 20 }).notNull().default('author'),
})

const PgAuthor = drizzleModel('Author', pgAuthors, { ordering: ['penName'] })
const PgBook = drizzleModel('Book', pgBooks, { ordering: ['bookTitle'] })
const pgWritten = manyToMany(PgAuthor, PgBook, { name: 'books', through: drizzleThrough('Wrote', pgWrote, { foreignKeys: { authorId: PgAuthor, bookId: PgBook } }) })
const MysqlAuthor = drizzleModel('Author', mysqlAuthors, { ordering: ['penName'] })
const MysqlBook = drizzleModel('Book', mysqlBooks, { ordering: ['bookTitle'] })
const mysqlWritten = manyToMany(MysqlAuthor, MysqlBook, {
  name: 'books',
  through: drizzleThrough('Wrote', mysqlWrote, { foreignKeys: { authorId: MysqlAuthor, bookId: MysqlBook } }),
})

const servers = [
  {
    target: 'postgres',
    Author: PgAuthor,
    wrote: pgWritten,
    keyType: 'uuid',
    ddl: [
      'CREATE TABLE dz_authors (author_id uuid PRIMARY KEY, pen_name varchar(40) NOT NULL)',
      'CREATE TABLE dz_books (id serial PRIMARY KEY, book_title text NOT NULL, pages integer)',
      `CREATE TABLE dz_wrote (id serial PRIMARY KEY,
         author_id uuid NOT NULL REFERENCES dz_authors (author_id) ON DELETE CASCADE,
         book_id integer NOT NULL REFERENCES dz_books (id) ON DELETE CASCADE,
         role varchar(20) NOT NULL DEFAULT 'author', UNIQUE (author_id, book_id))`,
    ],
  },
  {
    target: 'mysql',
    Author: MysqlAuthor,
    wrote: mysqlWritten,
    keyType: 'string',
    ddl: [
      'CREATE TABLE dz_authors (author_id varchar(36) PRIMARY KEY, pen_name varchar(40) NOT NULL)',
      'CREATE TABLE dz_books (id int AUTO_INCREMENT PRIMARY KEY, book_title text NOT NULL, pages int)',
      `CREATE TABLE dz_wrote (id int AUTO_INCREMENT PRIMARY KEY,
         author_id varchar(36) NOT NULL, book_id int NOT NULL, role varchar(20) NOT NULL DEFAULT 'author',
         UNIQUE (author_id, book_id),
         FOREIGN KEY (author_id) REFERENCES dz_authors (author_id) ON DELETE CASCADE,
         FOREIGN KEY (book_id) REFERENCES dz_books (id) ON DELETE CASCADE)`,
    ],
  },
] as const

for (const server of servers) {
  const target = knexTargets.find((candidate) => candidate.name === server.target)
  describe.skipIf(target?.enabled !== true)(`models from ${server.target === 'postgres' ? 'pg-core' : 'mysql-core'} tables on knex(${server.target})`, () => {
    it('links, filters, reads through rows and checks the tables, by properties', async () => {
      const db = target!.connect()
      cleanups.push(() => disconnect(db))
      for (const statement of server.ddl) await db.raw(statement)
      const adapter = new KnexAdapter(db)
      const { Author, wrote } = server
      expect(Author).toMatchObject({ primaryKey: 'authorId', keyType: server.keyType, columnNames: { authorId: 'author_id', penName: 'pen_name' } })
      const ada = '6f1c1d52-4b7e-4c1a-9a55-0d3c2f6e8b01'
      const bea = '0b6f8e2a-8d3e-4f0e-b1d5-6a7c9e2f4d10'
      await adapter.insertTarget({ target: Author.spec, values: { author_id: ada, pen_name: 'Ada' } })
      await adapter.insertTarget({ target: Author.spec, values: { author_id: bea, pen_name: 'Bea' } })
      const relation = wrote.using(adapter)
      const one = await relation.of(ada).create({ bookTitle: 'One', pages: 100 })
      const two = await relation.of(ada).create({ bookTitle: 'Two', pages: null })
      await relation.of(bea).add(two)
      expect(await relation.of(ada).all()).toEqual([
        { id: one.id, bookTitle: 'One', pages: 100 },
        { id: two.id, bookTitle: 'Two', pages: null },
      ])
      expect(await relation.of(ada).filter({ pages__isnull: true }).all()).toEqual([two])
      expect(await relation.reverse.of(two).orderBy('-penName').all()).toEqual([
        { authorId: bea, penName: 'Bea' },
        { authorId: ada, penName: 'Ada' },
      ])
      const through = await relation.of(bea).throughRows()
      expect(through.map((row) => ({ authorId: row.authorId, bookId: row.bookId, role: row.role }))).toEqual([{ authorId: bea, bookId: two.id, role: 'author' }])
      await relation.of(bea).add(one, { throughDefaults: { role: 'editor' } })
      expect(await relation.filter({}, { through: { role: 'editor' } }).all()).toEqual([{ authorId: bea, penName: 'Bea' }])
      expect((await relation.check()).mismatches).toEqual([])
    })
  })
}
