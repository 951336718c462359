import type { RunConfig } from '../experiment/spec.js';
import { ExperimentError, canonicalJson } from '../experiment/validate.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { BackendInfo } from '../tensor/backend.js';
import { tf } from '../tensor/tf.js';
import { resolveTokenAsync } from '../contracts/token.js';
import { DatasetCache, createRunContainer } from './container.js';
import { COMPONENT } from './tokens.js';

/**
 * Builds every component of each distinct configuration once, before any
 * run trains, so that problems only visible with the data and the model in
 * hand (a malformed data file, an `exclude` pattern that matches no
 * parameter, a class that does not exist) stop the experiment up front.
 */
export async function preflight(configs: readonly RunConfig[], registry: PluginRegistry, backend: BackendInfo, datasets?: DatasetCache): Promise<void> {
  const seen = new Set<string>();
  for (const config of configs) {
    const key = canonicalJson({ c: config.components, s: config.scenario });
    if (seen.has(key)) continue;
    seen.add(key);
    const before = tf.memory().numTensors;
    const container = createRunContainer(config, registry, backend, datasets);
    try {
      for (const kind of ['dataset', 'stream', 'sampler', 'model', 'optimizer', 'strategy'] as const) {
        try {
          await resolveTokenAsync<unknown>(container, COMPONENT[kind]);
        } catch (e) {
          throw new ExperimentError(config.experimentFile, [{ path: kind, message: (e as Error).message.replace(/^\w+ '[^']+': /, '') }]);
        }
      }
      const stream = await resolveTokenAsync(container, COMPONENT.stream);
      const needsImages = config.eval.ood.filter((o) => o.corruption === 'blur' || o.corruption === 'rotation');
      if (needsImages.length && stream.featureShape.length !== 3) {
        throw new ExperimentError(config.experimentFile, [{ path: 'eval.ood', message: `${needsImages.map((o) => o.corruption).join(', ')} need images [height, width, channels]; examples have shape [${stream.featureShape}]` }]);
      }
    } finally {
      if (container.isBound(COMPONENT.model)) {
        try {
          (await resolveTokenAsync(container, COMPONENT.model)).dispose();
        } catch {
          /* never built */
        }
      }
      const leaked = tf.memory().numTensors - before;
      if (leaked > 0) throw new Error(`internal error: preflight leaked ${leaked} tensors`);
    }
  }
}
