import type { Examples } from './data.js';

export const SCENARIOS = ['class-il', 'task-il', 'domain-il'] as const;
/**
 * van de Ven & Tolias (2019): class-il — one shared label space, no task id at
 * test time; task-il — the task id is given at test time (here: logits masked
 * to the task's classes); domain-il — same label space in every task, no id.
 */
export type Scenario = (typeof SCENARIOS)[number];

export interface Task {
  /** 0-based position in the stream. */
  readonly index: number;
  /** Stable, human-readable, e.g. "t0:{0,1}". */
  readonly name: string;
  /** Dataset labels that occur in this task. */
  readonly classes: readonly number[];
  readonly train: Examples;
  readonly test: Examples;
}

export interface TaskStream {
  readonly name: string;
  readonly featureShape: readonly number[];
  /** Size of the model's output layer. */
  readonly numClasses: number;
  readonly tasks: readonly Task[];
}
