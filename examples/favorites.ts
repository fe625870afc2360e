/**
 * Seeds 000 and 001: the favourite ("like") button of an interview site.
 *
 * Django:
 *   class Interview(models.Model):
 *       favorited_by = models.ManyToManyField(User, through="FavoriteInterview", related_name="favorite_interviews")
 *   class FavoriteInterview(models.Model):
 *       user = models.ForeignKey(User, on_delete=models.CASCADE)
 *       interview = models.ForeignKey(Interview, on_delete=models.CASCADE)
 *
 * The toggle, seen from three angles (the user's side, the interview's side, the through table
 * directly), then the same toggle behind a real HTTP endpoint: POST /interviews/:id/favorite.
 *
 * Run: npm run examples -- favorites
 */
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { defineModel, defineThrough, isThroughlineError, manyToMany } from '../src/index.js'
import { createJoinTable, KnexAdapter } from '../src/adapters/knex/index.js'
import { openSqlite } from './_sqlite.js'

interface User {
  id: number
  username: string
}
interface Interview {
  id: number
  title: string
  user_id: number
}
interface FavoriteInterview {
  id: number
  user_id: number
  interview_id: number
  /** When the heart was given (ISO 8601): `created_at = models.DateTimeField(auto_now_add=True)`. */
  created_at: string
}

const db = openSqlite()

// The application's own tables; throughline only needs to know their names and keys.
await db.schema.createTable('auth_user', (table) => {
  table.increments('id')
  table.string('username').notNullable().unique()
})
await db.schema.createTable('interviews', (table) => {
  table.increments('id')
  table.string('title').notNullable()
  table.integer('user_id').notNullable().references('id').inTable('auth_user').onDelete('CASCADE')
})

const User = defineModel<User>('User', { table: 'auth_user', columns: ['id', 'username'], describe: (user) => user.username })
const Interview = defineModel<Interview>('Interview', { table: 'interviews', columns: ['id', 'title', 'user_id'], ordering: ['title'] })
const FavoriteInterviewThrough = defineThrough<FavoriteInterview>('FavoriteInterview', {
  table: 'favorite_interview',
  primaryKey: 'id',
  foreignKeys: { user_id: User, interview_id: Interview },
  columns: { created_at: { default: () => new Date().toISOString() } },
})

// Interview.favorited_by, with the reverse side User.favorite_interviews.
const favoritedBy = manyToMany(Interview, User, {
  name: 'favorited_by',
  through: FavoriteInterviewThrough,
  relatedName: 'favorite_interviews',
  adapter: new KnexAdapter(db),
})
// The join table with its unique (user, interview) pair, as the seed's unique_together.
await createJoinTable(db, favoritedBy)

// Rows are the application's business: plain knex inserts.
const [alice, bob] = await db<User>('auth_user').insert([{ username: 'alice' }, { username: 'bob' }]).returning('*')
const [interview] = await db<Interview>('interviews').insert({ title: 'Django at scale', user_id: alice!.id }).returning('*')
if (alice === undefined || bob === undefined || interview === undefined) throw new Error('seeding failed')

console.log('1. From the user\'s side: user.favorite_interviews')
{
  const favorites = favoritedBy.reverse.of(bob)
  // The seed's view, line by line: filter(pk=...).exists(), then remove() or add().
  if (await favorites.filter({ pk: interview.id }).exists()) await favorites.remove(interview)
  else await favorites.add(interview)
  console.log(`   bob likes "${interview.title}": ${String(await favorites.exists(interview))}`)
  // The same in one call, atomic: toggle() answers the new state.
  console.log(`   toggle again -> liked: ${String(await favorites.toggle(interview))}`)
}

console.log('2. From the interview\'s side: interview.favorited_by')
{
  const fans = favoritedBy.of(interview)
  if (await fans.exists(alice)) await fans.remove(alice)
  else await fans.add(alice, { throughDefaults: { created_at: '2026-02-15T12:00:00.000Z' } })
  console.log(`   fans of "${interview.title}": ${(await fans.all()).map((user) => user.username).join(', ')}`)
}

console.log('3. From the through table: FavoriteInterview rows')
{
  // FavoriteInterview.objects.filter(user=user, interview=interview)
  const rows = await favoritedBy.reverse.of(alice).throughRows(interview)
  console.log(`   alice's FavoriteInterview rows for it: ${String(rows.length)}`)
  // The raw table holds exactly one row per (user, interview): add() never duplicates.
  await favoritedBy.reverse.of(alice).add([interview, interview.id, String(interview.id)])
  const count = await db('favorite_interview').count({ n: '*' }).first()
  console.log(`   rows in favorite_interview after adding alice's like three more times: ${String(count?.n)}`)
}

// ---------------------------------------------------------------------------------------------
// POST /interviews/:id/favorite, for a logged-in user (here: the x-user-id header stands in for
// the session). 404 when the interview does not exist, 400 for a malformed id, 401 without a user.

/** The view: answers a status and a JSON body. */
async function favorite(request: IncomingMessage): Promise<[number, object]> {
  const match = /^\/interviews\/([^/]+)\/favorite$/.exec(request.url ?? '')
  if (match === null) return [404, { error: 'no such route' }]
  if (request.method !== 'POST') return [405, { error: 'use POST' }]
  const userId = request.headers['x-user-id']
  if (typeof userId !== 'string' || userId === '') return [401, { error: 'log in first' }]
  const interviewId = decodeURIComponent(match[1] ?? '')
  try {
    const liked = await favoritedBy.reverse.of(userId).toggle(interviewId)
    const fans = await favoritedBy.of(interviewId).count()
    return [200, { liked, fans }]
  } catch (error) {
    // The typed errors map straight to HTTP statuses; anything else is a 500.
    if (isThroughlineError(error, 'M2M_TARGET_NOT_FOUND')) return [404, { error: 'no such interview' }]
    if (isThroughlineError(error, 'M2M_INVALID_KEY')) return [400, { error: 'an interview id is a whole number' }]
    if (isThroughlineError(error, 'M2M_CONSTRAINT_VIOLATION')) return [401, { error: 'unknown user' }]
    throw error
  }
}

const server = createServer((request, response) => {
  favorite(request).then(
    ([status, body]) => {
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    },
    (error: unknown) => {
      console.error(error)
      response.writeHead(500).end()
    },
  )
})
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const { port } = server.address() as AddressInfo

console.log('4. Over HTTP: POST /interviews/:id/favorite')
for (const [method, path, user] of [
  ['POST', `/interviews/${String(interview.id)}/favorite`, String(bob.id)],
  ['POST', `/interviews/${String(interview.id)}/favorite`, String(bob.id)],
  ['POST', '/interviews/999/favorite', String(bob.id)],
  ['POST', '/interviews/abc/favorite', String(bob.id)],
  ['POST', `/interviews/${String(interview.id)}/favorite`, ''],
  ['GET', `/interviews/${String(interview.id)}/favorite`, String(bob.id)],
] as const) {
  const response = await fetch(`http://127.0.0.1:${String(port)}${path}`, { method, headers: { 'x-user-id': user } })
  console.log(`   ${method} ${path} as ${user === '' ? 'nobody' : `user ${user}`} -> ${String(response.status)} ${await response.text()}`)
}

console.log('5. The list page: every card\'s hearts and the user\'s own, one statement each')
{
  const titles = ['Hiring juniors', 'SQLite in production']
  await db<Interview>('interviews').insert(titles.map((title) => ({ title, user_id: bob.id })))
  const page = await db<Interview>('interviews').orderBy('id')
  // Two hearts from bob, the second one later.
  await favoritedBy.reverse.of(bob).add(page[1]!, { throughDefaults: { created_at: '2026-03-01T09:00:00.000Z' } })
  await favoritedBy.reverse.of(bob).add(page[0]!, { throughDefaults: { created_at: '2026-03-02T18:30:00.000Z' } })
  // Interview.objects.annotate(Count("favorited_by")), for the rows of the page.
  const hearts = await favoritedBy.countsOf(page)
  // The user's own heart on each card: which of the page's interviews bob likes.
  const liked = new Set(await favoritedBy.reverse.of(bob).linkedAmong(page.map((card) => card.id)))
  for (const card of page) {
    const count = hearts.get(card.id) ?? 0
    console.log(`   "${card.title}": ${String(count)} heart${count === 1 ? '' : 's'}${liked.has(card.id) ? ', liked by bob' : ''}`)
  }
}

console.log('6. Latest first: ordered by the through table\'s created_at, with its values')
{
  // user.favorite_interviews.order_by("-favoriteinterview__created_at")
  const latest = await favoritedBy.reverse.of(bob).orderBy('-through__created_at').allWithThrough()
  for (const { row, through } of latest) console.log(`   bob liked "${row.title}" at ${through.created_at}`)
  // The three latest fans of one interview.
  const fans = await favoritedBy.of(interview).orderBy('-through__created_at').limit(3).all()
  console.log(`   latest fans of "${interview.title}": ${fans.map((user) => user.username).join(', ')}`)
  // The latest fan of every card of the page, in one statement (a window function).
  const page = await db<Interview>('interviews').orderBy('id')
  const latestFan = await favoritedBy.prefetch(page, { orderBy: ['-through__created_at'], limit: 1 })
  for (const card of page) console.log(`   latest fan of "${card.title}": ${latestFan.rows(card)[0]?.username ?? '(none)'}`)
}

server.close()
await db.destroy()
