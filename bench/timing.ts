/** Best of `reps` runs after one warm-up, in ms (the same rule as torch_mufun.py's bench). */
export async function bestMs(fn: () => Promise<unknown>, reps = 3): Promise<number> {
  await fn();
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}
