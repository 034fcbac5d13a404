// The one filter model shared by every view, and its round trip through the page URL so
// that a view can be bookmarked and shared.

export const DEFAULTS = Object.freeze({
  tab: 'explore',
  q: '',
  from: '',
  to: '',
  sent_min: '',
  sent_max: '',
  recv_min: '',
  recv_max: '',
  sort: 'ts',
  order: 'asc',
  offset: 0,
  limit: 10,
  ips: '',
  hops: 1,
  max_nodes: 200,
  by: 'bytes',
  bucket: '',
  kinds: '',
  min_score: '',
  fhost: '',
});

export const PAGE_SIZES = [10, 15, 20, 25, 30, 50, 100, 250, 500, 1000];
export const TABS = ['explore', 'graph', 'top', 'findings'];
const NUMERIC = new Set(['offset', 'limit', 'hops', 'max_nodes']);

export function fromURL(search) {
  const u = new URLSearchParams(search);
  const s = { ...DEFAULTS };
  for (const k of Object.keys(DEFAULTS)) {
    const v = u.get(k);
    if (v === null) continue;
    if (NUMERIC.has(k)) {
      const n = Number(v);
      if (Number.isSafeInteger(n) && n >= 0) s[k] = n;
    } else {
      s[k] = v;
    }
  }
  if (!PAGE_SIZES.includes(s.limit)) s.limit = DEFAULTS.limit;
  if (!TABS.includes(s.tab)) s.tab = DEFAULTS.tab;
  if (s.order !== 'asc' && s.order !== 'desc') s.order = 'asc';
  if (s.hops !== 1 && s.hops !== 2) s.hops = 1;
  return s;
}

export function toURL(s) {
  const u = new URLSearchParams();
  for (const k of Object.keys(DEFAULTS)) {
    const v = s[k];
    if (v === undefined || v === null || v === '' || v === DEFAULTS[k]) continue;
    u.set(k, String(v));
  }
  const q = u.toString();
  return q ? '?' + q : location.pathname;
}

// The common filter parameters of the API (docs/api.md).
export function filterParams(s) {
  return {
    q: s.q.trim(),
    from: s.from.trim(),
    to: s.to.trim(),
    sent_min: s.sent_min,
    sent_max: s.sent_max,
    recv_min: s.recv_min,
    recv_max: s.recv_max,
  };
}

export function filterSummary(s) {
  const parts = [];
  if (s.from || s.to) parts.push(`time ${s.from || '…'} → ${s.to || '…'}`);
  if (s.sent_min !== '' || s.sent_max !== '') parts.push(`sent ${s.sent_min || 0}..${s.sent_max || '∞'}`);
  if (s.recv_min !== '' || s.recv_max !== '') parts.push(`received ${s.recv_min || 0}..${s.recv_max || '∞'}`);
  if (s.q.trim()) parts.push(s.q.trim());
  return parts.length ? parts.join('; ') : 'all flows';
}
