import { describe, expect, it } from 'vitest'
import { defineModel, manyToMany, MemoryAdapter, type AdapterCapabilities, type Key, type SelectTargetsInput } from '../../src/index.js'

interface Row {
  id: number
}

/** A memory adapter that binds at most 100 values per statement (as Cloudflare D1), recording the keyed reads. */
class SmallBindAdapter extends MemoryAdapter {
  override readonly capabilities: AdapterCapabilities = Object.freeze({ ...new MemoryAdapter().capabilities, maxBindParameters: 100 })
  readonly reads: number[] = []

  override async selectTargetKeys(input: SelectTargetsInput): Promise<Key[]> {
    const [condition] = input.query.where
    this.reads.push(Array.isArray(condition?.value) ? condition.value.length : 1)
    return super.selectTargetKeys(input)
  }
}

describe('linkedAmong()', () => {
  it('reads a page of keys in one keyed read, and more keys than one statement binds in chunks', async () => {
    const adapter = new SmallBindAdapter()
    const User = defineModel<Row>('LaUser', { table: 'la_user' })
    const Item = defineModel<Row>('LaItem', { table: 'la_item' })
    const likes = manyToMany(User, Item, { name: 'likes', adapter })
    await adapter.insertMany(likes.source, [{ id: 1 }])
    await adapter.insertMany(likes.target, Array.from({ length: 150 }, (_, index) => ({ id: index + 1 })))
    await likes.of(1).add([3, 20, 140])
    expect(await likes.of(1).linkedAmong([20, 3, 4])).toEqual([20, 3])
    expect(adapter.reads).toEqual([3])
    // 150 keys: beyond the 18 lookup values a 100-parameter statement takes (see assertBindable).
    const keys = Array.from({ length: 150 }, (_, index) => 150 - index)
    expect(await likes.of(1).linkedAmong(keys)).toEqual([140, 20, 3])
    expect(adapter.reads).toEqual([3])
  })
})
