import type { Key, KeyType, TableSpec } from '../adapter/relation-adapter.js'
import { InvalidKeyError, UnsavedInstanceError, WrongModelError } from '../errors/throughline-error.js'
import { columnNamesOf } from './column-names.js'
import { textFault } from './column-value.js'
import { formatValue, type AnyModel } from './define-model.js'
import { modelOf } from './model-of.js'

const INTEGER = /^[+-]?\d+$/
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const BIGINT_MIN = -(2n ** 63n)
const BIGINT_MAX = 2n ** 63n - 1n

/**
 * Coerces a raw key to the model's key type, like Django's `get_prep_value`: `"3"` and `3`
 * become the same integer key. Returns `undefined` when the value cannot be such a key;
 * {@link coerceKey} turns that into an error.
 */
export function tryCoerceKey(value: unknown, keyType: KeyType): Key | undefined {
  switch (keyType) {
    case 'integer': {
      if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined
      if (typeof value === 'string' && INTEGER.test(value)) {
        const number = Number(value)
        return Number.isSafeInteger(number) ? number : undefined
      }
      if (typeof value === 'bigint') {
        const number = Number(value)
        return Number.isSafeInteger(number) ? number : undefined
      }
      return undefined
    }
    case 'bigint': {
      let big: bigint | undefined
      if (typeof value === 'bigint') big = value
      else if (typeof value === 'number' && Number.isSafeInteger(value)) big = BigInt(value)
      else if (typeof value === 'string' && INTEGER.test(value) && value.length <= 21) big = BigInt(value)
      return big !== undefined && big >= BIGINT_MIN && big <= BIGINT_MAX ? big : undefined
    }
    case 'string': {
      // A NUL character is never part of a real key, and PostgreSQL cannot even store one; a
      // lone surrogate would be stored as U+FFFD, another key (column-value.ts has the rule).
      if (typeof value === 'string') return textFault(value) === undefined ? value : undefined
      if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined
      if (typeof value === 'bigint') return String(value)
      return undefined
    }
    case 'uuid':
      return typeof value === 'string' && UUID.test(value) ? value.toLowerCase() : undefined
  }
}

const EXPECTED: Record<KeyType, string> = {
  integer: 'an integer',
  bigint: 'a 64-bit integer',
  string: 'a string',
  uuid: 'a UUID',
}

/** Coerces a raw key for `model`, or throws {@link InvalidKeyError}. */
export function coerceKey(value: unknown, model: AnyModel): Key {
  return coerceNamedKey(value, model.name, model.primaryKey, model.keyType)
}

/** {@link coerceKey} for a table as adapters see it: a key given to `insertTarget`. */
export function coerceSpecKey(value: unknown, spec: TableSpec): Key {
  return coerceNamedKey(value, spec.model, spec.primaryKey, spec.keyType)
}

/**
 * A key as a driver returned it, in the key type (PostgreSQL returns bigint columns as
 * strings); a value that is no such key is passed through as it is.
 */
export function readStoredKey(value: unknown, keyType: KeyType): Key {
  return tryCoerceKey(value, keyType) ?? (value as Key)
}

function coerceNamedKey(value: unknown, name: string, primaryKey: string, keyType: KeyType): Key {
  const key = tryCoerceKey(value, keyType)
  if (key === undefined) {
    const fault = keyType === 'string' && typeof value === 'string' ? textFault(value) : undefined
    throw new InvalidKeyError(
      fault === undefined
        ? `${name} key "${primaryKey}" expected ${EXPECTED[keyType]} but got ${formatValue(value)}. Pass a saved ${name} or its primary key.`
        : `${name} key "${primaryKey}" cannot be ${fault.what} (${formatValue(value)}): no row has such a key. ${fault.fix}`,
    )
  }
  return key
}

/** What a target is being resolved for, to word the errors. */
export type TargetVerb = 'add' | 'remove' | 'set' | 'toggle' | 'check' | 'filter by'

/**
 * Resolves one target (a model instance, any object carrying the primary key, or a raw key)
 * to its coerced key. Throws {@link WrongModelError} for an object of another model,
 * {@link UnsavedInstanceError} for an object without a key, {@link InvalidKeyError} otherwise.
 */
export function resolveTargetKey(value: unknown, model: AnyModel, verb: TargetVerb): Key {
  if (!isRowLike(value, model)) return coerceKey(value, model)
  assertModel(value, model)
  const key = (value as Record<string, unknown>)[model.primaryKey]
  if (key === undefined || key === null) {
    throw new UnsavedInstanceError(
      'M2M_UNSAVED_TARGET',
      `Cannot ${verb} ${model.describe(value)}: it is unsaved (no value for "${model.primaryKey}"). Save it first.`,
    )
  }
  return coerceKey(key, model)
}

/**
 * Resolves the source of a manager. Same rules as a target, with Django's message for an
 * unsaved source.
 */
export function resolveSourceKey(value: unknown, model: AnyModel): Key {
  if (!isRowLike(value, model)) {
    if (value === undefined || value === null) {
      throw new UnsavedInstanceError(
        'M2M_UNSAVED_SOURCE',
        `${model.name} is unsaved: it needs a value for "${model.primaryKey}" before this many-to-many relationship can be used.`,
      )
    }
    return coerceKey(value, model)
  }
  assertModel(value, model)
  const key = (value as Record<string, unknown>)[model.primaryKey]
  if (key === undefined || key === null) {
    throw new UnsavedInstanceError(
      'M2M_UNSAVED_SOURCE',
      `${model.describe(value)} is unsaved: it needs a value for "${model.primaryKey}" before this many-to-many relationship can be used.`,
    )
  }
  return coerceKey(key, model)
}

/**
 * Whether `value` is meant as a row (saved or not) rather than as a raw key: an object that
 * throughline returned, an instance of the model's class, or an object with the primary key or
 * one of the model's columns. Anything else (`{}`, a Map, an array, a Date) is a malformed key,
 * not an unsaved row.
 */
function isRowLike(value: unknown, model: AnyModel): value is object {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Date) return false
  if (modelOf(value) !== undefined || (model.class !== undefined && value instanceof model.class)) return true
  if (model.primaryKey in value) return true
  const { columns } = model
  const names = columnNamesOf(model)
  return Object.keys(value).some((key) => columns === undefined || columns.includes(key) || names.isRenamedColumn(key))
}

/**
 * Throws {@link WrongModelError} when `value` is known to be a row of another model: tagged
 * with another model, an instance of another class than the model's `class`, or (for a model
 * that declares its columns) a plain object with a column the model does not have.
 */
export function assertModel(value: object, model: AnyModel): void {
  const tagged = modelOf(value)
  if (tagged !== undefined) {
    if (tagged !== model) throw new WrongModelError(`${model.name} instance expected, got ${tagged.describe(value)}.`)
    return
  }
  if (model.class !== undefined && !(value instanceof model.class)) {
    const prototype: unknown = Object.getPrototypeOf(value)
    // A plain object (a row from a query builder) is accepted; an instance of another class is not.
    if (prototype !== Object.prototype && prototype !== null) {
      const className = (value.constructor as { name?: unknown } | undefined)?.name
      throw new WrongModelError(
        `${model.name} instance expected, got an instance of ${typeof className === 'string' && className !== '' ? className : 'another class'}.`,
      )
    }
  }
  // A row keyed by database columns (a raw select) where the model's properties have other
  // names: say which property the column is, rather than that the key is missing.
  const names = columnNamesOf(model)
  if (names.mapped) {
    const stored = Object.keys(value).find((key) => names.isRenamedColumn(key))
    if (stored !== undefined) {
      throw new WrongModelError(
        `${model.name} instance expected, got an object keyed by database columns ("${stored}" is the column of "${names.property(stored)}"). ` +
          'Pass a row keyed by properties, or its key.',
      )
    }
  }
  // A plain row from elsewhere (a knex select) carries no model. When the model declares its
  // columns, a column it does not have means the row is another model's: an Article row
  // `{ id, headline }` must not pass as the Publication with the same id.
  const { columns } = model
  if (columns !== undefined) {
    const foreign = Object.keys(value).find((key) => !columns.includes(key))
    if (foreign !== undefined) {
      throw new WrongModelError(`${model.name} instance expected, got an object with a column ${model.name} does not have ("${foreign}").`)
    }
  }
}
