import { InvalidArgumentError } from '../errors/throughline-error.js'
import { assertModel } from './coerce-key.js'
import { formatValue, type AnyModel, type PlainRowOf, type RowOf } from './define-model.js'
import { tagRow } from './model-of.js'

/**
 * Declares that a plain row from your own query (a knex `select`, a request body) is a row of
 * `model`: the explicit route for rows of a model with a `Branded` row type, whose targets and
 * sources must be branded. It checks what can be checked (`M2M_WRONG_MODEL` for a row that
 * throughline already tagged with another model, an instance of another class than the model's
 * `class`, or a column the model does not declare), then tags the row with `model` at run time
 * too (see `modelOf`), and returns the same object, typed as the model's row.
 *
 * It cannot tell a row of another model with the same columns: that is what you assert.
 *
 * @example
 * ```ts
 * const User = defineModel<Branded<UserRow, 'User'>>('User', { table: 'users' })
 * const user = asRow(User, await db('users').where({ id }).first())
 * await favorites.of(user).add(interviewId)
 * ```
 */
export function asRow<M extends AnyModel>(model: M, row: PlainRowOf<M>): RowOf<M> {
  const value: unknown = row
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(`asRow(${model.name}, row) takes a row object; got ${formatValue(value)}.`)
  }
  assertModel(value, model)
  return tagRow(value, model) as RowOf<M>
}
