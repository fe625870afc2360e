import { StorageError, ThroughlineError } from '../../errors/throughline-error.js'
import type { SqlDialect } from './sql-dialect.js'

// Knex prefixes a driver error's message with the statement, values included: for a chunk of
// 30 000 keys that is a megabyte of text. The message keeps the driver's own words only; the
// whole error, statement and all, stays available as the cause.
const MAX_MESSAGE = 500

function field(error: unknown, name: string): unknown {
  return typeof error === 'object' && error !== null ? (error as Record<string, unknown>)[name] : undefined
}

function driverMessage(error: unknown): string {
  const sqlMessage = field(error, 'sqlMessage') // mysql2 keeps the server's message apart
  let message: string
  if (typeof sqlMessage === 'string') message = sqlMessage
  else if (error instanceof Error) {
    const split = error.message.lastIndexOf(' - ')
    message = split < 0 ? error.message : error.message.slice(split + 3)
  } else message = String(error)
  const detail = field(error, 'detail') // pg: "Key (tag_id)=(9) is not present in table ..."
  if (typeof detail === 'string' && detail !== '') message = `${message} (${detail})`
  const code = field(error, 'code')
  if (typeof code === 'string' && !message.includes(code)) message = `${message} [${code}]`
  return message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 3)}...` : message
}

/**
 * Turns a driver error into throughline's {@link StorageError}, with the driver error as
 * `cause`: `M2M_CONFLICT` when the database aborted it for a conflict with a concurrent
 * transaction, `M2M_CONSTRAINT_VIOLATION` when a constraint refused the statement (unique, not
 * null, foreign key, check), `M2M_STORAGE` otherwise. throughline's own errors pass through.
 */
export function toStorageError(adapter: string, dialect: Pick<SqlDialect, 'isConstraintViolation' | 'isConflict'>, error: unknown): ThroughlineError {
  if (error instanceof ThroughlineError) return error
  if (dialect.isConflict(error)) {
    // Retried already where it could be: what reaches the caller is the caller's to run again.
    return new StorageError(adapter, `conflict with a concurrent transaction, which the database rolled back: ${driverMessage(error)}. ${CONFLICT_ADVICE}`, {
      code: 'M2M_CONFLICT',
      cause: error,
    })
  }
  const constraint = dialect.isConstraintViolation(error)
  return new StorageError(adapter, `${constraint ? 'constraint violation' : 'statement failed'}: ${driverMessage(error)}`, {
    code: constraint ? 'M2M_CONSTRAINT_VIOLATION' : 'M2M_STORAGE',
    cause: error,
  })
}

/** What to do about a conflict that reached the caller, for every adapter's message. */
export const CONFLICT_ADVICE =
  'Run the call again; inside a transaction of yours, run the whole transaction again from its start (throughline cannot: it was rolled back whole), or raise the adapter\'s retry option.'

