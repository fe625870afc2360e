import assert from 'node:assert/strict'
import type { Knex } from 'knex'
import { afterAll, beforeAll, describe, it } from 'vitest'
import type { Row } from '../../src/index.js'
import { KnexAdapter } from '../../src/adapters/knex/index.js'
import { reliabilityFixture } from '../../src/conformance/fixtures/reliability.js'
import { connectToNode, galeraDatabaseName, galeraEnabled, galeraPlace, galeraUrls, reportGaleraSkipped } from '../helpers/galera-targets.js'
import {
  ALL_CLUBS,
  ALL_MEMBERS,
  CLUB_SETS,
  CONCURRENCY_PREFIX,
  FRIEND_SETS,
  MIXED_CLUBS,
  MIXED_MEMBERS,
  PHASES,
  SET_SOURCES,
  TOGGLED,
  type OpRecord,
  type Phase,
  type SetSource,
  type WorkerConfig,
  type WorkerMessage,
} from './helpers/concurrency-plan.js'
import { recreateTables } from './helpers/databases.js'
import { printFigures } from './helpers/figures.js'
import { isLinearizable, type PairEffect, type PairOp, type ToggleModel } from './helpers/linearizability.js'
import { WorkerProcess } from './helpers/processes.js'

// Several writers on a MariaDB Galera cluster (scripts/galera.sh): OS processes of the
// concurrency test's worker, each connected to a different node, run the concurrency test's
// phases (add, remove, toggle, set, clear, create and reads on the same few pairs, from both
// sides of a relation, on a symmetrical one and on a through table; then sets; then toggle
// storms). Galera certifies each transaction at COMMIT against the ones other nodes committed
// meanwhile; a conflict aborts it with ER_LOCK_DEADLOCK, which the adapter's retry policy runs
// again. Afterwards every table is read on every node (after a causality wait, so that each node
// has applied every commit): the same rows on all three, no pair stored twice, no half
// symmetrical link, every created row there once, every pair in a state some order of the
// calls explains, and no call failed. The retries are counted from the adapters' `log` option.
// Part of `npm run test:long`; skipped when GALERA_URLS is unset.

// Two processes per node by default: 6 × 340 calls.
const PROCESSES = Number(process.env.GALERA_PROCESSES ?? 6)
const CALLS: Record<Phase, number> = {
  mixed: Number(process.env.GALERA_CALLS ?? 200),
  sets: 70,
  toggles: 70,
}
const SEED = Number(process.env.GALERA_SEED ?? Date.now() % 100_000)
const fx = reliabilityFixture(CONCURRENCY_PREFIX)

reportGaleraSkipped('galera multi-writer test')

interface State {
  readonly clubs: ReadonlySet<string>
  readonly roles: ReadonlySet<string>
  readonly friends: ReadonlySet<string>
  readonly halfFriends: readonly string[]
  readonly duplicates: readonly string[]
  readonly clubRows: readonly Row[]
}

/** Every row of every table of one node, as sorted JSON lines per table. */
type Dump = Record<string, string[]>

interface Run {
  readonly ops: OpRecord[]
  readonly retries: Record<string, number>
  readonly states: Record<'start' | Phase, State>
  /** The final state as each node sees it. */
  readonly finals: State[]
  readonly dumps: Dump[]
  readonly exitCodes: (number | null)[]
  readonly fatal: string[]
  readonly seconds: number
}

function friendPair(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`
}

/** Reads on `db` after the node applied every transaction committed anywhere before the read (wsrep_sync_wait). */
async function causalRead<R>(db: Knex, read: (trx: Knex.Transaction) => Promise<R>): Promise<R> {
  return db.transaction(async (trx) => {
    await trx.raw('SET SESSION wsrep_sync_wait = 1')
    try {
      return await read(trx)
    } finally {
      await trx.raw('SET SESSION wsrep_sync_wait = 0')
    }
  })
}

async function readState(db: Knex, handleOf: (key: unknown, kind: 'm' | 'c') => string): Promise<State> {
  const [clubRows, roleRows, friendRows, clubs] = await causalRead(db, async (trx) => [
    await trx(fx.clubs.link.table).select('*'),
    await trx(fx.roles.link.table).select('*'),
    await trx(fx.friends.link.table).select('*'),
    await trx(fx.Club.table).select('*'),
  ])
  const duplicates: string[] = []
  const pairs = (rows: Row[], source: string, target: string, table: string, kind: 'm' | 'c'): Set<string> => {
    const seen = new Set<string>()
    for (const row of rows) {
      const pair = `${handleOf(row[source], 'm')}|${handleOf(row[target], kind)}`
      if (seen.has(pair)) duplicates.push(`${table}: ${pair}`)
      seen.add(pair)
    }
    return seen
  }
  const { clubs: c, roles: r, friends: f } = { clubs: fx.clubs.link, roles: fx.roles.link, friends: fx.friends.link }
  const directed = pairs(friendRows, f.sourceColumn, f.targetColumn, f.table, 'm')
  const friends = new Set<string>()
  const halfFriends: string[] = []
  for (const pair of directed) {
    const [a, b] = pair.split('|') as [string, string]
    if (directed.has(`${b}|${a}`)) friends.add(friendPair(a, b))
    else halfFriends.push(pair)
  }
  return {
    clubs: pairs(clubRows, c.sourceColumn, c.targetColumn, c.table, 'c'),
    roles: pairs(roleRows, r.sourceColumn, r.targetColumn, r.table, 'c'),
    friends,
    halfFriends,
    duplicates,
    clubRows: clubs,
  }
}

async function dump(db: Knex): Promise<Dump> {
  return causalRead(db, async (trx) => {
    const result: Dump = {}
    for (const table of fx.tables) {
      result[table] = (await trx(table).select('*')).map((row: Row) => JSON.stringify(row)).sort()
    }
    return result
  })
}

function createdTitle(op: OpRecord): string | undefined {
  return op.method === 'create' && op.outcome.ok ? op.outcome.created?.title : undefined
}

/** The write effects of one phase's successful calls on each pair, keyed by `table:pair` (reads left out: a node may answer a read before it applied another node's commit). */
function pairOps(ops: readonly OpRecord[], phase: Phase, handleOfCreated: ReadonlyMap<string, string>): Map<string, PairOp[]> {
  const result = new Map<string, PairOp[]>()
  const createdClubs = ops.filter((op) => op.phase === phase && createdTitle(op) !== undefined).map((op) => handleOfCreated.get(createdTitle(op)!)!)
  const add = (key: string, op: OpRecord, effect: PairEffect): void => {
    const list = result.get(key) ?? []
    list.push({ process: op.worker, start: BigInt(op.start), end: BigInt(op.end), effect, label: `${op.side}.of(${op.source}).${op.method}(${(op.targets ?? []).join(', ')}) by process ${String(op.worker)}` })
    result.set(key, list)
  }
  for (const op of ops) {
    if (op.phase !== phase || !op.outcome.ok) continue
    const relation = op.side.startsWith('clubs') ? 'clubs' : op.side.startsWith('roles') ? 'roles' : 'friends'
    const reverse = op.side.endsWith('.reverse')
    const pairKey = (target: string): string =>
      relation === 'friends' ? `friends:${friendPair(op.source, target)}` : reverse ? `${relation}:${target}|${op.source}` : `${relation}:${op.source}|${target}`
    const universe =
      phase === 'sets'
        ? SET_SOURCES[op.source as SetSource].family === 'clubs'
          ? CLUB_SETS.flat()
          : FRIEND_SETS.flat()
        : relation === 'friends' || reverse
          ? [...MIXED_MEMBERS]
          : [...MIXED_CLUBS, ...createdClubs]
    const targets = op.targets ?? []
    switch (op.method) {
      case 'add':
        for (const target of targets) add(pairKey(target), op, { kind: 'write', value: true })
        break
      case 'remove':
        for (const target of targets) add(pairKey(target), op, { kind: 'write', value: false })
        break
      case 'set':
        for (const target of universe) add(pairKey(target), op, { kind: 'write', value: targets.includes(target) })
        break
      case 'clear':
        for (const target of universe) add(pairKey(target), op, { kind: 'write', value: false })
        break
      case 'toggle':
        add(pairKey(targets[0]!), op, { kind: 'flip', result: op.outcome.value === true })
        break
      case 'create':
        add(pairKey(handleOfCreated.get(createdTitle(op)!)!), op, { kind: 'write', value: true })
        break
      default:
        break
    }
  }
  return result
}

function linked(state: State, key: string): boolean {
  const [table, pair] = key.split(':') as [string, string]
  return table === 'clubs' ? state.clubs.has(pair) : table === 'roles' ? state.roles.has(pair) : state.friends.has(pair)
}

/** The pairs of a phase whose final state no order of the phase's writes explains. */
function unexplained(run: Run, phase: Phase, toggles: ToggleModel, only?: (key: string) => boolean): string[] {
  const before = run.states[PHASES[PHASES.indexOf(phase) - 1] ?? 'start']
  const after = run.states[phase]
  const createdHandles = new Map<string, string>()
  for (const row of run.states.toggles.clubRows) createdHandles.set(String(row.title), `new${String(row.id)}`)
  const failures: string[] = []
  for (const [key, ops] of pairOps(run.ops, phase, createdHandles)) {
    if (only !== undefined && !only(key)) continue
    const history = { initial: linked(before, key), final: linked(after, key), ops }
    if (!isLinearizable(history, toggles)) failures.push(`${phase} ${key}: from ${String(history.initial)} to ${String(history.final)} through ${String(ops.length)} calls`)
  }
  return failures
}

/** Titles of successful creates missing from a node, and titles stored twice. */
function createdRows(run: Run, state: State): { readonly lost: string[]; readonly duplicated: string[] } {
  const titles = state.clubRows.map((row) => String(row.title))
  const present = new Set(titles)
  return {
    lost: run.ops.flatMap((op) => {
      const title = createdTitle(op)
      return title !== undefined && !present.has(title) ? [title] : []
    }),
    duplicated: titles.filter((title, index) => titles.indexOf(title) !== index),
  }
}

/** Final states of the sets phase's sources that are none of their family's sets. */
function mixedSets(state: State): string[] {
  const families = { clubs: CLUB_SETS.map((set) => [...set].sort().join(',')), friends: FRIEND_SETS.map((set) => [...set].sort().join(',')) }
  return (Object.keys(SET_SOURCES) as SetSource[]).flatMap((source) => {
    const { family } = SET_SOURCES[source]
    const links =
      family === 'clubs'
        ? [...state.clubs].filter((pair) => pair.startsWith(`${source}|`)).map((pair) => pair.split('|')[1]!)
        : [...state.friends].filter((pair) => pair.split('|').includes(source)).map((pair) => pair.split('|').find((handle) => handle !== source)!)
    const text = links.sort().join(',')
    return families[family].includes(text) ? [] : [`${source} ended as {${text}}`]
  })
}

async function runOnCluster(nodes: readonly Knex[], name: string): Promise<Run> {
  const started = Date.now()
  const db = nodes[0]!
  const adapter = new KnexAdapter(db)
  await recreateTables(db, fx.schema)
  const keys: Record<string, number> = {}
  for (const handle of ALL_MEMBERS) keys[handle] = Number((await adapter.insertTarget({ target: fx.Member.spec, values: { name: handle } })).id)
  for (const handle of ALL_CLUBS) keys[handle] = Number((await adapter.insertTarget({ target: fx.Club.spec, values: { title: handle } })).id)
  const handles = new Map(Object.entries(keys).map(([handle, key]) => [`${handle[0]!}${String(key)}`, handle]))
  for (const [source, { family }] of Object.entries(SET_SOURCES)) {
    const relation = family === 'clubs' ? fx.clubs : fx.friends
    await relation.using(adapter).of(keys[source]!).set((family === 'clubs' ? CLUB_SETS : FRIEND_SETS)[0]!.map((handle) => keys[handle]!))
  }
  const handleOf = (key: unknown, kind: 'm' | 'c'): string => handles.get(`${kind}${String(key)}`) ?? `new${String(key)}`
  const states = { start: await readState(db, handleOf) } as Record<'start' | Phase, State>

  // Worker n on node n mod 3: every node takes writes.
  const workers = Array.from({ length: PROCESSES }, (_, worker) => {
    const config: WorkerConfig = { place: galeraPlace(worker, name), worker, seed: SEED, calls: CALLS, keys }
    return new WorkerProcess<WorkerMessage>('test/reliability/workers/concurrency-worker.ts', [JSON.stringify(config)])
  })
  try {
    await Promise.all(workers.map((worker) => worker.waitFor((message) => message.type === 'ready' || message.type === 'fatal')))
    for (const phase of PHASES) {
      for (const worker of workers) worker.send(`go ${phase}`)
      await Promise.all(workers.map((worker) => worker.waitFor((message) => (message.type === 'phaseDone' && message.phase === phase) || message.type === 'fatal', 180_000)))
      states[phase] = await readState(db, handleOf)
    }
    for (const worker of workers) worker.send('exit')
    const exitCodes = await Promise.all(workers.map((worker) => worker.exited))
    const messages = workers.flatMap((worker) => worker.messages)
    const retries: Record<string, number> = {}
    for (const message of messages) {
      if (message.type !== 'phaseDone') continue
      for (const [code, count] of Object.entries(message.retries ?? {})) retries[code] = (retries[code] ?? 0) + count
    }
    return {
      ops: messages.flatMap((message) => (message.type === 'op' ? [message.op] : [])),
      retries,
      states,
      finals: await Promise.all(nodes.map((node) => readState(node, handleOf))),
      dumps: await Promise.all(nodes.map((node) => dump(node))),
      exitCodes,
      fatal: [
        ...messages.flatMap((message) => (message.type === 'fatal' ? [message.error] : [])),
        ...workers.flatMap((worker) => worker.stderr.filter((line) => line.trim() !== '')),
      ],
      seconds: (Date.now() - started) / 1000,
    }
  } finally {
    for (const worker of workers) worker.kill()
  }
}

function describeFailure(op: OpRecord): string {
  const outcome = op.outcome
  if (outcome.ok) return ''
  return `${op.phase} #${String(op.index)} by process ${String(op.worker)}: ${op.side}.of(${op.source}).${op.method}(${(op.targets ?? []).join(', ')}) -> ${outcome.code}: ${outcome.message}${outcome.cause === undefined ? '' : ` (cause: ${outcome.cause})`}`
}

describe.skipIf(!galeraEnabled)(`Galera: ${String(PROCESSES)} processes writing through ${String(galeraUrls.length)} nodes on the same pairs`, () => {
  const name = galeraDatabaseName('multi')
  let nodes: Knex[] = []
  let run: Run | undefined
  const result = (): Run => {
    if (run === undefined) throw new Error('The workers did not run.')
    return run
  }

  beforeAll(async () => {
    nodes = galeraUrls.map((_, node) => connectToNode(node, name, 2))
    run = await runOnCluster(nodes, name)
  }, 300_000)

  afterAll(async () => {
    try {
      await nodes[0]?.raw('DROP DATABASE IF EXISTS ??', [name])
    } finally {
      await Promise.all(nodes.map((node) => node.destroy()))
    }
    if (run === undefined) return
    const r = run
    const retries = Object.values(r.retries).reduce((sum, count) => sum + count, 0)
    const lost = r.finals.reduce((sum, state) => sum + createdRows(r, state).lost.length + state.halfFriends.length, 0) + PHASES.reduce((sum, phase) => sum + unexplained(r, phase, 'write').length, 0)
    const duplicated = r.finals.reduce((sum, state) => sum + state.duplicates.length + createdRows(r, state).duplicated.length, 0)
    printFigures(`Galera multi-writer (${String(PROCESSES)} processes on ${String(galeraUrls.length)} nodes; seed ${String(SEED)})`, [
      {
        processes: PROCESSES,
        nodes: galeraUrls.length,
        'calls run': r.ops.length,
        ...Object.fromEntries(PHASES.map((phase) => [`${phase} calls`, r.ops.filter((op) => op.phase === phase).length])),
        'failed calls': r.ops.filter((op) => !op.outcome.ok).length,
        retries: `${String(retries)}${retries > 0 ? ` (${Object.entries(r.retries).map(([code, count]) => `${code}: ${String(count)}`).join(', ')})` : ''}`,
        'rows compared on each node': r.dumps.map((d) => Object.values(d).reduce((sum, rows) => sum + rows.length, 0)).join(' / '),
        'nodes that differ': r.dumps.filter((d) => JSON.stringify(d) !== JSON.stringify(r.dumps[0])).length,
        'rows lost': lost,
        'rows duplicated': duplicated,
        'toggled pairs that lost a flip': unexplained(r, 'toggles', 'strict').length,
        seconds: r.seconds.toFixed(1),
      },
    ])
  })

  it('runs every call to completion: no unhandled error, no failed call (conflicts are run again)', () => {
    const { ops, fatal, exitCodes } = result()
    assert.deepEqual(fatal, [], 'A worker reported an unhandled error or wrote to stderr.')
    assert.deepEqual(exitCodes, Array.from({ length: PROCESSES }, () => 0), 'A worker did not exit cleanly.')
    assert.equal(ops.length, PROCESSES * (CALLS.mixed + CALLS.sets + CALLS.toggles), 'Calls are missing from the reports.')
    const failed = ops.filter((op) => !op.outcome.ok)
    assert.deepEqual(failed.filter((op) => !op.outcome.ok && !op.outcome.typed).map(describeFailure), [], 'Calls failed with an error that is not a throughline error.')
    assert.deepEqual(failed.map(describeFailure), [], 'Calls on valid input failed.')
  })

  it('ends with the same rows on every node', () => {
    const { dumps } = result()
    for (const [node, rows] of dumps.entries()) {
      for (const table of fx.tables) assert.deepEqual(rows[table], dumps[0]![table], `Node ${String(node + 1)} differs from node 1 in ${table}.`)
    }
  })

  it('never stores a pair twice, nor half of a symmetrical link, nor a created row twice, on any node', () => {
    const r = result()
    for (const [node, state] of r.finals.entries()) {
      assert.deepEqual(state.duplicates, [], `Duplicate pairs on node ${String(node + 1)}.`)
      assert.deepEqual(state.halfFriends, [], `Friend rows without their mirror on node ${String(node + 1)}.`)
      assert.deepEqual(createdRows(r, state).duplicated, [], `A created row is stored twice on node ${String(node + 1)}.`)
    }
    for (const phase of PHASES) {
      assert.deepEqual(r.states[phase].duplicates, [], `Duplicate pairs after the ${phase} phase.`)
      assert.deepEqual(r.states[phase].halfFriends, [], `Friend rows without their mirror after the ${phase} phase.`)
    }
  })

  it('loses nothing: every created row is there, and every pair ends as some order of the writes leaves it', () => {
    const r = result()
    for (const [node, state] of r.finals.entries()) assert.deepEqual(createdRows(r, state).lost, [], `Created rows missing on node ${String(node + 1)}.`)
    const failures = PHASES.flatMap((phase) => unexplained(r, phase, 'write'))
    assert.deepEqual(failures, [], 'No order of the writes explains these pairs.')
    assert.deepEqual(mixedSets(r.states.sets), [], 'A set source ended as a mix of sets.')
  })

  it('serialises toggles of one pair across nodes: no flip lost', () => {
    const failures = unexplained(result(), 'toggles', 'strict', (key) => TOGGLED.some(({ source, target }) => key.includes(source) && key.includes(target)))
    assert.deepEqual(failures, [], 'Toggles of these pairs cannot be put in any order: a flip was lost.')
  })
})
