// An independent float64 least-squares solve (Householder QR, no normal equations) that the closed-form solves
// are checked against.
/** Least squares min ‖A·x − b‖ for A [rows, cols] (rows ≥ cols) by Householder QR, column by column of B. */
export function leastSquares(a: number[][], b: number[][]): number[][] {
  const rows = a.length;
  const cols = a[0].length;
  const r = a.map((row) => [...row]);
  const qtb = b.map((row) => [...row]);
  for (let j = 0; j < cols; j++) {
    let norm = 0;
    for (let i = j; i < rows; i++) norm += r[i][j] ** 2;
    norm = Math.sqrt(norm);
    const alpha = r[j][j] > 0 ? -norm : norm;
    const v = Array.from({ length: rows }, (_, i) => (i < j ? 0 : r[i][j]));
    v[j] -= alpha;
    const vv = v.reduce((s, x) => s + x * x, 0);
    if (vv === 0) continue;
    const reflect = (m: number[][], width: number) => {
      for (let c = 0; c < width; c++) {
        let dot = 0;
        for (let i = j; i < rows; i++) dot += v[i] * m[i][c];
        const f = (2 * dot) / vv;
        for (let i = j; i < rows; i++) m[i][c] -= f * v[i];
      }
    };
    reflect(r, cols);
    reflect(qtb, b[0].length);
  }
  const x = Array.from({ length: cols }, () => new Array<number>(b[0].length).fill(0));
  for (let c = 0; c < b[0].length; c++) {
    for (let i = cols - 1; i >= 0; i--) {
      let s = qtb[i][c];
      for (let k = i + 1; k < cols; k++) s -= r[i][k] * x[k][c];
      x[i][c] = s / r[i][i];
    }
  }
  return x;
}
