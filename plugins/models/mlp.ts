import { definePlugin } from '../../src/plugin/define-plugin.js';
import { o, type OptionsInput } from '../../src/plugin/options.js';
import { featureSize } from '../../src/contracts/data.js';
import { tf } from '../../src/tensor/tf.js';
import type { Rng } from '../../src/tensor/rng.js';

const options = {
  hidden: o.numbers({ description: 'width of each hidden layer', default: [400, 400], integer: true, min: 1 }),
  activation: o.enum(['relu', 'tanh', 'sigmoid'], { description: 'hidden-layer non-linearity', default: 'relu' }),
};

declare module '../../src/plugin/kinds.js' {
  interface ModelPlugins {
    mlp: OptionsInput<typeof options>;
  }
}

/** PyTorch's nn.Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias. */
function uniformInit(rng: Rng, count: number, fanIn: number): Float32Array {
  const bound = 1 / Math.sqrt(fanIn);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = rng.uniform(-bound, bound);
  return out;
}

const ACTIVATIONS = { relu: tf.relu, tanh: tf.tanh, sigmoid: tf.sigmoid } as const;

/** A multilayer perceptron; layers are named fc1, fc2, … and the output layer `head`. */
export default definePlugin({
  kind: 'model',
  name: 'mlp',
  description: 'multilayer perceptron (Linear + activation), output layer named "head"',
  options,
  async create(opts, ctx) {
    const problem = await ctx.problem();
    const rng = ctx.rng('init');
    const sizes = [featureSize(problem.featureShape), ...opts.hidden, problem.outputs];
    const params = new Map<string, tf.Variable>();
    const layers: { w: tf.Variable; b: tf.Variable }[] = [];
    const rowAxis: Record<string, number> = {};
    for (let i = 0; i + 1 < sizes.length; i++) {
      const [fanIn, fanOut] = [sizes[i], sizes[i + 1]];
      const name = i + 2 === sizes.length ? 'head' : `fc${i + 1}`;
      // Kernels are [in, out]: tfjs's layout, a third faster than PyTorch's [out, in] with transposeB on wasm.
      const [w, b] = tf.tidy(() => [
        tf.variable(tf.tensor2d(uniformInit(rng, fanOut * fanIn, fanIn), [fanIn, fanOut]), true),
        tf.variable(tf.tensor1d(uniformInit(rng, fanOut, fanIn)), true),
      ]);
      params.set(`${name}.weight`, w);
      params.set(`${name}.bias`, b);
      rowAxis[`${name}.weight`] = 1;
      rowAxis[`${name}.bias`] = 0;
      layers.push({ w, b });
    }
    const act = ACTIVATIONS[opts.activation];
    const count = [...params.values()].reduce((a, p) => a + p.size, 0);
    const names = layers.map((_, i) => (i + 1 === layers.length ? 'head' : `fc${i + 1}`));
    const apply = (values: Readonly<Record<string, tf.Tensor>>, x: tf.Tensor) => {
      let h = x;
      names.forEach((name, i) => {
        h = tf.add(tf.matMul(h, values[`${name}.weight`]), values[`${name}.bias`]);
        if (i + 1 < names.length) h = act(h);
      });
      return h;
    };
    const current = Object.fromEntries(params);
    return {
      params,
      rowAxis,
      forward: (x) => apply(current, x),
      apply: (values, x) => apply(values, x),
      describe: () => `mlp ${sizes.join('-')} ${opts.activation} (${count.toLocaleString('en-US')} parameters)`,
      dispose: () => params.forEach((p) => p.dispose()),
    };
  },
});
