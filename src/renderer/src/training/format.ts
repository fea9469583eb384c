// How training numbers read on the page.
import type { TrainingJob, TrainingStatus } from '../../../shared/api-training.js';

export const STATUS_LABELS: Record<TrainingStatus, string> = {
  queued: 'queued',
  running: 'running',
  done: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
  interrupted: 'interrupted',
};

/** 3725 → "1h02m", 75 → "1m15s". */
export function duration(sec: number | null | undefined): string {
  if (sec == null || !Number.isFinite(sec)) return '–';
  sec = Math.max(0, Math.round(sec));
  if (sec >= 3600) return `${Math.floor(sec / 3600)}h${String(Math.floor((sec % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(sec / 60)}m${String(sec % 60).padStart(2, '0')}s`;
}

export function progressText(j: TrainingJob): string {
  return j.totalSteps ? `${j.step} / ${j.totalSteps}` : j.step ? String(j.step) : '–';
}

export function when(ms: number | null): string {
  return ms == null ? '–' : new Date(ms).toLocaleString();
}

export function percent(x: number | undefined): string {
  return x === undefined ? '–' : `${(x * 100).toFixed(1)} %`;
}

export const canCancel = (j: TrainingJob) => j.status === 'queued' || j.status === 'running';
export const canResume = (j: TrainingJob) => j.status === 'cancelled' || j.status === 'interrupted' || j.status === 'failed';
