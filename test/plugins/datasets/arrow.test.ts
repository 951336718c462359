// The Arrow dataset: a fixed-size-list feature column and an integer label column, and malformed files named.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Float32, Int32, Table, tableToIPC, vectorFromArray, makeVector, FixedSizeList, Field } from 'apache-arrow';
import arrow from '../../../plugins/datasets/arrow.js';
import { create, ctxWith } from '../fixture.js';
import { scratchDir } from '../../helpers.js';

describe('arrow dataset', () => {
  function writeTable(path: string, rows: number[][], labels: number[], listSize = rows[0]?.length ?? 2) {
    const type = new FixedSizeList(listSize, new Field('item', new Float32()));
    const features = makeVector({
      type,
      length: rows.length,
      nullCount: 0,
      child: makeVector(Float32Array.from(rows.flat())).data[0],
    } as never);
    writeFileSync(path, tableToIPC(new Table({ features, label: vectorFromArray(labels, new Int32()) }), 'file'));
  }

  it('reads a fixed-size-list feature column and an integer label column', async () => {
    const dir = scratchDir('arrow');
    writeTable(
      join(dir, 'train.arrow'),
      [
        [0, 1, 2, 3],
        [4, 5, 6, 7],
        [8, 9, 10, 11],
      ],
      [0, 1, 2],
    );
    writeTable(join(dir, 'test.arrow'), [[1, 1, 1, 1]], [2]);
    const data = await create(
      arrow,
      { train: 'train.arrow', test: 'test.arrow', shape: [2, 2, 1] },
      ctxWith(undefined, dir),
    );
    expect(data.featureShape).toEqual([2, 2, 1]);
    expect(data.numClasses).toBe(3);
    expect(Array.from(data.train.features)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(Array.from(data.train.labels)).toEqual([0, 1, 2]);
  });

  it('names the problem in a malformed or mismatched file', async () => {
    const dir = scratchDir('arrow-bad');
    writeFileSync(join(dir, 'junk.arrow'), 'not arrow');
    writeTable(join(dir, 'ok.arrow'), [[0, 1]], [0]);
    const make = (input: object) => create(arrow, input, ctxWith(undefined, dir));
    await expect(make({ train: 'junk.arrow', test: 'ok.arrow' })).rejects.toThrow(
      /junk\.arrow: not a readable Arrow IPC file/,
    );
    await expect(make({ train: 'ok.arrow', test: 'ok.arrow', labelColumn: 'y' })).rejects.toThrow(
      /no column 'y'; columns: features, label/,
    );
    await expect(make({ train: 'ok.arrow', test: 'ok.arrow', shape: [3] })).rejects.toThrow(
      /shape \[3\] does not hold the 2 features/,
    );
    await expect(make({ train: 'ok.arrow', test: 'ok.arrow', numClasses: 0, featureColumn: 'label' })).rejects.toThrow(
      /must be a fixed-size list/,
    );
  });
});
