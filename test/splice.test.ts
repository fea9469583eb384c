// The <audio> splice lays out rows as MuFun does: audio markers expand to every clip of
// their audio, in order of appearance; labels ignore audio; rows are right-padded.
import { describe, expect, it } from 'vitest';
import { AUDIO_TOKEN as A, IGNORE_INDEX as X, planSplice } from '../src/model/splice.js';

const list = (a: BigInt64Array | Uint8Array) => Array.from(a, Number);

describe('planSplice', () => {
  it('expands each <audio> to clips × tokensPerClip positions, in order over all rows', () => {
    // audio 0 has 1 clip, audio 1 has 2 clips; 2 tokens per clip
    const p = planSplice([{ ids: [7, A, 8], labels: [X, A, 8] }, { ids: [A, 9, -1, -1], labels: [A, 9, -1, -1] }], [1, 2], 2);
    expect(p.length).toBe(5);
    expect(p.rowLengths).toEqual([4, 5]);
    expect(list(p.inputIds)).toEqual([7, 0, 0, 8, 0, /**/ 0, 0, 0, 0, 9]);
    expect(list(p.isAudio)).toEqual([0, 1, 1, 0, 0, /**/ 1, 1, 1, 1, 0]);
    expect(list(p.audioIndex)).toEqual([0, 0, 1, 0, 0, /**/ 2, 3, 4, 5, 0]);
    expect(list(p.attentionMask)).toEqual([1, 1, 1, 1, 0, /**/ 1, 1, 1, 1, 1]);
    expect(list(p.labels)).toEqual([X, X, X, 8, X, /**/ X, X, X, X, 9]);
    expect(list(p.positionIds)).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
  });

  it('rejects more or fewer audios than markers', () => {
    expect(() => planSplice([{ ids: [A, A] }], [1], 3)).toThrow(/more <audio> markers than audios given \(1\)/);
    expect(() => planSplice([{ ids: [A] }], [1, 1], 3)).toThrow(/2 audios given but the rows have 1 <audio> markers/);
  });

  it('rejects labels that do not line up with ids', () => {
    expect(() => planSplice([{ ids: [1, 2], labels: [1] }], [], 3)).toThrow(/1 labels for 2 ids/);
  });
});
