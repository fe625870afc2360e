/**
 * The favourite button and the list page on Kysely: the Kysely database interface gives the
 * models their row types (no row type written twice), Kysely's schema builder creates the
 * tables, and the toggle runs on the Kysely instance or inside a Kysely transaction of yours.
 * SQLite in memory: no server needed.
 *
 * Run: npm run examples -- kysely
 */
import Database from 'better-sqlite3'
import { Kysely, SqliteDialect, sql, type Generated } from 'kysely'
import { isThroughlineError, manyToMany } from '../src/index.js'
import { KyselyAdapter, kyselyModel } from '../src/adapters/kysely/index.js'

// The application's Kysely database interface, as kysely-codegen would write it.
interface DB {
  users: { id: Generated<number>; username: string }
  interviews: { id: Generated<number>; title: string }
  users_favorite_interviews: { id: Generated<number>; user_id: number; interview_id: number }
  audit: { id: Generated<number>; action: string }
}

const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) })

// The application's own tables, and the join table with its unique pair (a Kysely migration's `up`).
await db.schema.createTable('users').addColumn('id', 'integer', (column) => column.primaryKey().autoIncrement()).addColumn('username', 'text', (column) => column.notNull()).execute()
await db.schema.createTable('interviews').addColumn('id', 'integer', (column) => column.primaryKey().autoIncrement()).addColumn('title', 'text', (column) => column.notNull()).execute()
await db.schema.createTable('audit').addColumn('id', 'integer', (column) => column.primaryKey().autoIncrement()).addColumn('action', 'text', (column) => column.notNull()).execute()
await db.schema
  .createTable('users_favorite_interviews')
  .addColumn('id', 'integer', (column) => column.primaryKey().autoIncrement())
  .addColumn('user_id', 'integer', (column) => column.notNull().references('users.id').onDelete('cascade'))
  .addColumn('interview_id', 'integer', (column) => column.notNull().references('interviews.id').onDelete('cascade'))
  .addUniqueConstraint('users_favorite_interviews_pair', ['user_id', 'interview_id'])
  .execute()

// Row types come from DB by table name: User rows are { id: number; username: string }.
const model = kyselyModel<DB>()
const User = model('User', { table: 'users', describe: (user) => user.username })
const Interview = model('Interview', { table: 'interviews', ordering: ['title'] })
const favorites = manyToMany(User, Interview, { name: 'favorite_interviews', adapter: new KyselyAdapter(db) })

// Does the join table fit the relation? Read from SQLite's catalog through the adapter.
const report = await favorites.check()
console.log(`favorites.check(): ${report.ok ? `ok (${String(report.warnings.length)} warnings)` : report.mismatches.map((issue) => issue.message).join('; ')}`)

// Rows are the application's business: plain Kysely inserts.
const [alice, bob] = await db.insertInto('users').values([{ username: 'alice' }, { username: 'bob' }]).returningAll().execute()
const talks = await db
  .insertInto('interviews')
  .values([{ title: 'Django at scale' }, { title: 'Kysely in practice' }, { title: 'SQLite everywhere' }])
  .returningAll()
  .execute()
if (alice === undefined || bob === undefined || talks.length !== 3) throw new Error('seeding failed')
const [django, kysely, sqlite] = talks as [(typeof talks)[number], (typeof talks)[number], (typeof talks)[number]]

console.log('1. The favourite button: POST /interviews/:id/favorite')
{
  // One DELETE, and an INSERT … SELECT … WHERE EXISTS only when nothing was deleted.
  const adapter = new KyselyAdapter(db)
  const before = adapter.statementCount
  const liked = await favorites.using(adapter).of(bob).toggle(django.id)
  console.log(`   bob likes "${django.title}": ${String(liked)} (${String(adapter.statementCount - before)} statements)`)
  console.log(`   toggle again -> liked: ${String(await favorites.of(bob).toggle(django.id))}`)
  await favorites.of(alice).add([django, sqlite])
  await favorites.of(bob).add(kysely.id)
  console.log(`   fans of "${django.title}": ${(await favorites.reverse.of(django).all()).map((user) => user.username).join(', ')}`)
  try {
    await favorites.of(bob).toggle(999)
  } catch (error) {
    if (isThroughlineError(error)) console.log(`   toggle(999) -> ${error.code}: a 404 for the endpoint`)
    else throw error
  }
}

console.log('2. The list page: every interview, with its fans, in 2 statements')
{
  const adapter = new KyselyAdapter(db)
  const before = adapter.statementCount
  const interviews = await db.selectFrom('interviews').selectAll().orderBy('title').execute()
  const fans = await favorites.reverse.using(adapter).prefetch(interviews)
  for (const interview of interviews) {
    const names = (await fans.of(interview).all()).map((user) => user.username)
    console.log(`   ${interview.title}: ${names.length === 0 ? '(no fans yet)' : names.join(', ')}`)
  }
  console.log(`   statements: 1 for the interviews, ${String(adapter.statementCount - before)} for every fan`)
  const popular = await favorites.reverse.filter({ username: 'alice' }).orderBy('title').all()
  console.log(`   liked by alice: ${popular.map((interview) => interview.title).join(', ')}`)
}

console.log('3. Inside a Kysely transaction of yours')
{
  await db.transaction().execute(async (trx) => {
    const mine = favorites.using(new KyselyAdapter(trx))
    await trx.insertInto('audit').values({ action: 'bob likes SQLite everywhere' }).execute()
    await mine.of(bob).add(sqlite)
    // A failed call undoes only itself (a savepoint): the transaction goes on.
    const failed = await mine.of(bob).add(404).catch((error: unknown) => (isThroughlineError(error) ? error.code : 'unexpected'))
    console.log(`   add(404) inside the transaction -> ${String(failed)}; the transaction goes on`)
  })
  const audit = await db.selectFrom('audit').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()
  console.log(`   committed: bob likes ${(await favorites.of(bob).all()).map((interview) => interview.title).join(', ')}; audit rows: ${String(audit.n)}`)
}

await db.destroy()
