// Run locks: one process trains a run at a time; a lock whose holder is gone is taken over, one being written is not.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { lockPath, lockRun, processStart, type LockHeld } from '../../src/results/run-lock.js';
import { scratchDir } from '../helpers.js';

function runDir(): string {
  const dir = join(scratchDir('lock'), 'exp', 'run-1');
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe('run lock', () => {
  it('records its holder (pid, host, start time) and is released', () => {
    const dir = runDir();
    const taken = lockRun(dir);
    expect('release' in taken).toBe(true);
    const owner = JSON.parse(readFileSync(lockPath(dir), 'utf8')) as { pid: number; host: string; started: unknown };
    expect(owner).toEqual({ pid: process.pid, host: hostname(), started: processStart('self') });
    (taken as { release: () => void }).release();
    expect('release' in lockRun(dir)).toBe(true);
  });

  it('a live process holding it is named, with the lock file', () => {
    const dir = runDir();
    // The parent of this test process is alive and is not this process.
    const holder = { pid: process.ppid, host: hostname(), started: processStart(process.ppid) };
    writeFileSync(lockPath(dir), JSON.stringify(holder));
    expect(lockRun(dir)).toEqual({ heldBy: holder, file: lockPath(dir) } satisfies LockHeld);
  });

  it('an empty lock file just created is being written: it is read again until it names its holder', async () => {
    const dir = runDir();
    writeFileSync(lockPath(dir), '');
    const holder = { pid: process.ppid, host: hostname(), started: processStart(process.ppid) };
    // Another process writes the owner 300 ms later, as one between its open('wx') and its write does.
    const [file, owner] = [JSON.stringify(lockPath(dir)), JSON.stringify(JSON.stringify(holder))];
    const write = `require('fs').writeFileSync(${file}, ${owner})`;
    const writer = spawn(process.execPath, ['-e', `setTimeout(() => ${write}, 300)`]);
    await new Promise((r) => writer.once('spawn', r));
    expect(lockRun(dir)).toEqual({ heldBy: holder, file: lockPath(dir) });
    await new Promise((r) => writer.once('close', r));
  });

  it('an empty lock file left long ago (its process killed before it wrote) is stale and taken over', () => {
    const dir = runDir();
    writeFileSync(lockPath(dir), '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockPath(dir), old, old);
    expect('release' in lockRun(dir)).toBe(true);
  });
});
