// Transport-independent request handling: name + raw args in, response envelope out.
// Electron IPC and the HTTP server of `mufun serve` both use it unchanged.

import { CheckError } from './check.js';
import { argChecks, isCallName, ServiceError, type ApiError, type ApiHandlers, type ApiResponse } from './api.js';

export async function dispatch(
  handlers: ApiHandlers,
  name: unknown,
  args: unknown,
): Promise<ApiResponse<unknown>> {
  if (!isCallName(name)) {
    return fail('unknown-call', `Unknown call ${JSON.stringify(String(name)).slice(0, 80)}`);
  }
  let checked: unknown;
  try {
    checked = argChecks[name](args, 'args');
  } catch (err) {
    if (err instanceof CheckError) return fail('invalid-args', `${name}: ${err.message}`);
    throw err;
  }
  try {
    const handler = handlers[name] as (args: unknown) => Promise<unknown>;
    return { ok: true, value: await handler(checked) };
  } catch (err) {
    if (err instanceof ServiceError) return fail(err.code, err.message);
    return fail('failed', err instanceof Error ? err.message : String(err));
  }
}

function fail(code: ApiError['code'], message: string): ApiResponse<never> {
  return { ok: false, error: { code, message } };
}
