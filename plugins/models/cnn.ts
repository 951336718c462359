import { definePlugin } from '../../src/plugin/define-plugin.js';
import { o, type OptionsInput } from '../../src/plugin/options.js';
import { tf } from '../../src/tensor/tf.js';
import type { Rng } from '../../src/tensor/rng.js';

const options = {
  channels: o.numbers({ description: 'output channels of each 3×3 convolution (each followed by ReLU and 2×2 max-pooling)', default: [16, 32], integer: true, min: 1, minLength: 1 }),
  hidden: o.integer({ description: 'width of the dense layer before the head (0: none)', default: 128, min: 0 }),
};

declare module '../../src/plugin/kinds.js' {
  interface ModelPlugins {
    cnn: OptionsInput<typeof options>;
  }
}

/** PyTorch's default for Conv2d/Linear: U(±1/sqrt(fan_in)). */
function uniform(rng: Rng, count: number, fanIn: number): Float32Array {
  const bound = 1 / Math.sqrt(fanIn);
  return Float32Array.from({ length: count }, () => rng.uniform(-bound, bound));
}

/**
 * A small convolutional network for images [h, w, c]: conv1, conv2, … (3×3,
 * same padding, ReLU, 2×2 max-pool), then fc1 (ReLU) and the output layer
 * `head`. Kernels use tfjs's layouts ([3, 3, in, out] and [in, out]).
 */
export default definePlugin({
  kind: 'model',
  name: 'cnn',
  description: 'small convolutional network: 3×3 conv + ReLU + 2×2 max-pool blocks, a dense layer, head',
  options,
  async create(opts, ctx) {
    const problem = await ctx.problem();
    if (problem.featureShape.length !== 3) throw new Error(`cnn needs images [height, width, channels], got examples of shape [${problem.featureShape}]`);
    const [h, w, c] = problem.featureShape;
    const rng = ctx.rng('init');
    const params = new Map<string, tf.Variable>();
    const rowAxis: Record<string, number> = {};
    const add = (name: string, shape: number[], fanIn: number, axis: number) => {
      params.set(name, tf.tidy(() => tf.variable(tf.tensor(uniform(rng, shape.reduce((a, b) => a * b, 1), fanIn), shape), true)));
      rowAxis[name] = axis;
    };
    let [ch, hh, ww] = [c, h, w];
    opts.channels.forEach((out, i) => {
      add(`conv${i + 1}.weight`, [3, 3, ch, out], 9 * ch, 3);
      add(`conv${i + 1}.bias`, [out], 9 * ch, 0);
      ch = out;
      hh = Math.ceil(hh / 2);
      ww = Math.ceil(ww / 2);
      if (hh < 1 || ww < 1) throw new Error(`cnn: ${opts.channels.length} pooling stages do not fit images of ${h}×${w}`);
    });
    const flat = hh * ww * ch;
    let last = flat;
    if (opts.hidden > 0) {
      add('fc1.weight', [flat, opts.hidden], flat, 1);
      add('fc1.bias', [opts.hidden], flat, 0);
      last = opts.hidden;
    }
    add('head.weight', [last, problem.outputs], last, 1);
    add('head.bias', [problem.outputs], last, 0);

    const apply = (v: Readonly<Record<string, tf.Tensor>>, x: tf.Tensor) => {
      let a: tf.Tensor = tf.reshape(x, [-1, h, w, c]);
      opts.channels.forEach((_, i) => {
        a = tf.relu(tf.add(tf.conv2d(a as tf.Tensor4D, v[`conv${i + 1}.weight`] as tf.Tensor4D, 1, 'same'), v[`conv${i + 1}.bias`]));
        a = tf.maxPool(a as tf.Tensor4D, 2, 2, 'same');
      });
      a = tf.reshape(a, [-1, flat]);
      if (opts.hidden > 0) a = tf.relu(tf.add(tf.matMul(a, v['fc1.weight']), v['fc1.bias']));
      return tf.add(tf.matMul(a, v['head.weight']), v['head.bias']);
    };
    const current = Object.fromEntries(params);
    const count = [...params.values()].reduce((s, p) => s + p.size, 0);
    return {
      params,
      rowAxis,
      forward: (x) => apply(current, x),
      apply: (values, x) => apply(values, x),
      describe: () => `cnn ${h}x${w}x${c} conv[${opts.channels.join(',')}]${opts.hidden ? ` fc${opts.hidden}` : ''} -> ${problem.outputs} (${count.toLocaleString('en-US')} parameters)`,
      dispose: () => params.forEach((p) => p.dispose()),
    };
  },
});
