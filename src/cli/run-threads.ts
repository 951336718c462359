// TensorFlow's thread pools for `anchorage run`, chosen by what the runs
// train (TensorFlow reads the settings once, when the native backend loads).
// `npm run bench:threads -- --rounds=2 --steps=20` on this project's 2-core
// machine, ms per step (intra-op, inter-op threads): the MLPs are fastest on
// one intra-op thread (MLP-256 3.68 against 4.79 with TensorFlow's defaults;
// MLP-400 5.93 against 6.58), the CNN and the ResNet on every core with one
// inter-op thread (27.2 and 203 against 31.9 and 209). One inter-op thread is
// the default for every model (src/tensor/backend.ts): a step is a chain of
// kernels, each waiting for the one before. Settings the user gave are kept.
import { availableParallelism } from 'node:os';
import type { RunConfig } from '../spec/spec.js';

/**
 * The intra-op setting for runs in this process: one thread when every run trains an MLP, else TensorFlow's default
 * (every core); undefined when the user set it.
 */
export function intraOpThreads(runs: readonly RunConfig[], env: NodeJS.ProcessEnv): string | undefined {
  if (env.TF_NUM_INTRAOP_THREADS) return undefined;
  return runs.length > 0 && runs.every((r) => r.components.model.name === 'mlp') ? '1' : undefined;
}

/**
 * oneDNN for runs in this process: on when some run trains a model other than an MLP (its convolutions and batch norm
 * run 1.5–1.6× faster: the CNN's step 26.0 against 41.9 ms on one thread, the ResNet's 174 against 259), off when
 * every run trains an MLP (MLP-400 5.93 against 6.23 ms with it); undefined when the user set it. TensorFlow's notice
 * that oneDNN is on is kept off stderr (src/native/quiet-load.ts).
 */
export function oneDnn(runs: readonly RunConfig[], env: NodeJS.ProcessEnv): string | undefined {
  if (env.TF_ENABLE_ONEDNN_OPTS) return undefined;
  return runs.length > 0 && runs.some((r) => r.components.model.name !== 'mlp') ? '1' : undefined;
}

/**
 * Each of N worker processes gets its share of the cores for TensorFlow's
 * intra-op pool (TensorFlow's default is every core, so N workers would
 * oversubscribe them N times); settings the user gave are kept.
 */
export function workerThreads(workers: number, env: NodeJS.ProcessEnv): Record<string, string> {
  const share = String(Math.max(1, Math.floor(availableParallelism() / workers)));
  return {
    TF_NUM_INTRAOP_THREADS: env.TF_NUM_INTRAOP_THREADS || share,
    TF_NUM_INTEROP_THREADS: env.TF_NUM_INTEROP_THREADS || '1',
  };
}
