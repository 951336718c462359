// The memory budget preflight checks plugins' allocations against.
import { beforeAll, describe, expect, it } from 'vitest';
import { totalmem } from 'node:os';
import { formatBytes, memoryLimit, memoryProblem, requireMemory } from '../../src/memory/budget.js';
import { OptionError } from '../../src/plugin/define-plugin.js';
import { selectBackend } from '../../src/tensor/backend.js';
import { tf } from '../../src/tensor/tf.js';

beforeAll(async () => {
  await selectBackend('auto');
});

describe('memory budget', () => {
  it("is the wasm heap on wasm, the machine's memory elsewhere", () => {
    const limit = memoryLimit();
    if (tf.getBackend() === 'wasm') expect(limit).toEqual({ bytes: 4 * 2 ** 30, of: "the wasm backend's heap" });
    else expect(limit).toEqual({ bytes: totalmem(), of: "this machine's memory" });
  });

  it('passes what fits; names the estimate and the limit of what does not, or the array too long to exist', () => {
    expect(memoryProblem('a memory', 2 ** 20)).toBeUndefined();
    const limit = memoryLimit();
    expect(memoryProblem('a memory', limit.bytes * 2)).toBe(
      `a memory would take about ${formatBytes(limit.bytes * 2)}, more than ${limit.of} (${formatBytes(limit.bytes)})`,
    );
    expect(memoryProblem('a padding', 1024, 2 ** 33)).toBe(
      'a padding would take an array of 8.59e+9 elements; one holds at most 2^32',
    );
  });

  it('writes sizes as a reader takes them in', () => {
    expect([formatBytes(2048), formatBytes(380 * 2 ** 20), formatBytes(1.5 * 2 ** 30), formatBytes(2 ** 41)]).toEqual([
      '2 KB',
      '380 MB',
      '1.5 GB',
      '2.0 TB',
    ]);
  });

  it('requireMemory throws an OptionError at the field, for preflight to report under the option', () => {
    expect(() => requireMemory('size', 'a memory', 1)).not.toThrow();
    let thrown: unknown;
    try {
      requireMemory('size', 'a memory', 2 ** 60);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(OptionError);
    expect((thrown as OptionError).field).toBe('size');
  });
});
