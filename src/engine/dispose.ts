// Freeing what a run's container built, whatever it got to build: its
// anchors, augmentations (their input transforms hold tensors) and model.
// The run, the preflight and the plan of `--together` all build containers.
import type { Container } from 'inversify';
import { resolveToken, resolveTokenAsync } from '../contracts/token.js';
import { ANCHORS, AUGMENTATIONS, COMPONENT } from './tokens.js';

export async function disposeRunContainer(container: Container): Promise<void> {
  if (container.isBound(ANCHORS)) resolveToken(container, ANCHORS).dispose();
  if (container.isBound(AUGMENTATIONS)) {
    try {
      for (const a of await resolveTokenAsync(container, AUGMENTATIONS)) a.dispose?.();
    } catch {
      /* they never got built */
    }
  }
  if (container.isBound(COMPONENT.model)) {
    try {
      (await resolveTokenAsync(container, COMPONENT.model)).dispose();
    } catch {
      /* the model never got built: nothing to free */
    }
  }
}
