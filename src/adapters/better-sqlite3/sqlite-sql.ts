import type { Condition, CountLinksInput, Key, KeyType, LinkConditions, LinkSpec, OrderTerm, SourceQuery, TableSpec, TargetQuery } from '../../adapter/relation-adapter.js'
import { keysJson } from '../sqlite/keys-json.js'
import { ordersByKeyAlone, ordersKeyByLink } from '../sql/key-order.js'
import { limitLiteral } from '../sql/limit-literal.js'
import type { ThroughAlias } from '../sql/linked-row.js'
import type { SqliteValue } from './sqlite-database.js'

/** A statement's text and its parameters, in order. Internal. */
export interface SqlText {
  readonly sql: string
  readonly parameters: SqliteValue[]
}

// Aliases of the tables in the statements that join them; a self relation joins a table to
// its own join table, so the aliases keep them apart: the targets, the links, the sources.
const T = 't'
const L = 'l'
const S = 's'

/** The alias a 64-bit key is read under, as text, beside a row's own columns. */
export const KEY_TEXT = '__throughline_key'

/** The alias of the source key beside each prefetched target row. */
export const SOURCE_KEY = '__throughline_source'

/** The alias of a prefetched row's rank among its source's rows (a prefetch with a limit). */
export const RANK = '__throughline_rank'

/** Quotes an identifier for SQLite: always quoted, inner quotes doubled. */
export function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/**
 * A value as better-sqlite3 binds it, converted as knex's better-sqlite3 client converts it,
 * so that both adapters store the same thing: a `Date` as its milliseconds, a boolean as 1 or 0.
 */
export function bindValue(value: unknown): SqliteValue {
  if (value === undefined) return null
  if (typeof value === 'boolean') return value ? 1 : 0
  if (value instanceof Date) return value.getTime()
  return value as SqliteValue
}

/** `column IN (keys of the JSON parameter)`. */
export function inJson(column: string): string {
  return `${column} IN (SELECT value FROM json_each(?))`
}

/** A key column as selected: as text for 64-bit keys, so that it reads back exactly. */
export function keyColumn(column: string, keyType: KeyType): string {
  return keyType === 'bigint' ? `CAST(${column} AS TEXT)` : column
}

const RANGE = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const

function placeholders(count: number): string {
  return count === 1 ? '?' : `?${', ?'.repeat(count - 1)}`
}

/** The columns compared as the database types them (uuid keys: coerceKey has lower-cased them). */
type UuidColumns = ReadonlySet<string>

/** The uuid key column of a model's table, if its key is a uuid. */
export function uuidColumns(spec: TableSpec): UuidColumns {
  return spec.keyType === 'uuid' ? new Set([spec.primaryKey]) : new Set()
}

/** The uuid link columns of a join table. */
function linkUuidColumns(link: LinkSpec): UuidColumns {
  const columns = new Set<string>()
  if (link.source.keyType === 'uuid') columns.add(link.sourceColumn)
  if (link.target.keyType === 'uuid') columns.add(link.targetColumn)
  return columns
}

/**
 * One `filter()` condition on a column of the table aliased `alias`, as the Knex adapter
 * writes it for SQLite: strings compared with `COLLATE BINARY` (by code unit, case-sensitively,
 * whatever the column's collation), and the substring lookups with `instr`/`substr`, where `%`
 * and `_` are plain characters; the case-insensitive ones on `lower()` of the column.
 */
function condition(alias: string, uuid: UuidColumns, { column, op, value }: Condition, parameters: SqliteValue[]): string {
  const name = `${alias}.${quote(column)}`
  const plainStrings = uuid.has(column)
  switch (op) {
    case 'isnull':
      return value === true ? `${name} IS NULL` : `${name} IS NOT NULL`
    case 'exact':
      parameters.push(bindValue(value))
      return typeof value === 'string' && !plainStrings ? `${name} COLLATE BINARY = ?` : `${name} = ?`
    case 'in': {
      const items = value as readonly unknown[]
      const strings = plainStrings ? [] : items.filter((item) => typeof item === 'string')
      const others = plainStrings ? items : items.filter((item) => typeof item !== 'string')
      const terms: string[] = []
      if (others.length > 0) {
        terms.push(`${name} IN (${placeholders(others.length)})`)
        for (const item of others) parameters.push(bindValue(item))
      }
      if (strings.length > 0) {
        terms.push(`${name} COLLATE BINARY IN (${placeholders(strings.length)})`)
        for (const item of strings) parameters.push(item)
      }
      return terms.length === 1 ? terms[0]! : `(${terms.join(' OR ')})`
    }
    case 'startswith':
      // The first occurrence is at the start exactly when the value is a prefix.
      parameters.push(value as string)
      return `instr(${name}, ?) = 1`
    case 'contains':
      parameters.push(value as string)
      return `instr(${name}, ?) > 0`
    case 'endswith':
      // The last length(value) characters; an empty value gives '' = ''.
      parameters.push(value as string, value as string)
      return `substr(${name}, length(${name}) - length(?) + 1) = ?`
    // The value arrives folded (foldCase); SQLite's lower() folds ASCII letters only, alike.
    case 'iexact':
      parameters.push(value as string)
      return `lower(${name}) COLLATE BINARY = ?`
    case 'istartswith':
      parameters.push(value as string)
      return `instr(lower(${name}), ?) = 1`
    case 'icontains':
      parameters.push(value as string)
      return `instr(lower(${name}), ?) > 0`
    case 'iendswith':
      parameters.push(value as string, value as string)
      return `substr(lower(${name}), length(${name}) - length(?) + 1) = ?`
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      parameters.push(bindValue(value))
      return typeof value === 'string' ? `${name} COLLATE BINARY ${RANGE[op]} ?` : `${name} ${RANGE[op]} ?`
  }
}

/** The conditions on one table, each as ` AND …`. */
function conditions(alias: string, uuid: UuidColumns, terms: readonly Condition[], parameters: SqliteValue[]): string {
  let sql = ''
  for (const term of terms) sql += ` AND ${condition(alias, uuid, term, parameters)}`
  return sql
}

/**
 * The `exclude()` groups on one table, each as ` AND NOT (…)`: every condition but `isnull` also
 * requires its column not null (as Django's exclude() on nullable columns), so that a null
 * column fails it rather than make the NOT unknown and drop the row.
 */
function excluded(alias: string, uuid: UuidColumns, groups: readonly (readonly Condition[])[], parameters: SqliteValue[]): string {
  let sql = ''
  for (const group of groups) {
    const terms = group.map((term) => {
      const sqlTerm = condition(alias, uuid, term, parameters)
      return term.op === 'isnull' ? sqlTerm : `(${sqlTerm} AND ${alias}.${quote(term.column)} IS NOT NULL)`
    })
    sql += ` AND NOT (${terms.join(' AND ')})`
  }
  return sql
}

function orderBy(alias: string, terms: readonly OrderTerm[], link?: LinkSpec): string {
  // SQLite sorts NULLs first ascending and last descending, as the memory adapter does. A
  // through term (`through__created_at`) orders by the join table's column, aliased L; in a
  // target read (`link` given), a numeric key by the join table's copy of it (see ordersKeyByLink).
  const byLink = link !== undefined && ordersKeyByLink(link, 'sqlite')
  const term = ({ column, direction, through }: OrderTerm): string => {
    const qualified = through === true ? `${L}.${quote(column)}` : byLink && column === link.target.primaryKey ? `${L}.${quote(link.targetColumn)}` : `${alias}.${quote(column)}`
    return `${qualified} COLLATE BINARY ${direction.toUpperCase()}`
  }
  return terms.length === 0 ? '' : ` ORDER BY ${terms.map(term).join(', ')}`
}

function page(limit: number | undefined, offset: number | undefined, parameters: SqliteValue[]): string {
  const skip = offset !== undefined && offset > 0 ? offset : undefined
  if (limit === undefined && skip === undefined) return ''
  // The limit in the text, the offset bound: see limitLiteral.
  const limited = ` LIMIT ${limitLiteral(limit ?? -1)}`
  if (skip === undefined) return limited
  parameters.push(skip)
  return `${limited} OFFSET ?`
}

/** What a read selects: the rows, their keys, or how many there are. */
export type Selection = 'rows' | 'keys' | 'count'

/** The select list of a read of a model's table aliased `alias`. */
function columnsOf(alias: string, spec: TableSpec, selection: Selection): string {
  const pk = `${alias}.${quote(spec.primaryKey)}`
  if (selection === 'count') return 'COUNT(*)'
  if (selection === 'keys') return keyColumn(pk, spec.keyType)
  return spec.keyType === 'bigint' ? `${alias}.*, CAST(${pk} AS TEXT) AS ${KEY_TEXT}` : `${alias}.*`
}

/** The target table joined to the join table, as `FROM … JOIN … ON …`. */
function linkedTargets(link: LinkSpec): string {
  return `FROM ${quote(link.target.table)} AS ${T} JOIN ${quote(link.table)} AS ${L} ON ${L}.${quote(link.targetColumn)} = ${T}.${quote(link.target.primaryKey)}`
}

/**
 * The read of the targets linked from one source: one `SELECT` joining the target table to
 * the join table, with the query's conditions, order and page. `count` ignores order and page.
 * `through` adds join table columns to the select list, each under its alias.
 */
export function targetsSql(link: LinkSpec, source: Key, query: TargetQuery, selection: Selection, through: readonly ThroughAlias[] = []): SqlText {
  const parameters: SqliteValue[] = [source]
  const extra = through.map(({ column, alias, keyType }) => `, ${keyColumn(`${L}.${quote(column)}`, keyType ?? 'integer')} AS ${quote(alias)}`).join('')
  let sql = `SELECT ${columnsOf(T, link.target, selection)}${extra} ${linkedTargets(link)} WHERE ${L}.${quote(link.sourceColumn)} = ?`
  sql += conditions(T, uuidColumns(link.target), query.where, parameters)
  sql += excluded(T, uuidColumns(link.target), query.exclude, parameters)
  if (selection === 'count') return { sql, parameters }
  return { sql: sql + orderBy(T, query.orderBy, link) + page(query.limit, query.offset, parameters), parameters }
}

/**
 * The targets of many sources in one `SELECT`, each row with its source key (as text for
 * 64-bit keys) under {@link SOURCE_KEY}; the sources travel as one JSON parameter.
 */
export function prefetchSql(link: LinkSpec, sources: readonly Key[], query: TargetQuery): SqlText {
  const one = sources.length === 1
  const parameters: SqliteValue[] = [one ? sources[0]! : keysJson(sources, link.source.keyType)]
  const sourceColumn = `${L}.${quote(link.sourceColumn)}`
  // With a limit, the first `limit` rows of each source, still one statement: numbered per
  // source in the query's order by a window function (SQLite 3.25), the number dropped by the adapter.
  const { limit } = query
  const rank = limit === undefined ? '' : `, ROW_NUMBER() OVER (PARTITION BY ${sourceColumn}${orderBy(T, query.orderBy, link)}) AS ${RANK}`
  let sql =
    `SELECT ${columnsOf(T, link.target, 'rows')}, ${keyColumn(sourceColumn, link.source.keyType)} AS ${SOURCE_KEY}${rank} ${linkedTargets(link)} ` +
    `WHERE ${one ? `${sourceColumn} = ?` : inJson(sourceColumn)}`
  sql += conditions(T, uuidColumns(link.target), query.where, parameters)
  if (limit === undefined) {
    // By source, then the key, where that is the order asked for: the join table's index order.
    const order = ordersByKeyAlone(link, query.orderBy, 'sqlite')
      ? ` ORDER BY ${sourceColumn}, ${L}.${quote(link.targetColumn)} ${query.orderBy[0]?.direction === 'desc' ? 'DESC' : 'ASC'}`
      : orderBy(T, query.orderBy, link)
    return { sql: sql + order, parameters }
  }
  parameters.push(limit)
  return { sql: `SELECT * FROM (${sql}) AS ranked WHERE ranked.${RANK} <= ? ORDER BY ranked.${RANK}`, parameters }
}

/**
 * How many links of each source meet the conditions, in one `SELECT … GROUP BY` (the sources
 * as one JSON parameter): the source key (as text for 64-bit keys) under {@link SOURCE_KEY}
 * and the count under `count`.
 */
export function countLinksSql({ link, sources, related, through, distinct }: CountLinksInput): SqlText {
  const one = sources.length === 1
  const parameters: SqliteValue[] = [one ? sources[0]! : keysJson(sources, link.source.keyType)]
  const sourceColumn = `${L}.${quote(link.sourceColumn)}`
  // COUNT(DISTINCT target) for Django's Count(distinct=True): a pair stored twice counts once.
  const count = distinct ? `COUNT(DISTINCT ${L}.${quote(link.targetColumn)})` : 'COUNT(*)'
  let sql = `SELECT ${keyColumn(sourceColumn, link.source.keyType)} AS ${SOURCE_KEY}, ${count} AS count ${linkedTargets(link)} WHERE ${one ? `${sourceColumn} = ?` : inJson(sourceColumn)}`
  sql += conditions(L, linkUuidColumns(link), through, parameters) + conditions(T, uuidColumns(link.target), related, parameters)
  return { sql: `${sql} GROUP BY ${sourceColumn}`, parameters }
}

/**
 * {@link countLinksSql} with no condition on the target rows, on the join table alone, for a
 * join table whose rows all have their target rows (the adapter's integrity check, confirmed
 * after the count: `#guardHeld`): one row per source, its links counted on the join table's
 * index. Per source (a subquery per key of `json_each`) rather than `GROUP BY`, which SQLite
 * runs as a scan of the keys' index entries and a sort.
 */
export function aloneCountLinksSql({ link, sources, through, distinct }: CountLinksInput): SqlText {
  const parameters: SqliteValue[] = []
  const target = `${L}.${quote(link.targetColumn)}`
  // COUNT(*): the check holds only for a NOT NULL target column (sqliteCountGuard).
  const count = distinct ? `COUNT(DISTINCT ${target})` : 'COUNT(*)'
  const alone = `(SELECT ${count} FROM ${quote(link.table)} AS ${L} WHERE ${L}.${quote(link.sourceColumn)} = k.value${conditions(L, linkUuidColumns(link), through, parameters)})`
  parameters.push(keysJson(sources, link.source.keyType))
  return { sql: `SELECT ${keyColumn('k.value', link.source.keyType)} AS ${SOURCE_KEY}, ${alone} AS count FROM json_each(?) AS k`, parameters }
}

/**
 * The rows of the link's source table selected by what they are linked to: joined (one row per
 * matching link; a LEFT JOIN when rows with no link match too) or with `EXISTS` / `NOT EXISTS`
 * (each row once), as the Knex adapter writes it.
 */
export function sourcesSql(link: LinkSpec, query: SourceQuery, selection: Selection): SqlText {
  const { source, target } = link
  const parameters: SqliteValue[] = []
  const linked = ({ related, through }: LinkConditions): string =>
    conditions(L, linkUuidColumns(link), through, parameters) + conditions(T, uuidColumns(target), related, parameters)
  const ofSource = `${L}.${quote(link.sourceColumn)} = ${S}.${quote(source.primaryKey)}`
  const joinTarget = `JOIN ${quote(target.table)} AS ${T} ON ${T}.${quote(target.primaryKey)} = ${L}.${quote(link.targetColumn)}`
  let sql = `SELECT ${columnsOf(S, source, selection)} FROM ${quote(source.table)} AS ${S}`
  const [first] = query.links
  if (query.mode === 'join' && first !== undefined) {
    if (!first.unlinked) sql += ` JOIN ${quote(link.table)} AS ${L} ON ${ofSource} ${joinTarget} WHERE true${linked(first)}`
    else {
      // A row with no link row comes once, with nulls for L; a link to a missing row never matches.
      sql += ` LEFT JOIN ${quote(link.table)} AS ${L} ON ${ofSource} LEFT ${joinTarget}`
      sql += ` WHERE (${L}.${quote(link.sourceColumn)} IS NULL OR (${T}.${quote(target.primaryKey)} IS NOT NULL${linked(first)}))`
    }
  } else {
    const exists = (entry: LinkConditions): string => `EXISTS (SELECT 1 FROM ${quote(link.table)} AS ${L} ${joinTarget} WHERE ${ofSource}${linked(entry)})`
    if (query.links.length === 1 && first !== undefined && !first.unlinked) {
      // The common read, one entry met by a link, keeps its plain EXISTS / NOT EXISTS.
      sql += ` WHERE ${query.mode === 'exists' ? '' : 'NOT '}${exists(first)}`
    } else {
      const noLink = `NOT EXISTS (SELECT 1 FROM ${quote(link.table)} AS ${L} WHERE ${ofSource})`
      const met = query.links.map((entry) => (entry.unlinked ? `(${exists(entry)} OR ${noLink})` : exists(entry))).join(' AND ')
      sql += ` WHERE ${query.mode === 'exists' ? '' : 'NOT '}(${met})`
    }
  }
  sql += conditions(S, uuidColumns(source), query.where, parameters)
  if (selection === 'count') return { sql, parameters }
  return { sql: sql + orderBy(S, query.orderBy) + page(query.limit, query.offset, parameters), parameters }
}
