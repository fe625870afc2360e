import { describe, expect, it } from 'vitest'
import { DEFAULT_RETRY_POLICY, retryConflicts, retryDelay, retryPolicy, type RetryEvent } from '../../src/index.js'
import { KnexAdapter } from '../../src/adapters/knex/index.js'
import knex from 'knex'

const conflict = Object.assign(new Error('could not serialize access'), { code: '40001' })
const isConflict = (error: unknown): boolean => (error as { code?: unknown }).code === '40001'

describe('retry policy', () => {
  it('fills what is not given from the defaults, and refuses values that are not whole numbers of 0 or more', () => {
    expect(retryPolicy()).toEqual(DEFAULT_RETRY_POLICY)
    expect(retryPolicy({ retries: 3 })).toEqual({ ...DEFAULT_RETRY_POLICY, retries: 3 })
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '3']) {
      expect(() => retryPolicy({ retries: bad as number })).toThrow(expect.objectContaining({ code: 'M2M_INVALID_ARGUMENT' }) as Error)
    }
    expect(() => retryPolicy(null as unknown as object)).toThrow(expect.objectContaining({ code: 'M2M_INVALID_ARGUMENT' }) as Error)
  })

  it('waits a random time under a ceiling that doubles from baseDelayMs up to maxDelayMs', () => {
    const policy = retryPolicy({ baseDelayMs: 4, maxDelayMs: 20 })
    const ceilings = [4, 8, 16, 20, 20]
    for (const [index, ceiling] of ceilings.entries()) {
      for (let sample = 0; sample < 200; sample++) {
        const delay = retryDelay(policy, index + 1)
        expect(delay).toBeGreaterThanOrEqual(0)
        expect(delay).toBeLessThan(ceiling)
      }
    }
  })

  it('runs a conflicting call again until it succeeds, reporting each retry', async () => {
    const events: RetryEvent[] = []
    let attempts = 0
    const result = await retryConflicts(
      retryPolicy({ retries: 5, baseDelayMs: 1, maxDelayMs: 1 }),
      isConflict,
      () => (++attempts < 4 ? Promise.reject(conflict) : Promise.resolve('done')),
      (event) => events.push(event),
    )
    expect(result).toBe('done')
    expect(attempts).toBe(4)
    expect(events.map((event) => event.attempt)).toEqual([1, 2, 3])
  })

  it('finds the conflict among the causes of the error', async () => {
    let attempts = 0
    const wrapped = new Error('storage failed', { cause: conflict })
    await retryConflicts(retryPolicy({ retries: 2, baseDelayMs: 0 }), isConflict, () => (++attempts < 2 ? Promise.reject(wrapped) : Promise.resolve()))
    expect(attempts).toBe(2)
  })

  it('gives up after the retries with the last error, and never runs other errors again', async () => {
    let attempts = 0
    await expect(retryConflicts(retryPolicy({ retries: 2, baseDelayMs: 0 }), isConflict, () => (attempts++, Promise.reject(conflict)))).rejects.toBe(conflict)
    expect(attempts).toBe(3)
    attempts = 0
    const other = new Error('syntax error')
    await expect(retryConflicts(retryPolicy({ retries: 5 }), isConflict, () => (attempts++, Promise.reject(other)))).rejects.toBe(other)
    expect(attempts).toBe(1)
  })

  it('is an option of the Knex adapter, checked when the adapter is made', async () => {
    const db = knex({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true })
    try {
      expect(() => new KnexAdapter(db, { retry: { retries: 50, maxDelayMs: 1000 } })).not.toThrow()
      expect(() => new KnexAdapter(db, { retry: { retries: -1 } })).toThrow(expect.objectContaining({ code: 'M2M_INVALID_ARGUMENT' }) as Error)
    } finally {
      await db.destroy()
    }
  })
})
