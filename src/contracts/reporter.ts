// A reporter follows a sweep: the runs it is told about (sweep events) and
// each run's own typed events. The progress display and the Arrow writer are
// reporters; so are Parquet copies, TensorBoard event files, a live page, or
// a user's reporter plugin. Reporters observe: they never touch training.
import type { Observable } from 'rxjs';
import type { BackendInfo } from './backend.js';
import type { RunConfig } from './run-config.js';
import type { RunEvent, SweepEvent } from './events.js';

export interface ReporterContext {
  /** The results root (`--out`): runs are written to <out>/<experiment>/<run-id>/. */
  readonly out: string;
  readonly experiment: string;
  readonly backend: BackendInfo;
  /** Where progress text goes (stdout of the CLI). */
  write(text: string): void;
  /** Whether `write` goes to a terminal. */
  readonly tty: boolean;
}

export interface Reporter {
  readonly name: string;
  /**
   * This reporter's files are the runs' results (the Arrow tables): whether a
   * run is complete is read from them, so a sweep always has one, waits for
   * it before a run counts as finished, and stops when it fails. Any other
   * reporter's failure is reported and the sweep goes on without it.
   */
  readonly writesResults?: boolean;
  /** Sweep events in order: start, each run queued, then per run skipped or started → finished, then end. Awaited. */
  onSweepEvent?(event: SweepEvent): void | Promise<void>;
  /**
   * A run's events as they happen (subscribe to them). The returned promise,
   * if any, is awaited before the run counts as finished: a reporter that
   * writes files resolves it once they are in place.
   */
  onRun?(events: Observable<RunEvent>, config: RunConfig): void | Promise<unknown>;
  /** After the sweep (also when it stopped early): flush and close. */
  close?(): void | Promise<void>;
}
