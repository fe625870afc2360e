import type { RetryEvent } from './retry-policy.js'

/**
 * What an adapter reports to its `log` option (and to `DEBUG=throughline*`): every statement
 * it sends, and every call it runs again after a conflict. Off by default, and free when off.
 */
export type AdapterLogEvent =
  | {
      /** A statement sent to the database (BEGIN, COMMIT and savepoints are not reported). */
      readonly type: 'statement'
      /** The adapter's name, such as `'knex(pg)'`. */
      readonly adapter: string
      /** The SQL text, with placeholders: values are never logged. */
      readonly sql: string
    }
  | ({
      /** A transaction (or a lone statement) aborted for a conflict, about to run again. */
      readonly type: 'retry'
      /** The adapter's name. */
      readonly adapter: string
    } & RetryEvent)

/**
 * Receives an adapter's {@link AdapterLogEvent}s.
 *
 * @example
 * ```ts
 * new KnexAdapter(db, { log: (event) => event.type === 'retry' && metrics.increment('m2m.retry') })
 * ```
 */
export type AdapterLogger = (event: AdapterLogEvent) => void

/**
 * The logger an adapter uses: the one given, else, when the `DEBUG` environment variable names
 * `throughline` (`DEBUG=throughline`, `throughline*`, `throughline:*`, `*`, comma- or
 * space-separated, as the `debug` package reads it), one that prints to standard error as
 * `throughline:<adapter> …`; else none. For adapter authors.
 */
export function adapterLogger(given: AdapterLogger | undefined, adapter: string): AdapterLogger | undefined {
  if (given !== undefined) return given
  if (!debugEnabled(readDebug())) return undefined
  return (event) => {
    const line = event.type === 'statement' ? event.sql : `retry ${String(event.attempt)} in ${event.delayMs.toFixed(1)} ms after ${describe(event.error)}`
    process.stderr.write(`throughline:${adapter} ${line}\n`)
  }
}

function readDebug(): string {
  // Not every runtime has `process` (a bundle for the edge): no DEBUG there.
  return typeof process === 'object' && typeof process.env === 'object' ? process.env.DEBUG ?? '' : ''
}

/** Whether a `DEBUG` value enables the `throughline` namespaces (a `-name` pattern disables). */
export function debugEnabled(value: string): boolean {
  let enabled = false
  for (const pattern of value.split(/[\s,]+/)) {
    if (pattern === '') continue
    const negated = pattern.startsWith('-')
    const body = negated ? pattern.slice(1) : pattern
    const matcher = new RegExp(`^${body.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`)
    if (matcher.test('throughline') || matcher.test('throughline:')) enabled = !negated
  }
  return enabled
}

function describe(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined
  const message = error instanceof Error ? error.message : String(error)
  return typeof code === 'string' ? `${code}: ${message}` : message
}
