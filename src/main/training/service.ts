// The training services: the handlers of the calls in src/shared/api-training.ts.
import type { ApiHandlers } from '../../shared/api.js';
import type { TrainingCalls } from '../../shared/api-training.js';
import type { ServiceDeps } from '../services.js';

export function trainingHandlers(_deps: ServiceDeps): Pick<ApiHandlers, keyof TrainingCalls> {
  return {};
}
