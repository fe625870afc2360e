import { defineConfig } from 'tsup'

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    knex: 'src/adapters/knex/index.ts',
    conformance: 'src/conformance/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // knex is an optional peer and node: built-ins stay imports.
  external: ['knex'],
})
