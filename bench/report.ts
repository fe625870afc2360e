import type { RelationKind } from './fixtures.js'
import { KIND_LABELS } from './fixtures.js'
import { pairedRatio, type Measurement } from './measure.js'

/** The variants a row may hold. */
export type VariantId = 'throughline' | 'knex' | 'direct' | 'raw' | 'kysely' | 'kyselyHand' | 'drizzle' | 'drizzleHand'

/** One row of the table: a scenario on one relation of one database. */
export interface ResultRow {
  readonly database: string
  readonly kind: RelationKind
  readonly scenario: string
  readonly cells: Partial<Record<VariantId, Measurement>>
  /** Why the row has no measurement. */
  readonly note?: string
}

/** A time per call, in the unit that reads best. */
export function formatTime(milliseconds: number): string {
  if (!Number.isFinite(milliseconds)) return '–'
  if (milliseconds >= 1) return `${milliseconds.toFixed(2)} ms`
  const micro = milliseconds * 1000
  return `${micro >= 100 ? micro.toFixed(0) : micro.toFixed(1)} µs`
}

function formatRate(milliseconds: number): string {
  const perSecond = 1000 / milliseconds
  if (perSecond >= 10_000) return `${(perSecond / 1000).toFixed(0)}k/s`
  if (perSecond >= 1000) return `${(perSecond / 1000).toFixed(1)}k/s`
  return `${perSecond.toFixed(0)}/s`
}

function formatCount(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–'
  return Number.isInteger(value) ? String(value) : value.toFixed(2).replace(/0+$/, '')
}

function ratio(numerator: Measurement | undefined, denominator: Measurement | undefined): string {
  if (numerator === undefined || denominator === undefined) return '–'
  return `${pairedRatio(numerator, denominator).toFixed(2)}×`
}

function statementsPair(left: Measurement | undefined, right: Measurement | undefined): string {
  if (left === undefined && right === undefined) return '–'
  return `${formatCount(left?.statementsPerCall)} / ${formatCount(right?.statementsPerCall)}`
}

const HEADERS = [
  'database',
  'scenario',
  'statements (throughline / hand)',
  'throughline',
  'hand-written knex',
  'throughline ÷ knex',
  'statements (direct / raw)',
  'BetterSqlite3Adapter',
  'raw better-sqlite3',
  'direct ÷ raw',
  'knex ÷ raw',
]

/** The table's cells, row by row (header first). */
export function tableCells(rows: readonly ResultRow[]): string[][] {
  const lines: string[][] = [HEADERS]
  for (const row of rows) {
    const { throughline, knex, direct, raw } = row.cells
    const scenario = `${KIND_LABELS[row.kind]}${row.scenario}`
    if (row.note !== undefined) {
      lines.push([row.database, scenario, '–', row.note, '–', '–', '–', '–', '–', '–', '–'])
      continue
    }
    const memory = row.database === 'memory'
    lines.push([
      row.database,
      scenario,
      memory ? formatCount(throughline?.statementsPerCall) : statementsPair(throughline, knex),
      throughline === undefined ? '–' : memory ? `${formatTime(throughline.median)} (${formatRate(throughline.median)})` : formatTime(throughline.median),
      formatTime(knex?.median ?? Number.NaN),
      ratio(throughline, knex),
      statementsPair(direct, raw),
      formatTime(direct?.median ?? Number.NaN),
      formatTime(raw?.median ?? Number.NaN),
      ratio(direct, raw),
      ratio(knex, raw),
    ])
  }
  return lines
}

/** Cells as Markdown (header first), columns padded so that it also reads well in a terminal. */
export function renderTable(cells: readonly (readonly string[])[]): string {
  // Every character of the table is one UTF-16 unit (µ, ×, ÷, –, …), so length is width.
  const widths = cells[0]!.map((_, column) => Math.max(...cells.map((line) => line[column]!.length)))
  const line = (row: readonly string[]): string => `| ${row.map((cell, column) => cell + ' '.repeat(widths[column]! - cell.length)).join(' | ')} |`
  const rule = `|${widths.map((width, column) => (column < 2 ? '-'.repeat(width + 2) : `${'-'.repeat(width + 1)}:`)).join('|')}|`
  return [line(cells[0]!), rule, ...cells.slice(1).map(line)].join('\n')
}

/** The table as Markdown, columns padded so that it also reads well in a terminal. */
export function markdownTable(rows: readonly ResultRow[]): string {
  return renderTable(tableCells(rows))
}

/** The query libraries throughline runs on beside knex, each measured against the same statements written by hand with it. */
const LIBRARIES = {
  kysely: { name: 'Kysely', adapter: 'KyselyAdapter', subject: 'kysely', hand: 'kyselyHand' },
  drizzle: { name: 'Drizzle', adapter: 'DrizzleAdapter', subject: 'drizzle', hand: 'drizzleHand' },
} as const satisfies Record<string, { name: string; adapter: string; subject: VariantId; hand: VariantId }>

/**
 * The rows of one query library: throughline on it (`KyselyAdapter`, `DrizzleAdapter`) against
 * the same statements written by hand with it, and against throughline on Knex; `undefined`
 * when no row measured them.
 */
export function libraryTable(rows: readonly ResultRow[], library: keyof typeof LIBRARIES): string | undefined {
  const { name, adapter, subject, hand } = LIBRARIES[library]
  const lines: string[][] = [['database', 'scenario', 'statements (throughline / hand)', `throughline on ${name}`, `hand-written ${name}`, `throughline ÷ ${name}`, `${adapter} ÷ KnexAdapter`]]
  for (const row of rows) {
    const { throughline } = row.cells
    const ours = row.cells[subject]
    const theirs = row.cells[hand]
    if (ours === undefined && theirs === undefined) continue
    lines.push([
      row.database,
      `${KIND_LABELS[row.kind]}${row.scenario}`,
      statementsPair(ours, theirs),
      formatTime(ours?.median ?? Number.NaN),
      formatTime(theirs?.median ?? Number.NaN),
      ratio(ours, theirs),
      ratio(ours, throughline),
    ])
  }
  return lines.length === 1 ? undefined : renderTable(lines)
}
