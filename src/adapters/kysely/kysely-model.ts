import type { Selectable } from 'kysely'
import { defineModel, type Model, type ModelOptions } from '../../model/define-model.js'

/**
 * The row type of table `TTable` of a Kysely database interface, as a `SELECT` returns it:
 * `Generated<number>` becomes `number`, a `ColumnType<Date, string, string>` becomes `Date`.
 */
export type KyselyRow<DB, TTable extends keyof DB> = { [K in keyof Selectable<DB[TTable]>]: Selectable<DB[TTable]>[K] }

/** Options of a {@link kyselyModel}: those of `defineModel`, with `table` required and checked against `DB`. */
export type KyselyModelOptions<DB, TTable extends keyof DB & string, TPk extends keyof KyselyRow<DB, TTable> & string> = Omit<
  ModelOptions<KyselyRow<DB, TTable>, TPk>,
  'table'
> & {
  /** The table, one of the Kysely database interface's: it gives the model its row type. */
  readonly table: TTable
}

/** The primary key a {@link kyselyModel} takes by default: `id` when the table has one. */
export type DefaultKyselyPk<DB, TTable extends keyof DB> = 'id' extends keyof KyselyRow<DB, TTable> ? 'id' : keyof KyselyRow<DB, TTable> & string

/**
 * `defineModel` for Kysely users: the model's row type is read from your Kysely database
 * interface by its table name, so no row type is written twice. Called once with `DB` (a type
 * argument cannot be inferred from nothing), then like `defineModel`, with `table` required.
 * The same as `defineModel<Selectable<DB['users']>>('User', { table: 'users' })`.
 *
 * @example
 * ```ts
 * import type { Generated } from 'kysely'
 * import { kyselyModel } from 'throughline/kysely'
 *
 * interface DB {
 *   users: { id: Generated<number>; name: string }
 *   interviews: { id: Generated<number>; title: string }
 * }
 * const model = kyselyModel<DB>()
 * const User = model('User', { table: 'users' })           // rows: { id: number; name: string }
 * const Interview = model('Interview', { table: 'interviews', ordering: ['title'] })
 * ```
 */
export function kyselyModel<DB>(): <
  TTable extends keyof DB & string,
  TName extends string,
  TPk extends keyof KyselyRow<DB, TTable> & string = DefaultKyselyPk<DB, TTable>,
>(
  name: TName,
  options: KyselyModelOptions<DB, TTable, TPk>,
) => Model<KyselyRow<DB, TTable>, TPk, TName> {
  // The row type is only a type: at run time this is defineModel, table and all.
  return (name, options) => defineModel(name, options as unknown as ModelOptions<object, never>) as never
}
