import assert from 'node:assert/strict'
import type { Key } from '../../adapter/relation-adapter.js'
import { isThroughlineError, type ErrorCode } from '../../errors/throughline-error.js'
import { MAX_LOOKUP_VALUES } from '../../manager/parse-where.js'
import { defineModel } from '../../model/define-model.js'
import { defineThrough } from '../../model/define-through.js'
import { tagRow } from '../../model/model-of.js'
import { manyToMany } from '../../relation/many-to-many.js'
import { describeJoinTable } from '../../schema/table-schema.js'
import type { ConformanceOptions, TestFn } from '../conformance-options.js'
import { itWithForeignKeys, useContext, type ConformanceContext } from '../conformance-context.js'
import { expectError, expectUnchanged, recordEvents, type RecordedEvent } from '../fixtures/assertions.js'
import { fixLanded, type PendingFix } from '../fixtures/pending-fixes.js'
import { reliabilityFixture, ROLE_NOTE_DEFAULT, type RelClubRow, type RelMemberRow, type RelRoleRow } from '../fixtures/reliability.js'
import { modelTable } from '../model-table.js'

// Hostile and malformed input, as it arrives from an HTTP request: every kind of bad key, bad
// column name and bad value, on every method, forward and reverse, plain, symmetrical and
// through relations, with string and uuid keys. Each failing call must fail with its
// documented code, write nothing (storage read directly before and after), send no event,
// and, when the input is malformed, fail before any statement reaches storage.

const fx = reliabilityFixture('tl_rel_')
const { Member, Club, Badge, Token, clubs, friends, roles, badges, tokens } = fx

/** A row with a column of each kind a value can be stored in (binary columns: test/adapters). */
interface SampleRow {
  id: number
  label: string | null
  count: number | null
  big: bigint | null
  flag: boolean | null
  at: Date | null
}
const Sample = defineModel<SampleRow>('RelSample', { table: 'tl_rel_sample', columns: ['id', 'label', 'count', 'big', 'flag', 'at'] })
/** `Member.samples`: targets with a column of every kind. */
const samples = manyToMany(Member, Sample, { name: 'samples' })
/** What the `note` default of {@link badDefaultRoles} returns: set by the test. */
let badDefault: unknown = null
/** The roles table again, with a `note` default (a function) that returns {@link badDefault}. */
const BadDefaultRole = defineThrough<RelRoleRow>('RelRoleBadDefault', {
  table: fx.Role.table,
  primaryKey: 'id',
  foreignKeys: { member_id: Member, club_id: Club, inviter_id: Member },
  columns: { role: { required: true }, note: { default: () => badDefault as string } },
})
const badDefaultRoles = manyToMany(Member, Club, { name: 'bad_default_roles', through: BadDefaultRole, throughFields: ['member_id', 'club_id'], relatedName: '+' })
const SCHEMA = [
  ...fx.schema,
  modelTable(Sample, { label: 'string', count: 'integer', big: 'bigint', flag: 'boolean', at: 'datetime' }),
  describeJoinTable(samples),
]
/** Every table, children first. */
const TABLES = [samples.through.table, Sample.table, ...fx.tables]
const RELATIONS = [clubs, friends, roles, badges, tokens, samples, badDefaultRoles] as const

/** A uuid that no token has, and the one that the seed inserts. */
const TOKEN = '6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f'
const NO_TOKEN = '00000000-0000-4000-8000-000000000000'

interface Seeded {
  readonly m1: RelMemberRow
  readonly m2: RelMemberRow
  readonly c1: RelClubRow
  readonly c2: RelClubRow
  /** A positive integer key that no member or club has. */
  readonly missing: number
}

// m1 is in c1 (clubs and roles), friends with m2, has badge "alpha" and the token.
async function seed(ctx: ConformanceContext): Promise<Seeded> {
  const m1 = await ctx.insert(Member, { name: 'Ann' })
  const m2 = await ctx.insert(Member, { name: 'Bob' })
  const c1 = await ctx.insert(Club, { title: 'Chess', rank: 1 })
  const c2 = await ctx.insert(Club, { title: 'Rowing', rank: 2 })
  await ctx.insert(Badge, { code: 'alpha', label: 'A' })
  await ctx.insert(Badge, { code: 'beta', label: 'B' })
  await ctx.insert(Token, { uuid: TOKEN, label: 'T' })
  await ctx.bind(clubs).of(m1).add(c1)
  await ctx.bind(friends).of(m1).add(m2)
  await ctx.bind(roles).of(m1).add(c1, { throughDefaults: { role: 'captain' } })
  await ctx.bind(badges).of(m1).add('alpha')
  await ctx.bind(tokens).of(m1).add(TOKEN)
  return { m1, m2, c1, c2, missing: Math.max(m1.id, m2.id, c1.id, c2.id) + 1000 }
}

/** Records the events of every fixture relation while `work` runs. */
async function allEvents(work: () => Promise<unknown>): Promise<RecordedEvent[]> {
  let events: RecordedEvent[] = []
  const nested = RELATIONS.reduce<() => Promise<unknown>>(
    (inner, relation) => async () => {
      const recorded = await recordEvents(relation, inner)
      events = [...events, ...recorded]
    },
    work,
  )
  await nested()
  return events
}

/**
 * Runs calls that must all fail, and checks that together they wrote nothing, sent no event
 * and, unless `statements` is false, ran no statement at all (rejected before storage).
 */
async function rejectedBeforeStorage(ctx: ConformanceContext, work: () => Promise<void>, statements = true): Promise<void> {
  let ran = 0
  const events = await allEvents(() =>
    expectUnchanged(ctx, TABLES, async () => {
      ran = await ctx.statements(work)
    }),
  )
  assert.deepEqual(events, [], 'A rejected call sent events.')
  if (statements) assert.equal(ran, 0, 'A rejected call reached storage: malformed input must be refused before any statement.')
}

/** expectError, with the input named in the failure message. */
async function refuses(label: string, work: () => unknown, code: ErrorCode): Promise<void> {
  try {
    await expectError(work, code)
  } catch (error) {
    throw new Error(`${label}: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
  }
}

/** Checks that `work` throws `code` synchronously or asynchronously (of() throws at once). */
async function refusesAnyway(label: string, work: () => unknown, code: ErrorCode): Promise<void> {
  await refuses(label, () => Promise.resolve().then(work), code)
}

/** Describes a value for a failure message. */
function describeValue(value: unknown): string {
  if (typeof value === 'bigint') return `${String(value)}n`
  if (typeof value === 'string') return value.length > 40 ? `a string of ${String(value.length)} characters` : JSON.stringify(value)
  if (typeof value === 'symbol') return 'a symbol'
  if (typeof value === 'function') return 'a function'
  if (Array.isArray(value)) return `an array ${JSON.stringify(value)}`
  if (value instanceof Date) return 'a Date'
  if (value instanceof Map) return 'a Map'
  if (typeof value === 'object' && value !== null) return `an object with keys [${Object.keys(value).join(', ')}]`
  return String(value)
}

/** Values that are no integer key, whatever the model. */
const NOT_INTEGER_KEYS: readonly unknown[] = [
  null,
  undefined,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  1.5,
  -0.5,
  2 ** 53,
  -(2 ** 53),
  Number.MAX_VALUE,
  2n ** 53n,
  2n ** 64n,
  '',
  ' ',
  'abc',
  '1.5',
  '1e3',
  '0x10',
  ' 1',
  '1 ',
  '1'.repeat(1_000_000),
  true,
  false,
  {},
  [[1]],
  new Map([['id', 1]]),
  new Date(),
  () => 1,
  Symbol('id'),
  Object.create(null) as object,
  { valueOf: () => 1 },
  { id: {} },
  { id: [1] },
  { id: Number.NaN },
  { id: '1; DROP TABLE tl_rel_member' },
]

/** A class whose instances are no column value. */
class Money {
  constructor(readonly cents: number) {}
}

/** Strings with an unpaired UTF-16 surrogate, which SQL databases store as U+FFFD. */
const LONE_SURROGATES = ['a\uD800b', '\uDC00', 'end \uD83D', '\uDE00 start', '\uDE00\uD83D']

/** Values that no column takes, with a name for the failure message. */
const NOT_COLUMN_VALUES: readonly (readonly [string, unknown])[] = [
  ['an array', ['a', 'b']],
  ['an empty array', []],
  ['a nested array', [[1]]],
  ['a plain object', { a: 1 }],
  ['an object without prototype', Object.create(null) as object],
  ['an object with toString', { toString: () => 'x' }],
  ['a Map', new Map([['a', 1]])],
  ['a Set', new Set([1])],
  ['a function', () => 'x'],
  ['a symbol', Symbol('x')],
  ['a class instance', new Money(5)],
  ['a boxed string', Object('x') as object],
  ['an ArrayBuffer', new ArrayBuffer(2)],
  ['an Int16Array', new Int16Array(2)],
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['-Infinity', Number.NEGATIVE_INFINITY],
  ['an invalid Date', new Date(Number.NaN)],
  ['a bigint beyond 64 bits', 2n ** 63n],
  ['a negative bigint beyond 64 bits', -(2n ** 63n) - 1n],
  ['a string with a NUL character', 'a\u0000b'],
  ...LONE_SURROGATES.map((text) => [`a lone surrogate ${JSON.stringify(text)}`, text] as const),
]

/** Registers a test that reads storage directly, waiting for the fixes given. */
function itChecked(options: ConformanceOptions, name: string, body: TestFn, ...fixes: PendingFix[]): void {
  const { it } = options.test
  const waiting = fixes.filter((fix) => !fixLanded(fix))
  const missing =
    options.inspect === undefined ? 'needs the inspect option' : waiting.length > 0 ? `waits for fix ${waiting.join(' and ')}, see docs/reliability.md` : undefined
  if (missing === undefined) it(name, body)
  else if (it.skip !== undefined) it.skip(`${name} [${missing}]`, body)
  else it(`${name} [skipped: ${missing}]`, () => undefined)
}

/** Peak heap growth in bytes while `work` runs, sampled every few milliseconds. */
async function peakHeapGrowth(work: () => Promise<unknown>): Promise<number> {
  const usage = (globalThis as { process?: { memoryUsage?: () => { heapUsed: number } } }).process?.memoryUsage
  if (usage === undefined) {
    await work()
    return 0
  }
  const base = usage().heapUsed
  let peak = base
  const timer = setInterval(() => {
    peak = Math.max(peak, usage().heapUsed)
  }, 5)
  try {
    await work()
  } finally {
    clearInterval(timer)
  }
  return Math.max(peak, usage().heapUsed) - base
}

/**
 * Hostile and malformed input on every method, with the error code docs/reliability.md gives
 * for it, nothing written and no event sent.
 */
export function hostileInputConformance(options: ConformanceOptions): void {
  const { describe, it } = options.test
  const millionKeys = (options.largeCount ?? 100_000) * 10
  describe(`${options.name}: hostile input`, () => {
    const context = useContext(options, SCHEMA)

    itChecked(options, 'refuses unsaved and wrong-model targets on every relation and side, before any statement', async () => {
      const ctx = context()
      const { m1, m2, c1, c2 } = await seed(ctx)
      const member = (): ReturnType<typeof clubs.of> => ctx.bind(clubs).of(m1)
      const unsavedClub = { title: 'Unsaved' } as unknown as RelClubRow
      const nullKeyClub = { id: null, title: 'Unsaved' } as unknown as RelClubRow
      const unsavedMember = { name: 'Unsaved' } as unknown as RelMemberRow
      // A row that throughline returned for another model, and a plain row with a column the model does not have.
      const taggedMember = tagRow({ id: c2.id, name: 'Not a club' }, Member)
      const foreignRow = { id: c2.id, headline: 'An article' }
      await rejectedBeforeStorage(ctx, async () => {
        for (const [label, value, code] of [
          ['an unsaved club', unsavedClub, 'M2M_UNSAVED_TARGET'],
          ['a club whose key is null', nullKeyClub, 'M2M_UNSAVED_TARGET'],
          ['a member row where a club is expected', taggedMember, 'M2M_WRONG_MODEL'],
          ['a row with a column clubs do not have', foreignRow, 'M2M_WRONG_MODEL'],
        ] as const) {
          const target = value as never
          await refuses(`add(${label})`, () => member().add([c2, target]), code)
          await refuses(`remove(${label})`, () => member().remove([c1, target]), code)
          await refuses(`set(${label})`, () => member().set([c2, target]), code)
          await refuses(`set(${label}, clear)`, () => member().set([c2, target], { clear: true }), code)
          await refuses(`toggle(${label})`, () => member().toggle(target), code)
          await refuses(`exists(${label})`, () => member().exists(target), code)
          await refuses(`throughRows(${label})`, () => member().throughRows(target), code)
          await refuses(`roles add(${label})`, () => ctx.bind(roles).of(m1).add(target, { throughDefaults: { role: 'x' } }), code)
        }
        // Reverse and symmetrical sides, and string and uuid keyed targets.
        await refuses('reverse add(unsaved member)', () => ctx.bind(clubs).reverse.of(c1).add(unsavedMember), 'M2M_UNSAVED_TARGET')
        await refuses('reverse add(a club)', () => ctx.bind(clubs).reverse.of(c1).add(c2 as never), 'M2M_WRONG_MODEL')
        await refuses('friends add(unsaved member)', () => ctx.bind(friends).of(m1).add(unsavedMember), 'M2M_UNSAVED_TARGET')
        await refuses('friends toggle(a club)', () => ctx.bind(friends).of(m1).toggle(c1 as never), 'M2M_WRONG_MODEL')
        await refuses('badges add(unsaved badge)', () => ctx.bind(badges).of(m1).add({ label: 'x' } as never), 'M2M_UNSAVED_TARGET')
        await refuses('tokens set(a member)', () => ctx.bind(tokens).of(m1).set([m2 as never]), 'M2M_WRONG_MODEL')
        // The source of a manager: of() throws at once.
        await refusesAnyway('of(unsaved member)', () => ctx.bind(clubs).of(unsavedMember), 'M2M_UNSAVED_SOURCE')
        await refusesAnyway('of(null)', () => ctx.bind(clubs).of(null as never), 'M2M_UNSAVED_SOURCE')
        await refusesAnyway('of(undefined)', () => ctx.bind(friends).of(undefined as never), 'M2M_UNSAVED_SOURCE')
        await refusesAnyway('of(a club)', () => ctx.bind(clubs).of(c1 as never), 'M2M_WRONG_MODEL')
        await refusesAnyway('reverse.of(a member)', () => ctx.bind(clubs).reverse.of(m1 as never), 'M2M_WRONG_MODEL')
        await refusesAnyway('reverse.of(unsaved club)', () => ctx.bind(clubs).reverse.of(unsavedClub), 'M2M_UNSAVED_SOURCE')
      })
    })

    itChecked(options, 'refuses null, undefined, NaN, Infinity, fractions, unsafe integers, objects and arrays as keys, before any statement', async () => {
      const ctx = context()
      const { m1, c1, c2 } = await seed(ctx)
      const manager = ctx.bind(clubs).of(m1)
      await rejectedBeforeStorage(ctx, async () => {
        for (const value of NOT_INTEGER_KEYS) {
          const bad = value as never
          const label = describeValue(value)
          await refuses(`add(${label})`, () => manager.add([c2, bad]), 'M2M_INVALID_KEY')
          await refuses(`remove(${label})`, () => manager.remove([c1, bad]), 'M2M_INVALID_KEY')
          await refuses(`set(${label})`, () => manager.set([c2, bad]), 'M2M_INVALID_KEY')
          await refuses(`toggle(${label})`, () => manager.toggle(bad), 'M2M_INVALID_KEY')
          await refuses(`throughRows(${label})`, () => manager.throughRows([bad]), 'M2M_INVALID_KEY')
          // filter({ pk: null }) asks for a null key (isnull), which is no error.
          if (value !== null) await refuses(`filter({ pk: ${label} })`, () => manager.filter({ pk: bad }).count(), value === undefined ? 'M2M_INVALID_LOOKUP' : 'M2M_INVALID_KEY')
          await refuses(`filter({ pk__in: [${label}] })`, () => manager.filter({ pk__in: [bad] }).count(), value === null || value === undefined ? 'M2M_INVALID_LOOKUP' : 'M2M_INVALID_KEY')
          await refuses(`reverse add(${label})`, () => ctx.bind(clubs).reverse.of(c1).add(bad), 'M2M_INVALID_KEY')
          await refuses(`friends set(${label})`, () => ctx.bind(friends).of(m1).set([bad]), 'M2M_INVALID_KEY')
          if (value !== undefined) await refuses(`exists(${label})`, () => manager.exists(bad), 'M2M_INVALID_KEY')
          if (value !== null && value !== undefined) await refusesAnyway(`of(${label})`, () => ctx.bind(clubs).of(bad), 'M2M_INVALID_KEY')
        }
        // Alone rather than in a list: a bare null is a key, not "nothing".
        await refuses('add(null)', () => manager.add(null as never), 'M2M_INVALID_KEY')
        await refuses('remove(undefined)', () => manager.remove(undefined as never), 'M2M_INVALID_KEY')
      })
      // An empty list is nothing to do, not an error.
      await manager.add([])
      await manager.remove([])
      assert.deepEqual(await manager.ids(), [c1.id])
    })

    itChecked(options, 'treats zero and negative integer keys as keys with no row', async () => {
      const ctx = context()
      const { m1, c1 } = await seed(ctx)
      const manager = ctx.bind(clubs).of(m1)
      await rejectedBeforeStorage(
        ctx,
        async () => {
          const error = await expectError(() => manager.add([c1, 0, -1, '-2', '+0']), 'M2M_TARGET_NOT_FOUND')
          assert.deepEqual((error as unknown as { keys: Key[] }).keys, [0, -1, -2])
          await expectError(() => manager.set([-1]), 'M2M_TARGET_NOT_FOUND')
          await expectError(() => manager.toggle(-1), 'M2M_TARGET_NOT_FOUND')
          await expectError(() => ctx.bind(friends).of(m1).add(-1), 'M2M_TARGET_NOT_FOUND')
        },
        false,
      )
      // Reads and remove find nothing, and are not errors.
      await manager.remove([0, -1])
      assert.equal(await manager.exists(-1), false)
      assert.deepEqual(await ctx.bind(clubs).of(-1).ids(), [])
      assert.equal(await ctx.bind(clubs).reverse.of(0).count(), 0)
      assert.deepEqual(await manager.ids(), [c1.id])
    })

    itChecked(
      options,
      'refuses a link from a zero or negative source key as a constraint violation',
      async () => {
        const ctx = context()
        const { m1, c1 } = await seed(ctx)
        await expectUnchanged(ctx, fx.tables, async () => {
          await expectError(() => ctx.bind(clubs).of(-1).add(c1), 'M2M_CONSTRAINT_VIOLATION')
          await expectError(() => ctx.bind(clubs).of(0).toggle(c1), 'M2M_CONSTRAINT_VIOLATION')
          await expectError(() => ctx.bind(roles).of(-5).add(c1, { throughDefaults: { role: 'x' } }), 'M2M_CONSTRAINT_VIOLATION')
          await expectError(() => ctx.bind(friends).of(-5).add(m1), 'M2M_CONSTRAINT_VIOLATION')
        })
      },
      'F3',
    )

    itChecked(
      options,
      'treats integer keys beyond 32 bits as keys with no row',
      async () => {
        const ctx = context()
        const { m1, c1 } = await seed(ctx)
        const manager = ctx.bind(clubs).of(m1)
        const big = [2 ** 31, 2 ** 32 + 1, 2 ** 40, Number.MAX_SAFE_INTEGER, String(2 ** 40), 2n ** 40n]
        await expectUnchanged(ctx, fx.tables, async () => {
          const error = await expectError(() => manager.add(big as never), 'M2M_TARGET_NOT_FOUND')
          assert.deepEqual((error as unknown as { keys: Key[] }).keys, [2 ** 31, 2 ** 32 + 1, 2 ** 40, Number.MAX_SAFE_INTEGER])
          await expectError(() => manager.toggle(2 ** 40), 'M2M_TARGET_NOT_FOUND')
          await expectError(() => manager.set([c1, 2 ** 40]), 'M2M_TARGET_NOT_FOUND')
          await manager.remove(big as never)
          assert.equal(await manager.exists(2 ** 40), false)
          assert.deepEqual(await manager.throughRows(2 ** 40), [])
          assert.equal(await manager.filter({ id__in: [2 ** 40, c1.id] }).count(), 1)
          assert.equal(await manager.filter({ id__gt: 2 ** 40 }).count(), 0)
          assert.equal(await manager.filter({ rank__lt: 2 ** 40, rank__gt: -(2 ** 40) }).count(), 1)
          assert.deepEqual(await ctx.bind(clubs).of(2 ** 40).ids(), [])
          assert.equal(await ctx.bind(clubs).reverse.of(Number.MAX_SAFE_INTEGER).count(), 0)
          // A link from a source that cannot exist is refused like any source with no row.
          await expectError(() => ctx.bind(clubs).of(2 ** 40).add(c1), 'M2M_CONSTRAINT_VIOLATION')
          await expectError(() => ctx.bind(clubs).reverse.of(c1).add(2 ** 40), 'M2M_TARGET_NOT_FOUND')
        })
        assert.deepEqual(await manager.ids(), [c1.id])
      },
      'F2',
      'F3',
    )

    itChecked(options, 'coerces bigint keys within range and refuses the others', async () => {
      const ctx = context()
      const { m1, c1, c2 } = await seed(ctx)
      const manager = ctx.bind(clubs).of(m1)
      await rejectedBeforeStorage(ctx, async () => {
        await expectError(() => manager.add(2n ** 53n as never), 'M2M_INVALID_KEY')
        await expectError(() => manager.add(-(2n ** 64n) as never), 'M2M_INVALID_KEY')
        await expectError(() => ctx.bind(tokens).of(m1).add(1n as never), 'M2M_INVALID_KEY')
      })
      // A bigint within range is the integer key; on a string key it is its decimal text.
      await manager.add(BigInt(c2.id) as never)
      assert.deepEqual(await manager.ids(), [c1.id, c2.id])
      assert.equal(await manager.exists(BigInt(c1.id) as never), true)
      await expectUnchanged(ctx, fx.tables, async () => {
        const error = await expectError(() => ctx.bind(badges).of(m1).add(12n as never), 'M2M_TARGET_NOT_FOUND')
        assert.deepEqual((error as unknown as { keys: Key[] }).keys, ['12'])
      })
    })

    itChecked(options, 'treats empty and huge strings as keys with no row for string keys, and refuses them for integer and uuid keys', async () => {
      const ctx = context()
      const { m1 } = await seed(ctx)
      const huge = 'x'.repeat(1_000_000)
      const manager = ctx.bind(badges).of(m1)
      await rejectedBeforeStorage(ctx, async () => {
        for (const value of ['', huge, ' ', '\t']) {
          await refuses(`clubs add(${describeValue(value)})`, () => ctx.bind(clubs).of(m1).add(value), 'M2M_INVALID_KEY')
          await refuses(`tokens add(${describeValue(value)})`, () => ctx.bind(tokens).of(m1).add(value), 'M2M_INVALID_KEY')
          await refusesAnyway(`of(${describeValue(value)})`, () => ctx.bind(clubs).of(value), 'M2M_INVALID_KEY')
        }
      })
      await expectUnchanged(ctx, fx.tables, async () => {
        for (const value of ['', huge, ' ', 'alpha ', ' alpha', 'ALPHA', 'Alpha']) {
          const error = await expectError(() => manager.add(value), 'M2M_TARGET_NOT_FOUND')
          assert.deepEqual((error as unknown as { keys: Key[] }).keys, [value], `add(${describeValue(value)}) names the key`)
          await expectError(() => manager.toggle(value), 'M2M_TARGET_NOT_FOUND')
          await expectError(() => manager.set(['alpha', value]), 'M2M_TARGET_NOT_FOUND')
          await manager.remove(value)
          assert.equal(await manager.exists(value), false, `exists(${describeValue(value)})`)
          assert.deepEqual(await manager.throughRows(value), [])
          assert.equal(await manager.filter({ pk__in: [value] }).count(), 0)
          assert.equal(await manager.filter({ label__contains: value }).count(), value === '' ? 1 : 0)
          assert.deepEqual(await ctx.bind(badges).reverse.of(value).ids(), [])
        }
      })
      assert.deepEqual(await manager.ids(), ['alpha'])
    })

    itChecked(
      options,
      'refuses a link from a string source key that matches a row only by case or trailing spaces',
      async () => {
        const ctx = context()
        const { m1, m2 } = await seed(ctx)
        await expectUnchanged(ctx, fx.tables, async () => {
          for (const source of ['ALPHA', 'Alpha', 'alpha ', 'BETA']) {
            // No badge has this key: as for any source with no row, the link is refused.
            await refuses(`badges.reverse.of(${JSON.stringify(source)}).add`, () => ctx.bind(badges).reverse.of(source).add(m2), 'M2M_CONSTRAINT_VIOLATION')
            await refuses(`badges.reverse.of(${JSON.stringify(source)}).toggle`, () => ctx.bind(badges).reverse.of(source).toggle(m1), 'M2M_CONSTRAINT_VIOLATION')
            assert.deepEqual(await ctx.bind(badges).reverse.of(source).ids(), [], `badges.reverse.of(${JSON.stringify(source)}).ids()`)
          }
        })
      },
      'F14',
    )

    itChecked(options, 'refuses keys of the wrong type for string and uuid primary keys, and coerces the others', async () => {
      const ctx = context()
      const { m1 } = await seed(ctx)
      const badgesOf = ctx.bind(badges).of(m1)
      const tokensOf = ctx.bind(tokens).of(m1)
      await rejectedBeforeStorage(ctx, async () => {
        for (const value of [null, undefined, true, Number.NaN, Number.POSITIVE_INFINITY, {}, [[]], new Date(), Symbol('code')]) {
          await refuses(`badges add(${describeValue(value)})`, () => badgesOf.add([value as never]), 'M2M_INVALID_KEY')
          await refuses(`badges toggle(${describeValue(value)})`, () => badgesOf.toggle(value as never), 'M2M_INVALID_KEY')
        }
        for (const value of [
          null,
          3,
          3n,
          true,
          'abc',
          `{${TOKEN}}`,
          `${TOKEN}\n`,
          ` ${TOKEN}`,
          TOKEN.replace(/-/g, ''),
          TOKEN.replace('6f', 'zz'),
          `${TOKEN}' OR '1'='1`,
          {},
        ]) {
          await refuses(`tokens add(${describeValue(value)})`, () => tokensOf.add([value as never]), 'M2M_INVALID_KEY')
          await refuses(`tokens remove(${describeValue(value)})`, () => tokensOf.remove([value as never]), 'M2M_INVALID_KEY')
          if (value !== null) await refuses(`tokens filter pk(${describeValue(value)})`, () => tokensOf.filter({ pk: value as never }).count(), 'M2M_INVALID_KEY')
        }
      })
      // Numbers are strings for a string key; a uuid is matched whatever its case.
      await expectUnchanged(ctx, fx.tables, async () => {
        const error = await expectError(() => badgesOf.add([3, 1.5] as never), 'M2M_TARGET_NOT_FOUND')
        assert.deepEqual((error as unknown as { keys: Key[] }).keys, ['3', '1.5'])
        const missing = await expectError(() => tokensOf.add(NO_TOKEN), 'M2M_TARGET_NOT_FOUND')
        assert.deepEqual((missing as unknown as { keys: Key[] }).keys, [NO_TOKEN])
      })
      assert.equal(await tokensOf.exists(TOKEN.toUpperCase()), true)
      await tokensOf.add(TOKEN.toUpperCase())
      assert.deepEqual(await tokensOf.ids(), [TOKEN])
      await tokensOf.remove(TOKEN.toUpperCase())
      assert.deepEqual(await tokensOf.ids(), [])
    })

    itChecked(options, 'reports keys with no row on every relation, writing nothing', async () => {
      const ctx = context()
      const { m1, m2, c1, c2, missing } = await seed(ctx)
      await rejectedBeforeStorage(
        ctx,
        async () => {
          for (const [label, work, keys] of [
            ['clubs add', () => ctx.bind(clubs).of(m1).add([c2, missing]), [missing]],
            ['clubs reverse add', () => ctx.bind(clubs).reverse.of(c1).add([m2, missing]), [missing]],
            ['friends set', () => ctx.bind(friends).of(m1).set([missing]), [missing]],
            ['roles toggle', () => ctx.bind(roles).of(m1).toggle(missing, { throughDefaults: { role: 'x' } }), [missing]],
            ['roles reverse set', () => ctx.bind(roles).reverse.of(c2).set([m1, m2, missing], { throughDefaults: { role: 'x' } }), [missing]],
            ['badges add', () => ctx.bind(badges).of(m1).add(['beta', 'gamma', 'delta']), ['gamma', 'delta']],
            ['tokens set clear', () => ctx.bind(tokens).of(m1).set([NO_TOKEN], { clear: true }), [NO_TOKEN]],
          ] as const) {
            const error = await expectError(work, 'M2M_TARGET_NOT_FOUND').catch((cause: unknown) => {
              throw new Error(`${label}: ${String(cause)}`, { cause })
            })
            assert.deepEqual((error as unknown as { keys: Key[] }).keys, keys, `${label}: error.keys`)
          }
        },
        false,
      )
      // A source with no row: reads are empty, writes are refused by the foreign key.
      assert.deepEqual(await ctx.bind(clubs).of(missing).all(), [])
      assert.equal(await ctx.bind(friends).of(missing).exists(), false)
      await expectUnchanged(ctx, fx.tables, async () => {
        await expectError(() => ctx.bind(clubs).of(missing).add(c1), 'M2M_CONSTRAINT_VIOLATION')
        await expectError(() => ctx.bind(friends).of(missing).add(m1), 'M2M_CONSTRAINT_VIOLATION')
        await expectError(() => ctx.bind(roles).reverse.of(missing).add(m1, { throughDefaults: { role: 'x' } }), 'M2M_CONSTRAINT_VIOLATION')
      })
    })

    // Only the database's foreign key checks the through table's other foreign-key columns
    // (an inviter_id): without one, such a value is stored (docs/reliability.md, Limits).
    const throughValueName = 'refuses a through value that points at no row as a constraint violation'
    const throughValue = async (): Promise<void> => {
      const ctx = context()
      const { m1, c2, missing } = await seed(ctx)
      await expectUnchanged(ctx, fx.tables, async () => {
        await expectError(() => ctx.bind(roles).of(m1).add(c2, { throughDefaults: { role: 'x', inviter_id: missing } }), 'M2M_CONSTRAINT_VIOLATION')
        await expectError(() => ctx.bind(roles).of(m1).set([c2], { throughDefaults: { role: 'x', inviter_id: -1 } }), 'M2M_CONSTRAINT_VIOLATION')
      })
    }
    if (options.joinTables === 'without-foreign-keys') {
      itWithForeignKeys(options, throughValueName, throughValue, 'needs a foreign key on inviter_id: only the database checks the other foreign-key columns of a through table')
    } else {
      itChecked(options, throughValueName, throughValue, 'F8', 'F3')
    }

    itChecked(options, 'refuses __proto__, constructor and prototype names in throughDefaults, filter, create and lookups, leaving Object.prototype alone', async () => {
      const ctx = context()
      const { m1, c2 } = await seed(ctx)
      const polluting = [
        JSON.parse('{"__proto__": {"polluted": "yes"}}') as object,
        JSON.parse('{"constructor": {"prototype": {"polluted": "yes"}}}') as object,
        { prototype: 'x' },
        { hasOwnProperty: 'x' },
        { toString: 'x' },
        { __defineGetter__: 'x' },
      ]
      const roleOf = ctx.bind(roles).of(m1)
      const clubsOf = ctx.bind(clubs).of(m1)
      await rejectedBeforeStorage(ctx, async () => {
        for (const object of polluting) {
          const label = Object.keys(object).join(', ')
          // Spread copies an own "__proto__" key as a plain property, as JSON.parse made it.
          const withRole = { ...object, role: 'x' }
          await refuses(`throughDefaults {${label}}`, () => roleOf.add(c2, { throughDefaults: withRole }), 'M2M_UNKNOWN_COLUMN')
          await refuses(`set throughDefaults {${label}}`, () => roleOf.set([c2], { throughDefaults: withRole }), 'M2M_UNKNOWN_COLUMN')
          await refuses(`toggle throughDefaults {${label}}`, () => roleOf.toggle(c2, { throughDefaults: withRole }), 'M2M_UNKNOWN_COLUMN')
          await refuses(`create {${label}}`, () => clubsOf.create(object), 'M2M_UNKNOWN_COLUMN')
          await refuses(`getOrCreate defaults {${label}}`, () => clubsOf.getOrCreate({ title: 'New' }, { defaults: object }), 'M2M_UNKNOWN_COLUMN')
          await refuses(`updateOrCreate defaults {${label}}`, () => clubsOf.updateOrCreate({ title: 'Chess' }, { defaults: object }), 'M2M_UNKNOWN_COLUMN')
          await refuses(`updateOrCreate createDefaults {${label}}`, () => clubsOf.updateOrCreate({ title: 'New' }, { createDefaults: object }), 'M2M_UNKNOWN_COLUMN')
          // A filter rejects the name as an unknown column (or, for "__proto__", an empty lookup).
          const filterError = await expectError(() => clubsOf.filter(object as never).count(), 'M2M_UNKNOWN_COLUMN').catch(() =>
            expectError(() => clubsOf.filter(object).count(), 'M2M_INVALID_LOOKUP'),
          )
          assert.ok(isThroughlineError(filterError), `filter {${label}}`)
          const lookupError = await expectError(() => clubsOf.getOrCreate(object as never), 'M2M_UNKNOWN_COLUMN').catch(() =>
            expectError(() => clubsOf.getOrCreate(object), 'M2M_INVALID_LOOKUP'),
          )
          assert.ok(isThroughlineError(lookupError), `getOrCreate lookup {${label}}`)
        }
        for (const name of ['constructor', 'constructor__exact', '__proto__', 'prototype__in', 'hasOwnProperty__isnull', 'valueOf__gt']) {
          const where = JSON.parse(JSON.stringify({ [name]: name.endsWith('__in') ? ['x'] : name.endsWith('__isnull') ? true : 'x' })) as never
          const code = name === '__proto__' ? 'M2M_INVALID_LOOKUP' : 'M2M_UNKNOWN_COLUMN'
          await refusesAnyway(`filter { ${name} }`, () => clubsOf.filter(where).count(), code)
          await refusesAnyway(`orderBy(${name})`, () => clubsOf.orderBy(name as never).all(), 'M2M_UNKNOWN_COLUMN')
        }
      })
      const probe: Record<string, unknown> = {}
      assert.equal(probe.polluted, undefined, 'Object.prototype was polluted')
      assert.equal(Object.getPrototypeOf(probe), Object.prototype)
      assert.deepEqual(Object.keys(Object.prototype), [])
      assert.equal(typeof probe.hasOwnProperty, 'function')
    })

    itChecked(options, 'refuses unknown columns and lookups before any statement, whatever SQL they contain', async () => {
      const ctx = context()
      const { m1, c2 } = await seed(ctx)
      const clubsOf = ctx.bind(clubs).of(m1)
      const names = [
        'nope',
        'title; DROP TABLE tl_rel_club; --',
        'title" OR "1"="1',
        "title' OR '1'='1",
        'title`',
        't.title',
        'tl_rel_club.title',
        'title--',
        '1title',
        'title )',
        'TITLE',
        'title__exact__in',
        'title__in__exact',
        'title\u0000',
        '',
        ' ',
      ]
      const lookups = ['title__like', 'title__regex', 'title__iregex', 'title__', 'title__; DROP TABLE x', 'pk__contains_', 'rank__range']
      await rejectedBeforeStorage(ctx, async () => {
        for (const name of names) {
          await refusesAnyway(`filter(${JSON.stringify(name)})`, () => clubsOf.filter({ [name]: 'x' }).count(), 'M2M_UNKNOWN_COLUMN')
          await refusesAnyway(`orderBy(${JSON.stringify(name)})`, () => clubsOf.orderBy(name as never).all(), 'M2M_UNKNOWN_COLUMN')
          await refusesAnyway(`orderBy(-${JSON.stringify(name)})`, () => clubsOf.orderBy(`-${name}` as never).all(), 'M2M_UNKNOWN_COLUMN')
          await refuses(`create(${JSON.stringify(name)})`, () => clubsOf.create({ title: 'x', [name]: 1 }), 'M2M_UNKNOWN_COLUMN')
          await refuses(`updateOrCreate(${JSON.stringify(name)})`, () => clubsOf.updateOrCreate({ title: 'Chess' }, { defaults: { [name]: 1 } }), 'M2M_UNKNOWN_COLUMN')
          await refuses(`throughDefaults(${JSON.stringify(name)})`, () => ctx.bind(roles).of(m1).add(c2, { throughDefaults: { role: 'x', [name]: 1 } }), 'M2M_UNKNOWN_COLUMN')
        }
        for (const lookup of lookups) {
          await refusesAnyway(`filter(${JSON.stringify(lookup)})`, () => clubsOf.filter({ [lookup]: 'x' }).count(), 'M2M_INVALID_LOOKUP')
          await refuses(`get(${JSON.stringify(lookup)})`, () => clubsOf.get({ [lookup]: 'x' }), 'M2M_INVALID_LOOKUP')
        }
        // Values a lookup cannot take.
        for (const [where, code] of [
          [{ title: { $ne: null } }, 'M2M_INVALID_LOOKUP'],
          [{ title__in: 'Chess' }, 'M2M_INVALID_LOOKUP'],
          [{ title__in: [null] }, 'M2M_INVALID_LOOKUP'],
          [{ title__in: [['Chess']] }, 'M2M_INVALID_LOOKUP'],
          [{ title__startswith: ['C'] }, 'M2M_INVALID_LOOKUP'],
          [{ title__isnull: 'false' }, 'M2M_INVALID_LOOKUP'],
          [{ rank__gt: null }, 'M2M_INVALID_LOOKUP'],
          [{ rank__gt: { toString: () => '1' } }, 'M2M_INVALID_LOOKUP'],
          [{ title: undefined }, 'M2M_INVALID_LOOKUP'],
          [{ title: new Date(Number.NaN) }, 'M2M_INVALID_LOOKUP'],
          [{ pk: 'abc' }, 'M2M_INVALID_KEY'],
          [{ pk__in: [1, 'abc'] }, 'M2M_INVALID_KEY'],
        ] as const) {
          await refusesAnyway(`filter(${JSON.stringify(where)})`, () => clubsOf.filter(where as never).count(), code)
        }
        await refusesAnyway('limit(-1)', () => clubsOf.query().limit(-1).all(), 'M2M_INVALID_ARGUMENT')
        await refusesAnyway('limit(NaN)', () => clubsOf.query().limit(Number.NaN).all(), 'M2M_INVALID_ARGUMENT')
        await refusesAnyway('offset(Infinity)', () => clubsOf.query().offset(Number.POSITIVE_INFINITY).all(), 'M2M_INVALID_ARGUMENT')
        await refusesAnyway('limit("1; DROP")', () => clubsOf.query().limit('1; DROP' as never).all(), 'M2M_INVALID_ARGUMENT')
      })
    })

    itChecked(options, 'stores and finds SQL-looking strings verbatim', async () => {
      const ctx = context()
      const { m1 } = await seed(ctx)
      const texts = [
        "Robert'); DROP TABLE tl_rel_club; --",
        '" OR "1"="1',
        "' OR '1'='1' --",
        '\\',
        "\\'",
        '%',
        '_',
        '%_%',
        '$1',
        '?',
        '??',
        ':title',
        '`title`',
        '/* comment */',
        '-- comment',
        'line\nbreak\r\ttab',
        'ünïcödé ß',
        '0x00',
        'null',
      ]
      const clubsOf = ctx.bind(clubs).of(m1)
      for (const text of texts) {
        const created = await clubsOf.create({ title: text, rank: 7 })
        assert.equal(created.title, text)
        assert.equal((await clubsOf.get({ title: text })).title, text, `get(${JSON.stringify(text)})`)
        for (const where of [{ title__startswith: text }, { title__endswith: text }, { title__contains: text }, { title__in: [text] }]) {
          assert.ok((await clubsOf.filter(where).ids()).includes(created.id), `filter(${JSON.stringify(where)}) finds it`)
        }
        const [found, made] = await clubsOf.getOrCreate({ title: text })
        assert.deepEqual([found.id, made], [created.id, false])
      }
      const stored = (await ctx.rows(Club.table)).map((row) => row.title as string)
      for (const text of texts) assert.ok(stored.includes(text), `${JSON.stringify(text)} is stored verbatim`)
      assert.equal(await clubsOf.filter({ title__in: texts }).count(), texts.length)
      // As string keys and as through values.
      for (const text of texts) await ctx.insert(Badge, { code: text, label: text })
      await ctx.bind(badges).of(m1).set(texts)
      assert.deepEqual([...(await ctx.bind(badges).of(m1).ids())].sort(), [...texts].sort())
      for (const text of texts) assert.equal(await ctx.bind(badges).of(m1).exists(text), true, JSON.stringify(text))
      const club = await ctx.insert(Club, { title: 'Through', rank: 1 })
      await ctx.bind(roles).of(m1).add(club, { throughDefaults: { role: texts[0]!, note: texts[1]! } })
      const [row] = await ctx.bind(roles).of(m1).throughRows(club)
      assert.deepEqual([row?.role, row?.note], [texts[0], texts[1]])
      // Every table is still there and whole.
      assert.equal((await ctx.rows(Member.table)).length, 2)
      assert.equal((await ctx.rows(fx.roles.through.table)).length, 2)
    })

    itChecked(
      options,
      'refuses strings with a NUL character as keys and as lookup values, before any statement',
      async () => {
        // PostgreSQL cannot store or compare a NUL in text: the rule is the same everywhere.
        const ctx = context()
        const { m1 } = await seed(ctx)
        await rejectedBeforeStorage(ctx, async () => {
          await refuses('badges add(NUL)', () => ctx.bind(badges).of(m1).add('alpha\u0000'), 'M2M_INVALID_KEY')
          await refuses('badges remove(NUL)', () => ctx.bind(badges).of(m1).remove('alpha\u0000'), 'M2M_INVALID_KEY')
          await refuses('badges exists(NUL)', () => ctx.bind(badges).of(m1).exists('\u0000'), 'M2M_INVALID_KEY')
          await refusesAnyway('badges reverse.of(NUL)', () => ctx.bind(badges).reverse.of('alpha\u0000'), 'M2M_INVALID_KEY')
          await refusesAnyway('clubs filter(NUL)', () => ctx.bind(clubs).of(m1).filter({ title: 'Chess\u0000' }).count(), 'M2M_INVALID_LOOKUP')
          await refusesAnyway('clubs filter contains(NUL)', () => ctx.bind(clubs).of(m1).filter({ title__contains: '\u0000' }).count(), 'M2M_INVALID_LOOKUP')
          await refusesAnyway('clubs filter in(NUL)', () => ctx.bind(clubs).of(m1).filter({ title__in: ['Chess', '\u0000'] }).count(), 'M2M_INVALID_LOOKUP')
        })
      },
      'F5',
    )

    itChecked(options, 'refuses arrays, objects, non-finite numbers and other values no column holds, in create, defaults and through values, before any statement', async () => {
      // MariaDB's driver spread an array into the SQL text, PostgreSQL stored an array literal,
      // SQLite refused it and memory kept it: one rule now, before anything is sent.
      const ctx = context()
      const { m1, c1, c2 } = await seed(ctx)
      const clubsOf = ctx.bind(clubs).of(m1)
      const samplesOf = ctx.bind(samples).of(m1)
      const roleOf = ctx.bind(roles).of(m1)
      await rejectedBeforeStorage(ctx, async () => {
        for (const [label, value] of NOT_COLUMN_VALUES) {
          const bad = value as never
          const argument = async (what: string, work: () => unknown): Promise<void> => {
            await refuses(`${what} (${label})`, work, 'M2M_INVALID_ARGUMENT')
          }
          await argument('create title', () => clubsOf.create({ title: bad, rank: 1 }))
          await argument('create rank', () => clubsOf.create({ title: 'New', rank: bad }))
          await argument('samples create', () => samplesOf.create({ label: 'x', count: bad, big: bad, flag: bad, at: bad }))
          await argument('reverse create', () => ctx.bind(clubs).reverse.of(c2).create({ name: bad }))
          await argument('getOrCreate defaults', () => clubsOf.getOrCreate({ title: 'New' }, { defaults: { rank: bad } }))
          await argument('updateOrCreate defaults, row found', () => clubsOf.updateOrCreate({ title: 'Chess' }, { defaults: { rank: bad } }))
          await argument('updateOrCreate createDefaults', () => clubsOf.updateOrCreate({ title: 'New' }, { createDefaults: { title: bad } }))
          // A lookup is a filter first: its values are refused as lookup values.
          await refuses(`getOrCreate lookup (${label})`, () => clubsOf.getOrCreate({ title: 'New', rank: bad }), 'M2M_INVALID_LOOKUP')
          await refuses(`updateOrCreate lookup (${label})`, () => clubsOf.updateOrCreate({ title: bad }), 'M2M_INVALID_LOOKUP')
          // Through values, given or returned by a throughDefaults function or a column default.
          const through = (values: object): { throughDefaults: never } => ({ throughDefaults: values as never })
          if (typeof value !== 'function') {
            await argument('throughDefaults add', () => roleOf.add(c2, through({ role: bad })))
            await argument('throughDefaults set', () => roleOf.set([c1, c2], through({ role: 'x', note: bad })))
            await argument('throughDefaults set clear', () => roleOf.set([c2], { clear: true, ...through({ role: 'x', note: bad }) }))
            await argument('throughDefaults reverse add', () => ctx.bind(roles).reverse.of(c2).add(m1, through({ role: bad })))
          }
          await argument('throughDefaults function, toggle', () => roleOf.toggle(c2, through({ role: () => value })))
          await argument('throughDefaults function, create', () => roleOf.create({ title: 'New' }, through({ role: 'x', note: () => value })))
          badDefault = value
          try {
            await argument('a through column default', () => ctx.bind(badDefaultRoles).of(m1).add(c2, through({ role: 'x' })))
          } finally {
            badDefault = null
          }
        }
        // A primary key given to create() is a key: refused as one, before any statement.
        for (const key of [[1], { id: 1 }, Number.NaN, 'abc']) {
          await refuses(`create with key ${describeValue(key)}`, () => clubsOf.create({ id: key, title: 'New' } as never), 'M2M_INVALID_KEY')
        }
      })
      // The column default that returns a valid value is used, and a value given overrides it.
      await ctx.bind(badDefaultRoles).of(m1).add(c2, { throughDefaults: { role: 'x', note: 'given' } })
      assert.deepEqual((await roleOf.throughRows(c2)).map((row) => row.note), ['given'])
    })

    itChecked(options, 'stores strings, finite numbers, bigints, booleans, null and valid Dates as column values', async () => {
      const ctx = context()
      const { m1, c2 } = await seed(ctx)
      const samplesOf = ctx.bind(samples).of(m1)
      const at = new Date('2024-02-29T12:34:56.789Z')
      const created = await samplesOf.create({ label: 'ünï 😀 \uD83D\uDE00', count: -7, big: 2n ** 62n, flag: true, at })
      await samplesOf.create({ label: null, count: 0, big: -(2n ** 63n), flag: false, at: null })
      const [found, made] = await samplesOf.getOrCreate({ label: 'g', count: 3 }, { defaults: { big: 2n ** 53n + 2n, at: new Date(0) } })
      assert.equal(made, true)
      const [updated, again] = await samplesOf.updateOrCreate({ label: 'g' }, { defaults: { flag: true, count: 2 ** 31 - 1 } })
      assert.deepEqual([updated.id, again], [found.id, false])
      // Drivers type the columns their own way: compare what was stored, not the JavaScript type
      // (the bigints are exact as doubles too, for drivers that read bigint columns as numbers).
      const stored = (await ctx.rows(Sample.table))
        .map((row) => ({
          label: row.label,
          count: row.count === null ? null : Number(row.count),
          big: row.big === null ? null : BigInt(row.big as string),
          flag: row.flag === null ? null : Boolean(row.flag),
          at: row.at === null || row.at === undefined ? null : new Date(row.at as string).getTime(),
        }))
        .sort((a, b) => String(a.label).localeCompare(String(b.label)))
      assert.deepEqual(stored, [
        { label: 'g', count: 2 ** 31 - 1, big: 2n ** 53n + 2n, flag: true, at: 0 },
        { label: 'ünï 😀 😀', count: -7, big: 2n ** 62n, flag: true, at: at.getTime() },
        { label: null, count: 0, big: -(2n ** 63n), flag: false, at: null },
      ].sort((a, b) => String(a.label).localeCompare(String(b.label))))
      assert.equal((await samplesOf.ids()).includes(created.id), true)
      // Through values: a number and a Date in string columns are the database's business; a
      // well-formed string with characters beyond the BMP is stored as it is.
      await ctx.bind(roles).of(m1).add(c2, { throughDefaults: { role: () => 'ünï 😀', note: '😀' } })
      const [row] = await ctx.bind(roles).of(m1).throughRows(c2)
      assert.deepEqual([row?.role, row?.note], ['ünï 😀', '😀'])
    })

    itChecked(options, 'refuses strings with an unpaired UTF-16 surrogate as keys, lookup values and column values, before any statement', async () => {
      // Every SQL database replaced them with U+FFFD, silently: a key or a value that does not
      // read back as it was written. Refused as a NUL character is.
      const ctx = context()
      const { m1, c2 } = await seed(ctx)
      const badgesOf = ctx.bind(badges).of(m1)
      const clubsOf = ctx.bind(clubs).of(m1)
      await rejectedBeforeStorage(ctx, async () => {
        for (const text of LONE_SURROGATES) {
          const label = JSON.stringify(text)
          await refuses(`badges add(${label})`, () => badgesOf.add(['beta', text]), 'M2M_INVALID_KEY')
          await refuses(`badges remove(${label})`, () => badgesOf.remove(text), 'M2M_INVALID_KEY')
          await refuses(`badges set(${label})`, () => badgesOf.set([text]), 'M2M_INVALID_KEY')
          await refuses(`badges toggle(${label})`, () => badgesOf.toggle(text), 'M2M_INVALID_KEY')
          await refuses(`badges exists(${label})`, () => badgesOf.exists(text), 'M2M_INVALID_KEY')
          await refuses(`badges throughRows(${label})`, () => badgesOf.throughRows(text), 'M2M_INVALID_KEY')
          await refusesAnyway(`badges reverse.of(${label})`, () => ctx.bind(badges).reverse.of(text), 'M2M_INVALID_KEY')
          await refuses(`badges filter pk(${label})`, () => badgesOf.filter({ pk__in: ['alpha', text] }).count(), 'M2M_INVALID_KEY')
          await refuses(`badges create key (${label})`, () => badgesOf.create({ code: text, label: 'x' }), 'M2M_INVALID_KEY')
          for (const where of [{ title: text }, { title__contains: text }, { title__startswith: text }, { title__endswith: text }, { title__in: ['Chess', text] }, { title__gt: text }]) {
            await refusesAnyway(`clubs filter(${JSON.stringify(where)})`, () => clubsOf.filter(where).count(), 'M2M_INVALID_LOOKUP')
          }
          await refuses(`clubs get(${label})`, () => clubsOf.get({ title: text }), 'M2M_INVALID_LOOKUP')
          await refuses(`badges create label (${label})`, () => badgesOf.create({ code: 'new', label: text }), 'M2M_INVALID_ARGUMENT')
          await refuses(`clubs create (${label})`, () => clubsOf.create({ title: text }), 'M2M_INVALID_ARGUMENT')
          await refuses(`roles throughDefaults (${label})`, () => ctx.bind(roles).of(m1).add(c2, { throughDefaults: { role: text } }), 'M2M_INVALID_ARGUMENT')
        }
      })
      // A surrogate pair (one character beyond the BMP) is a well-formed key.
      await ctx.insert(Badge, { code: 'star \uD83D\uDE00', label: 'S' })
      await badgesOf.add('star 😀')
      assert.equal(await badgesOf.exists('star \uD83D\uDE00'), true)
      assert.deepEqual(await badgesOf.filter({ code__endswith: '😀' }).ids(), ['star 😀'])
    })

    itChecked(options, `takes ${millionKeys.toLocaleString('en-US')} keys in one call, with bounded memory and nothing written`, async () => {
      const ctx = context()
      const { m1, c1, missing } = await seed(ctx)
      const manager = ctx.bind(clubs).of(m1)
      // Well-formed keys that have no row, and one that does: every call must read them all.
      const keys = Array.from({ length: millionKeys }, (_, index) => missing + index)
      keys[keys.length - 1] = c1.id
      // The input alone is a few megabytes; a call may hold a few copies of it and one chunk
      // of SQL at a time, not one giant statement or a row per key.
      const budget = Math.max(64 * 1024 * 1024, millionKeys * 400)
      const peaks: Record<string, number> = {}
      await expectUnchanged(ctx, fx.tables, async () => {
        peaks.add = await peakHeapGrowth(async () => {
          const error = await expectError(() => manager.add(keys), 'M2M_TARGET_NOT_FOUND')
          assert.equal((error as unknown as { keys: Key[] }).keys.length, millionKeys - 1)
          assert.ok(error.message.length < 1000, 'The message lists a few keys, not a million.')
        })
        peaks.set = await peakHeapGrowth(() => expectError(() => manager.set(keys), 'M2M_TARGET_NOT_FOUND'))
        peaks.remove = await peakHeapGrowth(() => ctx.bind(clubs).of(missing).remove(keys))
        peaks.throughRows = await peakHeapGrowth(async () => {
          assert.equal((await manager.throughRows(keys)).length, 1)
        })
      })
      for (const [call, peak] of Object.entries(peaks)) {
        assert.ok(peak < budget, `${call}() of ${String(millionKeys)} keys grew the heap by ${String(Math.round(peak / 2 ** 20))} MiB (budget ${String(Math.round(budget / 2 ** 20))} MiB).`)
      }
      assert.deepEqual(await manager.ids(), [c1.id])
    })

    itChecked(
      options,
      `takes ${MAX_LOOKUP_VALUES.toLocaleString('en-US')} values in one in lookup, and refuses ${millionKeys.toLocaleString('en-US')} before any statement`,
      async () => {
        const ctx = context()
        const { m1, c1, missing } = await seed(ctx)
        const clubsOf = ctx.bind(clubs).of(m1)
        // One limit on every adapter (lower only where the adapter binds fewer values), so that
        // a query that works on one works on all.
        const limit = Math.min(MAX_LOOKUP_VALUES, Math.floor((ctx.adapter.capabilities.maxBindParameters - 64) / 2))
        const keys = (count: number): number[] => [c1.id, ...Array.from({ length: count - 1 }, (_, index) => missing + index)]
        assert.equal(await clubsOf.filter({ pk__in: keys(limit) }).count(), 1)
        assert.deepEqual(await clubsOf.filter({ id__in: keys(limit) }).ids(), [c1.id])
        await rejectedBeforeStorage(ctx, async () => {
          await refuses(`${String(limit + 1)} values`, () => clubsOf.filter({ pk__in: keys(limit + 1) }).count(), 'M2M_INVALID_LOOKUP')
          await refuses(`${String(millionKeys)} values`, () => clubsOf.filter({ pk__in: keys(millionKeys) }).ids(), 'M2M_INVALID_LOOKUP')
          await refuses('two lists over the limit together', () => clubsOf.filter({ id__in: keys(limit), title__in: ['a', 'b'] }).all(), 'M2M_INVALID_LOOKUP')
        })
      },
      'F4',
    )

    itChecked(
      options,
      'generates the key of a row created with a null primary key',
      async () => {
        const ctx = context()
        const { m1 } = await seed(ctx)
        const clubsOf = ctx.bind(clubs).of(m1)
        const created = await clubsOf.create({ id: null, title: 'Null key' } as never)
        assert.equal(typeof created.id, 'number')
        assert.equal(await clubsOf.exists(created), true)
        const [found, made] = await clubsOf.getOrCreate({ pk: null, title: 'Other' })
        assert.deepEqual([typeof found.id, made], ['number', true])
        const [updated, again] = await clubsOf.updateOrCreate({ id: null }, { defaults: { title: 'Third' } })
        assert.deepEqual([typeof updated.id, again], ['number', true])
        assert.equal(await clubsOf.count(), 4)
      },
      'F10',
    )

    it('keeps the default through value when throughDefaults give undefined', async () => {
      const ctx = context()
      const { m1, c2 } = await seed(ctx)
      await ctx.bind(roles).of(m1).add(c2, { throughDefaults: { role: 'x', note: undefined } as never })
      const [row] = await ctx.bind(roles).of(m1).throughRows(c2)
      assert.equal(row?.note, ROLE_NOTE_DEFAULT)
    })
  })
}
