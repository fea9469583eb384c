/** Best of `reps` runs after one warm-up (the same rule as torch_mufun.py's bench), in ms; warmUp false times cold runs too. */
export async function bestMs(fn: () => Promise<unknown>, reps = 3, warmUp = true): Promise<number> {
  if (warmUp) await fn();
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}
