import assert from 'node:assert/strict'
import type { ConformanceContext } from '../conformance-context.js'
import { useContext } from '../conformance-context.js'
import type { ConformanceOptions } from '../conformance-options.js'
import { Shelf, Word, words, wordsSchema } from '../fixtures/words.js'

// Texts that tell collations apart: case, accents, LIKE wildcards, trailing spaces. All in the
// Basic Multilingual Plane, where UTF-16 code-unit order and code-point order agree.
const TEXTS = ['apple', 'Apple', 'APPLE', 'banana', 'Banana', 'Zebra', 'zebra', '_under', '50% off', '50x off', 'a_c', 'abc', 'abc ', 'éclair', 'eclair', 'Science News', 'science news']

async function shelfOfWords(ctx: ConformanceContext): Promise<ReturnType<typeof words.of>> {
  const shelf = await ctx.insert(Shelf, { name: 'everything' })
  const rows = await ctx.insertAll(
    Word,
    TEXTS.map((text) => ({ text })),
  )
  const manager = ctx.bind(words).of(shelf)
  await manager.add(rows)
  return manager
}

async function texts(query: { all: () => Promise<{ text: string }[]> }): Promise<string[]> {
  return (await query.all()).map((row) => row.text).sort()
}

/**
 * String semantics: every adapter compares strings by code unit, case-sensitively, with no
 * padding, and takes `%` and `_` literally in the text lookups, whatever its collation.
 */
export function stringsConformance(options: ConformanceOptions): void {
  const { describe, it } = options.test
  describe(`${options.name}: string semantics`, () => {
    const context = useContext(options, wordsSchema)

    it('matches exact strings case-sensitively', async () => {
      const manager = await shelfOfWords(context())
      assert.deepEqual(await texts(manager.filter({ text: 'apple' })), ['apple'])
      assert.deepEqual(await texts(manager.filter({ text__in: ['APPLE', 'zebra'] })), ['APPLE', 'zebra'])
    })

    it('does not ignore trailing spaces', async () => {
      const manager = await shelfOfWords(context())
      assert.deepEqual(await texts(manager.filter({ text: 'abc' })), ['abc'])
      assert.deepEqual(await texts(manager.filter({ text: 'abc ' })), ['abc '])
    })

    it('does not fold accents', async () => {
      const manager = await shelfOfWords(context())
      assert.deepEqual(await texts(manager.filter({ text: 'eclair' })), ['eclair'])
      assert.deepEqual(await texts(manager.filter({ text__startswith: 'é' })), ['éclair'])
    })

    it('runs startswith, endswith and contains case-sensitively', async () => {
      const manager = await shelfOfWords(context())
      assert.deepEqual(await texts(manager.filter({ text__startswith: 'Science' })), ['Science News'])
      assert.deepEqual(await texts(manager.filter({ text__endswith: 'news' })), ['science news'])
      assert.deepEqual(await texts(manager.filter({ text__contains: 'PP' })), ['APPLE'])
    })

    it('takes % and _ literally in the text lookups', async () => {
      const manager = await shelfOfWords(context())
      assert.deepEqual(await texts(manager.filter({ text__contains: '% ' })), ['50% off'])
      assert.deepEqual(await texts(manager.filter({ text__startswith: 'a_' })), ['a_c'])
      assert.deepEqual(await texts(manager.filter({ text__startswith: '_' })), ['_under'])
      assert.deepEqual(await texts(manager.filter({ text__endswith: '%' })), [])
    })

    it('orders strings by code unit', async () => {
      const manager = await shelfOfWords(context())
      const ordered = (await manager.orderBy('text').all()).map((row) => row.text)
      assert.deepEqual(ordered, [...TEXTS].sort())
      const reversed = (await manager.orderBy('-text').all()).map((row) => row.text)
      assert.deepEqual(reversed, [...TEXTS].sort().reverse())
    })

    it('compares strings by code unit in range lookups', async () => {
      const manager = await shelfOfWords(context())
      const expected = TEXTS.filter((text) => text > 'Z' && text <= 'apple').sort()
      assert.deepEqual(await texts(manager.filter({ text__gt: 'Z', text__lte: 'apple' })), expected)
    })
  })
}
