/**
 * The favourite toggle of seeds 000/001 against a real PostgreSQL server: the URL comes from
 * PG_URL (`bash scripts/databases.sh start` prints one). Without PG_URL it says so and exits.
 *
 * Run: PG_URL=postgres://user:password@127.0.0.1:55432/throughline npm run examples -- postgres
 */
import knex from 'knex'
import { defineModel, manyToMany } from '../src/index.js'
import { createJoinTable, KnexAdapter } from '../src/adapters/knex/index.js'

const url = process.env.PG_URL
if (url === undefined || url === '') {
  console.log('PG_URL is not set: skipping the PostgreSQL example (run `bash scripts/databases.sh start` for a server).')
  process.exit(0)
}

interface User {
  id: number
  username: string
}
interface Interview {
  id: number
  title: string
}

const db = knex({ client: 'pg', connection: url })
const schema = `throughline_example_${String(process.pid)}`
await db.raw('CREATE SCHEMA ??', [schema])
try {
  const scoped = knex({ client: 'pg', connection: url, searchPath: [schema] })
  await scoped.schema.createTable('auth_user', (table) => {
    table.increments('id')
    table.string('username').notNullable().unique()
  })
  await scoped.schema.createTable('interview', (table) => {
    table.increments('id')
    table.string('title').notNullable()
  })
  const User = defineModel<User>('User', { table: 'auth_user', columns: ['id', 'username'] })
  const Interview = defineModel<Interview>('Interview', { table: 'interview', columns: ['id', 'title'] })
  const favorites = manyToMany(User, Interview, { name: 'favorite_interviews', relatedName: 'favorited_by', adapter: new KnexAdapter(scoped) })
  await createJoinTable(scoped, favorites)

  const [alice, bob] = await scoped<User>('auth_user').insert([{ username: 'alice' }, { username: 'bob' }]).returning('*')
  const [interview] = await scoped<Interview>('interview').insert({ title: 'PostgreSQL in production' }).returning('*')
  if (alice === undefined || bob === undefined || interview === undefined) throw new Error('seeding failed')

  console.log(`alice toggles -> liked: ${String(await favorites.of(alice).toggle(interview))}`)
  console.log(`bob toggles   -> liked: ${String(await favorites.of(bob).toggle(interview))}`)
  console.log(`alice toggles -> liked: ${String(await favorites.of(alice).toggle(interview))}`)
  // Ten concurrent likes by bob of the same interview: one row, no unique-violation error.
  await Promise.all(Array.from({ length: 10 }, () => favorites.of(bob).add(interview)))
  console.log(`fans after ten concurrent adds by bob: ${(await favorites.reverse.of(interview).all()).map((user) => user.username).join(', ')}`)
  await scoped.destroy()
} finally {
  await db.raw('DROP SCHEMA ?? CASCADE', [schema])
  await db.destroy()
}
