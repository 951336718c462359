// What online replay (replay with fill 'online', MIR) lets an experiment
// choose, as the references differ: which memory rows a step may replay, and
// how the replayed rows enter the loss.
import { o } from '../plugin/options.js';
import type { Tensor } from '../tensor/tf.js';
import type { ExtraRows, LossContext } from '../contracts/strategy.js';
import { meanCrossEntropy, rowsOf } from './losses.js';

export const onlineReplayOptions = {
  from: {
    ...o.enum(['memory', 'earlier-tasks'], {
      description:
        "rows a step replays: any in the memory, or only earlier tasks' (Aljundi et al.'s ER and MIR code; needs " +
        'task boundaries)',
      default: 'memory',
    }),
    omitAtDefault: true,
  },
  memoryLoss: {
    ...o.enum(['joint', 'separate'], {
      description:
        "'joint': replayed rows join the incoming ones in one mean cross-entropy (Chaudhry et al., 2019; Mammoth); " +
        "'separate': CE(incoming) + CE(replayed), each its own mean (Aljundi et al.'s code)",
      default: 'joint',
    }),
    omitAtDefault: true,
  },
};

/** Whether the options need task boundaries: true when they do not, else what to change. */
export function onlineReplayTaskFree(opts: { from: string }): true | string {
  return opts.from === 'memory' || "from: 'earlier-tasks' needs task boundaries; from: 'memory' does not";
}

/** The replayed rows as composeBatch returns them: with weight 0 when their loss is a term of its own. */
export function replayedRows(rows: ExtraRows, memoryLoss: string): ExtraRows {
  return memoryLoss === 'separate' ? { ...rows, weight: 0 } : rows;
}

/** With `memoryLoss: 'separate'`, the replayed rows' own mean cross-entropy. */
export function separateMemoryLoss(ctx: LossContext, memoryLoss: string): Tensor | undefined {
  const [replayed] = ctx.own;
  if (memoryLoss !== 'separate' || !replayed) return undefined;
  return meanCrossEntropy(rowsOf(ctx.logits, replayed), rowsOf(ctx.labels, replayed));
}
