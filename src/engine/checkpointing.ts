// When and what a run checkpoints, and how it resumes. A checkpoint is the
// state before a task began (parameters, optimizer, strategies with their
// memories and generators, step state) plus, optionally, a later point within
// that task (parameters, optimizer and step state after S steps). Resuming
// within a task restores the state before it, replays the task's set-up
// (onTaskStart, trainingSet, onTrainingStart draw exactly what they drew),
// then puts the later point's tensors back and skips S steps: the run goes on
// as if never stopped, bit for bit on the same backend.
import type { Snapshot } from '../contracts/snapshot.js';
import type { ResolvedCheckpoint } from '../contracts/run-config.js';
import { encodeSnapshot, tensorsOf } from '../checkpoint/codec.js';
import { CHECKPOINT_FORMAT, type CheckpointStore, type LoadedCheckpoint } from '../checkpoint/store.js';
import type { CheckpointWritten, ConstraintsEvent, EvalEvent, RunEvent, StepEvent } from '../contracts/events.js';
import type { TaskPosition } from './trainer.js';

type RowEvent = EvalEvent | StepEvent | ConstraintsEvent;

/** Where a loaded checkpoint puts the run. */
export interface ResumePoint {
  task: number;
  boundary: Snapshot;
  mid?: { step: number; validationBatches: number; state: Snapshot };
  rows: RowEvent[];
}

export class RunCheckpointer {
  private readonly rows: RowEvent[] = [];
  private boundaryFile: string | undefined;
  private boundaryTask = 0;
  private lastWrite = performance.now();
  private lastStep = 0;

  constructor(
    private readonly store: CheckpointStore,
    private readonly policy: ResolvedCheckpoint,
    private readonly runId: string,
    private readonly backend: string,
    private readonly emit: (e: RunEvent) => void,
  ) {}

  get dir(): string {
    return this.store.dir;
  }

  /** Every event the run emits passes here: result rows are what a checkpoint carries. */
  track(e: RunEvent): void {
    if (e.type === 'eval' || e.type === 'step' || e.type === 'constraints') this.rows.push(e);
  }

  /** The committed checkpoint as a resume point; throws, naming the file, when it does not read back. */
  load(): (ResumePoint & { bytes: number }) | undefined {
    const loaded: LoadedCheckpoint | undefined = this.store.load(this.runId);
    if (!loaded) return undefined;
    const { position, boundary, mid } = loaded;
    this.rows.push(...(position.rows as RowEvent[]));
    this.boundaryFile = position.boundary;
    this.boundaryTask = position.task;
    // Validation batches its optimizer's periodic phase had drawn (checkpoints of earlier versions call them 'phases').
    const validationBatches = mid ? Number(mid.validationBatches ?? mid.phases ?? 0) : 0;
    return {
      task: position.task,
      boundary,
      mid: mid && position.mid ? { step: position.mid.step, validationBatches, state: mid } : undefined,
      rows: position.rows as RowEvent[],
      bytes: loaded.bytes,
    };
  }

  /** Before task `task` begins: the state every later point of the task resumes from. */
  async beforeTask(task: number, state: Snapshot): Promise<void> {
    const started = performance.now();
    this.boundaryFile = this.store.writeSnapshot(`task-${task}.ckpt`, await encodeSnapshot(state));
    this.boundaryTask = task;
    this.commit(task, 0, null, 'task', started);
  }

  /** Is a checkpoint within the task due after this step? */
  due(position: TaskPosition): 'steps' | 'minutes' | undefined {
    if (this.policy.everySteps > 0 && position.step - this.lastStep >= this.policy.everySteps) return 'steps';
    if (this.policy.everyMinutes > 0 && performance.now() - this.lastWrite >= this.policy.everyMinutes * 60_000)
      return 'minutes';
    return undefined;
  }

  /** A point within the current task (after `position.step` steps). */
  async within(position: TaskPosition, state: Snapshot, reason: CheckpointWritten['reason']): Promise<void> {
    if (!this.boundaryFile || position.task !== this.boundaryTask) return;
    const started = performance.now();
    const file = this.store.writeSnapshot(
      `step-${position.task}-${position.step}.ckpt`,
      await encodeSnapshot({ ...state, validationBatches: position.validationBatches }),
    );
    this.commit(position.task, position.step, file, reason, started);
  }

  private commit(
    task: number,
    step: number,
    midFile: string | null,
    reason: CheckpointWritten['reason'],
    started: number,
  ): void {
    const bytes = this.store.commit({
      format: CHECKPOINT_FORMAT,
      runId: this.runId,
      backend: this.backend,
      task,
      boundary: this.boundaryFile!,
      mid: midFile ? { file: midFile, step } : null,
      rows: this.rows,
      savedAt: new Date().toISOString(),
    });
    this.lastWrite = performance.now();
    this.lastStep = step;
    this.emit({
      type: 'checkpoint',
      runId: this.runId,
      task,
      step,
      reason,
      bytes,
      seconds: (performance.now() - started) / 1000,
    });
  }

  /** Starting a task's steps afresh: the step trigger counts from 0 again. */
  startTask(step: number): void {
    this.lastStep = step;
  }
}

/** Frees a decoded snapshot's tensors once its values have been copied where they belong. */
export function release(snapshot: Snapshot): void {
  for (const t of tensorsOf(snapshot)) t.dispose();
}
