import { InvalidArgumentError } from '../errors/throughline-error.js'
import { formatValue } from './define-model.js'

// What a value must be to be stored, compared and read back alike on every adapter. The one
// place for these rules: keys (coerce-key.ts), lookup values (parse-where.ts) and column values
// (the manager's create, defaults and through values) all ask here.

/** What is wrong with a value, and what to do about it, for an error message. */
export interface ValueFault {
  /** What the value is: "an array", "a string with a NUL character"... */
  readonly what: string
  /** What to do instead, as a sentence. */
  readonly fix: string
}

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

/**
 * Why no adapter can store `text` as it is, or `undefined` when every one can: a NUL character
 * (PostgreSQL refuses it) or an unpaired UTF-16 surrogate (every SQL database replaces it with
 * U+FFFD, silently, so the value would not read back as it was written).
 */
export function textFault(text: string): ValueFault | undefined {
  if (text.includes('\u0000')) {
    return { what: 'a string with a NUL character', fix: 'Remove the NUL characters (PostgreSQL cannot store them).' }
  }
  if (!isWellFormed(text)) {
    return {
      what: 'a string with an unpaired UTF-16 surrogate',
      fix: 'It is not valid Unicode (a character cut in half?): repair it, for example with text.toWellFormed(), which puts U+FFFD in its place.',
    }
  }
  return undefined
}

/**
 * Why `value` cannot be a column value, or `undefined` when it can. A column value is a string
 * (see {@link textFault}), a finite number, a bigint within 64 bits, a boolean, `null`, a valid
 * `Date` or, when `binary` is allowed, binary data (a `Uint8Array`, which a Node.js `Buffer` is).
 * Everything else is refused: arrays, plain objects, Maps, Sets, functions, symbols, other
 * typed arrays and class instances, whose storage differs from one driver to the next.
 */
export function valueFault(value: unknown, options: { readonly binary: boolean }): ValueFault | undefined {
  switch (typeof value) {
    case 'string':
      return textFault(value)
    case 'boolean':
      return undefined
    case 'number':
      return Number.isFinite(value)
        ? undefined
        : { what: String(value), fix: 'Pass a finite number, or null for no value (SQLite stores NaN as NULL, MariaDB cannot take it at all).' }
    case 'bigint':
      return value >= INT64_MIN && value <= INT64_MAX
        ? undefined
        : { what: 'a bigint beyond 64 bits', fix: 'Pass it as a string (String(value)), in a text or decimal column: no adapter stores it as an integer.' }
    case 'function':
      return { what: 'a function', fix: 'Pass the value it would return.' }
    case 'symbol':
      return { what: 'a symbol', fix: 'Pass a string, such as its description.' }
    case 'undefined':
      return { what: 'undefined', fix: 'Pass null for no value, or leave the column out.' }
    case 'object':
      break
  }
  if (value === null) return undefined
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? { what: 'an invalid Date', fix: 'Pass a valid Date, or null for no value.' } : undefined
  }
  if (value instanceof Uint8Array) {
    if (options.binary) return undefined
    return { what: 'binary data', fix: 'Compare binary columns in your own query; lookups take strings, numbers, bigints, booleans and Dates.' }
  }
  return { what: describeObject(value), fix: OBJECT_FIX }
}

const OBJECT_FIX =
  'A column holds a string, a finite number, a bigint, a boolean, null, a Date or binary data (a Uint8Array or Buffer): ' +
  'serialise the value with JSON.stringify into a text column, or store its items as rows of a table of their own.'

function describeObject(value: object): string {
  if (Array.isArray(value)) return `an array of ${String(value.length)}`
  if (value instanceof Map) return 'a Map'
  if (value instanceof Set) return 'a Set'
  if (ArrayBuffer.isView(value)) return `${value.constructor.name} (only a Uint8Array or Buffer is binary data)`
  if (value instanceof ArrayBuffer) return 'an ArrayBuffer (wrap it in a Uint8Array)'
  const prototype: unknown = Object.getPrototypeOf(value)
  if (prototype === Object.prototype || prototype === null) return 'an object'
  const name = (value.constructor as { name?: unknown } | undefined)?.name
  return typeof name === 'string' && name !== '' ? `an instance of ${name}` : 'an object'
}

/**
 * Checks a value given for `column` (a target column in `create()` or `defaults`, a through
 * column in `throughDefaults` or its declared default); throws `M2M_INVALID_ARGUMENT` naming the
 * column, what the value is and what to do. `where` names the argument: `"create()"`.
 */
export function assertColumnValue(value: unknown, where: string, column: string): void {
  const fault = valueFault(value, { binary: true })
  if (fault === undefined) return
  const shown = typeof value === 'string' ? ` (${formatValue(value)})` : ''
  throw new InvalidArgumentError(`${where}: the value of "${column}" is ${fault.what}${shown}, which no column can hold. ${fault.fix}`)
}

// String.prototype.isWellFormed (Node.js 20) is not in the ES2023 library this package compiles against.
const nativeIsWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

function isWellFormed(text: string): boolean {
  return nativeIsWellFormed === undefined ? !LONE_SURROGATE.test(text) : nativeIsWellFormed.call(text)
}
