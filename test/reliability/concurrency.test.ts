import assert from 'node:assert/strict'
import type { Knex } from 'knex'
import { afterAll, beforeAll, describe, it } from 'vitest'
import type { Row } from '../../src/index.js'
import { KnexAdapter } from '../../src/adapters/knex/index.js'
import { fixLanded } from '../../src/conformance/fixtures/pending-fixes.js'
import { reliabilityFixture } from '../../src/conformance/fixtures/reliability.js'
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
  type SetSource,
  TOGGLED,
  type OpRecord,
  type Phase,
  type WorkerConfig,
  type WorkerMessage,
} from './helpers/concurrency-plan.js'
import { connectTo, dropPlace, newPlace, recreateTables, reportSkippedServers, serverTargets, type Place, type ServerName } from './helpers/databases.js'
import { printFigures } from './helpers/figures.js'
import { isLinearizable, type PairEffect, type PairHistory, type PairOp, type ToggleModel } from './helpers/linearizability.js'
import { WorkerProcess } from './helpers/processes.js'
import { connectToSqliteFile, newSqliteFilePlace, removeSqliteFilePlace, type SqliteFileAdapter, type SqliteFilePlace } from './helpers/sqlite-file.js'

// Several OS processes share one database and run hundreds of add, remove, toggle, set, clear
// and create calls each, on the same few pairs, from both sides of a relation, on a
// symmetrical relation and on a through table. Then: no call failed (the input is valid),
// nothing escaped unhandled, no pair is stored twice, no symmetrical link is half there,
// every set was all-or-nothing (other processes never saw a partial one), and every pair ended
// in a state that the calls' documented semantics allow, checked by a linearizability search
// over the calls' real-time intervals.

const PROCESSES = Number(process.env.CONCURRENCY_PROCESSES ?? 4)
const CALLS: Record<Phase, number> = {
  mixed: Number(process.env.CONCURRENCY_CALLS ?? 250),
  sets: 120,
  toggles: 120,
}
// One SQLite file shared by several processes, each with its own connection (a Node cluster,
// PM2), once through each SQLite adapter. `npm test` runs 4 processes of 220 calls (18 and 26
// of their 880 calls failed before busy answers were run again); `npm run test:long` runs 8 of
// 440. The calls of a process are split 5:3:3 between the mixed, sets and toggles phases.
const SQLITE_PROCESSES = Number(process.env.CONCURRENCY_SQLITE_PROCESSES ?? 4)
const SQLITE_CALLS_EACH = Number(process.env.CONCURRENCY_SQLITE_CALLS ?? 220)
// Each connection's busy timeout (better-sqlite3's default: 5 s).
const SQLITE_BUSY_TIMEOUT = Number(process.env.CONCURRENCY_SQLITE_BUSY_TIMEOUT ?? 5000)
const SQLITE_CALLS: Record<Phase, number> = {
  mixed: SQLITE_CALLS_EACH - 2 * Math.round((SQLITE_CALLS_EACH * 3) / 11),
  sets: Math.round((SQLITE_CALLS_EACH * 3) / 11),
  toggles: Math.round((SQLITE_CALLS_EACH * 3) / 11),
}
const SEED = Number(process.env.CONCURRENCY_SEED ?? Date.now() % 100_000)
const fx = reliabilityFixture(CONCURRENCY_PREFIX)

reportSkippedServers('concurrency tests')

/** A database the workers run on, how many of them, and how many calls each makes. */
interface ConcurrencyTarget {
  readonly name: string
  readonly enabled: boolean
  readonly processes: number
  readonly calls: Readonly<Record<Phase, number>>
  /** On an SQLite file, the adapter the workers use. */
  readonly adapter?: SqliteFileAdapter
  /** The test's own connection to a new place, and how to remove the place. */
  readonly open: () => { readonly db: Knex; readonly place: Place | SqliteFilePlace; readonly close: () => Promise<void> }
}

const targets: readonly ConcurrencyTarget[] = [
  ...serverTargets.map((target) => ({
    name: target.name,
    enabled: target.enabled,
    processes: PROCESSES,
    calls: CALLS,
    open: () => {
      const place = newPlace(target.name as ServerName, 'conc')
      const db = connectTo(place, { max: 4 })
      const close = async (): Promise<void> => {
        try {
          await dropPlace(db, place)
        } finally {
          await db.destroy()
        }
      }
      return { db, place, close }
    },
  })),
  ...(['knex', 'better-sqlite3'] as const).map((adapter) => ({
    name: `an SQLite file (WAL) through ${adapter === 'knex' ? 'KnexAdapter' : 'BetterSqlite3Adapter'}`,
    enabled: true,
    processes: SQLITE_PROCESSES,
    calls: SQLITE_CALLS,
    adapter,
    open: () => {
      const place = newSqliteFilePlace('conc', SQLITE_BUSY_TIMEOUT)
      const db = connectToSqliteFile(place)
      const close = async (): Promise<void> => {
        await db.destroy()
        removeSqliteFilePlace(place)
      }
      return { db, place, close }
    },
  })),
]

interface State {
  /** `m|c` pairs of handles. */
  readonly clubs: ReadonlySet<string>
  readonly roles: ReadonlySet<string>
  /** Unordered `a|b` pairs with both rows (a self link is one row). */
  readonly friends: ReadonlySet<string>
  /** Friend rows whose mirror row is missing. */
  readonly halfFriends: readonly string[]
  /** Pairs stored more than once, per table. */
  readonly duplicates: readonly string[]
  /** Every club row: title and handle. */
  readonly clubRows: readonly Row[]
}

interface Run {
  readonly ops: OpRecord[]
  readonly states: Record<'start' | Phase, State>
  readonly exitCodes: (number | null)[]
  readonly fatal: string[]
  readonly handles: ReadonlyMap<string, string>
}

const figures: Record<string, string | number>[] = []

afterAll(() => {
  printFigures(`Concurrency (${String(PROCESSES)} processes per server, ${String(SQLITE_PROCESSES)} on an SQLite file; seed ${String(SEED)})`, figures)
})

function friendPair(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`
}

async function readState(db: Knex, handleOf: (key: unknown, kind: 'm' | 'c') => string): Promise<State> {
  const clubsLink = fx.clubs.link
  const rolesLink = fx.roles.link
  const friendsLink = fx.friends.link
  const [clubRows, roleRows, friendRows, clubs] = await Promise.all([
    db(clubsLink.table).select('*'),
    db(rolesLink.table).select('*'),
    db(friendsLink.table).select('*'),
    db(fx.Club.table).select('*'),
  ])
  const duplicates: string[] = []
  const pairs = (rows: Row[], source: string, target: string, table: string, targetKind: 'm' | 'c'): Set<string> => {
    const seen = new Set<string>()
    for (const row of rows) {
      const pair = `${handleOf(row[source], 'm')}|${handleOf(row[target], targetKind)}`
      if (seen.has(pair)) duplicates.push(`${table}: ${pair}`)
      seen.add(pair)
    }
    return seen
  }
  const clubPairs = pairs(clubRows, clubsLink.sourceColumn, clubsLink.targetColumn, clubsLink.table, 'c')
  const rolePairs = pairs(roleRows, rolesLink.sourceColumn, rolesLink.targetColumn, rolesLink.table, 'c')
  const directed = pairs(friendRows, friendsLink.sourceColumn, friendsLink.targetColumn, friendsLink.table, 'm')
  const friends = new Set<string>()
  const halfFriends: string[] = []
  for (const pair of directed) {
    const [a, b] = pair.split('|') as [string, string]
    if (directed.has(`${b}|${a}`)) friends.add(friendPair(a, b))
    else halfFriends.push(pair)
  }
  return { clubs: clubPairs, roles: rolePairs, friends, halfFriends, duplicates, clubRows: clubs }
}

/** The pair effects of one phase's successful calls, keyed by `table:pair`. */
function pairOps(ops: readonly OpRecord[], phase: Phase, created: ReadonlyMap<string, string>): Map<string, PairOp[]> {
  const result = new Map<string, PairOp[]>()
  const createdBy = (relation: 'clubs' | 'roles'): string[] =>
    ops.filter((op) => op.phase === phase && op.side === relation && op.method === 'create' && op.outcome.ok).map((op) => created.get(`${String(op.worker)}:${op.phase}:${String(op.index)}`)!)
  const createdClubs = [...createdBy('clubs'), ...createdBy('roles')]
  const add = (key: string, op: OpRecord, effect: PairEffect): void => {
    const list = result.get(key) ?? []
    list.push({ process: op.worker, start: BigInt(op.start), end: BigInt(op.end), effect, label: `${op.side}.of(${op.source}).${op.method}(${(op.targets ?? []).join(', ')}) by process ${String(op.worker)}` })
    result.set(key, list)
  }
  for (const op of ops) {
    if (op.phase !== phase || !op.outcome.ok) continue
    const outcome = op.outcome
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
        add(pairKey(targets[0]!), op, { kind: 'flip', result: outcome.value === true })
        break
      case 'exists':
        add(pairKey(targets[0]!), op, { kind: 'read', value: outcome.value === true })
        break
      case 'ids': {
        const seen = new Set(outcome.value as readonly string[])
        for (const target of universe) add(pairKey(target), op, { kind: 'read', value: seen.has(target) })
        break
      }
      case 'create':
        add(pairKey(created.get(`${String(op.worker)}:${op.phase}:${String(op.index)}`)!), op, { kind: 'write', value: true })
        break
    }
  }
  return result
}

function linked(state: State, key: string): boolean {
  const [table, pair] = key.split(':') as [string, string]
  return table === 'clubs' ? state.clubs.has(pair) : table === 'roles' ? state.roles.has(pair) : state.friends.has(pair)
}

/** The pairs of a phase whose history no order of the calls explains. */
function unexplained(run: Run, phase: Phase, toggles: ToggleModel, only?: (key: string) => boolean): string[] {
  const before = run.states[PHASES[PHASES.indexOf(phase) - 1] ?? 'start']
  const after = run.states[phase]
  const created = createdHandles(run)
  const failures: string[] = []
  for (const [key, ops] of pairOps(run.ops, phase, created)) {
    if (only !== undefined && !only(key)) continue
    const history: PairHistory = { initial: linked(before, key), final: linked(after, key), ops }
    if (!isLinearizable(history, toggles)) {
      failures.push(`${key}: from ${String(history.initial)} to ${String(history.final)} through ${String(ops.length)} calls`)
    }
  }
  return failures
}

function createdHandles(run: Run): Map<string, string> {
  const created = new Map<string, string>()
  for (const op of run.ops) {
    if (op.method === 'create' && op.outcome.ok && op.outcome.created !== undefined) {
      created.set(`${String(op.worker)}:${op.phase}:${String(op.index)}`, `new${String(op.outcome.created.key)}`)
    }
  }
  return created
}

async function runWorkers(db: Knex, place: Place | SqliteFilePlace, target: ConcurrencyTarget): Promise<Run> {
  const adapter = new KnexAdapter(db)
  await recreateTables(db, fx.schema)
  const keys: Record<string, number> = {}
  for (const handle of ALL_MEMBERS) keys[handle] = Number((await adapter.insertTarget({ target: fx.Member.spec, values: { name: handle } })).id)
  for (const handle of ALL_CLUBS) keys[handle] = Number((await adapter.insertTarget({ target: fx.Club.spec, values: { title: handle } })).id)
  const handles = new Map(Object.entries(keys).map(([handle, key]) => [`${handle[0]!}${String(key)}`, handle]))
  // The sources of the sets phase start as the first set of their family.
  for (const [source, { family }] of Object.entries(SET_SOURCES)) {
    const relation = family === 'clubs' ? fx.clubs : fx.friends
    await relation.using(adapter).of(keys[source]!).set((family === 'clubs' ? CLUB_SETS : FRIEND_SETS)[0]!.map((handle) => keys[handle]!))
  }
  const handleOf = (key: unknown, kind: 'm' | 'c'): string => handles.get(`${kind}${String(key)}`) ?? `new${String(key)}`
  const states = { start: await readState(db, handleOf) } as Record<'start' | Phase, State>

  const workers = Array.from({ length: target.processes }, (_, worker) => {
    const config: WorkerConfig = { place, worker, seed: SEED, calls: target.calls, keys, ...(target.adapter === undefined ? {} : { adapter: target.adapter }) }
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
    return {
      ops: messages.flatMap((message) => (message.type === 'op' ? [message.op] : [])),
      fatal: [
        ...messages.flatMap((message) => (message.type === 'fatal' ? [message.error] : [])),
        ...workers.flatMap((worker) => worker.stderr.filter((line) => line.trim() !== '')),
      ],
      states,
      exitCodes,
      handles,
    }
  } finally {
    for (const worker of workers) worker.kill()
  }
}

for (const target of targets) {
  describe.skipIf(!target.enabled)(`concurrency on ${target.name}: ${String(target.processes)} processes on the same pairs`, () => {
    let close: (() => Promise<void>) | undefined
    let run: Run | undefined
    const result = (): Run => {
      if (run === undefined) throw new Error('The workers did not run.')
      return run
    }

    beforeAll(async () => {
      const opened = target.open()
      close = opened.close
      run = await runWorkers(opened.db, opened.place, target)
    }, 300_000)

    afterAll(async () => {
      await close?.()
      if (run === undefined) return
      const failed = run.ops.filter((op) => !op.outcome.ok)
      const last = run.states.toggles
      const flips = unexplained(run, 'toggles', 'strict')
      figures.push({
        database: target.name,
        processes: target.processes,
        'calls run': run.ops.length,
        ...Object.fromEntries(PHASES.map((phase) => [`${phase} calls`, run!.ops.filter((op) => op.phase === phase).length])),
        'failed calls': `${String(failed.length)}${failed.length > 0 ? ` (${String(failed.filter((op) => isDeadlock(op.outcome)).length)} deadlocks, F7 pending)` : ''}`,
        'rows duplicated': last.duplicates.length + duplicateCreates(run).length,
        'rows lost': last.halfFriends.length + PHASES.reduce((sum, phase) => sum + unexplained(run!, phase, 'write').length, 0) + lostCreates(run).length,
        'toggled pairs that lost a flip': `${String(flips.length)}${fixLanded('F6') ? '' : ' (F6 pending)'}`,
        'mixed-up concurrent sets': `${String(setViolations(run, 'all').length)}${fixLanded('F9') ? '' : ' (F9 pending)'}`,
      })
    })

    it('runs every call to completion: no unhandled error, and only the typed errors the docs allow', () => {
      const { ops, fatal, exitCodes } = result()
      assert.deepEqual(fatal, [], 'A worker reported an unhandled error or wrote to stderr.')
      assert.deepEqual(exitCodes, workersExitedCleanly(target.processes), 'A worker did not exit cleanly.')
      assert.equal(ops.length, target.processes * (target.calls.mixed + target.calls.sets + target.calls.toggles), 'Calls are missing from the reports.')
      const failed = ops.filter((op) => !op.outcome.ok)
      // Until F7, a deadlock between two calls fails one of them, with nothing written
      // (docs/reliability.md); anything else on valid input is a bug.
      const unexpected = failed.filter((op) => op.outcome.ok || !op.outcome.typed || !isDeadlock(op.outcome))
      assert.deepEqual(unexpected.map(describeFailure), [], 'Calls on valid input failed with an error the docs do not allow.')
    })

    it(`completes every call on valid input, deadlocks included${fixLanded('F7') ? '' : ' [waits for fix F7, see docs/reliability.md]'}`, ({ skip }) => {
      if (!fixLanded('F7')) skip()
      assert.deepEqual(result().ops.filter((op) => !op.outcome.ok).map(describeFailure), [], 'Calls on valid input failed under concurrency.')
    })

    it('never stores a pair twice, nor half of a symmetrical link', () => {
      const { states } = result()
      for (const phase of PHASES) {
        assert.deepEqual(states[phase].duplicates, [], `Duplicate pairs after the ${phase} phase.`)
        assert.deepEqual(states[phase].halfFriends, [], `Friend rows without their mirror after the ${phase} phase.`)
      }
      assert.deepEqual(duplicateCreates(result()), [], 'A created row was stored twice.')
    })

    it('leaves every pair in a state the calls allow (add, remove, set, clear, create, toggle, exists)', () => {
      const failures = PHASES.flatMap((phase) => unexplained(result(), phase, 'write').map((failure) => `${phase}: ${failure}`))
      assert.deepEqual(failures, [], 'No order of the calls explains these pairs.')
    })

    it('applies every set all-or-nothing: no process ever reads a set half applied', () => {
      assert.deepEqual(setViolations(result(), 'one'), [], 'A reader saw a set half applied.')
    })

    it(
      `serialises concurrent sets of one source: the links are always exactly one of the sets${fixLanded('F9') ? '' : ' [waits for fix F9, see docs/reliability.md]'}`,
      ({ skip }) => {
        if (!fixLanded('F9')) skip()
        assert.deepEqual(setViolations(result(), 'all'), [], 'Concurrent sets left a mix of several sets.')
      },
    )

    it('creates each row once, and it stays linked unless a later call unlinked it', () => {
      assert.deepEqual(lostCreates(result()), [], 'Rows that a successful create() returned are missing.')
      const { ops, states } = result()
      const failedTitles = ops.filter((op) => op.method === 'create' && !op.outcome.ok).map((op) => `w${String(op.worker)}-${op.phase}-${String(op.index)}`)
      const titles = new Set(states.toggles.clubRows.map((row) => row.title as string))
      assert.deepEqual(failedTitles.filter((title) => titles.has(title)), [], 'A failed create() left its row behind.')
    })

    it(
      `serialises toggles of one pair: concurrent toggles never lose a flip${fixLanded('F6') ? '' : ' [waits for fix F6, see docs/reliability.md]'}`,
      ({ skip }) => {
        if (!fixLanded('F6')) skip()
        const failures = unexplained(result(), 'toggles', 'strict', (key) => TOGGLED.some(({ source, target: other }) => key.includes(source) && key.includes(other)))
        assert.deepEqual(failures, [], 'Toggles of these pairs cannot be put in any order: a flip was lost.')
      },
    )
  })
}

/** Reads and final states of the sets phase that are none of the sets of their family. */
function setViolations(run: Run, writers: 'one' | 'all'): string[] {
  const families = { clubs: CLUB_SETS.map((set) => [...set].sort().join(',')), friends: FRIEND_SETS.map((set) => [...set].sort().join(',')) }
  const sources = (Object.keys(SET_SOURCES) as SetSource[]).filter((source) => SET_SOURCES[source].writers === writers)
  const violations = run.ops
    .filter((op) => op.phase === 'sets' && op.method === 'ids' && op.outcome.ok && sources.includes(op.source as SetSource))
    .flatMap((op) => {
      const seen = [...((op.outcome as unknown as { value: string[] }).value)].sort().join(',')
      return families[SET_SOURCES[op.source as SetSource].family].includes(seen) ? [] : [`${op.source} read {${seen}} (process ${String(op.worker)})`]
    })
  const final = run.states.sets
  for (const source of sources) {
    const { family } = SET_SOURCES[source]
    const links =
      family === 'clubs'
        ? [...final.clubs].filter((pair) => pair.startsWith(`${source}|`)).map((pair) => pair.split('|')[1]!)
        : [...final.friends].filter((pair) => pair.split('|').includes(source)).map((pair) => pair.split('|').find((handle) => handle !== source)!)
    const text = links.sort().join(',')
    if (!families[family].includes(text)) violations.push(`${source} ended as {${text}}`)
  }
  return violations
}

function workersExitedCleanly(processes: number): number[] {
  return Array.from({ length: processes }, () => 0)
}

/** A conflict that reached the caller: M2M_CONFLICT (or, before it existed, M2M_STORAGE with the database's deadlock as cause). */
function isDeadlock(outcome: OpRecord['outcome']): boolean {
  return !outcome.ok && (outcome.code === 'M2M_CONFLICT' || (outcome.code === 'M2M_STORAGE' && /ER_LOCK_DEADLOCK|\[40P01\]|\[40001\]|deadlock/i.test(`${outcome.message} ${outcome.cause ?? ''}`)))
}

function describeFailure(op: OpRecord): string {
  const outcome = op.outcome
  if (outcome.ok) return ''
  return `${op.phase} #${String(op.index)} by process ${String(op.worker)}: ${op.side}.of(${op.source}).${op.method}(${(op.targets ?? []).join(', ')}) -> ${outcome.code}: ${outcome.message}${outcome.cause === undefined ? '' : ` (cause: ${outcome.cause})`}`
}

/** Titles of rows that successful create() calls returned, found twice. */
function duplicateCreates(run: Run): string[] {
  const titles = run.states.toggles.clubRows.map((row) => row.title as string)
  return titles.filter((title, index) => titles.indexOf(title) !== index)
}

/** Rows that successful create() calls returned, missing from the club table. */
function lostCreates(run: Run): string[] {
  const titles = new Set(run.states.toggles.clubRows.map((row) => row.title as string))
  return run.ops.flatMap((op) => (op.method === 'create' && op.outcome.ok && !titles.has(op.outcome.created!.title) ? [op.outcome.created!.title] : []))
}
