// The figures each reliability test prints after its run, so that they show in CI's output:
// how much was run (sequences, processes, operations, faults) and how many rows were lost or
// duplicated.

/** Prints a titled table of figures, one line per database. */
export function printFigures(title: string, rows: readonly Readonly<Record<string, string | number>>[]): void {
  if (rows.length === 0) {
    console.log(`\n[reliability] ${title}: nothing ran (no database).`)
    return
  }
  const lines = rows.map((row) =>
    Object.entries(row)
      .map(([name, value]) => `${name}: ${String(value)}`)
      .join(', '),
  )
  console.log(`\n[reliability] ${title}\n${lines.map((line) => `  ${line}`).join('\n')}`)
}
