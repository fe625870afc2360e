/**
 * Favourite interviews on Drizzle (seed 000): the application's Drizzle schema gives the models
 * and the join table their names, columns and row types (`$inferSelect`, camelCase properties on
 * snake_case columns), nothing written twice; the favourite button toggles, the list page shows
 * each interview's fans and the current user's hearts, and calls group in one transaction.
 * SQLite in memory through drizzle-orm/better-sqlite3: no server needed.
 *
 * Run: npm run examples -- drizzle
 */
import Database from 'better-sqlite3'
import { sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { isThroughlineError, manyToMany } from '../src/index.js'
import { DrizzleAdapter, drizzleModel, drizzleThrough } from '../src/adapters/drizzle/index.js'

// The application's Drizzle schema (schema.ts), as drizzle-kit reads it.
const users = sqliteTable('users', {
  id: integer().primaryKey({ autoIncrement: true }),
  displayName: text('display_name').notNull(),
})
const interviews = sqliteTable('interviews', {
  id: integer().primaryKey({ autoIncrement: true }),
  title: text().notNull(),
  publishedOn: text('published_on').notNull(),
})
const favorites = sqliteTable(
  'favorite_interviews',
  {
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    interviewId: integer('interview_id')
      .notNull()
      .references(() => interviews.id, { onDelete: 'cascade' }),
    // When the heart was given: stored as epoch milliseconds, read back as a Date (Drizzle's
    // conversion, which throughline applies too), set by Drizzle's default function.
    createdAt: integer('created_at', { mode: 'timestamp_ms' })
      .notNull()
      .$defaultFn(() => new Date()),
    note: text(),
  },
  (table) => [primaryKey({ columns: [table.userId, table.interviewId] })],
)

const db = drizzle(new Database(':memory:'))

// What `drizzle-kit push` (or the migration it generates) would create.
db.run(sql`CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, display_name TEXT NOT NULL)`)
db.run(sql`CREATE TABLE interviews (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, published_on TEXT NOT NULL)`)
db.run(sql`CREATE TABLE favorite_interviews (
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  interview_id INTEGER NOT NULL REFERENCES interviews (id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  note TEXT,
  PRIMARY KEY (user_id, interview_id)
)`)

// Models and the through table from the Drizzle tables: table names, key columns, column names
// and row types are read from them. User rows are typeof users.$inferSelect.
const User = drizzleModel('User', users, { describe: (user) => user.displayName })
const Interview = drizzleModel('Interview', interviews, { ordering: ['-publishedOn'] })
const Favorite = drizzleThrough('Favorite', favorites, { foreignKeys: { userId: User, interviewId: Interview } })
const adapter = new DrizzleAdapter(db)
const liked = manyToMany(User, Interview, { name: 'favorite_interviews', relatedName: 'fans', through: Favorite, adapter })

// Does the join table fit the relation? Read from SQLite's catalog through the adapter.
const report = await liked.check()
console.log(`liked.check(): ${report.ok ? `ok (${String(report.warnings.length)} warnings)` : report.mismatches.map((issue) => issue.message).join('; ')}`)

// Rows are the application's business: plain Drizzle inserts.
const [alice, bob] = db.insert(users).values([{ displayName: 'alice' }, { displayName: 'bob' }]).returning().all()
const talks = db
  .insert(interviews)
  .values([
    { title: 'Django at scale', publishedOn: '2026-03-01' },
    { title: 'Drizzle in practice', publishedOn: '2026-06-15' },
    { title: 'SQLite everywhere', publishedOn: '2026-09-30' },
  ])
  .returning()
  .all()
if (alice === undefined || bob === undefined || talks.length !== 3) throw new Error('seeding failed')
const [django, drizzleTalk, sqlite] = talks as [(typeof talks)[number], (typeof talks)[number], (typeof talks)[number]]

console.log('1. The favourite button: POST /interviews/:id/favorite')
{
  const before = adapter.statementCount
  const hearted = await liked.of(bob).toggle(django.id)
  console.log(`   bob likes "${django.title}": ${String(hearted)} (${String(adapter.statementCount - before)} statements)`)
  console.log(`   toggle again -> liked: ${String(await liked.of(bob).toggle(django.id))}`)
  // Through values by property, typed from the Drizzle table: a wrong name or type does not compile.
  await liked.of(alice).add([django, sqlite], { throughDefaults: { note: 'to watch again' } })
  await liked.of(alice).add(django) // already a favourite: nothing happens, no second row
  await liked.of(bob).add(drizzleTalk.id)
  const rows = await liked.of(alice).throughRows()
  console.log(`   alice's hearts: ${rows.map((row) => `interview ${String(row.interviewId)} ("${row.note ?? ''}")`).join(', ')}`)
  // typeof favorites.$inferSelect at run time too: createdAt is a Date, not the stored number.
  console.log(`   createdAt is a Date: ${String(rows.every((row) => row.createdAt instanceof Date))}`)
  try {
    await liked.of(bob).toggle(999)
  } catch (error) {
    if (isThroughlineError(error)) console.log(`   toggle(999) -> ${error.code}: a 404 for the endpoint`)
    else throw error
  }
}

console.log("2. The list page: every interview, its fans, and bob's hearts, in 3 statements")
{
  const before = adapter.statementCount
  const page = await db.select().from(interviews).orderBy(sql`${interviews.publishedOn} DESC`)
  const fans = await liked.reverse.prefetch(page)
  const hearts = new Set(await liked.of(bob).linkedAmong(page))
  for (const interview of page) {
    const names = (await fans.of(interview).all()).map((user) => user.displayName)
    console.log(`   ${hearts.has(interview.id) ? '♥' : '♡'} ${interview.title} (${interview.publishedOn}): ${names.length === 0 ? 'no fans yet' : names.join(', ')}`)
  }
  console.log(`   statements: 1 for the interviews (Drizzle), ${String(adapter.statementCount - before)} for every fan and heart (throughline)`)
  // Filters and order name the Drizzle properties; the SQL names the columns.
  const recent = await liked.of(alice).filter({ publishedOn__gte: '2026-06-01' }).all()
  console.log(`   alice's favourites published since June: ${recent.map((interview) => interview.title).join(', ')}`)
}

console.log('3. Several calls in one transaction (Drizzle SQLite transactions are synchronous: the adapter opens it)')
{
  try {
    await adapter.transaction(async (tx) => {
      await liked.using(tx).of(bob).add(sqlite)
      await liked.using(tx).of(bob).remove(drizzleTalk)
      throw new Error('changed our minds')
    })
  } catch (error) {
    console.log(`   rolled back: ${(error as Error).message}`)
  }
  console.log(`   bob likes: ${(await liked.of(bob).all()).map((interview) => interview.title).join(', ')}`)
}

db.$client.close()
