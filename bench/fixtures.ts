import { defineModel, defineThrough, describeJoinTable, manyToMany, type AnyModel, type Relation, type TableSchema } from '../src/index.js'

/** The three relations every scenario runs on. */
export type RelationKind = 'plain' | 'symmetrical' | 'through'

/** Every relation kind, in table order. */
export const RELATION_KINDS: readonly RelationKind[] = ['plain', 'symmetrical', 'through']

/** How the table rows list a relation kind. */
export const KIND_LABELS: Readonly<Record<RelationKind, string>> = {
  plain: '',
  symmetrical: 'symmetrical: ',
  through: 'through + extra columns: ',
}

/** Any relation, whatever its models and through row type. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any relation, whatever its through row type
export type AnyRelation = Relation<AnyModel, AnyModel, any>

/**
 * Which keys each scenario uses. Sources are distinct per scenario, so that scenarios do not
 * disturb each other; targets overlap, which is harmless since links are per source.
 */
export interface Layout {
  /** Source rows 1..sourceCount exist. */
  readonly sourceCount: number
  /** The target keys, in order (2 000 of them). */
  readonly targets: readonly number[]
  /** Rows of the target table (for a self relation, the one table holds sources and targets). */
  readonly targetRowCount: number
  readonly addNew: number
  readonly addExisting: number
  readonly set: number
  readonly remove: number
  readonly list: number
  /** The 10 users of the favourite toggles. */
  readonly toggleSources: readonly number[]
  /** The 50 items of the favourite toggles. */
  readonly toggleTargets: readonly number[]
  /** The 200 sources of the prefetch, each linked to 50 targets. */
  readonly prefetchSources: readonly number[]
  /** The 50 targets linked from a prefetch source. */
  prefetchTargets(source: number): readonly number[]
}

const SOURCE_COUNT = 220
const TARGET_COUNT = 2000

function layout(targetOffset: number): Layout {
  const targets = Array.from({ length: TARGET_COUNT }, (_, index) => targetOffset + index + 1)
  return {
    sourceCount: SOURCE_COUNT,
    targets,
    targetRowCount: targetOffset + TARGET_COUNT,
    addNew: 1,
    addExisting: 2,
    set: 3,
    remove: 4,
    list: 5,
    toggleSources: Array.from({ length: 10 }, (_, index) => 11 + index),
    toggleTargets: targets.slice(0, 50),
    prefetchSources: Array.from({ length: 200 }, (_, index) => 21 + index),
    prefetchTargets: (source) => {
      const start = (source % 39) * 50
      return targets.slice(start, start + 50)
    },
  }
}

/** One relation of one variant: its own tables (by prefix), models, definition and layout. */
export interface RelationFixture {
  readonly kind: RelationKind
  readonly relation: AnyRelation
  readonly source: AnyModel
  readonly target: AnyModel
  /** Every table, parents first. */
  readonly schema: readonly TableSchema[]
  readonly layout: Layout
  /** Options of every call that may insert links (`throughDefaults` of the through relation). */
  readonly insertOptions: { readonly throughDefaults?: Readonly<Record<string, unknown>> }
  /** The extra column values of an inserted link row, as the hand-written baselines write them. */
  readonly extraValues: (() => Record<string, unknown>) | undefined
}

interface NamedRow {
  id: number
  name: string
}

interface MembershipRow {
  id: number
  group_id: number
  member_id: number
  role: string
  joined_at: Date
}

function modelTable(model: AnyModel): TableSchema {
  return {
    table: model.table,
    primaryKey: model.primaryKey,
    columns: [
      { name: model.primaryKey, kind: 'increments', nullable: false },
      { name: 'name', kind: 'string', nullable: false },
    ],
    unique: [],
    indexes: [],
  }
}

/** The three relations of one variant, on tables named `${prefix}…`. */
export function relationFixtures(prefix: string): Record<RelationKind, RelationFixture> {
  const User = defineModel<NamedRow>('User', { table: `${prefix}users`, columns: ['id', 'name'] })
  const Item = defineModel<NamedRow>('Item', { table: `${prefix}items`, columns: ['id', 'name'] })
  const favorites = manyToMany(User, Item, { name: 'favorites' })

  const Person = defineModel<NamedRow>('Person', { table: `${prefix}people`, columns: ['id', 'name'] })
  const friends = manyToMany(Person, 'self', { name: 'friends' })

  const Group = defineModel<NamedRow>('Group', { table: `${prefix}groups`, columns: ['id', 'name'] })
  const Member = defineModel<NamedRow>('Member', { table: `${prefix}members`, columns: ['id', 'name'] })
  const Membership = defineThrough<MembershipRow>('Membership', {
    table: `${prefix}memberships`,
    primaryKey: 'id',
    foreignKeys: { group_id: Group, member_id: Member },
    columns: { role: { required: true }, joined_at: { default: () => new Date() } },
  })
  const members = manyToMany(Group, Member, { name: 'members', through: Membership })

  return {
    plain: {
      kind: 'plain',
      relation: favorites,
      source: User,
      target: Item,
      schema: [modelTable(User), modelTable(Item), describeJoinTable(favorites)],
      layout: layout(0),
      insertOptions: {},
      extraValues: undefined,
    },
    symmetrical: {
      kind: 'symmetrical',
      relation: friends,
      source: Person,
      target: Person,
      // Sources are people 1..220 and targets people 1001..3000, in one table.
      schema: [modelTable(Person), describeJoinTable(friends)],
      layout: layout(1000),
      insertOptions: {},
      extraValues: undefined,
    },
    through: {
      kind: 'through',
      relation: members,
      source: Group,
      target: Member,
      schema: [modelTable(Group), modelTable(Member), describeJoinTable(members, { role: { kind: 'string' }, joined_at: { kind: 'datetime' } })],
      layout: layout(0),
      insertOptions: { throughDefaults: { role: 'member' } },
      extraValues: () => ({ role: 'member', joined_at: new Date() }),
    },
  }
}

/** The join table names a hand-written baseline needs, read from the relation's definition. */
export interface JoinNames {
  readonly table: string
  readonly sourceColumn: string
  readonly targetColumn: string
  readonly targetTable: string
  readonly targetKey: string
  readonly symmetrical: boolean
}

/** The names of a fixture's join table. */
export function joinNames(fixture: RelationFixture): JoinNames {
  const { link } = fixture.relation
  return {
    table: link.table,
    sourceColumn: link.sourceColumn,
    targetColumn: link.targetColumn,
    targetTable: link.target.table,
    targetKey: link.target.primaryKey,
    symmetrical: fixture.relation.symmetrical,
  }
}
