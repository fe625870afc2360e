// A node:test reporter that prints each failure in full and one summary line, and nothing for
// the tests that pass. `npm run examples` runs examples with it: the custom-adapter example runs
// the whole conformance suite (hundreds of tests), whose TAP or spec output would bury the other
// examples' stories. Use it with `node --test-reporter=./scripts/test-summary-reporter.mjs`.
import { inspect } from 'node:util'

// The diagnostics node:test sends at the end of a run, replaced here by the one summary line.
const SUMMARY = /^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) [\d.]+$/

/**
 * Reads node:test's events and yields what to print.
 * @param {AsyncIterable<{ type: string, data: any }>} source
 * @returns {AsyncGenerator<string>}
 */
export default async function* summaryReporter(source) {
  const counts = { passed: 0, failed: 0, skipped: 0, todo: 0, suites: 0 }
  // The names of the tests and suites enclosing the current one, by nesting level, so that a
  // failure is printed with its whole path (`suite › group › test`).
  const path = []
  // node:test's own measure of the run, sent with its summary; the reporter's start is later.
  let milliseconds = 0
  for await (const event of source) {
    const { data } = event
    switch (event.type) {
      case 'test:start':
        path[data.nesting] = data.name
        path.length = data.nesting + 1
        break
      case 'test:pass':
        if (data.details?.type === 'suite') counts.suites++
        else if (data.skip !== undefined) counts.skipped++
        else if (data.todo !== undefined) counts.todo++
        else counts.passed++
        break
      case 'test:fail': {
        const error = data.details?.error
        if (data.details?.type === 'suite') counts.suites++
        // A suite fails when one of its tests does; that test's failure is already printed.
        if (error?.failureType === 'subtestsFailed') break
        if (data.details?.type !== 'suite') counts.failed++
        const name = [...path.slice(0, data.nesting), data.name].join(' › ')
        const where = data.file === undefined ? '' : ` (${data.file}:${String(data.line)}:${String(data.column)})`
        const cause = error?.cause ?? error
        yield `\nnot ok: ${name}${where}\n${indent(inspect(cause, { depth: 6 }))}\n`
        break
      }
      case 'test:diagnostic':
        // Warnings (a test's work that outlived it, an it() called after its suite ended) stay.
        if (!(data.nesting === 0 && SUMMARY.test(data.message))) yield `# ${data.message}\n`
        else if (data.message.startsWith('duration_ms ')) milliseconds = Number(data.message.slice('duration_ms '.length))
        break
      case 'test:stdout':
      case 'test:stderr':
        yield data.message
        break
      default:
        break
    }
  }
  const others = [
    counts.skipped > 0 ? `, ${String(counts.skipped)} skipped` : '',
    counts.todo > 0 ? `, ${String(counts.todo)} todo` : '',
  ].join('')
  const seconds = (milliseconds / 1000).toFixed(1)
  yield `node:test: ${String(counts.passed)} passed, ${String(counts.failed)} failed${others} (${String(counts.suites)} suites, ${seconds} s)\n`
}

/** Indents every line of `text` by four spaces, under its `not ok:` line. */
function indent(text) {
  return text.replace(/^/gm, '    ')
}
