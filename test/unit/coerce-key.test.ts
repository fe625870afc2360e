import { describe, expect, it } from 'vitest'
import { defineModel, InvalidKeyError, UnsavedInstanceError, WrongModelError } from '../../src/index.js'
import { coerceKey, resolveTargetKey, tryCoerceKey } from '../../src/model/coerce-key.js'
import { tagRow } from '../../src/model/model-of.js'

describe('tryCoerceKey()', () => {
  it('turns integer strings and safe bigints into integer keys', () => {
    expect(tryCoerceKey('3', 'integer')).toBe(3)
    expect(tryCoerceKey('-7', 'integer')).toBe(-7)
    expect(tryCoerceKey(5n, 'integer')).toBe(5)
    expect(tryCoerceKey(42, 'integer')).toBe(42)
  })

  it('refuses what cannot be an integer key', () => {
    for (const value of [null, undefined, Number.NaN, Infinity, -Infinity, 1.5, 'abc', '', ' 3', '3.0', '1e3', {}, [], true, 2 ** 53, '9007199254740993', 2n ** 60n]) {
      expect(tryCoerceKey(value, 'integer')).toBeUndefined()
    }
  })

  it('keeps bigint keys within 64 bits', () => {
    expect(tryCoerceKey('9223372036854775807', 'bigint')).toBe(9223372036854775807n)
    expect(tryCoerceKey(12, 'bigint')).toBe(12n)
    expect(tryCoerceKey('9223372036854775808', 'bigint')).toBeUndefined()
    expect(tryCoerceKey(1.5, 'bigint')).toBeUndefined()
  })

  it('turns finite numbers into string keys and refuses objects', () => {
    expect(tryCoerceKey(3, 'string')).toBe('3')
    expect(tryCoerceKey('', 'string')).toBe('')
    expect(tryCoerceKey(Number.NaN, 'string')).toBeUndefined()
    expect(tryCoerceKey({ toString: () => 'x' }, 'string')).toBeUndefined()
  })

  it('normalises UUIDs to lower case and refuses anything else', () => {
    expect(tryCoerceKey('A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'uuid')).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')
    expect(tryCoerceKey('not-a-uuid', 'uuid')).toBeUndefined()
    expect(tryCoerceKey(3, 'uuid')).toBeUndefined()
  })
})

describe('resolveTargetKey()', () => {
  const Publication = defineModel<{ id: number; title: string }>('Publication')
  const Article = defineModel<{ id: number; headline: string }>('Article', { describe: (row) => row.headline })

  it('reads the key of an object carrying it', () => {
    expect(resolveTargetKey({ id: '4', title: 'x' }, Publication, 'add')).toBe(4)
  })

  it('names the model expected and the object given for a row of another model', () => {
    const article = tagRow({ id: 1, headline: 'NASA uses Python' }, Article)
    expect(() => resolveTargetKey(article, Publication, 'add')).toThrow(WrongModelError)
    expect(() => resolveTargetKey(article, Publication, 'add')).toThrow('Publication instance expected, got Article "NASA uses Python".')
  })

  it('refuses an object without a key as unsaved', () => {
    expect(() => resolveTargetKey({ title: 'draft' }, Publication, 'add')).toThrow(UnsavedInstanceError)
    expect(() => resolveTargetKey({ id: null }, Publication, 'add')).toThrow(/Cannot add Publication: it is unsaved/)
  })

  it('explains a bad raw key', () => {
    expect(() => coerceKey('invalid', Publication)).toThrow(InvalidKeyError)
    expect(() => coerceKey('invalid', Publication)).toThrow('Publication key "id" expected an integer but got "invalid".')
  })

  it('refuses an instance of another class when the model has a class', () => {
    class Pub {
      id = 1
      title = ''
    }
    class Other {
      id = 1
    }
    const Typed = defineModel('Pub', { class: Pub })
    expect(resolveTargetKey(new Pub(), Typed, 'add')).toBe(1)
    expect(resolveTargetKey({ id: 2 }, Typed, 'add')).toBe(2)
    expect(() => resolveTargetKey(new Other(), Typed, 'add')).toThrow('Pub instance expected, got an instance of Other.')
  })
})

describe('resolveTargetKey() with declared columns', () => {
  const Publication = defineModel<{ id: number; title: string }>('Publication', { columns: ['id', 'title'] })

  it('refuses a plain row of another model that happens to carry an id', () => {
    expect(() => resolveTargetKey({ id: 1, headline: 'NASA uses Python' }, Publication, 'add')).toThrow(
      'Publication instance expected, got an object with a column Publication does not have ("headline").',
    )
  })

  it('accepts a plain row with only its own columns, even a partial one', () => {
    expect(resolveTargetKey({ id: 1, title: 'The Python Journal' }, Publication, 'add')).toBe(1)
    expect(resolveTargetKey({ id: 2 }, Publication, 'add')).toBe(2)
  })
})
