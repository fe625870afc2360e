// One process of the concurrency test. Run from the repository root:
//
//   node --import ./scripts/ts-node.mjs test/reliability/workers/concurrency-worker.ts '<WorkerConfig as JSON>'
//
// It connects to the database, says `ready`, then for each line `go <phase>` on its standard
// input runs that phase's calls (planned from its seed) and reports each one as a JSON line on
// its standard output, then `phaseDone`. `exit` ends it. Any error that escapes (an unhandled
// rejection, an uncaught exception) is reported as `fatal` and ends the process with code 1.
import { createInterface } from 'node:readline'
import { inspect } from 'node:util'
import { isThroughlineError, type AdapterLogEvent, type Key, type RelationAdapter } from '../../../src/index.js'
import { BetterSqlite3Adapter } from '../../../src/adapters/better-sqlite3/index.js'
import { KnexAdapter } from '../../../src/adapters/knex/index.js'
import { reliabilityFixture } from '../../../src/conformance/fixtures/reliability.js'
import {
  CONCURRENCY_PREFIX,
  planPhase,
  type OpOutcome,
  type OpRecord,
  type Phase,
  type PlannedCall,
  type WorkerConfig,
  type WorkerMessage,
} from '../helpers/concurrency-plan.js'
import { connectTo } from '../helpers/databases.js'
import { connectToSqliteFile, openSqliteFile } from '../helpers/sqlite-file.js'

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig

function send(message: WorkerMessage): void {
  process.stdout.write(`${JSON.stringify(message)}\n`)
}

function fatal(error: unknown): void {
  send({ type: 'fatal', worker: config.worker, error: error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error) })
  process.exit(1)
}

process.on('unhandledRejection', fatal)
process.on('uncaughtException', fatal)

// The calls the adapter ran again after a conflict, by the conflict's code, since the phase began.
let retries: Record<string, number> = {}

function countRetry(event: AdapterLogEvent): void {
  if (event.type !== 'retry') return
  let code = 'unknown'
  for (let error: unknown = event.error; error !== undefined && error !== null; error = (error as { cause?: unknown }).cause) {
    const found = (error as { code?: unknown }).code
    if (typeof found === 'string' && !found.startsWith('M2M_')) {
      code = found
      break
    }
  }
  retries[code] = (retries[code] ?? 0) + 1
}

/** This process's own connection: a Knex pool on the server or the SQLite file, or a better-sqlite3 connection on the file. */
function open(): { readonly adapter: RelationAdapter; readonly ready: () => Promise<unknown>; readonly close: () => Promise<void> } {
  const place = config.place
  if (place.server === 'sqlite-file' && config.adapter === 'better-sqlite3') {
    const connection = openSqliteFile(place)
    return { adapter: new BetterSqlite3Adapter(connection), ready: () => Promise.resolve(connection.prepare('SELECT 1').get()), close: () => Promise.resolve(void connection.close()) }
  }
  const db = place.server === 'sqlite-file' ? connectToSqliteFile(place) : connectTo(place, { max: 2 })
  return { adapter: new KnexAdapter(db, { log: countRetry }), ready: () => db.raw('SELECT 1'), close: () => db.destroy() }
}

const connection = open()
const adapter = connection.adapter
const fx = reliabilityFixture(CONCURRENCY_PREFIX)
// Members are m0, m1...; clubs c0, c1...: keys of both start at 1, so the kind is part of the lookup.
const handles = new Map<string, string>(Object.entries(config.keys).map(([handle, key]) => [`${handle[0]!}${String(key)}`, handle]))
const keyOf = (handle: string): number => {
  const key = config.keys[handle]
  if (key === undefined) throw new Error(`No key for ${handle}.`)
  return key
}
const handleOf = (key: Key, kind: 'm' | 'c'): string => handles.get(`${kind}${String(key)}`) ?? `new${String(key)}`

function manager(side: PlannedCall['side'], source: string): Record<string, (...args: unknown[]) => Promise<unknown>> {
  const relation = side.startsWith('clubs') ? fx.clubs : side === 'friends' ? fx.friends : fx.roles
  const bound = relation.using(adapter)
  const sided = side.endsWith('.reverse') ? (bound.reverse as unknown as typeof bound) : bound
  return sided.of(keyOf(source)) as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>
}

async function run(call: PlannedCall, phase: Phase, index: number): Promise<OpOutcome> {
  const target = manager(call.side, call.source)
  const keys = (call.targets ?? []).map(keyOf)
  const through = call.side.startsWith('roles') ? { throughDefaults: { role: `w${String(config.worker)}` } } : {}
  switch (call.method) {
    case 'add':
      await target.add!(keys, through)
      return { ok: true }
    case 'remove':
      await target.remove!(keys)
      return { ok: true }
    case 'set':
      await target.set!(keys, { ...through, clear: call.clear === true })
      return { ok: true }
    case 'clear':
      await target.clear!()
      return { ok: true }
    case 'toggle':
      return { ok: true, value: (await target.toggle!(keys[0], through)) as boolean }
    case 'exists':
      return { ok: true, value: (await target.exists!(keys[0])) as boolean }
    case 'ids':
      return { ok: true, value: ((await target.ids!()) as Key[]).map((key) => handleOf(key, call.side === 'clubs' || call.side === 'roles' ? 'c' : 'm')).sort() }
    case 'create': {
      const title = `w${String(config.worker)}-${phase}-${String(index)}`
      const row = (await target.create!({ title }, through)) as { id: number }
      return { ok: true, created: { key: row.id, title } }
    }
  }
}

function describeError(error: unknown): OpOutcome {
  const cause = (error as { cause?: unknown } | undefined)?.cause
  return {
    ok: false,
    typed: isThroughlineError(error),
    code: isThroughlineError(error) ? error.code : error instanceof Error ? error.name : typeof error,
    message: error instanceof Error ? error.message : String(error),
    ...(cause === undefined ? {} : { cause: cause instanceof Error ? `${cause.name}: ${cause.message} [${inspect((cause as { code?: unknown }).code)}]` : inspect(cause) }),
  }
}

async function runPhase(phase: Phase): Promise<void> {
  retries = {}
  const calls = planPhase(phase, config.seed * 7919 + config.worker * 104_729 + phase.length, config.calls[phase], config.worker)
  for (const [index, call] of calls.entries()) {
    const start = process.hrtime.bigint()
    let outcome: OpOutcome
    try {
      outcome = await run(call, phase, index)
    } catch (error) {
      outcome = describeError(error)
    }
    const end = process.hrtime.bigint()
    const op: OpRecord = { worker: config.worker, phase, index, ...call, start: String(start), end: String(end), outcome }
    send({ type: 'op', op })
  }
  send({ type: 'phaseDone', worker: config.worker, phase, retries })
}

// One connection opened before `ready`, so that the phases start together.
await connection.ready()
send({ type: 'ready', worker: config.worker })
const lines = createInterface({ input: process.stdin })
for await (const line of lines) {
  const [command, phase] = line.trim().split(' ')
  if (command === 'go') await runPhase(phase as Phase)
  else if (command === 'exit') break
}
await connection.close()
process.exit(0)
