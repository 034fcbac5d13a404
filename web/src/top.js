// Tab "Top talkers": top-N panels (sources, destinations, pairs, destination ports) by a
// chosen metric, under the shared filter. Clicking an entry filters the table on it.
import { get, isAbort } from './api.js';
import { filterParams, filterSummary } from './state.js';
import { clear, el, fmtBytes, fmtInt } from './util.js';

const PANELS = [
  { key: 'src', title: 'Sources' },
  { key: 'dst', title: 'Destinations' },
  { key: 'pair', title: 'Pairs (source → destination)' },
  { key: 'dport', title: 'Destination ports' },
];
const METRICS = [
  ['bytes', 'bytes (sent + received)'],
  ['sent', 'bytes sent'],
  ['recv', 'bytes received'],
  ['flows', 'flows'],
  ['peers', 'distinct peers'],
];
const IS_BYTES = new Set(['bytes', 'sent', 'recv']);

export class Top {
  constructor(app) {
    this.app = app;
    this.by = el('select', { id: 'top-by', onchange: () => { app.state.by = this.by.value; app.commit(); this.refresh(); } },
      METRICS.map(([v, t]) => el('option', { value: v, text: t })));
    this.note = el('div', { className: 'muted small' });
    this.grid = el('div', { className: 'top-grid', id: 'top-grid' });
    this.node = el('section', { className: 'tab-panel', id: 'tab-top' },
      el('div', { className: 'filters' },
        el('div', { className: 'field inline' }, el('label', { htmlFor: 'top-by', text: 'Rank by' }), this.by)),
      this.note, this.grid);
  }

  show(s) {
    this.by.value = s.by;
    if (!this.by.value) this.by.value = 'bytes';
    this.note.textContent = `Flows: ${filterSummary(s)} — click an entry to filter the table on it`;
  }

  async refresh() {
    const s = this.app.state;
    this.show(s);
    clear(this.grid);
    const panels = PANELS.map((p) => {
      const body = el('tbody');
      const caption = el('span', { className: 'muted small' });
      const box = el('div', { className: 'top-panel loading', dataset: { key: p.key } },
        el('h3', null, el('span', { text: p.title }), caption),
        el('table', { className: 'top' },
          el('thead', null, el('tr', null, el('th', { text: p.key === 'dport' ? 'port' : 'address' }), el('th', { className: 'num', text: 'flows' }), el('th', { className: 'num', text: 'sent' }), el('th', { className: 'num', text: 'received' }), el('th', { className: 'num', text: 'peers' }))),
          body));
      this.grid.appendChild(box);
      return { p, body, box, caption };
    });
    await Promise.all(panels.map(async ({ p, body, box, caption }) => {
      try {
        const res = await get('/api/top', { ...filterParams(s), key: p.key, by: s.by, limit: 10 }, `top-${p.key}`);
        caption.textContent = ` ${fmtInt(res.groups)} distinct`;
        this.fill(p.key, body, res);
      } catch (e) {
        if (isAbort(e)) return;
        body.appendChild(el('tr', null, el('td', { colSpan: 5, className: 'error-cell', text: e.message })));
      } finally {
        box.classList.remove('loading');
      }
    }));
  }

  fill(key, body, res) {
    const metric = this.app.state.by;
    const max = Math.max(1, ...res.rows.map((r) => r[metric] || 0));
    for (const r of res.rows) {
      let label;
      let expr;
      if (key === 'pair') {
        label = `${r.src} → ${r.dst}`;
        expr = `src = ${r.src} and dst = ${r.dst}`;
      } else if (key === 'dport') {
        label = r.dport === null ? '(none)' : String(r.dport);
        expr = r.dport === null ? null : `dport = ${r.dport}`;
      } else {
        label = String(r[key]);
        expr = `${key} = ${r[key]}`;
      }
      const bar = el('div', { className: 'bar' });
      bar.style.width = `${(100 * (r[metric] || 0)) / max}%`;
      const tr = el('tr', { title: expr ? `filter the table: ${expr}` : '', onclick: () => expr && this.app.addFilter(expr) },
        el('td', { className: 'key' }, bar, el('span', { text: label })),
        el('td', { className: 'num', text: fmtInt(r.flows) }),
        el('td', { className: 'num', text: fmtBytes(r.sent), title: fmtInt(r.sent) }),
        el('td', { className: 'num', text: fmtBytes(r.recv), title: fmtInt(r.recv) }),
        el('td', { className: 'num', text: fmtInt(r.peers) }));
      if (IS_BYTES.has(metric)) tr.dataset.metric = metric;
      body.appendChild(tr);
    }
    if (!res.rows.length) body.appendChild(el('tr', null, el('td', { colSpan: 5, className: 'muted', text: 'no flow matches the filter' })));
  }
}
