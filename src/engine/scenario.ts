// The three scenarios of van de Ven & Tolias (2019) as views of a task
// stream: the width of the output layer, the label each example is trained
// and scored on, and which outputs compete for a task's examples.
import type { Scenario, TaskStream } from '../contracts/stream.js';
import type { ScenarioView } from '../contracts/scenario.js';

export function scenarioView(stream: TaskStream, scenario: Scenario): ScenarioView {
  switch (scenario) {
    case 'class-il':
      return { scenario, outputs: stream.numClasses, labels: (t, s) => t[s].labels, allowedOutputs: () => null };
    case 'task-il':
      // The task id is known at test time: only the task's own classes compete (multi-head by masking).
      return { scenario, outputs: stream.numClasses, labels: (t, s) => t[s].labels, allowedOutputs: (t) => t.classes };
    case 'domain-il': {
      // Same label space every task: a label becomes its position within the task's classes.
      const outputs = Math.max(...stream.tasks.map((t) => t.classes.length));
      return {
        scenario,
        outputs,
        labels: (t, s) => {
          const position = new Map(t.classes.map((c, i) => [c, i]));
          return t[s].labels.map((l) => position.get(l)!);
        },
        allowedOutputs: () => null,
      };
    }
  }
}
