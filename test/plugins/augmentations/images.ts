// Test images for the augmentations: every value says where it came from.
/** n images of h×w×c with distinct values: value = 1000·i + 100·y + 10·x + ch. */
export function images(n: number, h: number, w: number, c: number): number[][][][] {
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: h }, (_, y) =>
      Array.from({ length: w }, (_, x) => Array.from({ length: c }, (_, ch) => 1000 * i + 100 * y + 10 * x + ch)),
    ),
  );
}
