// Runs every worked example in examples/ one after the other, each in its own Node process,
// and fails if any fails. `npm run examples` calls it; `npm run examples -- favorites` runs one.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const wanted = process.argv.slice(2)
const all = readdirSync(new URL('../examples/', import.meta.url))
  .filter((file) => file.endsWith('.ts') && !file.startsWith('_'))
  .sort()
// A name runs the example of that name, or else every example whose name begins with it:
// `kysely` runs kysely.ts alone, not kysely-pglite.ts as well.
const pick = (name) => (all.includes(`${name}.ts`) ? [`${name}.ts`] : all.filter((file) => file.startsWith(name)))
const examples = wanted.length === 0 ? all : [...new Set(wanted.flatMap(pick))].sort()

if (examples.length === 0) {
  console.error(`No example matches ${wanted.join(', ')}.`)
  process.exit(1)
}

let failed = 0
for (const file of examples) {
  console.log(`\n=== examples/${file}`)
  // Examples that run tests (custom-adapter runs the whole conformance suite under node:test)
  // print a summary line and their failures in full, not one line per test.
  const reporter = '--test-reporter=./scripts/test-summary-reporter.mjs'
  const result = spawnSync(process.execPath, [reporter, '--import', './scripts/ts-node.mjs', `examples/${file}`], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  })
  if (result.status !== 0) {
    failed++
    console.error(`--- examples/${file} failed (exit ${String(result.status)})`)
  }
}
console.log(`\n${String(examples.length - failed)} of ${String(examples.length)} examples ran cleanly.`)
process.exit(failed === 0 ? 0 : 1)
