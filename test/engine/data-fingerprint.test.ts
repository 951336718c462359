// What a checkpoint records of the files a run reads, and how a resume tells they changed.
import { describe, expect, it } from 'vitest';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from '../../src/contracts/run-config.js';
import { changedData, dataFingerprint, listOfPaths } from '../../src/engine/data-fingerprint.js';
import { scratchDir } from '../helpers.js';

function config(dir: string, options: Record<string, unknown>): RunConfig {
  const component = { name: 'arrow', options };
  return {
    experimentFile: join(dir, 'experiment.ts'),
    components: { dataset: component, model: { name: 'mlp', options: { hidden: [32], activation: 'relu' } } },
  } as unknown as RunConfig;
}

describe('data fingerprint', () => {
  it('names each existing file or folder an option names (with a slash or a dot), relative to the experiment', () => {
    const dir = scratchDir('fingerprint');
    writeFileSync(join(dir, 'train.arrow'), 'a');
    mkdirSync(join(dir, 'weights'));
    writeFileSync(join(dir, 'weights', 'model.json'), '{}');
    const print = dataFingerprint(
      config(dir, { train: 'train.arrow', pretrained: { path: './weights' }, test: 'missing.arrow', label: 'y' }),
    );
    expect(Object.keys(print).sort()).toEqual([join(dir, 'train.arrow'), join(dir, 'weights')]);
  });

  it('a file rewritten with other bytes or a file added to a named folder is a change; the same bytes are not', () => {
    const dir = scratchDir('fingerprint-change');
    const file = join(dir, 'train.arrow');
    writeFileSync(file, 'same');
    mkdirSync(join(dir, 'weights'));
    const run = config(dir, { train: 'train.arrow', weights: './weights' });
    const then = dataFingerprint(run);
    expect(changedData(then, dataFingerprint(run))).toEqual([]);
    writeFileSync(file, 'other');
    writeFileSync(join(dir, 'weights', 'extra.bin'), 'x');
    expect(changedData(then, dataFingerprint(run))).toEqual([file, join(dir, 'weights')].sort());
    // Same size, same first bytes, another modification time: a rewrite is still seen.
    writeFileSync(file, 'same');
    const again = dataFingerprint(run);
    utimesSync(file, new Date(0), new Date(0));
    expect(changedData(again, dataFingerprint(run))).toEqual([file]);
  });

  it('lists paths as a sentence does', () => {
    expect(listOfPaths(['a'])).toBe('a');
    expect(listOfPaths(['a', 'b'])).toBe('a and b');
    expect(listOfPaths(['a', 'b', 'c'])).toBe('a, b and c');
  });
});
