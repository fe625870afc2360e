import type { AnyModel } from '../model/define-model.js'
import type { Relation } from '../relation/many-to-many.js'

/** The kind of a column, in portable terms that every SQL dialect can map. */
export type ColumnKind = 'increments' | 'bigIncrements' | 'integer' | 'bigint' | 'string' | 'text' | 'uuid' | 'boolean' | 'datetime'

/** One column of a {@link TableSchema}. */
export interface ColumnSchema {
  readonly name: string
  readonly kind: ColumnKind
  /** Whether NULL is allowed. */
  readonly nullable: boolean
  /** A foreign key, deleted with the row it points at (`ON DELETE CASCADE`). */
  readonly references?: { readonly table: string; readonly column: string }
  /**
   * The value the database stores when an insert leaves the column out (`DEFAULT`): a string,
   * number or boolean literal, or `{ now: true }` for the current time (`CURRENT_TIMESTAMP`).
   * A table's own defaults, such as a `created_at` that a relation does not declare.
   */
  readonly default?: ColumnDefault
}

/** A column's database default: a literal, or `{ now: true }` for the time of the insert. */
export type ColumnDefault = string | number | boolean | { readonly now: true }

/**
 * A portable description of a table: enough for a schema helper to create it on any
 * database, and for tests to create the tables they need. throughline describes join
 * tables this way (see {@link describeJoinTable}); the Knex schema helpers turn it into DDL.
 */
export interface TableSchema {
  readonly table: string
  /**
   * The primary key: one column, or several for a composite key (`['user_id', 'interview_id']`,
   * a join table without an `id`), each of which must also be in `columns`; `undefined` for a
   * table without one.
   */
  readonly primaryKey: string | readonly string[] | undefined
  readonly columns: readonly ColumnSchema[]
  /** Sets of columns that are unique together. */
  readonly unique: readonly (readonly string[])[]
  /** Sets of columns to index. */
  readonly indexes: readonly (readonly string[])[]
}

/** The columns of a table's primary key, in order: none, one, or several for a composite key. */
export function primaryKeyColumns(schema: Pick<TableSchema, 'primaryKey'>): readonly string[] {
  const { primaryKey } = schema
  if (primaryKey === undefined) return []
  return typeof primaryKey === 'string' ? [primaryKey] : primaryKey
}

/** The column kind that holds a key of `model`. */
export function keyColumnKind(model: AnyModel): ColumnKind {
  switch (model.keyType) {
    case 'integer':
      return 'integer'
    case 'bigint':
      return 'bigint'
    case 'uuid':
      return 'uuid'
    case 'string':
      return 'string'
  }
}

/**
 * Describes the join table of a relation: its primary key, the two link columns as foreign
 * keys with `ON DELETE CASCADE`, the unique pair (when the relation declares it unique), an
 * index on the target column for the reverse direction (the unique pair already indexes the
 * forward one), and the extra columns with the kinds given in `extraColumns`.
 *
 * @example
 * ```ts
 * describeJoinTable(publications)
 * // { table: 'articles_publications', primaryKey: 'id', columns: [id, article_id, publication_id], unique: [[article_id, publication_id]], ... }
 * ```
 */
export function describeJoinTable(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any relation, whatever its row types
  relation: Relation<AnyModel, AnyModel, any>,
  extraColumns: Readonly<Record<string, { readonly kind: ColumnKind; readonly nullable?: boolean }>> = {},
): TableSchema {
  const declaring = relation.isReverse ? relation.reverse : relation
  const { through } = declaring
  const source = declaring.source
  const target = declaring.target
  const columns: ColumnSchema[] = []
  if (through.primaryKey !== undefined) columns.push({ name: through.primaryKey, kind: 'increments', nullable: false })
  columns.push(
    { name: through.sourceColumn, kind: keyColumnKind(source), nullable: false, references: { table: source.table, column: source.spec.primaryKey } },
    { name: through.targetColumn, kind: keyColumnKind(target), nullable: false, references: { table: target.table, column: target.spec.primaryKey } },
  )
  for (const [name, options] of through.columns) {
    const given = extraColumns[name]
    const nullable = given?.nullable ?? options.required !== true
    const model = through.references.get(name)
    columns.push(
      model === undefined
        ? { name, kind: given?.kind ?? 'string', nullable }
        : { name, kind: keyColumnKind(model), nullable, references: { table: model.table, column: model.spec.primaryKey } },
    )
  }
  for (const name of Object.keys(extraColumns)) {
    if (!through.columns.has(name)) throw new TypeError(`describeJoinTable: "${name}" is not a column of ${through.table}.`)
  }
  return {
    table: through.table,
    primaryKey: through.primaryKey,
    columns,
    unique: through.unique ? [[through.sourceColumn, through.targetColumn]] : [],
    indexes: through.unique ? [[through.targetColumn]] : [[through.sourceColumn], [through.targetColumn]],
  }
}
