// Runs the benchmark (bench/main.ts) in its own Node process with ts-node's ESM loader, as
// scripts/run-examples.mjs runs the examples. `npm run bench`; `npm run bench -- --quick` for a
// short run. PostgreSQL is included when PG_URL is set.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const result = spawnSync(process.execPath, ['--import', './scripts/ts-node.mjs', 'bench/main.ts', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NODE_NO_WARNINGS: '1' },
})
process.exit(result.status ?? 1)
