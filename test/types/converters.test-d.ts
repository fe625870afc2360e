import { describe, expectTypeOf, it } from 'vitest'
import { defineModel, defineThrough, type ColumnConverter } from '../../src/index.js'

interface EventRow {
  id: number
  title: string
  startsAt: Date
  endsAt: Date | null
}
interface GuestRow {
  eventId: number
  userId: number
  invitedAt: Date
}

const epochSeconds: ColumnConverter<Date> = {
  fromDatabase: (stored) => new Date(Number(stored) * 1000),
  toDatabase: (value) => Math.floor(value.getTime() / 1000),
}

describe('types: converters', () => {
  it('take a converter of the property type, nullable properties included', () => {
    const Event = defineModel<EventRow>('Event', { converters: { startsAt: epochSeconds, endsAt: epochSeconds } })
    expectTypeOf(Event.converters).toEqualTypeOf<Readonly<Record<string, ColumnConverter>>>()
    defineThrough<GuestRow>('Guest', { table: 'guests', foreignKeys: { eventId: Event, userId: Event }, converters: { invitedAt: epochSeconds } })
  })

  it('refuse a converter of another type, and a property the row does not have', () => {
    // @ts-expect-error title is a string, not a Date
    defineModel<EventRow>('Event', { converters: { title: epochSeconds } })
    // @ts-expect-error not a property of the row
    defineModel<EventRow>('Event', { converters: { starts_at: epochSeconds } })
  })

  it('type toDatabase by the property and fromDatabase by what it returns', () => {
    expectTypeOf<Parameters<ColumnConverter<boolean>['toDatabase']>[0]>().toEqualTypeOf<boolean>()
    expectTypeOf<ReturnType<ColumnConverter<boolean>['fromDatabase']>>().toEqualTypeOf<boolean>()
    expectTypeOf<Parameters<ColumnConverter<boolean>['fromDatabase']>[0]>().toEqualTypeOf<unknown>()
  })
})
