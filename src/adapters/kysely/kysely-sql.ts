import { sql, type RawBuilder } from 'kysely'
import type { SqlFragment } from '../sql/sql-dialect.js'

/**
 * A Kysely `sql` template from a fragment of the shared dialect: each `??` becomes `sql.id`
 * (a dotted name, `t.title`, becomes its quoted parts), each `?` a parameter. The text between
 * them is the adapter's own SQL, never a value. `bind` turns a value into what the driver takes
 * (better-sqlite3 refuses booleans and dates).
 */
export function toRaw(part: SqlFragment, bind: (value: unknown) => unknown): RawBuilder<unknown> {
  const strings: string[] = []
  const parameters: unknown[] = []
  let last = 0
  let index = 0
  for (const match of part.sql.matchAll(/\?\??/g)) {
    strings.push(part.sql.slice(last, match.index))
    const binding = part.bindings[index++]
    parameters.push(match[0] === '??' ? sql.id(...String(binding).split('.')) : bind(binding))
    last = match.index + match[0].length
  }
  strings.push(part.sql.slice(last))
  return sql(Object.assign(strings, { raw: strings }), ...parameters)
}
