import type { Key, KeyType, LinkSpec } from '../../adapter/relation-adapter.js'
import { keysJson, pairsJson } from '../sqlite/keys-json.js'
import { sqliteCountGuard, sqliteEnforcedGuard, sqliteForeignKeysQuery, sqliteIntegrityQuery } from '../sqlite/foreign-keys-enforced.js'
import { pgCountGuard, pgEnforcedGuard, pgForeignKeysQuery } from './pg-foreign-keys.js'
import { isSqliteBusy } from '../sqlite/sqlite-busy.js'

/**
 * The most keys one statement's list carries even where the list is one parameter (SQLite's
 * `json_each(?)`, PostgreSQL's `= ANY(?)`): a call of 100 000 keys stays one statement, and a call
 * of a million is ten, each parameter a few megabytes rather than one giant statement (the
 * conformance suite bounds the heap a million-key call may take).
 */
export const MAX_KEYS_PER_LIST = 100_000

/** The databases the SQL adapters (Knex, Kysely) support. */
export type SqlDialectName = 'sqlite' | 'pg' | 'mysql'

/**
 * A piece of SQL: identifiers as `??`, values as `?`, never inline. The Knex adapter hands it
 * to `whereRaw`/`orderByRaw` as it is; the Kysely adapter turns each `??` into `sql.id` and
 * each `?` into a parameter.
 */
export interface SqlFragment {
  readonly sql: string
  readonly bindings: unknown[]
}

/** A comparison on a string value. */
export type StringComparison = '=' | '<' | '<=' | '>' | '>='

/** A substring lookup. */
export type TextMatch = 'startswith' | 'endswith' | 'contains'

/** A case-insensitive lookup, whose value arrives folded (`foldCase`: ASCII letters only). */
export type FoldedMatch = 'iexact' | 'istartswith' | 'iendswith' | 'icontains'

/**
 * What differs between databases, in one place: limits, the ignore-duplicates insert, and the
 * expressions that make comparisons and ordering match the memory adapter (strings compared by
 * code unit, case-sensitively, with `%` and `_` meaning themselves; NULLs first in ascending
 * order). Columns are passed qualified (`t.title`) and always bound as identifiers. Shared by the
 * Knex and Kysely adapters, which build the same statements. Internal.
 */
export interface SqlDialect {
  readonly name: SqlDialectName
  /** The most bind parameters one statement may carry. */
  readonly maxBindParameters: number
  /**
   * The most bytes of inlined values one statement may carry, where the driver sends values
   * inside the SQL text (mysql2 and mysql do) and the server caps a statement's size.
   */
  readonly maxStatementBytes: number
  /** Whether `INSERT ... RETURNING` exists. */
  readonly returning: boolean
  /**
   * The INSERT of every pair as one statement that inserts only the pairs whose source and
   * target rows exist (`INSERT … SELECT … WHERE EXISTS`), skipping the others as it skips
   * existing pairs: a join table without foreign keys then never gets a link to a missing row,
   * even from a call that did not read first. `undefined` where the dialect has none (MySQL:
   * multi-row `VALUES`, after the manager's read).
   */
  insertPairs?(link: LinkSpec, pairs: readonly (readonly [Key, Key])[], extra: Readonly<Record<string, unknown>>, enforced?: string): SqlFragment
  /**
   * The catalog read behind `RelationAdapter.foreignKeysEnforced`: a `SELECT` whose one row
   * {@link SqlDialect.enforcedGuard} reads; `undefined` where the dialect cannot tell.
   */
  foreignKeysQuery?(link: LinkSpec): SqlFragment
  /**
   * From the row of {@link SqlDialect.foreignKeysQuery}: `false` when the database does not
   * refuse a join-table row whose source or target row is missing, else a boolean expression
   * (no parameters) that still holds while that stays so. Given to
   * {@link SqlDialect.insertPairs} as `enforced`, it skips the EXISTS checks when it holds, so
   * that the foreign keys refuse a missing row (an error, nothing written) instead.
   */
  enforcedGuard?(row: Readonly<Record<string, unknown>> | undefined): string | false
  /**
   * From the row of {@link SqlDialect.integrityQuery} when the dialect has one, else of
   * {@link SqlDialect.foreignKeysQuery}: `false`, or a boolean expression (no parameters) that
   * holds while every link row has its target row, so that a count of links with no condition
   * on the target may count the join table alone. PostgreSQL reads it from the catalog (a
   * validated constraint); SQLite never checks rows written while its pragma was off, on any
   * connection, so it checks the rows themselves first.
   */
  countGuard?(row: Readonly<Record<string, unknown>> | undefined): string | false
  /**
   * Where the catalog cannot vouch for the rows (SQLite): a `SELECT` checking that every link
   * row has its rows, whose one row {@link SqlDialect.countGuard} reads. Run after
   * {@link SqlDialect.foreignKeysQuery} said the foreign keys are enforced, and again now and
   * then with the `previous` row (see `ForeignKeyFactsCache.countGuard`). Its guard holds
   * outside transactions only.
   */
  integrityQuery?(link: LinkSpec, previous?: Readonly<Record<string, unknown>>): SqlFragment
  /**
   * Whether the driver's count of an {@link SqlDialect.insertPairs} statement is the number of
   * rows it inserted, leaving out the pairs it skipped.
   */
  readonly countsInserts: boolean
  /** Whether the database runs one writing statement at a time (`AdapterCapabilities.serialStatements`). */
  readonly serialStatements: boolean
  /** `column <op> value` for a string value, by code unit and case-sensitively. */
  compareString(column: string, op: StringComparison, value: string): SqlFragment
  /** `column IN (values)` for string values, by code unit and case-sensitively. */
  inStrings(column: string, values: readonly string[]): SqlFragment
  /** `startswith` / `endswith` / `contains`, case-sensitive and literal (no wildcards). */
  textMatch(column: string, op: TextMatch, value: string): SqlFragment
  /**
   * `iexact` / `istartswith` / `iendswith` / `icontains`: the column folded as `foldCase` folds
   * (`A`-`Z` to `a`-`z`, whatever the collation or locale), then compared with the already
   * folded value as `compareString` and `textMatch` compare: by code unit, literally.
   */
  foldedMatch(column: string, op: FoldedMatch, folded: string): SqlFragment
  /** One ORDER BY term: strings by code unit, NULLs first ascending and last descending. */
  orderTerm(column: string, direction: 'asc' | 'desc'): SqlFragment
  /**
   * The ORDER BY term of a primary key, whose type the model declares and which is never
   * NULL: the plain column for numbers and uuids (which an index can serve), by code unit for strings.
   */
  keyOrderTerm(column: string, direction: 'asc' | 'desc', keyType: KeyType): SqlFragment
  /**
   * How many bind parameters one key takes in a key condition: 2 where a string key needs an
   * exact (binary) comparison beside the indexable one.
   */
  bindsPerKey(keyType: KeyType): number
  /** `column IN (keys)` (or `=` for one key), exact for string keys. */
  keysIn(column: string, keys: readonly unknown[], keyType: KeyType): SqlFragment
  /**
   * Whether {@link SqlDialect.keysIn} sends a list of any length as one parameter (SQLite's
   * `json_each(?)`, PostgreSQL's `= ANY(?)`): a key list then needs no chunks under the bind
   * limit, only under {@link MAX_KEYS_PER_LIST}.
   */
  readonly keyListInOneParameter: boolean
  /**
   * The SQL type a 64-bit key is read as, exactly: better-sqlite3 and mysql2 return BIGINT
   * values as JavaScript numbers, which lose precision past 2^53 (snowflake-style keys).
   */
  readonly keyTextType: string
  /** Whether a driver error is a constraint violation (unique, not null, foreign key, check). */
  isConstraintViolation(error: unknown): boolean
  /** Whether a driver error aborted the transaction for a conflict with another one (a deadlock, a serialization failure): running it again may succeed. */
  isConflict(error: unknown): boolean
  /**
   * The placeholder for a non-string value compared with a column: `?`, or on PostgreSQL a
   * cast that keeps a number beyond the column's range from failing the statement.
   */
  valuePlaceholder(value: unknown): string
}

// The array type each key type is sent as: integers as bigint, so that a key beyond an
// integer column's 32 bits matches no row instead of failing the statement.
const PG_ARRAY_TYPES: Readonly<Record<KeyType, string>> = { integer: 'bigint[]', bigint: 'bigint[]', string: 'text[]', uuid: 'uuid[]' }

/** Where {@link pairsInsert} reads its pairs: a row source, and the expressions of each side in it. */
interface PairsSource {
  readonly from: string
  readonly fromBindings: unknown[]
  readonly source: string
  readonly target: string
  /**
   * The position of each pair in the list: rows are inserted in the order given (ids numbered
   * alike, and index locks taken alike by concurrent calls), which a semi-join for the EXISTS
   * could otherwise change.
   */
  readonly order: string
  /**
   * Leave out, before inserting, the pairs already linked (PostgreSQL): `ON CONFLICT DO
   * NOTHING` alone would still draw the id column's `nextval()` for each of them, so that a
   * re-add or an unchanged `set()` of N keys used up N ids of a serial column every time.
   */
  readonly skipLinked?: boolean
}

/** `AND NOT EXISTS` the link of the pair, for {@link PairsSource.skipLinked}. */
function notLinked(link: LinkSpec, source: string, target: string): SqlFragment {
  return { sql: ` AND NOT EXISTS (SELECT 1 FROM ?? AS lx WHERE ?? = ${source} AND ?? = ${target})`, bindings: [link.table, `lx.${link.sourceColumn}`, `lx.${link.targetColumn}`] }
}

/**
 * `INSERT INTO link (source, target, extra…) SELECT … FROM <pairs> WHERE EXISTS (source row)
 * AND EXISTS (target row)`, ignoring existing pairs on a unique link. The WHERE clause also
 * keeps SQLite from reading `ON CONFLICT` as a join constraint.
 */
function pairsInsert(link: LinkSpec, extra: Readonly<Record<string, unknown>>, pairs: PairsSource, enforced?: string): SqlFragment {
  const extraColumns = Object.keys(extra)
  const columns = placeholders(extraColumns.length + 2, '??')
  const values = extraColumns.map(() => ', ?').join('')
  const conflict = link.unique ? ' ON CONFLICT (??, ??) DO NOTHING' : ''
  const skip = pairs.skipLinked === true && link.unique ? notLinked(link, pairs.source, pairs.target) : { sql: '', bindings: [] }
  return {
    sql:
      `INSERT INTO ?? (${columns}) SELECT ${pairs.source}, ${pairs.target}${values} FROM ${pairs.from} ` +
      // With `enforced` (evaluated once: it reads no row), the foreign keys check the rows
      // instead, and a missing one fails the statement rather than being skipped.
      `WHERE (${enforced === undefined ? '' : `${enforced} OR `}(EXISTS (SELECT 1 FROM ?? AS ts WHERE ?? = ${pairs.source}) AND EXISTS (SELECT 1 FROM ?? AS tt WHERE ?? = ${pairs.target})))${skip.sql} ` +
      `ORDER BY ${pairs.order}${conflict}`,
    bindings: [
      link.table,
      link.sourceColumn,
      link.targetColumn,
      ...extraColumns,
      ...extraColumns.map((column) => extra[column]),
      ...pairs.fromBindings,
      link.source.table,
      `ts.${link.source.primaryKey}`,
      link.target.table,
      `tt.${link.target.primaryKey}`,
      ...skip.bindings,
      ...(link.unique ? [link.sourceColumn, link.targetColumn] : []),
    ],
  }
}

// The type a key is bound as on PostgreSQL: integers as bigint, so that a key beyond an integer
// column's 32 bits matches no row instead of failing the statement (as the dialect's arrays).
const PG_KEY_TYPES: Readonly<Record<KeyType, string>> = { integer: 'bigint', bigint: 'bigint', string: 'text', uuid: 'uuid' }

/**
 * The INSERT of one pair on PostgreSQL (a toggle, an add of one target): a SELECT from the
 * source and target tables on the two keys, so that, as the dialect's `unnest … WHERE EXISTS`
 * form, nothing is inserted when either row is missing and a duplicate is skipped. PostgreSQL
 * plans and runs it in far less server time than the unnest form (its array function,
 * ordinality sort and two semi-joins: an insert and a delete of one pair took 335–340 µs of
 * server CPU, 200–220 µs with this one), which made throughline's toggles slower than
 * hand-written ones that also send BEGIN and COMMIT (bench: "through + extra columns: toggles").
 * The Knex, Kysely and Drizzle adapters all send it.
 */
function pgOnePairInsert(link: LinkSpec, [source, target]: readonly [Key, Key], extra: Readonly<Record<string, unknown>>, enforced?: string): SqlFragment {
  const extraColumns = Object.keys(extra)
  const columns = ['??', '??', ...extraColumns.map(() => '??')].join(', ')
  const values = extraColumns.map(() => ', ?').join('')
  const conflict = link.unique ? ' ON CONFLICT (??, ??) DO NOTHING' : ''
  const sourceType = PG_KEY_TYPES[link.source.keyType]
  const targetType = PG_KEY_TYPES[link.target.keyType]
  // The keys are inserted as given (bound twice), as the unnest form inserts them.
  const insert = `INSERT INTO ?? (${columns}) SELECT ?::${sourceType}, ?::${targetType}${values}`
  const head = [link.table, link.sourceColumn, link.targetColumn, ...extraColumns, source, target, ...extraColumns.map((column) => extra[column])]
  const tail = link.unique ? [link.sourceColumn, link.targetColumn] : []
  // A linked pair is left out before the INSERT (see PairsSource.skipLinked: no nextval() drawn).
  const skip = link.unique ? notLinked(link, `?::${sourceType}`, `?::${targetType}`) : { sql: '', bindings: [] }
  const skipBindings = link.unique ? [skip.bindings[0], skip.bindings[1], source, skip.bindings[2], target] : []
  if (enforced !== undefined) {
    // Trusting the foreign keys (while `enforced` holds): the pair as given, no join.
    return {
      sql: `${insert} WHERE (${enforced} OR (EXISTS (SELECT 1 FROM ?? AS ts WHERE ?? = ?::${sourceType}) AND EXISTS (SELECT 1 FROM ?? AS tt WHERE ?? = ?::${targetType})))${skip.sql}${conflict}`,
      bindings: [...head, link.source.table, `ts.${link.source.primaryKey}`, source, link.target.table, `tt.${link.target.primaryKey}`, target, ...skipBindings, ...tail],
    }
  }
  return {
    sql: `${insert} FROM ?? AS ts, ?? AS tt WHERE ?? = ?::${sourceType} AND ?? = ?::${targetType}${skip.sql}${conflict}`,
    bindings: [...head, link.source.table, link.target.table, `ts.${link.source.primaryKey}`, source, `tt.${link.target.primaryKey}`, target, ...skipBindings, ...tail],
  }
}

function plainPlaceholder(): string {
  return '?'
}

function placeholders(count: number, placeholder = '?'): string {
  // repeat() rather than an array join: this runs for every chunk of up to 65 535 keys.
  return count <= 0 ? '' : `${placeholder}${`, ${placeholder}`.repeat(count - 1)}`
}

export function errorField(error: unknown, field: string): unknown {
  return typeof error === 'object' && error !== null ? (error as Record<string, unknown>)[field] : undefined
}

/** Whether a bound key fits a 32-bit integer column. */
function isInt32(key: unknown): boolean {
  return typeof key === 'number' && key >= -2_147_483_648 && key <= 2_147_483_647
}

function plainKeysIn(column: string, keys: readonly unknown[], placeholder = '?'): SqlFragment {
  return keys.length === 1
    ? { sql: `?? = ${placeholder}`, bindings: [column, keys[0]!] }
    : { sql: `?? IN (${placeholders(keys.length, placeholder)})`, bindings: [column, ...keys] }
}

/**
 * SQLite: the default BINARY collation already compares by code unit (for the BMP), NULLs
 * sort first ascending, and RETURNING exists (3.35+). `COLLATE BINARY` is still spelled
 * out so that a column declared `COLLATE NOCASE` compares as memory does. LIKE is
 * case-insensitive for ASCII in SQLite, so substring lookups use `instr`/`substr` instead.
 */
export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  // SQLite's own limit is 32 766 parameters since 3.32 (better-sqlite3 bundles a newer one);
  // stay below it with room to spare for the fixed parameters of a statement.
  maxBindParameters: 30_000,
  maxStatementBytes: Number.POSITIVE_INFINITY,
  returning: true,
  // The pairs travel as one JSON parameter, as BetterSqlite3Adapter sends them: no chunks, and
  // no 500-term compound SELECT.
  insertPairs(link, pairs, extra, enforced) {
    const first = "json_extract(v.value, '$[0]')"
    const second = "json_extract(v.value, '$[1]')"
    return pairsInsert(
      link,
      extra,
      {
        from: `json_each(?) AS v`,
        fromBindings: [pairsJson(pairs, link.source.keyType, link.target.keyType)],
        source: first,
        target: second,
        order: 'v.key',
      },
      enforced,
    )
  },
  foreignKeysQuery: sqliteForeignKeysQuery,
  enforcedGuard: sqliteEnforcedGuard,
  integrityQuery: sqliteIntegrityQuery,
  countGuard: sqliteCountGuard,
  // better-sqlite3's `changes` leaves out the rows ON CONFLICT skipped and those the EXISTS filtered.
  countsInserts: true,
  // One writer at a time per database file, whatever the connections and processes.
  serialStatements: true,
  compareString: (column, op, value) => ({ sql: `?? COLLATE BINARY ${op} ?`, bindings: [column, value] }),
  inStrings: (column, values) => ({ sql: `?? COLLATE BINARY IN (${placeholders(values.length)})`, bindings: [column, ...values] }),
  textMatch(column, op, value) {
    switch (op) {
      case 'startswith':
        // The first occurrence is at the start exactly when the value is a prefix.
        return { sql: 'instr(??, ?) = 1', bindings: [column, value] }
      case 'contains':
        return { sql: 'instr(??, ?) > 0', bindings: [column, value] }
      case 'endswith':
        // The last length(value) characters; an empty value gives '' = ''.
        return { sql: 'substr(??, length(??) - length(?) + 1) = ?', bindings: [column, column, value, value] }
    }
  },
  // SQLite's own lower() folds ASCII letters only (unless an ICU build replaces it), as foldCase does.
  foldedMatch(column, op, folded) {
    switch (op) {
      case 'iexact':
        return { sql: 'lower(??) COLLATE BINARY = ?', bindings: [column, folded] }
      case 'istartswith':
        return { sql: 'instr(lower(??), ?) = 1', bindings: [column, folded] }
      case 'icontains':
        return { sql: 'instr(lower(??), ?) > 0', bindings: [column, folded] }
      case 'iendswith':
        // Folding keeps the length: the column's own length() still counts.
        return { sql: 'substr(lower(??), length(??) - length(?) + 1) = ?', bindings: [column, column, folded, folded] }
    }
  },
  orderTerm: (column, direction) => ({ sql: `?? COLLATE BINARY ${direction}`, bindings: [column] }),
  keyOrderTerm: (column, direction, keyType) => ({ sql: keyType === 'string' ? `?? COLLATE BINARY ${direction}` : `?? ${direction}`, bindings: [column] }),
  bindsPerKey: () => 1,
  // A list travels as one JSON parameter, as BetterSqlite3Adapter sends it: knex's formatting
  // of a raw `IN (?, ?, …)` took longer than SQLite's DELETE of 500 rows.
  keysIn: (column, keys, keyType) =>
    keys.length === 1 ? plainKeysIn(column, keys) : { sql: `?? IN (SELECT value FROM json_each(?))`, bindings: [column, keysJson(keys as readonly Key[], keyType)] },
  keyListInOneParameter: true,
  keyTextType: 'TEXT',
  valuePlaceholder: plainPlaceholder,
  isConstraintViolation(error) {
    const code = errorField(error, 'code')
    return typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT')
  },
  // Every busy answer, SQLITE_BUSY_SNAPSHOT above all: knex and Kysely begin deferred transactions, which
  // read first and fail to upgrade when another process wrote meanwhile (WAL mode).
  isConflict: isSqliteBusy,
}

// The 26 letters foldCase folds, A to Z.
const UPPER_ASCII = Array.from({ length: 26 }, (_, index) => String.fromCharCode(65 + index))

// A column folded as foldCase folds: lower() would follow the collation and the server's
// locale (Ä to ä under en_US.UTF-8), translate() maps exactly the 26 letters it is given.
const PG_FOLD = `translate(??::text, '${UPPER_ASCII.join('')}', '${UPPER_ASCII.join('').toLowerCase()}')`

// The same on MySQL/MariaDB, which has no translate(): one REPLACE per letter on the column's
// bytes. LOWER() would follow the collation (Unicode folding, and none at all on binary strings);
// replacing bytes is exact because no byte of a multibyte UTF-8 character is below 0x80.
const MYSQL_FOLD = UPPER_ASCII.reduce((sql, letter) => `REPLACE(${sql}, '${letter}', '${letter.toLowerCase()}')`, 'CAST(?? AS BINARY)')

// The built-in string types, whose values are ordered with COLLATE "C" (by byte, which for
// UTF-8 is by code point). Other types (numbers, dates, uuid) keep their natural order.
const PG_STRING_TYPES = `'text'::regtype, 'character varying'::regtype, 'character'::regtype, 'name'::regtype`

/**
 * PostgreSQL: the database's collation (often `en_US.UTF-8`) orders strings linguistically,
 * so string comparisons and orderings use `COLLATE "C"`. Equality needs nothing: default
 * collations are deterministic (equal only when the bytes are). NULLs sort last by default,
 * so ascending terms say `NULLS FIRST`. Substring lookups use `strpos`/`right`, which take
 * the value literally, and string parameters are cast to text so that `length(?)` resolves.
 */
export const pgDialect: SqlDialect = {
  name: 'pg',
  // The wire protocol counts parameters in 16 bits.
  maxBindParameters: 65_535,
  maxStatementBytes: Number.POSITIVE_INFINITY,
  returning: true,
  // Each side as one typed array parameter, unnested in order: two parameters whatever the
  // number of pairs. The shared extra values stay untyped: in an INSERT … SELECT PostgreSQL
  // gives them the types of their columns.
  insertPairs(link, pairs, extra, enforced) {
    if (pairs.length === 1) return pgOnePairInsert(link, pairs[0]!, extra, enforced)
    const sources = pairs.map(([source]) => source)
    const targets = pairs.map(([, target]) => target)
    return pairsInsert(link, extra, {
      skipLinked: true,
      from: `unnest(?::${PG_ARRAY_TYPES[link.source.keyType]}, ?::${PG_ARRAY_TYPES[link.target.keyType]}) WITH ORDINALITY AS v(s, t, n)`,
      fromBindings: [sources, targets],
      source: 'v.s',
      target: 'v.t',
      order: 'v.n',
    }, enforced)
  },
  foreignKeysQuery: pgForeignKeysQuery,
  enforcedGuard: pgEnforcedGuard,
  countGuard: pgCountGuard,
  // pg's rowCount leaves out the rows ON CONFLICT skipped and those the EXISTS filtered.
  countsInserts: true,
  // Row locks: under READ COMMITTED a concurrent statement meets a statement's rows one at a time.
  serialStatements: false,
  compareString(column, op, value) {
    if (op === '=') return { sql: '?? = ?', bindings: [column, value] }
    // `::text` also lets a string be compared with a uuid column, as memory compares keys.
    return { sql: `??::text COLLATE "C" ${op} ?::text`, bindings: [column, value] }
  },
  inStrings: (column, values) => ({ sql: `?? IN (${placeholders(values.length)})`, bindings: [column, ...values] }),
  textMatch(column, op, value) {
    switch (op) {
      case 'startswith':
        return { sql: 'strpos(??::text COLLATE "C", ?::text) = 1', bindings: [column, value] }
      case 'contains':
        return { sql: 'strpos(??::text COLLATE "C", ?::text) > 0', bindings: [column, value] }
      case 'endswith':
        return { sql: 'right(??::text, length(?::text)) COLLATE "C" = ?::text', bindings: [column, value, value] }
    }
  },
  foldedMatch(column, op, folded) {
    switch (op) {
      case 'iexact':
        return { sql: `${PG_FOLD} COLLATE "C" = ?::text`, bindings: [column, folded] }
      case 'istartswith':
        return { sql: `strpos(${PG_FOLD} COLLATE "C", ?::text) = 1`, bindings: [column, folded] }
      case 'icontains':
        return { sql: `strpos(${PG_FOLD} COLLATE "C", ?::text) > 0`, bindings: [column, folded] }
      case 'iendswith':
        return { sql: `right(${PG_FOLD}, length(?::text)) COLLATE "C" = ?::text`, bindings: [column, folded, folded] }
    }
  },
  orderTerm(column, direction) {
    const nulls = direction === 'asc' ? 'NULLS FIRST' : 'NULLS LAST'
    // COLLATE only applies to string types (it is an error on an integer column), and the
    // adapter does not know column types: the CASE picks the C-collated text for string
    // columns and NULL otherwise, and the second term orders the other types naturally
    // (for strings it only breaks ties that are already byte-equal).
    return {
      sql: `(CASE WHEN pg_typeof(??) IN (${PG_STRING_TYPES}) THEN ??::text COLLATE "C" END) ${direction} ${nulls}, ?? ${direction} ${nulls}`,
      bindings: [column, column, column],
    }
  },
  keyOrderTerm: (column, direction, keyType) => ({ sql: keyType === 'string' ? `?? COLLATE "C" ${direction}` : `?? ${direction}`, bindings: [column] }),
  bindsPerKey: () => 1,
  // A list travels as one array parameter (`= ANY(?)`): one placeholder for knex to format
  // and PostgreSQL to parse, whatever the length. Integer keys are compared as bigint when one
  // is beyond 32 bits, so that it matches no row instead of failing the statement ("out of
  // range for type integer"); only then: the cast keeps the planner from a plain index lookup.
  keysIn(column, keys, keyType) {
    const wide = keyType === 'integer' && !keys.every(isInt32)
    if (keys.length === 1) return plainKeysIn(column, keys, wide ? '?::bigint' : '?')
    // node-pg sends a JavaScript array as one PostgreSQL array literal.
    return { sql: `?? = ANY(${wide ? '?::bigint[]' : '?'})`, bindings: [column, keys] }
  },
  keyListInOneParameter: true,
  keyTextType: 'TEXT',
  // An integer is compared as bigint, a fraction as double precision: a number beyond an
  // integer column's 32 bits then matches no row instead of failing the statement.
  valuePlaceholder: (value) =>
    typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value)) ? '?::bigint' : typeof value === 'number' ? '?::float8' : '?',
  isConstraintViolation(error) {
    // SQLSTATE class 23: integrity constraint violation; and 22003, a number out of the
    // column's range, which no row can hold (a key beyond 32 bits for an integer column).
    const code = errorField(error, 'code')
    return typeof code === 'string' && (code.startsWith('23') || code === '22003')
  },
  // serialization_failure, deadlock_detected.
  isConflict: (error) => errorField(error, 'code') === '40001' || errorField(error, 'code') === '40P01',
}

// MySQL/MariaDB errors that mean a constraint refused the statement.
const MYSQL_CONSTRAINT_ERRORS = new Set([
  // A number out of the column's range (a negative key for an unsigned column): no row can hold it.
  'ER_WARN_DATA_OUT_OF_RANGE',
  'ER_DUP_ENTRY',
  'ER_DUP_ENTRY_WITH_KEY_NAME',
  'ER_NO_REFERENCED_ROW',
  'ER_NO_REFERENCED_ROW_2',
  'ER_ROW_IS_REFERENCED',
  'ER_ROW_IS_REFERENCED_2',
  'ER_BAD_NULL_ERROR',
  'ER_NO_DEFAULT_FOR_FIELD',
  'ER_CHECK_CONSTRAINT_VIOLATED',
  'ER_CONSTRAINT_FAILED',
])

/**
 * MySQL/MariaDB: the usual collations are case-insensitive and ignore trailing spaces, so
 * string comparisons, substring lookups and ordering work on `CAST(... AS BINARY)`: bytes of
 * UTF-8, hence code points, with no padding. Equality on keys keeps the plain, indexable
 * comparison and adds the exact one. NULLs already sort first ascending.
 */
export const mysqlDialect: SqlDialect = {
  name: 'mysql',
  // The prepared-statement limit; knex and Kysely send text queries, but the limit keeps statements sane.
  maxBindParameters: 65_535,
  // Values travel inside the SQL text, which must fit max_allowed_packet: 4 MiB by default on
  // MySQL 5.7 (16 MiB on MariaDB, 64 MiB on MySQL 8). Stay under the smallest, with room for
  // the SQL itself.
  maxStatementBytes: 3 * 1024 * 1024,
  returning: false,
  // A duplicate's no-op update counts as an affected row under mysql2's default FOUND_ROWS
  // flag, as an inserted row does (and the statement's info line does not count it as a
  // duplicate either): the count cannot be told. The manager reads before it inserts here.
  countsInserts: false,
  // Row locks: statements of several connections run at once. (InnoDB's locking reads may
  // already keep the two rows of a symmetrical link whole; nothing documents that it must.)
  serialStatements: false,
  compareString: (column, op, value) => ({ sql: `CAST(?? AS BINARY) ${op} CAST(? AS BINARY)`, bindings: [column, value] }),
  inStrings: (column, values) => ({
    sql: `CAST(?? AS BINARY) IN (${placeholders(values.length, 'CAST(? AS BINARY)')})`,
    bindings: [column, ...values],
  }),
  textMatch(column, op, value) {
    switch (op) {
      case 'startswith':
        return { sql: 'LOCATE(CAST(? AS BINARY), CAST(?? AS BINARY)) = 1', bindings: [value, column] }
      case 'contains':
        return { sql: 'LOCATE(CAST(? AS BINARY), CAST(?? AS BINARY)) > 0', bindings: [value, column] }
      case 'endswith':
        return {
          sql: 'RIGHT(CAST(?? AS BINARY), LENGTH(CAST(? AS BINARY))) = CAST(? AS BINARY)',
          bindings: [column, value, value],
        }
    }
  },
  foldedMatch(column, op, folded) {
    switch (op) {
      case 'iexact':
        return { sql: `${MYSQL_FOLD} = CAST(? AS BINARY)`, bindings: [column, folded] }
      case 'istartswith':
        return { sql: `LOCATE(CAST(? AS BINARY), ${MYSQL_FOLD}) = 1`, bindings: [folded, column] }
      case 'icontains':
        return { sql: `LOCATE(CAST(? AS BINARY), ${MYSQL_FOLD}) > 0`, bindings: [folded, column] }
      case 'iendswith':
        return { sql: `RIGHT(${MYSQL_FOLD}, LENGTH(CAST(? AS BINARY))) = CAST(? AS BINARY)`, bindings: [column, folded, folded] }
    }
  },
  orderTerm(column, direction) {
    // COLLATION() is 'binary' for numbers and dates, whose natural order is right; string
    // columns are ordered by their bytes first (the second term then only breaks byte-equal ties).
    return {
      sql: `CASE WHEN COLLATION(??) = 'binary' THEN NULL ELSE CAST(?? AS BINARY) END ${direction}, ?? ${direction}`,
      bindings: [column, column, column],
    }
  },
  keyOrderTerm: (column, direction, keyType) => ({ sql: keyType === 'string' ? `CAST(?? AS BINARY) ${direction}` : `?? ${direction}`, bindings: [column] }),
  bindsPerKey: (keyType) => (keyType === 'string' ? 2 : 1),
  keysIn(column, keys, keyType) {
    // A uuid is case-insensitive anyway; a string key must match exactly ('abc' is not 'ABC').
    if (keyType !== 'string') return plainKeysIn(column, keys)
    const plain = plainKeysIn(column, keys)
    const exact =
      keys.length === 1
        ? 'CAST(?? AS BINARY) = CAST(? AS BINARY)'
        : `CAST(?? AS BINARY) IN (${placeholders(keys.length, 'CAST(? AS BINARY)')})`
    return { sql: `${plain.sql} AND ${exact}`, bindings: [...plain.bindings, column, ...keys] }
  },
  keyListInOneParameter: false,
  keyTextType: 'CHAR',
  valuePlaceholder: plainPlaceholder,
  isConstraintViolation(error) {
    const code = errorField(error, 'code')
    // SQLSTATE 23000 (integrity constraint violation) also covers MariaDB's own codes, which
    // mysql2 names after the MySQL error of the same number (MariaDB's CHECK failure, 4025).
    return (typeof code === 'string' && MYSQL_CONSTRAINT_ERRORS.has(code)) || errorField(error, 'sqlState') === '23000'
  },
  // A deadlock (1213, also Galera's certification failure at COMMIT) or a lock wait that timed
  // out (1205): InnoDB rolled back the statement or the transaction, and running the whole
  // transaction again may succeed.
  isConflict: (error) => errorField(error, 'code') === 'ER_LOCK_DEADLOCK' || errorField(error, 'code') === 'ER_LOCK_WAIT_TIMEOUT',
}
