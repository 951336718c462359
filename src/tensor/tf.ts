// The one import point for TensorFlow.js inside anchorage. It makes sure the
// gradient functions are registered (see scripts/vendor-tfjs-gradients.mjs)
// before any code computes a gradient.
import * as tf from '@tensorflow/tfjs-core';
import { TFJS_CORE_VERSION } from './vendor/tfjs-gradients.js';

if (TFJS_CORE_VERSION !== tf.version_core) {
  throw new Error(
    `anchorage: vendored tfjs gradients are from tfjs-core ${TFJS_CORE_VERSION} but ${tf.version_core} is installed; ` +
      'run `node scripts/vendor-tfjs-gradients.mjs`',
  );
}

export { tf };
export type Tensor = tf.Tensor;
export type Variable = tf.Variable;
export type Tensor4D = tf.Tensor4D;
