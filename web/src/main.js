// The page: header from the config template, the tabs, the shared filter state (kept in the
// URL), the loading state and the error banner. Everything is built with DOM calls; text
// from the data is only ever set with textContent.
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { get, onBusy } from './api.js';
import { Explore } from './explore.js';
import { Findings } from './findings.js';
import { Graph } from './graph.js';
import { fromURL, toURL } from './state.js';
import { Top } from './top.js';
import { clear, debounce, el, fmtInt, fmtTime } from './util.js';

const TAB_LABELS = {
  explore: ['▦', 'Data exploration'],
  graph: ['◔', 'Data visualization'],
  top: ['☰', 'Top talkers'],
  findings: ['⚑', 'Findings'],
};

class App {
  constructor(root) {
    this.root = root;
    this.state = fromURL(location.search);
    this.meta = null;
    this.title = el('h1', { className: 'title', text: 'Datamate' });
    this.site = el('span', { className: 'site' });
    this.status = el('div', { className: 'status', id: 'status' });
    this.themeButton = el('button', { className: 'theme', id: 'theme-toggle', title: 'light / dark theme', text: '◐', hidden: true, onclick: () => this.toggleTheme() });
    this.header = el('header', { className: 'top', id: 'header' }, el('div', null, this.title, this.site), el('div', { className: 'header-right' }, this.status, this.themeButton));
    this.progress = el('div', { className: 'progress', id: 'progress', role: 'progressbar', 'aria-label': 'loading' });
    this.banner = el('div', { className: 'banner', id: 'error', role: 'alert' });
    this.tabs = el('nav', { className: 'tabs', role: 'tablist' });
    this.explore = new Explore(this);
    this.graph = new Graph(this);
    this.top = new Top(this);
    this.findings = new Findings(this);
    this.panels = { explore: this.explore.node, graph: this.graph.node, top: this.top.node, findings: this.findings.node };
    this.help = el('div', { className: 'help', id: 'help' });
    this.main = el('main', null, this.banner, this.help, this.explore.node, this.graph.node, this.top.node, this.findings.node);
    root.appendChild(this.progress);
    root.appendChild(this.header);
    root.appendChild(this.tabs);
    root.appendChild(this.main);
    onBusy((b) => document.body.classList.toggle('busy', b));
    window.addEventListener('popstate', () => {
      this.state = fromURL(location.search);
      this.showAll();
      this.selectTab(this.state.tab, false);
    });
    window.addEventListener('resize', debounce(() => {
      this.explore.resize();
      this.graph.resize();
    }, 150));
    this.buildHelp();
  }

  async start() {
    // A token in the URL has been turned into a cookie by the server: drop it from the
    // address bar so it does not end up in bookmarks or screenshots.
    const u = new URLSearchParams(location.search);
    if (u.has('token')) {
      u.delete('token');
      const q = u.toString();
      history.replaceState(null, '', q ? `?${q}` : location.pathname);
    }
    this.status.textContent = 'Loading data summary…';
    try {
      this.setMeta(await get('/api/meta'));
    } catch (e) {
      this.status.textContent = '';
      this.error(`cannot load the data summary: ${e.message}`);
      return;
    }
    this.showAll();
    this.selectTab(this.state.tab, false);
  }

  setMeta(meta) {
    this.meta = meta;
    const t = meta.template || {};
    this.title.textContent = t.title || 'Datamate';
    this.site.textContent = t.site || '';
    document.title = [t.title || 'Datamate', t.site].filter(Boolean).join(' — ');
    if (t.header_background && CSS.supports('background', t.header_background)) this.header.style.background = t.header_background;
    this.themeButton.hidden = !t.theme_toggle;
    if (t.theme_toggle && localStorage.getItem('datamate-theme') === 'dark') document.body.classList.add('dark');
    const name = (meta.data || '').replace(/\/+$/, '').split('/').pop();
    this.status.textContent = `${name} · ${fmtInt(meta.rows)} flows · ${fmtTime(meta.ts_min)} → ${fmtTime(meta.ts_max)} UTC`;
    this.status.title = `${meta.data || ''} — datamate ${meta.version}`;
    this.explore.setMeta(meta);
    clear(this.tabs);
    const tabs = ['explore', 'graph', 'top'];
    if (meta.findings) tabs.push('findings');
    this.tabButtons = {};
    for (const k of tabs) {
      const [icon, label] = TAB_LABELS[k];
      const b = el('button', { className: 'tab', role: 'tab', id: `tab-button-${k}`, onclick: () => this.selectTab(k) }, el('span', { className: 'icon', text: icon }), label);
      this.tabButtons[k] = b;
      this.tabs.appendChild(b);
    }
  }

  toggleTheme() {
    const dark = document.body.classList.toggle('dark');
    localStorage.setItem('datamate-theme', dark ? 'dark' : 'light');
  }

  showAll() {
    this.explore.show(this.state);
    this.graph.show(this.state);
    this.top.show(this.state);
    this.findings.show(this.state);
  }

  selectTab(k, push = true) {
    if (!this.panels[k] || (this.tabButtons && !this.tabButtons[k])) k = 'explore';
    this.state.tab = k;
    for (const [name, node] of Object.entries(this.panels)) node.classList.toggle('active', name === k);
    for (const [name, b] of Object.entries(this.tabButtons || {})) {
      b.classList.toggle('active', name === k);
      b.setAttribute('aria-selected', name === k ? 'true' : 'false');
    }
    if (push) this.commit();
    this.refreshTab();
  }

  refreshTab() {
    const k = this.state.tab;
    if (k === 'graph') this.graph.refresh();
    else if (k === 'top') this.top.refresh();
    else if (k === 'findings') this.findings.refresh();
    else this.explore.refresh();
  }

  // Records the state in the URL (a new history entry when it changed).
  commit() {
    const url = toURL(this.state);
    if (url !== location.search && !(url === location.pathname && !location.search)) history.pushState(null, '', url);
  }

  // Records the state in the URL without a new history entry (typing in a filter box).
  replace() {
    const url = toURL(this.state);
    if (url !== location.search && !(url === location.pathname && !location.search)) history.replaceState(null, '', url);
  }

  async reload() {
    this.clearError();
    this.explore.reset(false);
    this.findings.reset();
    try {
      this.setMeta(await get('/api/meta'));
    } catch (e) {
      this.error(`cannot load the data summary: ${e.message}`);
      return;
    }
    this.showAll();
    this.selectTab('explore');
  }

  // Pivots.
  graphFor(ip) {
    this.state.ips = ip;
    this.graph.show(this.state);
    this.selectTab('graph');
  }

  filterOnIp(ip) {
    this.addFilter(`ip = ${ip}`);
  }

  addFilter(expr) {
    const cur = this.state.q.trim();
    this.state.q = cur ? `(${cur}) and ${expr}` : expr;
    this.state.offset = 0;
    this.explore.show(this.state);
    this.graph.show(this.state);
    this.selectTab('explore');
  }

  error(msg, focus = null) {
    clear(this.banner);
    this.banner.appendChild(el('span', { className: 'msg', text: msg }));
    this.banner.appendChild(el('button', { className: 'close', text: '×', title: 'dismiss', onclick: () => this.clearError() }));
    this.banner.classList.add('show');
    if (focus) focus.focus();
  }

  clearError() {
    this.banner.classList.remove('show');
    clear(this.banner);
  }

  showHelp() {
    this.help.classList.toggle('show');
  }

  buildHelp() {
    const ex = [
      ['src 10.0.0.0/8 and dst external', 'internal sources talking to the outside'],
      ['dport in [53, 443] and sent > 10M', 'DNS or HTTPS flows that sent more than 10 MB'],
      ['ip = 192.168.1.5 and not action = allow', 'flows of one host that were not allowed'],
      ['dst role db', 'flows to a known DB server (config known_servers)'],
      ['ts >= 2022-11-04T22:00:00Z and bytes > 1Gi', 'late, big flows (Ki/Mi/Gi = powers of 1024)'],
    ];
    this.help.appendChild(el('h3', { text: 'Filter expressions' }));
    this.help.appendChild(el('p', { text: 'Fields: ts src dst ip sport dport port proto sent recv bytes packets action duration, and extra columns by name. Operators = != < <= > >=, in [..], CIDRs on IP fields, internal / external, role, and / or / not, ( ). Sizes take K/M/G/T suffixes.' }));
    const list = el('ul');
    for (const [e, d] of ex) {
      list.appendChild(el('li', null, el('code', { text: e, title: 'use this expression', onclick: () => { this.state.q = e; this.explore.show(this.state); } }), ` — ${d}`));
    }
    this.help.appendChild(list);
  }
}

const app = new App(document.getElementById('app'));
window.datamate = app; // for the browser tests and the curious
app.start();
