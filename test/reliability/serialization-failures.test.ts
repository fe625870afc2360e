import assert from 'node:assert/strict'
import type { Knex } from 'knex'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { MemoryAdapter, type RelationAdapter, type Row } from '../../src/index.js'
import { KnexAdapter } from '../../src/adapters/knex/index.js'
import { reliabilityFixture, type ReliabilityFixture } from '../../src/conformance/fixtures/reliability.js'
import { random } from './helpers/concurrency-plan.js'
import { connectTo, dropPlace, newPlace, recreateTables, serverTargets } from './helpers/databases.js'
import { printFigures } from './helpers/figures.js'
import { SerializationFailures } from './helpers/serialization-failures.js'

// The CockroachDB / YugabyteDB path, simulated on PostgreSQL (neither can be installed here):
// a wrapper fails 30 % of the transactions KnexAdapter opens with SQLSTATE 40001 at COMMIT,
// after their work ran (test/reliability/helpers/serialization-failures.ts). The adapter rolls
// the real transaction back and its retry policy runs the whole call again. The same random
// calls run on the memory adapter, with no failures: after every call the answers and the
// stored rows must be the same, so each call was applied exactly once (never lost, never
// twice: created rows counted exactly, toggles alternating). Then calls run concurrently on a
// pool, where real conflicts meet injected ones: n concurrent creates leave n rows, and n
// concurrent toggles of one pair leave it linked exactly when n is odd.
// Every relation has a listener, so that every write runs in a transaction of its own (without
// one, remove, clear and toggle on PostgreSQL are single statements, which this wrapper does
// not fail: CockroachDB retries a single-statement transaction on the server by itself).

const RATE = Number(process.env.SERIALIZATION_FAILURE_RATE ?? 0.3)
const CALLS = Number(process.env.SERIALIZATION_CALLS ?? 300)
const SEED = Number(process.env.SERIALIZATION_SEED ?? Date.now() % 100_000)
const CONCURRENT = 40
const postgres = serverTargets.find((target) => target.name === 'postgres')!

if (!postgres.enabled) {
  console.info(`[serialization failures] skipped: PG_URL is not set. To run it: ${postgres.howToEnable}.`)
}

const MEMBERS = ['m0', 'm1', 'm2', 'm3', 'm4']
const CLUBS = ['c0', 'c1', 'c2', 'c3', 'c4']

/** One adapter with its own copy of the relations, and the keys of the seeded rows by name. */
interface Side {
  readonly fx: ReliabilityFixture
  readonly adapter: RelationAdapter
  readonly keys: Map<string, number>
  readonly rows: (table: string) => Promise<Row[]>
  events: number
}

async function seed(side: Side): Promise<void> {
  for (const name of MEMBERS) side.keys.set(name, Number((await side.adapter.insertTarget({ target: side.fx.Member.spec, values: { name } })).id))
  for (const title of CLUBS) side.keys.set(title, Number((await side.adapter.insertTarget({ target: side.fx.Club.spec, values: { title } })).id))
}

function listen(side: Side): void {
  for (const relation of [side.fx.clubs, side.fx.friends, side.fx.roles]) {
    relation.on('m2m_changed', () => {
      side.events++
    })
  }
}

/** The stored rows of a side, keys replaced by names (PostgreSQL's sequences skip the keys of rolled-back creates). */
async function snapshot(side: Side): Promise<Record<string, string[]>> {
  const { fx } = side
  const names = new Map<string, string>()
  for (const row of await side.rows(fx.Member.table)) names.set(`m${String(row.id)}`, String(row.name))
  const titles: string[] = []
  for (const row of await side.rows(fx.Club.table)) {
    names.set(`c${String(row.id)}`, String(row.title))
    titles.push(String(row.title))
  }
  const pairs = (rows: Row[], source: string, target: string, kind: 'm' | 'c', extra?: string): string[] =>
    rows.map((row) => `${names.get(`m${String(row[source])}`) ?? '?'}|${names.get(`${kind}${String(row[target])}`) ?? '?'}${extra === undefined ? '' : `|${String(row[extra])}`}`).sort()
  return {
    clubs: titles.sort(),
    'clubs links': pairs(await side.rows(fx.clubs.link.table), fx.clubs.link.sourceColumn, fx.clubs.link.targetColumn, 'c'),
    'friends links': pairs(await side.rows(fx.friends.link.table), fx.friends.link.sourceColumn, fx.friends.link.targetColumn, 'm'),
    'roles links': pairs(await side.rows(fx.roles.link.table), fx.roles.link.sourceColumn, fx.roles.link.targetColumn, 'c', 'role'),
  }
}

interface Call {
  readonly relation: 'clubs' | 'friends' | 'roles'
  readonly source: string
  readonly method: 'add' | 'remove' | 'set' | 'toggle' | 'clear' | 'create'
  readonly targets: readonly string[]
}

function plan(seed: number, count: number): Call[] {
  const next = random(seed)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!
  const some = (items: readonly string[]): string[] => items.filter(() => next() < 0.4)
  return Array.from({ length: count }, (): Call => {
    const relation = pick(['clubs', 'friends', 'roles'] as const)
    const universe = relation === 'friends' ? MEMBERS : CLUBS
    const method = pick(['add', 'remove', 'set', 'toggle', 'toggle', 'clear', 'create'] as const)
    const source = pick(MEMBERS)
    if (method === 'create' && relation === 'friends') return { relation, source, method: 'add', targets: some(universe) }
    return { relation, source, method, targets: method === 'toggle' ? [pick(universe)] : some(universe) }
  })
}

/** Runs one call on a side; the answer, comparable between sides. */
async function run(side: Side, call: Call, index: number): Promise<unknown> {
  const relation = side.fx[call.relation].using(side.adapter)
  // One loose type for the three relations (the through relation's options have a role).
  const manager = relation.of(side.keys.get(call.source)!) as unknown as Record<Call['method'], (...args: unknown[]) => Promise<unknown>>
  const keys = call.targets.map((name) => side.keys.get(name)!)
  const through = call.relation === 'roles' ? { throughDefaults: { role: `r${String(index % 3)}` } } : {}
  switch (call.method) {
    case 'add':
      return manager.add(keys, through)
    case 'remove':
      return manager.remove(keys)
    case 'set':
      return manager.set(keys, through)
    case 'clear':
      return manager.clear()
    case 'toggle':
      return manager.toggle(keys[0], through)
    case 'create': {
      const row = (await manager.create({ title: `new${String(index)}` }, through)) as Row
      return row.title
    }
  }
}

describe.skipIf(!postgres.enabled)(`serialization failures (40001) at COMMIT on ${String(RATE * 100)} % of transactions, on PostgreSQL`, () => {
  let db: Knex | undefined
  let place: ReturnType<typeof newPlace> | undefined
  let retries = 0
  let failures: SerializationFailures | undefined
  const figures: Record<string, string | number> = { 'failure rate': `${String(RATE * 100)} %`, seed: SEED }
  const inner = (): KnexAdapter => new KnexAdapter(db!, {
    log: (event) => {
      if (event.type === 'retry') retries++
    },
  })

  beforeAll(() => {
    place = newPlace('postgres', 'ser')
    db = connectTo(place, { max: 4 })
  })

  afterAll(async () => {
    if (db !== undefined) {
      try {
        await dropPlace(db, place!)
      } finally {
        await db.destroy()
      }
    }
    printFigures('Serialization failures at COMMIT (the CockroachDB/YugabyteDB path, simulated on PostgreSQL)', [figures])
  })

  it(`applies each of ${String(CALLS)} random calls exactly once, as the memory adapter does`, async () => {
    const fx = reliabilityFixture('tl_rel_ser_')
    await recreateTables(db!, fx.schema)
    failures = new SerializationFailures(inner(), RATE, random(SEED))
    const pg: Side = { fx, adapter: failures, keys: new Map(), rows: (table) => db!(table).select('*'), events: 0 }
    const store = new MemoryAdapter()
    const memory: Side = { fx: reliabilityFixture('tl_rel_ser_'), adapter: store, keys: new Map(), rows: (table) => store.tableRows(table), events: 0 }
    for (const side of [pg, memory]) {
      await seed(side)
      listen(side)
    }
    retries = 0
    const calls = plan(SEED, CALLS)
    let toggles = 0
    for (const [index, call] of calls.entries()) {
      const expected = await run(memory, call, index)
      const actual = await run(pg, call, index)
      assert.deepEqual(actual, expected, `Call #${String(index)} ${call.relation}.of(${call.source}).${call.method}(${call.targets.join(', ')}) answered differently.`)
      if (call.method === 'toggle') toggles++
      assert.deepEqual(await snapshot(pg), await snapshot(memory), `The stored rows differ after call #${String(index)} ${call.relation}.of(${call.source}).${call.method}(${call.targets.join(', ')}).`)
    }
    assert.ok(failures.injected > 0, 'No failure was injected.')
    assert.ok(retries >= failures.injected, `Every injected failure is run again: ${String(retries)} retries for ${String(failures.injected)} failures.`)
    Object.assign(figures, {
      'calls compared with memory': CALLS,
      'of which toggles': toggles,
      'of which creates': calls.filter((call) => call.method === 'create').length,
      'transactions failed at COMMIT': failures.injected,
      'transactions committed': failures.committed,
      retries,
      'events heard (memory / PostgreSQL, whose rolled-back attempts send theirs again)': `${String(memory.events)} / ${String(pg.events)}`,
      mismatches: 0,
    })
  }, 120_000)

  it(`keeps ${String(CONCURRENT)} concurrent creates and ${String(CONCURRENT + 1)} concurrent toggles of one pair exact`, async () => {
    const fx = reliabilityFixture('tl_rel_ser2_')
    await recreateTables(db!, fx.schema)
    const adapter = new SerializationFailures(inner(), RATE, random(SEED + 1))
    const side: Side = { fx, adapter, keys: new Map(), rows: (table) => db!(table).select('*'), events: 0 }
    await seed(side)
    listen(side)
    retries = 0
    const m0 = side.keys.get('m0')!
    const c0 = side.keys.get('c0')!
    const created = await Promise.all(
      Array.from({ length: CONCURRENT }, (_, index) => fx.roles.using(adapter).of(m0).create({ title: `concurrent${String(index)}` }, { throughDefaults: { role: 'x' } })),
    )
    const answers = await Promise.all(Array.from({ length: CONCURRENT + 1 }, () => fx.clubs.using(adapter).of(m0).toggle(c0)))
    const titles = (await db!(fx.Club.table).select('title')).map((row: Row) => String(row.title)).filter((title) => title.startsWith('concurrent'))
    assert.equal(created.length, CONCURRENT)
    assert.deepEqual(titles.sort(), created.map((row) => row.title).sort(), 'Each created row is stored exactly once.')
    assert.equal((await db!(fx.roles.link.table).where(fx.roles.link.sourceColumn, m0)).length, CONCURRENT, 'Each created row is linked exactly once.')
    const linked = (await db!(fx.clubs.link.table).where({ [fx.clubs.link.sourceColumn]: m0, [fx.clubs.link.targetColumn]: c0 })).length
    assert.equal(linked, 1, `${String(CONCURRENT + 1)} toggles of an unlinked pair leave it linked once.`)
    assert.equal(answers.filter(Boolean).length, CONCURRENT / 2 + 1, 'The toggles answered true and false in turn.')
    Object.assign(figures, {
      'concurrent creates (rows stored)': `${String(CONCURRENT)} (${String(titles.length)})`,
      'concurrent toggles (answered true / false)': `${String(CONCURRENT + 1)} (${String(answers.filter(Boolean).length)} / ${String(answers.filter((answer) => !answer).length)})`,
      'concurrent: failed at COMMIT / retries': `${String(adapter.injected)} / ${String(retries)}`,
    })
  }, 120_000)
})
