import { describe, expect, it } from 'vitest'
import {
  defineModel,
  manyToMany,
  MemoryAdapter,
  type AdapterCapabilities,
  type DeleteLinksInput,
  type InsertLinksInput,
  type RelationAdapter,
  type TransactionOptions,
} from '../../src/index.js'

interface PalRow {
  id: number
}

/**
 * A memory adapter that says, as PostgreSQL and MySQL do, that it does not run one writing
 * statement at a time, and records each write with the transaction it ran in.
 */
class RowLockingAdapter extends MemoryAdapter {
  override readonly capabilities: AdapterCapabilities = Object.freeze({ ...new MemoryAdapter().capabilities, serialStatements: false })
  readonly writes: string[] = []

  override async transaction<R>(work: (tx: RelationAdapter) => Promise<R>, options?: TransactionOptions): Promise<R> {
    const isolation = options?.isolation ?? 'default'
    return super.transaction((tx) => work(recording(tx, this.writes, `${isolation} transaction`)), options)
  }

  override async insertLinks(input: InsertLinksInput): Promise<number> {
    this.writes.push(`insert ${String(input.pairs.length)} rows in no transaction`)
    return super.insertLinks(input)
  }

  override async deleteLinks(input: DeleteLinksInput): Promise<number> {
    this.writes.push('delete in no transaction')
    return super.deleteLinks(input)
  }
}

/** `tx`, recording its writes in `writes`, each as made in `where`. */
function recording(tx: RelationAdapter, writes: string[], where: string): RelationAdapter {
  return new Proxy(tx, {
    get(target, property, receiver) {
      if (property === 'insertLinks') {
        return async (input: InsertLinksInput) => {
          writes.push(`insert ${String(input.pairs.length)} rows in ${where}`)
          return target.insertLinks(input)
        }
      }
      if (property === 'deleteLinks') {
        return async (input: DeleteLinksInput) => {
          writes.push(`delete in ${where}`)
          return target.deleteLinks(input)
        }
      }
      const value: unknown = Reflect.get(target, property, receiver)
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    },
  })
}

async function setup(adapter: MemoryAdapter) {
  const Pal = defineModel<PalRow>('IsoPal', { table: 'iso_pal' })
  const pals = manyToMany(Pal, 'self', { name: 'pals', adapter })
  const Fan = defineModel<PalRow>('IsoFan', { table: 'iso_fan' })
  const follows = manyToMany(Fan, 'self', { name: 'follows', symmetrical: false, relatedName: 'followers', adapter })
  await adapter.insertMany(pals.source, [{ id: 1 }, { id: 2 }])
  await adapter.insertMany(follows.source, [{ id: 1 }, { id: 2 }])
  return { pals, follows }
}

describe('a symmetrical link on storage that does not run one statement at a time', () => {
  it('adds both rows in a serializable transaction', async () => {
    const adapter = new RowLockingAdapter()
    const { pals } = await setup(adapter)
    await pals.of(1).add(2)
    expect(adapter.writes).toEqual(['insert 2 rows in serializable transaction'])
    expect(await pals.of(2).ids()).toEqual([1])
  })

  it('toggles both rows in a serializable transaction', async () => {
    const adapter = new RowLockingAdapter()
    const { pals } = await setup(adapter)
    expect(await pals.of(1).toggle(2)).toBe(true)
    expect(await pals.of(2).toggle(1)).toBe(false)
    expect(adapter.writes).toEqual([
      'delete in serializable transaction',
      'insert 2 rows in serializable transaction',
      'delete in serializable transaction',
    ])
  })

  it('removes both rows with one DELETE and no transaction', async () => {
    const adapter = new RowLockingAdapter()
    const { pals } = await setup(adapter)
    await pals.of(1).add(2)
    adapter.writes.length = 0
    await pals.of(2).remove(1)
    expect(adapter.writes).toEqual(['delete in no transaction'])
    expect(await pals.of(1).ids()).toEqual([])
  })

  it('writes a one-way self relation one row at a time, with no transaction', async () => {
    const adapter = new RowLockingAdapter()
    const { follows } = await setup(adapter)
    expect(await follows.of(1).toggle(2)).toBe(true)
    expect(adapter.writes).toEqual(['delete in no transaction', 'insert 1 rows in no transaction'])
  })
})

describe('a symmetrical link on storage that runs one statement at a time (SQLite, memory)', () => {
  it('adds and toggles both rows with one statement each and no transaction', async () => {
    const adapter = new RowLockingAdapter()
    Object.defineProperty(adapter, 'capabilities', { value: new MemoryAdapter().capabilities })
    const { pals } = await setup(adapter)
    expect(await pals.of(1).toggle(2)).toBe(true)
    expect(await pals.of(1).toggle(2)).toBe(false)
    expect(adapter.writes).toEqual(['delete in no transaction', 'insert 2 rows in no transaction', 'delete in no transaction'])
  })
})
