/**
 * The adapter conformance suite: every behaviour of the manager, run against an adapter, so
 * that a third-party adapter can prove it behaves exactly as the built-in ones. The test
 * runner is injected and assertions use `node:assert`, so the suite works under any runner.
 *
 * @example
 * ```ts
 * import { describe, it, beforeEach, afterEach } from 'vitest'
 * import { runAdapterConformance } from 'throughline/conformance'
 *
 * runAdapterConformance({
 *   name: 'my-adapter',
 *   test: { describe, it, beforeEach, afterEach },
 *   createAdapter: async (schema) => createMyAdapterOverEmptyTables(schema),
 *   inspect: (table) => readAllRowsDirectly(table),
 * })
 * ```
 *
 * @module throughline/conformance
 */
import type { ConformanceOptions } from './conformance-options.js'
import { coreGroups } from './groups/core-groups.js'
import { reliabilityGroups } from './groups/reliability-groups.js'
import { throughGroups } from './groups/through-groups.js'

export type { ConformanceOptions, JoinTables, TestApi, TestFn } from './conformance-options.js'
export { ConformanceContext } from './conformance-context.js'
export { modelTable, type ColumnDeclaration } from './model-table.js'
export { addConformance } from './groups/add-conformance.js'
export { columnNamesConformance } from './groups/column-names-conformance.js'
export { errorsConformance } from './groups/errors-conformance.js'
export { excludeIsnullConformance } from './groups/exclude-isnull-conformance.js'
export { getOrCreateConformance } from './groups/get-or-create-conformance.js'
export { largeCallsConformance } from './groups/large-calls-conformance.js'
export { lookupsConformance } from './groups/lookups-conformance.js'
export { m2mMultipleConformance } from './groups/m2m-multiple-conformance.js'
export { m2mRecursiveConformance } from './groups/recursive-conformance.js'
export { m2mRegressConformance } from './groups/m2m-regress-conformance.js'
export { m2mSignalsConformance } from './groups/signals-conformance.js'
export { m2mThroughConformance } from './groups/through-conformance.js'
export { m2mThroughRegressConformance } from './groups/through-regress-conformance.js'
export { m2mThroughSelfConformance } from './groups/through-conformance.js'
export { manyToManyConformance } from './groups/many-to-many-conformance.js'
export { prefetchConformance, queriesConformance } from './groups/queries-conformance.js'
export { seed003PublicationsConformance } from './groups/seed-003-publications-conformance.js'
export { seedCollectorsConformance } from './groups/seed-002-collectors-conformance.js'
export { seedFavoritesConformance } from './groups/seed-000-favorites-conformance.js'
export { seedRelatedManagerConformance } from './groups/seed-004-related-manager-conformance.js'
export { statementBudgetsConformance } from './groups/statement-budgets-conformance.js'
export { stringsConformance } from './groups/strings-conformance.js'
export { throughDefinitionConformance } from './groups/through-definition-conformance.js'
export { transactionsConformance } from './groups/transactions-conformance.js'
export { userTablesConformance } from './groups/user-tables-conformance.js'
export { coreGroups } from './groups/core-groups.js'
export { throughGroups } from './groups/through-groups.js'
export { reliabilityGroups } from './groups/reliability-groups.js'

/** Every group, in the order `runAdapterConformance` runs them. */
export const conformanceGroups: readonly ((options: ConformanceOptions) => void)[] = [...coreGroups, ...throughGroups, ...reliabilityGroups]

/**
 * Runs every conformance group against an adapter.
 */
export function runAdapterConformance(options: ConformanceOptions): void {
  if (typeof options !== 'object') throw new TypeError('runAdapterConformance() takes an options object.')
  if (typeof options.createAdapter !== 'function') throw new TypeError('createAdapter must be a function.')
  for (const method of ['describe', 'it', 'beforeEach', 'afterEach'] as const) {
    if (typeof options.test[method] !== 'function') throw new TypeError(`test.${method} must be a function.`)
  }
  for (const group of conformanceGroups) group(options)
}
