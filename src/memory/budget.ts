// What a run can hold, checked before training. A memory of a billion
// examples, a thousand copies of GDumb's memory or a padding of a million
// pixels would otherwise be found out mid-run, as a V8 crash, an "Invalid
// typed array length" or a corrupted wasm heap that takes the process down.
// Plugins state what they will allocate; preflight refuses what cannot fit,
// with the estimate and the limit, under the option that asked for it.
import { totalmem } from 'node:os';
import { OptionError } from '../plugin/define-plugin.js';
import { tf } from '../tensor/tf.js';

/** The wasm backend's heap: 32-bit addresses, 4 GiB at most for all of a run's tensors. */
const WASM_HEAP_BYTES = 4 * 2 ** 30;
/** The longest typed array V8 allocates (elements); one tensor or host array longer than this cannot exist. */
const MAX_ARRAY_ELEMENTS = 2 ** 32;

export interface MemoryLimit {
  readonly bytes: number;
  /** Where the limit comes from, as a message names it. */
  readonly of: string;
}

/** The most a run on the active backend can hold at once. */
export function memoryLimit(): MemoryLimit {
  const machine = { bytes: totalmem(), of: "this machine's memory" };
  return tf.getBackend() === 'wasm' && WASM_HEAP_BYTES < machine.bytes
    ? { bytes: WASM_HEAP_BYTES, of: "the wasm backend's heap" }
    : machine;
}

/** Bytes as a reader takes them in: "1.5 GB", "380 MB", "2 KB". */
export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 40) return `${(bytes / 2 ** 40).toFixed(1)} TB`;
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)} GB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(0)} MB`;
  return `${Math.ceil(bytes / 2 ** 10)} KB`;
}

/**
 * Why `what`, an allocation of `bytes` in arrays of at most `largestArray` float32 or int32 elements, cannot be
 * made; undefined when it can.
 */
export function memoryProblem(what: string, bytes: number, largestArray = bytes / 4): string | undefined {
  const limit = memoryLimit();
  if (bytes > limit.bytes)
    return `${what} would take about ${formatBytes(bytes)}, more than ${limit.of} (${formatBytes(limit.bytes)})`;
  if (largestArray > MAX_ARRAY_ELEMENTS)
    return `${what} would take an array of ${largestArray.toExponential(2)} elements; one holds at most 2^32`;
  return undefined;
}

/** Throws an OptionError at `field` when `what` cannot be allocated: from a plugin's `create`, before training. */
export function requireMemory(field: string, what: string, bytes: number, largestArray?: number): void {
  const problem = memoryProblem(what, bytes, largestArray);
  if (problem) throw new OptionError(field, problem);
}
