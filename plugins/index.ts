// The built-in plugins. They are registered exactly as a user's plugins are.
import type { AnyPluginDefinition } from '../src/plugin-api.js';
import arrow from './datasets/arrow.js';
import cifar10 from './datasets/cifar10.js';
import cifar100 from './datasets/cifar100.js';
import fashionMnist from './datasets/fashion-mnist.js';
import idx from './datasets/idx.js';
import mnist from './datasets/mnist.js';
import synthetic from './datasets/synthetic.js';
import cnn from './models/cnn.js';
import mlp from './models/mlp.js';
import pretrained from './models/pretrained.js';
import resnet18 from './models/resnet18.js';
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
import shifted from './streams/shifted.js';
import split from './streams/split.js';
import horizontalFlip from './augmentations/horizontal-flip.js';
import normalize from './augmentations/normalize.js';
import randomCrop from './augmentations/random-crop.js';
import arrowReporter from './reporters/arrow.js';
import parquet from './reporters/parquet.js';
import progress from './reporters/progress.js';
import tensorboard from './reporters/tensorboard.js';
import cumulative from './strategies/cumulative.js';
import ewc from './strategies/ewc.js';
import joint from './strategies/joint.js';
import lwf from './strategies/lwf.js';
import naive from './strategies/naive.js';
import replay from './strategies/replay.js';
import si from './strategies/si.js';
import mas from './strategies/mas.js';
import agem from './strategies/agem.js';
import gem from './strategies/gem.js';
import der from './strategies/der.js';
import derpp from './strategies/derpp.js';
import erAce from './strategies/er-ace.js';
import icarl from './strategies/icarl.js';
import gdumb from './strategies/gdumb.js';
import mir from './strategies/mir.js';
import ewcpp from './strategies/ewcpp.js';
import rwalk from './strategies/rwalk.js';
import gss from './strategies/gss.js';
import simplecil from './strategies/simplecil.js';
import ranpac from './strategies/ranpac.js';
import aper from './strategies/aper.js';
import slca from './strategies/slca.js';
import dgr from './strategies/dgr.js';
import blurry from './streams/blurry.js';

export const builtinPlugins: readonly AnyPluginDefinition[] = [
  mnist,
  fashionMnist,
  cifar10,
  cifar100,
  idx,
  arrow,
  synthetic,
  split,
  permuted,
  rotated,
  shifted,
  blurry,
  shuffled,
  fraction,
  perClass,
  mlp,
  cnn,
  pretrained,
  resnet18,
  adamw,
  sgd,
  ftp,
  pgd,
  tpgm,
  l2sp,
  spd,
  naive,
  joint,
  cumulative,
  replay,
  mir,
  gss,
  simplecil,
  ranpac,
  aper,
  slca,
  dgr,
  ewcpp,
  rwalk,
  ewc,
  lwf,
  si,
  mas,
  agem,
  gem,
  der,
  derpp,
  erAce,
  icarl,
  gdumb,
  randomCrop,
  horizontalFlip,
  normalize,
  progress,
  arrowReporter,
  parquet,
  tensorboard,
];
