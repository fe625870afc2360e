// Registers ts-node's ESM loader, so that `node --import ./scripts/ts-node.mjs file.ts` runs
// TypeScript on Node 20 (where `npx ts-node` cannot load ES modules: its loader runs off-thread).
import { register } from 'node:module'
import { pathToFileURL } from 'node:url'

register('ts-node/esm', pathToFileURL('./'))
