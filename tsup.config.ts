import { defineConfig } from 'tsup'

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    knex: 'src/adapters/knex/index.ts',
    kysely: 'src/adapters/kysely/index.ts',
    drizzle: 'src/adapters/drizzle/index.ts',
    conformance: 'src/conformance/index.ts',
    'better-sqlite3': 'src/adapters/better-sqlite3/index.ts',
  },
  format: ['esm', 'cjs'],
  // tsup's declaration build passes `baseUrl`, which TypeScript 6 deprecates; silence that here
  // only, not in the project's own type check.
  dts: { compilerOptions: { ignoreDeprecations: '6.0' } },
  // Shared chunks for CommonJS too: without them each entry (`throughline`, `throughline/knex`,
  // `throughline/conformance`) would carry its own copy of the error classes and of the row
  // model tags, and `instanceof ThroughlineError` would fail across entries.
  splitting: true,
  clean: true,
  // No source maps: the output is not minified, so stack traces already point at readable code
  // with the source's names, while the maps (which embed the sources) were 60% of the install.
  sourcemap: false,
  target: 'node20',
  // knex, kysely and drizzle-orm (with its subpaths) are optional peers and node: built-ins stay imports.
  external: ['knex', 'kysely', /^drizzle-orm(\/.*)?$/],
})
