// Learning-rate schedules as transformers' get_scheduler builds them: a linear warm-up over
// ceil(warmup_ratio · total) steps, then cosine to 0, linear to 0, or constant.

export type SchedulerType = 'cosine' | 'linear' | 'constant';
export const SCHEDULERS: SchedulerType[] = ['cosine', 'linear', 'constant'];

export interface Schedule {
  type: SchedulerType;
  peakLr: number;
  totalSteps: number;
  warmupSteps: number;
}

export function schedule(type: SchedulerType, peakLr: number, totalSteps: number, warmupRatio: number): Schedule {
  if (!SCHEDULERS.includes(type)) throw new Error(`unknown scheduler ${type} (known: ${SCHEDULERS.join(', ')})`);
  return { type, peakLr, totalSteps, warmupSteps: Math.ceil(warmupRatio * totalSteps) };
}

/** The learning rate for optimizer step `step` (0-based: the first update uses step 0). */
export function lrAt(s: Schedule, step: number): number {
  if (step < s.warmupSteps) return (s.peakLr * step) / Math.max(1, s.warmupSteps);
  if (s.type === 'constant') return s.peakLr;
  const progress = (step - s.warmupSteps) / Math.max(1, s.totalSteps - s.warmupSteps);
  if (s.type === 'linear') return s.peakLr * Math.max(0, 1 - progress);
  return s.peakLr * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}
