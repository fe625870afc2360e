import { describe, expect, it } from 'vitest'
import { asRow, defineModel, isThroughlineError, manyToMany, MemoryAdapter, modelOf, type Branded } from '../../src/index.js'

interface TagRow {
  id: number
}

const Tag = defineModel<Branded<TagRow, 'Tag'>>('Tag', { table: 'tags', columns: ['id'] })
const Label = defineModel<Branded<TagRow, 'Label'>>('Label', { table: 'labels' })

describe('asRow()', () => {
  it('tags a plain row with its model and returns the same object', () => {
    const plain = { id: 1 }
    const row = asRow(Tag, plain)
    expect(row).toBe(plain)
    expect(modelOf(row)).toBe(Tag)
    expect(Object.keys(row)).toEqual(['id'])
    expect(JSON.stringify(row)).toBe('{"id":1}')
  })

  it('refuses a row throughline tagged with another model', () => {
    const label = asRow(Label, { id: 1 })
    expect(() => asRow(Tag, label as never)).toThrow(expect.objectContaining({ code: 'M2M_WRONG_MODEL' }))
  })

  it('refuses a column the model does not declare', () => {
    expect(() => asRow(Tag, { id: 1, title: 'x' } as never)).toThrow(/column Tag does not have \("title"\)/)
  })

  it('refuses what is not a row', () => {
    expect(() => asRow(Tag, 3 as never)).toThrow(expect.objectContaining({ code: 'M2M_INVALID_ARGUMENT' }))
    expect(() => asRow(Tag, null as never)).toThrow(expect.objectContaining({ code: 'M2M_INVALID_ARGUMENT' }))
  })

  it('makes a tagged row of one model a wrong model for another, at run time too', async () => {
    const adapter = new MemoryAdapter()
    await adapter.insert(Tag, { id: 1 })
    await adapter.insert(Label, { id: 1 })
    const labels = manyToMany(Tag, Label, { name: 'labels', adapter })
    const tag = asRow(Tag, { id: 1 })
    await expect(labels.of(tag).add(tag as never)).rejects.toSatisfy((error) => isThroughlineError(error, 'M2M_WRONG_MODEL'))
    await labels.of(tag).add(asRow(Label, { id: 1 }))
    expect(await labels.of(1).ids()).toEqual([1])
  })
})

describe('isThroughlineError()', () => {
  it('narrows by code at run time as in the types', async () => {
    const adapter = new MemoryAdapter()
    const labels = manyToMany(Tag, Label, { name: 'labels', adapter })
    await adapter.insert(Tag, { id: 1 })
    const error: unknown = await labels.of(1).add([7, '8']).catch((caught: unknown) => caught)
    expect(isThroughlineError(error)).toBe(true)
    expect(isThroughlineError(error, 'M2M_INVALID_KEY')).toBe(false)
    if (!isThroughlineError(error, 'M2M_TARGET_NOT_FOUND')) throw new Error('expected M2M_TARGET_NOT_FOUND')
    expect(error.keys).toEqual([7, 8])
  })
})
