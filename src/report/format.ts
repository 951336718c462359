// Plain-text table rendering shared by the CLI's reports.

export function pct(x: number, digits = 1): string {
  return Number.isFinite(x) ? (100 * x).toFixed(digits) : '–';
}

export function signedPct(x: number, digits = 1): string {
  if (!Number.isFinite(x)) return '–';
  const s = (100 * x).toFixed(digits);
  return x >= 0 ? `+${s}` : s;
}

export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  const v = xs.filter(Number.isFinite);
  if (v.length === 0) return { mean: NaN, std: NaN };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, std };
}

/** Renders rows as aligned columns; the first row is the header. Numbers-looking cells align right. */
export function renderTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const numeric = /^[-+]?[\d.–]+(%| ±.*)?$/;
  return rows
    .map((r, i) => {
      const line = r
        .map((cell, c) => (i > 0 && numeric.test(cell) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
        .join('  ')
        .trimEnd();
      return i === 0 ? `${line}\n${widths.map((w) => '─'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}
