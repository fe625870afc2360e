// A linearizability check for one pair (one link that is there or not), as the concurrency
// tests need it: each process runs its calls one after another, every call took effect at one
// instant between its start and its end, and the question is whether some order of those
// instants, consistent with real time, explains every answer and the final state.
//
// The search walks the processes' sequences of calls, one call at a time, remembering the
// states it has seen (how far each process is, and whether the pair is linked): with a few
// processes and calls that overlap only with their neighbours, that stays small.

/** What one call did to the pair, as its documented semantics say. */
export type PairEffect =
  /** add, remove, set, clear, create: the pair is linked (true) or not afterwards. */
  | { readonly kind: 'write'; readonly value: boolean }
  /** toggle, which answered `result`: it flipped the pair, so it was `!result` before. */
  | { readonly kind: 'flip'; readonly result: boolean }
  /** exists: the pair was `value` at some instant of the call. */
  | { readonly kind: 'read'; readonly value: boolean }

export interface PairOp {
  /** The process that ran the call; its calls do not overlap. */
  readonly process: number
  /** Monotonic nanoseconds, shared by every process of the machine. */
  readonly start: bigint
  readonly end: bigint
  readonly effect: PairEffect
  /** For messages. */
  readonly label: string
}

/**
 * How a toggle is read. `'strict'`: it flipped the state it found, as if toggles of a pair ran
 * one after another. `'write'`: it left the pair as it answered, whatever it found (the
 * weaker guarantee of a check-then-write toggle).
 */
export type ToggleModel = 'strict' | 'write'

export interface PairHistory {
  readonly initial: boolean
  readonly final: boolean
  readonly ops: readonly PairOp[]
}

/** Whether the history of one pair is linearizable under the given reading of toggle. */
export function isLinearizable(history: PairHistory, toggles: ToggleModel): boolean {
  const chains = new Map<number, PairOp[]>()
  for (const op of history.ops) {
    const chain = chains.get(op.process) ?? []
    chain.push(op)
    chains.set(op.process, chain)
  }
  const sequences = [...chains.values()].map((chain) => chain.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0)))
  const seen = new Set<string>()
  const stack: { readonly positions: readonly number[]; readonly value: boolean }[] = [{ positions: sequences.map(() => 0), value: history.initial }]
  while (stack.length > 0) {
    const state = stack.pop()!
    const key = `${state.positions.join(',')}|${String(state.value)}`
    if (seen.has(key)) continue
    seen.add(key)
    if (state.positions.every((position, index) => position === sequences[index]!.length)) {
      if (state.value === history.final) return true
      continue
    }
    for (const [index, sequence] of sequences.entries()) {
      const op = sequence[state.positions[index]!]
      if (op === undefined) continue
      // A call that ended before this one started must come first.
      const blocked = sequences.some((other, otherIndex) => {
        if (otherIndex === index) return false
        const pending = other[state.positions[otherIndex]!]
        return pending !== undefined && pending.end < op.start
      })
      if (blocked) continue
      const value = apply(op.effect, state.value, toggles)
      if (value === undefined) continue
      const positions = [...state.positions]
      positions[index] = state.positions[index]! + 1
      stack.push({ positions, value })
    }
  }
  return false
}

function apply(effect: PairEffect, value: boolean, toggles: ToggleModel): boolean | undefined {
  switch (effect.kind) {
    case 'write':
      return effect.value
    case 'read':
      return effect.value === value ? value : undefined
    case 'flip':
      if (toggles === 'write') return effect.result
      return value === !effect.result ? effect.result : undefined
  }
}
