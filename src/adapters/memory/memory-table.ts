import type { Row } from '../../adapter/relation-adapter.js'

/** An undo step, recorded while a transaction is open. */
export type Undo = () => void

/**
 * One table of the memory store: rows in insertion order, a primary-key index, secondary
 * indexes built on demand for the columns that are looked up (the link columns), and the
 * unique pair indexes of join tables. Internal.
 */
export class MemoryTable {
  readonly name: string
  /** Rows by internal row id, in insertion order. */
  readonly rows = new Map<number, Row>()
  #nextRowId = 1
  #nextKey = 1
  #primaryKey: string | undefined
  #byKey = new Map<unknown, number>()
  #indexes = new Map<string, Map<unknown, Set<number>>>()
  #uniques = new Map<string, { readonly columns: readonly [string, string]; readonly index: Map<string, number> }>()

  constructor(name: string, primaryKey: string | undefined) {
    this.name = name
    this.#primaryKey = primaryKey
  }

  get primaryKey(): string | undefined {
    return this.#primaryKey
  }

  /** Declares the primary key of a table first seen without one. */
  setPrimaryKey(primaryKey: string | undefined): void {
    if (this.#primaryKey !== undefined || primaryKey === undefined) return
    this.#primaryKey = primaryKey
    for (const [id, row] of this.rows) this.#byKey.set(row[primaryKey], id)
  }

  /** The next generated key (like a sequence, it is not rolled back). */
  takeKey(): number {
    return this.#nextKey++
  }

  rowIdOfKey(key: unknown): number | undefined {
    return this.#byKey.get(key)
  }

  hasKey(key: unknown): boolean {
    return this.#byKey.has(key)
  }

  /** Row ids whose `column` equals `value`, through an index built on first use. */
  idsWhere(column: string, value: unknown): ReadonlySet<number> {
    let index = this.#indexes.get(column)
    if (index === undefined) {
      index = new Map()
      for (const [id, row] of this.rows) addTo(index, row[column], id)
      this.#indexes.set(column, index)
    }
    return index.get(value) ?? EMPTY
  }

  /** Declares a unique pair of columns; the pairs already stored must be unique. */
  ensureUnique(columns: readonly [string, string]): void {
    const name = columns.join('\u0000')
    if (this.#uniques.has(name)) return
    const index = new Map<string, number>()
    for (const [id, row] of this.rows) index.set(pairKey(row[columns[0]], row[columns[1]]), id)
    this.#uniques.set(name, { columns, index })
  }

  /** The row id holding the pair in a unique index, if any. */
  findPair(columns: readonly [string, string], first: unknown, second: unknown): number | undefined {
    return this.#uniques.get(columns.join('\u0000'))?.index.get(pairKey(first, second))
  }

  /** Inserts a row and returns its undo step. The caller has checked the constraints. */
  insert(row: Row): { readonly id: number; readonly undo: Undo } {
    const id = this.#nextRowId++
    this.#attach(id, row)
    const primaryKey = this.#primaryKey
    if (primaryKey !== undefined) {
      const key = row[primaryKey]
      if (typeof key === 'number' && key >= this.#nextKey) this.#nextKey = Math.floor(key) + 1
    }
    return { id, undo: () => { this.#detach(id); } }
  }

  /** Deletes a row and returns its undo step. */
  delete(id: number): Undo {
    const row = this.rows.get(id)
    if (row === undefined) return noop
    this.#detach(id)
    return () => { this.#attach(id, row); }
  }

  /** Replaces a row's values and returns the undo step. */
  update(id: number, values: Row): Undo {
    const before = this.rows.get(id)
    if (before === undefined) return noop
    const after = { ...before, ...values }
    this.#detach(id)
    this.#attach(id, after)
    return () => {
      this.#detach(id)
      this.#attach(id, before)
    }
  }

  #attach(id: number, row: Row): void {
    // Re-inserting under the same id keeps a restored row in its original position only
    // when it was the last; order among rows is by row id, so sort keys stay stable.
    this.rows.set(id, row)
    if (this.#primaryKey !== undefined) this.#byKey.set(row[this.#primaryKey], id)
    for (const [column, index] of this.#indexes) addTo(index, row[column], id)
    for (const { columns, index } of this.#uniques.values()) index.set(pairKey(row[columns[0]], row[columns[1]]), id)
  }

  #detach(id: number): void {
    const row = this.rows.get(id)
    if (row === undefined) return
    this.rows.delete(id)
    if (this.#primaryKey !== undefined) this.#byKey.delete(row[this.#primaryKey])
    for (const [column, index] of this.#indexes) {
      const ids = index.get(row[column])
      ids?.delete(id)
      if (ids?.size === 0) index.delete(row[column])
    }
    for (const { columns, index } of this.#uniques.values()) {
      const key = pairKey(row[columns[0]], row[columns[1]])
      if (index.get(key) === id) index.delete(key)
    }
  }
}

const EMPTY: ReadonlySet<number> = new Set()

function noop(): void {
  // Nothing to undo.
}

function addTo(index: Map<unknown, Set<number>>, value: unknown, id: number): void {
  let ids = index.get(value)
  if (ids === undefined) {
    ids = new Set()
    index.set(value, ids)
  }
  ids.add(id)
}

function pairKey(first: unknown, second: unknown): string {
  return `${typeof first}:${String(first)}\u0000${typeof second}:${String(second)}`
}
