import { describe, expect, it } from 'vitest'
import { defineModel, manyToMany, MemoryAdapter, type DeleteLinksInput, type InsertLinksInput } from '../../src/index.js'

interface UserRow {
  id: number
}
interface ItemRow {
  id: number
}

/**
 * A memory adapter on which other callers act in the instant between a toggle's DELETE and
 * its INSERT: `between` runs after each deleteLinks that deleted nothing.
 */
class RacingAdapter extends MemoryAdapter {
  between: (() => Promise<void>) | undefined
  readonly calls: string[] = []

  override async deleteLinks(input: DeleteLinksInput): Promise<number> {
    const deleted = await super.deleteLinks(input)
    this.calls.push(`delete ${String(deleted)}`)
    if (deleted === 0 && this.between !== undefined) await this.between()
    return deleted
  }

  override async insertLinks(input: InsertLinksInput): Promise<number> {
    const inserted = await super.insertLinks(input)
    this.calls.push(`insert ${String(inserted)}`)
    return inserted
  }
}

async function setup(): Promise<{ adapter: RacingAdapter; favorites: ReturnType<typeof relation> }> {
  const adapter = new RacingAdapter()
  const favorites = relation(adapter)
  await adapter.insertMany(favorites.source, [{ id: 1 }])
  await adapter.insertMany(favorites.target, [{ id: 7 }])
  return { adapter, favorites }
}

function relation(adapter: MemoryAdapter) {
  const User = defineModel<UserRow>('User', { table: 'users' })
  const Item = defineModel<ItemRow>('Item', { table: 'items' })
  return manyToMany(User, Item, { name: 'favorites', adapter })
}

describe('toggle() without a read', () => {
  it('unlinks a pair another caller linked between its DELETE and its INSERT, as a toggle after theirs must', async () => {
    const { adapter, favorites } = await setup()
    let raced = false
    adapter.between = async () => {
      if (raced) return
      raced = true
      // Another caller's toggle: it links the pair first.
      adapter.between = undefined
      await favorites.of(1).toggle(7)
    }
    expect(await favorites.of(1).toggle(7)).toBe(false)
    expect(await favorites.of(1).ids()).toEqual([])
    // Ours: DELETE (nothing), theirs: DELETE, INSERT; ours: INSERT (nothing, theirs is there), DELETE.
    expect(adapter.calls).toEqual(['delete 0', 'delete 0', 'insert 1', 'insert 0', 'delete 1'])
  })

  it('links the pair when nobody races it, in a DELETE and an INSERT', async () => {
    const { adapter, favorites } = await setup()
    expect(await favorites.of(1).toggle(7)).toBe(true)
    expect(adapter.calls).toEqual(['delete 0', 'insert 1'])
    expect(await favorites.of(1).toggle(7)).toBe(false)
    expect(adapter.calls).toEqual(['delete 0', 'insert 1', 'delete 1'])
  })

  it('gives up with a storage error when others keep linking the pair between its two statements', async () => {
    const { adapter, favorites } = await setup()
    const link = { link: favorites.link, source: 1, targets: [7], mirror: false } as const
    // Before each of our DELETEs another caller unlinks the pair; after it, one links it again.
    adapter.deleteLinks = async (input) => {
      await MemoryAdapter.prototype.deleteLinks.call(adapter, link)
      const deleted = await MemoryAdapter.prototype.deleteLinks.call(adapter, input)
      await MemoryAdapter.prototype.insertLinks.call(adapter, { link: favorites.link, pairs: [[1, 7]], values: {} })
      return deleted
    }
    await expect(favorites.of(1).toggle(7)).rejects.toMatchObject({ name: 'StorageError', code: 'M2M_STORAGE' })
    expect(adapter.calls.filter((call) => call === 'insert 0')).toHaveLength(20)
  })
})
