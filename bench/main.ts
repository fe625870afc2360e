/**
 * `npm run bench`: throughline against hand-written SQL on the same connection, scenario by
 * scenario, printed as one table. SQLite in memory always; PostgreSQL too when PG_URL is set;
 * the memory adapter's throughput last. Then the peer comparison (issue #13): throughline
 * against what a careful developer writes without it, on SQLite, PostgreSQL (PG_URL) and
 * MariaDB (MYSQL_URL), and hand-written code timed before and after throughline first ran in
 * the process. See docs/performance.md ("Benchmark", "Peer comparison").
 *
 * Options (after `npm run bench --`): `--quick` (a short run, for checking the bench itself),
 * `--only=add-new,toggle` (scenario ids), `--db=sqlite,postgres,memory`, `--kinds=plain,through`
 * (relation kinds), `--variants=drizzle,drizzleHand` (variant ids: fewer variants, a shorter run
 * while working on one adapter; the ratios of the variants left out print as –),
 * `--tables=main,peer,scaling` (which tables), `--peer-only=toggle,list-page` (peer scenario ids).
 *
 * Last, the scaling table (issue #13, bench/scaling.ts: add, set, count, all and toggle at
 * N = 10 … 100 000 on BetterSqlite3Adapter and KnexAdapter, SQLite in memory), about 45 s on
 * the 2-core machine, so part of the default run; `--tables=scaling` runs it alone, narrowed by
 * `--sizes=10,1000` and `--operations=add,toggle`; `--quick` applies to it too.
 */
import { cpus, loadavg } from 'node:os'
import knex, { type Knex } from 'knex'
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely'
import pg from 'pg'
import { BetterSqlite3Adapter } from '../src/adapters/better-sqlite3/index.js'
import { KnexAdapter } from '../src/adapters/knex/index.js'
import { KyselyAdapter } from '../src/adapters/kysely/index.js'
import { DrizzleAdapter } from '../src/adapters/drizzle/index.js'
import { MemoryAdapter } from '../src/index.js'
import { KnexBaseline } from './baselines/knex-baseline.js'
import { KyselyBaseline } from './baselines/kysely-baseline.js'
import { DrizzleBaseline } from './baselines/drizzle-baseline.js'
import { SqliteBaseline } from './baselines/sqlite-baseline.js'
import { joinNames, RELATION_KINDS, relationFixtures, type RelationFixture, type RelationKind } from './fixtures.js'
import { measure, type Budget, type Contender, type Measurement } from './measure.js'
import { afterThroughlineCheck, afterThroughlineTable, peerTable, runPeerServer, runPeerSqlite, type AfterThroughline, type PeerRow } from './peer.js'
import { formatTime, libraryTable, markdownTable, type ResultRow, type VariantId } from './report.js'
import { runScaling, scalingFootnote, scalingTable, type ScalingResult } from './scaling.js'
import { SCENARIOS, type Scenario, type ScenarioContext } from './scenarios.js'
import { KnexStorage, MemoryStorage, openSqlite, SqliteStorage, type Storage } from './storage.js'
import { ThroughlineSubject, type Subject } from './subject.js'

const args = process.argv.slice(2)
const option = (name: string): string | undefined => args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3)
const quick = args.includes('--quick')
const only = option('only')?.split(',')
const databases = option('db')?.split(',') ?? ['sqlite', 'postgres', 'memory', 'mariadb']
const tables = option('tables')?.split(',') ?? ['main', 'peer', 'scaling']
const peerOnly = option('peer-only')?.split(',')
const kinds = option('kinds')?.split(',')
const variantIds = option('variants')?.split(',')
const scalingSizes = option('sizes')?.split(',').map(Number)
const scalingOperations = option('operations')?.split(',')

const budget: Budget = quick ? { rounds: 2, roundTime: 30, minSamples: 2, resetSamples: 2 } : { rounds: 7, roundTime: 60, minSamples: 3, resetSamples: 6 }
const scenarios = SCENARIOS.filter((scenario) => only === undefined || only.includes(scenario.id))

/** One variant of a database run: its tables (by prefix), and the subject over them. */
interface Variant {
  readonly id: VariantId
  readonly prefix: string
  readonly storage: Storage
  readonly subject: (fixture: RelationFixture) => Subject
}

const rows: ResultRow[] = []
const notes: string[] = []
const skipped = new Set<string>()

function log(message: string): void {
  process.stderr.write(`${message}\n`)
}

/** Runs every scenario of one relation kind on one database, every variant side by side. */
async function runKind(database: string, kind: RelationKind, allVariants: readonly Variant[]): Promise<void> {
  if (kinds !== undefined && !kinds.includes(kind)) return
  const variants = allVariants.filter((variant) => variantIds === undefined || variantIds.includes(variant.id))
  if (variants.length === 0) return
  const fixtures = variants.map((variant) => relationFixtures(variant.prefix)[kind])
  for (const [index, variant] of variants.entries()) await variant.storage.create(fixtures[index]!)
  const contexts: ScenarioContext[] = variants.map((variant, index) => ({
    fixture: fixtures[index]!,
    subject: variant.subject(fixtures[index]!),
    storage: variant.storage,
    toggleCursor: 0,
  }))
  for (const scenario of scenarios) {
    const started = performance.now()
    const missing = contexts.filter((context) => scenario.available?.(context.subject) === false)
    if (missing.length > 0) {
      rows.push({ database, kind, scenario: scenario.title, cells: {}, note: 'skipped: no relation.prefetch() yet' })
      skipped.add(scenario.id)
      continue
    }
    let results: Measurement[]
    try {
      for (const context of contexts) {
        await scenario.prepare(context)
        await context.storage.analyze(context.fixture)
      }
      const contenders = contexts.map((context, index): Contender => contender(variants[index]!.id, scenario, context))
      results = await measure(contenders, budget, scenario.callsPerSample)
    } catch (error) {
      // One scenario failing (an adapter without the operation yet) leaves the others to run.
      const message = error instanceof Error ? error.message : String(error)
      rows.push({ database, kind, scenario: scenario.title, cells: {}, note: `failed: ${message.slice(0, 60)}` })
      log(`  ${database} ${kind} ${scenario.id}: failed: ${message}`)
      continue
    }
    const cells: ResultRow['cells'] = {}
    for (const [index, variant] of variants.entries()) cells[variant.id] = results[index]!
    rows.push({ database, kind, scenario: scenario.title, cells })
    const summary = variants.map((variant, index) => `${variant.id} ${formatTime(results[index]!.median)}`).join(', ')
    log(`  ${database} ${kind} ${scenario.id}: ${summary} (${((performance.now() - started) / 1000).toFixed(1)} s)`)
  }
  for (const [index, variant] of variants.entries()) await variant.storage.drop(fixtures[index]!)
}

function contender(id: VariantId, scenario: Scenario, context: ScenarioContext): Contender {
  const { beforeEach } = scenario
  return {
    name: id,
    run: () => scenario.run(context),
    statements: () => context.subject.statements(),
    ...(beforeEach === undefined ? {} : { beforeEach: () => beforeEach(context) }),
  }
}

async function runSqlite(): Promise<void> {
  // One connection for every variant (see openSqlite).
  const { db, connection, version } = await openSqlite()
  try {
    notes.push(`SQLite ${version} in memory (better-sqlite3), one connection for every variant`)
    const storage = new SqliteStorage(db, connection)
    // Kysely on that connection too (not destroyed: that would close it under knex).
    const kysely = new Kysely<unknown>({ dialect: new SqliteDialect({ database: connection }) })
    // And Drizzle (closing it is closing the connection: it is not closed here either).
    const drizzleDb = drizzleSqlite(connection)
    const variants: Variant[] = [
      { id: 'throughline', prefix: 'bench_a_', storage, subject: (fixture) => new ThroughlineSubject(fixture, new KnexAdapter(db)) },
      { id: 'knex', prefix: 'bench_b_', storage, subject: (fixture) => new KnexBaseline(db, joinNames(fixture), fixture.extraValues) },
      { id: 'direct', prefix: 'bench_c_', storage, subject: (fixture) => new ThroughlineSubject(fixture, new BetterSqlite3Adapter(connection)) },
      { id: 'raw', prefix: 'bench_d_', storage, subject: (fixture) => new SqliteBaseline(connection, joinNames(fixture), fixture.extraValues) },
      { id: 'kysely', prefix: 'bench_e_', storage, subject: (fixture) => new ThroughlineSubject(fixture, new KyselyAdapter(kysely)) },
      { id: 'kyselyHand', prefix: 'bench_f_', storage, subject: (fixture) => new KyselyBaseline(kysely, joinNames(fixture), fixture.extraValues, true) },
      { id: 'drizzle', prefix: 'bench_g_', storage, subject: (fixture) => new ThroughlineSubject(fixture, new DrizzleAdapter(drizzleDb)) },
      { id: 'drizzleHand', prefix: 'bench_h_', storage, subject: (fixture) => new DrizzleBaseline(drizzleDb, joinNames(fixture), fixture.extraValues, true) },
    ]
    for (const kind of RELATION_KINDS) await runKind('sqlite', kind, variants)
  } finally {
    await db.destroy()
  }
}

async function runPostgres(url: string): Promise<void> {
  // A schema of its own, dropped at the end: the bench never touches other tables.
  const schema = `throughline_bench_${String(process.pid)}`
  const db: Knex = knex({ client: 'pg', connection: url, searchPath: [schema], pool: { min: 1, max: 1 } })
  const kysely = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1, options: `-c search_path=${schema}` }) }) })
  const drizzlePool = new pg.Pool({ connectionString: url, max: 1, options: `-c search_path=${schema}` })
  const drizzleDb = drizzlePg(drizzlePool)
  try {
    await db.raw('CREATE SCHEMA IF NOT EXISTS ??', [schema])
    const result: unknown = await db.raw('SHOW server_version')
    const [version] = (result as { rows: { server_version: string }[] }).rows
    notes.push(`PostgreSQL ${version?.server_version ?? '?'} (pg), one pooled connection for the knex variants, one for the Kysely variants, one for the Drizzle variants`)
    const storage = new KnexStorage(db)
    const variants: Variant[] = [
      { id: 'throughline', prefix: 'bench_a_', storage, subject: (fixture) => new ThroughlineSubject(fixture, new KnexAdapter(db)) },
      { id: 'knex', prefix: 'bench_b_', storage, subject: (fixture) => new KnexBaseline(db, joinNames(fixture), fixture.extraValues) },
      { id: 'kysely', prefix: 'bench_e_', storage, subject: (fixture) => new ThroughlineSubject(fixture, new KyselyAdapter(kysely)) },
      { id: 'kyselyHand', prefix: 'bench_f_', storage, subject: (fixture) => new KyselyBaseline(kysely, joinNames(fixture), fixture.extraValues, false) },
      { id: 'drizzle', prefix: 'bench_g_', storage, subject: (fixture) => new ThroughlineSubject(fixture, new DrizzleAdapter(drizzleDb)) },
      { id: 'drizzleHand', prefix: 'bench_h_', storage, subject: (fixture) => new DrizzleBaseline(drizzleDb, joinNames(fixture), fixture.extraValues, false) },
    ]
    for (const kind of RELATION_KINDS) await runKind('postgres', kind, variants)
  } finally {
    await kysely.destroy()
    await drizzlePool.end()
    await db.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema])
    await db.destroy()
  }
}

async function runMemory(): Promise<void> {
  const store = new MemoryAdapter()
  const variants: Variant[] = [{ id: 'throughline', prefix: 'bench_m_', storage: new MemoryStorage(store), subject: (fixture) => new ThroughlineSubject(fixture, store) }]
  for (const kind of RELATION_KINDS) await runKind('memory', kind, variants)
}

const started = performance.now()
const loadBefore = loadavg()
const cpu = cpus()
log(`throughline bench${quick ? ' (quick)' : ''}: ${String(budget.rounds)} rounds per variant after a warm-up round (progress below, the table at the end)`)
const peer = tables.includes('peer')
const pgUrl = process.env.PG_URL
const mysqlUrl = process.env.MYSQL_URL
// First of all: the only moment this process has not run throughline yet.
let afterThroughline: AfterThroughline[] | undefined
if (peer && databases.includes('sqlite')) {
  log('  hand-written code before and after throughline first runs in this process…')
  afterThroughline = await afterThroughlineCheck(quick ? 2 : 7)
}
if (tables.includes('main')) {
  if (databases.includes('sqlite')) await runSqlite()
  if (databases.includes('postgres')) {
    if (pgUrl !== undefined && pgUrl !== '') await runPostgres(pgUrl)
    else notes.push('PostgreSQL skipped: set PG_URL (or run `eval "$(bash scripts/databases.sh start)"`) to include it')
  }
  if (databases.includes('memory')) await runMemory()
}
const peerRows: PeerRow[] = []
const peerNotes: string[] = []
if (peer) {
  const peerOptions = { budget, only: peerOnly, log }
  if (databases.includes('sqlite')) await runPeerSqlite(peerOptions, peerRows)
  if (databases.includes('postgres') && (pgUrl === undefined || pgUrl === '')) peerNotes.push('PostgreSQL skipped in the peer comparison: set PG_URL to include it')
  if (databases.includes('postgres') && pgUrl !== undefined && pgUrl !== '') {
    const schema = `throughline_peer_${String(process.pid)}`
    const db = knex({ client: 'pg', connection: pgUrl, searchPath: [schema], pool: { min: 1, max: 1 } })
    try {
      await db.raw('CREATE SCHEMA IF NOT EXISTS ??', [schema])
      await runPeerServer('postgres', db, peerOptions, peerRows)
    } finally {
      await db.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema])
      await db.destroy()
    }
  }
  if (databases.includes('mariadb')) {
    if (mysqlUrl !== undefined && mysqlUrl !== '') {
      // A database of its own, dropped at the end, on one pooled connection.
      const name = `throughline_peer_${String(process.pid)}`
      const db = knex({
        client: 'mysql2',
        connection: mysqlUrl,
        pool: {
          min: 1,
          max: 1,
          afterCreate: (connection: { query(sql: string, done: (error: unknown) => void): void }, done: (error: unknown, connection: unknown) => void) => {
            connection.query(`CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4`, (error) => {
              if (error !== null && error !== undefined) done(error, connection)
              else {
                connection.query(`USE \`${name}\``, (useError) => {
                  done(useError, connection)
                })
              }
            })
          },
        },
      })
      try {
        const [versionRows] = (await db.raw('SELECT VERSION() AS v')) as [{ v: string }[]]
        peerNotes.push(`MariaDB/MySQL ${versionRows[0]?.v ?? '?'} (mysql2), one pooled connection for both variants`)
        await runPeerServer('mariadb', db, peerOptions, peerRows)
      } finally {
        await db.raw('DROP DATABASE IF EXISTS ??', [name])
        await db.destroy()
      }
    } else {
      peerNotes.push('MariaDB skipped: set MYSQL_URL to include it')
    }
  }
}
let scaling: ScalingResult | undefined
if (tables.includes('scaling') && databases.includes('sqlite')) {
  log('  scaling table (SQLite in memory)…')
  scaling = await runScaling({ quick, sizes: scalingSizes, operations: scalingOperations, log })
}
const loadAfter = loadavg()

const format = (load: number[]): string => load.map((value) => value.toFixed(2)).join(' ')
console.log(`\nthroughline ${quick ? 'quick ' : ''}benchmark — median time per call; each ratio is the median, over the rounds, of the ratio of the two medians in that round\n`)
if (rows.length > 0) {
  console.log(markdownTable(rows))
  console.log('')
}
for (const [library, name, adapter] of [['kysely', 'Kysely', 'KyselyAdapter'], ['drizzle', 'Drizzle', 'DrizzleAdapter']] as const) {
  const libraryRows = libraryTable(rows, library)
  if (libraryRows === undefined) continue
  console.log(`${name}: throughline on ${name} (${adapter}) against hand-written ${name}, measured in the same rounds as the table above\n`)
  console.log(libraryRows)
  console.log('')
}
if (peerRows.length > 0) {
  console.log('Peer comparison (issue #13): throughline against the favourites endpoints written by hand as a careful developer would, without a library (bench/baselines/knex-peer.ts, sqlite-peer.ts); ✗: over the target\n')
  console.log(peerTable(peerRows))
  console.log('')
}
if (afterThroughline !== undefined) {
  console.log('Hand-written code in the same process, timed before and after throughline first ran in it (blocks one after another, not interleaved: see the drift column)\n')
  console.log(afterThroughlineTable(afterThroughline))
  console.log('')
}
if (scaling !== undefined && scaling.rows.length > 0) {
  console.log('Scaling (issue #13): cost against relation size and call size N, on SQLite in memory; per row is the median per call ÷ N (toggle: per call only, one pair toggled on then off on a source with N links)\n')
  console.log(scalingTable(scaling.rows))
  console.log('')
}
console.log(`- Node ${process.version} on ${cpu[0]?.model.trim() ?? 'an unknown CPU'} × ${String(cpu.length)}; load average ${format(loadBefore)} before, ${format(loadAfter)} after`)
for (const note of [...notes, ...peerNotes, ...(scaling?.notes ?? [])]) console.log(`- ${note}`)
if (scaling !== undefined) console.log(`- ${scalingFootnote(quick)}`)
if (tables.includes('main') || peer) {
  console.log(`- hand-written knex / Kysely / Drizzle / raw better-sqlite3: the same set-based statements written by hand (bench/baselines/), no validation, events or adapter`)
  if (skipped.has('prefetch')) console.log('- prefetch: skipped while `relation.prefetch(sources)` does not exist; it runs by itself once it does (baseline: one SELECT … JOIN … WHERE source IN (…))')
  console.log(
    `- ${String(budget.rounds)} measured rounds per variant after a warm-up round, in rotating order: ${String(budget.roundTime)} ms of calls each, or ` +
      `${String(budget.resetSamples)} samples where the tables are reset (untimed) before each; ${((performance.now() - started) / 1000).toFixed(0)} s in all`,
  )
} else {
  console.log(`- ${((performance.now() - started) / 1000).toFixed(0)} s in all`)
}
