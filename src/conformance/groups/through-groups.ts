import type { ConformanceOptions } from '../conformance-options.js'
import { columnNamesConformance } from './column-names-conformance.js'
import { m2mRecursiveConformance } from './recursive-conformance.js'
import { seedFavoritesConformance } from './seed-000-favorites-conformance.js'
import { seedCollectorsConformance } from './seed-002-collectors-conformance.js'
import { seedRelatedManagerConformance } from './seed-004-related-manager-conformance.js'
import { m2mSignalsConformance } from './signals-conformance.js'
import { m2mThroughConformance, m2mThroughSelfConformance } from './through-conformance.js'
import { throughDefinitionConformance } from './through-definition-conformance.js'
import { m2mThroughRegressConformance } from './through-regress-conformance.js'
import { userTablesConformance } from './user-tables-conformance.js'

/** The groups ported from Django's m2m_through, m2m_through_regress, m2m_recursive and m2m_signals tests, the seeds, and the tables users bring. */
export const throughGroups: readonly ((options: ConformanceOptions) => void)[] = [
  m2mRecursiveConformance,
  m2mThroughConformance,
  m2mThroughSelfConformance,
  m2mThroughRegressConformance,
  m2mSignalsConformance,
  throughDefinitionConformance,
  seedFavoritesConformance,
  seedCollectorsConformance,
  seedRelatedManagerConformance,
  userTablesConformance,
  columnNamesConformance,
]
