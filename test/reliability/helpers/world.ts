import type { Knex } from 'knex'
import {
  isThroughlineError,
  MemoryAdapter,
  modelOf,
  type AnyModel,
  type Key,
  type M2MChangedEvent,
  type RelationAdapter,
  type Row,
} from '../../../src/index.js'
import { KnexAdapter } from '../../../src/adapters/knex/index.js'
import { reliabilityFixture, type ReliabilityFixture } from '../../../src/conformance/fixtures/reliability.js'
import { tagRow } from '../../../src/model/model-of.js'
import { emptyTables } from './databases.js'

// One "world" is an adapter with its own copy of the reliability relations (so that its
// listeners hear only its own calls) and a map between the keys it generated and the handles
// that commands use (`m0`, `c2`, `c+0` for the first club created...). Two worlds that run the
// same commands must give the same answers once keys are turned back into handles.

/** The relations (and sides) that commands run on. */
export const SIDES = ['clubs', 'clubs.reverse', 'friends', 'roles', 'roles.reverse', 'badges', 'badges.reverse'] as const
export type Side = (typeof SIDES)[number]

/** The kinds of model a handle can name. */
export type ModelKind = 'member' | 'club' | 'badge'

/** The model a side's `of()` takes, and the model it manages. */
export const SIDE_MODELS: Readonly<Record<Side, { readonly source: ModelKind; readonly target: ModelKind }>> = {
  clubs: { source: 'member', target: 'club' },
  'clubs.reverse': { source: 'club', target: 'member' },
  friends: { source: 'member', target: 'member' },
  roles: { source: 'member', target: 'club' },
  'roles.reverse': { source: 'club', target: 'member' },
  badges: { source: 'member', target: 'badge' },
  'badges.reverse': { source: 'badge', target: 'member' },
}

/** The error a planted listener throws: recognised as "the listener's own error" on every world. */
export class PlantedListenerError extends Error {
  override readonly name = 'PlantedListenerError'
}

/** An event as recorded, with keys as handles. */
export interface EventRecord {
  readonly relation: string
  readonly action: string
  readonly reverse: boolean
  readonly model: string
  readonly instance: string
  readonly pkSet: readonly string[] | null
}

/** An event as heard: keys are turned into handles after the call, once the rows it created have theirs. */
interface HeardEvent {
  readonly event: M2MChangedEvent
  readonly kind: ModelKind
  readonly instanceKind: ModelKind
  readonly pkSet: readonly Key[] | null
}

/** What a call gave: a normalised value, or a normalised error. */
export type Outcome =
  | { readonly ok: unknown }
  | { readonly error: string; readonly keys?: readonly string[] }
  | { readonly listener: string }
  | { readonly untyped: string }

export interface World {
  readonly name: string
  readonly adapter: RelationAdapter
  readonly fx: ReliabilityFixture
  /** Handle to key. */
  readonly keys: Map<string, Key>
  /** `kind:key` to handle. */
  readonly handles: Map<string, string>
  /** How many rows of each kind were created by commands (`c+0`, `c+1`...). */
  readonly created: Record<ModelKind, number>
  /** Events heard since the last {@link takeEvents}. */
  heard: HeardEvent[]
  /** Reads every row of a table, straight from storage. */
  readonly rows: (table: string) => Promise<Row[]>
  /** Removes the world's listeners. */
  readonly close: () => void
}

const PREFIX = 'tl_rel_prop_'

export function modelOfKind(fx: ReliabilityFixture, kind: ModelKind): AnyModel {
  return kind === 'member' ? fx.Member : kind === 'club' ? fx.Club : fx.Badge
}

function kindOfModel(fx: ReliabilityFixture, model: AnyModel | undefined): ModelKind | undefined {
  if (model === fx.Member) return 'member'
  if (model === fx.Club) return 'club'
  if (model === fx.Badge) return 'badge'
  return undefined
}

/** The handle of a key of `kind`, or `?key` for a key that no handle names. */
export function handleOf(world: World, kind: ModelKind, key: unknown): string {
  return world.handles.get(`${kind}:${String(key)}`) ?? `?${typeof key === 'bigint' ? `${String(key)}n` : String(key)}`
}

export function register(world: World, kind: ModelKind, handle: string, key: Key): void {
  world.keys.set(handle, key)
  world.handles.set(`${kind}:${String(key)}`, handle)
}

/** Registers a row that a command created, under the next `x+N` handle of its kind. */
export function registerCreated(world: World, kind: ModelKind, key: Key): void {
  if (world.handles.has(`${kind}:${String(key)}`)) return
  const handle = `${kind[0]!}+${String(world.created[kind]++)}`
  register(world, kind, handle, key)
}

/** Builds a world over `adapter`, listening to its own copy of every relation. */
export function createWorld(name: string, adapter: RelationAdapter, rows: (table: string) => Promise<Row[]>): World {
  const fx = reliabilityFixture(PREFIX)
  const offs: (() => void)[] = []
  const world: World = {
    name,
    adapter,
    fx,
    keys: new Map(),
    handles: new Map(),
    created: { member: 0, club: 0, badge: 0 },
    heard: [],
    rows,
    close: () => {
      for (const off of offs.splice(0)) off()
    },
  }
  for (const relation of [fx.clubs, fx.friends, fx.roles, fx.badges]) {
    offs.push(
      relation.on('m2m_changed', (event: M2MChangedEvent) => {
        world.heard.push({
          event,
          kind: kindOfModel(fx, event.model) ?? 'member',
          instanceKind: kindOfModel(fx, event.reverse ? relation.target : relation.source) ?? 'member',
          // Copied now: the set belongs to the call.
          pkSet: event.pkSet === null ? null : [...(event.pkSet as ReadonlySet<Key>)],
        })
      }),
    )
  }
  return world
}

/** The events heard since the last call, with keys as handles; forgets them. */
export function takeEvents(world: World): EventRecord[] {
  // A key generated by a call that then failed has no handle, and differs between worlds:
  // name such keys by order of appearance.
  const fresh = new Map<string, string>()
  const name = (kind: ModelKind, key: Key): string => {
    const handle = handleOf(world, kind, key)
    if (!handle.startsWith('?') || RAW_KEYS.has(key)) return handle
    const id = `${kind}:${String(key)}`
    if (!fresh.has(id)) fresh.set(id, `?new${String(fresh.size)}`)
    return fresh.get(id)!
  }
  return world.heard.splice(0).map(({ event, kind, instanceKind, pkSet }) => ({
    relation: event.relation,
    action: event.action,
    reverse: event.reverse,
    model: event.model.name,
    instance: describeInstance(world, instanceKind, event.instance),
    pkSet: pkSet === null ? null : pkSet.map((key) => name(kind, key)).sort(),
  }))
}

/** The keys that commands give as raw values: the same on every world. */
export const RAW_KEYS: ReadonlySet<unknown> = new Set<unknown>([1_999_999_999, 1_999_999_998, 0, -3, 2 ** 40, '0', 'zzz', 'delta', 'epsilon', 'ALPHA', 'alpha '])

function describeInstance(world: World, kind: ModelKind, instance: unknown): string {
  if (typeof instance === 'object' && instance !== null) {
    const model = modelOfKind(world.fx, kind)
    return `row ${handleOf(world, kind, (instance as Record<string, unknown>)[model.primaryKey])}`
  }
  return `key ${handleOf(world, kind, instance)}`
}

/** A memory world. */
export function memoryWorld(): World {
  const store = new MemoryAdapter()
  return createWorld('memory', store, (table) => store.tableRows(table))
}

/** A world on a Knex database whose tables exist (see {@link PROPERTY_SCHEMA}). */
export function knexWorld(name: string, db: Knex): World {
  return createWorld(name, new KnexAdapter(db), async (table) => db(table).select('*'))
}

/** The tables of the property tests. */
export const PROPERTY_FIXTURE = reliabilityFixture(PREFIX)

/** Empties a Knex world's tables (memory worlds start empty). */
export async function emptyWorld(db: Knex): Promise<void> {
  await emptyTables(db, PROPERTY_FIXTURE.tables)
}

export const SEED_MEMBERS = ['Ann', 'Bob', 'ann', 'Cy'] as const
export const SEED_CLUBS = [
  { title: 'Chess', rank: 1 },
  { title: 'Rowing', rank: 2 },
  { title: 'chess', rank: null },
  { title: 'Go', rank: 2 },
] as const
export const SEED_BADGES = [
  { code: 'alpha', label: 'A' },
  { code: 'beta', label: 'B' },
  { code: 'gamma', label: null },
] as const

/**
 * Seeds the same rows in a world: members m0..m3, clubs c0..c3, badges alpha, beta, gamma,
 * and a few links (m0 in c0 and c1, m0 and m1 friends, m1 captain of c0, m0 with alpha).
 */
export async function seedWorld(world: World): Promise<void> {
  const { adapter, fx } = world
  for (const [index, name] of SEED_MEMBERS.entries()) {
    const row = await adapter.insertTarget({ target: fx.Member.spec, values: { name } })
    register(world, 'member', `m${String(index)}`, row.id as Key)
  }
  for (const [index, values] of SEED_CLUBS.entries()) {
    const row = await adapter.insertTarget({ target: fx.Club.spec, values })
    register(world, 'club', `c${String(index)}`, row.id as Key)
  }
  for (const values of SEED_BADGES) {
    await adapter.insertTarget({ target: fx.Badge.spec, values })
    register(world, 'badge', values.code, values.code)
  }
  const key = (handle: string): number => world.keys.get(handle) as number
  await fx.clubs.using(adapter).of(key('m0')).add([key('c0'), key('c1')])
  await fx.friends.using(adapter).of(key('m0')).add(key('m1'))
  await fx.roles.using(adapter).of(key('m1')).add(key('c0'), { throughDefaults: { role: 'captain' } })
  await fx.badges.using(adapter).of(key('m0')).add('alpha')
  world.heard = []
}

/** Tags a plain row with a world's model, as rows that throughline returns are. */
export function tagged<T extends object>(row: T, model: AnyModel): T {
  return tagRow(row, model)
}

/** Turns an error into a comparable outcome. */
export function errorOutcome(world: World, kind: ModelKind, error: unknown): Outcome {
  if (error instanceof PlantedListenerError) return { listener: error.message }
  if (isThroughlineError(error)) {
    const keys = (error as { keys?: unknown }).keys
    return Array.isArray(keys) ? { error: error.code, keys: keys.map((key) => handleOf(world, kind, key)) } : { error: error.code }
  }
  return { untyped: error instanceof Error ? `${error.name}: ${error.message}` : `a thrown ${typeof error}: ${String(error)}` }
}

/** The model of a row that throughline returned, as a kind. */
export function kindOfRow(world: World, row: object): ModelKind | undefined {
  return kindOfModel(world.fx, modelOf(row))
}
