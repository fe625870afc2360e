import type { KeyType, LinkedRow, LinkSpec, Row } from '../../adapter/relation-adapter.js'
import { withoutColumn } from '../../adapter/without-column.js'
import { readStoredKey } from '../../model/coerce-key.js'

/** A join table column read beside a target row, under an alias of its own. Internal. */
export interface ThroughAlias {
  /** The join table's column. */
  readonly column: string
  /** The alias it is selected as: both tables may have an `id`, so no column keeps its name. */
  readonly alias: string
  /** The key type of a link column (read as text when 64-bit, exactly), else `undefined`. */
  readonly keyType: KeyType | undefined
}

/** The join table's columns (`link.columns`) as `selectLinkedTargets` selects them. */
export function throughAliases(link: LinkSpec): ThroughAlias[] {
  const keyTypes = new Map([
    [link.sourceColumn, link.source.keyType],
    [link.targetColumn, link.target.keyType],
  ])
  return link.columns.map((column, index) => ({ column, alias: `__throughline_l${String(index)}`, keyType: keyTypes.get(column) }))
}

/** Splits a row read with {@link throughAliases} into the target row and its link row, link keys in their key types. */
export function splitLinkedRow(stored: Row, aliases: readonly ThroughAlias[]): LinkedRow {
  let row = stored
  const through: Row = {}
  for (const { column, alias, keyType } of aliases) {
    through[column] = keyType === undefined ? row[alias] : readStoredKey(row[alias], keyType)
    row = withoutColumn(row, alias)
  }
  return { row, through }
}
