// Comparing tensors with values dumped from PyTorch (test/fixtures/*-torch.json), on every backend this machine has.
import { tf } from '../../src/tensor/tf.js';
import { selectBackend, type BackendName } from '../../src/tensor/backend.js';

/** A tensor as the PyTorch scripts dump it. */
export interface Dumped {
  shape: number[];
  values: number[];
}

/** The largest absolute difference between a tensor and a dumped one. */
export function maxDiff(a: tf.Tensor, expected: Dumped): number {
  const got = a.dataSync();
  return Math.max(...expected.values.map((v, i) => Math.abs(v - got[i])));
}

/** The backends that load here (each selected once to find out; the caller selects the one it wants). */
export async function availableBackends(): Promise<BackendName[]> {
  const backends: BackendName[] = [];
  for (const b of ['tensorflow', 'wasm', 'cpu'] as const) {
    try {
      await selectBackend(b);
      backends.push(b);
    } catch {
      /* not set up here */
    }
  }
  return backends;
}
