// MuFun's JSON training data: valid samples become turns + audio references; every bad
// sample is reported by id with what is wrong, then skipped or fails the run.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatasetError, loadDataset, shuffled } from '../src/model/train/data.js';

const root = mkdtempSync(join(tmpdir(), 'data-'));
writeFileSync(join(root, 'a.wav'), 'x');
writeFileSync(join(root, 'b.wav'), 'x');
const q = (v: string) => ({ from: 'human', value: v });
const a = (v: string) => ({ from: 'gpt', value: v });

function dataset(samples: unknown): string {
  const p = join(mkdtempSync(join(tmpdir(), 'ds-')), 'train.json');
  writeFileSync(p, typeof samples === 'string' ? samples : JSON.stringify(samples));
  return p;
}

describe('loadDataset', () => {
  it('resolves audio under the root, reads time segments, skips a leading non-human turn', () => {
    const { samples } = loadDataset(dataset([
      { id: 's1', audio: 'a.wav', time: [0, 30], conversations: [q('<audio>\nGenre?'), a('B. blues')] },
      { id: 's2', audio: ['a.wav', 'b.wav'], time: [[0, 10], null], conversations: [a('hello'), q('<audio><audio>Same?'), a('no')] },
    ]), { audioRoot: root });
    expect(samples[0].audios).toEqual([{ path: join(root, 'a.wav'), seg: [0, 30] }]);
    expect(samples[1].turns.map((t) => t.from)).toEqual(['human', 'gpt']);
    expect(samples[1].audios.map((x) => x.seg)).toEqual([[0, 10], null]);
  });

  it('reports each bad sample by id and fails the run by default', () => {
    const path = dataset([
      { id: 'ok', audio: 'a.wav', conversations: [q('<audio>x'), a('y')] },
      { id: 'missing', audio: 'nope.wav', conversations: [q('<audio>x'), a('y')] },
      { id: 'unbalanced', conversations: [q('x'), a('y'), q('z')] },
      { id: 'order', conversations: [q('x'), q('y')] },
      { id: 'markers', audio: 'a.wav', conversations: [q('no placeholder'), a('y')] },
      { id: 'time', audio: 'a.wav', time: [5, 2], conversations: [q('<audio>x'), a('y')] },
    ]);
    let err: DatasetError | undefined;
    try {
      loadDataset(path, { audioRoot: root });
    } catch (e) {
      err = e as DatasetError;
    }
    expect(err).toBeInstanceOf(DatasetError);
    expect(err!.problems.map((p) => p.id)).toEqual(['missing', 'unbalanced', 'order', 'markers', 'time']);
    expect(err!.message).toMatch(/missing: audio file nope\.wav not found/);
    expect(err!.message).toMatch(/unbalanced: unbalanced turns/);
    expect(err!.message).toMatch(/order: turns must alternate/);
    expect(err!.message).toMatch(/markers: 0 <audio> placeholders but 1 audio files/);
    const skipped = loadDataset(path, { audioRoot: root, onBadSample: 'skip' });
    expect(skipped.samples.map((s) => s.id)).toEqual(['ok']);
    expect(skipped.problems).toHaveLength(5);
  });

  it('names malformed JSON and a file that is not an array', () => {
    expect(() => loadDataset(dataset('[{"id": 1,'), { audioRoot: root })).toThrow(/is not valid JSON/);
    expect(() => loadDataset(dataset({ id: 1 }), { audioRoot: root })).toThrow(/must be a JSON array/);
    expect(() => loadDataset('/no/such.json', { audioRoot: root })).toThrow(/does not exist/);
  });

  it('shuffles reproducibly from a seed', () => {
    const xs = Array.from({ length: 20 }, (_, i) => i);
    expect(shuffled(xs, 3)).toEqual(shuffled(xs, 3));
    expect(shuffled(xs, 3)).not.toEqual(shuffled(xs, 4));
    expect([...shuffled(xs, 3)].sort((p, q) => p - q)).toEqual(xs);
  });
});
