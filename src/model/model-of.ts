import type { AnyModel } from './define-model.js'

// Rows that throughline returns are remembered here with their model, so that passing an
// Article row where a Publication is expected is caught even though both are plain objects.
// A WeakMap keeps the rows themselves untouched (no hidden property shows up in JSON or
// equality checks) and lets them be garbage-collected as usual.
const models = new WeakMap<object, AnyModel>()

/** Records that `row` belongs to `model`, and returns it. */
export function tagRow<T extends object>(row: T, model: AnyModel): T {
  models.set(row, model)
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
  return models.get(row)
}
