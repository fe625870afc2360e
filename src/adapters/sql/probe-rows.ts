import type { Key, KeyType, ProbeLinksResult, Row } from '../../adapter/relation-adapter.js'
import { readStoredKey } from '../../model/coerce-key.js'
import { compareOrd } from './compare-ord.js'

/**
 * Reads the rows of a probe's statements (one per chunk) into a {@link ProbeLinksResult}, the
 * same way for the Knex and Kysely adapters, whose SQL differs only in how it is built.
 *
 * Scope `'targets'` rows are `{ k, linked, src }`: an existing target `k`, `linked` not null when
 * it is linked from the source, and one row with `src` = 1 when the source exists. Scope `'all'`
 * rows are `{ linked, k, ord }`: `linked` = 1 for a linked key (`ord`, its link row's key, orders
 * it), 2 for the source row, 0 for an existing target.
 */
export class ProbeRows {
  readonly #keyType: KeyType
  #sourceExists = false
  readonly #existing = new Set<Key>()
  readonly #linked = new Set<Key>()
  readonly #order: { readonly key: Key; readonly ord: unknown }[] = []

  constructor(keyType: KeyType) {
    this.#keyType = keyType
  }

  /** Takes the rows of one statement of scope `'targets'`. */
  addTargetRows(rows: readonly Row[]): void {
    for (const row of rows) {
      if (Number(row.src) === 1) {
        this.#sourceExists = true
        continue
      }
      const key = readStoredKey(row.k, this.#keyType)
      this.#existing.add(key)
      if (row.linked !== null && row.linked !== undefined) this.#linked.add(key)
    }
  }

  /** Takes the rows of one statement of scope `'all'`. */
  addAllRows(rows: readonly Row[]): void {
    for (const row of rows) {
      const kind = Number(row.linked)
      if (kind === 2) {
        this.#sourceExists = true
        continue
      }
      const key = readStoredKey(row.k, this.#keyType)
      if (kind === 1) this.#order.push({ key, ord: row.ord })
      else this.#existing.add(key)
    }
  }

  /**
   * The result for the given targets. Keys are compared as the model types them: a row found
   * under another spelling ('ABC' for 'abc' on a case-insensitive collation) does not count.
   * Scope `'all'` lists linked keys in link-row order, as memory does (the order events report them in).
   */
  result(targets: readonly Key[], scope: 'targets' | 'all'): ProbeLinksResult {
    const existing = targets.filter((key) => this.#existing.has(key))
    if (scope === 'targets') return { sourceExists: this.#sourceExists, existing, linked: targets.filter((key) => this.#linked.has(key)) }
    const linked = new Set<Key>()
    for (const { key } of [...this.#order].sort((a, b) => compareOrd(a.ord, b.ord))) linked.add(key)
    return { sourceExists: this.#sourceExists, existing, linked: [...linked] }
  }
}
