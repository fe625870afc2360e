import type { ConformanceOptions } from '../conformance-options.js'
import { addConformance } from './add-conformance.js'

/** The groups ported from Django's many_to_many, m2m_regress and m2m_multiple tests, and the contract groups. */
export const coreGroups: readonly ((options: ConformanceOptions) => void)[] = [addConformance]
