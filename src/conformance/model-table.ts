import type { AnyModel } from '../model/define-model.js'
import type { ColumnKind, ColumnSchema, TableSchema } from '../schema/table-schema.js'

/** A column kind, optionally nullable: `'string'` or `{ kind: 'string', nullable: true }`. */
export type ColumnDeclaration = ColumnKind | { readonly kind: ColumnKind; readonly nullable?: boolean; readonly unique?: boolean }

/**
 * Describes the table of a fixture model: an auto-increment primary key (or a string/uuid
 * key for models with such keys) and the given columns (database names), nullable unless
 * declared otherwise.
 */
export function modelTable(model: AnyModel, columns: Readonly<Record<string, ColumnDeclaration>>): TableSchema {
  const key: ColumnSchema = {
    name: model.spec.primaryKey,
    kind: model.keyType === 'integer' ? 'increments' : model.keyType === 'bigint' ? 'bigIncrements' : model.keyType,
    nullable: false,
  }
  const unique: string[][] = []
  const rest = Object.entries(columns).map(([name, declaration]): ColumnSchema => {
    const spec = typeof declaration === 'string' ? { kind: declaration } : declaration
    if ('unique' in spec && spec.unique) unique.push([name])
    return { name, kind: spec.kind, nullable: 'nullable' in spec ? spec.nullable : true }
  })
  return { table: model.table, primaryKey: model.spec.primaryKey, columns: [key, ...rest], unique, indexes: [] }
}
