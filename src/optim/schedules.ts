// Learning-rate (and weight-decay) schedules: every `lr` of an optimizer
// plugin is a number or one of these (Optax's ScalarOrSchedule). Values are
// computed on the host from step counters — a schedule costs no backend op.
//
// Conventions: `t` is the 0-based index of the step within the schedule's
// span (the run, or the current task with `restart: 'task'`); the value at
// t = 0 is the one the first step uses, as with a PyTorch scheduler stepped
// after every optimizer step.
import {
  o,
  resolveOptions,
  type Field,
  type OptionSchema,
  type Options,
  type OptionsInput,
  type Problem,
} from '../plugin/options.js';
import type { Schedule, ScheduleCounters } from '../contracts/optimizer.js';

const restart = o.enum(['never', 'task'], {
  description: "'task': start the schedule again at every task of a sequence",
  default: 'never',
});
const steps = (description: string) => o.integer({ description, min: 1 });
const gamma = (description: string) => o.number({ description, default: 0.1, min: 0, exclusiveMin: true });

export interface ScheduleKind<S extends OptionSchema> {
  readonly description: string;
  /** What the PyTorch / Optax convention is, for `anchorage plugins` and docs/optimizers.md. */
  readonly convention: string;
  readonly options: S;
  /** Fields that are values (checked against the option's own bounds: an lr must stay > 0). */
  readonly valueFields: readonly (keyof S & string)[];
  check?(opts: Options<S>): Problem[];
  /** The value at 0-based step t of a span of `span` steps. */
  at(opts: Options<S>, t: number, span: number): number;
  /** Steps the schedule needs its span to have at least (a warm-up), for the check against the run. */
  needs?(opts: Options<S>): { steps: number; what: string } | undefined;
}

function kind<S extends OptionSchema>(k: ScheduleKind<S>): ScheduleKind<S> {
  return k;
}

export const SCHEDULE_KINDS = {
  constant: kind({
    description: 'the same value at every step',
    convention: 'a plain number',
    options: { value: o.number({ description: 'the value' }) },
    valueFields: ['value'],
    at: (s) => s.value,
  }),
  linear: kind({
    description: 'linear ramp from `from` to `to` over `steps` steps, then `to` (a linear warm-up)',
    convention:
      'torch.optim.lr_scheduler.LinearLR with base lr `to`, start_factor from/to, end_factor 1, total_iters steps',
    options: {
      from: o.number({ description: 'value at the first step', default: 0 }),
      to: o.number({ description: 'value from step `steps` on' }),
      steps: steps('length of the ramp'),
      restart,
    },
    valueFields: ['from', 'to'],
    at: (s, t) => s.from + ((s.to - s.from) * Math.min(t, s.steps)) / s.steps,
    needs: (s) => ({ steps: s.steps, what: `a linear warm-up of ${s.steps} steps` }),
  }),
  cosine: kind({
    description: 'optional linear warm-up to `value`, then cosine decay to `final` at step `steps` (held after)',
    convention:
      'without warm-up, torch.optim.lr_scheduler.CosineAnnealingLR(T_max=steps, eta_min=final) for t <= steps ' +
      '(torch rises again after T_max; this holds `final`, as optax.cosine_decay_schedule); with warm-up, ' +
      'optax.warmup_cosine_decay_schedule (steps includes the warm-up)',
    options: {
      value: o.number({ description: 'peak value (after the warm-up)' }),
      final: o.number({ description: 'value at the end of the decay', default: 0 }),
      steps: o.integer({
        description:
          "steps from the start to the end of the decay; default: each task's planned steps (needs restart 'task')",
        default: 0,
        min: 0,
      }),
      warmup: o.integer({ description: 'steps of linear warm-up from `warmupFrom` to `value`', default: 0, min: 0 }),
      warmupFrom: o.number({ description: 'value at the first warm-up step', default: 0 }),
      restart,
    },
    valueFields: ['value', 'final', 'warmupFrom'],
    check(s) {
      const problems: Problem[] = [];
      if (s.steps === 0 && s.restart !== 'task')
        problems.push({
          path: 'steps',
          message: "is required unless restart is 'task' (then the decay spans each task's planned steps)",
        });
      if (s.steps > 0 && s.warmup > s.steps)
        problems.push({
          path: 'warmup',
          message: `a warm-up of ${s.warmup} steps is longer than the schedule's ${s.steps} steps`,
        });
      return problems;
    },
    at(s, t, span) {
      const total = s.steps > 0 ? s.steps : span;
      if (t < s.warmup) return s.warmupFrom + ((s.value - s.warmupFrom) * t) / s.warmup;
      const decay = total - s.warmup;
      if (decay <= 0 || t >= total) return t >= total ? s.final : s.value;
      return s.final + ((s.value - s.final) * (1 + Math.cos((Math.PI * (t - s.warmup)) / decay))) / 2;
    },
    needs: (s) => (s.warmup > 0 ? { steps: s.warmup, what: `a warm-up of ${s.warmup} steps` } : undefined),
  }),
  step: kind({
    description: 'multiplied by `gamma` every `every` steps',
    convention: 'torch.optim.lr_scheduler.StepLR(step_size=every, gamma)',
    options: {
      value: o.number({ description: 'initial value' }),
      every: steps('steps between decays'),
      gamma: gamma('decay factor'),
      restart,
    },
    valueFields: ['value'],
    at: (s, t) => s.value * Math.pow(s.gamma, Math.floor(t / s.every)),
  }),
  multistep: kind({
    description: 'multiplied by `gamma` at each of the given steps',
    convention: 'torch.optim.lr_scheduler.MultiStepLR(milestones, gamma)',
    options: {
      value: o.number({ description: 'initial value' }),
      milestones: o.numbers({
        description: 'steps (0-based, increasing) at which the value is multiplied by gamma',
        integer: true,
        min: 1,
        minLength: 1,
      }),
      gamma: gamma('decay factor'),
      restart,
    },
    valueFields: ['value'],
    check(s) {
      const bad = s.milestones.findIndex((m: number, i: number) => i > 0 && m <= s.milestones[i - 1]);
      return bad > 0
        ? [
            {
              path: `milestones[${bad}]`,
              message: `milestones must increase, got ${s.milestones[bad]} after ${s.milestones[bad - 1]}`,
            },
          ]
        : [];
    },
    at(s, t) {
      let passed = 0;
      for (const m of s.milestones) if (m <= t) passed++;
      return s.value * Math.pow(s.gamma, passed);
    },
  }),
  exponential: kind({
    description: 'multiplied by `gamma` at every step',
    convention: 'torch.optim.lr_scheduler.ExponentialLR(gamma)',
    options: {
      value: o.number({ description: 'initial value' }),
      gamma: o.number({ description: 'decay factor per step', min: 0, exclusiveMin: true }),
      restart,
    },
    valueFields: ['value'],
    at: (s, t) => s.value * Math.pow(s.gamma, t),
  }),
} as const;

export type ScheduleName = keyof typeof SCHEDULE_KINDS;

/** A schedule as an experiment writes it, e.g. `{ schedule: 'cosine', value: 1e-3, warmup: 100, restart: 'task' }`. */
export type ScheduleSpec = {
  [K in ScheduleName]: { schedule: K } & OptionsInput<(typeof SCHEDULE_KINDS)[K]['options']>;
}[ScheduleName];
export type ScalarOrSchedule = number | ScheduleSpec;

const NAMES = Object.keys(SCHEDULE_KINDS) as ScheduleName[];

function kindOf(name: ScheduleName): ScheduleKind<OptionSchema> {
  return SCHEDULE_KINDS[name] as unknown as ScheduleKind<OptionSchema>;
}

function describeValue(value: unknown): string {
  return value === null
    ? 'null'
    : Array.isArray(value)
      ? 'an array'
      : typeof value === 'object'
        ? 'an object'
        : `${typeof value} ${JSON.stringify(value)}`;
}

/**
 * Validates a schedule object; field paths below `path`. `bounds` are the
 * option's own bounds (an lr > 0, a weight decay >= 0): the schedule's
 * starting and peak values must respect them; its end values may reach 0.
 */
export function checkSchedule(
  value: unknown,
  path: string,
  bounds: { min?: number; exclusiveMin?: boolean },
): Problem[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return [{ path, message: `must be a number or a schedule object, got ${describeValue(value)}` }];
  const name = (value as { schedule?: unknown }).schedule;
  if (typeof name !== 'string' || !NAMES.includes(name as ScheduleName)) {
    return [
      {
        path: `${path}.schedule`,
        message: `must be one of ${NAMES.map((n) => JSON.stringify(n)).join(' | ')}, got ${describeValue(name)}`,
      },
    ];
  }
  const k = kindOf(name as ScheduleName);
  const { options, problems } = resolveOptions(k.options, value as Record<string, unknown>, path, ['schedule']);
  if (problems.length) return problems;
  if (bounds.min !== undefined) {
    for (const field of k.valueFields) {
      const v = options[field] as number;
      // Where a schedule starts or ends may be 0 (a warm-up from 0, a decay to 0); its peak obeys the option's own
      // bound.
      const endpoint = field === 'final' || field === 'from' || field === 'warmupFrom';
      const strict = !!bounds.exclusiveMin && !endpoint;
      const min = endpoint ? Math.min(bounds.min, 0) : bounds.min;
      if (strict ? v <= min : v < min)
        problems.push({ path: `${path}.${field}`, message: `must be ${strict ? '>' : '>='} ${min}, got ${v}` });
    }
  }
  for (const p of k.check?.(options) ?? []) problems.push({ path: `${path}.${p.path}`, message: p.message });
  return problems;
}

/** The host-side function a schedule spec (or a number) stands for. */
export function toSchedule(value: ScalarOrSchedule | Schedule): Schedule {
  if (typeof value === 'function') return value;
  if (typeof value === 'number')
    return Object.assign(() => value, { restartsPerTask: false, describe: () => String(value) });
  const k = kindOf(value.schedule);
  const { options, problems } = resolveOptions(k.options, value as unknown as Record<string, unknown>, 'schedule', [
    'schedule',
  ]);
  if (problems.length) throw new Error(problems.map((p) => `${p.path}: ${p.message}`).join('; '));
  const perTask = options.restart === 'task';
  const fn = (c: ScheduleCounters) =>
    perTask ? k.at(options, c.taskStep - 1, c.taskSteps) : k.at(options, c.step - 1, c.taskSteps);
  return Object.assign(fn, { restartsPerTask: perTask, describe: () => describeSchedule(value) });
}

export function describeSchedule(value: ScalarOrSchedule): string {
  if (typeof value === 'number') return String(value);
  const { schedule, ...rest } = value as { schedule: string } & Record<string, unknown>;
  return `${schedule}(${Object.entries(rest)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.join(',')}]` : String(v as number | string)}`)
    .join(', ')})`;
}

/**
 * Checks a schedule against the planned run: a warm-up longer than the span
 * it runs over (each task's steps with restart 'task', else the whole run's)
 * is an error before training.
 */
export function checkScheduleAgainstRun(
  value: ScalarOrSchedule,
  path: string,
  taskSteps: readonly number[],
): Problem[] {
  if (typeof value === 'number') return [];
  const k = kindOf(value.schedule);
  const { options } = resolveOptions(k.options, value as unknown as Record<string, unknown>, path, ['schedule']);
  const need = k.needs?.(options);
  if (!need) return [];
  if (options.restart === 'task') {
    const i = taskSteps.findIndex((s) => s > 0 && s < need.steps);
    return i >= 0 ? [{ path, message: `${need.what} is longer than task ${i}'s ${taskSteps[i]} planned steps` }] : [];
  }
  const total = taskSteps.reduce((a, b) => a + b, 0);
  return total < need.steps ? [{ path, message: `${need.what} is longer than the run's ${total} planned steps` }] : [];
}

/**
 * An option that takes a number or a schedule. `default` may depend on the
 * other options (`base` of an anchored optimizer), with `defaultText` saying
 * how for `anchorage plugins`.
 */
export function scheduleOption<
  D extends ScalarOrSchedule | ((opts: Record<string, unknown>) => number) | undefined = undefined,
>(opts: {
  description: string;
  default?: D;
  defaultText?: string;
  min?: number;
  exclusiveMin?: boolean;
}): Field<ScalarOrSchedule> & { default: D; defaultText?: string } {
  const bound = opts.min === undefined ? '' : ` ${opts.exclusiveMin ? '>' : '>='} ${opts.min}`;
  return {
    kind: 'schedule',
    description: opts.description,
    default: opts.default as D,
    defaultText: opts.defaultText,
    allowed: `number${bound} | schedule (${NAMES.join(', ')})`,
    check(value, path, problems) {
      if (typeof value === 'number') {
        const low = opts.min !== undefined && (opts.exclusiveMin ? value <= opts.min : value < opts.min);
        if (!Number.isFinite(value))
          problems.push({ path, message: `must be a number${bound} or a schedule, got ${value}` });
        else if (low) problems.push({ path, message: `must be${bound}, got ${value}` });
        return;
      }
      problems.push(...checkSchedule(value, path, opts));
    },
  };
}

/** Each schedule with its options and convention, for `anchorage plugins`. */
export function scheduleCatalogue(): {
  name: string;
  description: string;
  convention: string;
  options: OptionSchema;
}[] {
  return NAMES.map((name) => {
    const k = kindOf(name);
    return { name, description: k.description, convention: k.convention, options: k.options };
  });
}
