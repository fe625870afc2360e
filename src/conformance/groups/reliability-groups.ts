import type { ConformanceOptions } from '../conformance-options.js'
import { hostileInputConformance } from './hostile-input-conformance.js'

/** The groups for hostile and malformed input, on every adapter. */
export const reliabilityGroups: readonly ((options: ConformanceOptions) => void)[] = [hostileInputConformance]
