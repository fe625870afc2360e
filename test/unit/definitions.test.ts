import { describe, expect, it } from 'vitest'
import { DefinitionError, defineModel, defineThrough, manyToMany, MemoryAdapter } from '../../src/index.js'

const Person = defineModel<{ id: number; name: string }>('Person', { table: 'person' })
const Group = defineModel<{ id: number; name: string }>('Group', { table: 'group' })
const Article = defineModel<{ id: number; headline: string }>('Article', { table: 'many_to_many_article' })
const Publication = defineModel<{ id: number; title: string }>('Publication', { table: 'many_to_many_publication' })

describe('defineModel()', () => {
  it('defaults the table to the lower-case name and the key to an integer id', () => {
    const Tag = defineModel('Tag')
    expect(Tag.table).toBe('tag')
    expect(Tag.primaryKey).toBe('id')
    expect(Tag.keyType).toBe('integer')
  })

  it('refuses names and columns that are not identifiers', () => {
    expect(() => defineModel('Bad name')).toThrow(DefinitionError)
    expect(() => defineModel('Tag', { table: 'tags; drop table x' })).toThrow(/plain identifier/)
    expect(() => defineModel<{ id: number; 'a b': string }>('Tag', { columns: ['id', 'a b'] })).toThrow(/not a plain identifier/)
    expect(() => defineModel<{ id: number; name: string }>('Tag', { columns: ['name'] })).toThrow(/must include the primary key/)
    expect(() => defineModel<{ id: number; name: string }>('Tag', { columns: ['id', 'name'], ordering: ['-nope' as '-name'] })).toThrow(/unknown column/)
  })
})

describe('manyToMany(): the auto join table', () => {
  it("uses Django's names", () => {
    const publications = manyToMany(Article, Publication, { name: 'publications' })
    expect(publications.through).toMatchObject({
      name: 'Article_publications',
      table: 'many_to_many_article_publications',
      sourceColumn: 'article_id',
      targetColumn: 'publication_id',
      primaryKey: 'id',
      unique: true,
    })
    expect(publications.reverse.name).toBe('article_set')
    expect(publications.reverse.link).toMatchObject({ sourceColumn: 'publication_id', targetColumn: 'article_id' })
  })

  it('names a self relation from_ and to_, and makes it symmetrical by default', () => {
    const friends = manyToMany(Person, 'self', { name: 'friends' })
    expect(friends.through).toMatchObject({ sourceColumn: 'from_person_id', targetColumn: 'to_person_id' })
    expect(friends.symmetrical).toBe(true)
    expect(() => friends.reverse).toThrow(expect.objectContaining({ code: 'M2M_REVERSE_HIDDEN' }))
    const idols = manyToMany(Person, Person, { name: 'idols', symmetrical: false, relatedName: 'stalkers' })
    expect(idols.symmetrical).toBe(false)
    expect(idols.reverse.name).toBe('stalkers')
  })

  it('hides the reverse side of a relatedName ending in +', () => {
    const hidden = manyToMany(Article, Publication, { name: 'publications', relatedName: '+' })
    expect(() => hidden.reverse).toThrow(expect.objectContaining({ code: 'M2M_REVERSE_HIDDEN' }))
  })
})

describe('manyToMany(): impossible definitions', () => {
  it('refuses symmetrical on a relation between two models', () => {
    expect(() => manyToMany(Person, Group, { name: 'groups', symmetrical: true })).toThrow(/only a self relation/)
  })

  it('refuses relatedName on a symmetrical relation', () => {
    expect(() => manyToMany(Person, 'self', { name: 'friends', relatedName: 'friend_of' })).toThrow(/no reverse side/)
  })

  it('refuses a through table with two foreign keys to one side and no throughFields', () => {
    const Invitation = defineThrough('Invitation', { table: 'invitation', foreignKeys: { group_id: Group, inviter_id: Person, invitee_id: Person } })
    expect(() => manyToMany(Group, Person, { name: 'invitees', through: Invitation })).toThrow(/more than one foreign key to Person \(inviter_id, invitee_id\), which is ambiguous/)
    const invitees = manyToMany(Group, Person, { name: 'invitees', through: Invitation, throughFields: ['group_id', 'invitee_id'] })
    expect(invitees.through).toMatchObject({ sourceColumn: 'group_id', targetColumn: 'invitee_id' })
    expect([...invitees.through.columns.keys()]).toEqual(['inviter_id'])
  })

  it('refuses throughFields that name a missing or wrong column', () => {
    const Membership = defineThrough('Membership', { table: 'membership', foreignKeys: { person_id: Person, group_id: Group } })
    expect(() => manyToMany(Group, Person, { name: 'members', through: Membership, throughFields: ['group_id', 'nope'] })).toThrow(/has no foreign key "nope"/)
    expect(() => manyToMany(Group, Person, { name: 'members', through: Membership, throughFields: ['person_id', 'group_id'] })).toThrow(/is not a foreign key to Group/)
  })

  it('refuses a self through table with more than two foreign keys to the model', () => {
    const Relationship = defineThrough('Relationship', { table: 'relationship', foreignKeys: { another_id: Person, target_id: Person, source_id: Person } })
    expect(() => manyToMany(Person, 'self', { name: 'subordinates', through: Relationship, symmetrical: false })).toThrow(/more than two foreign keys/)
  })

  it('refuses a through table with no foreign key to a side', () => {
    const Orphan = defineThrough('Orphan', { table: 'orphan', foreignKeys: { person_id: Person, other_id: Person } })
    expect(() => manyToMany(Group, Person, { name: 'members', through: Orphan })).toThrow(/no foreign key to Group/)
  })

  it('refuses a join table named like one of the models', () => {
    const Clash = defineThrough('Clash', { table: 'person', foreignKeys: { person_id: Person, group_id: Group } })
    expect(() => manyToMany(Group, Person, { name: 'members', through: Clash })).toThrow(/clashes with the table of Person/)
  })
})

describe('relation.of()', () => {
  const publications = manyToMany(Article, Publication, { name: 'publications' })

  it('needs an adapter', () => {
    expect(() => publications.of(1)).toThrow(expect.objectContaining({ code: 'M2M_NO_ADAPTER' }))
    expect(publications.using(new MemoryAdapter()).of(1).sourceKey).toBe(1)
  })

  it("refuses an unsaved source with Django's message", () => {
    const bound = publications.using(new MemoryAdapter())
    expect(() => bound.of({ headline: 'Django lets you build web apps easily' } as never)).toThrow(
      'Article is unsaved: it needs a value for "id" before this many-to-many relationship can be used.',
    )
  })

  it('builds a new manager on every call', () => {
    const bound = publications.using(new MemoryAdapter())
    expect(bound.of(1)).not.toBe(bound.of(1))
  })
})
