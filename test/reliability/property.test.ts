import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { Knex } from 'knex'
import { afterAll, beforeAll, describe, it } from 'vitest'
import type { Row } from '../../src/index.js'
import { allTargets, connect, recreateTables, reportSkippedServers } from './helpers/databases.js'
import { commandArb, describeCommand, execute, throughRowOut, withNulls, type Command } from './helpers/commands.js'
import { emptyWorld, handleOf, knexWorld, memoryWorld, modelOfKind, PROPERTY_FIXTURE, seedWorld, takeEvents, type World } from './helpers/world.js'
import { printFigures } from './helpers/figures.js'

// Differential property tests: random sequences of manager calls (every method, both sides,
// the symmetrical and the through relation, string keys, valid and invalid input, listeners
// that throw or write) run on the memory adapter and on a database side by side. After every
// call the two must agree on the result, the error code (and the keys it names), the events
// sent, and every stored row of the join and target tables. A failure shrinks to a minimal
// sequence, printed with the seed that reproduces it:
//
//   PROPERTY_RUNS=5000 npx vitest run test/reliability/property.test.ts    # a longer run
//   PROPERTY_SEED=123 PROPERTY_PATH="0:1" npx vitest run test/reliability/property.test.ts

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300)
const SEED = process.env.PROPERTY_SEED === undefined ? undefined : Number(process.env.PROPERTY_SEED)
const PATH = process.env.PROPERTY_PATH
const MAX_COMMANDS = 25

reportSkippedServers('property tests')

const figures: { database: string; sequences: number; calls: number; failedCalls: number; mismatches: number }[] = []

afterAll(() => {
  printFigures(
    'Differential property tests (memory vs each database)',
    figures.map((entry) => ({
      database: entry.database,
      'sequences run': entry.sequences,
      'calls compared': entry.calls,
      'calls that failed (same code on both)': entry.failedCalls,
      mismatches: entry.mismatches,
    })),
  )
})

/** Every stored row the relations can change, with keys as handles, in a canonical order. */
async function storedRows(world: World): Promise<Record<string, string[]>> {
  const { fx } = world
  const result: Record<string, string[]> = {}
  const sides = [
    [fx.clubs.through.table, 'clubs'],
    [fx.friends.through.table, 'friends'],
    [fx.roles.through.table, 'roles'],
    [fx.badges.through.table, 'badges'],
  ] as const
  const reads = await Promise.all([
    ...sides.map(([table]) => world.rows(table)),
    world.rows(fx.Member.table),
    world.rows(fx.Club.table),
    world.rows(fx.Badge.table),
  ])
  sides.forEach(([table, side], index) => {
    result[table] = reads[index]!.map((row) => JSON.stringify(throughRowOut(world, side, row))).sort()
  })
  const targets = (rows: Row[], kind: 'member' | 'club' | 'badge', key: string): string[] =>
    rows
      .map((stored) => {
        const row = withNulls(stored, modelOfKind(fx, kind).columns ?? [])
        const out: Record<string, unknown> = { h: handleOf(world, kind, row[key]) }
        for (const column of Object.keys(row).sort()) if (column !== key) out[column] = row[column]
        return JSON.stringify(out)
      })
      .sort()
  result[fx.Member.table] = targets(reads[4]!, 'member', 'id')
  result[fx.Club.table] = targets(reads[5]!, 'club', 'id')
  result[fx.Badge.table] = targets(reads[6]!, 'badge', 'code')
  return result
}

function history(commands: readonly Command[], upTo: number): string {
  return commands
    .slice(0, upTo + 1)
    .map((command, index) => `  ${String(index + 1).padStart(2)}. ${describeCommand(command)}`)
    .join('\n')
}

for (const target of allTargets) {
  describe.skipIf(!target.enabled)(`differential property tests on ${target.name}`, () => {
    let db: Knex | undefined
    let close: (() => Promise<void>) | undefined
    const entry = { database: target.name, sequences: 0, calls: 0, failedCalls: 0, mismatches: 0 }
    figures.push(entry)

    beforeAll(async () => {
      ;({ db, close } = connect(target, 'prop'))
      await recreateTables(db, PROPERTY_FIXTURE.schema)
    })

    afterAll(async () => {
      await close?.()
    })

    it(
      `agrees with memory on ${String(RUNS)} random call sequences: results, error codes, events and stored rows`,
      async () => {
        const database = db!
        const property = fc.asyncProperty(fc.array(commandArb, { minLength: 1, maxLength: MAX_COMMANDS, size: 'max' }), async (commands) => {
          entry.sequences++
          await emptyWorld(database)
          const reference = memoryWorld()
          const subject = knexWorld(`knex(${target.name})`, database)
          try {
            await seedWorld(reference)
            await seedWorld(subject)
            assert.deepEqual(await storedRows(subject), await storedRows(reference), 'The seeded rows differ.')
            for (const [index, command] of commands.entries()) {
              const expected = await execute(reference, command)
              const actual = await execute(subject, command)
              entry.calls++
              const where = `after call ${String(index + 1)} of:\n${history(commands, index)}\n`
              for (const [name, outcome] of [
                ['memory', expected],
                [subject.name, actual],
              ] as const) {
                if ('untyped' in outcome) {
                  entry.mismatches++
                  assert.fail(`${name} threw an error that is not a throughline error (${outcome.untyped}) ${where}`)
                }
              }
              if ('error' in expected || 'listener' in expected) entry.failedCalls++
              try {
                assert.deepEqual(actual, expected, `The call's outcome differs ${where}`)
                assert.deepEqual(takeEvents(subject), takeEvents(reference), `The events differ ${where}`)
                assert.deepEqual(await storedRows(subject), await storedRows(reference), `The stored rows differ ${where}`)
              } catch (error) {
                entry.mismatches++
                throw error
              }
            }
          } finally {
            reference.close()
            subject.close()
          }
        })
        await fc.assert(property, {
          numRuns: RUNS,
          ...(SEED === undefined ? {} : { seed: SEED }),
          ...(PATH === undefined ? {} : { path: PATH }),
        })
      },
      Math.max(180_000, RUNS * 2_000),
    )
  })
}
