import type { RelationAdapter } from '../src/index.js'
import type { AnyRelation, RelationFixture } from './fixtures.js'

/** One interview card of the seed's list page: the interview, its fan count, and whether the current user liked it. */
export interface PageCard {
  readonly id: number
  readonly fans: number
  readonly liked: boolean
}

/**
 * What a peer-comparison scenario calls: the favourites relation (users × items; the items
 * are the seed's interviews) of one variant, through throughline or through code written by
 * hand as a careful developer would write it for the same endpoint. Keys are plain numbers.
 */
export interface PeerSubject {
  /** Statements sent so far (BEGIN, COMMIT and savepoints not counted). */
  statements(): number
  add(source: number, targets: readonly number[]): Promise<void>
  /** The seed's like button: is it liked? then remove it, or add it. Resolves to the new state. */
  likeView(source: number, target: number): Promise<boolean>
  /** One atomic toggle. Resolves to whether the pair is linked afterwards. */
  toggle(source: number, target: number): Promise<boolean>
  set(source: number, targets: readonly number[]): Promise<void>
  /** Every related row of a source; resolves to the number of rows. */
  list(source: number): Promise<number>
  count(source: number): Promise<number>
  /** The related rows of many sources in one statement; resolves to the number of rows. */
  prefetch(sources: readonly number[]): Promise<number>
  /** The related rows of many sources, one source at a time (the N+1 that prefetch avoids). */
  nPlusOne(sources: readonly number[]): Promise<number>
  /** The seed's list page: `pageSize` interviews from `offset`, each with its fan count and the user's like. */
  listPage(user: number, offset: number, pageSize: number): Promise<PageCard[]>
}

/** The interview rows of a page, as every variant reads them: plain knex or SQL, not throughline's business. */
export type PageRows = (offset: number, pageSize: number) => Promise<readonly { id: number }[]>

/** throughline's manager on an adapter, written as its documentation shows each call. */
export class ThroughlinePeer implements PeerSubject {
  readonly #relation: AnyRelation
  readonly #adapter: RelationAdapter
  readonly #pageRows: PageRows

  constructor(fixture: RelationFixture, adapter: RelationAdapter, pageRows: PageRows) {
    this.#adapter = adapter
    this.#relation = fixture.relation.using(adapter)
    this.#pageRows = pageRows
  }

  statements(): number {
    return this.#adapter.statementCount
  }

  add(source: number, targets: readonly number[]): Promise<void> {
    return this.#relation.of(source).add(targets)
  }

  async likeView(source: number, target: number): Promise<boolean> {
    // The seed's view, line by line: filter(pk=...).exists(), then remove() or add().
    const favorites = this.#relation.of(source)
    if (await favorites.filter({ pk: target }).exists()) {
      await favorites.remove(target)
      return false
    }
    await favorites.add(target)
    return true
  }

  toggle(source: number, target: number): Promise<boolean> {
    return this.#relation.of(source).toggle(target)
  }

  set(source: number, targets: readonly number[]): Promise<void> {
    return this.#relation.of(source).set(targets)
  }

  async list(source: number): Promise<number> {
    return (await this.#relation.of(source).all()).length
  }

  count(source: number): Promise<number> {
    return this.#relation.of(source).count()
  }

  async prefetch(sources: readonly number[]): Promise<number> {
    const prefetched = await this.#relation.prefetch(sources)
    let count = 0
    for (const [, rows] of prefetched.entries()) count += rows.length
    return count
  }

  async nPlusOne(sources: readonly number[]): Promise<number> {
    let count = 0
    for (const source of sources) count += (await this.#relation.of(source).all()).length
    return count
  }

  async listPage(user: number, offset: number, pageSize: number): Promise<PageCard[]> {
    const page = await this.#pageRows(offset, pageSize)
    const keys = page.map((row) => row.id)
    // As examples/favorites.ts's list page: the user's hearts in one statement (linkedAmong),
    // and every card's fan count in one more (countsOf, a GROUP BY).
    const hearts = new Set(await this.#relation.of(user).linkedAmong(keys))
    const fans = await this.#relation.reverse.countsOf(keys)
    return keys.map((id) => ({ id, fans: fans.get(id) ?? 0, liked: hearts.has(id) }))
  }
}
