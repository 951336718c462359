import { tf } from '../tensor/tf.js';
import type { Scenario, Task, TaskStream } from '../contracts/stream.js';

/**
 * How a scenario turns a stream into a learning problem: the width of the
 * output layer, the label each example is trained and scored on, and which
 * outputs may compete for a task's examples.
 */
export interface ScenarioView {
  readonly scenario: Scenario;
  readonly outputs: number;
  labels(task: Task, set: 'train' | 'test'): Int32Array;
  /** Output indices allowed for this task's examples; null when all compete. */
  allowedOutputs(task: Task): readonly number[] | null;
}

export function scenarioView(stream: TaskStream, scenario: Scenario): ScenarioView {
  switch (scenario) {
    case 'class-il':
      return { scenario, outputs: stream.numClasses, labels: (t, s) => t[s].labels, allowedOutputs: () => null };
    case 'task-il':
      // The task id is known at test time: only the task's own classes compete (multi-head by masking).
      return { scenario, outputs: stream.numClasses, labels: (t, s) => t[s].labels, allowedOutputs: (t) => t.classes };
    case 'domain-il': {
      // Same label space every task: a label becomes its position within the task's classes.
      const outputs = Math.max(...stream.tasks.map((t) => t.classes.length));
      return {
        scenario,
        outputs,
        labels: (t, s) => {
          const position = new Map(t.classes.map((c, i) => [c, i]));
          return t[s].labels.map((l) => position.get(l)!);
        },
        allowedOutputs: () => null,
      };
    }
  }
}


/** Additive logit mask: 0 on allowed outputs, a large negative number elsewhere; null when all are allowed. */
export function logitMask(allowed: readonly number[] | null, outputs: number): tf.Tensor1D | null {
  if (!allowed) return null;
  const values = new Float32Array(outputs).fill(-1e9);
  for (const i of allowed) values[i] = 0;
  return tf.tensor1d(values);
}
