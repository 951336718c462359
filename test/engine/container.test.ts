// The run container's shared caches: data sets are shared by every run of a
// process; task streams only where runs are looked at without training
// (the --together plan, preflight), by data set, stream and seed.
import { describe, expect, it } from 'vitest';
import { DatasetCache, createRunContainer } from '../../src/engine/container.js';
import { resolveTokenAsync } from '../../src/contracts/token.js';
import { COMPONENT } from '../../src/engine/tokens.js';
import { selectBackend } from '../../src/tensor/backend.js';
import { TINY_SPEC, tinyConfigs } from '../helpers.js';

describe('run containers', () => {
  it(
    'share one stream between runs of a seed that differ in strategy or scenario when asked, and build the same ' +
      'tasks as alone',
    async () => {
      const backend = await selectBackend('auto');
      const { configs, registry } = tinyConfigs(
        {
          ...TINY_SPEC,
          stream: { name: 'split', tasksOf: 2, classOrder: 'seeded' },
          axes: { strategy: [{ name: 'naive' }, { name: 'ewc', lambda: 1 }], scenario: ['task-il', 'class-il'] },
        },
        [0, 1],
      );
      const streamOf = (i: number, datasets: DatasetCache) =>
        resolveTokenAsync(createRunContainer(configs[i], registry, backend, datasets), COMPONENT.stream);
      const shared = new DatasetCache().sharingStreams();
      const streams = await Promise.all(configs.map((_, i) => streamOf(i, shared)));
      const bySeed = (seed: number) => new Set(streams.filter((_, i) => configs[i].seed === seed));
      expect(bySeed(0).size).toBe(1);
      expect(bySeed(1).size).toBe(1);
      expect([...bySeed(0)][0]).not.toBe([...bySeed(1)][0]);
      // Not shared by default (training runs keep their own), and the shared one is what a run builds alone.
      const plain = new DatasetCache();
      const alone = await Promise.all(configs.map((_, i) => streamOf(i, plain)));
      expect(new Set(alone).size).toBe(configs.length);
      alone.forEach((s, i) => {
        expect(streams[i].tasks.map((t) => t.classes)).toEqual(s.tasks.map((t) => t.classes));
        expect(streams[i].tasks.map((t) => [...t.train.labels])).toEqual(s.tasks.map((t) => [...t.train.labels]));
      });
      expect(streams[0].tasks.map((t) => t.classes)).not.toEqual(
        streams[configs.findIndex((c) => c.seed === 1)].tasks.map((t) => t.classes),
      );
    },
  );
});
