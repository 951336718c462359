// The live view of a sweep: a small HTTP server on 127.0.0.1 that serves one
// page and pushes every change to it with server-sent events. It follows the
// sweep as a reporter in this process, and takes events forwarded from
// worker processes (`--workers`) through the same door.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Observable } from 'rxjs';
import type { RunEvent, SweepEvent } from '../contracts/events.js';
import type { Reporter } from '../contracts/reporter.js';
import type { RunConfig } from '../spec/spec.js';

export interface LiveRun {
  runId: string;
  seed: number;
  variant: Record<string, string>;
  state:
    | 'queued'
    | 'running'
    | 'completed'
    | 'failed'
    | 'diverged'
    | 'interrupted'
    | 'skipped (complete)'
    | 'skipped (busy)';
  worker?: number;
  tasks: string[];
  task: number;
  step: number;
  steps: number;
  loss: number | null;
  /** Accuracy on each task (column) after each task trained (row; row 0: untrained), on the test set. */
  matrix: (number | null)[][];
}

/** What a worker forwards to its parent: a sweep event, or one run event of a run. */
export type ForwardedEvent = { sweep: SweepEvent } | { run: RunEvent };

/** How long a client may take to send a whole request (headers and body). */
const REQUEST_TIMEOUT_MS = 5_000;

export class LiveView {
  private readonly runs = new Map<string, LiveRun>();
  private readonly clients = new Set<ServerResponse>();
  private experiment = '';
  private done = false;
  private server?: Server;

  /**
   * Listens on 127.0.0.1 only; rejects with a clear message when the port is taken. Answers only requests addressed
   * to this machine by name or address (a page elsewhere that rebinds its DNS name to 127.0.0.1 sends its own name),
   * and gives a client seconds, not minutes, to send a request: a half-sent one never holds the command open.
   */
  async listen(port: number): Promise<string> {
    let hosts = new Set<string>();
    const server = createServer({ connectionsCheckingInterval: 1_000 }, (req, res) => {
      if (!hosts.has(req.headers.host ?? '')) {
        res.writeHead(421, { 'content-type': 'text/plain' }).end('anchorage live view: unknown host\n');
        return;
      }
      if (req.url === '/events') {
        res.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-cache',
          connection: 'keep-alive',
        });
        res.write(`event: state\ndata: ${JSON.stringify(this.snapshot())}\n\n`);
        this.clients.add(res);
        req.on('close', () => this.clients.delete(res));
      } else if (req.url === '/state') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(this.snapshot()));
      } else if (req.url === '/' || req.url === '/index.html') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(PAGE);
      } else {
        res.writeHead(404).end();
      }
    });
    server.headersTimeout = REQUEST_TIMEOUT_MS;
    server.requestTimeout = REQUEST_TIMEOUT_MS;
    server.keepAliveTimeout = REQUEST_TIMEOUT_MS;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          new Error(
            e.code === 'EADDRINUSE'
              ? `--live: port ${port} on 127.0.0.1 is in use; give another (--live PORT) or 0 for any free one`
              : `--live: cannot listen on 127.0.0.1:${port} (${e.message})`,
          ),
        ),
      );
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    const address = server.address();
    const bound = typeof address === 'object' && address ? address.port : port;
    hosts = new Set([`127.0.0.1:${bound}`, `localhost:${bound}`]);
    return `http://127.0.0.1:${bound}/`;
  }

  snapshot() {
    return { experiment: this.experiment, done: this.done, runs: [...this.runs.values()] };
  }

  private push(run: LiveRun): void {
    const data = `event: run\ndata: ${JSON.stringify(run)}\n\n`;
    for (const c of this.clients) c.write(data);
  }

  private pushState(): void {
    const data = `event: state\ndata: ${JSON.stringify(this.snapshot())}\n\n`;
    for (const c of this.clients) c.write(data);
  }

  /** A sweep event of this process or of worker `worker`. */
  sweep(e: SweepEvent, worker?: number): void {
    switch (e.type) {
      case 'sweep-start':
        this.experiment = e.experiment;
        for (const r of e.runs) {
          if (!this.runs.has(r.runId))
            this.runs.set(r.runId, {
              ...r,
              state: 'queued',
              worker,
              tasks: [],
              task: 0,
              step: 0,
              steps: 0,
              loss: null,
              matrix: [],
            });
        }
        this.pushState();
        return;
      case 'run-queued':
        return;
      case 'run-skipped':
      case 'run-started':
      case 'run-finished': {
        const run = this.runs.get(e.runId);
        if (!run) return;
        run.state =
          e.type === 'run-skipped' ? `skipped (${e.reason})` : e.type === 'run-started' ? 'running' : e.status;
        this.push(run);
        return;
      }
      case 'sweep-end':
        return;
    }
  }

  /** A run event of this process or of a worker. */
  event(e: RunEvent): void {
    const run = this.runs.get(e.runId);
    if (!run) return;
    switch (e.type) {
      case 'run-start':
        run.tasks = e.tasks.map((t) => t.name);
        run.matrix = Array.from({ length: e.tasks.length + 1 }, () => Array<number | null>(e.tasks.length).fill(null));
        run.state = 'running';
        break;
      case 'task-start':
        run.task = e.task;
        run.steps = e.steps;
        run.step = 0;
        break;
      case 'step':
        run.step = e.step;
        run.loss = e.loss;
        break;
      case 'eval':
        if (e.evalSet === 'test' && run.matrix[e.trainedTask + 1])
          run.matrix[e.trainedTask + 1][e.evalTask] = e.accuracy;
        break;
      case 'resumed':
        for (const r of e.rows)
          if (r.type === 'eval' && r.evalSet === 'test' && run.matrix[r.trainedTask + 1])
            run.matrix[r.trainedTask + 1][r.evalTask] = r.accuracy;
        break;
      case 'run-end':
        run.state = e.status;
        break;
      default:
        return;
    }
    this.push(run);
  }

  /** This process's sweep, as a reporter. */
  reporter(): Reporter {
    return {
      name: 'live',
      onSweepEvent: (e) => this.sweep(e),
      onRun: (events: Observable<RunEvent>, _config: RunConfig) => {
        events.subscribe((e) => this.event(e));
      },
    };
  }

  /** The sweep is over: the page says so, then the server stops. */
  async close(): Promise<void> {
    this.done = true;
    this.pushState();
    for (const c of this.clients) c.end();
    this.clients.clear();
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Idle and half-sent connections too: the command ends with its sweep, whoever is connected.
    server.closeAllConnections();
    await closed;
  }
}

/** A reporter for a worker process: forwards the sweep and its runs' events to the parent over the IPC channel. */
export function forwardingReporter(send: (message: ForwardedEvent) => void): Reporter {
  return {
    name: 'forward',
    onSweepEvent: (e) => send({ sweep: e }),
    onRun: (events) => {
      events.subscribe((e) => {
        // run-start carries the whole configuration; the live view needs the task names only.
        if (e.type === 'run-start') send({ run: { ...e, config: { runId: e.runId } as RunConfig } });
        else if (
          e.type === 'step' ||
          e.type === 'eval' ||
          e.type === 'task-start' ||
          e.type === 'run-end' ||
          e.type === 'resumed'
        )
          send({ run: e });
      });
    },
  };
}

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>anchorage live</title><link rel="icon" href="data:,">
<style>
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 1.5rem; color: #222; }
h1 { font-size: 1.3rem; } .state { font-weight: bold; }
table { border-collapse: collapse; font-size: .85rem; }
th, td { padding: .2rem .5rem; border-bottom: 1px solid #eee; text-align: left; }
.bar { width: 160px; height: 8px; background: #eee; display: inline-block; vertical-align: middle; }
.bar > span { display: block; height: 8px; background: #4c78a8; }
.matrix td { width: 2.6rem; text-align: right; font-variant-numeric: tabular-nums; border: 1px solid #fff; }
.running { color: #4c78a8; } .completed { color: #2a9d3a; }
.failed, .diverged, .interrupted { color: #c0392b; } .queued, .skipped { color: #888; }
#status { color: #555; }
</style></head>
<body><h1 id="title">anchorage live</h1><p id="status">connecting…</p>
<table id="runs"><thead><tr>
<th>run</th><th>seed</th><th>variant</th><th>worker</th><th>state</th><th>progress</th><th>loss</th>
<th>accuracy so far (row: after task; first row: untrained)</th>
</tr></thead><tbody></tbody></table>
<script>
const runs = new Map();
const tbody = document.querySelector('#runs tbody');
function cell(text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}
function matrix(m) {
  const t = document.createElement('table');
  t.className = 'matrix';
  for (const row of m) {
    const tr = t.insertRow();
    for (const v of row) {
      const td = tr.insertCell();
      td.textContent = v === null ? '' : (100 * v).toFixed(1);
      if (v !== null) td.style.background = 'rgba(76,120,168,' + (0.15 + 0.6 * v).toFixed(2) + ')';
    }
  }
  return t;
}
function render() {
  tbody.textContent = '';
  for (const r of runs.values()) {
    const tr = document.createElement('tr'); tr.dataset.run = r.runId; tr.dataset.state = r.state;
    const worker = r.worker === undefined || r.worker === null ? '' : String(r.worker);
    tr.append(cell(r.runId), cell(String(r.seed)), cell(Object.values(r.variant).join(' · ')), cell(worker));
    tr.append(cell(r.state, 'state ' + r.state.split(' ')[0]));
    const p = document.createElement('td');
    const total = r.tasks.length;
    const bar = document.createElement('span'); bar.className = 'bar'; const fill = document.createElement('span');
    const done = r.state === 'completed' ? 1 : total ? (r.task + (r.steps ? r.step / r.steps : 0)) / total : 0;
    fill.style.width = (100 * done).toFixed(1) + '%'; bar.append(fill);
    const where = total ? ' task ' + (r.task + 1) + '/' + total + ', step ' + r.step + '/' + r.steps : '';
    p.append(bar, document.createTextNode(where));
    p.className = 'progress'; p.dataset.done = done.toFixed(4);
    tr.append(p, cell(r.loss === null ? '' : r.loss.toFixed(4)));
    const m = document.createElement('td'); m.append(matrix(r.matrix)); tr.append(m);
    tbody.append(tr);
  }
  const finished = [...runs.values()].filter((r) => !['queued', 'running'].includes(r.state)).length;
  const over = window.sweepDone ? ' — the sweep is over' : '';
  document.querySelector('#status').textContent = finished + ' of ' + runs.size + ' runs finished' + over;
}
const source = new EventSource('/events');
source.addEventListener('state', (e) => {
  const s = JSON.parse(e.data);
  document.querySelector('#title').textContent = 'anchorage live — ' + s.experiment;
  runs.clear();
  for (const r of s.runs) runs.set(r.runId, r);
  window.sweepDone = s.done;
  render();
  if (s.done) source.close();
});
source.addEventListener('run', (e) => { const r = JSON.parse(e.data); runs.set(r.runId, r); render(); });
source.onerror = () => {
  const why = 'disconnected (the sweep has ended or the server stopped)';
  if (!window.sweepDone) document.querySelector('#status').textContent = why;
  source.close();
};
</script></body></html>
`;
