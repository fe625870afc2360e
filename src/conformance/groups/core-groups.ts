import type { ConformanceOptions } from '../conformance-options.js'
import { addConformance } from './add-conformance.js'
import { errorsConformance } from './errors-conformance.js'
import { excludeIsnullConformance } from './exclude-isnull-conformance.js'
import { getOrCreateConformance } from './get-or-create-conformance.js'
import { largeCallsConformance } from './large-calls-conformance.js'
import { listPageConformance } from './list-page-conformance.js'
import { lookupsConformance } from './lookups-conformance.js'
import { m2mMultipleConformance } from './m2m-multiple-conformance.js'
import { m2mRegressConformance } from './m2m-regress-conformance.js'
import { manyToManyConformance } from './many-to-many-conformance.js'
import { prefetchConformance, queriesConformance } from './queries-conformance.js'
import { seed003PublicationsConformance } from './seed-003-publications-conformance.js'
import { statementBudgetsConformance } from './statement-budgets-conformance.js'
import { stringsConformance } from './strings-conformance.js'
import { transactionsConformance } from './transactions-conformance.js'

/** The groups ported from Django's many_to_many, m2m_regress and m2m_multiple tests, and the contract groups. */
export const coreGroups: readonly ((options: ConformanceOptions) => void)[] = [
  addConformance,
  manyToManyConformance,
  m2mRegressConformance,
  m2mMultipleConformance,
  seed003PublicationsConformance,
  getOrCreateConformance,
  errorsConformance,
  transactionsConformance,
  statementBudgetsConformance,
  stringsConformance,
  lookupsConformance,
  largeCallsConformance,
  queriesConformance,
  excludeIsnullConformance,
  prefetchConformance,
  listPageConformance,
]
