// Durable writes: the whole new file or the old one, and no temporary file left behind when a write fails.
import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { replaceFileDurably, syncFolder, writeFileDurably } from '../src/durable-files.js';
import { scratchDir } from './helpers.js';

describe('durable files', () => {
  it('writes the bytes given, replacing an earlier file whole', () => {
    const dir = scratchDir('durable');
    writeFileDurably(join(dir, 'a.bin'), Uint8Array.from([1, 2, 3]));
    expect([...readFileSync(join(dir, 'a.bin'))]).toEqual([1, 2, 3]);
    writeFileSync(join(dir, 'b.txt'), 'old');
    replaceFileDurably(join(dir, 'b.txt'), 'new');
    expect(readFileSync(join(dir, 'b.txt'), 'utf8')).toBe('new');
    syncFolder(dir);
    expect(readdirSync(dir).sort()).toEqual(['a.bin', 'b.txt']);
  });

  it('a replace that cannot rename (a folder in the way) throws, keeps what is there, leaves no temporary file', () => {
    const dir = scratchDir('durable-fail');
    mkdirSync(join(dir, 'taken'));
    writeFileSync(join(dir, 'taken', 'inside'), 'kept');
    expect(() => replaceFileDurably(join(dir, 'taken'), 'data')).toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
    expect(readdirSync(dir)).toEqual(['taken']);
    expect(readFileSync(join(dir, 'taken', 'inside'), 'utf8')).toBe('kept');
  });
});
