import type { Reporter, TestModule } from 'vitest/node'

/**
 * Prints, after the run, how many conformance tests passed, failed and were skipped on each
 * adapter (`memory`, `knex(sqlite)`, `knex(pg)`, `knex(mysql)`), and on each adapter's run without
 * foreign keys (`memory without foreign keys`). Conformance test titles start
 * with the adapter's name (`memory: add() > links the given targets`).
 */
// A default export because vitest loads reporter files by their default export.
export default class AdapterSummaryReporter implements Reporter {
  onTestRunEnd(testModules: readonly TestModule[]): void {
    const counts = new Map<string, { passed: number; failed: number; skipped: number }>()
    for (const module of testModules) {
      if (!module.moduleId.endsWith('.conformance.test.ts')) continue
      for (const test of module.children.allTests()) {
        // A run on join tables without foreign keys is its own line: `memory without foreign keys`.
        const adapter = /^(?:.* > )?([\w()]+(?: without foreign keys)?): /.exec(test.fullName)?.[1]
        if (adapter === undefined) continue
        const entry = counts.get(adapter) ?? { passed: 0, failed: 0, skipped: 0 }
        const state = test.result().state
        if (state === 'passed') entry.passed++
        else if (state === 'failed') entry.failed++
        else entry.skipped++
        counts.set(adapter, entry)
      }
    }
    if (counts.size === 0) return
    const width = Math.max(...[...counts.keys()].map((name) => name.length))
    const lines = [...counts].map(
      ([adapter, { passed, failed, skipped }]) =>
        `  ${adapter.padEnd(width)} ${String(passed).padStart(4)} passed, ${String(failed)} failed${skipped > 0 ? `, ${String(skipped)} skipped` : ''}`,
    )
    process.stdout.write(`\nConformance suite by adapter:\n${lines.join('\n')}\n`)
  }
}
