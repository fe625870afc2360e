import fc from 'fast-check'
import type { M2MAction } from '../../../src/index.js'
import { fixLanded } from '../../../src/conformance/fixtures/pending-fixes.js'
import { ROLE_NOTE_DEFAULT } from '../../../src/conformance/fixtures/reliability.js'
import {
  errorOutcome,
  handleOf,
  kindOfRow,
  modelOfKind,
  PlantedListenerError,
  registerCreated,
  SIDE_MODELS,
  SIDES,
  tagged,
  type ModelKind,
  type Outcome,
  type Side,
  type World,
} from './world.js'

// Random manager calls as plain data: every method, on every side, with valid and invalid
// input. A command names rows by handle and spells them in one of several forms (the key, the
// key as text, a plain row, a row tagged with its model...), so that one command means the
// same call on every world, whatever keys each world generated.

/** How a handle is passed to a call. */
export type Form = 'key' | 'text' | 'pk' | 'row' | 'tagged'

/** Inputs that no world has a row for, or that are malformed. */
export const RAW_VALUES = [
  'null',
  'undefined',
  'NaN',
  'Infinity',
  'fraction',
  'zero',
  'missing',
  'unsafe',
  'emptyString',
  'abc',
  'bigint',
  'object',
  'array',
  'unsaved',
  'nullKey',
  'wrongModel',
  'foreignRow',
  'sqlText',
  'upperAlpha',
  'paddedAlpha',
  ...(fixLanded('F3') ? (['negative'] as const) : []),
  ...(fixLanded('F2') ? (['beyond32Bits'] as const) : []),
  ...(fixLanded('F5') ? (['nul'] as const) : []),
] as const
export type RawValue = (typeof RAW_VALUES)[number]

/** A target or source: a handle in some form, or a raw value. */
export type Ref = { readonly h: string; readonly form: Form } | { readonly raw: RawValue }

/** Values for a through row; `inviter` names a member. */
export interface ThroughSpec {
  readonly role?: string | null
  readonly note?: string
  readonly inviter?: Ref
  readonly bad?: 'unknown' | 'proto' | 'linkColumn' | 'function' | 'notObject'
}

export type Lookup = readonly [string, unknown]

/** One filter condition, with a value that may name a handle (`{ ref }`). */
export interface Where {
  readonly entries: readonly (readonly [string, unknown])[]
}

export interface Query {
  readonly where?: Where
  readonly orderBy?: readonly string[]
  readonly limit?: number
  readonly offset?: number
}

export type Call =
  | { readonly m: 'add' | 'remove'; readonly targets: readonly Ref[] | Ref; readonly through?: ThroughSpec }
  | { readonly m: 'set'; readonly targets: readonly Ref[]; readonly clear?: boolean; readonly through?: ThroughSpec }
  | { readonly m: 'toggle'; readonly target: Ref; readonly through?: ThroughSpec }
  | { readonly m: 'clear' }
  | { readonly m: 'create'; readonly fields: Readonly<Record<string, unknown>>; readonly through?: ThroughSpec }
  | { readonly m: 'getOrCreate'; readonly lookup: Where; readonly defaults?: Readonly<Record<string, unknown>>; readonly through?: ThroughSpec }
  | {
      readonly m: 'updateOrCreate'
      readonly lookup: Where
      readonly defaults?: Readonly<Record<string, unknown>>
      readonly createDefaults?: Readonly<Record<string, unknown>>
      readonly through?: ThroughSpec
    }
  | { readonly m: 'all' | 'ids' | 'count' | 'first' | 'get' | 'existsAny'; readonly query: Query }
  | { readonly m: 'exists'; readonly target: Ref }
  | { readonly m: 'throughRows'; readonly targets?: readonly Ref[] }

/** A listener attached for one call only. */
export interface ListenerPlan {
  readonly on: M2MAction
  readonly does: 'throw' | 'write' | 'writeThenThrow' | 'throwUndefined'
}

export interface Command {
  readonly side: Side
  readonly source: Ref
  readonly call: Call
  readonly listener?: ListenerPlan
}

// ------------------------------------------------------------------ arbitraries

const HANDLES: Readonly<Record<ModelKind, readonly string[]>> = {
  member: ['m0', 'm1', 'm2', 'm3', 'm+0'],
  club: ['c0', 'c1', 'c2', 'c3', 'c+0', 'c+1'],
  badge: ['alpha', 'beta', 'gamma', 'delta'],
}

const TEXTS: Readonly<Record<ModelKind, readonly string[]>> = {
  member: ['Ann', 'ann', 'Bob', 'Cy', 'Dee', '%', "O'Neil"],
  club: ['Chess', 'chess', 'Rowing', 'Go', 'G_', '%', '', 'Zeta', 'Ω', "x'); DROP TABLE tl_rel_prop_club; --"],
  badge: ['A', 'B', 'b', '%_', ''],
}

function handleRef(kind: ModelKind): fc.Arbitrary<Ref> {
  const forms: Form[] = kind === 'badge' ? ['key', 'pk', 'row', 'tagged'] : ['key', 'text', 'pk', 'row', 'tagged']
  return fc.record({ h: fc.constantFrom(...HANDLES[kind]), form: fc.constantFrom(...forms) })
}

function ref(kind: ModelKind): fc.Arbitrary<Ref> {
  return fc.oneof({ weight: 14, arbitrary: handleRef(kind) }, { weight: 1, arbitrary: fc.record({ raw: fc.constantFrom(...RAW_VALUES) }) })
}

/** A ref for a key lookup: no null primary key until F10 (a created row would get key null on Knex). */
function keyRef(kind: ModelKind): fc.Arbitrary<Ref> {
  if (fixLanded('F10')) return ref(kind)
  return ref(kind).filter((value) => !('raw' in value && (value.raw === 'null' || value.raw === 'nullKey')))
}

function refs(kind: ModelKind): fc.Arbitrary<readonly Ref[]> {
  return fc.array(ref(kind), { maxLength: 4 })
}

const throughSpec: fc.Arbitrary<ThroughSpec> = fc.oneof(
  { weight: 5, arbitrary: fc.record(
    {
      role: fc.constantFrom('captain', 'member', "'; --", null),
      note: fc.constantFrom('n1', 'n2'),
      // A key or a row of a member; a malformed one, or one with no row, now and then.
      inviter: ref('member'),
    },
    { requiredKeys: [] },
  ) },
  { weight: 1, arbitrary: fc.record({ bad: fc.constantFrom('unknown', 'proto', 'linkColumn', 'function', 'notObject') }) },
)

function columnsOf(kind: ModelKind): readonly string[] {
  return kind === 'member' ? ['id', 'name', 'pk'] : kind === 'club' ? ['id', 'title', 'rank', 'pk'] : ['code', 'label', 'pk']
}

function textColumn(kind: ModelKind): string {
  return kind === 'member' ? 'name' : kind === 'club' ? 'title' : 'label'
}

function whereArb(kind: ModelKind): fc.Arbitrary<Where> {
  const text = textColumn(kind)
  const texts = fc.constantFrom(...TEXTS[kind])
  const keyColumn = kind === 'badge' ? 'code' : 'id'
  const entry: fc.Arbitrary<readonly [string, unknown]> = fc.oneof(
    fc.tuple(fc.constantFrom(text, `${text}__exact`), fc.oneof(texts, fc.constant(null))),
    fc.tuple(fc.constantFrom(`${text}__startswith`, `${text}__endswith`, `${text}__contains`, `${text}__gt`, `${text}__lte`), texts),
    fc.tuple(fc.constant(`${text}__in`), fc.array(texts, { maxLength: 3 })),
    fc.tuple(fc.constantFrom(`${text}__isnull`, ...(kind === 'club' ? ['rank__isnull'] : [])), fc.boolean()),
    fc.tuple(fc.constantFrom('pk', keyColumn, `${keyColumn}__exact`), keyRef(kind).map((value) => ({ ref: value }))),
    fc.tuple(fc.constantFrom('pk__in', `${keyColumn}__in`), fc.array(ref(kind), { maxLength: 3 }).map((values) => ({ refs: values }))),
    ...(kind === 'club' ? [fc.tuple(fc.constantFrom('rank', 'rank__gt', 'rank__gte', 'rank__lt', 'rank__in'), fc.constantFrom<unknown>(0, 1, 2, 3, [1, 3], [], null))] : []),
    // Invalid: unknown columns and lookups, values a lookup cannot take.
    fc.oneof(
      fc.tuple(fc.constantFrom('nope', `${text}__like`, 'constructor', `${text}__`, '__proto__'), fc.constant('x')),
      fc.tuple(fc.constant(text), fc.constantFrom<unknown>({ x: 1 }, undefined, [])),
    ),
  )
  return fc.array(entry, { minLength: 1, maxLength: 2 }).map((entries) => ({ entries }))
}

/**
 * A getOrCreate/updateOrCreate lookup: its plain entries become the created row's values, so it
 * never names an integer primary key (an explicit key would move some databases' key
 * generators and not others'); `pk: null` (generate one) stays.
 */
function lookupArb(kind: ModelKind): fc.Arbitrary<Where> {
  // A badge key that differs from an existing one only by case or trailing spaces cannot be
  // created on MySQL/MariaDB, whose usual collations make the primary key take 'ALPHA' and
  // 'alpha ' for 'alpha' (docs/reliability.md, Limits): a lookup that would create one is left out.
  if (kind === 'badge') {
    return whereArb(kind).map(({ entries }) => ({
      entries: entries.filter(([name, value]) => !((name === 'pk' || name === 'code') && isCaseOrPaddingVariant(value))),
    }))
  }
  return whereArb(kind).map(({ entries }) => ({
    entries: entries.filter(([name, value]) => (name !== 'pk' && name !== 'id') || (typeof value === 'object' && value !== null && 'ref' in value && 'raw' in (value as { ref: Ref }).ref && (value as { ref: { raw: string } }).ref.raw === 'null')),
  }))
}

/** Whether a lookup value is the upper-case or space-padded spelling of a badge key. */
function isCaseOrPaddingVariant(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || !('ref' in value)) return false
  const ref = (value).ref
  return typeof ref === 'object' && ref !== null && 'raw' in ref && ((ref).raw === 'upperAlpha' || (ref).raw === 'paddedAlpha')
}

function queryArb(kind: ModelKind): fc.Arbitrary<Query> {
  const order = columnsOf(kind).flatMap((column) => [column, `-${column}`])
  return fc.record(
    {
      where: whereArb(kind),
      orderBy: fc.array(fc.constantFrom(...order, ...order, 'nope'), { minLength: 1, maxLength: 2 }),
      limit: fc.constantFrom(0, 1, 2, 5, -1),
      offset: fc.constantFrom(0, 1, 3),
    },
    { requiredKeys: [] },
  )
}

function fieldsArb(kind: ModelKind): fc.Arbitrary<Readonly<Record<string, unknown>>> {
  const texts = fc.constantFrom(...TEXTS[kind])
  const bad = { weight: 1, arbitrary: fc.constant({ nope: 1 }) }
  if (kind === 'member') return fc.oneof({ weight: 6, arbitrary: fc.record({ name: texts }) }, bad)
  if (kind === 'club') return fc.oneof({ weight: 6, arbitrary: fc.record({ title: texts, rank: fc.constantFrom(1, 2, null) }, { requiredKeys: ['title'] }) }, bad)
  // Badges need their key: lower-case codes only (MariaDB's default collation folds case).
  return fc.oneof({ weight: 6, arbitrary: fc.record({ code: fc.constantFrom('delta', 'epsilon', 'alpha'), label: texts }, { requiredKeys: ['code'] }) }, { weight: 1, arbitrary: fc.constant({ label: 'no key' }) })
}

/** Values for an update: never the primary key (see docs/reliability.md, F9). */
function updatesArb(kind: ModelKind): fc.Arbitrary<Readonly<Record<string, unknown>>> {
  if (kind !== 'badge') return fieldsArb(kind)
  return fc.oneof({ weight: 6, arbitrary: fc.record({ label: fc.constantFrom(...TEXTS.badge) }) }, { weight: 1, arbitrary: fc.constant({ nope: 1 }) })
}

function callArb(side: Side): fc.Arbitrary<Call> {
  const { target } = SIDE_MODELS[side]
  // The roles relation needs a role for every row it inserts; the others take no through
  // value at all, so that they are only sometimes given one (which is an error).
  const maybeThrough = side.startsWith('roles')
    ? fc.option(throughSpec, { nil: undefined, freq: 6 })
    : fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: throughSpec })
  const withThrough = <C extends object>(call: C, spec: ThroughSpec | undefined): C => (spec === undefined ? call : { ...call, through: spec })
  return fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom('add' as const, 'remove' as const), fc.oneof(refs(target), ref(target)), maybeThrough).map(([m, targets, spec]) => withThrough({ m, targets }, m === 'add' ? spec : undefined)) },
    { weight: 3, arbitrary: fc.tuple(refs(target), fc.boolean(), maybeThrough).map(([targets, clear, spec]) => withThrough(clear ? { m: 'set' as const, targets, clear } : { m: 'set' as const, targets }, spec)) },
    { weight: 3, arbitrary: fc.tuple(ref(target), maybeThrough).map(([value, spec]) => withThrough({ m: 'toggle' as const, target: value }, spec)) },
    { weight: 1, arbitrary: fc.constant({ m: 'clear' as const }) },
    { weight: 1, arbitrary: fc.tuple(fieldsArb(target), maybeThrough).map(([fields, spec]) => withThrough({ m: 'create' as const, fields }, spec)) },
    { weight: 1, arbitrary: fc.tuple(lookupArb(target), fc.option(fieldsArb(target), { nil: undefined }), maybeThrough).map(([lookup, defaults, spec]) => withThrough(defaults === undefined ? { m: 'getOrCreate' as const, lookup } : { m: 'getOrCreate' as const, lookup, defaults }, spec)) },
    { weight: 1, arbitrary: fc.tuple(lookupArb(target), updatesArb(target), fc.option(fieldsArb(target), { nil: undefined }), maybeThrough).map(([lookup, defaults, createDefaults, spec]) => withThrough(createDefaults === undefined ? { m: 'updateOrCreate' as const, lookup, defaults } : { m: 'updateOrCreate' as const, lookup, defaults, createDefaults }, spec)) },
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom('all' as const, 'ids' as const, 'count' as const, 'first' as const, 'get' as const, 'existsAny' as const), queryArb(target)).map(([m, query]) => ({ m, query })) },
    { weight: 1, arbitrary: ref(target).map((value) => ({ m: 'exists' as const, target: value })) },
    { weight: 1, arbitrary: fc.option(refs(target), { nil: undefined }).map((targets) => (targets === undefined ? { m: 'throughRows' as const } : { m: 'throughRows' as const, targets })) },
  )
}

const listenerArb: fc.Arbitrary<ListenerPlan> = fc.record({
  on: fc.constantFrom<M2MAction>('pre_add', 'post_add', 'pre_remove', 'post_remove', 'pre_clear', 'post_clear'),
  does: fc.constantFrom(...(['throw', 'write', 'writeThenThrow', ...(fixLanded('F1') ? (['throwUndefined'] as const) : [])] as const)),
})

/** A source of a manager; since F14, string keys that match a badge only by case or padding too (a link from one is refused). */
function sourceArb(kind: ModelKind): fc.Arbitrary<Ref> {
  const raw = fixLanded('F14') || kind !== 'badge' ? ref(kind) : ref(kind).filter((value) => !('raw' in value && (value.raw === 'upperAlpha' || value.raw === 'paddedAlpha')))
  return fc.oneof({ weight: 12, arbitrary: handleRef(kind) }, { weight: 1, arbitrary: raw })
}

/** One random command on a random side; about one in five carries a listener. */
export const commandArb: fc.Arbitrary<Command> = fc.constantFrom(...SIDES).chain((side) =>
  fc
    .tuple(
      sourceArb(SIDE_MODELS[side].source),
      callArb(side),
      fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: listenerArb }),
    )
    .map(([source, call, listener]): Command => (listener === undefined ? { side, source, call } : { side, source, call, listener })),
)

// -------------------------------------------------------------------- running

/** An integer key that no world generates: within 32 bits, far beyond any generated key. */
export const MISSING_KEY = 1_999_999_999
/** The key a handle of a row not created yet (`c+1` before the second create) stands for. */
export const UNCREATED_KEY = 1_999_999_998

/** The value a ref stands for in a world (a key, a row, or a malformed value). */
export function materialize(world: World, kind: ModelKind, value: Ref): unknown {
  const model = modelOfKind(world.fx, kind)
  if ('raw' in value) {
    switch (value.raw) {
      case 'null':
        return null
      case 'undefined':
        return undefined
      case 'NaN':
        return Number.NaN
      case 'Infinity':
        return Number.POSITIVE_INFINITY
      case 'fraction':
        return 1.5
      case 'zero':
        return kind === 'badge' ? '0' : 0
      case 'missing':
        return kind === 'badge' ? 'zzz' : MISSING_KEY
      case 'negative':
        return -3
      case 'beyond32Bits':
        return 2 ** 40
      case 'unsafe':
        return 2 ** 53
      case 'emptyString':
        return ''
      case 'abc':
        return 'abc'
      case 'bigint':
        return BigInt(MISSING_KEY)
      case 'object':
        return {}
      case 'array':
        return [[1]]
      case 'unsaved':
        return kind === 'member' ? { name: 'Unsaved' } : kind === 'club' ? { title: 'Unsaved' } : { label: 'Unsaved' }
      case 'nullKey':
        return { [model.primaryKey]: null }
      case 'wrongModel': {
        const other = kind === 'club' ? world.fx.Member : world.fx.Club
        const key = world.keys.get(kind === 'club' ? 'm0' : 'c0')
        return tagged({ id: key }, other)
      }
      case 'foreignRow':
        return { [model.primaryKey]: world.keys.get(kind === 'member' ? 'm0' : kind === 'club' ? 'c0' : 'alpha'), headline: 'x' }
      case 'sqlText':
        return kind === 'badge' ? "alpha' OR '1'='1" : "1 OR 1=1; --"
      case 'upperAlpha':
        return 'ALPHA'
      case 'paddedAlpha':
        return 'alpha '
      case 'nul':
        return kind === 'badge' ? 'alpha\u0000' : '1\u0000'
    }
  }
  const key = world.keys.get(value.h)
  // A handle with no row yet (c+1 before anything was created) is a key with no row.
  const resolved = key ?? (kind === 'badge' ? value.h : UNCREATED_KEY)
  switch (value.form) {
    case 'key':
      return resolved
    case 'text':
      return String(resolved)
    case 'pk':
      return { [model.primaryKey]: resolved }
    case 'row':
      return kind === 'member' ? { id: resolved, name: 'any' } : kind === 'club' ? { id: resolved, title: 'any' } : { code: resolved }
    case 'tagged':
      return tagged({ [model.primaryKey]: resolved }, model)
  }
}

function whereValue(world: World, kind: ModelKind, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && 'ref' in value) return materialize(world, kind, (value as { ref: Ref }).ref)
  if (typeof value === 'object' && value !== null && 'refs' in value) return (value as { refs: Ref[] }).refs.map((item) => materialize(world, kind, item))
  return value
}

function whereObject(world: World, kind: ModelKind, where: Where): Record<string, unknown> {
  const object: Record<string, unknown> = {}
  for (const [name, value] of where.entries) {
    // Own data properties, even for "__proto__", as JSON.parse makes them.
    Object.defineProperty(object, name, { value: whereValue(world, kind, value), enumerable: true, configurable: true, writable: true })
  }
  return object
}

function throughOptions(world: World, spec: ThroughSpec | undefined): unknown {
  if (spec === undefined) return {}
  switch (spec.bad) {
    case 'unknown':
      return { throughDefaults: { nope: 1 } }
    case 'proto':
      return { throughDefaults: JSON.parse('{"__proto__": {"role": "x"}}') as object }
    case 'linkColumn':
      return { throughDefaults: { member_id: 1, role: 'x' } }
    case 'function':
      return { throughDefaults: { role: () => 'from a function', note: () => 'called once' } }
    case 'notObject':
      return { throughDefaults: 'role' }
    case undefined:
      break
  }
  const values: Record<string, unknown> = {}
  if (spec.role !== undefined) values.role = spec.role
  if (spec.note !== undefined) values.note = spec.note
  if (spec.inviter !== undefined) values.inviter_id = materialize(world, 'member', spec.inviter)
  return { throughDefaults: values }
}

type AnyManager = Record<string, (...args: unknown[]) => unknown>

function managerOf(world: World, side: Side, source: unknown): AnyManager {
  const { fx, adapter } = world
  const relation = side.startsWith('clubs') ? fx.clubs : side === 'friends' ? fx.friends : side.startsWith('roles') ? fx.roles : fx.badges
  const bound = relation.using(adapter)
  const sideRelation = side.endsWith('.reverse') ? (bound.reverse as unknown as typeof bound) : bound
  return sideRelation.of(source as never) as unknown as AnyManager
}

/** What a planted listener threw, to tell it apart from the call's own errors. */
interface Planted {
  thrown?: { readonly value: unknown }
}

function plantListener(world: World, side: Side, plan: ListenerPlan | undefined, planted: Planted): () => void {
  if (plan === undefined) return () => undefined
  const { fx } = world
  const relation = side.startsWith('clubs') ? fx.clubs : side === 'friends' ? fx.friends : side.startsWith('roles') ? fx.roles : fx.badges
  let fired = false
  return relation.on(plan.on, async (event) => {
    if (fired) return
    fired = true
    if (plan.does === 'throwUndefined') {
      planted.thrown = { value: undefined }
      // What `Promise.reject()` gives a listener's caller.
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      throw undefined
    }
    if (plan.does === 'write' || plan.does === 'writeThenThrow') {
      // Work of the listener's own, in the call's transaction: commits or rolls back with it.
      const other = relation === fx.badges ? fx.friends : fx.badges
      const m2 = world.keys.get('m2') as number
      if (other === fx.badges) await fx.badges.using(event.using).of(m2).toggle('gamma')
      else await fx.friends.using(event.using).of(m2).toggle(world.keys.get('m3') as number)
    }
    if (plan.does === 'throw' || plan.does === 'writeThenThrow') throw new PlantedListenerError(`listener on ${plan.on}`)
  })
}

function rowOut(world: World, kind: ModelKind, row: unknown): unknown {
  if (typeof row !== 'object' || row === null) return row
  const model = modelOfKind(world.fx, kind)
  const record = withNulls(row as Record<string, unknown>, model.columns ?? [])
  const out: Record<string, unknown> = { h: handleOf(world, kind, record[model.primaryKey]), tag: kindOfRow(world, row) ?? 'untagged' }
  for (const column of Object.keys(record).sort()) if (column !== model.primaryKey) out[column] = record[column]
  return out
}

/** A through row with keys as handles and the generated id left out. */
export function throughRowOut(world: World, side: Side, row: Record<string, unknown>): Record<string, unknown> {
  const { fx } = world
  const relation = side.startsWith('clubs') ? fx.clubs : side === 'friends' ? fx.friends : side.startsWith('roles') ? fx.roles : fx.badges
  const full = withNulls(row, relation.link.columns)
  const out: Record<string, unknown> = {}
  for (const column of Object.keys(full).sort()) {
    const value = full[column]
    if (column === 'id') continue
    if (column === 'member_id' || column === 'inviter_id' || column.endsWith('relmember_id')) out[column] = value === null ? null : handleOf(world, 'member', value)
    else if (column === 'club_id' || column === 'relclub_id') out[column] = handleOf(world, 'club', value)
    else if (column === 'relbadge_id') out[column] = handleOf(world, 'badge', value)
    else out[column] = value
  }
  return out
}

/**
 * The row with every declared column, a column never written read as null. The memory adapter
 * leaves such columns out where a database returns NULL (docs/reliability.md, F10); the
 * comparison treats the two alike.
 */
export function withNulls(row: Record<string, unknown>, columns: readonly string[]): Record<string, unknown> {
  const full: Record<string, unknown> = { ...row }
  for (const column of columns) if (full[column] === undefined) full[column] = null
  return full
}

async function runQuery(world: World, kind: ModelKind, manager: AnyManager, call: Extract<Call, { query: Query }>): Promise<unknown> {
  let query = (manager.query as () => AnyManager)()
  const { where, orderBy, limit, offset } = call.query
  if (where !== undefined) query = (query.filter as (w: unknown) => AnyManager)(whereObject(world, kind, where))
  if (orderBy !== undefined) query = (query.orderBy as (...t: string[]) => AnyManager)(...orderBy)
  if (limit !== undefined) query = (query.limit as (n: number) => AnyManager)(limit)
  if (offset !== undefined) query = (query.offset as (n: number) => AnyManager)(offset)
  switch (call.m) {
    case 'all':
      return ((await (query.all as () => Promise<unknown[]>)()) ).map((row) => rowOut(world, kind, row))
    case 'first':
      return rowOut(world, kind, await (query.first as () => Promise<unknown>)())
    case 'get':
      return rowOut(world, kind, await (query.get as () => Promise<unknown>)())
    case 'ids':
      return (await (query.ids as () => Promise<unknown[]>)()).map((key) => handleOf(world, kind, key))
    case 'count':
      return query.count!()
    case 'existsAny':
      return query.exists!()
  }
}

async function runCall(world: World, side: Side, manager: AnyManager, call: Call): Promise<unknown> {
  const kind = SIDE_MODELS[side].target
  const targetsOf = (targets: readonly Ref[] | Ref): unknown => (Array.isArray(targets) ? (targets as readonly Ref[]).map((item) => materialize(world, kind, item)) : materialize(world, kind, targets as Ref))
  const created = (row: unknown): unknown => {
    const model = modelOfKind(world.fx, kind)
    registerCreated(world, kind, (row as Record<string, unknown>)[model.primaryKey] as never)
    return rowOut(world, kind, row)
  }
  switch (call.m) {
    case 'add':
      return manager.add!(targetsOf(call.targets), throughOptions(world, call.through))
    case 'remove':
      return manager.remove!(targetsOf(call.targets))
    case 'set': {
      const options = throughOptions(world, call.through) as Record<string, unknown>
      return manager.set!(targetsOf(call.targets), call.clear === true ? { ...options, clear: true } : options)
    }
    case 'toggle':
      return manager.toggle!(materialize(world, kind, call.target), throughOptions(world, call.through))
    case 'clear':
      return manager.clear!()
    case 'create':
      return created(await manager.create!({ ...call.fields }, throughOptions(world, call.through)))
    case 'getOrCreate': {
      const options = { ...(throughOptions(world, call.through) as object), ...(call.defaults === undefined ? {} : { defaults: { ...call.defaults } }) }
      const [row, made] = (await manager.getOrCreate!(whereObject(world, kind, call.lookup), options)) as [unknown, boolean]
      return [made ? created(row) : rowOut(world, kind, row), made]
    }
    case 'updateOrCreate': {
      const options = {
        ...(throughOptions(world, call.through) as object),
        ...(call.defaults === undefined ? {} : { defaults: { ...call.defaults } }),
        ...(call.createDefaults === undefined ? {} : { createDefaults: { ...call.createDefaults } }),
      }
      const [row, made] = (await manager.updateOrCreate!(whereObject(world, kind, call.lookup), options)) as [unknown, boolean]
      return [made ? created(row) : rowOut(world, kind, row), made]
    }
    case 'exists':
      return manager.exists!(materialize(world, kind, call.target))
    case 'throughRows': {
      const rows = (await manager.throughRows!(call.targets === undefined ? undefined : targetsOf(call.targets))) as Record<string, unknown>[]
      return rows.map((row) => throughRowOut(world, side, row))
    }
    case 'all':
    case 'ids':
    case 'count':
    case 'first':
    case 'get':
    case 'existsAny':
      return runQuery(world, kind, manager, call)
  }
}

/** Runs one command on a world and returns what it gave, normalised. */
export async function execute(world: World, command: Command): Promise<Outcome> {
  const kind = SIDE_MODELS[command.side].target
  const planted: Planted = {}
  const off = plantListener(world, command.side, command.listener, planted)
  try {
    const manager = managerOf(world, command.side, materialize(world, SIDE_MODELS[command.side].source, command.source))
    const value = await runCall(world, command.side, manager, command.call)
    return { ok: value === undefined ? 'void' : value }
  } catch (error) {
    if (planted.thrown !== undefined && error === planted.thrown.value) return { listener: `threw ${String(error)}` }
    return errorOutcome(world, kind, error)
  } finally {
    off()
  }
}

/** A short, readable form of a command, for failure messages. */
export function describeCommand(command: Command): string {
  const refText = (value: Ref): string => ('raw' in value ? `<${value.raw}>` : `${value.h}${value.form === 'key' ? '' : `:${value.form}`}`)
  const side = command.side.endsWith('.reverse') ? `${command.side.replace('.reverse', '')}.reverse` : command.side
  const args = JSON.stringify(command.call, (_key, value: unknown) => (typeof value === 'object' && value !== null && ('raw' in value || 'h' in value) ? refText(value as Ref) : value))
  return `${side}.of(${refText(command.source)}) ${args}${command.listener === undefined ? '' : ` with a listener that does ${command.listener.does} on ${command.listener.on}`}`
}

/** The note a through row gets when none is given. */
export const DEFAULT_NOTE = ROLE_NOTE_DEFAULT
