/**
 * Aligned text tables for human output: numbers right-aligned so that prices line up by their
 * decimal point, text left-aligned, two spaces between columns. Pure: rows in, lines out.
 */

export interface Column {
  readonly header: string
  readonly align?: "left" | "right"
}

/** Display width of a string: code points, so that `×` and `≈` count as one column. */
const width = (text: string): number => [...text].length

const pad = (text: string, to: number, align: "left" | "right"): string => {
  const fill = " ".repeat(Math.max(0, to - width(text)))
  return align === "right" ? fill + text : text + fill
}

/** Renders a header, a rule and the rows; trailing spaces are trimmed from every line. */
export const renderTable = (
  columns: ReadonlyArray<Column>,
  rows: ReadonlyArray<ReadonlyArray<string>>
): ReadonlyArray<string> => {
  const widths = columns.map((column, index) =>
    Math.max(width(column.header), ...rows.map((row) => width(row[index] ?? "")))
  )
  const line = (cells: ReadonlyArray<string>) =>
    columns
      .map((column, index) => pad(cells[index] ?? "", widths[index] ?? 0, column.align ?? "left"))
      .join("  ")
      .trimEnd()
  return [
    line(columns.map((column) => column.header)),
    widths.map((w) => "─".repeat(w)).join("  "),
    ...rows.map(line)
  ]
}
