/**
 * The case folding of the case-insensitive lookups (`iexact`, `istartswith`, `iendswith`,
 * `icontains`): ASCII letters only, `A`-`Z` to `a`-`z`. Every other character is left as it is.
 *
 * Why ASCII only: it is the one folding that every supported engine computes exactly alike.
 * SQLite's `lower()` and `LIKE` fold ASCII only (without the ICU extension); PostgreSQL's
 * `lower()` follows the column's collation and the server's locale (`Ä` to `ä` under
 * `en_US.UTF-8`, nothing under `"C"`), and MariaDB's case-insensitive collations also make `ß`
 * equal `ss` or ignore accents and trailing spaces, differently per collation. Unicode
 * lowercasing also changes lengths (`İ` becomes `i` and a combining dot), which would make
 * `iendswith` disagree between engines. So the SQL adapters fold with an explicit mapping of
 * the 26 letters instead of any of those, and memory with this function.
 */
export function foldCase(text: string): string {
  // Most values have no capital ASCII letter: return them without building a new string.
  return /[A-Z]/.test(text) ? text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase()) : text
}
