/**
 * A small seeded pseudo-random generator (mulberry32), so that every run, every variant and
 * every database toggles the same pairs in the same order.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let mixed = state
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1)
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61)
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** `count` pairs `[source, target]` drawn from `sources` × `targets`, reproducibly. */
export function togglePairs(seed: number, sources: readonly number[], targets: readonly number[], count: number): [number, number][] {
  const random = seededRandom(seed)
  return Array.from({ length: count }, () => [sources[Math.floor(random() * sources.length)]!, targets[Math.floor(random() * targets.length)]!])
}
