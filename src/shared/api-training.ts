// The training part of the API contract (see api.ts): its calls with their argument checks,
// and its events. api.ts merges these tables into ApiCalls, argChecks and ApiEvents.
import type { Check } from './check.js';

/** name → { args, result } */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface TrainingCalls {}

export const trainingArgChecks: { [N in keyof TrainingCalls]: Check<TrainingCalls[N]['args']> } = {};

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface TrainingEvents {}

export const trainingEventNames: (keyof TrainingEvents)[] = [];
