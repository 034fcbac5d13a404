// Tab "Findings": hunt's ranked exfiltration findings (/api/findings) with a kind filter, a
// minimum score and a host filter (all kept in the URL), a sparkline of each finding's host
// outbound bytes over the whole data (/api/histogram, fetched only for rows on screen, once
// per host, a few at a time), and the per-host roll-up. A finding opens the table filtered by
// its `filter` expression, or the graph around its host under that filter. Every string of a
// finding (explanation, evidence, addresses) is data: it is only ever set as text.
import { get, isAbort } from './api.js';
import { clear, el, fmtBytes, fmtInt, fmtTime, svg } from './util.js';

export const KINDS = [
  ['volume', 'volume'],
  ['pcr', 'producer/consumer ratio'],
  ['off_hours', 'off hours'],
  ['rare_destination', 'rare destination'],
  ['beacon', 'beacon'],
  ['role_violation', 'role violation'],
  ['tunnel', 'tunnel'],
  ['elephant', 'elephant'],
  ['strobe', 'strobe'],
];
const KIND_NAMES = new Set(KINDS.map(([k]) => k));
const FETCH_LIMIT = 1000; // the API's maximum: the filters below work on this list
const SPARK_W = 150;
const SPARK_H = 26;
const SPARK_PARALLEL = 3; // histogram requests in flight at once
// Bucket sizes of /api/histogram, in seconds: the sparklines use the smallest giving at most
// SPARK_BUCKETS buckets over the data's time span, so they share one time axis.
const BUCKETS = [['1m', 60], ['5m', 300], ['15m', 900], ['1h', 3600], ['6h', 21600], ['1d', 86400]];
const SPARK_BUCKETS = 200;

export function scoreClass(score) {
  return score >= 90 ? 'crit' : score >= 70 ? 'high' : score >= 50 ? 'med' : 'low';
}

// Selected kinds from the state text: '' = all, 'none' = none, else a comma list.
export function parseKinds(text) {
  if (!text) return new Set(KIND_NAMES);
  if (text === 'none') return new Set();
  return new Set(text.split(',').filter((k) => KIND_NAMES.has(k)));
}

function kindsText(set) {
  if (set.size === KIND_NAMES.size) return '';
  if (set.size === 0) return 'none';
  return KINDS.map(([k]) => k).filter((k) => set.has(k)).join(',');
}

// "2026-03-06 20:13 → 21:14" (same day) or "2026-03-02 02:04 → 2026-03-08 22:43", UTC.
function fmtSpan(a, b) {
  const x = fmtTime(a).slice(0, 16);
  const y = fmtTime(b).slice(0, 16);
  if (!x || !y) return x || y;
  return x.slice(0, 10) === y.slice(0, 10) ? `${x} → ${y.slice(11)}` : `${x} → ${y}`;
}

function toMs(v) {
  if (typeof v === 'number') return v / 1000;
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : NaN;
}

export class Findings {
  constructor(app) {
    this.app = app;
    this.data = null; // the /api/findings answer
    this.loading = null;
    this.sparks = new Map(); // host -> Promise<rows|null>
    this.queue = [];
    this.running = 0;
    this.kindBoxes = {};
    const kinds = el('fieldset', { className: 'kinds', id: 'finding-kinds' }, el('legend', { text: 'Kinds' }));
    for (const [k, label] of KINDS) {
      const box = el('input', { type: 'checkbox', id: `kind-${k}`, value: k, onchange: () => this.readControls() });
      const count = el('span', { className: 'kind-count muted' });
      this.kindBoxes[k] = { box, count, label: el('label', { className: `kind-choice kind-${k}`, htmlFor: `kind-${k}` }, box, el('span', { text: label }), count) };
      kinds.appendChild(this.kindBoxes[k].label);
    }
    this.allKinds = el('button', { className: 'linkish', id: 'kinds-all', text: 'all', onclick: () => this.setKinds(new Set(KIND_NAMES)) });
    this.noKinds = el('button', { className: 'linkish', id: 'kinds-none', text: 'none', onclick: () => this.setKinds(new Set()) });
    kinds.appendChild(el('span', { className: 'kind-all' }, this.allKinds, ' · ', this.noKinds));
    this.minScore = el('input', { type: 'number', id: 'min-score', min: 0, max: 100, step: 5, placeholder: '0', className: 'score-input', onchange: () => this.readControls(), oninput: () => this.readControls() });
    this.host = el('input', { type: 'text', id: 'finding-host', className: 'host-input', placeholder: 'any host', spellcheck: false, autocomplete: 'off', oninput: () => this.readControls() });
    this.clearHost = el('button', { className: 'linkish', id: 'finding-host-clear', text: 'clear', onclick: () => { this.host.value = ''; this.readControls(); } });
    this.summary = el('div', { className: 'findings-count', id: 'findings-count' });
    this.list = el('ol', { className: 'findings', id: 'findings-list' });
    this.hostsBody = el('tbody');
    this.hostsNote = el('div', { className: 'muted small', id: 'hosts-note' });
    this.hosts = el('aside', { className: 'hosts-panel', id: 'findings-hosts' },
      el('h3', { text: 'Hosts' }),
      this.hostsNote,
      el('table', { className: 'top hosts' },
        el('thead', null, el('tr', null, el('th', { text: 'host' }), el('th', { className: 'num', text: 'score' }), el('th', { text: 'kinds' }), el('th', { className: 'num', text: 'bytes out' }))),
        this.hostsBody));
    this.node = el('section', { className: 'tab-panel', id: 'tab-findings' },
      el('p', { className: 'intro', text: 'Ranked exfiltration findings of datamate hunt over all the flows (config section "hunt"). Click a finding to open its evidence in the table; Graph shows the flows around its host.' }),
      el('div', { className: 'filters' },
        kinds,
        el('div', { className: 'field' }, el('label', { htmlFor: 'min-score', text: 'Minimum score' }), this.minScore),
        el('div', { className: 'field' }, el('label', { htmlFor: 'finding-host' }, 'Host ', this.clearHost), this.host)),
      this.summary,
      el('div', { className: 'findings-layout' }, el('div', { className: 'findings-main' }, this.list), this.hosts));
    this.observer = typeof IntersectionObserver === 'function'
      ? new IntersectionObserver((entries) => this.visible(entries), { rootMargin: '100px 0px' })
      : null;
  }

  // Controls <- state
  show(s) {
    const kinds = parseKinds(s.kinds);
    for (const [k, b] of Object.entries(this.kindBoxes)) b.box.checked = kinds.has(k);
    this.minScore.value = s.min_score;
    this.host.value = s.fhost;
  }

  // State <- controls, then redraw the list (no new request: the filters work on the list).
  readControls() {
    const s = this.app.state;
    const kinds = new Set(Object.keys(this.kindBoxes).filter((k) => this.kindBoxes[k].box.checked));
    s.kinds = kindsText(kinds);
    const v = this.minScore.value.trim();
    const n = Number(v);
    s.min_score = v !== '' && Number.isFinite(n) && n > 0 ? String(Math.min(100, n)) : '';
    s.fhost = this.host.value.trim();
    this.app.replace();
    this.render();
  }

  setKinds(set) {
    for (const [k, b] of Object.entries(this.kindBoxes)) b.box.checked = set.has(k);
    this.readControls();
  }

  // Drops the cached findings (the data was reloaded).
  reset() {
    this.data = null;
    this.loading = null;
    this.sparks.clear();
  }

  async refresh() {
    this.show(this.app.state);
    if (this.data) {
      this.render();
      return;
    }
    if (!this.loading) {
      clear(this.list);
      clear(this.hostsBody);
      this.summary.textContent = 'Hunting…';
      this.list.classList.add('loading');
      this.loading = get('/api/findings', { limit: FETCH_LIMIT }, 'findings');
    }
    const p = this.loading;
    try {
      const res = await p;
      if (p !== this.loading) return;
      if (!res || !Array.isArray(res.findings) || !Array.isArray(res.hosts)) throw new Error('the server sent findings in an unexpected shape');
      this.data = res;
      this.app.clearError();
    } catch (e) {
      if (isAbort(e)) return;
      if (p === this.loading) this.loading = null;
      this.summary.textContent = '';
      this.app.error(`cannot load the findings: ${e.message}`);
      return;
    } finally {
      this.list.classList.remove('loading');
    }
    this.render();
  }

  // The findings passing the kind, score and host filters.
  filtered() {
    const s = this.app.state;
    const kinds = parseKinds(s.kinds);
    const min = Number(s.min_score) || 0;
    const host = s.fhost;
    return this.data.findings.filter((f) => kinds.has(f.kind) && f.score >= min && (!host || f.host === host || f.peers.includes(host)));
  }

  render() {
    if (!this.data) return;
    const all = this.data.findings;
    const counts = {};
    for (const f of all) counts[f.kind] = (counts[f.kind] || 0) + 1;
    for (const [k, b] of Object.entries(this.kindBoxes)) {
      b.count.textContent = ` ${fmtInt(counts[k] || 0)}`;
      b.label.classList.toggle('empty', !counts[k]);
    }
    const shown = this.filtered();
    const capped = all.length >= FETCH_LIMIT ? ` (the ${fmtInt(FETCH_LIMIT)} best)` : '';
    this.summary.textContent = all.length
      ? `${fmtInt(shown.length)} of ${fmtInt(all.length)} findings${capped} — ${fmtInt(this.data.hosts.length)} hosts`
      : 'No findings: nothing in these flows looks like exfiltration to the detections (see docs/hunt.md for the thresholds).';
    if (this.observer) this.observer.disconnect();
    clear(this.list);
    shown.forEach((f) => this.list.appendChild(this.item(f, all.indexOf(f) + 1)));
    if (all.length && !shown.length) this.list.appendChild(el('li', { className: 'finding empty muted', text: 'no finding passes the filters' }));
    this.renderHosts();
  }

  item(f, rank) {
    const cls = scoreClass(f.score);
    const spark = el('span', { className: 'spark', title: `bytes out of ${f.host} over the whole data; the finding's time span is shaded`, dataset: { host: f.host } });
    spark.finding = f;
    const peers = f.peers.length ? f.peers : [];
    const peerText = peers.slice(0, 3).join(', ') + (peers.length > 3 ? `, +${peers.length - 3}` : '');
    const open = (tab) => (e) => {
      e.stopPropagation();
      this.open(f, tab);
    };
    const li = el('li', { className: `finding kind-${f.kind}`, tabIndex: 0, title: `open the evidence in the table: ${f.filter}`, dataset: { kind: f.kind, host: f.host, rank: String(rank) }, onclick: () => this.open(f, 'explore'), onkeydown: (e) => { if (e.key === 'Enter') this.open(f, 'explore'); } },
      el('div', { className: 'f-body' },
        el('div', { className: 'f-head' },
          el('span', { className: 'rank muted', text: `#${rank}` }),
          el('span', { className: `score ${cls}`, text: f.score.toFixed(0), title: `score ${f.score} of 100` }),
          el('span', { className: 'kind', text: f.kind.replace(/_/g, ' ') }),
          el('span', { className: 'f-host', text: f.host }),
          el('span', { className: 'arrow muted', text: '→' }),
          el('span', { className: 'peers', text: peerText || '—', title: peers.join(', ') }),
          el('span', { className: 'out', text: `${fmtBytes(f.bytes_out)} out`, title: `${fmtInt(f.bytes_out)} bytes out` })),
        el('div', { className: 'f-meta muted' },
          el('span', { className: 'span', text: `${fmtSpan(f.start, f.end)} UTC` }),
          ' · ',
          el('span', { className: 'flows', text: `${fmtInt(f.flows)} flows` })),
        el('div', { className: 'explanation', text: f.explanation }),
        el('code', { className: 'f-filter', text: f.filter, title: f.filter })),
      el('div', { className: 'f-side' },
        spark,
        el('span', { className: 'f-actions' },
          el('button', { className: 'btn ghost small open-table', text: 'Table', title: 'the evidence flows in the table', onclick: open('explore') }),
          el('button', { className: 'btn ghost small open-graph', text: 'Graph', title: 'the graph around the host, over the evidence flows', onclick: open('graph') }))));
    if (this.observer) this.observer.observe(spark);
    else this.loadSpark(spark);
    return li;
  }

  renderHosts() {
    clear(this.hostsBody);
    const hosts = this.data.hosts;
    const max = 50;
    this.hostsNote.textContent = hosts.length > max ? `the ${max} highest of ${fmtInt(hosts.length)}; click one to list its findings` : 'click a host to list its findings';
    const cur = this.app.state.fhost;
    for (const h of hosts.slice(0, max)) {
      const tr = el('tr', { className: h.host === cur ? 'current' : '', title: `list the findings of ${h.host}`, dataset: { host: h.host }, onclick: () => { this.host.value = h.host === cur ? '' : h.host; this.readControls(); } },
        el('td', { className: 'key', text: h.host }),
        el('td', { className: 'num' }, el('span', { className: `score ${scoreClass(h.score)}`, text: h.score.toFixed(0) })),
        el('td', { className: 'kinds-cell', text: (h.kinds || []).join(', ') }),
        el('td', { className: 'num', text: fmtBytes(h.bytes_out), title: fmtInt(h.bytes_out) }));
      this.hostsBody.appendChild(tr);
    }
    if (!hosts.length) this.hostsBody.appendChild(el('tr', null, el('td', { colSpan: 4, className: 'muted', text: 'no host' })));
  }

  // The finding's evidence in the table (tab 'explore') or its host's graph ('graph').
  open(f, tab) {
    const s = this.app.state;
    Object.assign(s, { q: f.filter, from: '', to: '', sent_min: '', sent_max: '', recv_min: '', recv_max: '', offset: 0, ips: f.host });
    this.app.explore.show(s);
    this.app.graph.show(s);
    this.app.selectTab(tab);
  }

  // ---- sparklines ----
  visible(entries) {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      this.observer.unobserve(e.target);
      this.loadSpark(e.target);
    }
  }

  bucket() {
    const m = this.app.meta || {};
    const t0 = toMs(m.ts_min);
    const t1 = toMs(m.ts_max);
    if (!Number.isFinite(t0) || !Number.isFinite(t1)) return null;
    const span = Math.max(1, (t1 - t0) / 1000);
    const b = BUCKETS.find(([, sec]) => span / sec <= SPARK_BUCKETS) || BUCKETS[BUCKETS.length - 1];
    return { name: b[0], sec: b[1], t0, t1 };
  }

  // One request per host, at most SPARK_PARALLEL at once.
  rowsFor(host, bucket) {
    let p = this.sparks.get(host);
    if (!p) {
      p = new Promise((resolve) => {
        this.queue.push(async () => {
          try {
            const h = await get('/api/histogram', { q: `ip = ${host}`, bucket: bucket.name });
            resolve(Array.isArray(h.rows) ? h.rows : null);
          } catch (e) {
            resolve(null);
          }
        });
      });
      this.sparks.set(host, p);
      this.pump();
    }
    return p;
  }

  pump() {
    while (this.running < SPARK_PARALLEL && this.queue.length) {
      const job = this.queue.shift();
      this.running++;
      job().finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  async loadSpark(node) {
    const f = node.finding;
    const b = this.bucket();
    if (!b) return;
    node.classList.add('loading');
    const rows = await this.rowsFor(f.host, b);
    node.classList.remove('loading');
    clear(node);
    if (!rows) {
      node.appendChild(el('span', { className: 'muted small', text: 'no histogram' }));
      return;
    }
    node.appendChild(this.drawSpark(rows, f, b));
  }

  drawSpark(rows, f, b) {
    const t0 = b.t0;
    const width = Math.max(1, b.t1 + b.sec * 1000 - t0);
    const x = (ms) => Math.max(0, Math.min(SPARK_W, ((ms - t0) / width) * SPARK_W));
    let max = 0;
    for (const r of rows) max = Math.max(max, r.egress || 0);
    const parts = [];
    const bw = Math.max(1, (b.sec * 1000 * SPARK_W) / width);
    for (const r of rows) {
      const v = r.egress || 0;
      if (!v || !max) continue;
      const h = Math.max(1, ((SPARK_H - 2) * v) / max);
      const x0 = x(toMs(r.ts));
      parts.push(`M${x0.toFixed(1)} ${SPARK_H}v${(-h).toFixed(1)}h${bw.toFixed(1)}v${h.toFixed(1)}z`);
    }
    const a = x(toMs(f.start));
    const z = Math.max(a + 2, x(toMs(f.end)));
    const peak = rows.reduce((m, r) => Math.max(m, r.egress || 0), 0);
    return svg('svg', { width: SPARK_W, height: SPARK_H, viewBox: `0 0 ${SPARK_W} ${SPARK_H}`, class: 'sparkline', role: 'img', 'aria-label': `bytes out of ${f.host}, peak ${fmtBytes(peak)} per ${b.name}`, 'data-buckets': String(rows.length) },
      svg('rect', { x: a.toFixed(1), y: 0, width: (z - a).toFixed(1), height: SPARK_H, class: 'spark-window' }),
      svg('line', { x1: 0, y1: SPARK_H - 0.5, x2: SPARK_W, y2: SPARK_H - 0.5, class: 'spark-base' }),
      svg('path', { d: parts.join('') || 'M0 0', class: 'spark-bars' }));
  }
}
