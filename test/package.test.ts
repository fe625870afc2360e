import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
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
  }, 180_000)

  afterAll(() => {
    if (project !== '') rmSync(project, { recursive: true, force: true })
  })

  const script = `
    const root = await load('throughline')
    const knex = await load('throughline/knex')
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
    console.log(JSON.stringify({ linked, code, shared, knex: typeof knex.KnexAdapter, conformance: typeof conformance.runAdapterConformance, direct: typeof direct.BetterSqlite3Adapter }))
  `

  it('works from import', () => {
    writeFileSync(join(project, 'esm.mjs'), `const load = (name) => import(name);\n${script}`)
    const result = JSON.parse(execFileSync(process.execPath, ['esm.mjs'], { cwd: project, encoding: 'utf8' })) as Record<string, unknown>
    expect(result).toEqual({ linked: true, code: 'M2M_TARGET_NOT_FOUND', shared: true, knex: 'function', conformance: 'function', direct: 'function' })
  })

  it('works from require', () => {
    writeFileSync(join(project, 'cjs.cjs'), `const load = async (name) => require(name);\n(async () => {${script}})()`)
    const result = JSON.parse(execFileSync(process.execPath, ['cjs.cjs'], { cwd: project, encoding: 'utf8' })) as Record<string, unknown>
    expect(result).toEqual({ linked: true, code: 'M2M_TARGET_NOT_FOUND', shared: true, knex: 'function', conformance: 'function', direct: 'function' })
  })

  it('ships only the build, the changelog, the readme and the licence', () => {
    const manifest = JSON.parse(readFileSync(join(project, 'node_modules', 'throughline', 'package.json'), 'utf8')) as { name: string }
    expect(manifest.name).toBe('throughline')
    const listing = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    const [{ files }] = JSON.parse(listing) as [{ files: { path: string }[] }]
    const outside = files.map((file) => file.path).filter((path) => !/^(dist\/|CHANGELOG\.md$|README\.md$|LICENSE$|package\.json$)/.test(path))
    expect(outside).toEqual([])
  })
})
