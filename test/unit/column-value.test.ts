import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { BetterSqlite3Adapter } from '../../src/adapters/better-sqlite3/index.js'
import { defineModel, isThroughlineError, manyToMany, MemoryAdapter, type RelationAdapter } from '../../src/index.js'
import { assertColumnValue, textFault, valueFault } from '../../src/model/column-value.js'

// The one rule for what a value must be to be stored alike on every adapter (the hostile-input
// conformance group checks it on every adapter; binary columns on the Knex databases are in
// test/adapters/knex.test.ts).

describe('valueFault()', () => {
  it('takes strings, finite numbers, 64-bit bigints, booleans, null, valid Dates and binary data', () => {
    for (const value of ['', 'x', 'ünï 😀', 0, -0, 1.5, -7, Number.MAX_VALUE, 2n ** 63n - 1n, -(2n ** 63n), true, false, null, new Date(0), new Uint8Array(2), Buffer.from('ab')]) {
      expect(valueFault(value, { binary: true })).toBeUndefined()
    }
  })

  it('refuses binary data where it is not wanted (lookups)', () => {
    expect(valueFault(new Uint8Array(1), { binary: false })?.what).toBe('binary data')
  })

  it('names what is wrong with every other value', () => {
    class Money {
      constructor(readonly cents: number) {}
    }
    const cases: readonly (readonly [unknown, string])[] = [
      [[1, 2], 'an array of 2'],
      [{ a: 1 }, 'an object'],
      [Object.create(null), 'an object'],
      [new Map(), 'a Map'],
      [new Set(), 'a Set'],
      [() => 1, 'a function'],
      [Symbol('s'), 'a symbol'],
      [new Money(1), 'an instance of Money'],
      [new Int16Array(1), 'Int16Array (only a Uint8Array or Buffer is binary data)'],
      [new ArrayBuffer(1), 'an ArrayBuffer (wrap it in a Uint8Array)'],
      [Number.NaN, 'NaN'],
      [Number.POSITIVE_INFINITY, 'Infinity'],
      [new Date(Number.NaN), 'an invalid Date'],
      [2n ** 63n, 'a bigint beyond 64 bits'],
      ['a\u0000', 'a string with a NUL character'],
      ['a\uD800', 'a string with an unpaired UTF-16 surrogate'],
    ]
    for (const [value, what] of cases) expect(valueFault(value, { binary: true })?.what).toBe(what)
  })
})

describe('textFault()', () => {
  it('refuses unpaired surrogates anywhere in the string, and takes pairs', () => {
    for (const text of ['\uD800', '\uDFFF', 'a\uD83Db', '\uDE00\uD83D', 'x'.repeat(100_000) + '\uDC00']) expect(textFault(text)).toBeDefined()
    for (const text of ['😀', '\uD83D\uDE00', 'a\uD800\uDC00b', '']) expect(textFault(text)).toBeUndefined()
  })
})

describe('assertColumnValue()', () => {
  it('says which column, what the value is and what to do', () => {
    try {
      assertColumnValue(['a'], 'create()', 'tags')
      expect.unreachable()
    } catch (error) {
      expect(isThroughlineError(error, 'M2M_INVALID_ARGUMENT')).toBe(true)
      expect((error as Error).message).toMatch(/^create\(\): the value of "tags" is an array of 1, which no column can hold\. .*JSON\.stringify/)
    }
  })
})

describe('binary column values', () => {
  const database = new Database(':memory:')
  afterAll(() => {
    database.close()
  })
  const Blob = defineModel<{ id: number; label: string; data: Uint8Array | null }>('UBlob', { table: 'u_blob', columns: ['id', 'label', 'data'] })
  const Owner = defineModel<{ id: number }>('UOwner', { table: 'u_owner', columns: ['id'] })
  const blobs = manyToMany(Owner, Blob, { name: 'blobs' })

  async function roundTrip(adapter: RelationAdapter): Promise<Record<string, number[]>> {
    const owner = (await adapter.insertTarget({ target: Owner.spec, values: {} })) as { id: number }
    const manager = blobs.using(adapter).of(owner)
    await manager.create({ label: 'typed', data: new Uint8Array([0, 1, 0xff]) })
    await manager.create({ label: 'buffer', data: Buffer.from([0x80, 0]) })
    return Object.fromEntries((await manager.all()).map((row) => [row.label, [...(row.data ?? [])]]))
  }

  it('stores a Uint8Array and a Buffer byte for byte on the memory adapter and on better-sqlite3', async () => {
    database.exec(`
      CREATE TABLE u_owner (id INTEGER PRIMARY KEY AUTOINCREMENT);
      CREATE TABLE u_blob (id INTEGER PRIMARY KEY AUTOINCREMENT, label TEXT, data BLOB);
      CREATE TABLE u_owner_blobs (id INTEGER PRIMARY KEY AUTOINCREMENT, uowner_id INTEGER NOT NULL REFERENCES u_owner (id),
        ublob_id INTEGER NOT NULL REFERENCES u_blob (id), UNIQUE (uowner_id, ublob_id));
    `)
    const expected = { typed: [0, 1, 0xff], buffer: [0x80, 0] }
    expect(await roundTrip(new MemoryAdapter())).toEqual(expected)
    expect(await roundTrip(new BetterSqlite3Adapter(database))).toEqual(expected)
  })
})
