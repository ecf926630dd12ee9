// kubectl-style plain-text tables: upper-case headers, left-aligned columns, three spaces apart.

const GAP = "   ";

function widthsOf(headers: readonly string[], rows: readonly (readonly string[])[]): number[] {
  return headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
}

function render(cells: readonly string[], widths: readonly number[]): string {
  // The last column is not padded, so lines carry no trailing spaces.
  return cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join(GAP).trimEnd();
}

/** Header line followed by one line per row. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = widthsOf(headers, rows);
  return [render(headers, widths), ...rows.map((r) => render(r, widths))];
}

/**
 * For `get -w`: later rows reuse the widths of the first table so columns stay aligned,
 * widening (never narrowing) when a value does not fit.
 */
export class StreamingTable {
  private widths: number[];

  constructor(
    private readonly headers: readonly string[],
    initialRows: readonly (readonly string[])[],
  ) {
    this.widths = widthsOf(headers, initialRows);
  }

  header(): string {
    return render(this.headers, this.widths);
  }

  row(cells: readonly string[]): string {
    this.widths = this.widths.map((w, i) => Math.max(w, (cells[i] ?? "").length));
    return render(cells, this.widths);
  }
}
