import { describe, expect, it } from 'vitest'
import { TransactionContext } from '../../src/adapter/transaction-context.js'

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1))

describe('TransactionContext', () => {
  it('has no current transaction outside one', () => {
    expect(new TransactionContext<string>().current()).toBeUndefined()
  })

  it('gives a joinable transaction to the code inside it, across awaits', async () => {
    const context = new TransactionContext<string>()
    const seen = await context.run('a', true, async () => {
      await tick()
      return context.current()
    })
    expect(seen).toBe('a')
    expect(context.current()).toBeUndefined()
  })

  it('keeps no context for a transaction that is not joinable', async () => {
    const context = new TransactionContext<string>()
    expect(await context.run('a', false, () => Promise.resolve(context.current()))).toBeUndefined()
  })

  it('keeps the context of a transaction still running when another one ends first', async () => {
    const context = new TransactionContext<string>()
    let release: () => void = () => undefined
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const first = context.run('first', true, async () => {
      await held
      return context.current()
    })
    expect(await context.run('second', true, () => Promise.resolve(context.current()))).toBe('second')
    release()
    expect(await first).toBe('first')
    expect(context.current()).toBeUndefined()
  })

  it('ends its context when the work fails', async () => {
    const context = new TransactionContext<string>()
    await expect(context.run('a', true, () => Promise.reject(new Error('failed')))).rejects.toThrow('failed')
    expect(context.current()).toBeUndefined()
    expect(await context.run('b', true, () => Promise.resolve(context.current()))).toBe('b')
  })
})
