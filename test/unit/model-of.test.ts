import { describe, expect, it } from 'vitest'
import { defineModel, modelOf } from '../../src/index.js'
import { tagRow } from '../../src/model/model-of.js'

describe('modelOf()', () => {
  const Publication = defineModel('Publication')
  const Article = defineModel('Article')

  it('knows the model of a tagged row, and nothing of others', () => {
    const row = tagRow({ id: 1 }, Publication)
    expect(modelOf(row)).toBe(Publication)
    expect(modelOf({ id: 1 })).toBeUndefined()
  })

  it('leaves no trace in the row itself', () => {
    const row = tagRow({ id: 1, title: 'x' }, Publication)
    expect(Object.keys(row)).toEqual(['id', 'title'])
    expect(JSON.stringify(row)).toBe('{"id":1,"title":"x"}')
    expect({ ...row }).toEqual({ id: 1, title: 'x' })
    expect(modelOf({ ...row })).toBeUndefined()
  })

  it('tags frozen rows too', () => {
    const row = tagRow(Object.freeze({ id: 2 }), Publication)
    expect(modelOf(row)).toBe(Publication)
  })

  it('takes the latest model when a row is tagged again', () => {
    const row = tagRow({ id: 3 }, Publication)
    tagRow(row, Article)
    expect(modelOf(row)).toBe(Article)
    tagRow(row, Publication)
    expect(modelOf(row)).toBe(Publication)
    const ice = tagRow(Object.freeze({ id: 4 }), Publication)
    tagRow(ice, Article)
    expect(modelOf(ice)).toBe(Article)
  })
})
