// The checkpoint store: a commit is atomic and names its files; damaged files are errors that name the file, never a
// short read.
import { beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeSnapshot } from '../../src/checkpoint/codec.js';
import { CHECKPOINT_FORMAT, CheckpointStore, type CheckpointPosition } from '../../src/checkpoint/store.js';
import { selectBackend } from '../../src/tensor/backend.js';
import { scratchDir } from '../helpers.js';

beforeAll(async () => {
  await selectBackend('auto');
});

describe('checkpoint store', () => {
  const position = (boundary: string, mid: { file: string; step: number } | null): CheckpointPosition => ({
    format: CHECKPOINT_FORMAT,
    runId: 'r1',
    backend: 'cpu',
    task: 1,
    boundary,
    mid,
    rows: [{ type: 'step', runId: 'r1', loss: NaN }],
    savedAt: '',
  });

  it('a commit names its files and removes the ones it replaced; load gives them back', async () => {
    const store = new CheckpointStore(join(scratchDir('store'), '.r1.checkpoint'));
    store.writeSnapshot('task-0.ckpt', await encodeSnapshot({ x: 0 }));
    store.commit({ ...position('task-0.ckpt', null), task: 0 });
    const b = store.writeSnapshot('task-1.ckpt', await encodeSnapshot({ x: 1 }));
    const m = store.writeSnapshot('step-1-5.ckpt', await encodeSnapshot({ y: Float32Array.from([5]) }));
    const bytes = store.commit(position(b, { file: m, step: 5 }));
    expect(readdirSync(store.dir).sort()).toEqual(['position.json', 'step-1-5.ckpt', 'task-1.ckpt']);
    const loaded = store.load('r1')!;
    expect(loaded.boundary).toEqual({ x: 1 });
    expect(Array.from(loaded.mid!.y as Float32Array)).toEqual([5]);
    expect(loaded.position.rows).toEqual([{ type: 'step', runId: 'r1', loss: NaN }]);
    expect(loaded.bytes).toBe(bytes);
    expect(() => store.load('other')).toThrow('belongs to run r1, not other');
  });

  it('damaged files are errors naming the file', async () => {
    const store = new CheckpointStore(join(scratchDir('store-bad'), '.r1.checkpoint'));
    const b = store.writeSnapshot(
      'task-1.ckpt',
      await encodeSnapshot({ w: Float32Array.from({ length: 100 }, Math.random) }),
    );
    store.commit(position(b, null));
    truncateSync(join(store.dir, b), 60);
    expect(() => store.load('r1')).toThrow(/task-1\.ckpt: (truncated|snapshot\.w refers to bytes beyond)/);
    writeFileSync(join(store.dir, b), 'not a checkpoint');
    expect(() => store.load('r1')).toThrow('task-1.ckpt: not an anchorage checkpoint file');
    writeFileSync(join(store.dir, 'position.json'), '{"format":"something-else"}');
    expect(() => store.load('r1')).toThrow('position.json: format "something-else"');
    // A position that parses but does not describe this run's state is refused before any snapshot is read.
    store.commit({ ...position(b, null), rows: [{ type: 'step', runId: 'r2' }] });
    expect(() => store.load('r1')).toThrow('position.json: rows[0] is not a result row of this run');
    store.commit({ ...position(b, { file: '../x.ckpt', step: 1 }) });
    expect(() => store.load('r1')).toThrow('position.json: mid names no snapshot file');
  });
});
