import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    allowOnly: !process.env.CI,
    reporters: ['default', './test/helpers/adapter-summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
