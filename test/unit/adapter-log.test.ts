import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import knex from 'knex'
import { afterEach, describe, expect, it } from 'vitest'
import { BetterSqlite3Adapter } from '../../src/adapters/better-sqlite3/index.js'
import { createJoinTable, createTable, KnexAdapter } from '../../src/adapters/knex/index.js'
import { modelTable } from '../../src/conformance/model-table.js'
import { adapterLogger, defineModel, manyToMany, type AdapterLogEvent } from '../../src/index.js'
import { debugEnabled } from '../../src/adapter/adapter-log.js'

interface PostRow {
  id: number
  title: string
}
const Post = defineModel<PostRow>('LogPost', { table: 'log_post', columns: ['id', 'title'] })
const related = manyToMany(Post, 'self', { name: 'related', symmetrical: false })

const cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe('adapter log', () => {
  it('reads DEBUG as the debug package does: throughline, throughline*, throughline:*, *, and -throughline to turn it off', () => {
    for (const value of ['throughline', 'throughline*', 'throughline:*', '*', 'express,throughline*', 'express throughline']) expect(debugEnabled(value), value).toBe(true)
    for (const value of ['', 'express', 'through', '*,-throughline*', 'throughline*,-throughline*']) expect(debugEnabled(value), value).toBe(false)
  })

  it('is off by default and free: no logger without the option or DEBUG', () => {
    const saved = process.env.DEBUG
    try {
      delete process.env.DEBUG
      expect(adapterLogger(undefined, 'knex(sqlite)')).toBeUndefined()
      process.env.DEBUG = 'throughline*'
      expect(adapterLogger(undefined, 'knex(sqlite)')).toBeTypeOf('function')
    } finally {
      if (saved === undefined) delete process.env.DEBUG
      else process.env.DEBUG = saved
    }
  })

  it('reports every statement the Knex adapter sends, as SQL with placeholders and no values', async () => {
    const db = knex({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true })
    cleanups.push(() => db.destroy())
    await createTable(db, modelTable(Post, { title: 'string' }))
    await createJoinTable(db, related)
    await db('log_post').insert([{ title: 'secret one' }, { title: 'secret two' }])
    const events: AdapterLogEvent[] = []
    const adapter = new KnexAdapter(db, { log: (event) => events.push(event) })
    // set() reads, then inserts (add() would be the INSERT alone: SQLite enforces the foreign keys).
    await related.using(adapter).of(1).set([2])
    expect(events.map((event) => event.type)).toEqual(['statement', 'statement'])
    expect(events.length).toBe(adapter.statementCount)
    for (const event of events) {
      expect(event.adapter).toBe('knex(sqlite)')
      if (event.type === 'statement') expect(event.sql).not.toContain('secret')
    }
    expect(events[1]?.type === 'statement' && events[1].sql).toMatch(/^insert into/i)
  })

  it('reports each retry of a call that met a busy database, then the call succeeds', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'throughline-log-'))
    cleanups.push(() => { rmSync(directory, { recursive: true, force: true }); })
    const file = join(directory, 'app.db')
    const setup = knex({ client: 'better-sqlite3', connection: { filename: file }, useNullAsDefault: true })
    await createTable(setup, modelTable(Post, { title: 'string' }))
    await createJoinTable(setup, related)
    await setup('log_post').insert([{ title: 'a' }, { title: 'b' }])
    await setup.destroy()
    // Another process's connection holds the write lock for 60 ms; ours does not wait in the driver.
    const other = new Database(file)
    const ours = new Database(file, { timeout: 0 })
    cleanups.push(() => {
      other.close()
      ours.close()
    })
    other.exec('BEGIN IMMEDIATE')
    setTimeout(() => other.exec('COMMIT'), 60)
    const events: AdapterLogEvent[] = []
    const adapter = new BetterSqlite3Adapter(ours, { log: (event) => events.push(event), retry: { baseDelayMs: 10, maxDelayMs: 40 } })
    await related.using(adapter).of(1).add(2)
    const retries = events.filter((event) => event.type === 'retry')
    expect(retries.length).toBeGreaterThan(0)
    expect(retries[0]).toMatchObject({ adapter: 'better-sqlite3', attempt: 1 })
    expect(await related.using(adapter).of(1).ids()).toEqual([2])
  })
})
