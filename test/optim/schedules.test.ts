// Schedules against their closed forms, PyTorch's schedulers (values recorded
// from torch.optim.lr_scheduler, see fixtures/torch-schedules.json) and their
// validation.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkSchedule, checkScheduleAgainstRun, toSchedule, type ScheduleSpec } from '../../src/optim/schedules.js';

/** Values of the first n steps (a PyTorch scheduler's get_last_lr() before each optimizer step). */
function values(spec: ScheduleSpec, n: number, taskSteps = n): number[] {
  const s = toSchedule(spec);
  return Array.from({ length: n }, (_, i) => s({ step: i + 1, taskStep: i + 1, taskSteps }));
}

describe('schedules: closed forms', () => {
  it('constant, linear warm-up, step, multistep, exponential', () => {
    expect(values({ schedule: 'constant', value: 0.3 }, 3)).toEqual([0.3, 0.3, 0.3]);
    expect(values({ schedule: 'linear', from: 0, to: 1, steps: 4 }, 6)).toEqual([0, 0.25, 0.5, 0.75, 1, 1]);
    expect(values({ schedule: 'step', value: 1, every: 2, gamma: 0.5 }, 5)).toEqual([1, 1, 0.5, 0.5, 0.25]);
    expect(
      values({ schedule: 'multistep', value: 1, milestones: [1, 3], gamma: 0.1 }, 4).map((v) => +v.toPrecision(12)),
    ).toEqual([1, 0.1, 0.1, 0.01]);
    expect(values({ schedule: 'exponential', value: 2, gamma: 0.5 }, 3)).toEqual([2, 1, 0.5]);
  });

  it('cosine: half-way at the middle, final at the end and after, warm-up from warmupFrom', () => {
    const c = values({ schedule: 'cosine', value: 1, final: 0.1, steps: 10 }, 13);
    expect(c[0]).toBe(1);
    expect(c[5]).toBeCloseTo(0.55, 12);
    expect(c[10]).toBeCloseTo(0.1, 12);
    expect(c[12]).toBeCloseTo(0.1, 12);
    const w = values({ schedule: 'cosine', value: 1, steps: 12, warmup: 4, warmupFrom: 0.2 }, 13);
    expect(w.slice(0, 5).map((v) => +v.toFixed(12))).toEqual([0.2, 0.4, 0.6, 0.8, 1]);
    // After the warm-up: a cosine over the remaining 8 steps.
    expect(w[8]).toBeCloseTo(0.5, 12);
    expect(w[12]).toBe(0);
  });

  it("restart 'task' starts again at each task and spans each task's planned steps", () => {
    const s = toSchedule({ schedule: 'cosine', value: 1, restart: 'task' });
    expect(s({ step: 1, taskStep: 1, taskSteps: 4 })).toBe(1);
    expect(s({ step: 3, taskStep: 3, taskSteps: 4 })).toBeCloseTo(0.5, 12);
    expect(s({ step: 5, taskStep: 1, taskSteps: 4 })).toBe(1);
    const run = toSchedule({ schedule: 'step', value: 1, every: 2, gamma: 0.5 });
    expect(run({ step: 5, taskStep: 1, taskSteps: 4 })).toBe(0.25); // without restart: the run's step counts
  });
});

describe('schedules: PyTorch semantics', () => {
  // Recorded with test/fixtures/torch-schedules.py (Debian's python3-torch): lr of each step.
  const recorded = JSON.parse(readFileSync(new URL('../fixtures/torch-schedules.json', import.meta.url), 'utf8')) as {
    torch: string;
    cases: { name: string; spec: ScheduleSpec; lr: number[] }[];
  };
  for (const c of recorded.cases) {
    it(`${c.name} equals torch ${recorded.torch}'s values`, () => {
      const ours = values(c.spec, c.lr.length);
      c.lr.forEach((want, i) => expect(Math.abs(ours[i] - want)).toBeLessThan(1e-12 + 1e-9 * Math.abs(want)));
    });
  }
});

describe('schedules: bad settings', () => {
  const problems = (v: unknown, bounds = { min: 0, exclusiveMin: true }) =>
    Object.fromEntries(checkSchedule(v, 'optimizer.lr', bounds).map((p) => [p.path, p.message]));
  it('name the field and the reason', () => {
    expect(problems({ schedule: 'cosine', value: 1e-3, steps: 100, warmup: 200 })['optimizer.lr.warmup']).toBe(
      "a warm-up of 200 steps is longer than the schedule's 100 steps",
    );
    expect(problems({ schedule: 'cosine', value: -1, steps: 10 })['optimizer.lr.value']).toBe('must be > 0, got -1');
    expect(problems({ schedule: 'multistep', value: 0.1, milestones: [10, 5] })['optimizer.lr.milestones[1]']).toBe(
      'milestones must increase, got 5 after 10',
    );
    expect(problems({ schedule: 'multistep', value: 0.1, milestones: [-3] })['optimizer.lr.milestones[0]']).toMatch(
      />= 1, got -3/,
    );
    expect(problems({ schedule: 'cosine', value: 0.1 })['optimizer.lr.steps']).toMatch(
      /required unless restart is 'task'/,
    );
    expect(problems({ schedule: 'cosnie', value: 0.1 })['optimizer.lr.schedule']).toMatch(
      /must be one of "constant" \| "linear" \| "cosine"/,
    );
    expect(problems({ schedule: 'step', value: 0.1, every: 10, gama: 0.5 })['optimizer.lr.gama']).toMatch(
      /unknown option/,
    );
    expect(problems({ schedule: 'exponential', value: 0.1 })['optimizer.lr.gamma']).toMatch(/is required/);
    expect(problems('fast')['optimizer.lr']).toMatch(/must be a number or a schedule object, got string "fast"/);
    expect(problems({ schedule: 'linear', from: 0, to: 1e-3, steps: 100 })).toEqual({}); // a warm-up may start at 0
  });

  it('a warm-up longer than the run (or than a task, with restart) is caught against the planned steps', () => {
    expect(checkScheduleAgainstRun({ schedule: 'linear', to: 0.1, steps: 500 }, 'optimizer.lr', [100, 100])).toEqual([
      { path: 'optimizer.lr', message: "a linear warm-up of 500 steps is longer than the run's 200 planned steps" },
    ]);
    expect(
      checkScheduleAgainstRun(
        { schedule: 'cosine', value: 0.1, warmup: 150, restart: 'task' },
        'optimizer.lr',
        [200, 100],
      ),
    ).toEqual([{ path: 'optimizer.lr', message: "a warm-up of 150 steps is longer than task 1's 100 planned steps" }]);
    expect(checkScheduleAgainstRun({ schedule: 'linear', to: 0.1, steps: 150 }, 'optimizer.lr', [100, 100])).toEqual(
      [],
    );
  });
});
