import { describe, expect, it } from 'vitest';
import { fitProbe, meanStd } from '../bench/probe.js';

// bench probe: what a model's audio path keeps, read by a linear probe per task.
describe('the probe', () => {
  it('describes a clip by the mean and standard deviation of each feature over time', () => {
    // 3 frames × 2 features: [1, 10], [2, 10], [3, 10]
    const v = meanStd(Float32Array.from([1, 10, 2, 10, 3, 10]), 3, 2);
    expect(Array.from(v.subarray(0, 2))).toEqual([2, 10]);
    expect(v[2]).toBeCloseTo(Math.sqrt(2 / 3), 6);
    expect(v[3]).toBe(0);
  });

  it('reads a class that is linear in the features, on clips it was not fit on; unlabelled clips (−100) are left out of the fit', () => {
    // class k sits at +3 on feature k of 3, with noise on a fourth feature it must learn to ignore
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
    const xs: Float32Array[] = [], ys: number[] = [];
    for (let i = 0; i < 120; i++) {
      const k = i % 3;
      xs.push(Float32Array.from([0, 1, 2, 3], (f) => (f === k ? 3 : 0) + rand() + (f === 3 ? 5 * rand() : 0)));
      ys.push(i < 90 && i % 10 === 9 ? -100 : k);
    }
    const train = [...Array(90).keys()], test = Array.from({ length: 30 }, (_, i) => 90 + i);
    const guess = fitProbe(xs, ys, train, test, 3, 40);
    expect(guess).toEqual(test.map((i) => ys[i]));
    // with the labels shuffled against the features, what it learnt does not carry over
    const shuffled = ys.map((y, i) => (y < 0 ? y : Math.floor(i / 3) % 3));
    const wrong = fitProbe(xs, shuffled, train, test, 3, 40).filter((k, n) => k === shuffled[test[n]]).length;
    expect(wrong).toBeLessThan(20);
  });
});
