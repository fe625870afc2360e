/**
 * Whether `name` is a plain SQL identifier (letters, digits, underscores, not starting with a
 * digit). Table and column names are always quoted by SQL adapters; this check keeps names
 * that could only be mistakes (empty, `__proto__`-looking tricks aside, spaces, dots) out of
 * definitions and queries before they reach storage.
 */
export function isIdentifier(name: unknown): name is string {
  return typeof name === 'string' && name.length <= 128 && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)
}
