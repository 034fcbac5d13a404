// The JSON API client: every call returns the parsed body or throws an ApiError carrying
// the server's {"error": "..."} message (and the expression offset when there is one).

export class ApiError extends Error {
  constructor(message, status, offset) {
    super(message);
    this.status = status;
    this.offset = offset;
  }
}

let inflight = 0;
const listeners = new Set();
export function onBusy(fn) {
  listeners.add(fn);
}
function busy(delta) {
  inflight += delta;
  for (const fn of listeners) fn(inflight > 0);
}

export function query(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    u.set(k, String(v));
  }
  const s = u.toString();
  return s ? '?' + s : '';
}

// Latest-wins per channel: a newer request on the same channel aborts the older one.
const channels = new Map();

export async function get(path, params = {}, channel = null) {
  let ctrl = null;
  if (channel) {
    const old = channels.get(channel);
    if (old) old.abort();
    ctrl = new AbortController();
    channels.set(channel, ctrl);
  }
  busy(1);
  try {
    let res;
    try {
      res = await fetch(path + query(params), {
        credentials: 'same-origin',
        signal: ctrl ? ctrl.signal : undefined,
        headers: { Accept: 'application/json' },
      });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new ApiError('cannot reach the datamate server (is `datamate serve` still running?)', 0);
    }
    let body = null;
    try {
      body = await res.json();
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      body = null;
    }
    if (!res.ok) {
      const msg = body && typeof body.error === 'string' ? body.error : `HTTP ${res.status}`;
      throw new ApiError(msg, res.status, body && typeof body.offset === 'number' ? body.offset : undefined);
    }
    if (body === null) throw new ApiError('the server sent an unreadable answer', res.status);
    return body;
  } finally {
    busy(-1);
    if (channel && channels.get(channel) === ctrl) channels.delete(channel);
  }
}

export function isAbort(e) {
  return e && e.name === 'AbortError';
}
