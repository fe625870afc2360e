import Database from 'better-sqlite3'
import type { Knex } from 'knex'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isThroughlineError, type RelationAdapter } from '../../src/index.js'
import { BetterSqlite3Adapter } from '../../src/adapters/better-sqlite3/index.js'
import { KnexAdapter } from '../../src/adapters/knex/index.js'
import { isSqliteBusy } from '../../src/adapters/sqlite/sqlite-busy.js'
import { reliabilityFixture } from '../../src/conformance/fixtures/reliability.js'
import { recreateTables } from '../reliability/helpers/databases.js'
import { connectToSqliteFile, newSqliteFilePlace, openSqliteFile, removeSqliteFilePlace, type SqliteFileAdapter, type SqliteFilePlace } from '../reliability/helpers/sqlite-file.js'

// Another connection on the same SQLite file holds the write lock, as another process of a
// Node cluster would. Every connection here has a busy timeout of 0, so that each busy answer
// comes at once and the adapters' own retries are what the tests see.

const fx = reliabilityFixture('tl_busy_')

describe('isSqliteBusy', () => {
  it('takes every busy answer of SQLite as one to run the transaction again for', () => {
    for (const code of ['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY', 'SQLITE_BUSY_TIMEOUT', 'SQLITE_LOCKED_SHAREDCACHE', 'SQLITE_PROTOCOL']) {
      expect(isSqliteBusy({ code }), code).toBe(true)
    }
    // SQLITE_BUSY_TIMEOUT (773), which better-sqlite3 12 has no name for.
    expect(isSqliteBusy({ code: 'UNKNOWN_SQLITE_ERROR_773' })).toBe(true)
  })

  it('leaves every other error alone, a conflict within one connection (SQLITE_LOCKED) included', () => {
    for (const code of ['SQLITE_LOCKED', 'SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_ERROR', 'SQLITE_IOERR', 'UNKNOWN_SQLITE_ERROR_1043', '40001', 5]) {
      expect(isSqliteBusy({ code }), String(code)).toBe(false)
    }
    expect(isSqliteBusy(new Error('database is locked'))).toBe(false)
    expect(isSqliteBusy(null)).toBe(false)
    expect(isSqliteBusy('SQLITE_BUSY')).toBe(false)
  })
})

describe.each<SqliteFileAdapter>(['knex', 'better-sqlite3'])('%s on a file whose write lock another connection holds', (kind) => {
  let place: SqliteFilePlace
  let db: Knex
  let other: Database.Database
  let own: Database.Database | undefined
  /** Every statement the adapter's connection ran (or tried to), from the start of the test. */
  let log: string[]

  /** An adapter on its own connection to the file (the Knex one shares the test's pool of one). */
  function adapter(options: { readonly retries?: number } = {}): RelationAdapter {
    const retry = options.retries === undefined ? {} : { retry: { retries: options.retries } }
    if (kind === 'knex') return new KnexAdapter(db, retry)
    own ??= new Database(place.file, { timeout: 0, verbose: (sql) => log.push(String(sql)) })
    return new BetterSqlite3Adapter(own, retry)
  }

  /** How many statements of the log match `pattern`. */
  function ran(pattern: RegExp): number {
    return log.filter((sql) => pattern.test(sql)).length
  }

  /** Holds the write lock, as another process's transaction would, and lets go after `ms`. */
  function holdLock(ms: number): void {
    other.exec('BEGIN IMMEDIATE')
    setTimeout(() => other.exec('COMMIT'), ms)
  }

  beforeEach(async () => {
    place = newSqliteFilePlace('busy', 0)
    db = connectToSqliteFile(place)
    await recreateTables(db, fx.schema)
    await db(fx.Member.table).insert([{ name: 'ann' }, { name: 'bob' }])
    await db(fx.Club.table).insert([{ title: 'chess' }, { title: 'choir' }])
    other = openSqliteFile(place)
    own = undefined
    log = []
    db.on('query', (query: { sql: string }) => log.push(query.sql))
  })

  afterEach(async () => {
    if (other.inTransaction) other.exec('ROLLBACK')
    other.close()
    own?.close()
    await db.destroy()
    removeSqliteFilePlace(place)
  })

  it('runs a call again, in a new transaction, until the other connection lets go', async () => {
    const clubs = fx.clubs.using(adapter())
    holdLock(60)
    // set() reads then writes in a transaction of its own (add() may be one INSERT: see below).
    await clubs.of(1).set([1, 2])
    expect(await clubs.of(1).ids()).toEqual([1, 2])
    expect(ran(/^BEGIN/)).toBeGreaterThan(1)
  })

  it(kind === 'knex' ? 'begins its transactions as knex does (BEGIN)' : 'begins its transactions with BEGIN IMMEDIATE: a transaction of its own never upgrades a read', async () => {
    await fx.clubs.using(adapter()).of(1).set([1])
    expect(log.filter((sql) => sql.startsWith('BEGIN'))).toEqual([kind === 'knex' ? 'BEGIN;' : 'BEGIN IMMEDIATE'])
  })

  it(
    kind === 'knex'
      ? 'runs a call again when another connection wrote between its read and its write (SQLITE_BUSY_SNAPSHOT)'
      : 'holds the write lock from BEGIN: no other connection writes between its read and its write',
    async () => {
      const clubs = fx.clubs.using(adapter())
      const answers: string[] = []
      // Inside the call's transaction, after its read and before its write.
      const off = fx.clubs.on('pre_add', () => {
        if (answers.length > 0) return
        try {
          other.prepare(`INSERT INTO ${fx.Club.table} (title) VALUES ('go')`).run()
          answers.push('written')
        } catch (error) {
          answers.push(String((error as { code?: unknown }).code))
        }
      })
      try {
        await clubs.of(1).add(2)
      } finally {
        off()
      }
      expect(answers).toEqual([kind === 'knex' ? 'written' : 'SQLITE_BUSY'])
      expect(ran(/^BEGIN/)).toBe(kind === 'knex' ? 2 : 1)
      expect(await clubs.of(1).ids()).toEqual([2])
    },
  )

  it('runs a statement sent without a transaction again (toggle, remove and add without listeners)', async () => {
    const clubs = fx.clubs.using(adapter())
    holdLock(60)
    expect(await clubs.of(1).toggle(2)).toBe(true)
    expect(ran(/^(BEGIN|SAVEPOINT)/)).toBe(0)
    expect(ran(/^delete/i)).toBeGreaterThan(1)
    holdLock(60)
    await clubs.of(1).remove(2)
    expect(await clubs.of(1).ids()).toEqual([])
    // add() is one INSERT here: SQLite enforces the join table's foreign keys.
    const inserts = ran(/^insert/i)
    holdLock(60)
    await clubs.of(1).add([1, 2])
    expect(ran(/^(BEGIN|SAVEPOINT)/)).toBe(0)
    expect(ran(/^insert/i) - inserts).toBeGreaterThan(1)
    expect(await clubs.of(1).ids()).toEqual([1, 2])
  })

  it('runs a symmetrical add again whole: both rows or neither', async () => {
    const friends = fx.friends.using(adapter())
    holdLock(60)
    await friends.of(1).add(2)
    expect(await friends.of(1).ids()).toEqual([2])
    expect(await friends.of(2).ids()).toEqual([1])
  })

  it('fails with M2M_CONFLICT, the busy error as cause, when its retry policy allows no retry', async () => {
    const used = adapter({ retries: 0 })
    const clubs = fx.clubs.using(used)
    holdLock(60_000)
    const error: unknown = await clubs.of(1).set([1]).catch((caught: unknown) => caught)
    expect(isThroughlineError(error) && error.code).toBe('M2M_CONFLICT')
    expect(((error as Error).cause as { code?: unknown }).code).toMatch(/^SQLITE_BUSY/)
    expect(ran(/^BEGIN/)).toBe(1)
  })

  it('does not run a call again inside a transaction of the caller, which only the caller can run again: M2M_CONFLICT tells the caller to', async () => {
    holdLock(60_000)
    if (kind === 'knex') {
      await db.transaction(async (trx) => {
        const error: unknown = await fx.clubs.using(new KnexAdapter(trx)).of(1).add(1).catch((caught: unknown) => caught)
        expect(isThroughlineError(error) && error.code).toBe('M2M_CONFLICT')
      })
    } else {
      const used = adapter()
      own!.exec('BEGIN')
      const error: unknown = await fx.clubs.using(used).of(1).add(1).catch((caught: unknown) => caught)
      expect(isThroughlineError(error) && error.code).toBe('M2M_CONFLICT')
      own!.exec('ROLLBACK')
    }
    // One savepoint: the call ran once.
    expect(ran(/^SAVEPOINT/)).toBe(1)
  })
})
