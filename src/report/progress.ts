import type { Observable, Subscription } from 'rxjs';
import type { RunEvent } from '../contracts/events.js';

export interface ProgressOptions {
  /** A terminal gets one live status line; anything else gets plain log lines. */
  tty: boolean;
  write: (text: string) => void;
  /** Runs of this display training at once (runs trained together): when more than one, each line names its run. */
  concurrent?: { count: number };
}

/**
 * The progress display: an observer of run events. On a terminal it redraws
 * one status line; otherwise it prints one plain line per throttled step.
 */
export function showProgress(events: Observable<RunEvent>, opts: ProgressOptions): Subscription {
  let taskSteps = 0;
  let taskName = '';
  let tasks = 0;
  let live = false;
  const concurrent = opts.concurrent;
  const named = (e: RunEvent, text: string) =>
    concurrent && concurrent.count > 1 && text.startsWith('  ') ? `  [${e.runId}]${text.slice(1)}` : text;
  let current: RunEvent | undefined;
  const line = (text: string) => {
    text = named(current!, text);
    if (opts.tty) {
      opts.write(`\r\x1b[K${text}`);
      live = true;
    } else opts.write(`${text}\n`);
  };
  const log = (text: string) => {
    text = named(current!, text);
    if (live) opts.write('\r\x1b[K');
    live = false;
    opts.write(`${text}\n`);
  };
  return events.subscribe((e) => {
    current = e;
    if (e.type === 'run-start' && concurrent) concurrent.count += 1;
    if (e.type === 'run-end' && concurrent) concurrent.count = Math.max(0, concurrent.count - 1);
    switch (e.type) {
      case 'run-start':
        if (e.model) log(`run ${e.runId}: ${e.model}; ${e.optimizer}; strategy ${e.strategy}; ${e.tasks.length} tasks`);
        // With boundaries hidden the run trains the stream as one task.
        tasks = e.config.online?.boundaries === 'hidden' ? 1 : e.tasks.length;
        break;
      case 'task-start':
        taskSteps = e.steps;
        taskName = e.name;
        log(`  task ${e.task + 1}/${tasks} ${e.name}: ${e.examples} examples, ${e.steps} steps`);
        break;
      case 'phase-start':
        log(
          `  task ${e.task + 1}/${tasks} phase ${e.name}: steps ${e.firstStep}–${e.firstStep + e.steps - 1}, ` +
            `${e.optimizer}; trains ${e.trainable.length} ` +
            `tensor${e.trainable.length === 1 ? '' : 's'}${e.frozen ? `, ${e.frozen} frozen` : ''}`,
        );
        break;
      case 'step':
        line(
          `  task ${e.task + 1}/${tasks} ${taskName}  step ${e.step}/${taskSteps}  epoch ${e.epoch + 1}  loss ` +
            `${e.loss.toFixed(4)}  ${Math.round(e.examplesPerSecond)} ex/s`,
        );
        break;
      case 'resumed':
        log(
          `  resumed from its checkpoint: task ${e.task + 1}/${tasks}, ` +
            `${e.step ? `after step ${e.step}` : 'at its start'} (${e.rows.length} result rows kept)`,
        );
        break;
      case 'checkpoint':
        // Task boundaries are routine; points within a task and the one written on a signal are worth a line.
        if (e.reason !== 'task')
          log(
            `  checkpoint (${e.reason}): task ${e.task + 1}, step ${e.step}, ${(e.bytes / 1e6).toFixed(1)} MB ` +
              `in ${e.seconds.toFixed(2)} s`,
          );
        break;
      case 'warning':
        log(`  warning: ${e.message}`);
        break;
      case 'task-end':
        log(`  task ${e.task + 1}/${tasks} done in ${e.seconds.toFixed(1)} s`);
        break;
      case 'run-end':
        log(
          `run ${e.runId}: ${e.status}${e.error ? ` — ${e.error}` : ''} (${e.seconds.toFixed(1)} s, ` +
            `${e.steps} steps, ${e.stepsPerSecond.toFixed(1)} steps/s)`,
        );
        break;
      default:
        break;
    }
  });
}
