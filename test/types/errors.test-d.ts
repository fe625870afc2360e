import { describe, expectTypeOf, it } from 'vitest'
import {
  isThroughlineError,
  type DefinitionError,
  type ErrorCode,
  type LookupError,
  type MigrationError,
  type SchemaMismatchError,
  type StorageError,
  type TargetNotFoundError,
  type ThroughlineError,
  type SchemaIssue,
  type ThroughlineErrorFor,
} from '../../src/index.js'

declare const error: unknown

describe('types: isThroughlineError', () => {
  it('narrows to ThroughlineError without a code', () => {
    if (isThroughlineError(error)) {
      expectTypeOf(error).toEqualTypeOf<ThroughlineError>()
      expectTypeOf(error.code).toEqualTypeOf<ErrorCode>()
    }
  })

  it('narrows by code to the class and its fields', () => {
    if (isThroughlineError(error, 'M2M_TARGET_NOT_FOUND')) {
      expectTypeOf(error).toExtend<TargetNotFoundError>()
      expectTypeOf(error.keys).toEqualTypeOf<readonly unknown[]>()
      expectTypeOf(error.code).toEqualTypeOf<'M2M_TARGET_NOT_FOUND'>()
      expectTypeOf(error.name).toEqualTypeOf<'TargetNotFoundError'>()
    }
    if (isThroughlineError(error, 'M2M_STORAGE')) {
      expectTypeOf(error).toExtend<StorageError>()
      expectTypeOf(error.adapter).toEqualTypeOf<string>()
      expectTypeOf(error.code).toEqualTypeOf<'M2M_STORAGE'>()
    }
    if (isThroughlineError(error, 'M2M_CONSTRAINT_VIOLATION')) expectTypeOf(error.adapter).toEqualTypeOf<string>()
    if (isThroughlineError(error, 'M2M_SCHEMA_MISMATCH')) {
      expectTypeOf(error).toExtend<SchemaMismatchError>()
      expectTypeOf(error.mismatches).toEqualTypeOf<readonly SchemaIssue[]>()
    }
    if (isThroughlineError(error, 'M2M_TABLE_EXISTS')) expectTypeOf(error.table).toEqualTypeOf<string>()
    if (isThroughlineError(error, 'M2M_NOT_FOUND')) {
      expectTypeOf(error).toExtend<LookupError>()
      expectTypeOf(error.code).toEqualTypeOf<'M2M_NOT_FOUND'>()
    }
    if (isThroughlineError(error, 'M2M_REVERSE_HIDDEN')) expectTypeOf(error).toExtend<DefinitionError>()
  })

  it('does not give a class the fields of another', () => {
    if (isThroughlineError(error, 'M2M_INVALID_KEY')) {
      // @ts-expect-error only TargetNotFoundError has keys
      expectTypeOf(error.keys)
      // @ts-expect-error only StorageError has adapter
      expectTypeOf(error.adapter)
    }
    if (isThroughlineError(error, 'M2M_TARGET_NOT_FOUND')) {
      // @ts-expect-error the code is narrowed too
      expectTypeOf(error.code).toEqualTypeOf<'M2M_INVALID_KEY'>()
    }
    // @ts-expect-error no such code
    isThroughlineError(error, 'M2M_NOPE')
    // @ts-expect-error keys only after narrowing
    expectTypeOf((error as ThroughlineError).keys)
  })

  it('maps every code to a class', () => {
    expectTypeOf<ThroughlineErrorFor<'M2M_TABLE_MISSING'>>().toExtend<MigrationError>()
    expectTypeOf<ThroughlineErrorFor<ErrorCode>>().toExtend<ThroughlineError>()
    expectTypeOf<ThroughlineErrorFor<'M2M_UNSAVED_SOURCE' | 'M2M_WRONG_MODEL'>['name']>().toEqualTypeOf<
      'UnsavedInstanceError' | 'WrongModelError'
    >()
  })
})
