import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

// Packs the package as npm would publish it (prepack builds it), installs the tarball into an
// empty project with no network, and loads every entry point from ESM and from CommonJS.
describe('the published package', () => {
  let project = ''

  beforeAll(() => {
    project = mkdtempSync(join(tmpdir(), 'throughline-pack-'))
    // Build first, then pack without the prepack script, whose output would mix with the JSON.
    execFileSync(npm, ['run', 'build'], { cwd: root, stdio: 'ignore' })
    const output = execFileSync(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', project], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    const [packed] = JSON.parse(output) as { filename: string }[]
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, version: '1.0.0' }))
    execFileSync(npm, ['install', '--offline', '--no-audit', '--no-fund', join(project, packed!.filename)], { cwd: project, stdio: 'ignore' })
    // throughline/kysely loads kysely (an optional peer): the project's own copy, linked rather
    // than installed, keeps the test offline. knex is left out: throughline/knex needs only its types.
    symlinkSync(join(root, 'node_modules', 'kysely'), join(project, 'node_modules', 'kysely'), 'junction')
    symlinkSync(join(root, 'node_modules', 'drizzle-orm'), join(project, 'node_modules', 'drizzle-orm'), 'junction')
  }, 180_000)

  afterAll(() => {
    if (project !== '') rmSync(project, { recursive: true, force: true })
  })

  const script = `
    const root = await load('throughline')
    const knex = await load('throughline/knex')
    const kysely = await load('throughline/kysely')
    const drizzle = await load('throughline/drizzle')
    const conformance = await load('throughline/conformance')
    const direct = await load('throughline/better-sqlite3')
    const store = new root.MemoryAdapter()
    const Tag = root.defineModel('Tag', { table: 'tags' })
    const Post = root.defineModel('Post', { table: 'posts' })
    const tags = root.manyToMany(Post, Tag, { name: 'tags', adapter: store })
    const post = await store.insert(Post, {})
    const tag = await store.insert(Tag, {})
    const linked = await tags.of(post).toggle(tag)
    let code = ''
    try { await tags.of(post).add(99) } catch (error) { code = root.isThroughlineError(error) ? error.code : 'not a throughline error' }
    // One copy of the core across entries: a row tagged by the conformance entry is known to
    // the root entry (with a copy per entry, modelOf would answer undefined).
    const context = new conformance.ConformanceContext(store, {})
    const seeded = await context.insert(Tag, {})
    // The direct adapter's entry throws the root entry's error classes too.
    let directShared = false
    try { new direct.BetterSqlite3Adapter({}) } catch (error) { directShared = error instanceof root.ThroughlineError }
    const shared = root.modelOf(seeded) === Tag && directShared
    console.log(JSON.stringify({ linked, code, shared, knex: typeof knex.KnexAdapter, kysely: typeof kysely.KyselyAdapter, drizzle: typeof drizzle.DrizzleAdapter, conformance: typeof conformance.runAdapterConformance, direct: typeof direct.BetterSqlite3Adapter }))
  `

  it('works from import', () => {
    writeFileSync(join(project, 'esm.mjs'), `const load = (name) => import(name);\n${script}`)
    const result = JSON.parse(execFileSync(process.execPath, ['esm.mjs'], { cwd: project, encoding: 'utf8' })) as Record<string, unknown>
    expect(result).toEqual({ linked: true, code: 'M2M_TARGET_NOT_FOUND', shared: true, knex: 'function', kysely: 'function', drizzle: 'function', conformance: 'function', direct: 'function' })
  })

  it('works from require', () => {
    writeFileSync(join(project, 'cjs.cjs'), `const load = async (name) => require(name);\n(async () => {${script}})()`)
    const result = JSON.parse(execFileSync(process.execPath, ['cjs.cjs'], { cwd: project, encoding: 'utf8' })) as Record<string, unknown>
    expect(result).toEqual({ linked: true, code: 'M2M_TARGET_NOT_FOUND', shared: true, knex: 'function', kysely: 'function', drizzle: 'function', conformance: 'function', direct: 'function' })
  })

  it('loads neither knex, kysely nor drizzle-orm from the root entry', () => {
    const check = `require('throughline'); console.log(JSON.stringify(Object.keys(require.cache).filter((path) => /node_modules[\\\\/](knex|kysely|drizzle-orm)[\\\\/]/.test(path))))`
    writeFileSync(join(project, 'root-only.cjs'), check)
    expect(JSON.parse(execFileSync(process.execPath, ['root-only.cjs'], { cwd: project, encoding: 'utf8' }))).toEqual([])
  })

  // A TypeScript consumer of every entry point, type-checked under each module resolution still
  // in use: node10 (`moduleResolution: node`, which ignores `exports` and reads `typesVersions`),
  // node16 from CommonJS and from ESM, and bundler. Each `@ts-expect-error` fails if an entry's
  // types resolve to `any`, so a missing declaration cannot pass unnoticed.
  const consumer = `
    import { defineModel, manyToMany, MemoryAdapter, type RelationAdapter } from 'throughline'
    import { KnexAdapter, type KnexAdapterOptions } from 'throughline/knex'
    import { KyselyAdapter, type KyselyAdapterOptions } from 'throughline/kysely'
    import { runAdapterConformance, type TestApi } from 'throughline/conformance'
    import { BetterSqlite3Adapter, type SqliteDatabase } from 'throughline/better-sqlite3'

    const Tag = defineModel<{ id: number; name: string }>('Tag', { table: 'tags' })
    const Post = defineModel<{ id: number; title: string }>('Post', { table: 'posts' })
    const adapter: RelationAdapter = new MemoryAdapter()
    export const tags = manyToMany(Post, Tag, { name: 'tags', adapter })
    export const options: KnexAdapterOptions = {}
    export const kyselyOptions: KyselyAdapterOptions = { dialect: 'pg' }
    export const direct = (db: SqliteDatabase): RelationAdapter => new BetterSqlite3Adapter(db)
    export const conform = (test: TestApi): void => {
      runAdapterConformance({ name: 'memory', test, createAdapter: () => new MemoryAdapter(), inspect: async () => [] })
    }
    export const linked: Promise<boolean> = tags.of(1).toggle(2)
    // @ts-expect-error a class is not a string: only real types can tell
    export const root: string = MemoryAdapter
    // @ts-expect-error as above, for throughline/knex
    export const knex: string = KnexAdapter
    // @ts-expect-error as above, for throughline/kysely
    export const kysely: string = KyselyAdapter
    // @ts-expect-error as above, for throughline/conformance
    export const conformance: string = runAdapterConformance
    // @ts-expect-error as above, for throughline/better-sqlite3
    export const sqlite: string = BetterSqlite3Adapter
  `
  // throughline/drizzle apart: drizzle-orm's own declarations do not check without skipLibCheck
  // (they name the optional 'gel' driver, and some fail under TypeScript 6), and Drizzle asks
  // its users for skipLibCheck. Its types still must resolve: the @ts-expect-error says so.
  const drizzleConsumer = `
    import { DrizzleAdapter, type DrizzleAdapterOptions } from 'throughline/drizzle'
    export const drizzleOptions: DrizzleAdapterOptions = { maxBindParameters: 999 }
    // @ts-expect-error a class is not a string: only real types can tell
    export const drizzle: string = DrizzleAdapter
  `
  const resolutions = {
    node10: { compilerOptions: { module: 'commonjs', moduleResolution: 'node10', ignoreDeprecations: '6.0' }, files: ['consumer.ts'] },
    node16: { compilerOptions: { module: 'node16', moduleResolution: 'node16' }, files: ['consumer.cts', 'consumer.mts'] },
    bundler: { compilerOptions: { module: 'esnext', moduleResolution: 'bundler' }, files: ['consumer.ts'] },
  }

  it.each(Object.keys(resolutions) as (keyof typeof resolutions)[])('is typed under moduleResolution %s', (resolution) => {
    for (const file of ['consumer.ts', 'consumer.cts', 'consumer.mts']) writeFileSync(join(project, file), consumer)
    // throughline/knex's declarations import knex's types, which need Node's: the project's own
    // copies, linked rather than installed, keep the test offline and quick.
    mkdirSync(join(project, 'node_modules', '@types'), { recursive: true })
    for (const name of ['knex', '@types/node']) {
      try {
        symlinkSync(join(root, 'node_modules', name), join(project, 'node_modules', name), 'junction')
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      }
    }
    const { compilerOptions, files } = resolutions[resolution]
    const config = { compilerOptions: { ...compilerOptions, target: 'es2022', strict: true, noEmit: true, types: ['node'], skipLibCheck: false }, files }
    writeFileSync(join(project, `tsconfig.${resolution}.json`), JSON.stringify(config))
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
    let output = ''
    try {
      execFileSync(process.execPath, [tsc, '-p', `tsconfig.${resolution}.json`], { cwd: project, encoding: 'utf8' })
    } catch (error) {
      output = String((error as { stdout?: string }).stdout)
    }
    expect(output).toBe('')
    for (const file of files) writeFileSync(join(project, file.replace('consumer', 'drizzle-consumer')), drizzleConsumer)
    const drizzleConfig = { compilerOptions: { ...config.compilerOptions, skipLibCheck: true }, files: files.map((file) => file.replace('consumer', 'drizzle-consumer')) }
    writeFileSync(join(project, `tsconfig.drizzle.${resolution}.json`), JSON.stringify(drizzleConfig))
    let drizzleOutput = ''
    try {
      execFileSync(process.execPath, [tsc, '-p', `tsconfig.drizzle.${resolution}.json`], { cwd: project, encoding: 'utf8' })
    } catch (error) {
      drizzleOutput = String((error as { stdout?: string }).stdout)
    }
    expect(drizzleOutput).toBe('')
  }, 60_000)

  it('ships only the build, the changelog, the readme and the licence', () => {
    const manifest = JSON.parse(readFileSync(join(project, 'node_modules', 'throughline', 'package.json'), 'utf8')) as { name: string }
    expect(manifest.name).toBe('throughline')
    const listing = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    const [{ files }] = JSON.parse(listing) as [{ files: { path: string }[] }]
    const outside = files.map((file) => file.path).filter((path) => !/^(dist\/|CHANGELOG\.md$|README\.md$|LICENSE$|package\.json$)/.test(path))
    expect(outside).toEqual([])
    // No source maps (tsup.config.ts says why), and no comment pointing at a missing one.
    expect(files.filter((file) => file.path.endsWith('.map'))).toEqual([])
    const entry = readFileSync(join(project, 'node_modules', 'throughline', 'dist', 'index.js'), 'utf8')
    expect(entry).not.toContain('sourceMappingURL')
  })
})
