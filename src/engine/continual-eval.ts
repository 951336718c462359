// Continual evaluation (De Lange, van de Ven & Tuytelaars, ICLR 2023): every
// task's seeded test subset scored during training, every N steps or N
// training examples and at each task's end, so that the accuracy of every
// task over training exists (and with it the stability gap). The subsets are
// uploaded once; one evaluation point reads back once, for all tasks.
import type { Rng } from '../tensor/rng.js';
import type { ResolvedContinualEval } from '../contracts/run-config.js';
import type { Task } from '../contracts/stream.js';
import type { EvalEvent } from '../contracts/events.js';
import type { PredictContext } from '../contracts/strategy.js';
import type { tf } from '../tensor/tf.js';
import type { Evaluator } from './evaluate.js';

/** Where the run stands: optimizer steps taken and training examples sampled from the stream. */
export interface Progress {
  readonly step: number;
  readonly seen: number;
}

/** The eval set continual evaluation's rows carry in evals.arrow. */
export const CONTINUAL_SET = 'continual';

/** The seeded subset of a task's `count` test examples (sorted indices), or all of them for `size` 0. */
export function continualSubset(count: number, size: number, rng: Rng): Int32Array {
  if (size === 0) return Int32Array.from({ length: count }, (_, i) => i);
  if (size > count) throw new Error(`a subset of ${size} from ${count} test examples`);
  const out = new Int32Array(size);
  rng.distinct(count, size, out);
  return out.sort();
}

export class ContinualEvaluation {
  constructor(
    private readonly spec: ResolvedContinualEval,
    private readonly evaluator: Evaluator,
    private readonly tasks: readonly Task[],
    rng: Rng,
  ) {
    for (const t of tasks)
      evaluator.continualSubset(t, continualSubset(t.test.count, spec.subset, rng.fork(`eval-subset:${t.index}`)));
  }

  /** Whether an evaluation point falls within the step that took the run from `before` to `after`. */
  due(before: Progress, after: Progress): boolean {
    const of = (p: Progress) => Math.floor((this.spec.unit === 'steps' ? p.step : p.seen) / this.spec.every);
    return of(after) > of(before);
  }

  /** Every task's subset scored now; `trainedTask`: the task being trained. */
  async evaluate(
    runId: string,
    trainedTask: number,
    at: Progress,
    predict?: (ctx: PredictContext) => tf.Tensor | undefined,
  ): Promise<EvalEvent[]> {
    const results = await this.evaluator.evaluateTasks(this.tasks, CONTINUAL_SET, predict);
    return results.map((r, i) => ({
      type: 'eval',
      runId,
      trainedTask,
      evalTask: this.tasks[i].index,
      evalSet: CONTINUAL_SET,
      ...r,
      step: at.step,
      seen: at.seen,
    }));
  }
}
