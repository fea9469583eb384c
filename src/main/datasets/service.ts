// The datasets services: the handlers of the calls in src/shared/api-datasets.ts.
import type { ApiHandlers } from '../../shared/api.js';
import type { DatasetCalls } from '../../shared/api-datasets.js';
import type { ServiceDeps } from '../services.js';

export function datasetsHandlers(_deps: ServiceDeps): Pick<ApiHandlers, keyof DatasetCalls> {
  return {};
}
