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
import type { DataFingerprint } from './data-fingerprint.js';

type RowEvent = EvalEvent | StepEvent | ConstraintsEvent;

/** Where a loaded checkpoint puts the run. */
export interface ResumePoint {
  /** The backend the checkpoint was written on. */
  backend: string;
  /** The files the run read when it was written (undefined: a checkpoint of an earlier version). */
  data?: DataFingerprint;
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
  /** Set when a checkpoint could not be written: the run goes on without checkpoints, its last good one intact. */
  private failed = false;

  private readonly runId: string;

  /** `run`: its id, the backend it trains on, and the files it reads (recorded with every checkpoint). */
  constructor(
    private readonly store: CheckpointStore,
    private readonly policy: ResolvedCheckpoint,
    private readonly run: { readonly id: string; readonly backend: string; readonly data: DataFingerprint },
    private readonly emit: (e: RunEvent) => void,
  ) {
    this.runId = run.id;
  }

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
      backend: position.backend,
      data: position.data,
      task: position.task,
      boundary,
      mid: mid && position.mid ? { step: position.mid.step, validationBatches, state: mid } : undefined,
      rows: position.rows as RowEvent[],
      bytes: loaded.bytes,
    };
  }

  /** Before task `task` begins: the state every later point of the task resumes from. */
  async beforeTask(task: number, state: Snapshot): Promise<void> {
    if (this.failed) return;
    const started = performance.now();
    const encoded = await encodeSnapshot(state);
    this.attempt(() => {
      const file = this.store.writeSnapshot(`task-${task}.ckpt`, encoded);
      this.commit({ task, step: 0, midFile: null, reason: 'task', started, boundary: file });
      this.boundaryFile = file;
      this.boundaryTask = task;
    });
  }

  /**
   * Writes a checkpoint, or — a full disk, a folder that cannot be written — says why and goes on without
   * checkpoints: a checkpoint is insurance, never a reason to lose the run. The last committed checkpoint stays
   * whole (its position file names only files already written), and a half-written file is removed.
   */
  private attempt(write: () => void): void {
    try {
      write();
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      this.failed = true;
      this.store.removeUncommitted();
      this.emit({
        type: 'warning',
        runId: this.runId,
        message:
          `checkpoint not written (${err.code ?? err.message}) in ${this.store.dir}; the run goes on without ` +
          'checkpoints (an interruption from here restarts it from its last checkpoint)',
      });
    }
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
    if (this.failed || !this.boundaryFile || position.task !== this.boundaryTask) return;
    const started = performance.now();
    const encoded = await encodeSnapshot({ ...state, validationBatches: position.validationBatches });
    this.attempt(() => {
      const file = this.store.writeSnapshot(`step-${position.task}-${position.step}.ckpt`, encoded);
      this.commit({ task: position.task, step: position.step, midFile: file, reason, started });
    });
  }

  /** Names the snapshot files in the position file; `boundary`: a new state before the task, else the current one. */
  private commit(point: {
    task: number;
    step: number;
    midFile: string | null;
    reason: CheckpointWritten['reason'];
    started: number;
    boundary?: string;
  }): void {
    const { task, step, midFile, reason, started } = point;
    const bytes = this.store.commit({
      format: CHECKPOINT_FORMAT,
      runId: this.runId,
      backend: this.run.backend,
      task,
      boundary: point.boundary ?? this.boundaryFile!,
      mid: midFile ? { file: midFile, step } : null,
      rows: this.rows,
      data: this.run.data,
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
