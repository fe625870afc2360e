import { describe, expect, it } from 'vitest'
import { columnNamesOf } from '../../src/model/column-names.js'
import { defineModel, defineThrough, manyToMany, MemoryAdapter, type ColumnConverter } from '../../src/index.js'

// The `converters` option on its own (Drizzle's are in drizzle-converters.test.ts): where values
// are decoded and encoded, what is left as given, and what a model without one costs.

const epochSeconds: ColumnConverter<Date> = {
  fromDatabase: (stored) => (stored instanceof Date ? stored : new Date(Number(stored) * 1000)),
  toDatabase: (value) => Math.floor(value.getTime() / 1000),
}
// A converter that keeps state on `this`: it must be called as a method.
const yesNo = {
  yes: 'Y',
  fromDatabase(this: { yes: string }, stored: unknown): boolean {
    return typeof stored === 'boolean' ? stored : stored === this.yes
  },
  toDatabase(this: { yes: string }, value: boolean): string {
    return value ? this.yes : 'N'
  },
}

interface Person {
  id: number
  name: string
}
interface Talk {
  id: number
  title: string
  startsAt: Date
  recorded: boolean
}
interface Seat {
  id: number
  person_id: number
  talk_id: number
  bookedAt: Date
}

const Person = defineModel<Person>('Person', { table: 'people' })
const Talk = defineModel<Talk>('Talk', {
  table: 'talks',
  columns: ['id', 'title', 'startsAt', 'recorded'],
  columnNames: { startsAt: 'starts_at' },
  converters: { startsAt: epochSeconds, recorded: yesNo },
})
const Seat = defineThrough<Seat>('Seat', {
  table: 'seats',
  primaryKey: 'id',
  foreignKeys: { person_id: Person, talk_id: Talk },
  columns: { bookedAt: { default: () => new Date('2025-01-01T00:00:00Z') } },
  columnNames: { bookedAt: 'booked_at' },
  converters: { bookedAt: epochSeconds },
})
const seats = manyToMany(Person, Talk, { name: 'seats', through: Seat })

const MORNING = new Date('2025-03-01T09:00:00Z')
const NOON = new Date('2025-03-01T12:00:00Z')

describe('converters', () => {
  it('are checked when the model is defined', () => {
    expect(() => defineModel<Talk>('Bad', { converters: 3 as never })).toThrow(expect.objectContaining({ code: 'M2M_INVALID_DEFINITION' }))
    expect(() => defineModel<Talk>('Bad', { columns: ['id', 'title'], converters: { startsAt: epochSeconds } })).toThrow(/not one of its columns/)
    expect(() => defineModel<Talk>('Bad', { converters: { startsAt: { fromDatabase: () => new Date() } as never } })).toThrow(/two functions/)
    expect(() => defineThrough<Seat>('Bad', { table: 'seats', foreignKeys: { person_id: Person, talk_id: Talk }, converters: { bookedAt: null as never } })).toThrow(/two functions/)
    expect(Object.keys(Talk.converters)).toEqual(['startsAt', 'recorded'])
    expect(Seat.converters.bookedAt).toBe(epochSeconds)
    expect(Person.converters).toEqual({})
  })

  it('cost nothing on a model without them: rows and values are not copied', () => {
    const names = columnNamesOf(Person)
    const row = { id: 1, name: 'ann' }
    expect(names.fromStorage(row)).toBe(row)
    expect(names.toStorage(row)).toBe(row)
    const conditions = [{ column: 'name', op: 'exact' as const, value: 'ann' }]
    expect(names.conditions(conditions)).toBe(conditions)
  })

  it('encode the values compared with stored ones, and leave string lookups and isnull as given', () => {
    const names = columnNamesOf(Talk)
    expect(
      names.conditions([
        { column: 'startsAt', op: 'in', value: [MORNING, NOON] },
        { column: 'startsAt', op: 'gte', value: MORNING },
        { column: 'recorded', op: 'exact', value: true },
        { column: 'recorded', op: 'startswith', value: 'Y' },
        { column: 'startsAt', op: 'isnull', value: false },
        { column: 'title', op: 'exact', value: 'x' },
      ]),
    ).toEqual([
      { column: 'starts_at', op: 'in', value: [MORNING.getTime() / 1000, NOON.getTime() / 1000] },
      { column: 'starts_at', op: 'gte', value: MORNING.getTime() / 1000 },
      { column: 'recorded', op: 'exact', value: 'Y' },
      { column: 'recorded', op: 'startswith', value: 'Y' },
      { column: 'starts_at', op: 'isnull', value: false },
      { column: 'title', op: 'exact', value: 'x' },
    ])
    const values = { title: 'x', startsAt: NOON, recorded: false }
    expect(names.toStorage(values)).toEqual({ title: 'x', starts_at: NOON.getTime() / 1000, recorded: 'N' })
    expect(values).toEqual({ title: 'x', startsAt: NOON, recorded: false })
    expect(names.fromStorage({ id: 1, title: 'x', starts_at: NOON.getTime() / 1000, recorded: 'Y' })).toEqual({ id: 1, title: 'x', startsAt: NOON, recorded: true })
    expect(names.fromStorage({ id: 1, title: 'x', starts_at: null, recorded: null })).toEqual({ id: 1, title: 'x', startsAt: null, recorded: null })
  })

  it('store encoded values and read decoded rows through the manager', async () => {
    const adapter = new MemoryAdapter()
    await adapter.insertTarget({ target: Person.spec, values: { id: 1, name: 'ann' } })
    const relation = seats.using(adapter)
    const keynote = await relation.of(1).create({ title: 'Keynote', startsAt: MORNING, recorded: true })
    expect(keynote).toEqual({ id: keynote.id, title: 'Keynote', startsAt: MORNING, recorded: true })
    const lunch = await relation.of(1).create({ title: 'Lunch', startsAt: NOON, recorded: false }, { throughDefaults: { bookedAt: NOON } })
    // As stored: the memory store holds what an SQL table would.
    const stored = await adapter.selectTargets({ link: relation.link, source: 1, query: { where: [], exclude: [], orderBy: [{ column: 'id', direction: 'asc' }], limit: undefined, offset: undefined } })
    expect(stored.map((row) => [row.starts_at, row.recorded])).toEqual([
      [MORNING.getTime() / 1000, 'Y'],
      [NOON.getTime() / 1000, 'N'],
    ])
    expect(await relation.of(1).all()).toEqual([keynote, lunch])
    expect(await relation.of(1).filter({ recorded: false }).all()).toEqual([lunch])
    expect(await relation.of(1).filter({ startsAt__range: [MORNING, MORNING] }).all()).toEqual([keynote])
    expect(await relation.of(1).exclude({ startsAt__lt: NOON }).all()).toEqual([lunch])
    expect((await relation.of(1).throughRows()).map((row) => row.bookedAt)).toEqual([new Date('2025-01-01T00:00:00Z'), NOON])
    expect(await relation.filter({}, { through: { bookedAt: NOON } }).all()).toEqual([{ id: 1, name: 'ann' }])
    expect((await relation.prefetch([1], { where: { recorded: true } })).rows(1)).toEqual([keynote])
    const [updated] = await relation.of(1).updateOrCreate({ title: 'Lunch' }, { defaults: { recorded: true } })
    expect(updated).toEqual({ ...lunch, recorded: true })
    expect(await relation.of(1).filter({ recorded: true }).ids()).toEqual([keynote.id, lunch.id])
  })
})
