import assert from 'node:assert/strict'
import { defineModel } from '../../model/define-model.js'
import { defineThrough } from '../../model/define-through.js'
import { manyToMany } from '../../relation/many-to-many.js'
import { describeJoinTable, type TableSchema } from '../../schema/table-schema.js'
import type { ConformanceOptions } from '../conformance-options.js'
import { itInspecting, useContext, type ConformanceContext } from '../conformance-context.js'
import { expectError, expectSyncError, expectUnchanged } from '../fixtures/assertions.js'
import { modelTable } from '../model-table.js'

// Django's case-insensitive lookups (iexact, istartswith, iendswith, icontains) and range, on
// every adapter. The case folding is ASCII only: A-Z and a-z are one letter, every other
// character (Ä and ä, the Kelvin sign and k, İ and i, Σ and σ) only matches itself, whatever
// the database, its collation or its locale would do with it. %, _ and \ are plain characters.

/** An item: text, a number and a date, all nullable, to look up. */
interface LkItemRow {
  id: number
  title: string | null
  rank: number | null
  at: Date | null
}

/** A box, the source of the items. */
interface LkBoxRow {
  id: number
  name: string
}

/** A row of the placements through table: a note on each link. */
interface LkPlacementRow {
  id: number
  box_id: number
  item_id: number
  note: string | null
}

const Item = defineModel<LkItemRow>('LkItem', { table: 'tl_lk_item', columns: ['id', 'title', 'rank', 'at'] })
const Box = defineModel<LkBoxRow>('LkBox', { table: 'tl_lk_box', columns: ['id', 'name'], ordering: ['name'] })
const Placement = defineThrough<LkPlacementRow>('LkPlacement', {
  table: 'tl_lk_placement',
  primaryKey: 'id',
  foreignKeys: { box_id: Box, item_id: Item },
  columns: { note: {} },
})
/** `Box.items`: a plain relation. */
const items = manyToMany(Box, Item, { name: 'items' })
/** `Box.placements`: the same pair through a table with a note. */
const placements = manyToMany(Box, Item, { name: 'placements', through: Placement, throughFields: ['box_id', 'item_id'], relatedName: '+' })

const lookupsSchema: readonly TableSchema[] = [
  modelTable(Item, { title: 'string', rank: 'integer', at: 'datetime' }),
  modelTable(Box, { name: 'string' }),
  describeJoinTable(items),
  describeJoinTable(placements, { note: { kind: 'string' } }),
]
const TABLES = [items.through.table, Placement.table, Item.table, Box.table]

// Texts that tell foldings apart: ASCII case; non-ASCII letters with a case (Ä, É, ß, the
// Kelvin sign U+212A whose Unicode lowercase is k, İ whose lowercase is i + a dot, Greek
// sigma); LIKE's wildcards and escape; trailing spaces (MariaDB's PAD SPACE collations); a
// character beyond the BMP; the empty string.
const TEXTS = [
  'apple',
  'Apple',
  'APPLE',
  'apples',
  'PineApple Pie',
  'Äpfel',
  'äpfel',
  'ÄPFEL',
  'Éclair',
  'éclair',
  'ÉCLAIR',
  'eclair',
  'straße',
  'STRASSE',
  'strasse',
  'Kelvin \u212A',
  'kelvin k',
  'İstanbul',
  'istanbul',
  'ISTANBUL',
  'ΣΊΣΥΦΟΣ',
  'σίσυφος',
  '50% OFF',
  '50x off',
  'A_C',
  'abc',
  'ABC ',
  'a\\c',
  'A\\C',
  'x\\%y',
  'X\\%Y_',
  '😀 Smile',
  '😀 smile',
  'Science News',
  'science news',
  '',
]

/** The documented folding, written out independently of the library: A-Z to a-z, nothing else. */
function fold(text: string): string {
  let folded = ''
  for (const char of text) folded += char >= 'A' && char <= 'Z' ? String.fromCharCode(char.charCodeAt(0) + 32) : char
  return folded
}

type CaseInsensitive = 'iexact' | 'istartswith' | 'iendswith' | 'icontains'

/** What a case-insensitive lookup must return from {@link TEXTS}, sorted by code unit. */
function expected(op: CaseInsensitive, value: string): string[] {
  const needle = fold(value)
  const test = (text: string): boolean => {
    const folded = fold(text)
    switch (op) {
      case 'iexact':
        return folded === needle
      case 'istartswith':
        return folded.startsWith(needle)
      case 'iendswith':
        return folded.endsWith(needle)
      case 'icontains':
        return folded.includes(needle)
    }
  }
  return TEXTS.filter(test).sort()
}

/** A box holding every text (and an item with no title, which no text lookup matches). */
async function boxOfTexts(ctx: ConformanceContext): Promise<ReturnType<typeof items.of>> {
  const box = await ctx.insert(Box, { name: 'everything' })
  const rows = await ctx.insertAll(Item, [...TEXTS.map((title) => ({ title })), { title: null }])
  const manager = ctx.bind(items).of(box)
  await manager.add(rows)
  return manager
}

async function titles(query: { all: () => Promise<LkItemRow[]> }): Promise<(string | null)[]> {
  return (await query.all()).map((row) => row.title).sort()
}

const DAY = 86_400_000
const START = Date.UTC(2024, 1, 27, 23, 59, 59, 999)

/** Items ranked 1 to 5 (one a day, at millisecond precision) and one with neither. */
async function boxOfRanks(ctx: ConformanceContext): Promise<{ manager: ReturnType<typeof items.of>; rows: LkItemRow[] }> {
  const box = await ctx.insert(Box, { name: 'ranks' })
  const rows = await ctx.insertAll(Item, [
    ...[1, 2, 3, 4, 5].map((rank) => ({ title: `item ${String(rank)}`, rank, at: new Date(START + (rank - 1) * DAY) })),
    { title: 'Item none', rank: null, at: null },
  ])
  const manager = ctx.bind(items).of(box)
  await manager.add(rows)
  return { manager, rows }
}

async function ranks(query: { all: () => Promise<LkItemRow[]> }): Promise<(number | null)[]> {
  return (await query.all()).map((row) => row.rank).sort()
}

/** `iexact`, `istartswith`, `iendswith`, `icontains` and `range`, identical on every adapter. */
export function lookupsConformance(options: ConformanceOptions): void {
  const { describe, it } = options.test
  describe(`${options.name}: case-insensitive lookups and range`, () => {
    const context = useContext(options, lookupsSchema)

    it('folds ASCII letters only in iexact', async () => {
      const manager = await boxOfTexts(context())
      assert.deepEqual(await titles(manager.filter({ title__iexact: 'APPLE' })), ['APPLE', 'Apple', 'apple'])
      assert.deepEqual(await titles(manager.filter({ title__iexact: 'strasse' })), ['STRASSE', 'strasse'])
      // Ä and ä are two letters; the ASCII letters around them still fold.
      assert.deepEqual(await titles(manager.filter({ title__iexact: 'äpfel' })), ['äpfel'])
      assert.deepEqual(await titles(manager.filter({ title__iexact: 'ÄPfel' })), ['ÄPFEL', 'Äpfel'])
      assert.deepEqual(await titles(manager.filter({ title__iexact: 'éclair' })), ['éclair'])
      // The Kelvin sign is not k, and İ is not I.
      assert.deepEqual(await titles(manager.filter({ title__iexact: 'KELVIN K' })), ['kelvin k'])
      assert.deepEqual(await titles(manager.filter({ title__iexact: 'Istanbul' })), ['ISTANBUL', 'istanbul'])
      assert.deepEqual(await titles(manager.filter({ title__iexact: 'σίσυφοσ' })), [])
      // No padding: a trailing space is a character.
      assert.deepEqual(await titles(manager.filter({ title__iexact: 'abc' })), ['abc'])
      assert.deepEqual(await titles(manager.filter({ title__iexact: 'abc ' })), ['ABC '])
      assert.deepEqual(await titles(manager.filter({ title__iexact: '' })), [''])
    })

    it('folds ASCII letters only in istartswith, iendswith and icontains', async () => {
      const manager = await boxOfTexts(context())
      assert.deepEqual(await titles(manager.filter({ title__istartswith: 'apple' })), ['APPLE', 'Apple', 'apple', 'apples'])
      assert.deepEqual(await titles(manager.filter({ title__icontains: 'APPLE' })), ['APPLE', 'Apple', 'PineApple Pie', 'apple', 'apples'])
      assert.deepEqual(await titles(manager.filter({ title__iendswith: 'NEWS' })), ['Science News', 'science news'])
      assert.deepEqual(await titles(manager.filter({ title__icontains: 'PFEL' })), ['ÄPFEL', 'Äpfel', 'äpfel'])
      assert.deepEqual(await titles(manager.filter({ title__istartswith: 'é' })), ['éclair'])
      assert.deepEqual(await titles(manager.filter({ title__istartswith: 'É' })), ['ÉCLAIR', 'Éclair'])
      assert.deepEqual(await titles(manager.filter({ title__icontains: 'CLAIR' })), ['eclair', 'ÉCLAIR', 'Éclair', 'éclair'].sort())
      assert.deepEqual(await titles(manager.filter({ title__istartswith: 'i' })), ['ISTANBUL', 'istanbul'])
      assert.deepEqual(await titles(manager.filter({ title__icontains: 'σ' })), ['σίσυφος'])
      assert.deepEqual(await titles(manager.filter({ title__iendswith: 'K' })), ['kelvin k'])
      assert.deepEqual(await titles(manager.filter({ title__istartswith: '😀 S' })), ['😀 Smile', '😀 smile'])
      // The case-sensitive lookups stay case-sensitive beside them.
      assert.deepEqual(await titles(manager.filter({ title__startswith: 'apple' })), ['apple', 'apples'])
    })

    it('takes %, _ and \\ literally in the case-insensitive lookups', async () => {
      const manager = await boxOfTexts(context())
      assert.deepEqual(await titles(manager.filter({ title__icontains: '% o' })), ['50% OFF'])
      assert.deepEqual(await titles(manager.filter({ title__icontains: '%' })), ['50% OFF', 'X\\%Y_', 'x\\%y'])
      assert.deepEqual(await titles(manager.filter({ title__istartswith: 'a_' })), ['A_C'])
      assert.deepEqual(await titles(manager.filter({ title__istartswith: '_' })), [])
      assert.deepEqual(await titles(manager.filter({ title__iendswith: '_' })), ['X\\%Y_'])
      assert.deepEqual(await titles(manager.filter({ title__icontains: '_' })), ['A_C', 'X\\%Y_'])
      assert.deepEqual(await titles(manager.filter({ title__iexact: 'a\\c' })), ['A\\C', 'a\\c'])
      assert.deepEqual(await titles(manager.filter({ title__iexact: 'abc' })), ['abc'])
      assert.deepEqual(await titles(manager.filter({ title__icontains: '\\' })), ['A\\C', 'X\\%Y_', 'a\\c', 'x\\%y'])
      assert.deepEqual(await titles(manager.filter({ title__icontains: '\\%' })), ['X\\%Y_', 'x\\%y'])
      assert.deepEqual(await titles(manager.filter({ title__iendswith: '\\%y' })), ['x\\%y'])
      assert.deepEqual(await titles(manager.filter({ title__iexact: '%' })), [])
    })

    it('answers every case-insensitive lookup as the documented folding does', async () => {
      const manager = await boxOfTexts(context())
      const needles = ['', 'a', 'A', 'PPL', 'Ä', 'ä', 'ß', 'SS', 'k', '\u212A', 'İ', 'I', 'Σ', 'ς', '%', '_', '\\', '\\%', ' ', '😀', 'E', 'É', 'abc ', 'Science News']
      for (const op of ['iexact', 'istartswith', 'iendswith', 'icontains'] as const) {
        for (const needle of needles) {
          const where = { [`title__${op}`]: needle } as { title__iexact: string }
          assert.deepEqual(await titles(manager.filter(where)), expected(op, needle), `${op} ${JSON.stringify(needle)}`)
        }
      }
    })

    it('counts, pages and gets by the case-insensitive lookups, and never matches null', async () => {
      const manager = await boxOfTexts(context())
      assert.equal(await manager.filter({ title__icontains: '' }).count(), TEXTS.length)
      assert.equal(await manager.filter({ title__iexact: 'apple' }).count(), 3)
      assert.deepEqual((await manager.filter({ title__istartswith: 'APPLE' }).orderBy('title').limit(2).offset(1).all()).map((row) => row.title), ['Apple', 'apple'])
      assert.equal((await manager.get({ title__iexact: 'PINEAPPLE PIE' })).title, 'PineApple Pie')
      assert.equal(await manager.filter({ title__iexact: 'kelvin k', title__istartswith: 'KEL' }).count(), 1)
      // As in Django, iexact with null is isnull.
      assert.deepEqual(await titles(manager.filter({ title__iexact: null })), [null])
    })

    it('runs the case-insensitive lookups across the relation, on the join table and in prefetch', async () => {
      const ctx = context()
      const [fruit, other] = await ctx.insertAll(Box, [{ name: 'fruit' }, { name: 'other' }])
      const [pie, sand, apfel] = await ctx.insertAll(Item, [{ title: 'PineApple Pie' }, { title: 'sand' }, { title: 'Äpfel' }])
      await ctx.bind(items).of(fruit!).add([pie!, apfel!])
      await ctx.bind(items).of(other!).add([sand!])
      await ctx.bind(placements).of(fruit!).add(pie!, { throughDefaults: { note: 'Fragile: 100% GLASS' } })
      await ctx.bind(placements).of(other!).add(sand!, { throughDefaults: { note: 'fragile_ish' } })
      const relation = ctx.bind(items)
      const names = async (query: { all: () => Promise<LkBoxRow[]> }): Promise<string[]> => (await query.all()).map((row) => row.name)
      assert.deepEqual(await names(relation.filter({ title__icontains: 'apple' })), ['fruit'])
      assert.deepEqual(await names(relation.filter({ title__icontains: 'apple' }).distinct()), ['fruit'])
      assert.deepEqual(await names(relation.exclude({ title__istartswith: 'S' })), ['fruit'])
      // The stored 'Äpfel': its p-f-e-l fold, its Ä does not.
      assert.deepEqual(await names(relation.filter({ title__iexact: 'ÄPFEL' })), ['fruit'])
      assert.deepEqual(await names(relation.filter({ title__iexact: 'äpfel' })), [])
      const through = ctx.bind(placements)
      assert.deepEqual(await names(through.filter({}, { through: { note__icontains: '100% glass' } })), ['fruit'])
      assert.deepEqual(await names(through.filter({}, { through: { note__istartswith: 'FRAGILE' } })), ['fruit', 'other'])
      assert.deepEqual(await names(through.filter({}, { through: { note__iendswith: '_ISH' } })), ['other'])
      assert.deepEqual(await names(through.filter({}, { through: { note__iexact: 'fragile%ish' } })), [])
      const prefetched = await relation.prefetch([fruit!, other!], { where: { title__istartswith: 'PINE' } })
      assert.deepEqual(prefetched.rows(fruit!).map((row) => row.title), ['PineApple Pie'])
      assert.deepEqual(prefetched.rows(other!), [])
    })

    itInspecting(options, 'refuses a case-insensitive lookup value that is not a string, before any statement', async () => {
      const ctx = context()
      const manager = await boxOfTexts(ctx)
      await expectUnchanged(ctx, TABLES, async () => {
        const ran = await ctx.statements(async () => {
          for (const op of ['iexact', 'istartswith', 'iendswith', 'icontains'] as const) {
            for (const bad of [5, ['a'], { a: 1 }, true, new Date(0), 'a\uD800']) {
              expectSyncError(() => manager.filter({ [`title__${op}`]: bad }), 'M2M_INVALID_LOOKUP')
            }
            if (op !== 'iexact') expectSyncError(() => manager.filter({ [`title__${op}`]: null }), 'M2M_INVALID_LOOKUP')
          }
          await expectError(() => manager.get({ title__icontains: 5 } as never), 'M2M_INVALID_LOOKUP')
        })
        assert.equal(ran, 0, 'A refused lookup reached storage.')
      })
    })

    it('matches range inclusively on numbers', async () => {
      const { manager, rows } = await boxOfRanks(context())
      assert.deepEqual(await ranks(manager.filter({ rank__range: [2, 4] })), [2, 3, 4])
      assert.deepEqual(await ranks(manager.filter({ rank__range: [3, 3] })), [3])
      assert.deepEqual(await ranks(manager.filter({ rank__range: [4, 2] })), [])
      assert.deepEqual(await ranks(manager.filter({ rank__range: [-10, 1.5] })), [1])
      assert.deepEqual(await ranks(manager.filter({ rank__range: [4.5, 2 ** 40] })), [5])
      assert.deepEqual(await ranks(manager.filter({ rank__range: [2 ** 40, 2 ** 41] })), [])
      assert.equal(await manager.filter({ rank__range: [1, 5] }).count(), 5)
      const [, second, , fourth] = rows
      assert.deepEqual(await ranks(manager.filter({ id__range: [second!.id, fourth!.id] })), [2, 3, 4])
      assert.deepEqual(await ranks(manager.filter({ pk__range: [String(second!.id), fourth!.id] })), [2, 3, 4])
      assert.deepEqual(await ranks(manager.filter({ rank__range: [1, 4], id__range: [second!.id, rows[4]!.id] })), [2, 3, 4])
    })

    it('matches range inclusively on strings, by code unit', async () => {
      const manager = await boxOfTexts(context())
      const within = (low: string, high: string): string[] => TEXTS.filter((text) => text >= low && text <= high).sort()
      assert.deepEqual(await titles(manager.filter({ title__range: ['B', 'a'] })), within('B', 'a'))
      assert.deepEqual(await titles(manager.filter({ title__range: ['apple', 'apples'] })), ['apple', 'apples'])
      assert.deepEqual(await titles(manager.filter({ title__range: ['abc', 'abc'] })), ['abc'])
      assert.deepEqual(await titles(manager.filter({ title__range: ['Ä', '😀'] })), within('Ä', '😀'))
      assert.deepEqual(await titles(manager.filter({ title__range: ['z', 'a'] })), [])
    })

    it('matches range inclusively on dates, to the millisecond', async () => {
      const { manager } = await boxOfRanks(context())
      const at = (rank: number, shift = 0): Date => new Date(START + (rank - 1) * DAY + shift)
      assert.deepEqual(await ranks(manager.filter({ at__range: [at(2), at(4)] })), [2, 3, 4])
      assert.deepEqual(await ranks(manager.filter({ at__range: [at(2, 1), at(4, -1)] })), [3])
      assert.deepEqual(await ranks(manager.filter({ at__range: [at(1, -DAY), at(1)] })), [1])
      assert.deepEqual(await ranks(manager.filter({ at__range: [at(5, 1), at(5, DAY)] })), [])
    })

    it('runs range across the relation and on the join table', async () => {
      const ctx = context()
      const [low, high] = await ctx.insertAll(Box, [{ name: 'low' }, { name: 'high' }])
      const [one, two, nine] = await ctx.insertAll(Item, [{ title: 'one', rank: 1 }, { title: 'two', rank: 2 }, { title: 'nine', rank: 9 }])
      await ctx.bind(items).of(low!).add([one!, two!])
      await ctx.bind(items).of(high!).add([nine!])
      await ctx.bind(placements).of(low!).add(one!, { throughDefaults: { note: 'b' } })
      await ctx.bind(placements).of(high!).add(nine!, { throughDefaults: { note: 'm' } })
      const names = async (query: { all: () => Promise<LkBoxRow[]> }): Promise<string[]> => (await query.all()).map((row) => row.name)
      assert.deepEqual(await names(ctx.bind(items).filter({ rank__range: [2, 10] })), ['high', 'low'])
      assert.deepEqual(await names(ctx.bind(items).exclude({ rank__range: [0, 5] })), ['high'])
      assert.deepEqual(await names(ctx.bind(placements).filter({}, { through: { note__range: ['a', 'c'] } })), ['low'])
    })

    itInspecting(options, 'refuses a range that is not a pair of values of one type, before any statement, changing nothing', async () => {
      const ctx = context()
      const { manager } = await boxOfRanks(ctx)
      // eslint-disable-next-line no-sparse-arrays
      const sparse = [, 3]
      const bad: unknown[] = [
        'x',
        3,
        null,
        undefined,
        [],
        [1],
        [1, 2, 3],
        [null, 2],
        [1, null],
        [undefined, 1],
        sparse,
        { 0: 1, 1: 2, length: 2 },
        [1, 'b'],
        [new Date(0), 5],
        ['a', new Date(0)],
        [{}, 1],
        [Number.NaN, 1],
        [1, Number.POSITIVE_INFINITY],
        [new Date(Number.NaN), new Date(0)],
        [[1], [2]],
      ]
      await expectUnchanged(ctx, TABLES, async () => {
        const ran = await ctx.statements(async () => {
          for (const value of bad) {
            expectSyncError(() => manager.filter({ rank__range: value } as never), 'M2M_INVALID_LOOKUP')
          }
          expectSyncError(() => manager.filter({ pk__range: [1, 'abc'] } as never), 'M2M_INVALID_KEY')
          expectSyncError(() => ctx.bind(items).filter({ at__range: [new Date(0)] } as never), 'M2M_INVALID_LOOKUP')
          await expectError(() => manager.get({ rank__range: 1 } as never), 'M2M_INVALID_LOOKUP')
          await expectError(() => manager.getOrCreate({ rank__range: [1] } as never), 'M2M_INVALID_LOOKUP')
        })
        assert.equal(ran, 0, 'A refused range reached storage.')
      })
    })
  })
}
