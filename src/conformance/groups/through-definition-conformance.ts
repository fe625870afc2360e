import assert from 'node:assert/strict'
import { defineModel } from '../../model/define-model.js'
import { defineThrough } from '../../model/define-through.js'
import { manyToMany } from '../../relation/many-to-many.js'
import type { ConformanceOptions } from '../conformance-options.js'

interface NamedRow {
  id: number
  name: string
}

// Models for definitions only: no table of theirs is ever created or read.
const Person = defineModel<NamedRow>('Person', { table: 'tl_def_person', columns: ['id', 'name'] })
const Group = defineModel<NamedRow>('Group', { table: 'tl_def_group', columns: ['id', 'name'] })

/** A through table with two keys to Person beside the key to Group (Django's Invitation shape). */
const Invitation = defineThrough<{ id: number; group_id: number; inviter_id: number; invitee_id: number }>('Invitation', {
  table: 'tl_def_invitation',
  primaryKey: 'id',
  foreignKeys: { group_id: Group, inviter_id: Person, invitee_id: Person },
})

/** A self through table with three keys to Person (Django's Relationship shape). */
const Relationship = defineThrough<{ id: number; another_id: number; target_id: number; source_id: number }>('Relationship', {
  table: 'tl_def_relationship',
  primaryKey: 'id',
  foreignKeys: { another_id: Person, target_id: Person, source_id: Person },
})

/** A plain through table from Person to Group with an extra column. */
const Membership = defineThrough<{ id: number; person_id: number; group_id: number; note: string }>('Membership', {
  table: 'tl_def_membership',
  primaryKey: 'id',
  foreignKeys: { person_id: Person, group_id: Group },
  columns: { note: {} },
})

const INVALID = { name: 'DefinitionError', code: 'M2M_INVALID_DEFINITION' }

/**
 * The definition rules of through tables and self relations, checked when `manyToMany()` is
 * called: ambiguous or wrong link columns, symmetry only on self relations, and the default
 * symmetry of a self relation. No storage is involved.
 */
export function throughDefinitionConformance(options: ConformanceOptions): void {
  const { describe, it } = options.test
  describe(`${options.name}: through definitions`, () => {
    it('throws when the through table has two keys to the target and no throughFields', () => {
      assert.throws(() => manyToMany(Group, Person, { name: 'invitees', through: Invitation }), INVALID)
    })

    it('links the named columns when throughFields resolves the ambiguity', () => {
      const invitees = manyToMany(Group, Person, { name: 'invitees', through: Invitation, throughFields: ['group_id', 'invitee_id'] })
      assert.equal(invitees.through.sourceColumn, 'group_id')
      assert.equal(invitees.through.targetColumn, 'invitee_id')
      assert.equal(invitees.reverse.link.sourceColumn, 'invitee_id')
      assert.ok(invitees.through.columns.has('inviter_id'))
    })

    it('throws when a self through table has three keys to the model and no throughFields', () => {
      assert.throws(() => manyToMany(Person, Person, { name: 'subordinates', through: Relationship, symmetrical: false }), INVALID)
      const subordinates = manyToMany(Person, Person, {
        name: 'subordinates',
        through: Relationship,
        throughFields: ['source_id', 'target_id'],
        symmetrical: false,
      })
      assert.equal(subordinates.through.sourceColumn, 'source_id')
      assert.equal(subordinates.through.targetColumn, 'target_id')
    })

    it('throws when throughFields names a column that is not a foreign key of the table', () => {
      assert.throws(
        () => manyToMany(Group, Person, { name: 'invitees', through: Invitation, throughFields: ['group_id', 'guest_id'] }),
        INVALID,
      )
      assert.throws(() => manyToMany(Person, Group, { name: 'groups', through: Membership, throughFields: ['person_id', 'note'] }), INVALID)
    })

    it('throws when throughFields names a foreign key to the wrong model', () => {
      assert.throws(
        () => manyToMany(Group, Person, { name: 'invitees', through: Invitation, throughFields: ['invitee_id', 'inviter_id'] }),
        INVALID,
      )
      assert.throws(() => manyToMany(Person, Group, { name: 'groups', through: Membership, throughFields: ['group_id', 'person_id'] }), INVALID)
    })

    it('throws when the through table has no key to one side', () => {
      assert.throws(() => manyToMany(Group, Group, { name: 'partners', through: Membership }), INVALID)
      const Band = defineModel<NamedRow>('Band', { table: 'tl_def_band', columns: ['id', 'name'] })
      assert.throws(() => manyToMany(Band, Person, { name: 'members', through: Membership }), INVALID)
    })

    it('throws when a relation between two models is declared symmetrical', () => {
      assert.throws(() => manyToMany(Person, Group, { name: 'groups', symmetrical: true }), INVALID)
      assert.throws(() => manyToMany(Person, Group, { name: 'groups', through: Membership, symmetrical: true }), INVALID)
    })

    it('throws when a symmetrical relation is given a relatedName', () => {
      assert.throws(() => manyToMany(Person, Person, { name: 'friends', relatedName: 'friend_of' }), INVALID)
      assert.throws(() => manyToMany(Person, 'self', { name: 'friends', symmetrical: true, relatedName: 'friend_of' }), INVALID)
      const idols = manyToMany(Person, Person, { name: 'idols', symmetrical: false, relatedName: 'stalkers' })
      assert.equal(idols.reverse.name, 'stalkers')
    })

    it('makes a self relation symmetrical by default, given the model or self', () => {
      const byModel = manyToMany(Person, Person, { name: 'friends' })
      const bySelf = manyToMany(Person, 'self', { name: 'friends' })
      const oneWay = manyToMany(Person, Person, { name: 'idols', symmetrical: false })
      const toGroup = manyToMany(Person, Group, { name: 'groups' })
      assert.equal(byModel.symmetrical, true)
      assert.equal(bySelf.symmetrical, true)
      assert.equal(bySelf.target, Person)
      assert.equal(oneWay.symmetrical, false)
      assert.equal(toGroup.symmetrical, false)
      assert.equal(byModel.through.sourceColumn, 'from_person_id')
      assert.equal(byModel.through.targetColumn, 'to_person_id')
      assert.equal(oneWay.reverse.name, 'person_set')
      assert.equal(oneWay.reverse.link.sourceColumn, 'to_person_id')
    })

    it('gives a symmetrical relation no reverse side', () => {
      const friends = manyToMany(Person, 'self', { name: 'friends' })
      const colleagues = manyToMany(Person, Person, {
        name: 'colleagues',
        through: defineThrough<{ id: number; first_id: number; second_id: number }>('Colleague', {
          table: 'tl_def_colleague',
          primaryKey: 'id',
          foreignKeys: { first_id: Person, second_id: Person },
        }),
      })
      assert.equal(colleagues.symmetrical, true)
      assert.equal(colleagues.through.sourceColumn, 'first_id')
      assert.throws(() => friends.reverse, { code: 'M2M_REVERSE_HIDDEN' })
      assert.throws(() => colleagues.reverse, { code: 'M2M_REVERSE_HIDDEN' })
    })

    it('throws when a link column is also declared as an extra column', () => {
      const Odd = defineThrough<{ id: number; person_id: number; group_id: number }>('Odd', {
        table: 'tl_def_odd',
        primaryKey: 'id',
        foreignKeys: { person_id: Person, group_id: Group },
        columns: { group_id: { required: true } },
      })
      assert.throws(() => manyToMany(Person, Group, { name: 'groups', through: Odd }), INVALID)
    })
  })
}
