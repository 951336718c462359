// The snapshot codec: trees round-trip bit for bit (tensors of every saved dtype, host arrays, non-finite numbers,
// generator states), and what a snapshot cannot hold is refused naming the path.
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeSnapshot, encodeSnapshot, tensorsOf } from '../../src/checkpoint/codec.js';
import { tf } from '../../src/tensor/tf.js';
import { Rng } from '../../src/tensor/rng.js';
import { MemoryBuffer } from '../../src/memory/buffer.js';
import { selectBackend } from '../../src/tensor/backend.js';

beforeAll(async () => {
  await selectBackend('auto');
});

const bits = (a: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(a).buffer));

describe('snapshot codec', () => {
  it('round-trips tensors, arrays, nested values and non-finite numbers bit for bit', async () => {
    const weird = Float32Array.from([1e-40, -0, NaN, Infinity, 3.4e38, 0.1]);
    const tree = {
      w: tf.tensor2d(weird, [2, 3]),
      ids: tf.tensor1d([3, -7, 2 ** 30], 'int32'),
      mask: tf.tensor1d([true, false, true], 'bool'),
      host: Float32Array.from([0.25, -1.5]),
      labels: Int32Array.from([9, 8]),
      bytes: Uint8Array.from([1, 2, 3]),
      nested: { list: [1, 'two', null, true, [NaN, -Infinity]], empty: {} },
    };
    const { json, blob } = await encodeSnapshot(tree);
    const back = decodeSnapshot(JSON.parse(JSON.stringify(json)), blob, 'test');
    expect(bits((back.w as tf.Tensor).dataSync())).toEqual(bits(weird));
    expect((back.w as tf.Tensor).shape).toEqual([2, 3]);
    expect(Array.from((back.ids as tf.Tensor).dataSync())).toEqual([3, -7, 2 ** 30]);
    expect((back.mask as tf.Tensor).dtype).toBe('bool');
    expect(Array.from(back.host as Float32Array)).toEqual([0.25, -1.5]);
    expect(back.labels).toBeInstanceOf(Int32Array);
    expect(Array.from(back.bytes as Uint8Array)).toEqual([1, 2, 3]);
    expect(back.nested).toEqual({ list: [1, 'two', null, true, [NaN, -Infinity]], empty: {} });
    tf.dispose([...tensorsOf(tree), ...tensorsOf(back)]);
  });

  it('a reference past the end of the data is an error naming the path', async () => {
    const { json, blob } = await encodeSnapshot({ a: { b: Float32Array.from([1, 2, 3, 4]) } });
    expect(() => decodeSnapshot(json, blob.subarray(0, 8), 'file.ckpt')).toThrow(
      'file.ckpt: snapshot.a.b refers to bytes beyond the data file (truncated or corrupt)',
    );
  });

  it('refuses values a snapshot cannot hold, and disposed tensors', async () => {
    await expect(encodeSnapshot({ f: (() => 1) as never })).rejects.toThrow('snapshot.f is a function');
    const t = tf.scalar(1);
    t.dispose();
    await expect(encodeSnapshot({ t })).rejects.toThrow('tensor snapshot.t is already disposed');
  });

  it(
    'a generator restored from its state draws the same numbers; so does a memory buffer restored from its ' +
      'snapshot',
    async () => {
      const a = new Rng(7);
      a.normal(); // leaves a spare normal in the state
      const b = new Rng(0);
      b.setState(a.state());
      expect([a.normal(), a.next(), a.int(1000)]).toEqual([b.normal(), b.next(), b.int(1000)]);
      expect(() => b.setState([1, 2])).toThrow('not a generator state');

      const data = {
        features: Float32Array.from({ length: 40 }, (_, i) => i),
        labels: Int32Array.from({ length: 20 }, (_, i) => i % 4),
        taskIds: new Int32Array(20),
        count: 20,
      };
      const m1 = new MemoryBuffer(6, 'class-balanced', new Rng(1));
      m1.add(data);
      const { json, blob } = await encodeSnapshot(m1.snapshot());
      const m2 = new MemoryBuffer(6, 'class-balanced', new Rng(99));
      m2.restore(decodeSnapshot(json, blob, 'mem'));
      expect(m2.toTrainingSet()).toEqual(m1.toTrainingSet());
      const more = { ...data, labels: Int32Array.from({ length: 20 }, (_, i) => (i * 3) % 4) };
      m1.add(more);
      m2.add(more);
      expect(m2.toTrainingSet()).toEqual(m1.toTrainingSet());
      expect(() => new MemoryBuffer(5, 'class-balanced', new Rng(1)).restore(m1.snapshot())).toThrow(
        'does not fit a memory of 5',
      );
    },
  );
});
