/**
 * Groups and their members, with the date each joined and why they were invited (Django's
 * Person, Group and Membership), on PostgreSQL with no server: PGlite runs PostgreSQL compiled
 * to WebAssembly in this process, and kysely-pglite-dialect makes it a Kysely dialect, so
 * KyselyAdapter speaks PostgreSQL to it as to a server. Shows the through table's extra columns,
 * add, set, toggle from the reverse side, filters on the join table, relation.check(), and a
 * Kysely transaction of yours that rolls back.
 *
 * PGlite has one connection: calls run one after the other, so nothing here (or anywhere on
 * PGlite) waits on a lock or conflicts with another transaction, and inside a transaction every
 * call must go through it. examples/postgres.ts runs concurrent adds on a server.
 *
 * @electric-sql/pglite and kysely-pglite-dialect are dev dependencies; without them the example
 * says so and exits.
 *
 * Run: npm run examples -- kysely-pglite
 */
import { Kysely, sql, type Generated } from 'kysely'
import { defineThrough, isThroughlineError, manyToMany } from '../src/index.js'
import { createJoinTable, KyselyAdapter, kyselyModel, type KyselyRow } from '../src/adapters/kysely/index.js'

const modules = await Promise.all([import('@electric-sql/pglite'), import('kysely-pglite-dialect')]).catch((error: unknown) => {
  console.log(`PGlite does not load: skipping the PGlite example (npm install -D @electric-sql/pglite kysely-pglite-dialect). ${String(error)}`)
  return undefined
})
if (modules === undefined) process.exit(0)
const [{ PGlite }, { PGliteDialect }] = modules

// The application's Kysely database interface, as kysely-codegen would write it.
interface DB {
  people: { id: Generated<number>; name: string }
  groups: { id: Generated<number>; name: string }
  memberships: { id: Generated<number>; group_id: number; person_id: number; date_joined: Date; invite_reason: string | null }
}

// In memory; new PGlite('./data') would keep the database in a directory.
const db = new Kysely<DB>({ dialect: new PGliteDialect(new PGlite()) })
const { rows: versionRows } = await sql<{ server_version: string }>`SHOW server_version`.execute(db)
console.log(`PostgreSQL ${versionRows[0]?.server_version ?? '?'} in this process (PGlite): no server`)

// Row types come from DB by table name, the through table's too.
const model = kyselyModel<DB>()
const Person = model('Person', { table: 'people', ordering: ['name'], describe: (person) => person.name })
const Group = model('Group', { table: 'groups', ordering: ['name'], describe: (group) => group.name })
const Membership = defineThrough<KyselyRow<DB, 'memberships'>>('Membership', {
  table: 'memberships',
  primaryKey: 'id',
  foreignKeys: { group_id: Group, person_id: Person },
  // Django's auto_now_add: today, unless the call gives a date.
  columns: { date_joined: { default: () => new Date(), required: true }, invite_reason: {} },
})
const members = manyToMany(Group, Person, { name: 'members', through: Membership, relatedName: 'groups', adapter: new KyselyAdapter(db) })

// The model tables with Kysely's schema builder; the join table from the relation (a migration's `up`).
await db.schema.createTable('people').addColumn('id', 'serial', (column) => column.primaryKey()).addColumn('name', 'text', (column) => column.notNull()).execute()
await db.schema.createTable('groups').addColumn('id', 'serial', (column) => column.primaryKey()).addColumn('name', 'text', (column) => column.notNull()).execute()
await createJoinTable(db, members, { date_joined: { kind: 'datetime' }, invite_reason: { kind: 'text', nullable: true } })

// Does the join table fit the relation? Read from PostgreSQL's catalog through the adapter.
const report = await members.check()
console.log(`members.check(): ${report.ok ? `ok (${String(report.warnings.length)} warnings)` : report.mismatches.map((issue) => issue.message).join('; ')}`)

const people = await db
  .insertInto('people')
  .values(['John', 'Paul', 'George', 'Ringo', 'Pete'].map((name) => ({ name })))
  .returningAll()
  .execute()
const [beatles, wings] = await db.insertInto('groups').values([{ name: 'The Beatles' }, { name: 'Wings' }]).returningAll().execute()
const [john, paul, george, ringo, pete] = people
if (beatles === undefined || wings === undefined || john === undefined || paul === undefined || george === undefined || ringo === undefined || pete === undefined) {
  throw new Error('seeding failed')
}

const day = (date: Date): string => date.toISOString().slice(0, 10)
const names = (rows: readonly { name: string }[]): string => rows.map((row) => row.name).join(', ') || '(none)'
/** One line per membership of a group, from the join table's rows. */
async function roster(group: KyselyRow<DB, 'groups'>): Promise<void> {
  const byId = new Map(people.map((person) => [person.id, person.name]))
  const rows = await members.of(group).throughRows()
  for (const row of [...rows].sort((a, b) => a.date_joined.getTime() - b.date_joined.getTime() || a.person_id - b.person_id)) {
    console.log(`   ${byId.get(row.person_id) ?? '?'} joined ${day(row.date_joined)}: ${row.invite_reason ?? '(no reason given)'}`)
  }
}

console.log('1. add with through values (through_defaults)')
await members.of(beatles).add([john, paul], { throughDefaults: { date_joined: new Date('1960-08-01'), invite_reason: 'Founding member.' } })
await members.of(beatles).add([george, pete], { throughDefaults: { date_joined: new Date('1960-08-01') } })
// Already a member: the row stays as it was, date and reason included.
await members.of(beatles).add(john, { throughDefaults: { date_joined: new Date('1999-01-01'), invite_reason: 'again' } })
await roster(beatles)

console.log('2. set: Pete goes, Ringo comes; the members who stay keep their rows')
await members.of(beatles).set([john, paul, george, ringo], { throughDefaults: { date_joined: new Date('1962-08-16'), invite_reason: 'Needed a new drummer.' } })
await roster(beatles)

console.log('3. The reverse side: Person.groups')
console.log(`   paul.groups.toggle(wings) -> member: ${String(await members.reverse.of(paul).toggle(wings))}`)
console.log(`   paul.groups.all(): ${names(await members.reverse.of(paul).all())}`)
const [joined] = await members.of(wings).throughRows(paul)
// No date given: the column's default, the time of the call (within the last minute, say).
console.log(`   wings.members.all(): ${names(await members.of(wings).all())}; date_joined is now: ${String(joined !== undefined && Date.now() - joined.date_joined.getTime() < 60_000)}`)
console.log(`   toggle again -> member: ${String(await members.reverse.of(paul).toggle(wings))}`)
try {
  await members.reverse.of(paul).toggle(999)
} catch (error) {
  if (!isThroughlineError(error)) throw error
  console.log(`   paul.groups.toggle(999) -> ${error.code}`)
}

console.log('4. Filters, on the people and on the join table')
console.log(`   beatles.members.filter(name__startswith="J"): ${names(await members.of(beatles).filter({ name__startswith: 'J' }).all())}`)
console.log(`   Group.objects.filter(membership__invite_reason="Needed a new drummer."): ${names(await members.filter({}, { through: { invite_reason: 'Needed a new drummer.' } }).all())}`)
console.log(`   Person.objects.filter(membership__date_joined__lt=1961-01-01): ${names(await members.reverse.filter({}, { through: { date_joined__lt: new Date('1961-01-01') } }).all())}`)
console.log(`   Person.objects.filter(groups__name="The Beatles").count(): ${String(await members.reverse.filter({ name: 'The Beatles' }).count())}`)

console.log('5. Inside a Kysely transaction of yours, rolled back')
// Thrown to roll the transaction back; any other error goes on up.
class RollBack extends Error {}
try {
  await db.transaction().execute(async (trx) => {
    // Everything inside goes through trx: PGlite's one connection is the transaction's until it
    // ends, so a call on db here (or on members, bound to db) would wait for it forever.
    const mine = members.using(new KyselyAdapter(trx))
    await mine.of(beatles).add(pete, { throughDefaults: { date_joined: new Date('1963-01-01'), invite_reason: 'A second drummer?' } })
    await trx.insertInto('groups').values({ name: 'The Quarrymen' }).execute()
    console.log(`   inside: ${String(await mine.of(beatles).count())} members, ${String((await trx.selectFrom('groups').select('id').execute()).length)} groups`)
    throw new RollBack('changed our minds')
  })
} catch (error) {
  if (!(error instanceof RollBack)) throw error
  console.log(`   rolled back (${error.message})`)
}
console.log(`   after: ${String(await members.of(beatles).count())} members (${names(await members.of(beatles).all())}), ${String((await db.selectFrom('groups').select('id').execute()).length)} groups`)

await db.destroy()
