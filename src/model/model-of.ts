import type { AnyModel } from './define-model.js'

// Rows that throughline returns carry their model, so that passing an Article row where a
// Publication is expected is caught even though both are plain objects. The model is stamped
// on the row as a private field: invisible to JSON, spread, Object.keys, reflection and
// deep-equality checks, and about 20 ns a row, where a WeakMap entry costs 250–350 ns once the
// map holds many short-lived rows (measured by the benchmark's list and prefetch scenarios).
// The base class's constructor returns the row itself, so that the derived class adds its
// field to the row rather than to a new object.
// eslint-disable-next-line @typescript-eslint/no-extraneous-class -- its constructor is the whole point
class Identity {
  constructor(row: object) {
    return row
  }
}

class ModelStamp extends Identity {
  #model: AnyModel

  private constructor(row: object, model: AnyModel) {
    super(row)
    this.#model = model
  }

  /** Whether `row` carries a stamp. */
  static has(row: object): boolean {
    return #model in row
  }

  /** Stamps `row` with `model`, replacing any earlier stamp. */
  static stamp(row: object, model: AnyModel): void {
    if (#model in row) row.#model = model
    else new ModelStamp(row, model)
  }

  static read(row: object): AnyModel | undefined {
    return #model in row ? row.#model : undefined
  }
}

// Rows that cannot take a stamp (frozen before throughline saw them) are remembered here.
const frozen = new WeakMap<object, AnyModel>()

/** Records that `row` belongs to `model`, and returns it. */
export function tagRow<T extends object>(row: T, model: AnyModel): T {
  if (Object.isExtensible(row) || ModelStamp.has(row)) ModelStamp.stamp(row, model)
  else frozen.set(row, model)
  return row
}

/**
 * The model of an object that throughline returned (from `all()`, `create()`, a memory
 * store insert...), or `undefined` for objects it has not seen.
 *
 * @example
 * ```ts
 * const [pub] = await article.publications.all()
 * modelOf(pub) === Publication // true
 * ```
 */
export function modelOf(row: object): AnyModel | undefined {
  return ModelStamp.read(row) ?? frozen.get(row)
}
