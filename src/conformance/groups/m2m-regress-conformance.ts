import assert from 'node:assert/strict'
import type { ConformanceOptions } from '../conformance-options.js'
import { itInspecting, useContext } from '../conformance-context.js'
import { expectError, expectSyncError, expectUnchanged, names } from '../fixtures/assertions.js'
import {
  collectionTags,
  Entry,
  entryRelated,
  Line,
  Post,
  primaryLines,
  references,
  regressSchema,
  RegressTag,
  secondaryLines,
  SelfRefer,
  selfRelated,
  TagCollection,
  topics,
  Worksheet,
  worksheetLines,
} from '../fixtures/regress.js'

// Django's tests/m2m_regress.
//
// Not ported, and why:
// - test_m2m_inheritance_symmetry: multi-table inheritance (a child's parent pointer) has no
//   counterpart; throughline models are plain tables.
// - test_manager_class_caching: about Python's manager classes; of() builds a cheap manager
//   on every call and there is no class to cache.
// - test_m2m_abstract_split, test_m2m_related_to_self_m2m_and_assigning, and the other
//   definition-only tests: about model definitions and system checks, not the manager.

/**
 * Django's tests/m2m_regress: several relations between the same models stay distinct,
 * string primary keys, and a failed set() keeps the links.
 */
export function m2mRegressConformance(options: ConformanceOptions): void {
  const { describe, it } = options.test
  describe(`${options.name}: regressions (Django m2m_regress)`, () => {
    const context = useContext(options, regressSchema)

    it('keeps two self relations and two relations to the same model distinct', async () => {
      // test_multiple_m2m
      const ctx = context()
      const [s1, s2, s3] = await ctx.insertAll(SelfRefer, [{ name: 's1' }, { name: 's2' }, { name: 's3' }])
      assert.ok(s1 !== undefined && s2 !== undefined && s3 !== undefined)
      await ctx.bind(references).of(s1).add(s2)
      await ctx.bind(selfRelated).of(s1).add(s3)

      const e1 = await ctx.insert(Entry, { name: 'e1' })
      const t1 = await ctx.insert(RegressTag, { name: 't1' })
      const t2 = await ctx.insert(RegressTag, { name: 't2' })
      await ctx.bind(topics).of(e1).add(t1)
      await ctx.bind(entryRelated).of(e1).add(t2)

      assert.deepEqual(names(await ctx.bind(references).of(s1).all()), ['s2'])
      assert.deepEqual(names(await ctx.bind(selfRelated).of(s1).all()), ['s3'])
      assert.deepEqual(names(await ctx.bind(topics).of(e1).all()), ['t1'])
      assert.deepEqual(names(await ctx.bind(entryRelated).of(e1).all()), ['t2'])

      // Both self relations are symmetrical, each on its own.
      assert.deepEqual(names(await ctx.bind(references).of(s2).all()), ['s1'])
      assert.deepEqual(names(await ctx.bind(selfRelated).of(s2).all()), [])
      assert.deepEqual(names(await ctx.bind(selfRelated).of(s3).all()), ['s1'])
      assert.deepEqual(names(await ctx.bind(references).of(s3).all()), [])

      // The two reverse sides to Tag: entry_set for topics, similar for related.
      assert.equal(ctx.bind(topics).reverse.name, 'entry_set')
      assert.equal(ctx.bind(entryRelated).reverse.name, 'similar')
      assert.deepEqual(names(await ctx.bind(topics).reverse.of(t1).all()), ['e1'])
      assert.deepEqual(names(await ctx.bind(topics).reverse.of(t2).all()), [])
      assert.deepEqual(names(await ctx.bind(entryRelated).reverse.of(t2).all()), ['e1'])
      assert.deepEqual(names(await ctx.bind(entryRelated).reverse.of(t1).all()), [])
    })

    it('names only the model columns when a filter names an unknown one', async () => {
      // test_internal_related_name_not_in_error_msg: the relation names are not columns.
      const ctx = context()
      const s1 = await ctx.insert(SelfRefer, { name: 's1' })
      const manager = ctx.bind(references).of(s1)
      expectSyncError(() => manager.filter({ porcupine: 's2' } as never), 'M2M_UNKNOWN_COLUMN', 'id, name')
      expectSyncError(() => manager.filter({ references: 1 } as never), 'M2M_UNKNOWN_COLUMN')
      expectSyncError(() => manager.filter({ related: 1 } as never), 'M2M_UNKNOWN_COLUMN')
    })

    it('links models with a string primary key from both sides', async () => {
      // test_m2m_pk_field_type: the key does not have to be an auto-increment integer.
      const ctx = context()
      const abc = await ctx.insert(Worksheet, { id: 'abc' })
      const ten = await ctx.insert(Worksheet, { id: '10' })
      const [l1, l2] = await ctx.insertAll(Line, [{ name: 'l1' }, { name: 'l2' }])
      assert.ok(l1 !== undefined && l2 !== undefined)

      await ctx.bind(worksheetLines).of(abc).add([l1, l2])
      await ctx.bind(worksheetLines).of('10').add(l2)
      assert.deepEqual(names(await ctx.bind(worksheetLines).of('abc').all()), ['l1', 'l2'])
      assert.deepEqual(names(await ctx.bind(worksheetLines).of(ten).all()), ['l2'])

      const reverse = ctx.bind(worksheetLines).reverse
      assert.equal(reverse.name, 'worksheet_set')
      // String keys come back as strings, in key order ("10" before "abc").
      assert.deepEqual(await reverse.of(l2).ids(), ['10', 'abc'])
      assert.deepEqual(await reverse.of(l1).ids(), ['abc'])

      await reverse.of(l2).remove('abc')
      assert.deepEqual(await reverse.of(l2).ids(), ['10'])
      await reverse.of(l1).set(['10'])
      assert.deepEqual(await reverse.of(l1).ids(), ['10'])
      assert.deepEqual(await ctx.bind(worksheetLines).of(abc).all(), [])
      await expectError(() => reverse.of(l1).add('missing'), 'M2M_TARGET_NOT_FOUND')
    })

    it('sets tags on a collection of the same model family and reads them back', async () => {
      // test_add_m2m_with_base_class
      const ctx = context()
      const t1 = await ctx.insert(RegressTag, { name: 't1' })
      const t2 = await ctx.insert(RegressTag, { name: 't2' })
      const c1 = await ctx.insert(TagCollection, { name: 'c1' })
      await ctx.bind(collectionTags).of(c1).set([t1, t2])
      assert.deepEqual(names(await ctx.bind(collectionTags).of(c1).all()), ['t1', 't2'])
      assert.equal(ctx.bind(collectionTags).reverse.name, 'tag_collections')
      assert.deepEqual(names(await ctx.bind(collectionTags).reverse.of(t1).all()), ['c1'])
    })

    itInspecting(options, 'keeps the existing links when set() is given something that is not a list', async () => {
      // test_assigning_invalid_data_to_m2m_doesnt_clear_existing_relations
      const ctx = context()
      const t1 = await ctx.insert(RegressTag, { name: 't1' })
      const t2 = await ctx.insert(RegressTag, { name: 't2' })
      const c1 = await ctx.insert(TagCollection, { name: 'c1' })
      const manager = ctx.bind(collectionTags).of(c1)
      await manager.set([t1, t2])
      await expectUnchanged(ctx, [collectionTags.through.table], async () => {
        await expectError(() => manager.set(7 as never), 'M2M_INVALID_ARGUMENT')
        await expectError(() => manager.set(null as never), 'M2M_INVALID_ARGUMENT')
      })
      assert.deepEqual(names(await manager.all()), ['t1', 't2'])
    })

    it('copies links to a copy of an entry', async () => {
      // test_create_copy_with_m2m
      const ctx = context()
      const t1 = await ctx.insert(RegressTag, { name: 't1' })
      const entry = await ctx.insert(Entry, { name: 'e1' })
      await ctx.bind(topics).of(entry).set([t1])
      const oldTopics = await ctx.bind(topics).of(entry).all()
      const copy = await ctx.insert(Entry, { name: entry.name })
      await ctx.bind(topics).of(copy).set(oldTopics)
      assert.deepEqual(names(await ctx.bind(topics).of(copy).all()), ['t1'])
      assert.deepEqual(names(await ctx.bind(topics).reverse.of(t1).all()), ['e1', 'e1'])
    })

    it('keeps two forward-only relations to the same model apart', async () => {
      // test_multiple_forwards_only_m2m
      const ctx = context()
      const foo = await ctx.insert(Line, { name: 'foo' })
      const bar = await ctx.insert(Line, { name: 'bar' })
      const post = await ctx.insert(Post, { title: 'post' })
      await ctx.bind(primaryLines).of(post).add(foo)
      await ctx.bind(secondaryLines).of(post).add(bar)
      assert.deepEqual(names(await ctx.bind(primaryLines).of(post).all()), ['foo'])
      assert.deepEqual(names(await ctx.bind(secondaryLines).of(post).all()), ['bar'])
      expectSyncError(() => primaryLines.reverse, 'M2M_REVERSE_HIDDEN')
      expectSyncError(() => secondaryLines.reverse, 'M2M_REVERSE_HIDDEN')
    })
  })
}
