import type { KeyType, RelationAdapter, TableSpec } from '../adapter/relation-adapter.js'
import { SchemaMismatchError, SchemaUnavailableError } from '../errors/throughline-error.js'
import { storageCall } from '../manager/storage-call.js'
import type { ThroughColumn } from '../model/define-through.js'
import type { ColumnDescription, ColumnFamily, TableDescription } from './table-description.js'

/**
 * What a {@link SchemaIssue} is about. Mismatches: `missing-table`, `missing-column`,
 * `no-unique-pair`, `unfilled-column`, `key-type`. Warnings: `foreign-key` (a link column
 * without a foreign key, or with one to another table) and `schemaless` (the store has no
 * fixed columns to compare).
 */
export type SchemaIssueKind = 'missing-table' | 'missing-column' | 'no-unique-pair' | 'unfilled-column' | 'key-type' | 'foreign-key' | 'schemaless'

/** One finding of `relation.check()`. */
export interface SchemaIssue {
  /** `mismatch`: the relation fails on this table as it is. `warning`: it works, with a caveat. */
  readonly level: 'mismatch' | 'warning'
  readonly kind: SchemaIssueKind
  /** The table concerned. */
  readonly table: string
  /** The column concerned, when there is one. */
  readonly column: string | undefined
  /** What is wrong and what to do, naming the table and column. */
  readonly message: string
}

/** What `relation.check()` found. */
export interface SchemaReport {
  /** The relation checked, as `Model.name` (`Article.publications`). */
  readonly relation: string
  /** The adapter whose database was read. */
  readonly adapter: string
  /** The tables read: the join table, then the source and target tables. */
  readonly tables: readonly string[]
  /** Whether there is no mismatch (warnings allowed). */
  readonly ok: boolean
  /** Everything that makes the relation fail on this database. */
  readonly mismatches: readonly SchemaIssue[]
  /** What works but deserves a look, such as link columns without foreign keys. */
  readonly warnings: readonly SchemaIssue[]
}

/** What {@link checkSchema} compares: the declaring side of a relation. Internal. */
export interface SchemaCheckInput {
  /** `Article.publications`, for messages. */
  readonly relation: string
  readonly table: string
  readonly primaryKey: string | undefined
  readonly sourceColumn: string
  readonly targetColumn: string
  /** The declared extra columns and their options. */
  readonly columns: ReadonlyMap<string, ThroughColumn>
  /** The extra foreign keys (an `inviter_id`) and the table each points at. */
  readonly references: readonly { readonly column: string; readonly target: TableSpec }[]
  readonly unique: boolean
  readonly source: TableSpec
  readonly target: TableSpec
}

// The column families that hold each key type. `other` is an SQLite column without a type,
// which stores whatever it is given.
const KEY_FAMILIES: Readonly<Record<KeyType, readonly ColumnFamily[]>> = {
  integer: ['integer', 'decimal', 'other'],
  bigint: ['integer', 'decimal', 'other'],
  string: ['string', 'uuid', 'other'],
  uuid: ['uuid', 'string', 'other'],
}

/**
 * Reads the relation's tables through `adapter.describeTable` and compares them with the
 * relation, reporting every problem at once. Resolves to the report when nothing mismatches
 * (warnings are fine); throws {@link SchemaMismatchError} otherwise, and
 * {@link SchemaUnavailableError} when the adapter cannot describe tables. Internal: call
 * `relation.check()`.
 */
export async function checkSchema(adapter: RelationAdapter, input: SchemaCheckInput): Promise<SchemaReport> {
  const describe = adapter.describeTable?.bind(adapter)
  if (describe === undefined) {
    throw new SchemaUnavailableError(
      `${input.relation}.check(): the ${adapter.name} adapter cannot read its database's schema (it has no describeTable()). ` +
        'Check the tables by hand, or run check() with an adapter that implements describeTable (KnexAdapter, BetterSqlite3Adapter).',
    )
  }
  const tables = [...new Set([input.table, input.source.table, input.target.table])]
  const found = new Map<string, TableDescription | undefined>()
  for (const table of tables) found.set(table, await storageCall(adapter, () => describe(table)))

  const issues: SchemaIssue[] = []
  const issue = (level: SchemaIssue['level'], kind: SchemaIssueKind, table: string, column: string | undefined, message: string): void => {
    issues.push({ level, kind, table, column, message })
  }
  const schemaless = tables.filter((table) => found.get(table)?.schemaless === true)
  if (schemaless.length > 0) {
    issue(
      'warning',
      'schemaless',
      schemaless[0]!,
      undefined,
      `${schemaless.join(', ')}: the ${adapter.name} adapter has no fixed columns (it stores any column, and enforces the unique pair and foreign keys itself), so there is nothing to compare. Run check() on your database's adapter too.`,
    )
  }

  const join = found.get(input.table)
  if (join === undefined) {
    issue('mismatch', 'missing-table', input.table, undefined, `${input.table}: the join table of ${input.relation} does not exist. Create it (createJoinTable() in a migration) or name the existing one in defineThrough({ table }).`)
  } else if (!join.schemaless) {
    checkJoinTable(input, join, issue)
  }
  for (const spec of uniqueSpecs([input.source, input.target])) {
    const table = found.get(spec.table)
    if (table === undefined) {
      issue('mismatch', 'missing-table', spec.table, undefined, `${spec.table}: the table of ${spec.model} does not exist. Create it, or give defineModel() the table that holds ${spec.model} rows ({ table }).`)
    } else if (!table.schemaless) {
      checkModelTable(spec, table, issue)
    }
  }

  const mismatches = issues.filter((found) => found.level === 'mismatch')
  const report: SchemaReport = Object.freeze({
    relation: input.relation,
    adapter: adapter.name,
    tables,
    ok: mismatches.length === 0,
    mismatches,
    warnings: issues.filter((found) => found.level === 'warning'),
  })
  if (!report.ok) {
    const count = mismatches.length === 1 ? '1 mismatch' : `${String(mismatches.length)} mismatches`
    const lines = mismatches.map((mismatch) => `  - ${mismatch.message}`).join('\n')
    throw new SchemaMismatchError(
      `${input.relation} does not fit the database of ${adapter.name}: ${count}.\n${lines}\nFix the tables (or the definition), then run check() again.`,
      report,
    )
  }
  return report
}

type AddIssue = (level: SchemaIssue['level'], kind: SchemaIssueKind, table: string, column: string | undefined, message: string) => void

function uniqueSpecs(specs: readonly TableSpec[]): TableSpec[] {
  return specs.filter((spec, index) => specs.findIndex((other) => other.table === spec.table) === index)
}

function columnOf(table: TableDescription, name: string): ColumnDescription | undefined {
  return table.columns.find((column) => column.name === name)
}

function checkKeyType(table: string, column: ColumnDescription, spec: TableSpec, issue: AddIssue): void {
  if (KEY_FAMILIES[spec.keyType].includes(column.family)) return
  const wanted = spec.keyType === 'integer' || spec.keyType === 'bigint' ? 'an integer type' : 'a string or uuid type'
  issue(
    'mismatch',
    'key-type',
    table,
    column.name,
    `${table}.${column.name} is ${column.type} (${column.family}), but ${spec.model} keys are ${spec.keyType}: keys would be compared and sorted as another type, or refused by the database. ` +
      `Make the column ${wanted}, or declare ${spec.model} with the keyType its table has.`,
  )
}

function checkJoinTable(input: SchemaCheckInput, table: TableDescription, issue: AddIssue): void {
  const name = input.table
  const links: [string, TableSpec, string][] = [
    [input.sourceColumn, input.source, 'the source link column'],
    [input.targetColumn, input.target, 'the target link column'],
  ]
  for (const { column, target } of input.references) links.push([column, target, 'a foreign key of the through table'])

  // Every column the relation writes or reads must exist.
  const known: [string, string][] = []
  if (input.primaryKey !== undefined) known.push([input.primaryKey, 'the through primary key'])
  for (const [column, , role] of links) known.push([column, role])
  for (const column of input.columns.keys()) {
    if (!links.some(([link]) => link === column)) known.push([column, 'a declared through column'])
  }
  for (const [column, role] of known) {
    if (columnOf(table, column) === undefined) {
      issue('mismatch', 'missing-column', name, column, `${name}.${column}: missing column (${role} of ${input.relation}). Add it, or fix the name in the definition.`)
    }
  }

  // Link columns must hold the key type of the model they point at; a foreign key is advised.
  for (const [column, spec] of links) {
    const described = columnOf(table, column)
    if (described === undefined) continue
    checkKeyType(name, described, spec, issue)
    const fks = table.foreignKeys.filter((fk) => fk.columns.length === 1 && fk.columns[0] === column)
    if (fks.length === 0) {
      issue(
        'warning',
        'foreign-key',
        name,
        column,
        `${name}.${column} has no foreign key to ${spec.table}: throughline works without it, but links of a deleted ${spec.model} stay behind (call relation.deleteLinksOf() before deleting one), and nothing in the database refuses a key that has no row in ${spec.table}.`,
      )
    } else if (!fks.some((fk) => fk.table === spec.table)) {
      issue('warning', 'foreign-key', name, column, `${name}.${column} has a foreign key to ${fks.map((fk) => fk.table).join(', ')}, not to ${spec.table}, the table of ${spec.model}. Check that it points where the relation expects.`)
    }
  }

  // With a unique relation, adds skip existing pairs with ON CONFLICT on exactly the pair.
  if (input.unique) {
    const pair = [input.sourceColumn, input.targetColumn]
    const sets = table.primaryKey.length > 0 ? [table.primaryKey, ...table.unique] : table.unique
    const exact = sets.some((set) => set.length === 2 && pair.every((column) => set.includes(column)))
    if (!exact) {
      const wider = sets.find((set) => pair.every((column) => set.includes(column)))
      const note = wider === undefined ? '' : ` (the unique set (${wider.join(', ')}) has more columns than the pair, which ON CONFLICT cannot use)`
      issue(
        'mismatch',
        'no-unique-pair',
        name,
        undefined,
        `${name}: no primary key, unique constraint or unique index on exactly (${pair.join(', ')})${note}, while the relation is unique (the default): every add would fail. ` +
          `Add one (CREATE UNIQUE INDEX ${name}_pair_unique ON ${name} (${pair.join(', ')})), or declare the through table { unique: false } if duplicate pairs are allowed.`,
      )
    }
  }

  // A NOT NULL column that neither the database nor the relation fills makes every insert fail.
  const filled = new Set([input.sourceColumn, input.targetColumn])
  for (const [column, options] of input.columns) {
    if (options.required === true || options.default !== undefined) filled.add(column)
  }
  for (const column of table.columns) {
    if (column.nullable || column.hasDefault || column.generated || filled.has(column.name)) continue
    const declared = input.columns.has(column.name)
    const fix = declared
      ? `give it a default in defineThrough({ columns: { ${column.name}: { default } } }) or declare it { required: true } and pass it in throughDefaults`
      : `give it a database default, make it nullable, or declare it in defineThrough({ columns: { ${column.name}: { default } } })`
    const what = column.name === input.primaryKey ? 'the through primary key is NOT NULL and not generated by the database' : 'NOT NULL without a default, and the relation does not fill it'
    issue('mismatch', 'unfilled-column', name, column.name, `${name}.${column.name}: ${what}, so every add would fail. To fix it, ${fix}.`)
  }
}

function checkModelTable(spec: TableSpec, table: TableDescription, issue: AddIssue): void {
  const key = columnOf(table, spec.primaryKey)
  if (key === undefined) {
    issue('mismatch', 'missing-column', spec.table, spec.primaryKey, `${spec.table}.${spec.primaryKey}: missing column (the primary key of ${spec.model}). Add it, or give defineModel() the right one ({ primaryKey }).`)
  } else {
    checkKeyType(spec.table, key, spec, issue)
  }
  for (const column of spec.columns ?? []) {
    if (column === spec.primaryKey || columnOf(table, column) !== undefined) continue
    issue('mismatch', 'missing-column', spec.table, column, `${spec.table}.${column}: missing column (declared in the columns of ${spec.model}). Add it, or remove it from defineModel({ columns }).`)
  }
}
