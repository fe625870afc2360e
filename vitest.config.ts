import { availableParallelism } from 'node:os'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    allowOnly: !process.env.CI,
    reporters: ['default', './test/helpers/adapter-summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two test files at a time even on two cores (Vitest's default is one fewer than the
    // cores): much of the time goes to waiting on the database servers and child processes, so
    // two files overlap well. npm test on the 2-core CI machine: 5 min 20 s with one, 3 min 26 s
    // with two. Every test file keeps its own schema, database or SQLite file.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
})
