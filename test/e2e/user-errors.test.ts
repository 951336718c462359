// A user's mistake gets one clear message and a non-zero exit — never a stack
// trace, never silence — and never touches files it should not.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, ROOT, runCli, scratchDir } from '../helpers.js';

const GOLDEN = join(ROOT, 'test', 'fixtures', 'golden', 'adamw_plain.json');

describe('replay-optimizer on malformed traces', () => {
  const golden = JSON.parse(readFileSync(GOLDEN, 'utf8'));
  // A trace as JSON: any field may be removed or broken.
  type Trace = {
    params: { name: string; shape?: number[] }[];
    steps: { grads?: Record<string, unknown[]>; expected?: unknown }[];
  } & Record<string, unknown>;
  const cases: [string, (t: Trace) => unknown, RegExp][] = [
    ['a param without a shape', (t) => (delete t.params[0].shape, t), /params \S+ needs a shape/],
    ['a step without grads', (t) => (delete t.steps[1].grads, t), /steps\[1\] must be \{ grads/],
    ['null', () => null, /the trace must be a JSON object/],
    ['config: null', (t) => ((t.config = null), t), /config must be an object/],
    [
      'string gradients',
      (t) => {
        const grads = t.steps[0].grads!;
        grads[t.params[0].name] = grads[t.params[0].name].map(String);
        return t;
      },
      /steps\[0\]\.grads\.\S+ must be \d+ finite numbers/,
    ],
    [
      'expected naming an unknown param',
      (t) => ((t.steps[0].expected = { nosuch: [1] }), t),
      /steps\[0\]\.expected\.nosuch names no parameter/,
    ],
    ['a duplicate param name', (t) => (t.params.push({ ...t.params[0] }), t), /repeats the name/],
  ];
  for (const [what, mutate, message] of cases) {
    it(`reports ${what} (exit 2, no stack trace, no output written)`, () => {
      const dir = scratchDir('trace');
      const path = join(dir, 'trace.json');
      writeFileSync(path, JSON.stringify(mutate(structuredClone(golden))));
      const r = runCli(['replay-optimizer', path, '--out', join(dir, 'out.json')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(join(dir, 'out.json'))).toBe(false);
    });
  }

  it('refuses --out equal to the trace, leaving the trace as it was', () => {
    const dir = scratchDir('trace-out');
    const path = join(dir, 'trace.json');
    writeFileSync(path, readFileSync(GOLDEN));
    const r = runCli(['replay-optimizer', path, '--out', path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--out .* is the trace itself/);
    expect(readFileSync(path).equals(readFileSync(GOLDEN))).toBe(true);
  });
});

describe('other user errors', () => {
  it('compare on a file, plugins --load of a missing module: one line, exit 2', () => {
    const onFile = runCli(['compare', join(ROOT, 'README.md')]);
    expect(onFile.code).toBe(2);
    expect(onFile.stderr).toMatch(/README\.md is a file; compare takes a results folder/);
    const load = runCli(['plugins', '--load', './nope.ts']);
    expect(load.code).toBe(2);
    expect(load.stderr).toMatch(/cannot load plugin module '.*nope\.ts': Cannot find module/);
    for (const r of [onFile, load]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('`anchorage plugins | head -1` ends quietly (a closed pipe is not an error)', () => {
    const r = spawnSync('bash', ['-c', `'${process.execPath}' '${BIN}' plugins | head -1; exit \${PIPESTATUS[0]}`], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(r.stdout).toBe('dataset:\n');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('compare lists run folders whose run.json is not JSON or not a run record by path', () => {
    const dir = scratchDir('bad-record');
    mkdirSync(join(dir, 'x', 'broken'), { recursive: true });
    mkdirSync(join(dir, 'x', 'empty'), { recursive: true });
    writeFileSync(join(dir, 'x', 'broken', 'run.json'), '{bad');
    writeFileSync(join(dir, 'x', 'empty', 'run.json'), '{}');
    const r = runCli(['compare', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/broken: unreadable: run\.json is not valid JSON/);
    expect(r.stdout).toMatch(/empty: unreadable: run\.json: format is undefined, not "anchorage-run\/1"/);
    expect(r.stdout).not.toMatch(/undefined: undefined/);
  });
});

describe('environment and module surprises', () => {
  it('a Slurm array task beyond the array says so (not a --shard message the user never gave)', () => {
    const r = spawnSync(process.execPath, [BIN, 'run', 'experiments/split-mnist.ts'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, SLURM_ARRAY_TASK_ID: '6', SLURM_ARRAY_TASK_COUNT: '4' },
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Slurm array task 6 \(SLURM_ARRAY_TASK_MIN 0\) is not one of the 4 tasks/);
    expect(r.stderr).not.toMatch(/--shard must be/);
  });

  it('an experiment module whose top-level await never settles gets a message and exit 2, not a silent 13', () => {
    const dir = scratchDir('tla');
    writeFileSync(
      join(dir, 'exp.ts'),
      `import { defineExperiment } from 'anchorage';\nawait new Promise(() => {});\nexport default ` +
        `defineExperiment({ name: 'x' } as never);\n`,
    );
    const r = runCli(['run', join(dir, 'exp.ts')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/never finished: a module it loaded .* has a top-level await that never settles/);
  });

  it('a module exporting a Promise or only named exports, ending the process or throwing 42: one line, exit 2', () => {
    const dir = scratchDir('bad-modules');
    const head =
      `import { defineExperiment } from 'anchorage';\n` + `const spec = defineExperiment({ name: 'x' } as never);\n`;
    for (const [name, body, message] of [
      ['promise', 'export default Promise.resolve(spec);', /\(module\): its default export is a Promise; export the/],
      [
        'named',
        'export const mine = spec;',
        /\(module\): no default export \(it exports mine\); export the experiment/,
      ],
      ['exits', 'process.exit(0);\nexport default spec;', /exp-exits\.ts ended the process \(exit code 0\) while it/],
      ['throws', 'throw 42;\nexport default spec;', /\(module\): failed to load: it threw 42/],
    ] as const) {
      writeFileSync(join(dir, `exp-${name}.ts`), `${head}${body}\n`);
      const r = runCli(['run', join(dir, `exp-${name}.ts`), '--out', join(dir, 'results')]);
      expect(r.code, name).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(join(dir, 'results'))).toBe(false);
    }
  });
});
