import type Database from 'better-sqlite3'
import knex, { type Knex } from 'knex'
import { BetterSqlite3Adapter } from '../src/adapters/better-sqlite3/index.js'
import { KnexAdapter } from '../src/adapters/knex/index.js'
import { KnexPeer } from './baselines/knex-peer.js'
import { SqlitePeer } from './baselines/sqlite-peer.js'
import { joinNames, relationFixtures, type RelationFixture } from './fixtures.js'
import { measure, pairedRatio, type Budget, type Contender, type Measurement } from './measure.js'
import { PEER_SCENARIOS, type PeerContext, type PeerScenario } from './peer-scenarios.js'
import { ThroughlinePeer, type PageRows, type PeerSubject } from './peer-subject.js'
import { formatTime, renderTable } from './report.js'
import { KnexStorage, SqliteStorage, type Storage } from './storage.js'

/** The variants of the peer comparison. */
export type PeerVariantId = 'throughline' | 'knex' | 'direct' | 'raw'

/** The targets of issue #13: throughline on Knex against hand-written knex, the direct adapter against raw better-sqlite3. */
export const PEER_TARGETS = { knex: 1.15, raw: 1.2 } as const

interface PeerVariant {
  readonly id: PeerVariantId
  readonly prefix: string
  readonly storage: Storage
  readonly subject: (fixture: RelationFixture) => PeerSubject
}

/** One row of the peer table. */
export interface PeerRow {
  readonly database: string
  readonly scenario: string
  readonly cells: Partial<Record<PeerVariantId, Measurement>>
  readonly note?: string
}

export interface PeerOptions {
  readonly budget: Budget
  readonly only: readonly string[] | undefined
  readonly log: (message: string) => void
}

/** The interview rows of a page through knex, as the application reads them (not throughline's business). */
function knexPageRows(db: Knex, fixture: RelationFixture): PageRows {
  const { table, primaryKey } = fixture.target
  return async (offset, pageSize) => (await db(table).orderBy(primaryKey).limit(pageSize).offset(offset)) as { id: number }[]
}

/** The same on the better-sqlite3 connection itself, for the direct adapter's variant. */
function sqlitePageRows(connection: Database.Database, fixture: RelationFixture): PageRows {
  const { table, primaryKey } = fixture.target
  const statement = connection.prepare(`SELECT * FROM "${table}" ORDER BY "${primaryKey}" LIMIT ? OFFSET ?`)
  return (offset, pageSize) => Promise.resolve(statement.all(pageSize, offset) as { id: number }[])
}

async function runPeerDatabase(database: string, variants: readonly PeerVariant[], options: PeerOptions, rows: PeerRow[]): Promise<void> {
  const fixtures = variants.map((variant) => relationFixtures(variant.prefix).plain)
  for (const [index, variant] of variants.entries()) await variant.storage.create(fixtures[index]!)
  const contexts: PeerContext[] = variants.map((variant, index) => ({ fixture: fixtures[index]!, subject: variant.subject(fixtures[index]!), storage: variant.storage, cursor: 0 }))
  const scenarios = PEER_SCENARIOS.filter((scenario) => options.only === undefined || options.only.includes(scenario.id))
  for (const scenario of scenarios) {
    const started = performance.now()
    let results: Measurement[]
    try {
      for (const context of contexts) {
        await scenario.prepare(context)
        await context.storage.analyze(context.fixture)
      }
      results = await measure(
        contexts.map((context, index) => contender(variants[index]!.id, scenario, context)),
        options.budget,
        scenario.callsPerSample,
      )
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      rows.push({ database, scenario: scenario.title, cells: {}, note: `failed: ${message.slice(0, 60)}` })
      options.log(`  peer ${database} ${scenario.id}: failed: ${message}`)
      continue
    }
    const cells: PeerRow['cells'] = {}
    for (const [index, variant] of variants.entries()) cells[variant.id] = results[index]!
    rows.push({ database, scenario: scenario.title, cells })
    const summary = variants.map((variant, index) => `${variant.id} ${formatTime(results[index]!.median)}`).join(', ')
    options.log(`  peer ${database} ${scenario.id}: ${summary} (${((performance.now() - started) / 1000).toFixed(1)} s)`)
  }
  for (const [index, variant] of variants.entries()) await variant.storage.drop(fixtures[index]!)
}

function contender(id: PeerVariantId, scenario: PeerScenario, context: PeerContext): Contender {
  const { beforeEach } = scenario
  return {
    name: id,
    run: () => scenario.run(context),
    statements: () => context.subject.statements(),
    ...(beforeEach === undefined ? {} : { beforeEach: () => beforeEach(context) }),
  }
}

/** The peer comparison on SQLite in memory: one connection for the four variants (as the main table). */
export async function runPeerSqlite(options: PeerOptions, rows: PeerRow[]): Promise<void> {
  const db = knex({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true, pool: { min: 1, max: 1, idleTimeoutMillis: 3_600_000 } })
  try {
    const client = db.client as { acquireConnection(): Promise<Database.Database>; releaseConnection(connection: Database.Database): Promise<void> }
    const connection = await client.acquireConnection()
    await client.releaseConnection(connection)
    const storage = new SqliteStorage(db, connection)
    await runPeerDatabase(
      'sqlite',
      [
        { id: 'throughline', prefix: 'peer_a_', storage, subject: (fixture) => new ThroughlinePeer(fixture, new KnexAdapter(db), knexPageRows(db, fixture)) },
        { id: 'knex', prefix: 'peer_b_', storage, subject: (fixture) => new KnexPeer(db, joinNames(fixture), knexPageRows(db, fixture)) },
        { id: 'direct', prefix: 'peer_c_', storage, subject: (fixture) => new ThroughlinePeer(fixture, new BetterSqlite3Adapter(connection), sqlitePageRows(connection, fixture)) },
        { id: 'raw', prefix: 'peer_d_', storage, subject: (fixture) => new SqlitePeer(connection, joinNames(fixture)) },
      ],
      options,
      rows,
    )
  } finally {
    await db.destroy()
  }
}

/** The peer comparison on a server through knex (PostgreSQL or MariaDB): one pooled connection for both variants. */
export async function runPeerServer(database: 'postgres' | 'mariadb', db: Knex, options: PeerOptions, rows: PeerRow[]): Promise<void> {
  const storage = new KnexStorage(db)
  await runPeerDatabase(
    database,
    [
      { id: 'throughline', prefix: 'peer_a_', storage, subject: (fixture) => new ThroughlinePeer(fixture, new KnexAdapter(db), knexPageRows(db, fixture)) },
      { id: 'knex', prefix: 'peer_b_', storage, subject: (fixture) => new KnexPeer(db, joinNames(fixture), knexPageRows(db, fixture)) },
    ],
    options,
    rows,
  )
}

function formatCount(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–'
  return Number.isInteger(value) ? String(value) : value.toFixed(2).replace(/0+$/, '')
}

function statements(left: Measurement | undefined, right: Measurement | undefined): string {
  if (left === undefined && right === undefined) return '–'
  return `${formatCount(left?.statementsPerCall)} / ${formatCount(right?.statementsPerCall)}`
}

/** A ratio, marked ✗ when it misses its target. */
function targetRatio(numerator: Measurement | undefined, denominator: Measurement | undefined, target: number): string {
  if (numerator === undefined || denominator === undefined) return '–'
  const value = pairedRatio(numerator, denominator)
  return `${value.toFixed(2)}×${value > target ? ' ✗' : ''}`
}

/** The peer table as Markdown: statements per call beside each pair, ✗ on the ratios over their target. */
export function peerTable(rows: readonly PeerRow[]): string {
  const headers = [
    'database',
    'scenario',
    'statements (throughline / knex)',
    'throughline on Knex',
    'hand-written knex',
    `throughline ÷ knex (≤ ${PEER_TARGETS.knex.toFixed(2)})`,
    'statements (direct / raw)',
    'BetterSqlite3Adapter',
    'raw better-sqlite3',
    `direct ÷ raw (≤ ${PEER_TARGETS.raw.toFixed(2)})`,
  ]
  const lines = rows.map((row) => {
    if (row.note !== undefined) return [row.database, row.scenario, '–', row.note, '–', '–', '–', '–', '–', '–']
    const { throughline, knex: hand, direct, raw } = row.cells
    return [
      row.database,
      row.scenario,
      statements(throughline, hand),
      formatTime(throughline?.median ?? Number.NaN),
      formatTime(hand?.median ?? Number.NaN),
      targetRatio(throughline, hand, PEER_TARGETS.knex),
      direct === undefined && raw === undefined ? '–' : statements(direct, raw),
      formatTime(direct?.median ?? Number.NaN),
      formatTime(raw?.median ?? Number.NaN),
      targetRatio(direct, raw, PEER_TARGETS.raw),
    ]
  })
  return renderTable([headers, ...lines])
}

// ------------------------------------------------------------------ AsyncLocalStorage check

/** Hand-written code timed before and after throughline first ran in this process. */
export interface AfterThroughline {
  /** What was timed. */
  readonly what: string
  /** Median per call, in milliseconds: the first block before, the second block before (the drift between the two), after. */
  readonly before: number
  readonly beforeAgain: number
  readonly after: number
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/**
 * Times hand-written knex toggles on SQLite, and a loop of bare awaits, twice before anything
 * of throughline ran in this process, then once after throughline's calls ran there (an add,
 * which opens a transaction, and a toggle). On Node 20 an AsyncLocalStorage that has run once
 * installs a promise hook for the whole process, so every promise of the application after it
 * would pay. Must run first, before any other scenario: it is the only moment the process has
 * not run throughline yet.
 */
export async function afterThroughlineCheck(rounds: number): Promise<AfterThroughline[]> {
  const db = knex({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true, pool: { min: 1, max: 1, idleTimeoutMillis: 3_600_000 } })
  try {
    const storage = new KnexStorage(db)
    const hand = relationFixtures('peer_als_a_').plain
    const used = relationFixtures('peer_als_b_').plain
    await storage.create(hand)
    await storage.create(used)
    const subject = new KnexPeer(db, joinNames(hand), knexPageRows(db, hand))
    const pairs = hand.layout.toggleTargets.map((target, index): [number, number] => [hand.layout.toggleSources[index % 10]!, target])
    const toggles = async (): Promise<number> => {
      const started = performance.now()
      for (let pass = 0; pass < 8; pass++) for (const [source, target] of pairs) await subject.toggle(source, target)
      return (performance.now() - started) / (pairs.length * 8)
    }
    const awaits = async (): Promise<number> => {
      const started = performance.now()
      for (let index = 0; index < 100_000; index++) await Promise.resolve(index)
      // Per 1000 awaits: one await is a fraction of a microsecond.
      return (performance.now() - started) / 100
    }
    const block = async (): Promise<[number, number]> => {
      const toggleTimes: number[] = []
      const awaitTimes: number[] = []
      for (let round = 0; round < rounds; round++) {
        toggleTimes.push(await toggles())
        awaitTimes.push(await awaits())
      }
      return [median(toggleTimes), median(awaitTimes)]
    }
    await block() // warm-up
    const before = await block()
    const beforeAgain = await block()
    // throughline's calls, on tables of their own: an add (a transaction) and a toggle.
    const relation = used.relation.using(new KnexAdapter(db))
    await relation.of(used.layout.addNew).add(used.layout.targets.slice(0, 10))
    await relation.of(used.layout.addNew).toggle(used.layout.targets[0]!)
    const after = await block()
    await storage.drop(hand)
    await storage.drop(used)
    return [
      { what: 'hand-written knex toggle on SQLite (per toggle)', before: before[0], beforeAgain: beforeAgain[0], after: after[0] },
      { what: '1000 × `await Promise.resolve()`', before: before[1], beforeAgain: beforeAgain[1], after: after[1] },
    ]
  } finally {
    await db.destroy()
  }
}

/** The check's table. */
export function afterThroughlineTable(results: readonly AfterThroughline[]): string {
  const headers = ['hand-written code in the bench process', 'before throughline ran', 'before, again', 'after throughline ran', 'after ÷ before again', 'before again ÷ before (drift)']
  const lines = results.map((result) => [
    result.what,
    formatTime(result.before),
    formatTime(result.beforeAgain),
    formatTime(result.after),
    `${(result.after / result.beforeAgain).toFixed(2)}×`,
    `${(result.beforeAgain / result.before).toFixed(2)}×`,
  ])
  return renderTable([headers, ...lines])
}
