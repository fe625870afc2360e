/**
 * throughline: Django's many-to-many related manager for TypeScript.
 *
 * @example
 * ```ts
 * import { defineModel, manyToMany, MemoryAdapter } from 'throughline'
 *
 * const User = defineModel<{ id: number; name: string }>('User', { table: 'users' })
 * const Interview = defineModel<{ id: number; title: string }>('Interview', { table: 'interviews' })
 * const favorites = manyToMany(User, Interview, { name: 'favorite_interviews', adapter: new MemoryAdapter() })
 *
 * const liked = await favorites.of(user).toggle(interview) // true: now a favourite
 * ```
 *
 * @module throughline
 */
export type {
  AdapterCapabilities,
  Condition,
  CountLinksInput,
  DeleteLinksInput,
  InsertLinksInput,
  InsertTargetInput,
  Key,
  KeyType,
  LinkConditions,
  LinkCount,
  LinkedRow,
  LinkSpec,
  LookupOperator,
  OrderTerm,
  PrefetchedRow,
  PrefetchTargetsInput,
  ProbeLinksInput,
  ProbeLinksResult,
  RelationAdapter,
  Row,
  SelectSourcesInput,
  SelectTargetsInput,
  SelectThroughRowsInput,
  SourceQuery,
  TableSpec,
  TargetQuery,
  TransactionOptions,
  UpdateTargetsInput,
} from './adapter/relation-adapter.js'
export { DEFAULT_RETRY_POLICY, retryConflicts, retryDelay, retryPolicy, type RetryEvent, type RetryPolicy } from './adapter/retry-policy.js'
export { adapterLogger, type AdapterLogEvent, type AdapterLogger } from './adapter/adapter-log.js'
export { TransactionContext } from './adapter/transaction-context.js'
export { MemoryAdapter } from './adapters/memory/memory-adapter.js'
export {
  DefinitionError,
  ERROR_CODES,
  InvalidArgumentError,
  InvalidKeyError,
  InvalidLookupError,
  isThroughlineError,
  LookupError,
  MigrationError,
  MissingThroughValueError,
  SchemaMismatchError,
  SchemaUnavailableError,
  StorageError,
  type StorageErrorCode,
  TargetNotFoundError,
  ThroughlineError,
  UnknownColumnError,
  UnsavedInstanceError,
  WrongModelError,
  type ErrorCode,
  type ThroughlineErrorByCode,
  type ThroughlineErrorFor,
  type ThroughlineErrorOptions,
} from './errors/throughline-error.js'
export {
  M2M_ACTIONS,
  type M2MAction,
  type M2MChangedEvent,
  type M2MChangeEvent,
  type M2MChangeFields,
  type M2MClearEvent,
  type M2MEventBase,
  type M2MEventFor,
  type M2MEventName,
  type M2MListener,
} from './events/relation-events.js'
export {
  RelatedManager,
  type GetOrCreateOptions,
  type SetOptions,
  type TargetInput,
  type TargetsInput,
  type ThroughDefaults,
  type ThroughOptions,
  type UpdateOrCreateOptions,
} from './manager/related-manager.js'
export { RelatedQuery } from './manager/related-query.js'
export {
  LOOKUPS,
  type ColumnLookups,
  type LookupValue,
  type OrderBy,
  type ThroughOrderBy,
  type PkLookups,
  type RangeLookup,
  type RowWhere,
  type StringLookup,
  type ThroughWhere,
  type Where,
} from './manager/parse-where.js'
export { asRow } from './model/as-row.js'
export { coerceKey } from './model/coerce-key.js'
export {
  defineModel,
  type AnyModel,
  type Branded,
  type BrandOf,
  type ColumnConverter,
  type ColumnConverters,
  type DefaultRow,
  type KeyOf,
  type KeyTypeFor,
  type Model,
  type ModelNameFor,
  type ModelOptions,
  type ModelOptionsBase,
  type OrderingTerm,
  type PlainRow,
  type PlainRowOf,
  type RowBrand,
  type RowOf,
} from './model/define-model.js'
export { defineThrough, type Through, type ThroughColumn, type ThroughOptions as ThroughTableOptions, type ValueOrFactory } from './model/define-through.js'
export { modelOf } from './model/model-of.js'
export {
  manyToMany,
  Relation,
  type AutoThroughRow,
  type CountsOfOptions,
  type ManyToManyOptions,
  type PrefetchOptions,
  type RelationExcludeOptions,
  type RelationFilterOptions,
  type SourceInput,
  type ThroughInfo,
} from './relation/many-to-many.js'
export { Prefetched } from './relation/prefetched.js'
export { RelationQuery } from './relation/relation-query.js'
export type { SchemaIssue, SchemaIssueKind, SchemaReport } from './schema/check-schema.js'
export type { ColumnDescription, ColumnFamily, ForeignKeyDescription, TableDescription } from './schema/table-description.js'
export {
  describeJoinTable,
  keyColumnKind,
  primaryKeyColumns,
  type ColumnDefault,
  type ColumnKind,
  type ColumnSchema,
  type TableSchema,
} from './schema/table-schema.js'
