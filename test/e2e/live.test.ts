// The live view: a page on 127.0.0.1 that follows a sweep as it runs, opened
// in a real browser; worker processes' runs reach the parent's page; a port in
// use stops the command before training. Waits are for events (progress on
// the page, the process's exit), with generous guards, never a race.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { BIN, ROOT, TINY_SPEC, runCli, scratchDir, writeExperiment } from '../helpers.js';
import { CHROMIUM, NO_CHROMIUM, launchChromium } from './browser.js';

// Long enough to watch: 2 tasks × 150 epochs × 6 steps.
const SPEC = { ...TINY_SPEC, name: 'live', train: { epochs: 150, batchSize: 16, logEvery: 10 } };

function startLive(args: string[]) {
  const child = spawn(process.execPath, [BIN, 'run', ...args, '--live', '0'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, out, err })),
  );
  // The page's address, or the command's own words when it ends without serving one (never a wait without end).
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /live view: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) resolve(m[1]);
    });
    void done.then((r) => reject(new Error(`the command ended (${r.code}) without a live view:\n${r.out}\n${r.err}`)));
  });
  return { child, url, done };
}

interface LiveState {
  done: boolean;
  runs: { runId: string; worker?: number; state: string; task: number; step: number; matrix: (number | null)[][] }[];
}
const state = async (url: string) => (await (await fetch(`${url}state`)).json()) as LiveState;
const until = async (check: () => Promise<boolean>) => {
  while (!(await check())) await new Promise((r) => setTimeout(r, 200));
};

describe('the live view', () => {
  it('a browser sees the run progress as it trains, then the sweep end; the server stops with the run', async (ctx) => {
    if (!existsSync(CHROMIUM)) ctx.skip(NO_CHROMIUM);
    const dir = scratchDir('live');
    const run = startLive([writeExperiment(dir, SPEC), '--out', join(dir, 'results')]);
    const url = await run.url;
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
      await page.goto(url);
      await page.waitForSelector('tr[data-run] td.progress', { timeout: 300_000 });
      const progress = () => page.$eval('tr[data-run] td.progress', (td) => Number((td as HTMLElement).dataset.done));
      // Progress changes on the page without a reload, while the run trains.
      await page.waitForFunction(
        () => Number(document.querySelector<HTMLElement>('tr[data-run] td.progress')?.dataset.done ?? 0) > 0,
        undefined,
        { timeout: 300_000 },
      );
      const first = await progress();
      await page.waitForFunction(
        (before) => Number((document.querySelector('tr[data-run] td.progress') as HTMLElement).dataset.done) > before,
        first,
        { timeout: 300_000 },
      );
      expect(await progress()).toBeGreaterThan(first);
      await page.waitForFunction(
        () => document.querySelector('tr[data-run]')?.getAttribute('data-state') === 'completed',
        undefined,
        { timeout: 600_000 },
      );
      // The accuracy matrix so far: untrained row and both tasks' rows filled.
      expect(
        await page.$$eval('tr[data-run] table.matrix td', (tds) => tds.filter((td) => td.textContent !== '').length),
      ).toBe(6);
      const result = await run.done;
      expect(result.code, result.err).toBe(0);
      await page.waitForFunction(
        () => /the sweep is over/.test(document.querySelector('#status')?.textContent ?? ''),
        undefined,
        { timeout: 60_000 },
      );
      expect(problems).toEqual([]);
      await expect(fetch(`${url}state`)).rejects.toThrow();
    } finally {
      await browser.close();
    }
  });

  it("with --workers, both workers' runs appear on the parent's page with their worker and progress", async () => {
    const dir = scratchDir('live-workers');
    const run = startLive([
      writeExperiment(dir, SPEC),
      '--out',
      join(dir, 'results'),
      '--seeds',
      '0,1',
      '--workers',
      '2',
    ]);
    const url = await run.url;
    await until(async () => {
      const s = await state(url);
      return s.runs.length === 2 && s.runs.every((r) => r.step > 0 || r.state === 'completed');
    });
    const seen = await state(url);
    expect(seen.runs.map((r) => r.worker).sort()).toEqual([0, 1]);
    const result = await run.done;
    expect(result.code, result.err).toBe(0);
  });

  it('a port in use is a clear error, exit 2, before training', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const dir = scratchDir('live-port');
      const r = runCli(['run', writeExperiment(dir, TINY_SPEC), '--out', join(dir, 'results'), '--live', String(port)]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `--live: port ${port} on 127.0.0.1 is in use; give another (--live PORT) or 0 for any free one`,
      );
      expect(existsSync(join(dir, 'results'))).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it('takes decimal ports only: 0x50, 1e3 and " 80" are refused, exit 2, before training', () => {
    const dir = scratchDir('live-bad-port');
    const file = writeExperiment(dir, TINY_SPEC);
    for (const bad of ['0x50', '1e3', ' 80', '65536']) {
      const r = runCli(['run', file, '--out', join(dir, 'results'), `--live=${bad}`]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toContain(`--live takes a port from 0 to 65535, got '${bad}'`);
    }
    expect(existsSync(join(dir, 'results'))).toBe(false);
  });

  it('answers only requests for 127.0.0.1 or localhost, and a half-sent request holds nothing open', async () => {
    const dir = scratchDir('live-hosts');
    const run = startLive([writeExperiment(dir, SPEC), '--out', join(dir, 'results')]);
    const url = await run.url;
    const port = Number(new URL(url).port);
    const get = (host: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/state', headers: { host } }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    // A page elsewhere whose DNS name was rebound to 127.0.0.1 sends its own name.
    const rebound = await get(`attacker.example:${port}`);
    expect(rebound.status).toBe(421);
    expect(rebound.body).not.toContain('runs');
    expect((await get(`localhost:${port}`)).status).toBe(200);
    expect((await get(`127.0.0.1:${port}`)).status).toBe(200);
    // A request whose headers never end, left open while the sweep finishes: the command still ends, and ends it.
    const socket = connect(port, '127.0.0.1');
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    await new Promise<void>((r, reject) => {
      socket.once('connect', () => r());
      socket.once('error', reject);
    });
    socket.on('error', () => undefined);
    // Read whatever the server answers (a 408 once its header time-out passes): a paused socket never sees its end.
    socket.resume();
    socket.write(`GET /state HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
    const result = await run.done;
    expect(result.code, result.err).toBe(0);
    // Closed from the server's side: the command closes every connection when its sweep ends, rather than wait for
    // Node's own limits on a request that never completes.
    // (A guard, not a speed limit: the command has ended, so only a connection held elsewhere could stay open.)
    const guard = new Promise<never>((_, reject) => {
      setTimeout(
        () => reject(new Error('the connection was still open 2 minutes after the command ended')),
        120_000,
      ).unref();
    });
    await Promise.race([closed, guard]);
    expect(socket.destroyed).toBe(true);
    socket.destroy();
  });
});
