import assert from 'node:assert/strict'
import type { Knex } from 'knex'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { isThroughlineError, MemoryAdapter, type M2MAction, type RelationAdapter, type Row } from '../../src/index.js'
import { KnexAdapter } from '../../src/adapters/knex/index.js'
import { fixLanded } from '../../src/conformance/fixtures/pending-fixes.js'
import { reliabilityFixture } from '../../src/conformance/fixtures/reliability.js'
import { seedRows } from '../helpers/knex-targets.js'
import { allTargets, connect, connectTo, dropPlace, newPlace, recreateTables, reportSkippedServers, serverTargets, type Place, type ServerName } from './helpers/databases.js'
import { printFigures } from './helpers/figures.js'

// Faults in the middle of calls: a connection killed while a large add or set runs (by the
// server, as pg_terminate_backend and KILL CONNECTION do), every connection of the pool killed
// between calls (a server restart, simulated: a real restart would break the other test files
// that share the server), and listeners that throw at every step. Each time: the call fails
// with a throughline error (or, for a listener, with the listener's own error), the stored
// rows are exactly as before the call, and the next call works, on a fresh connection.
//
// Only this file's own connections are killed: their ids are recorded as the pool creates them.

const LARGE = Number(process.env.FAULT_LARGE ?? 40_000)
const REPEAT = Number(process.env.FAULT_REPEAT ?? 3)
const fx = reliabilityFixture('tl_rel_fault_')

reportSkippedServers('fault tests')

const figures = new Map<string, { faults: number; interrupted: number; lost: number; duplicated: number; recoveries: number; failedAfterRestart: number }>()

function figure(database: string): { faults: number; interrupted: number; lost: number; duplicated: number; recoveries: number; failedAfterRestart: number } {
  let entry = figures.get(database)
  if (entry === undefined) {
    entry = { faults: 0, interrupted: 0, lost: 0, duplicated: 0, recoveries: 0, failedAfterRestart: 0 }
    figures.set(database, entry)
  }
  return entry
}

afterAll(() => {
  printFigures(
    'Faults (killed connections, simulated restarts, throwing listeners)',
    [...figures].map(([database, entry]) => ({
      database,
      'faults injected': entry.faults,
      'calls interrupted (typed error)': entry.interrupted,
      'calls failed right after a restart': entry.failedAfterRestart,
      'next calls that worked': entry.recoveries,
      'rows lost': entry.lost,
      'rows duplicated': entry.duplicated,
    })),
  )
})

/** The link rows of one source, as sorted `source|target` strings, read with `read`. */
async function linksOf(read: (table: string) => Promise<Row[]>, source: number): Promise<string[]> {
  const { sourceColumn, targetColumn, table } = fx.clubs.link
  return (await read(table))
    .filter((row) => Number(row[sourceColumn]) === source)
    .map((row) => `${String(row[sourceColumn])}|${String(row[targetColumn])}`)
    .sort()
}

/** Compares the rows after a failed call with the rows before, counting what was lost or added. */
function compareRows(database: string, before: readonly string[], after: readonly string[], what: string): void {
  const entry = figure(database)
  const kept = new Set(after)
  const had = new Set(before)
  const lost = before.filter((row) => !kept.has(row)).length
  const added = after.filter((row) => !had.has(row)).length + (after.length - kept.size)
  entry.lost += lost
  entry.duplicated += added
  assert.equal(lost, 0, `${what}: ${String(lost)} link rows that were there before the call are gone.`)
  assert.equal(added, 0, `${what}: ${String(added)} link rows were left behind by the failed call.`)
}

/** A Knex instance with `max` connections in `place`, whose server-side ids are recorded as they are created. */
function victim(place: Place, max = 1): { db: Knex; ids: number[] } {
  const ids: number[] = []
  const db = connectTo(place, { max, log: quietLog, onConnection: (id) => ids.push(id) })
  return { db, ids }
}

/** Kills a connection of ours by its server-side id, from another connection; one already gone is fine. */
async function killConnection(admin: Knex, database: string, id: number): Promise<void> {
  if (database === 'postgres') {
    await admin.raw('SELECT pg_terminate_backend(?)', [id])
    return
  }
  try {
    await admin.raw(`KILL CONNECTION ${String(Math.trunc(id))}`)
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ER_NO_SUCH_THREAD') throw error
  }
}

/**
 * Knex reports a connection that the server ended on its logger (console by default). Here
 * that is the point: the messages are counted instead of printed.
 */
const driverReports: string[] = []
const quietLog = {
  warn: (message: unknown) => driverReports.push(String(message)),
  error: (message: unknown) => driverReports.push(String(message)),
  deprecate: (message: unknown) => driverReports.push(String(message)),
  debug: () => undefined,
}

/** Waits until the server no longer lists the connection. */
async function waitGone(admin: Knex, database: string, id: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const rows =
      database === 'postgres'
        ? (await admin.raw<{ rows: unknown[] }>('SELECT 1 FROM pg_stat_activity WHERE pid = ?', [id])).rows
        : (await admin.raw<[unknown[]]>('SELECT 1 FROM information_schema.PROCESSLIST WHERE ID = ?', [id]))[0]
    if (rows === undefined || rows.length === 0) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`Connection ${String(id)} is still there.`)
}

/** Runs `work` and returns what it threw (or fails when it did not throw). */
async function failure(work: () => Promise<unknown>, what: string): Promise<unknown> {
  try {
    await work()
  } catch (error) {
    return error
  }
  return assert.fail(`${what}: the call succeeded, but it should have been interrupted.`)
}

for (const target of serverTargets) {
  describe.skipIf(!target.enabled)(`faults on ${target.name}`, () => {
    let admin: Knex | undefined
    let place: Place | undefined
    let clubKeys: number[] = []
    const database = target.name
    const read = (table: string): Promise<Row[]> => admin!(table).select('*')
    let nextMember = 0
    const newMember = async (): Promise<number> =>
      Number((await new KnexAdapter(admin!).insertTarget({ target: fx.Member.spec, values: { name: `member ${String(nextMember++)}` } })).id)

    beforeAll(async () => {
      place = newPlace(target.name as ServerName, 'fault')
      admin = connectTo(place, { max: 2 })
      await recreateTables(admin, fx.schema)
      const clubSchema = fx.schema.find((table) => table.table === fx.Club.table)
      await seedRows(admin, clubSchema, fx.Club.table, Array.from({ length: LARGE * 2 }, (_, index) => ({ id: index + 1, title: `club ${String(index + 1)}` })))
      clubKeys = Array.from({ length: LARGE * 2 }, (_, index) => index + 1)
    }, 120_000)

    afterAll(async () => {
      if (admin !== undefined && place !== undefined) await dropPlace(admin, place)
      await admin?.destroy()
    })

    for (const scenario of ['add', 'set'] as const) {
      it(`fails a large ${scenario}() whose connection is killed mid-statement with a typed error, leaving nothing, and the next call works`, async () => {
        for (let round = 0; round < REPEAT; round++) {
          const member = await newMember()
          const { db, ids } = victim(place!)
          try {
            const clubs = fx.clubs.using(new KnexAdapter(db))
            // set() starts with LARGE links and replaces them with LARGE others: a delete, then inserts.
            if (scenario === 'set') await clubs.of(member).add(clubKeys.slice(0, LARGE))
            const before = await linksOf(read, member)
            let killed: number | undefined
            const onQuery = (query: { sql?: string }): void => {
              if (killed !== undefined || !/^insert into/i.test(query.sql ?? '') || !(query.sql ?? '').includes(fx.clubs.link.table)) return
              killed = ids.at(-1)!
              figure(database).faults++
              void killConnection(admin!, database, killed)
            }
            db.on('query', onQuery)
            const targets = scenario === 'add' ? clubKeys.slice(0, LARGE) : clubKeys.slice(LARGE, LARGE * 2)
            const error = await failure(() => (scenario === 'add' ? clubs.of(member).add(targets) : clubs.of(member).set(targets)), `${scenario} round ${String(round)}`)
            db.off('query', onQuery)
            assert.ok(killed !== undefined, 'The insert never started.')
            assert.ok(isThroughlineError(error), `The call failed with an error that is not a throughline error: ${String(error)}`)
            assert.equal(error.code, 'M2M_STORAGE', error.message)
            figure(database).interrupted++
            await waitGone(admin!, database, killed)
            compareRows(database, before, await linksOf(read, member), `${scenario}() killed mid-statement`)
            // The next call gets a new connection and works. (Where the failed call's transaction
            // gave its dead connection up, the read that looks for a missing target to name has
            // opened that new connection already.)
            await clubs.of(member).add(clubKeys.slice(LARGE * 2 - 3))
            assert.ok(ids.at(-1) !== killed, 'The next call did not open a new connection.')
            assert.equal(await clubs.of(member).filter({ id__gt: LARGE * 2 - 3 }).count(), 3)
            figure(database).recoveries++
          } finally {
            await db.destroy()
          }
        }
      })
    }

    it('fails a set() whose connection dies between its delete and its insert, leaving nothing, and the next call works', async () => {
      for (let round = 0; round < REPEAT; round++) {
        const member = await newMember()
        const { db, ids } = victim(place!)
        try {
          const relation = fx.clubs.using(new KnexAdapter(db))
          await relation.of(member).add(clubKeys.slice(0, 100))
          const before = await linksOf(read, member)
          // After the delete ran, inside the transaction: the server ends the connection.
          const off = fx.clubs.on('post_remove', async () => {
            figure(database).faults++
            const id = ids.at(-1)!
            await killConnection(admin!, database, id)
            await waitGone(admin!, database, id)
          })
          let error: unknown
          try {
            error = await failure(() => relation.of(member).set(clubKeys.slice(50, 150)), `set round ${String(round)}`)
          } finally {
            off()
          }
          assert.ok(isThroughlineError(error), `The call failed with an error that is not a throughline error: ${String(error)}`)
          figure(database).interrupted++
          compareRows(database, before, await linksOf(read, member), 'set() whose connection died after its delete')
          await relation.of(member).set(clubKeys.slice(50, 150))
          assert.equal(await relation.of(member).count(), 100)
          figure(database).recoveries++
        } finally {
          await db.destroy()
        }
      }
    })

    it('recovers from every connection killed between calls (a simulated server restart): a call fails at most with a typed error, leaves nothing, and the next works', async () => {
      const { db, ids } = victim(place!, 4)
      try {
        const relation = fx.clubs.using(new KnexAdapter(db))
        const members = [await newMember(), await newMember(), await newMember(), await newMember()]
        for (let round = 0; round < REPEAT * 2; round++) {
          // Four calls at once: the pool holds four open connections.
          await Promise.all(members.map((member, index) => relation.of(member).set(clubKeys.slice(round + index, round + index + 10))))
          const open = [...ids]
          for (const id of open) {
            await killConnection(admin!, database, id)
            figure(database).faults++
          }
          for (const id of open) await waitGone(admin!, database, id)
          // Every member's calls after the "restart": each may fail once with a typed error and
          // must then work; a failed call changes nothing.
          for (const [index, member] of members.entries()) {
            const before = await linksOf(read, member)
            const wanted = clubKeys.slice(round + index + 20, round + index + 25)
            try {
              await relation.of(member).set(wanted)
            } catch (error) {
              assert.ok(isThroughlineError(error), `A call after the restart failed with an error that is not a throughline error: ${String(error)}`)
              figure(database).failedAfterRestart++
              compareRows(database, before, await linksOf(read, member), 'a call right after the restart')
              await relation.of(member).set(wanted)
            }
            assert.deepEqual((await relation.of(member).ids()).sort((a, b) => a - b), wanted)
            figure(database).recoveries++
          }
        }
        assert.ok(ids.length > 4, 'The pool never opened new connections.')
      } finally {
        await db.destroy()
      }
    })
  })
}

// ------------------------------------------------------------------ listeners

const THROWN: readonly { readonly label: string; readonly make: () => unknown; readonly fix?: 'F1' }[] = [
  { label: 'an Error', make: () => new Error('listener failed') },
  { label: 'a TypeError from a bug', make: () => new TypeError('x is not a function') },
  { label: 'a string', make: () => 'listener failed' },
  { label: 'a plain object', make: () => ({ reason: 'listener failed' }) },
  { label: 'null', make: () => null },
  { label: 'undefined (Promise.reject())', make: () => undefined, fix: 'F1' },
]

const STEPS: readonly { readonly call: string; readonly action: M2MAction }[] = [
  { call: 'add', action: 'pre_add' },
  { call: 'add', action: 'post_add' },
  { call: 'set', action: 'pre_remove' },
  { call: 'set', action: 'post_remove' },
  { call: 'set', action: 'pre_add' },
  { call: 'set', action: 'post_add' },
  { call: 'setClear', action: 'post_clear' },
  { call: 'setClear', action: 'post_add' },
  { call: 'remove', action: 'post_remove' },
  { call: 'clear', action: 'post_clear' },
  { call: 'toggleOn', action: 'post_add' },
  { call: 'toggleOff', action: 'post_remove' },
  { call: 'create', action: 'post_add' },
  { call: 'friends', action: 'post_add' },
]

for (const target of [{ name: 'memory', enabled: true }, ...allTargets]) {
  describe.skipIf(!target.enabled)(`throwing listeners on ${target.name}`, () => {
    let db: Knex | undefined
    let close: (() => Promise<void>) | undefined
    let adapter: RelationAdapter
    let read: (table: string) => Promise<Row[]>
    const listenerFx = reliabilityFixture('tl_rel_listen_')

    beforeAll(async () => {
      if (target.name === 'memory') {
        const store = new MemoryAdapter()
        adapter = store
        read = (table) => store.tableRows(table)
      } else {
        ;({ db, close } = connect(allTargets.find((candidate) => candidate.name === target.name)!, 'listen', 2))
        await recreateTables(db, listenerFx.schema)
        adapter = new KnexAdapter(db)
        read = (table) => db!(table).select('*')
      }
    })

    afterAll(async () => {
      await close?.()
    })

    for (const thrown of THROWN) {
      const waiting = thrown.fix !== undefined && !fixLanded(thrown.fix)
      it.skipIf(waiting)(
        `aborts every kind of call when a listener throws ${thrown.label}, with that value, leaving nothing, and the next call works${waiting ? ` [waits for fix ${thrown.fix ?? ''}, see docs/reliability.md]` : ''}`,
        async () => {
          const { Member, Club, clubs, friends, tables } = listenerFx
          for (const { call, action } of STEPS) {
            const member = (await adapter.insertTarget({ target: Member.spec, values: { name: 'Ann' } })).id as number
            const other = (await adapter.insertTarget({ target: Member.spec, values: { name: 'Bob' } })).id as number
            const keys: number[] = []
            for (let index = 0; index < 6; index++) keys.push((await adapter.insertTarget({ target: Club.spec, values: { title: `club ${String(index)}` } })).id as number)
            const bound = clubs.using(adapter)
            await bound.of(member).add(keys.slice(0, 3))
            if (call === 'toggleOff') await bound.of(member).add(keys[4]!)
            const snapshot = async (): Promise<string[]> => {
              const rows: string[] = []
              for (const table of tables) for (const row of await read(table)) rows.push(`${table} ${JSON.stringify(Object.entries(row).map(([column, value]) => [column, value === null || value === undefined ? null : JSON.stringify(value)]).sort())}`)
              return rows.sort()
            }
            const before = await snapshot()
            const value = thrown.make()
            const relation = call === 'friends' ? friends : clubs
            let after = 0
            const offAll = relation.on('m2m_changed', () => {
              after++
            })
            let fired = false
            const off = relation.on(action, async (event) => {
              // Once: its own write below sends events too.
              if (fired) return
              fired = true
              // The listener's own writes, in the call's transaction, must go with it.
              await friends.using(event.using).of(other).add(member)
              throw value
            })
            let caught: { error: unknown } | undefined
            let returned: unknown
            try {
              const manager = bound.of(member)
              returned = await (call === 'add'
                ? manager.add(keys.slice(2, 5))
                : call === 'set'
                  ? manager.set(keys.slice(1, 5))
                  : call === 'setClear'
                    ? manager.set(keys.slice(1, 5), { clear: true })
                    : call === 'remove'
                      ? manager.remove(keys.slice(0, 2))
                      : call === 'clear'
                        ? manager.clear()
                        : call === 'toggleOn'
                          ? manager.toggle(keys[5]!)
                          : call === 'toggleOff'
                            ? manager.toggle(keys[4]!)
                            : call === 'create'
                              ? manager.create({ title: 'created' })
                              : friends.using(adapter).of(member).add(other))
            } catch (error) {
              caught = { error }
            } finally {
              off()
              offAll()
            }
            const where = `${call}() with a listener on ${action} throwing ${thrown.label}`
            figure(target.name).faults++
            assert.ok(caught !== undefined, `${where}: the call resolved (to ${JSON.stringify(returned)}) instead of failing.`)
            assert.equal(caught.error, value, `${where}: the call failed with another error than the listener's: ${String(caught.error)}`)
            figure(target.name).interrupted++
            const now = await snapshot()
            compareRows(target.name, before, now, where)
            assert.ok(after > 0, `${where}: the listener never ran.`)
            // The next call works.
            await bound.of(member).add(keys[5]!)
            assert.equal(await bound.of(member).exists(keys[5]), true, `${where}: the next call did not work.`)
            figure(target.name).recoveries++
          }
        },
      )
    }
  })
}
