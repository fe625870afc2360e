import type { Knex } from 'knex'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createJoinTable, createTable, KnexAdapter } from '../../src/adapters/knex/index.js'
import { defineModel, isThroughlineError, manyToMany, type RelationAdapter, type RetryPolicy } from '../../src/index.js'
import { modelTable } from '../../src/conformance/model-table.js'
import { disconnect, knexTargets, reportSkippedTargets } from '../helpers/knex-targets.js'
import { random } from './helpers/concurrency-plan.js'

// The calls that conflict most, all on one hot spot at once, from 8 connections: toggles that
// read first (a listener is attached), updateOrCreate on one shared lookup, and sets of one
// symmetrical relation. Each runs SERIALIZABLE on the servers, where the database aborts one of
// two conflicting transactions; the retry policy must then carry every call to completion.
// With the policy before this one (9 retries, waits under 100 ms), 1–9 calls per run failed.
const CLIENTS = Number(process.env.HOT_SPOT_CLIENTS ?? 8)
const CALLS = Number(process.env.HOT_SPOT_CALLS ?? 80)

interface PersonRow {
  id: number
  name: string
}
interface TagRow {
  id: number
  label: string
}

const Person = defineModel<PersonRow>('HotPerson', { table: 'hot_person', columns: ['id', 'name'] })
const Tag = defineModel<TagRow>('HotTag', { table: 'hot_tag', columns: ['id', 'label'] })
const tags = manyToMany(Person, Tag, { name: 'tags' })
const friends = manyToMany(Person, 'self', { name: 'friends' })

reportSkippedTargets('hot spots')

/** Conflicts that reached a caller's transaction as throughline's M2M_CONFLICT. */
let typedConflicts = 0

/** Whether an error is a conflict the database wants run again: throughline's M2M_CONFLICT, or the driver's own (the caller's COMMIT). */
function isConflict(error: unknown): boolean {
  if (isThroughlineError(error, 'M2M_CONFLICT')) {
    typedConflicts++
    return true
  }
  for (let current: unknown = error; current !== undefined && current !== null; current = (current as { cause?: unknown }).cause) {
    const code = (current as { code?: unknown }).code
    if (code === '40001' || code === '40P01' || code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT') return true
  }
  return false
}

/** A caller's own transaction, run again (up to 50 times) when it failed for a conflict, as the docs tell callers to. */
async function callerTransaction(db: Knex, work: (trx: Knex.Transaction) => Promise<unknown>, onRetry: () => void): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(work, { isolationLevel: 'serializable' })
    } catch (error) {
      if (attempt >= 50 || !isConflict(error)) throw error
      onRetry()
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(250, 2 ** attempt)))
    }
  }
}

for (const target of knexTargets.filter((candidate) => candidate.name !== 'sqlite')) {
  describe.skipIf(!target.enabled)(`hot spots on ${target.name}`, () => {
    let db: Knex
    const retries: number[] = []

    beforeAll(async () => {
      db = target.connect({ connections: CLIENTS })
      await createTable(db, modelTable(Person, { name: 'string' }))
      await createTable(db, modelTable(Tag, { label: { kind: 'string', unique: true } }))
      await createJoinTable(db, tags)
      await createJoinTable(db, friends)
      await db('hot_person').insert(Array.from({ length: 6 }, (_, index) => ({ name: `p${String(index + 1)}` })))
      await db('hot_tag').insert({ label: 'first' })
    })

    afterAll(async () => {
      await disconnect(db)
      console.info(
        `[reliability] Hot spots on ${target.name}: ${String(CLIENTS)} connections x ${String(CALLS)} calls, ` +
          `failed calls: ${String(failures.length)}, calls retried: ${String(retries.length)}, most retries of one call: ${String(Math.max(0, ...retries))}, ` +
          `conflicts that reached a caller's transaction as M2M_CONFLICT: ${String(typedConflicts)}`,
      )
    })

    const failures: unknown[] = []

    it('carries every conflicting call to completion: read-first toggles, a shared updateOrCreate, symmetrical sets; in callers\' transactions the conflict reaches the caller, who runs it again', async () => {
      const people = await db<{ id: number }>('hot_person').select('id').orderBy('id')
      const ids = people.map((row) => row.id)
      const hot = ids[0]!
      const [first] = await db<{ id: number }>('hot_tag').select('id')
      // HOT_SPOT_RETRIES=9 runs the calls under the policy before this one (9 retries, waits under 100 ms).
      const policy: Partial<RetryPolicy> = process.env.HOT_SPOT_RETRIES === undefined ? {} : { retries: Number(process.env.HOT_SPOT_RETRIES), maxDelayMs: 100 }
      // A listener makes toggle read first, in a SERIALIZABLE transaction, as a user's audit hook would.
      const off = tags.on('pre_add', () => undefined)
      try {
        await Promise.all(
          Array.from({ length: CLIENTS }, async (_, client) => {
            const next = random(client + 1)
            let attempt = 0
            const adapter: RelationAdapter = new KnexAdapter(db, {
              retry: policy,
              log: (event) => {
                if (event.type === 'retry') attempt++
              },
            })
            // Every fourth client runs its calls inside transactions of its own (a Knex
            // transaction passed in): throughline cannot run those again, so the caller does,
            // on the conflict the error carries as its cause.
            const caller = client % 4 === 3
            const run = (work: (store: RelationAdapter) => Promise<unknown>): Promise<unknown> =>
              caller ? callerTransaction(db, (trx) => work(new KnexAdapter(trx)), () => attempt++) : work(adapter)
            for (let call = 0; call < CALLS; call++) {
              attempt = 0
              const pick = next()
              const set = ids.slice(1).filter(() => next() < 0.5)
              try {
                if (pick < 0.4) await run((store) => tags.using(store).of(hot).toggle(first!.id))
                else if (pick < 0.7) await run((store) => tags.using(store).of(hot).updateOrCreate({ label: 'shared' }, { defaults: { label: 'shared' } }))
                else await run((store) => friends.using(store).of(hot).set(set))
              } catch (error) {
                failures.push(error)
              }
              if (attempt > 0) retries.push(attempt)
            }
          }),
        )
      } finally {
        off()
      }
      expect(failures).toEqual([])
      // Symmetrical: every link has its mirror.
      const rows = await db<Record<string, number>>(friends.through.table).select(friends.through.sourceColumn, friends.through.targetColumn)
      const pairs = new Set(rows.map((row) => `${String(row[friends.through.sourceColumn])}|${String(row[friends.through.targetColumn])}`))
      for (const pair of pairs) {
        const [a, b] = pair.split('|')
        expect(pairs.has(`${b!}|${a!}`), `the mirror of ${pair}`).toBe(true)
      }
      // One shared row, linked once.
      expect((await db<{ id: number }>('hot_tag').where('label', 'shared').select('id')).length).toBeLessThanOrEqual(1)
    })
  })
}
