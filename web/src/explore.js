// Tab "Data exploration": the filters (dates, log-scaled byte ranges, expression), Update /
// Reload / Reset, page size, the time histogram with brush-to-filter, the paged sortable
// table of flows and the export links.
import uPlot from 'uplot';
import { get, isAbort, query } from './api.js';
import { LogRange } from './slider.js';
import { PAGE_SIZES, filterParams } from './state.js';
import { clear, el, fmtBytes, fmtInt, fmtTime } from './util.js';

const NUMERIC_KINDS = new Set(['uint', 'int', 'float']);

export class Explore {
  constructor(app) {
    this.app = app;
    this.columns = [];
    this.kinds = {};
    this.start = el('input', { type: 'text', id: 'start-date', className: 'date', placeholder: 'YYYY-MM-DD', spellcheck: false });
    this.end = el('input', { type: 'text', id: 'end-date', className: 'date', placeholder: 'YYYY-MM-DD', spellcheck: false });
    this.sent = new LogRange('Bytes sent', 'bytes-sent');
    this.recv = new LogRange('Bytes received', 'bytes-received');
    this.expr = el('input', {
      type: 'text', id: 'expr', className: 'expr', spellcheck: false, autocomplete: 'off',
      placeholder: 'filter expression, e.g.  dst external and dport in [53, 443] and sent > 10M   (Enter = Update)',
      onkeydown: (e) => { if (e.key === 'Enter') this.update(); },
    });
    this.pageSize = el('select', { id: 'page-size', onchange: () => { app.state.limit = Number(this.pageSize.value); app.state.offset = 0; this.update(false); } },
      PAGE_SIZES.map((n) => el('option', { value: String(n), text: String(n) })));
    this.exportCsv = el('a', { className: 'btn ghost', id: 'export-csv', text: 'CSV', download: 'flows.csv' });
    this.exportJsonl = el('a', { className: 'btn ghost', id: 'export-jsonl', text: 'JSON lines', download: 'flows.jsonl' });
    this.exportParquet = el('a', { className: 'btn ghost', id: 'export-parquet', text: 'Parquet', download: 'flows.parquet' });
    this.count = el('div', { className: 'count', id: 'count' });
    this.thead = el('thead');
    this.tbody = el('tbody');
    this.table = el('table', { className: 'flows', id: 'flows' }, this.thead, this.tbody);
    this.pager = el('nav', { className: 'pager', id: 'pager', 'aria-label': 'pages' });
    this.histBox = el('div', { className: 'hist', id: 'histogram' });
    this.histCaption = el('div', { className: 'hist-caption' });
    this.node = el('section', { className: 'tab-panel', id: 'tab-explore' },
      el('div', { className: 'filters' },
        el('div', { className: 'field' }, el('label', { htmlFor: 'start-date', text: 'Start date' }), this.start),
        el('div', { className: 'field' }, el('label', { htmlFor: 'end-date', text: 'End date' }), this.end),
        this.sent.node, this.recv.node),
      el('div', { className: 'filters' },
        el('div', { className: 'field grow' }, el('label', { htmlFor: 'expr' }, 'Filter expression ', el('a', { href: '#', className: 'help-link', text: '(syntax)', onclick: (e) => { e.preventDefault(); this.app.showHelp(); } })), this.expr)),
      el('div', { className: 'actions' },
        el('button', { className: 'btn primary', id: 'update', text: 'Update', title: 'apply the filters to the table', onclick: () => this.update() }),
        el('button', { className: 'btn primary', id: 'reload', text: 'Reload', title: 'reload the data summary from the server and reset the filters', onclick: () => app.reload() }),
        el('button', { className: 'btn primary', id: 'reset', text: '↺ Reset', title: 'reset the filters', onclick: () => this.reset() }),
        el('div', { className: 'field inline' }, el('label', { htmlFor: 'page-size', text: 'Page size' }), this.pageSize),
        el('div', { className: 'spacer' }),
        el('span', { className: 'muted', text: 'Export filtered rows:' }), this.exportCsv, this.exportJsonl, this.exportParquet),
      el('div', { className: 'hist-wrap' }, this.histCaption, this.histBox),
      this.count,
      el('div', { className: 'table-wrap' }, this.table),
      this.pager);
    this.plot = null;
  }

  setMeta(meta) {
    this.meta = meta;
    this.sent.setMax(meta.max_sent);
    this.recv.setMax(meta.max_recv);
    this.kinds = {};
    for (const c of meta.columns) this.kinds[c.name] = c.kind;
    this.columns = meta.default_columns.slice();
    const d0 = meta.ts_min ? meta.ts_min.slice(0, 10) : 'YYYY-MM-DD';
    const d1 = meta.ts_max ? meta.ts_max.slice(0, 10) : 'YYYY-MM-DD';
    this.start.placeholder = d0;
    this.end.placeholder = d1;
    this.start.title = `UTC; a date (${d0}) or date and time (${d0} 10:00)`;
    this.end.title = `UTC, inclusive for a date; a date (${d1}) or date and time`;
  }

  // Controls <- state
  show(s) {
    this.start.value = s.from;
    this.end.value = s.to;
    this.sent.set(s.sent_min, s.sent_max);
    this.recv.set(s.recv_min, s.recv_max);
    this.expr.value = s.q;
    this.pageSize.value = String(s.limit);
  }

  // State <- controls; throws a readable Error on a bad typed value.
  read() {
    const s = this.app.state;
    s.from = this.start.value.trim();
    s.to = this.end.value.trim();
    const a = this.sent.get();
    const b = this.recv.get();
    s.sent_min = a.min;
    s.sent_max = a.max;
    s.recv_min = b.min;
    s.recv_max = b.max;
    s.q = this.expr.value;
  }

  update(fromControls = true) {
    if (fromControls) {
      try {
        this.read();
      } catch (e) {
        this.app.error(e.message);
        return;
      }
      this.app.state.offset = 0;
    }
    this.app.commit();
    this.refresh();
  }

  reset(refresh = true) {
    const s = this.app.state;
    Object.assign(s, { q: '', from: '', to: '', sent_min: '', sent_max: '', recv_min: '', recv_max: '', offset: 0, sort: 'ts', order: 'asc' });
    this.show(s);
    if (!refresh) return;
    this.app.commit();
    this.refresh();
  }

  exportHref(format) {
    return '/api/export' + query({ ...filterParams(this.app.state), format, columns: this.columns.join(',') });
  }

  async refresh() {
    const s = this.app.state;
    this.expr.classList.remove('bad');
    this.exportCsv.href = this.exportHref('csv');
    this.exportJsonl.href = this.exportHref('jsonl');
    this.exportParquet.href = this.exportHref('parquet');
    this.table.classList.add('loading');
    const params = { ...filterParams(s), sort: s.sort, order: s.order, offset: s.offset, limit: s.limit, columns: this.columns.join(',') };
    const flows = get('/api/flows', params, 'flows');
    // Settled right away so a failure is never an unhandled rejection while flows fail.
    const hist = get('/api/histogram', filterParams(s), 'histogram').catch((e) => e);
    try {
      const res = await flows;
      this.app.clearError();
      this.renderTable(res);
    } catch (e) {
      if (isAbort(e)) return;
      this.app.error(e.message, e.offset !== undefined ? this.expr : null);
      if (e.offset !== undefined) {
        this.expr.classList.add('bad');
        const at = Math.min(e.offset, this.expr.value.length);
        this.expr.setSelectionRange(at, at); // the caret at the error
      }
      this.renderEmpty();
    } finally {
      this.table.classList.remove('loading');
    }
    const h = await hist;
    if (h instanceof Error) {
      if (!isAbort(h)) this.renderHist(null);
    } else {
      this.renderHist(h);
    }
  }

  renderEmpty() {
    clear(this.tbody);
    clear(this.pager);
    this.count.textContent = '';
  }

  renderTable(res) {
    const s = this.app.state;
    const cols = res.columns;
    clear(this.thead);
    const tr = el('tr');
    for (const c of cols) {
      const active = s.sort === c;
      const arrow = active ? (s.order === 'asc' ? '▲' : '▼') : '↕';
      const th = el('th', {
        className: (NUMERIC_KINDS.has(this.kinds[c]) ? 'num ' : '') + (active ? 'sorted' : ''),
        title: `sort by ${c}`,
        dataset: { col: c },
        onclick: () => this.sortBy(c),
      }, el('span', { text: c }), el('span', { className: 'arrow', text: arrow }));
      th.setAttribute('aria-sort', active ? (s.order === 'asc' ? 'ascending' : 'descending') : 'none');
      tr.appendChild(th);
    }
    this.thead.appendChild(tr);
    clear(this.tbody);
    for (const row of res.rows) {
      const r = el('tr');
      for (const c of cols) r.appendChild(this.cell(c, row[c]));
      this.tbody.appendChild(r);
    }
    if (!res.rows.length) {
      this.tbody.appendChild(el('tr', null, el('td', { className: 'empty', colSpan: cols.length, text: res.total ? 'no rows on this page' : 'no flow matches the filter' })));
    }
    const first = res.total ? res.offset + 1 : 0;
    const last = res.offset + res.rows.length;
    this.count.textContent = `Rows ${fmtInt(first)}–${fmtInt(last)} of ${fmtInt(res.total)} matching flows`;
    this.renderPager(res.total);
  }

  cell(col, v) {
    const kind = this.kinds[col];
    if (v === null || v === undefined) return el('td', { className: 'null', text: '' });
    if (kind === 'time') return el('td', { className: 'time', text: fmtTime(v), title: String(v) });
    if (kind === 'ip') {
      const b = el('button', { className: 'ip', text: String(v), title: `graph ${v}`, onclick: () => this.app.graphFor(String(v)) });
      return el('td', null, b);
    }
    if (NUMERIC_KINDS.has(kind)) return el('td', { className: 'num', text: fmtInt(v), title: typeof v === 'number' && (col.includes('sent') || col.includes('recv') || col.includes('bytes')) ? fmtBytes(v) : '' });
    return el('td', { text: String(v) });
  }

  sortBy(c) {
    const s = this.app.state;
    if (s.sort === c) s.order = s.order === 'asc' ? 'desc' : 'asc';
    else {
      s.sort = c;
      s.order = NUMERIC_KINDS.has(this.kinds[c]) ? 'desc' : 'asc';
    }
    s.offset = 0;
    this.app.commit();
    this.refresh();
  }

  renderPager(total) {
    const s = this.app.state;
    clear(this.pager);
    const pages = Math.max(1, Math.ceil(total / s.limit));
    const cur = Math.floor(s.offset / s.limit);
    const go = (p) => () => {
      s.offset = Math.max(0, Math.min(pages - 1, p)) * s.limit;
      this.app.commit();
      this.refresh();
    };
    const btn = (text, p, disabled, cls = '') => el('button', { className: `page ${cls}`, text, disabled, onclick: go(p), dataset: { page: String(p + 1) } });
    this.pager.appendChild(btn('First', 0, cur === 0));
    this.pager.appendChild(btn('Prev', cur - 1, cur === 0));
    const lo = Math.max(0, Math.min(cur - 2, pages - 5));
    for (let p = lo; p < Math.min(pages, lo + 5); p++) this.pager.appendChild(btn(fmtInt(p + 1), p, false, p === cur ? 'current' : ''));
    this.pager.appendChild(btn('Next', cur + 1, cur >= pages - 1));
    this.pager.appendChild(btn('Last', pages - 1, cur >= pages - 1));
    const jump = el('input', { type: 'number', min: 1, max: pages, className: 'jump', 'aria-label': 'go to page', placeholder: 'page' });
    jump.addEventListener('change', () => {
      const p = Number(jump.value);
      if (Number.isInteger(p) && p >= 1) go(p - 1)();
    });
    this.pager.appendChild(el('span', { className: 'muted', text: ` of ${fmtInt(pages)} pages` }));
    this.pager.appendChild(jump);
  }

  renderHist(res) {
    if (this.plot) {
      this.plot.destroy();
      this.plot = null;
    }
    clear(this.histBox);
    if (!res || !res.rows.length) {
      this.histCaption.textContent = 'Bytes out over time: no data for this filter';
      return;
    }
    const xs = res.rows.map((r) => (typeof r.ts === 'number' ? r.ts / 1e6 : Date.parse(r.ts) / 1000));
    const out = res.rows.map((r) => (r.egress > 0 ? r.egress : null)); // log scale: no zeros
    const flows = res.rows.map((r) => r.flows);
    const bucket = res.bucket_us / 1e6;
    const label = bucket >= 86400 ? `${bucket / 86400} d` : bucket >= 3600 ? `${bucket / 3600} h` : `${bucket / 60} min`;
    this.histCaption.textContent = `Bytes out (internal → external, log scale) and flows per ${label} — drag across the chart to filter on a time range`;
    const width = Math.max(300, this.histBox.clientWidth || this.node.clientWidth - 40 || 1200);
    const opts = {
      width,
      height: 110,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'),
      legend: { show: false },
      cursor: { drag: { x: true, y: false, setScale: false } },
      scales: { x: { time: true }, y: { distr: 3, log: 10 }, f: { auto: true } },
      axes: [
        { stroke: '#555', grid: { stroke: '#eee' } },
        { stroke: '#555', size: 70, values: (u, vals) => vals.map((v) => fmtBytes(v)), grid: { stroke: '#eee' } },
      ],
      series: [
        {},
        { label: 'bytes out', stroke: '#2f6db5', fill: 'rgba(47,109,181,0.35)', paths: uPlot.paths.bars({ size: [0.9, 40] }), points: { show: false } },
        { label: 'flows', scale: 'f', stroke: '#e08a1e', width: 1, points: { show: false } },
      ],
      hooks: {
        setSelect: [(u) => {
          if (u.select.width < 3) return;
          const a = u.posToVal(u.select.left, 'x');
          const b = u.posToVal(u.select.left + u.select.width, 'x');
          u.setSelect({ left: 0, width: 0 }, false);
          this.brushed(a, b + bucket);
        }],
      },
    };
    this.plot = new uPlot(opts, [xs, out, flows], this.histBox);
    this.hist = res;
  }

  brushed(a, b) {
    const iso = (t) => new Date(Math.round(t) * 1000).toISOString().replace('.000Z', '').replace('T', ' ');
    const s = this.app.state;
    s.from = iso(Math.floor(a / 60) * 60);
    s.to = iso(Math.ceil(b / 60) * 60);
    s.offset = 0;
    this.start.value = s.from;
    this.end.value = s.to;
    this.update();
  }

  resize() {
    if (this.plot && this.histBox.clientWidth) this.plot.setSize({ width: this.histBox.clientWidth, height: 110 });
  }
}
