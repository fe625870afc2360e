/**
 * Every error that throughline throws is a {@link ThroughlineError} with a stable `code`.
 * Messages may be reworded between releases; codes never change within a major version.
 *
 * @example
 * ```ts
 * try {
 *   await favorites.of(user).add(interviewId)
 * } catch (error) {
 *   if (isThroughlineError(error, 'M2M_TARGET_NOT_FOUND')) return reply.status(404)
 *   throw error
 * }
 * ```
 */

import type { SchemaIssue, SchemaReport } from '../schema/check-schema.js'

/** Every error code throughline can produce, as a readonly tuple. */
export const ERROR_CODES = [
  'M2M_INVALID_DEFINITION',
  'M2M_REVERSE_HIDDEN',
  'M2M_NO_ADAPTER',
  'M2M_UNSAVED_SOURCE',
  'M2M_UNSAVED_TARGET',
  'M2M_WRONG_MODEL',
  'M2M_INVALID_KEY',
  'M2M_TARGET_NOT_FOUND',
  'M2M_UNKNOWN_COLUMN',
  'M2M_INVALID_LOOKUP',
  'M2M_INVALID_ARGUMENT',
  'M2M_MISSING_THROUGH_VALUE',
  'M2M_NOT_FOUND',
  'M2M_MULTIPLE_FOUND',
  'M2M_CONSTRAINT_VIOLATION',
  'M2M_STORAGE',
  'M2M_CONFLICT',
  'M2M_SCHEMA_MISMATCH',
  'M2M_SCHEMA_UNAVAILABLE',
  'M2M_TABLE_EXISTS',
  'M2M_TABLE_MISSING',
] as const

/** A stable error code, such as `'M2M_UNSAVED_TARGET'`. */
export type ErrorCode = (typeof ERROR_CODES)[number]

/** Options accepted by every throughline error constructor. */
export interface ThroughlineErrorOptions {
  /** The underlying error, such as the driver error behind a {@link StorageError}. */
  readonly cause?: unknown
}

/**
 * The base class of every error throughline throws. Branch on `code`, not on the message.
 */
export class ThroughlineError extends Error {
  override readonly name: string = 'ThroughlineError'
  /** The stable code of this error. */
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string, options: ThroughlineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
  }
}

/** A model, through or relation definition that cannot work. Thrown when it is defined. */
export class DefinitionError extends ThroughlineError {
  override readonly name = 'DefinitionError' as const
  declare readonly code: 'M2M_INVALID_DEFINITION' | 'M2M_REVERSE_HIDDEN' | 'M2M_NO_ADAPTER'

  constructor(
    message: string,
    code: 'M2M_INVALID_DEFINITION' | 'M2M_REVERSE_HIDDEN' | 'M2M_NO_ADAPTER' = 'M2M_INVALID_DEFINITION',
  ) {
    super(code, message)
  }
}

/**
 * An instance without a primary key value was used: as the source of a manager
 * (`M2M_UNSAVED_SOURCE`, thrown by `of()`) or as a target (`M2M_UNSAVED_TARGET`).
 */
export class UnsavedInstanceError extends ThroughlineError {
  override readonly name = 'UnsavedInstanceError' as const
  declare readonly code: 'M2M_UNSAVED_SOURCE' | 'M2M_UNSAVED_TARGET'

  // Not useless: it narrows `code` to the two codes this class may carry.
  // eslint-disable-next-line @typescript-eslint/no-useless-constructor
  constructor(code: 'M2M_UNSAVED_SOURCE' | 'M2M_UNSAVED_TARGET', message: string) {
    super(code, message)
  }
}

/** An object of another model was passed, e.g. an Article where a Publication is expected. */
export class WrongModelError extends ThroughlineError {
  override readonly name = 'WrongModelError' as const
  declare readonly code: 'M2M_WRONG_MODEL'

  constructor(message: string) {
    super('M2M_WRONG_MODEL', message)
  }
}

/** A key that cannot be a primary key of the model: null, NaN, a fraction, an object, "abc" for an integer key... */
export class InvalidKeyError extends ThroughlineError {
  override readonly name = 'InvalidKeyError' as const
  declare readonly code: 'M2M_INVALID_KEY'

  constructor(message: string) {
    super('M2M_INVALID_KEY', message)
  }
}

/** A well-formed key that no target row has. `keys` lists the missing keys. */
export class TargetNotFoundError extends ThroughlineError {
  override readonly name = 'TargetNotFoundError' as const
  declare readonly code: 'M2M_TARGET_NOT_FOUND'
  /** The keys that have no row, as coerced by the model's key type. */
  readonly keys: readonly unknown[]

  constructor(message: string, keys: readonly unknown[], options: ThroughlineErrorOptions = {}) {
    super('M2M_TARGET_NOT_FOUND', message, options)
    this.keys = keys
  }
}

/** A column name that the model or through table does not declare, in `throughDefaults`, `filter` or `create`. */
export class UnknownColumnError extends ThroughlineError {
  override readonly name = 'UnknownColumnError' as const
  declare readonly code: 'M2M_UNKNOWN_COLUMN'

  constructor(message: string) {
    super('M2M_UNKNOWN_COLUMN', message)
  }
}

/** A `filter()` lookup that does not exist (`title__like`) or a value it cannot take. */
export class InvalidLookupError extends ThroughlineError {
  override readonly name = 'InvalidLookupError' as const
  declare readonly code: 'M2M_INVALID_LOOKUP'

  constructor(message: string) {
    super('M2M_INVALID_LOOKUP', message)
  }
}

/** An argument of the wrong shape: `set(7)`, an options object with unknown keys, a negative limit... */
export class InvalidArgumentError extends ThroughlineError {
  override readonly name = 'InvalidArgumentError' as const
  declare readonly code: 'M2M_INVALID_ARGUMENT'

  constructor(message: string) {
    super('M2M_INVALID_ARGUMENT', message)
  }
}

/** A through column that is required has no value from `throughDefaults` nor from its declared default. */
export class MissingThroughValueError extends ThroughlineError {
  override readonly name = 'MissingThroughValueError' as const
  declare readonly code: 'M2M_MISSING_THROUGH_VALUE'

  constructor(message: string) {
    super('M2M_MISSING_THROUGH_VALUE', message)
  }
}

/** `get()` found no row (`M2M_NOT_FOUND`) or more than one (`M2M_MULTIPLE_FOUND`). */
export class LookupError extends ThroughlineError {
  override readonly name = 'LookupError' as const
  declare readonly code: 'M2M_NOT_FOUND' | 'M2M_MULTIPLE_FOUND'

  // Not useless: it narrows `code` to the two codes this class may carry.
  // eslint-disable-next-line @typescript-eslint/no-useless-constructor
  constructor(code: 'M2M_NOT_FOUND' | 'M2M_MULTIPLE_FOUND', message: string) {
    super(code, message)
  }
}

/** The codes of a {@link StorageError}. */
export type StorageErrorCode = 'M2M_STORAGE' | 'M2M_CONSTRAINT_VIOLATION' | 'M2M_CONFLICT'

/**
 * The storage refused or failed a statement. `code` is `M2M_CONSTRAINT_VIOLATION` when a
 * constraint (unique, not null, foreign key on the source) refused it; `M2M_CONFLICT` when the
 * database aborted the transaction for a conflict with a concurrent one (a serialization
 * failure, a deadlock, SQLite busy) and it was not run again: inside your own transaction
 * (which the database rolled back whole: run it again from its start), or after the adapter's
 * retry policy was spent; `M2M_STORAGE` otherwise. The driver's error is the `cause`.
 *
 * @example
 * ```ts
 * for (let attempt = 1; ; attempt++) {
 *   try {
 *     return await db.transaction(async (trx) => { ... favorites.using(new KnexAdapter(trx)) ... })
 *   } catch (error) {
 *     if (attempt < 5 && isThroughlineError(error, 'M2M_CONFLICT')) continue
 *     throw error
 *   }
 * }
 * ```
 */
export class StorageError extends ThroughlineError {
  override readonly name = 'StorageError' as const
  declare readonly code: StorageErrorCode
  /** The name of the adapter that failed. */
  readonly adapter: string

  constructor(adapter: string, message: string, options: ThroughlineErrorOptions & { readonly code?: StorageErrorCode } = {}) {
    super(options.code ?? 'M2M_STORAGE', `[${adapter}] ${message}`, options)
    this.adapter = adapter
  }
}

/**
 * `relation.check()` found that the database does not fit the relation. `mismatches` lists
 * every problem found, all at once, each naming its table and column; `report` is the whole
 * report, warnings included.
 */
export class SchemaMismatchError extends ThroughlineError {
  override readonly name = 'SchemaMismatchError' as const
  declare readonly code: 'M2M_SCHEMA_MISMATCH'
  /** The whole report: the mismatches, and the warnings that do not stop the relation from working. */
  readonly report: SchemaReport
  /** Every mismatch found, in the order the report lists them. */
  readonly mismatches: readonly SchemaIssue[]

  constructor(message: string, report: SchemaReport) {
    super('M2M_SCHEMA_MISMATCH', message)
    this.report = report
    this.mismatches = report.mismatches
  }
}

/** `relation.check()` was called on an adapter that cannot read its database's schema (it has no `describeTable`). */
export class SchemaUnavailableError extends ThroughlineError {
  override readonly name = 'SchemaUnavailableError' as const
  declare readonly code: 'M2M_SCHEMA_UNAVAILABLE'

  constructor(message: string) {
    super('M2M_SCHEMA_UNAVAILABLE', message)
  }
}

/**
 * A schema helper of a migration found the database in the wrong state: `createJoinTable` on a
 * table that exists (`M2M_TABLE_EXISTS`, unless `ifNotExists`), `dropJoinTable` on one that
 * does not (`M2M_TABLE_MISSING`, unless `ifExists`). `table` names it.
 */
export class MigrationError extends ThroughlineError {
  override readonly name = 'MigrationError' as const
  declare readonly code: 'M2M_TABLE_EXISTS' | 'M2M_TABLE_MISSING'
  /** The table the helper was asked to create or drop. */
  readonly table: string

  constructor(code: 'M2M_TABLE_EXISTS' | 'M2M_TABLE_MISSING', table: string, message: string) {
    super(code, message)
    this.table = table
  }
}

/**
 * The class of the errors that carry each code: what {@link isThroughlineError} narrows to.
 * Every code of {@link ERROR_CODES} has an entry (the compiler checks it in
 * {@link ThroughlineErrorFor}).
 */
export interface ThroughlineErrorByCode {
  /** See {@link DefinitionError}. */
  M2M_INVALID_DEFINITION: DefinitionError
  /** See {@link DefinitionError}. */
  M2M_REVERSE_HIDDEN: DefinitionError
  /** See {@link DefinitionError}. */
  M2M_NO_ADAPTER: DefinitionError
  /** See {@link UnsavedInstanceError}. */
  M2M_UNSAVED_SOURCE: UnsavedInstanceError
  /** See {@link UnsavedInstanceError}. */
  M2M_UNSAVED_TARGET: UnsavedInstanceError
  /** See {@link WrongModelError}. */
  M2M_WRONG_MODEL: WrongModelError
  /** See {@link InvalidKeyError}. */
  M2M_INVALID_KEY: InvalidKeyError
  /** See {@link TargetNotFoundError}: `keys` lists the missing keys. */
  M2M_TARGET_NOT_FOUND: TargetNotFoundError
  /** See {@link UnknownColumnError}. */
  M2M_UNKNOWN_COLUMN: UnknownColumnError
  /** See {@link InvalidLookupError}. */
  M2M_INVALID_LOOKUP: InvalidLookupError
  /** See {@link InvalidArgumentError}. */
  M2M_INVALID_ARGUMENT: InvalidArgumentError
  /** See {@link MissingThroughValueError}. */
  M2M_MISSING_THROUGH_VALUE: MissingThroughValueError
  /** See {@link LookupError}. */
  M2M_NOT_FOUND: LookupError
  /** See {@link LookupError}. */
  M2M_MULTIPLE_FOUND: LookupError
  /** See {@link StorageError}: `adapter` names the adapter, `cause` is the driver's error. */
  M2M_CONSTRAINT_VIOLATION: StorageError
  /** See {@link StorageError}: `adapter` names the adapter, `cause` is the driver's error. */
  M2M_STORAGE: StorageError
  /** See {@link StorageError}: a conflict with a concurrent transaction, not run again; `cause` is the driver's error. */
  M2M_CONFLICT: StorageError
  /** See {@link SchemaMismatchError}: `mismatches` and `report`. */
  M2M_SCHEMA_MISMATCH: SchemaMismatchError
  /** See {@link SchemaUnavailableError}. */
  M2M_SCHEMA_UNAVAILABLE: SchemaUnavailableError
  /** See {@link MigrationError}: `table` names the table. */
  M2M_TABLE_EXISTS: MigrationError
  /** See {@link MigrationError}: `table` names the table. */
  M2M_TABLE_MISSING: MigrationError
}

/**
 * The error that carries code `C`: its class, with `code` narrowed to `C`
 * (`ThroughlineErrorFor<'M2M_TARGET_NOT_FOUND'>` has `keys`).
 */
// Indexing by every ErrorCode is what makes a code missing from the map a compile error here.
export type ThroughlineErrorFor<C extends ErrorCode> = ThroughlineErrorByCode[C] & { readonly code: C }

/**
 * Whether `error` is a throughline error.
 *
 * @example
 * ```ts
 * if (isThroughlineError(error)) console.error(error.code)
 * ```
 */
export function isThroughlineError(error: unknown): error is ThroughlineError
/**
 * Whether `error` is a throughline error with the given code; it narrows `error` to the class
 * that carries that code, with its fields.
 *
 * @example
 * ```ts
 * if (isThroughlineError(error, 'M2M_TARGET_NOT_FOUND')) return reply.status(404).send({ missing: error.keys })
 * if (isThroughlineError(error, 'M2M_STORAGE')) logger.error(error.adapter, error.cause)
 * ```
 */
export function isThroughlineError<C extends ErrorCode>(error: unknown, code: C): error is ThroughlineErrorFor<C>
export function isThroughlineError(error: unknown, code?: ErrorCode): boolean {
  return error instanceof ThroughlineError && (code === undefined || error.code === code)
}
