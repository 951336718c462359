// A run's checkpoint folder, `.<run-id>.checkpoint` beside the run folders
// (hidden, so readers of results never take it for a run). It holds the
// state before a task began (`task-K.ckpt`), optionally a later point within
// that task (`step-K-S.ckpt`), and `position.json`, which names them and
// carries the result rows produced so far. Every file is written to a
// temporary name, flushed to the disk and renamed; position.json is written
// last and is the commit point, so a kill or a power loss at any moment
// leaves the previous checkpoint whole.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Snapshot } from '../contracts/snapshot.js';
import { replaceFileDurably } from '../durable-files.js';
import { decodeSnapshot, tensorsOf, type EncodedSnapshot } from './codec.js';

export const CHECKPOINT_FORMAT = 'anchorage-checkpoint/1';
const POSITION = 'position.json';
const MAGIC = 'ANCHORAGE-CKPT1\n';

export function checkpointDir(out: string, experiment: string, runId: string): string {
  return join(out, experiment, `.${runId}.checkpoint`);
}

export interface CheckpointPosition {
  /** CHECKPOINT_FORMAT when anchorage wrote it; anything, as read from a file. */
  format: string;
  runId: string;
  /** The backend that wrote it: resuming on another continues correctly but not bit for bit. */
  backend: string;
  /** The task the boundary file precedes. */
  task: number;
  boundary: string;
  /** A point within `task`, or null: resume at the task's start. */
  mid: { file: string; step: number } | null;
  /** Result rows emitted so far (evals, steps, constraints events), in order. */
  rows: unknown[];
  /** The files the run reads, fingerprinted (path → fingerprint); absent in checkpoints of earlier versions. */
  data?: Record<string, string>;
  savedAt: string;
}

export interface LoadedCheckpoint {
  position: CheckpointPosition;
  boundary: Snapshot;
  mid?: Snapshot;
  bytes: number;
}

/**
 * Writes a file through a temporary name, flushed to the disk before it is renamed into place and the rename
 * flushed with its folder: after a power loss the name points at the whole file or at the one before. A failed
 * write removes its temporary file.
 */
/** One file: magic line, JSON length, JSON, then the blob. */
function packSnapshot(encoded: EncodedSnapshot): Uint8Array {
  const json = Buffer.from(JSON.stringify(encoded.json));
  const header = Buffer.from(`${MAGIC}${json.byteLength}\n`);
  return Buffer.concat([header, json, encoded.blob]);
}

function unpackSnapshot(path: string): Snapshot {
  const data = readFileSync(path);
  const magic = Buffer.from(MAGIC);
  if (!data.subarray(0, magic.byteLength).equals(magic)) throw new Error(`${path}: not an anchorage checkpoint file`);
  const eol = data.indexOf(10, magic.byteLength);
  const length = Number(data.subarray(magic.byteLength, eol).toString());
  if (eol < 0 || !Number.isInteger(length) || eol + 1 + length > data.byteLength) throw new Error(`${path}: truncated`);
  const json = JSON.parse(data.subarray(eol + 1, eol + 1 + length).toString()) as unknown;
  // A copy so that the blob's 32-bit views start aligned.
  const blob = new Uint8Array(data.byteLength - eol - 1 - length);
  blob.set(data.subarray(eol + 1 + length));
  return decodeSnapshot(json, blob, path);
}

const finite = (_k: string, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? { $number: String(v) } : v);
const revive = (_k: string, v: unknown) =>
  v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && '$number' in v
    ? Number((v as { $number: string }).$number)
    : v;

const ROW_TYPES = new Set(['eval', 'step', 'constraints']);
const FILE_NAME = /^(task-\d+|step-\d+-\d+)\.ckpt$/;

/** What is wrong with a position file's fields (one edited by hand, or damaged), or undefined. */
function positionProblem(p: CheckpointPosition): string | undefined {
  if (!Number.isInteger(p.task) || p.task < 0) return `task ${JSON.stringify(p.task)} is not a task index`;
  if (typeof p.boundary !== 'string' || !FILE_NAME.test(p.boundary)) return 'boundary names no snapshot file';
  if (p.mid !== null) {
    if (typeof p.mid !== 'object' || typeof p.mid.file !== 'string' || !FILE_NAME.test(p.mid.file))
      return 'mid names no snapshot file';
    if (!Number.isInteger(p.mid.step) || p.mid.step < 1) return `mid.step ${JSON.stringify(p.mid.step)} is not a step`;
  }
  if (!Array.isArray(p.rows)) return 'rows is not a list';
  const bad = p.rows.findIndex(
    (r) =>
      typeof r !== 'object' ||
      r === null ||
      !ROW_TYPES.has((r as { type?: string }).type ?? '') ||
      (r as { runId?: string }).runId !== p.runId,
  );
  if (bad >= 0) return `rows[${bad}] is not a result row of this run`;
  return undefined;
}

export class CheckpointStore {
  constructor(readonly dir: string) {}

  exists(): boolean {
    return existsSync(join(this.dir, POSITION));
  }

  /**
   * The last committed checkpoint, or undefined when there is none. A
   * checkpoint that does not read back throws, naming the file and the fault.
   */
  load(runId: string): LoadedCheckpoint | undefined {
    const where = join(this.dir, POSITION);
    if (!existsSync(where)) return undefined;
    let position: CheckpointPosition;
    try {
      position = JSON.parse(readFileSync(where, 'utf8'), revive) as CheckpointPosition;
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`, { cause: e });
    }
    if (position.format !== CHECKPOINT_FORMAT)
      throw new Error(`${where}: format ${JSON.stringify(position.format)}, not "${CHECKPOINT_FORMAT}"`);
    if (position.runId !== runId) throw new Error(`${where}: belongs to run ${position.runId}, not ${runId}`);
    const problem = positionProblem(position);
    if (problem) throw new Error(`${where}: ${problem}`);
    const boundary = unpackSnapshot(join(this.dir, position.boundary));
    let mid: Snapshot | undefined;
    try {
      mid = position.mid ? unpackSnapshot(join(this.dir, position.mid.file)) : undefined;
    } catch (e) {
      // The state before the task read back, the point within it did not: nothing of it may stay allocated.
      for (const t of tensorsOf(boundary)) t.dispose();
      throw e;
    }
    return { position, boundary, mid, bytes: this.bytes(position) };
  }

  private bytes(position: Pick<CheckpointPosition, 'boundary' | 'mid'>): number {
    const files = [POSITION, position.boundary, ...(position.mid ? [position.mid.file] : [])];
    return files.reduce((a, f) => a + (existsSync(join(this.dir, f)) ? statSync(join(this.dir, f)).size : 0), 0);
  }

  /** Writes a snapshot file (not yet referenced); returns its name. */
  writeSnapshot(name: string, encoded: EncodedSnapshot): string {
    mkdirSync(this.dir, { recursive: true });
    replaceFileDurably(join(this.dir, name), packSnapshot(encoded));
    return name;
  }

  /** Commits a position, then removes the snapshot files it no longer names. Returns the checkpoint's bytes on disk. */
  commit(position: CheckpointPosition): number {
    replaceFileDurably(join(this.dir, POSITION), JSON.stringify(position, finite));
    const keep = new Set([POSITION, position.boundary, position.mid?.file]);
    for (const f of readdirSync(this.dir)) if (!keep.has(f)) rmSync(join(this.dir, f), { force: true });
    return this.bytes(position);
  }

  /** Removes the files no committed position names: what a failed write left. */
  removeUncommitted(): void {
    if (!existsSync(this.dir) || !statSync(this.dir).isDirectory()) return;
    let named = new Set<string>();
    try {
      const position = JSON.parse(readFileSync(join(this.dir, POSITION), 'utf8')) as CheckpointPosition;
      named = new Set([POSITION, position.boundary, position.mid?.file ?? '']);
    } catch {
      // No readable position: nothing here is a checkpoint.
    }
    for (const f of readdirSync(this.dir)) if (!named.has(f)) rmSync(join(this.dir, f), { force: true });
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
