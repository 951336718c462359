// Which TensorFlow.js backend a run trained on, as recorded in run.json and
// told to reporters (src/tensor/backend.ts selects it).

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  /** tfjs backend name in use. */
  name: BackendName;
  /** Human-readable: which package provided it and with which features. */
  detail: string;
  /** Why faster backends were not used, for the record (empty when none were skipped). */
  skipped: string[];
  versions: Record<string, string>;
  /**
   * Native TensorFlow's settings as the process started it (for run.json):
   * oneDNN, intra- and inter-op threads ('default': TensorFlow's, all
   * cores), anchorage's fused kernels.
   */
  settings?: Record<string, string>;
}
