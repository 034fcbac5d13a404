// Tab "Data visualization": the communication graph around the IPs typed in Filter IP(s),
// with the earlier tool's six-symbol legend and semantics, plus pivots (click a node: filter
// the table on it, expand its neighbours), the node cap, edge tooltips and PNG export.
import cytoscape from 'cytoscape';
import { get, isAbort } from './api.js';
import { filterParams, filterSummary } from './state.js';
import { clear, el, fmtBytes, fmtInt, svg } from './util.js';

export const COLORS = { external: '#1f3fd1', internal: '#1a8a1a' };
const EDGE = '#f0a020';

// The legend: kind -> {shape (cytoscape), color, label}
export const LEGEND = [
  { kind: 'external', shape: 'ellipse', color: COLORS.external, label: 'External unknown IP' },
  { kind: 'internal', shape: 'ellipse', color: COLORS.internal, label: 'Internal unknown IP' },
  { kind: 'external_filtered', shape: 'rectangle', color: COLORS.external, label: 'External filtered IP' },
  { kind: 'internal_filtered', shape: 'rectangle', color: COLORS.internal, label: 'Internal filtered IP' },
  { kind: 'mail', shape: 'diamond', color: COLORS.internal, label: 'Internal MAIL IP' },
  { kind: 'db', shape: 'triangle', color: COLORS.internal, label: 'Internal DB IP' },
];

// Node kind from the API's node fields (docs/api.md /api/graph).
export function nodeKind(n) {
  const side = n.internal ? 'internal' : 'external';
  if (n.filtered) return `${side}_filtered`;
  // The earlier tool's rule (and the engine's, dm_role_kind_of): a known server whose name
  // contains "db" (any case) is a DB server, else one containing "mail" a MAIL server.
  const role = (n.role || '').toLowerCase();
  if (role.includes('db')) return 'db';
  if (role.includes('mail')) return 'mail';
  return side;
}

function shapeIcon(entry, size = 22) {
  const s = size;
  const c = entry.color;
  let shape;
  if (entry.shape === 'ellipse') shape = svg('circle', { cx: s / 2, cy: s / 2, r: s / 2 - 1, fill: c });
  else if (entry.shape === 'rectangle') shape = svg('rect', { x: 1, y: 1, width: s - 2, height: s - 2, fill: c });
  else if (entry.shape === 'diamond') shape = svg('polygon', { points: `${s / 2},0 ${s},${s / 2} ${s / 2},${s} 0,${s / 2}`, fill: c });
  else shape = svg('polygon', { points: `${s / 2},1 ${s - 1},${s - 1} 1,${s - 1}`, fill: c });
  return svg('svg', { width: s, height: s, viewBox: `0 0 ${s} ${s}`, class: `legend-shape shape-${entry.shape}`, 'data-color': c }, shape);
}

export class Graph {
  constructor(app) {
    this.app = app;
    this.ips = el('input', { type: 'text', id: 'filter-ips', className: 'ips', spellcheck: false, placeholder: '10.2.1.21, 192.168.0.0/24', onkeydown: (e) => { if (e.key === 'Enter') this.visualize(); } });
    this.hops = el('select', { id: 'hops', title: 'neighbourhood depth' }, el('option', { value: '1', text: '1 hop' }), el('option', { value: '2', text: '2 hops' }));
    this.maxNodes = el('select', { id: 'max-nodes', title: 'node cap: keep the top peers by bytes' }, [50, 100, 200, 500, 1000, 2000].map((n) => el('option', { value: String(n), text: `${n} nodes` })));
    this.info = el('div', { className: 'graph-info', id: 'graph-info' });
    this.filterNote = el('div', { className: 'muted small', id: 'graph-filter' });
    this.box = el('div', { className: 'graph', id: 'graph' });
    this.tip = el('div', { className: 'tooltip', id: 'graph-tooltip', role: 'tooltip' });
    this.menu = el('div', { className: 'node-menu', id: 'node-menu' });
    this.png = el('button', { className: 'btn ghost', id: 'save-png', text: 'Save as PNG', disabled: true, onclick: () => this.savePng() });
    const legend = el('div', { className: 'legend', id: 'legend' }, LEGEND.map((l) => el('span', { className: 'legend-item', dataset: { kind: l.kind } }, shapeIcon(l), el('span', { text: l.label }))));
    this.node = el('section', { className: 'tab-panel', id: 'tab-graph' },
      el('p', { className: 'intro', text: 'Visualize network connections as a graph, based on specific IP(s).' }),
      el('div', { className: 'filters' },
        el('div', { className: 'field' }, el('label', { htmlFor: 'filter-ips', text: 'Filter IP(s)' }), this.ips),
        el('button', { className: 'btn primary', id: 'visualize', text: 'Visualize graph', onclick: () => this.visualize() }),
        el('div', { className: 'field inline' }, this.hops, this.maxNodes),
        el('div', { className: 'spacer' }), this.png),
      legend,
      this.filterNote,
      this.info,
      el('div', { className: 'graph-wrap' }, this.box, this.tip, this.menu));
    this.cy = null;
    this.data = null;
    document.addEventListener('click', (e) => {
      if (!this.menu.contains(e.target)) this.hideMenu();
    });
  }

  show(s) {
    this.ips.value = s.ips;
    this.hops.value = String(s.hops);
    this.maxNodes.value = String(s.max_nodes);
    if (!this.maxNodes.value) this.maxNodes.value = '200';
    this.filterNote.textContent = `Flows: ${filterSummary(s)} (the filter of Data exploration applies here too)`;
  }

  visualize() {
    const s = this.app.state;
    s.ips = this.ips.value.trim();
    s.hops = Number(this.hops.value);
    s.max_nodes = Number(this.maxNodes.value);
    this.app.commit();
    this.refresh();
  }

  async refresh() {
    const s = this.app.state;
    this.show(s);
    this.hideMenu();
    if (!s.ips) {
      this.info.textContent = 'Type one or more IP addresses or CIDRs, comma separated, then Visualize graph.';
      this.destroy();
      return;
    }
    this.box.classList.add('loading');
    this.info.textContent = 'Loading…';
    try {
      const g = await get('/api/graph', { ...filterParams(s), ips: s.ips, hops: s.hops, max_nodes: s.max_nodes }, 'graph');
      this.app.clearError();
      this.render(g);
    } catch (e) {
      if (isAbort(e)) return;
      this.info.textContent = '';
      this.app.error(e.message);
      this.destroy();
    } finally {
      this.box.classList.remove('loading');
    }
  }

  destroy() {
    if (this.cy) this.cy.destroy();
    this.cy = null;
    this.png.disabled = true;
  }

  render(g) {
    this.destroy();
    this.data = g;
    const nodes = g.nodes || [];
    const edges = g.edges || [];
    const maxConn = Math.max(1, ...nodes.map((n) => n.connections || 0));
    const maxBytes = Math.max(1, ...edges.map((e) => e.bytes || 0));
    const cut = g.cut || 0;
    this.info.textContent = `${fmtInt(nodes.length)} nodes, ${fmtInt(edges.length)} edges` +
      (cut ? ` — node cap: showing the top peers by bytes, ${fmtInt(cut)} more not shown (raise the cap or narrow the filter)` : '') +
      (nodes.length ? ' — hover for details, click a node to pivot' : ' — no flow touches these IPs under the current filter');
    this.info.classList.toggle('capped', cut > 0);
    const elements = [];
    for (const n of nodes) {
      const kind = nodeKind(n);
      const legend = LEGEND.find((l) => l.kind === kind);
      elements.push({
        group: 'nodes',
        data: {
          id: n.ip, label: n.ip, kind, shape: legend.shape, color: legend.color,
          size: 14 + 30 * Math.sqrt((n.connections || 0) / maxConn),
          connections: n.connections || 0, role: n.role || '', sent: n.sent || 0, recv: n.recv || 0,
          internal: !!n.internal, filtered: !!n.filtered,
        },
      });
    }
    edges.forEach((e, i) => {
      const w = (e.bytes || 0) / maxBytes;
      elements.push({
        group: 'edges',
        data: { id: `e${i}`, source: e.src, target: e.dst, flows: e.flows, bytes: e.bytes, weight: w, width: 1 + 5 * w, style: w > 0.3 ? 'solid' : 'dashed' },
      });
    });
    this.cy = cytoscape({
      container: this.box,
      elements,
      minZoom: 0.05,
      maxZoom: 5,
      style: [
        { selector: 'node', style: { shape: 'data(shape)', 'background-color': 'data(color)', width: 'data(size)', height: 'data(size)', 'border-width': 1, 'border-color': '#222', label: '', 'font-size': 9, color: '#333', 'text-valign': 'bottom', 'text-margin-y': 3 } },
        { selector: 'node.labelled', style: { label: 'data(label)' } },
        { selector: 'node[?filtered]', style: { label: 'data(label)', 'font-weight': 'bold', 'font-size': 11 } },
        { selector: 'node:selected', style: { 'border-width': 3, 'border-color': '#d33' } },
        { selector: 'edge', style: { width: 'data(width)', 'line-color': EDGE, 'target-arrow-color': EDGE, 'target-arrow-shape': 'triangle', 'curve-style': 'bezier', 'line-style': 'data(style)', 'arrow-scale': 0.8, opacity: 0.9 } },
        { selector: 'edge.hover', style: { 'line-color': '#c0392b', 'target-arrow-color': '#c0392b', opacity: 1 } },
      ],
      layout: nodes.length > 1 ? { name: 'cose', animate: false, randomize: false, nodeRepulsion: () => 8000, idealEdgeLength: () => 90, numIter: nodes.length > 600 ? 400 : 1000, fit: true, padding: 30 } : { name: 'grid' },
    });
    const cy = this.cy;
    if (nodes.length <= 40) cy.nodes().addClass('labelled'); // small graphs: every address
    if (cy.zoom() > 1.6) {
      cy.zoom(1.6); // a handful of nodes should not fill the screen
      cy.center();
    }
    cy.on('mouseover', 'node', (ev) => this.showTip(ev, [
      ['IP', ev.target.data('id')],
      ['Connections', fmtInt(ev.target.data('connections'))],
      ['Role', ev.target.data('role') || (ev.target.data('internal') ? 'internal' : 'external')],
      ['Sent / received', `${fmtBytes(ev.target.data('sent'))} / ${fmtBytes(ev.target.data('recv'))}`],
    ]));
    cy.on('mouseover', 'edge', (ev) => {
      ev.target.addClass('hover');
      this.showTip(ev, [
        ['Flow', `${ev.target.data('source')} → ${ev.target.data('target')}`],
        ['Bytes', `${fmtBytes(ev.target.data('bytes'))} (${fmtInt(ev.target.data('bytes'))})`],
        ['Flows', fmtInt(ev.target.data('flows'))],
      ]);
    });
    cy.on('mouseout', 'node, edge', (ev) => {
      ev.target.removeClass('hover');
      this.tip.classList.remove('show');
    });
    cy.on('tap', 'node', (ev) => this.showMenu(ev));
    cy.on('tap', (ev) => {
      if (ev.target === cy) this.hideMenu();
    });
    this.png.disabled = nodes.length === 0;
  }

  showTip(ev, rows) {
    clear(this.tip);
    for (const [k, v] of rows) this.tip.appendChild(el('div', null, el('b', { text: `${k}: ` }), el('span', { text: String(v) })));
    const p = ev.renderedPosition || ev.target.renderedPosition();
    this.tip.style.left = `${Math.round(p.x + 14)}px`;
    this.tip.style.top = `${Math.round(p.y + 14)}px`;
    this.tip.classList.add('show');
  }

  showMenu(ev) {
    const ip = ev.target.data('id');
    const p = ev.renderedPosition || ev.target.renderedPosition();
    clear(this.menu);
    this.menu.appendChild(el('div', { className: 'menu-title', text: ip }));
    const item = (text, fn) => this.menu.appendChild(el('button', { text, onclick: (e) => { e.stopPropagation(); this.hideMenu(); fn(); } }));
    item('Filter the table on this IP', () => this.app.filterOnIp(ip));
    item('Expand its neighbours', () => this.expand(ip));
    item('Graph this IP alone', () => this.app.graphFor(ip));
    this.menu.style.left = `${Math.round(p.x + 10)}px`;
    this.menu.style.top = `${Math.round(p.y + 10)}px`;
    this.menu.classList.add('show');
    this.tip.classList.remove('show');
    // The document listener closes the menu on the click that opened it: let it pass.
    this.menuOpenedAt = performance.now();
  }

  hideMenu() {
    if (this.menuOpenedAt && performance.now() - this.menuOpenedAt < 50) return;
    this.menu.classList.remove('show');
  }

  expand(ip) {
    const s = this.app.state;
    const list = s.ips.split(',').map((x) => x.trim()).filter(Boolean);
    if (!list.includes(ip)) list.push(ip);
    s.ips = list.join(', ');
    this.ips.value = s.ips;
    this.app.commit();
    this.refresh();
  }

  savePng() {
    if (!this.cy) return;
    const blob = this.cy.png({ output: 'blob', bg: '#ffffff', full: true, scale: 2 });
    const url = URL.createObjectURL(blob);
    const a = el('a', { href: url, download: `datamate-graph-${this.app.state.ips.replace(/[^0-9a-fA-F.:,_-]+/g, '_').slice(0, 60) || 'graph'}.png` });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 5000);
  }

  resize() {
    if (this.cy) this.cy.resize();
  }
}
