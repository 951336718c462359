// What `anchorage setup native --check` reports of the build this process
// loads (setup.ts runs it on a new build, in a process of its own): the
// TensorFlow version, and 'ok' when the fused kernels agree with TensorFlow's
// ops, else why not.
import { selectBackend } from '../tensor/backend.js';
import { tf } from '../tensor/tf.js';
import { rowKernelsStatus } from './kernels.js';
import { selfCheck } from './self-check.js';

/** The largest difference the kernels may show against the ops (float32 round-off of sums in another order). */
const TOLERANCE = 1e-5;

export async function checkNative(): Promise<{ tensorflow: string; kernels: string }> {
  await selectBackend('tensorflow');
  const tensorflow = (tf.backend() as unknown as { binding?: { TF_Version?: string } }).binding?.TF_Version ?? '?';
  const status = rowKernelsStatus();
  if (!status.loaded) return { tensorflow, kernels: status.why };
  const err = selfCheck();
  return {
    tensorflow,
    kernels: err < TOLERANCE ? 'ok' : `they disagree with TensorFlow's ops (largest difference ${err})`,
  };
}
