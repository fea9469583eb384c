// The renderer's only way to reach the services: one typed `call`, over whichever transport
// the page has — the Electron bridge (window.mufun) or HTTP (`mufun serve`, ?token=… in the URL).

import {
  isApiResponse,
  type ApiErrorCode,
  type ApiResponse,
  type CallArgs,
  type CallName,
  type CallResult,
} from '../../shared/api.js';

export class ApiCallError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiCallError';
  }
}

const token = new URLSearchParams(window.location.search).get('token');

export async function call<N extends CallName>(name: N, args: CallArgs<N>): Promise<CallResult<N>> {
  const response = window.mufun ? await window.mufun.call(name, args) : await callOverHttp(name, args);
  if (!response.ok) throw new ApiCallError(response.error.code, response.error.message);
  return response.value;
}

async function callOverHttp<N extends CallName>(
  name: N,
  args: CallArgs<N>,
): Promise<ApiResponse<CallResult<N>>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers['x-mufun-token'] = token;
  let res: Response;
  try {
    res = await fetch(`/api/${encodeURIComponent(name)}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(args),
    });
  } catch (err) {
    throw new ApiCallError('transport', `Cannot reach the MuFun server: ${String(err)}`);
  }
  const body: unknown = await res.json().catch(() => undefined);
  if (!isApiResponse(body)) {
    throw new ApiCallError('transport', `The server answered ${res.status} ${res.statusText} without an API response`);
  }
  return body as ApiResponse<CallResult<N>>;
}
