import type { RelationAdapter } from '../src/index.js'
import type { AnyRelation, RelationFixture } from './fixtures.js'

/**
 * What a scenario calls: one relation of one variant, through throughline or through
 * hand-written SQL. Keys are plain numbers, as an endpoint gets them.
 */
export interface Subject {
  /** Statements sent so far (BEGIN, COMMIT and savepoints not counted). */
  statements(): number
  add(source: number, targets: readonly number[]): Promise<void>
  /** Resolves to whether the pair is linked afterwards. */
  toggle(source: number, target: number): Promise<boolean>
  set(source: number, targets: readonly number[]): Promise<void>
  remove(source: number, targets: readonly number[]): Promise<void>
  /** Every related row (the count of rows, which is all the scenario needs). */
  list(source: number): Promise<number>
  count(source: number): Promise<number>
  /** The related rows of many sources in one statement, or `undefined` when not available. */
  readonly prefetch: ((sources: readonly number[]) => Promise<number>) | undefined
}

/** The shape of `relation.prefetch(sources)`, which the bench uses only where it exists. */
interface Prefetching {
  readonly prefetch?: (sources: readonly number[]) => Promise<unknown>
}

/** How many rows a prefetch result holds: its `entries()` are `[key, rows]` pairs. */
function countRows(result: unknown): number {
  const prefetched = result as { entries?: unknown } | null
  if (typeof prefetched?.entries !== 'function') throw new Error('relation.prefetch() resolved to something without entries().')
  let count = 0
  for (const [, rows] of (prefetched as { entries: () => Iterable<[unknown, readonly unknown[]]> }).entries()) count += rows.length
  return count
}

/** throughline's manager on an adapter. */
export class ThroughlineSubject implements Subject {
  readonly prefetch: ((sources: readonly number[]) => Promise<number>) | undefined
  readonly #relation: AnyRelation
  readonly #adapter: RelationAdapter
  readonly #options: RelationFixture['insertOptions']

  constructor(fixture: RelationFixture, adapter: RelationAdapter) {
    this.#adapter = adapter
    this.#relation = fixture.relation.using(adapter)
    this.#options = fixture.insertOptions
    // The scenario runs only where `relation.prefetch(sources)` exists (it is recent).
    const relation: Prefetching = this.#relation
    this.prefetch = typeof relation.prefetch === 'function' ? async (sources) => countRows(await relation.prefetch?.(sources)) : undefined
  }

  statements(): number {
    return this.#adapter.statementCount
  }

  add(source: number, targets: readonly number[]): Promise<void> {
    return this.#relation.of(source).add(targets, this.#options)
  }

  toggle(source: number, target: number): Promise<boolean> {
    return this.#relation.of(source).toggle(target, this.#options)
  }

  set(source: number, targets: readonly number[]): Promise<void> {
    return this.#relation.of(source).set(targets, this.#options)
  }

  remove(source: number, targets: readonly number[]): Promise<void> {
    return this.#relation.of(source).remove(targets)
  }

  async list(source: number): Promise<number> {
    return (await this.#relation.of(source).all()).length
  }

  count(source: number): Promise<number> {
    return this.#relation.of(source).count()
  }
}
