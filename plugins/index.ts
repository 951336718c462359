// The built-in plugins. They are registered exactly as a user's plugins are.
import type { PluginDefinition } from '../src/plugin/define-plugin.js';
import arrow from './datasets/arrow.js';
import idx from './datasets/idx.js';
import mnist from './datasets/mnist.js';
import synthetic from './datasets/synthetic.js';
import cnn from './models/cnn.js';
import mlp from './models/mlp.js';
import adamw from './optimizers/adamw.js';
import ftp from './optimizers/ftp.js';
import l2sp from './optimizers/l2sp.js';
import pgd from './optimizers/pgd.js';
import spd from './optimizers/spd.js';
import tpgm from './optimizers/tpgm.js';
import sgd from './optimizers/sgd.js';
import fraction from './samplers/fraction.js';
import perClass from './samplers/per-class.js';
import shuffled from './samplers/shuffled.js';
import permuted from './streams/permuted.js';
import rotated from './streams/rotated.js';
import split from './streams/split.js';
import cumulative from './strategies/cumulative.js';
import ewc from './strategies/ewc.js';
import joint from './strategies/joint.js';
import lwf from './strategies/lwf.js';
import naive from './strategies/naive.js';
import replay from './strategies/replay.js';

export const builtinPlugins: readonly PluginDefinition<any, any>[] = [mnist, idx, arrow, synthetic, split, permuted, rotated, shuffled, fraction, perClass, mlp, cnn, adamw, sgd, ftp, pgd, tpgm, l2sp, spd, naive, joint, cumulative, replay, ewc, lwf];
