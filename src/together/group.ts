// Several runs trained as one (`anchorage run --together K`): the executor
// of a group. Each run keeps its own run loop — data order, strategies,
// optimizer, evaluation, results — and hands the group its step requests
// (src/engine/executor.ts); once every run still training has asked, the
// group takes one step for all of them: the runs' rows side by side, one
// forward pass of the stacked models (stacked-layers.ts), each run's own
// loss, one backward pass to every run's own parameters, then each run's
// own optimizer step and after-step work. A run's optimizer, projection and
// strategies are exactly those it trains with alone: none knows it shares
// a step.
import { tf } from '../tensor/tf.js';
import { variableGrads } from '../tensor/grads.js';
import type { Model } from '../contracts/model.js';
import type { NamedTensors } from '../contracts/optimizer.js';
import type { RunConfig } from '../contracts/run-config.js';
import type { Strategy } from '../contracts/strategy.js';
import {
  namedGradients,
  parameterNames,
  runPhaseIfDue,
  type GroupLane,
  type PhaseTraining,
  type StepDone,
  type StepRequest,
} from '../engine/executor.js';
import { applyStackedLayers, unstackableLayers } from './stacked-layers.js';

/** A run of the group, as it joined. */
interface Member {
  readonly model: Model;
  readonly params: NamedTensors;
  readonly nameOf: ReadonlyMap<string, string>;
  /** The model's input transform (normalize), applied to the run's rows before the stacked pass. */
  readonly input?: (x: tf.Tensor) => tf.Tensor;
  phase?: PhaseTraining;
}

interface Pending {
  request: StepRequest<tf.TensorContainer>;
  resolve(value: StepDone<tf.TensorContainer>): void;
  reject(error: unknown): void;
}

/** A run's part of a joint step: its lane, its request, and what it has failed with. */
interface Part {
  readonly lane: number;
  readonly member: Member;
  readonly request: StepRequest<tf.TensorContainer>;
  rows?: tf.Tensor;
  logits?: tf.Tensor;
  loss?: tf.Scalar;
  failed?: unknown;
}

/** K runs' training steps, taken as one. */
export class StepGroup {
  private readonly members = new Map<number, Member>();
  /** Runs still expected at the next step. */
  private readonly live: Set<number>;
  private readonly pending = new Map<number, Pending>();
  private reference?: { model: Model; shape: string };

  readonly size: number;

  /** `runs`: the group's run ids, one lane each. */
  constructor(readonly runs: readonly string[]) {
    this.size = runs.length;
    this.live = new Set(Array.from({ length: this.size }, (_, i) => i));
  }

  lane(index: number): GroupLane {
    return {
      runs: this.runs,
      join: (run) => this.join(index, run),
      begin: (phase) => {
        const member = this.members.get(index);
        if (!member) throw new Error(`run ${index} of the group began training before it joined`);
        member.phase = phase;
      },
      step: <R extends tf.TensorContainer>(request: StepRequest<R>) =>
        new Promise<StepDone<R>>((resolve, reject) => {
          if (!this.live.has(index)) return reject(new Error(`run ${index} of the group has left it`));
          this.pending.set(index, { request, resolve: resolve as Pending['resolve'], reject });
          this.maybeStep();
        }),
      leave: () => this.leave(index),
    };
  }

  private join(index: number, run: { config: RunConfig; model: Model; strategies: readonly Strategy[] }): void {
    const why = whyNotTogether(run.config, run.model, run.strategies);
    if (why) throw new Error(`this run cannot train together with others: ${why}`);
    const { model } = run;
    const arch = model.architecture!;
    const shape = JSON.stringify({
      layers: arch.layers,
      input: arch.inputShape,
      params: [...model.params].map(([n, v]) => [n, v.shape]),
    });
    if (!this.reference) this.reference = { model, shape };
    else if (this.reference.shape !== shape)
      throw new Error('runs trained together must have the same model architecture');
    this.members.set(index, {
      model,
      params: Object.fromEntries(model.params),
      nameOf: parameterNames(model),
      input: arch.input,
    });
  }

  private leave(index: number): void {
    if (!this.live.delete(index)) return;
    this.members.delete(index);
    const p = this.pending.get(index);
    if (p) {
      this.pending.delete(index);
      p.reject(new Error('left the group while a step was pending'));
    }
    this.maybeStep();
  }

  private maybeStep(): void {
    if (this.pending.size === 0 || this.pending.size < this.live.size) return;
    const entries = [...this.pending].sort((a, b) => a[0] - b[0]);
    this.pending.clear();
    const parts: Part[] = entries.map(([lane, p]) => ({ lane, member: this.members.get(lane)!, request: p.request }));
    let results: (StepDone<tf.TensorContainer> | undefined)[];
    try {
      results = this.jointStep(parts);
    } catch (e) {
      for (const [, p] of entries) p.reject(e);
      return;
    }
    entries.forEach(([, p], j) => (parts[j].failed !== undefined ? p.reject(parts[j].failed) : p.resolve(results[j]!)));
  }

  /**
   * One step for the runs that asked. A run whose own part of the step
   * throws (its rows, loss, optimizer or after-step work) fails alone: its
   * rows and loss are left out, and the others' step is taken without it.
   */
  private jointStep(parts: Part[]): (StepDone<tf.TensorContainer> | undefined)[] {
    const own = <T>(part: Part, f: () => T): T | undefined => {
      if (part.failed !== undefined) return undefined;
      try {
        return f();
      } catch (e) {
        part.failed = e;
        return undefined;
      }
    };
    const ok = () => {
      const alive = parts.filter((p) => p.failed === undefined);
      if (alive.length === 0) throw parts[0].failed;
      return alive;
    };
    return tf.tidy(() => {
      for (const part of parts) part.rows = own(part, () => this.rowsOf(part));
      // The losses and logits kept out of the tape are freed however the step ends.
      try {
        const grads = this.backward(parts, own, ok);
        return parts.map(
          (part) => own(part, () => this.finish(part, grads)) as StepDone<tf.TensorContainer> & tf.TensorContainer,
        );
      } finally {
        tf.dispose(parts.flatMap((p) => [p.loss, p.logits]).filter((t): t is tf.Tensor => t !== undefined));
      }
    });
  }

  private rowsOf(part: Part): tf.Tensor {
    if (!part.member.phase) throw new Error(`run ${part.lane} of the group stepped before its training began`);
    if (part.request.gradients)
      throw new Error('a gradient stage cannot run in a group (the plan keeps such runs alone)');
    const rows = part.request.rows();
    return part.member.input ? part.member.input(rows) : rows;
  }

  /** The stacked forward pass, every run's loss, and one backward pass to every run's trained parameters. */
  private backward(
    parts: Part[],
    own: <T>(part: Part, f: () => T) => T | undefined,
    ok: () => Part[],
  ): tf.NamedTensorMap {
    const present = ok();
    const batch = Math.max(...present.map((p) => p.rows!.shape[0]));
    // Each run's rows padded to the most rows: padding rows enter no loss.
    const x = tf.concat(
      present.map((p) =>
        p.rows!.shape[0] === batch
          ? p.rows!
          : tf.pad(p.rows!, [
              [0, batch - p.rows!.shape[0]],
              [0, 0],
            ]),
      ),
    );
    const variables = present.flatMap((p) => p.member.phase!.variables as tf.Variable[]);
    const arch = this.reference!.model.architecture!;
    return variableGrads(() => {
      const out = applyStackedLayers(
        arch.layers,
        arch.inputShape,
        present.map((p) => p.member.params),
        x,
      );
      present.forEach((part, at) => {
        part.logits = tf.keep(tf.slice(out, [at * batch, 0], [part.rows!.shape[0], -1]));
        const loss = own(part, () => part.request.loss(part.logits!, part.member.params));
        if (loss) part.loss = tf.keep(loss);
      });
      const terms = ok().map((p) => p.loss!);
      return terms.length === 1 ? terms[0] : tf.addN<tf.Scalar>(terms);
    }, variables).grads;
  }

  /** A run's own optimizer step, after-step work, periodic phase and read-back, as alone. */
  private finish(part: Part, grads: tf.NamedTensorMap): StepDone<tf.TensorContainer> {
    const { member, request } = part;
    const mine: tf.NamedTensorMap = {};
    for (const v of member.phase!.variables) if (grads[v.name]) mine[v.name] = grads[v.name];
    const named = namedGradients(mine, member.nameOf);
    member.phase!.optimizer.step(named);
    const after = request.afterStep({
      loss: part.loss!,
      rawLogits: request.keepLogits ? part.logits : undefined,
      params: member.params,
      grads: named,
    });
    runPhaseIfDue(member.phase!.optimizer, member.model, member.params, request);
    return { after, readout: request.readout?.(part.loss!) };
  }
}

/**
 * Why a run cannot train in a group, or undefined when it can: its model
 * must be a layer graph that stacks, and its strategies must neither replace
 * a step's gradients, change what a task trains on nor replace prediction.
 * Its optimizer, phases and trained parameters are its own, whatever they are.
 */
export function whyNotTogether(config: RunConfig, model: Model, strategies: readonly Strategy[]): string | undefined {
  if (!model.architecture) return `its model (${config.components.model.name}) describes no layer graph to stack`;
  const layers = unstackableLayers(model.architecture.layers);
  if (layers) return `its model cannot be stacked: ${layers}`;
  for (const s of strategies) {
    const hooks = (['gradients', 'trainingSet', 'predict'] as const).filter((h) => s[h]);
    if (hooks.length) return `strategy ${s.name} ${hooks.map((h) => HOOK_REASON[h]).join(' and ')}`;
  }
  return undefined;
}

const HOOK_REASON = {
  gradients: 'replaces the gradients',
  trainingSet: 'changes what a task trains on',
  predict: 'replaces prediction',
} as const;
