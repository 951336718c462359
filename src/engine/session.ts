// One run, start to end: build its components, evaluate the untrained model
// (or resume from a checkpoint), train and evaluate each task, then the
// WiSE-FT interpolations and the saved model. Every step of training goes
// through the trainer (trainer.ts) and the one step definition (step.ts);
// where the steps execute — alone, or with a group of runs — is the
// executor's business (executor.ts). The run is a cold Observable of typed
// events: subscribing starts it, unsubscribing interrupts it, and it always
// ends with a `run-end` event.
import { resolve } from 'node:path';
import { Observable } from 'rxjs';
import { tf } from '../tensor/tf.js';
import type { BackendInfo } from '../tensor/backend.js';
import type { RunConfig } from '../contracts/run-config.js';
import type { RunEvent, RunStatus } from '../contracts/events.js';
import type { Task } from '../contracts/stream.js';
import type { TaskContext, TrainingSet } from '../contracts/strategy.js';
import { resolveToken, resolveTokenAsync } from '../contracts/token.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { saveLayersModel } from '../models/layers-file.js';
import { expandModelTemplate } from '../spec/model-path.js';
import { strategyLabel } from '../spec/strategy-label.js';
import type { CheckpointStore } from '../checkpoint/store.js';
import { tensorsOf } from '../checkpoint/codec.js';
import type { Snapshot } from '../contracts/snapshot.js';
import { DatasetCache, createRunContainer } from './container.js';
import { disposeRunContainer } from './dispose.js';
import { AloneExecutor, type GroupLane, type StepExecutor } from './executor.js';
import { evaluateInterpolations } from './interpolate.js';
import { phaseValidationFraction, planPhases, type PhasePlan } from './phases.js';
import { PhaseOptimizers } from './phase-optimizers.js';
import { StrategyPipeline } from './pipeline.js';
import { RunCheckpointer, type ResumePoint } from './checkpointing.js';
import { changedData, dataFingerprint, listOfPaths } from './data-fingerprint.js';
import { RunState } from './run-state.js';
import { ScenarioLoss } from './scenario-loss.js';
import { TrainingStep } from './step.js';
import { DivergedError, InterruptedError, TaskTrainer, rowsAt, type ResumeAt, type TaskPosition } from './trainer.js';
import { TaskExamples, type TaskSplit } from './task-examples.js';
import { Evaluator } from './evaluate.js';
import { ContinualEvaluation, type Progress } from './continual-eval.js';
import { orderedTrainingSet, streamSegment, type StreamSegment } from './stream-order.js';
import { ANCHORS, AUGMENTATIONS, COMPONENT, PHASE_OPTIMIZERS, ROOT_RNG, SCENARIO, STRATEGIES } from './tokens.js';
import type { Augmentation } from '../contracts/augmentation.js';
import type { Model } from '../contracts/model.js';
import type { TaskStream } from '../contracts/stream.js';
import type { AnchorStore } from '../optim/anchors.js';
import type { ScenarioView } from '../contracts/scenario.js';
import { releaseLibraryPages } from '../native/library-pages.js';

export interface RunOptions {
  /** Aborting stops the run after the current step; it ends as `interrupted`. */
  signal?: AbortSignal;
  /** Results root: where `saveModel` paths are resolved. Default: ./results. */
  out?: string;
  /** Data sets shared with other runs of this process. @internal */
  datasets?: DatasetCache;
  /**
   * Where the run checkpoints, and resumes from when a checkpoint is there; none: no checkpoints. @internal
   */
  checkpoints?: CheckpointStore;
  /**
   * The run's place in a group of runs trained together (src/together/); it then writes no checkpoints. @internal
   */
  lane?: GroupLane;
}

/** Where a run's trained model is saved: the experiment's template under the results root. */
export function modelPath(config: RunConfig, out: string): string {
  return resolve(out, expandModelTemplate(config));
}

/**
 * One run as a cold Observable of typed events: subscribing starts it;
 * unsubscribing interrupts it. The run always ends with a `run-end` event
 * (completed, failed, diverged or interrupted), then completes.
 */
export function runEvents(
  config: RunConfig,
  registry: PluginRegistry,
  backend: BackendInfo,
  options: RunOptions = {},
): Observable<RunEvent> {
  return new Observable<RunEvent>((subscriber) => {
    const local = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, local.signal]) : local.signal;
    const session = new RunSession({ config, registry, backend, signal, options, emit: (e) => subscriber.next(e) });
    session.run().then(
      () => subscriber.complete(),
      (e) => subscriber.error(e),
    );
    return () => local.abort();
  });
}

/** What a run is built of, once its components are resolved. */
interface BuiltParts {
  stream: TaskStream;
  model: Model;
  scenario: ScenarioView;
  plans: PhasePlan[];
  anchors: AnchorStore;
  pipeline: StrategyPipeline;
  trainer: TaskTrainer;
  evaluator: Evaluator;
  examples: TaskExamples;
  splits: TaskSplit[];
  /** The random augmentations of the sampled rows (the deterministic ones are the model's input). */
  augmentations: Augmentation[];
}

/** And what it trains with. */
interface RunParts extends BuiltParts {
  loss: ScenarioLoss;
  executor: StepExecutor;
  optimizers: PhaseOptimizers;
  state: RunState;
  /** `eval.every`: the tasks' test subsets scored during training. */
  continual?: ContinualEvaluation;
}

/** What runs after each step besides a due checkpoint: the evaluations that fall within it. */
type StepWork = (before: Progress, after: Progress) => Promise<void>;

interface SessionInit {
  config: RunConfig;
  registry: PluginRegistry;
  backend: BackendInfo;
  signal: AbortSignal;
  options: RunOptions;
  emit: (e: RunEvent) => void;
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export class RunSession {
  private readonly config: RunConfig;
  private readonly signal: AbortSignal;
  private readonly lane?: GroupLane;
  private readonly store?: CheckpointStore;
  private readonly container: ReturnType<typeof createRunContainer>;
  private readonly started = performance.now();
  private readonly tensorsBefore = tf.memory().numTensors;
  /** Steps per second at each logged step (the median goes into run-end). */
  private readonly rates: number[] = [];
  private built?: BuiltParts;
  private parts?: RunParts;
  private checkpointer?: RunCheckpointer;
  private startEmitted = false;
  private interpolationSeconds?: number;

  constructor(private readonly init: SessionInit) {
    const { config, options } = init;
    this.config = config;
    this.signal = init.signal;
    this.lane = options.lane;
    this.store = options.lane ? undefined : options.checkpoints;
    this.container = createRunContainer(config, init.registry, init.backend, options.datasets);
  }

  /** Every event passes here: the checkpointer keeps the result rows a checkpoint carries. */
  private emit(e: RunEvent): void {
    this.checkpointer?.track(e);
    this.init.emit(e);
  }

  async run(): Promise<void> {
    let status: RunStatus = 'completed';
    let error: string | undefined;
    try {
      const built = await this.build();
      this.announce(built);
      const parts = this.prepare(built);
      const resume = this.openCheckpoints(parts);
      if (resume) parts.state.restoreBoundary(resume.boundary);
      else {
        // The untrained model's accuracy is the b_j of forward transfer.
        await this.evaluateAll(parts, -1);
        await this.evaluateContinually(parts, -1);
      }
      if (this.config.online?.boundaries === 'hidden') await this.trainStream(parts, resume);
      else
        for (const task of parts.stream.tasks.slice(resume?.task ?? 0))
          await this.trainTask(parts, task, resume?.task === task.index ? resume : undefined);
      await this.afterTraining(parts);
    } catch (e) {
      status = e instanceof DivergedError ? 'diverged' : e instanceof InterruptedError ? 'interrupted' : 'failed';
      error = (e as Error).message;
      if (status === 'interrupted') await this.checkpointOnInterrupt();
      if (!this.startEmitted) {
        this.emit({
          type: 'run-start',
          runId: this.config.runId,
          config: this.config,
          backend: this.init.backend,
          model: '',
          optimizer: '',
          strategy: '',
          tasks: [],
          startedAt: new Date().toISOString(),
        });
      }
    }
    const steps = this.parts?.optimizers.steps ?? 0;
    const leaked = await this.tearDown();
    if (leaked > 0 && status === 'completed') {
      status = 'failed';
      error = `internal error: ${leaked} tensors were not freed by the end of the run`;
    }
    this.emit({
      type: 'run-end',
      runId: this.config.runId,
      status,
      error,
      seconds: (performance.now() - this.started) / 1000,
      steps,
      stepsPerSecond: median(this.rates),
      ...(this.interpolationSeconds !== undefined ? { interpolationSeconds: this.interpolationSeconds } : {}),
    });
  }

  /** Resolves the run's components and what it trains with. */
  private async build(): Promise<BuiltParts> {
    const c = this.container;
    const stream = await resolveTokenAsync(c, COMPONENT.stream);
    const model = await resolveTokenAsync(c, COMPONENT.model);
    const plans = planPhases(this.config, model, await resolveTokenAsync(c, PHASE_OPTIMIZERS));
    const anchors = resolveToken(c, ANCHORS);
    const pipeline = new StrategyPipeline(await resolveTokenAsync(c, STRATEGIES));
    const scenario = await resolveTokenAsync(c, SCENARIO);
    const trainer = await c.getAsync(TaskTrainer);
    const evaluator = await c.getAsync(Evaluator);
    const examples = await c.getAsync(TaskExamples);
    const augmentations = (await resolveTokenAsync(c, AUGMENTATIONS)).filter((a) => a.when === 'train');
    const splits = stream.tasks.map((t) => examples.split(t, phaseValidationFraction(plans)));
    for (const t of stream.tasks) if (splits[t.index].heldOut.length) evaluator.holdOut(t, splits[t.index].heldOut);
    this.built = {
      stream,
      model,
      scenario,
      plans,
      anchors,
      pipeline,
      trainer,
      evaluator,
      examples,
      splits,
      augmentations,
    };
    return this.built;
  }

  /** The run's initial point, its optimizers and its executor (alone, or its group's lane). */
  private prepare(built: BuiltParts): RunParts {
    const { model, plans, anchors, pipeline, stream, scenario } = built;
    anchors.snapshot('initial', model.params);
    const optimizers = new PhaseOptimizers(plans, anchors, model.rowAxis);
    const state = new RunState(model, optimizers, pipeline, anchors);
    const loss = new ScenarioLoss(stream, scenario);
    const spec = this.config.eval.continual;
    const continual =
      spec &&
      new ContinualEvaluation(
        spec,
        built.evaluator,
        stream.tasks,
        resolveToken(this.container, ROOT_RNG).fork('continual'),
      );
    this.parts = { ...built, optimizers, state, loss, continual, executor: this.lane ?? new AloneExecutor(model) };
    this.lane?.join({ config: this.config, model, strategies: pipeline.strategies });
    return this.parts;
  }

  private announce(parts: BuiltParts): void {
    const { stream, model, plans, splits } = parts;
    const phased = this.config.phases !== null;
    this.emit({
      type: 'run-start',
      runId: this.config.runId,
      config: this.config,
      backend: this.init.backend,
      model: model.describe(),
      optimizer: phased
        ? plans.map((p) => `${p.name}: ${p.component.description}`).join('; ')
        : plans[0].component.description,
      strategy: strategyLabel(this.config.strategies),
      tasks: stream.tasks.map((t, i) => ({
        index: t.index,
        name: t.name,
        classes: t.classes,
        trainExamples: splits[i].train.length,
        validationExamples: splits[i].validation.length + splits[i].heldOut.length,
        testExamples: t.test.count,
      })),
      startedAt: new Date().toISOString(),
      ...(this.lane ? { together: this.lane.runs } : {}),
    });
    this.startEmitted = true;
  }

  /** The checkpointer, and the point a checkpoint puts the run at (undefined: from the beginning). */
  private openCheckpoints(parts: RunParts): ResumePoint | undefined {
    if (!this.store) return undefined;
    const { runId } = this.config;
    const unable = parts.pipeline.notCheckpointable;
    if (unable.length) {
      const why = 'has no checkpoint()/restore(), so a resumed run could not continue exactly';
      this.emit({ type: 'warning', runId, message: `checkpoints off: strategy ${unable.join(', ')} ${why}` });
      return undefined;
    }
    const data = dataFingerprint(this.config);
    const run = { id: runId, backend: this.init.backend.name, data };
    const open = () => new RunCheckpointer(this.store!, this.config.checkpoint, run, (e) => this.emit(e));
    this.checkpointer = open();
    const startOver = (why: string) => {
      this.emit({ type: 'warning', runId, message: `${why}; the run starts from the beginning` });
      this.store!.remove();
      this.checkpointer = open();
      return undefined;
    };
    try {
      const loaded = this.checkpointer.load();
      const changed = loaded?.data ? changedData(loaded.data, data) : [];
      const misfit =
        loaded &&
        (changed.length ? `${listOfPaths(changed)} changed since it was written` : checkpointMisfit(loaded, parts));
      if (loaded && misfit) {
        for (const t of [...tensorsOf(loaded.boundary), ...tensorsOf(loaded.mid?.state ?? {})]) t.dispose();
        return startOver(`the checkpoint in ${this.store.dir} does not fit this run (${misfit}); it is discarded`);
      }
      if (loaded && loaded.backend !== this.init.backend.name)
        this.emit({
          type: 'warning',
          runId,
          message:
            `resumed on ${this.init.backend.name} from a checkpoint written on ${loaded.backend}: the results differ ` +
            'from an uninterrupted run by float32 round-off',
        });
      if (loaded)
        this.emit({
          type: 'resumed',
          runId,
          task: loaded.task,
          step: loaded.mid?.step ?? 0,
          rows: loaded.rows,
          checkpoint: this.store.dir,
        });
      return loaded;
    } catch (e) {
      return startOver(`the checkpoint does not read back (${(e as Error).message}); it is discarded`);
    }
  }

  private contextOf(parts: RunParts, task: Task): Omit<TaskContext, 'state'> {
    const { stream, model, scenario, examples, splits } = parts;
    return {
      task,
      stream,
      model,
      scenario,
      sampledTrainingSet: (t: Task) => examples.trainingSet(t, splits[t.index].train),
      boundaries: this.config.online?.boundaries ?? 'given',
    };
  }

  /** One task: its set-up, each phase's steps, the strategies' consolidation, evaluation. */
  private async trainTask(parts: RunParts, task: Task, resume: ResumePoint | undefined): Promise<void> {
    const { pipeline, optimizers, plans, examples, splits, anchors, model, state } = parts;
    if (this.checkpointer && !resume) await this.checkpointer.beforeTask(task.index, state.captureBoundary());
    if (this.signal.aborted) throw new InterruptedError('interrupted');
    const taskStart = performance.now();
    if (plans.some((p) => p.component.anchor === 'task-start')) anchors.snapshot('task-start', model.params);
    const ctx = this.contextOf(parts, task);
    const { resetModel } = await pipeline.onTaskStart(ctx);
    if (resetModel) {
      if (this.lane)
        throw new Error(
          'a strategy restarted the model from its initial parameters, which runs trained together cannot do',
        );
      // GDumb: the model starts again from the run's initial parameters, with fresh optimizers.
      state.resetModel();
    }
    optimizers.onTaskStart();
    const data = pipeline.trainingSet(ctx) ?? ctx.sampledTrainingSet(task);
    const split = splits[task.index];
    const validation = split.validation.length ? examples.trainingSet(task, split.validation) : undefined;
    const phaseSteps = plans.map((p) => (data.count === 0 ? 0 : p.steps(data.count)));
    const taskSteps = phaseSteps.reduce((a, b) => a + b, 0);
    releaseLibraryPages();
    this.emit({
      type: 'task-start',
      runId: this.config.runId,
      task: task.index,
      name: task.name,
      examples: data.count,
      steps: taskSteps,
    });
    const { batchSize } = this.config.train;
    await pipeline.onTrainingStart({
      ...ctx,
      data,
      steps: taskSteps,
      batchSize,
      rowsAt: rowsAt(data.count, batchSize, phaseSteps),
    });
    const within = resume?.mid;
    this.checkpointer?.startTask(within?.step ?? 0);
    await this.trainPhases(parts, { task, data, validation, phaseSteps, within }, async (before, after) => {
      if (parts.continual?.due(before, after)) await this.evaluateContinually(parts, task.index);
    });
    await pipeline.onTaskEnd({ ...ctx, trained: data });
    await this.evaluateAll(parts, task.index);
    await this.evaluateContinually(parts, task.index);
    this.emit({
      type: 'task-end',
      runId: this.config.runId,
      task: task.index,
      seconds: (performance.now() - taskStart) / 1000,
    });
  }

  /**
   * The whole stream as one task (`online.boundaries: 'hidden'`): strategies see one task start, one pass in stream
   * order, one task end; the run evaluates as the stream passes each task's boundary.
   */
  private async trainStream(parts: RunParts, resume: ResumePoint | undefined): Promise<void> {
    const { pipeline, optimizers, plans, state } = parts;
    if (this.checkpointer && !resume) await this.checkpointer.beforeTask(0, state.captureBoundary());
    if (this.signal.aborted) throw new InterruptedError('interrupted');
    const started = performance.now();
    const segment = this.streamSegment(parts);
    const { task, data } = segment;
    const ctx = this.contextOf(parts, task);
    await pipeline.onTaskStart(ctx);
    optimizers.onTaskStart();
    const steps = plans[0].steps(data.count);
    const { runId, train } = this.config;
    releaseLibraryPages();
    this.emit({ type: 'task-start', runId, task: 0, name: task.name, examples: data.count, steps });
    await pipeline.onTrainingStart({
      ...ctx,
      data,
      steps,
      batchSize: train.batchSize,
      rowsAt: rowsAt(data.count, train.batchSize),
    });
    const within = resume?.mid;
    this.checkpointer?.startTask(within?.step ?? 0);
    await this.trainPhases(parts, { task, data, phaseSteps: [steps], within, streamOrder: true }, (before, after) =>
      this.passBoundaries(parts, segment, before, after),
    );
    await pipeline.onTaskEnd({ ...ctx, trained: data });
    this.emit({ type: 'task-end', runId, task: 0, seconds: (performance.now() - started) / 1000 });
  }

  /** Every task's training examples, each in its first epoch's order, as one stream (gradual when asked). */
  private streamSegment(parts: RunParts): StreamSegment {
    const { stream, examples, splits, trainer } = parts;
    const ordered = stream.tasks.map((t) => {
      const set = examples.trainingSet(t, splits[t.index].train);
      return orderedTrainingSet(set, trainer.firstEpochOrder(t, set.count));
    });
    const rng = resolveToken(this.container, ROOT_RNG).fork('gradual');
    return streamSegment(stream.tasks, ordered, this.config.online!.transition, rng);
  }

  /**
   * The evaluations within a step of a stream with hidden boundaries: each task boundary it passed (the task's
   * accuracy-matrix row), then continual evaluation when due.
   */
  private async passBoundaries(
    parts: RunParts,
    segment: StreamSegment,
    before: Progress,
    after: Progress,
  ): Promise<void> {
    const { ends } = segment;
    let evaluated = false;
    for (let k = 0; k < ends.length; k++) {
      if (ends[k] <= before.seen || ends[k] > after.seen) continue;
      await this.evaluateAll(parts, k);
      await this.evaluateContinually(parts, k);
      evaluated = true;
    }
    if (evaluated || !parts.continual?.due(before, after)) return;
    const current = ends.findIndex((end) => after.seen <= end);
    await this.evaluateContinually(parts, current);
  }

  /**
   * Each phase of a task in turn; resuming, the phases a checkpoint has passed are skipped and the one it is in
   * restored.
   */
  private async trainPhases(
    parts: RunParts,
    t: {
      task: Task;
      data: TrainingSet;
      validation?: TrainingSet;
      phaseSteps: number[];
      within?: ResumePoint['mid'];
      streamOrder?: boolean;
    },
    work: StepWork,
  ): Promise<void> {
    const { plans, optimizers, trainer, model } = parts;
    if (t.data.count === 0) return; // e.g. the later tasks of joint training
    let offset = 0;
    let pending: ResumeAt | undefined = t.within && this.resumeAt(parts, t.within);
    for (const plan of plans) {
      const steps = t.phaseSteps[plan.index];
      const first = offset;
      offset += steps;
      if (t.within && t.within.step > offset) continue;
      const step = this.stepFor(parts, plan, { task: t.task, steps, offset: first, validation: t.validation });
      const announce = this.config.phases
        ? {
            name: plan.name,
            optimizer: plan.component.description,
            trainable: [...plan.trainable.keys()],
            frozen: model.params.size - plan.trainable.size,
          }
        : undefined;
      const segment = { phase: plan.index, offset: first, steps, globalStep: () => optimizers.steps, announce };
      try {
        const run = {
          task: t.task,
          data: t.data,
          segment,
          step,
          signal: this.signal,
          resumeAt: pending,
          streamOrder: t.streamOrder,
          afterStep: this.afterEachStep(parts, work),
        };
        pending = undefined;
        for await (const event of trainer.train(run)) {
          if (event.type === 'step') this.rates.push(event.examplesPerSecond / this.config.train.batchSize);
          this.emit(event);
        }
      } finally {
        step.dispose();
      }
    }
  }

  /** The training step of one phase of a task. */
  private stepFor(
    parts: RunParts,
    plan: PhasePlan,
    at: { task: Task; steps: number; offset: number; validation?: TrainingSet },
  ): TrainingStep {
    const { pipeline, optimizers, loss, executor, augmentations, stream } = parts;
    const shape = stream.featureShape;
    const imageShape: [number, number, number] =
      shape.length === 3 ? [shape[0], shape[1], shape[2]] : [shape[0] ?? 1, shape[1] ?? 1, 1];
    const rng = resolveToken(this.container, ROOT_RNG);
    // Phase 0 keeps the random streams runs without phases always had.
    const phaseKey = plan.index > 0 ? `:phase${plan.index}` : '';
    const featureSize = shape.reduce((a, b) => a * b, 1);
    return new TrainingStep(
      {
        pipeline,
        optimizer: optimizers.of(plan.index),
        loss,
        executor,
        augmentations,
        variables: [...plan.trainable.values()],
      },
      {
        offset: at.offset,
        steps: at.steps,
        batchSize: this.config.train.batchSize,
        imageShape,
        augmentRng: (i) => rng.fork(`augment:${i}:${at.task.index}${phaseKey}`),
        ...(at.validation && {
          validation: {
            data: at.validation,
            featureSize,
            rng: rng.fork(`validation-order:${at.task.index}${phaseKey}`),
          },
        }),
      },
    );
  }

  /** Putting a checkpoint within a task back: after the task's set-up, the state it recorded. */
  private resumeAt(parts: RunParts, within: NonNullable<ResumePoint['mid']>): ResumeAt {
    return {
      step: within.step,
      validationBatches: within.validationBatches,
      restore: () => parts.state.restoreWithin(within.state),
    };
  }

  /** After each step: the examples it sampled counted, the evaluations that fall within it, a due checkpoint. */
  private afterEachStep(parts: RunParts, work: StepWork): (position: TaskPosition, rows: number) => Promise<void> {
    const cp = this.checkpointer;
    return async (position, rows) => {
      const before = this.progress(parts);
      parts.state.seen += rows;
      // The step's optimizer step is counted already: `before` is one step back.
      await work({ step: before.step - 1, seen: before.seen }, this.progress(parts));
      const reason = cp?.due(position);
      if (reason) await cp!.within(position, parts.state.captureWithin(), reason);
    };
  }

  private progress(parts: RunParts): Progress {
    return { step: parts.optimizers.steps, seen: parts.state.seen };
  }

  /**
   * Stopped within a task: keep the steps done so far (between tasks the boundary checkpoint already holds everything).
   */
  private async checkpointOnInterrupt(): Promise<void> {
    const position = this.parts?.trainer.position;
    if (!this.checkpointer || !position) return;
    try {
      await this.checkpointer.within(position, this.parts!.state.captureWithin(), 'interrupt');
    } catch (ce) {
      this.emit({
        type: 'warning',
        runId: this.config.runId,
        message: `could not write a checkpoint on interrupt: ${(ce as Error).message}`,
      });
    }
  }

  private async evaluateAll(parts: RunParts, trainedTask: number): Promise<void> {
    const { evaluator, stream, pipeline } = parts;
    const predict = pipeline.predictor;
    const at = this.progress(parts);
    for (const evalSet of evaluator.setNames) {
      // Every task of the set with one read-back.
      const results = await evaluator.evaluateTasks(stream.tasks, evalSet, trainedTask >= 0 ? predict : undefined);
      results.forEach((r, i) =>
        this.emit({
          type: 'eval',
          runId: this.config.runId,
          trainedTask,
          evalTask: stream.tasks[i].index,
          evalSet,
          ...r,
          ...at,
        }),
      );
    }
  }

  /** Continual evaluation's rows now (with `eval.every`); `trainedTask`: the task being trained, -1 before any. */
  private async evaluateContinually(parts: RunParts, trainedTask: number): Promise<void> {
    if (!parts.continual) return;
    const predict = trainedTask >= 0 ? parts.pipeline.predictor : undefined;
    for (const e of await parts.continual.evaluate(this.config.runId, trainedTask, this.progress(parts), predict))
      this.emit(e);
  }

  /** WiSE-FT's interpolations and the saved model. */
  private async afterTraining(parts: RunParts): Promise<void> {
    const { model, anchors, evaluator, stream } = parts;
    if (this.config.eval.interpolate?.length) {
      const started = performance.now();
      await evaluateInterpolations(
        this.config.eval.interpolate,
        model,
        anchors.get('initial', model.params),
        async (alpha) => {
          for (const evalSet of evaluator.setNames) {
            // The interpolated model's own outputs: a strategy's prediction (iCaRL's class means) belongs to the
            // final weights.
            const results = await evaluator.evaluateTasks(stream.tasks, evalSet);
            results.forEach((r, i) =>
              this.emit({
                type: 'interpolation-eval',
                runId: this.config.runId,
                alpha,
                trainedTask: stream.tasks.length - 1,
                evalTask: stream.tasks[i].index,
                evalSet,
                ...r,
              }),
            );
          }
        },
      );
      this.interpolationSeconds = (performance.now() - started) / 1000;
    }
    if (this.config.saveModel) {
      if (!model.architecture)
        throw new Error(
          `model '${this.config.components.model.name}' cannot be saved as a Layers model (it describes no ` +
            `layer graph)`,
        );
      const values = new Map<string, { shape: number[]; values: Float32Array }>();
      for (const [name, v] of [...model.params, ...(model.buffers ?? [])])
        values.set(name, { shape: v.shape, values: (await v.data()) as Float32Array });
      saveLayersModel(
        modelPath(this.config, this.init.options.out ?? 'results'),
        model.architecture.layers,
        model.architecture.inputShape,
        values,
      );
    }
  }

  /** Frees everything the run made; the tensors left over (0 unless something leaked). */
  private async tearDown(): Promise<number> {
    const parts = this.parts;
    // The others train on without this run (it finished, diverged or failed).
    this.lane?.leave();
    parts?.optimizers.dispose();
    parts?.state.dispose();
    parts?.loss.dispose();
    this.built?.evaluator.dispose();
    this.built?.pipeline.dispose();
    await disposeRunContainer(this.container);
    // Runs trained together share the process's tensor count while they run: their group checks it.
    return this.lane ? 0 : tf.memory().numTensors - this.tensorsBefore;
  }
}

/**
 * Why a checkpoint that read back cannot be this run's (a task the stream does not have, parameters of other names
 * or shapes: the data set or the model changed since), or undefined when it fits.
 */
function checkpointMisfit(loaded: ResumePoint, parts: RunParts): string | undefined {
  const tasks = parts.stream.tasks.length;
  if (loaded.task >= tasks) return `it resumes task ${loaded.task + 1} of a stream of ${tasks}`;
  for (const saved of [loaded.boundary, loaded.mid?.state]) {
    const params = saved?.params as Snapshot | undefined;
    if (!saved) continue;
    for (const [name, v] of parts.model.params) {
      const t = params?.[name] as tf.Tensor | undefined;
      if (!t) return `it has no parameter ${name}`;
      if (t.shape.join('x') !== v.shape.join('x'))
        return `parameter ${name} is [${t.shape.join(', ')}] there, [${v.shape.join(', ')}] here`;
    }
  }
  return undefined;
}
