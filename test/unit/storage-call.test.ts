import { describe, expect, it } from 'vitest'
import { InvalidArgumentError, MemoryAdapter, type RelationAdapter } from '../../src/index.js'
import { storageCall } from '../../src/manager/storage-call.js'

const adapter: RelationAdapter = new MemoryAdapter()

describe('storageCall', () => {
  it('resolves to what the adapter resolved to', async () => {
    expect(await storageCall(adapter, () => Promise.resolve(3))).toBe(3)
  })

  it('resolves a plain value, as an adapter written in JavaScript may return one', async () => {
    expect(await storageCall(adapter, (() => 3) as unknown as () => Promise<number>)).toBe(3)
  })

  it('turns a driver error into a StorageError with the error as its cause, rejected or thrown', async () => {
    const driver = new Error('disk I/O error')
    for (const run of [() => Promise.reject(driver), () => { throw driver }]) {
      const error: unknown = await storageCall(adapter, run).catch((caught: unknown) => caught)
      expect(error).toMatchObject({ name: 'StorageError', code: 'M2M_STORAGE', cause: driver })
    }
  })

  it("leaves throughline's own errors as they are", async () => {
    const own = new InvalidArgumentError('bad input')
    await expect(storageCall(adapter, () => Promise.reject(own))).rejects.toBe(own)
  })
})
