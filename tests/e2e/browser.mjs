// The page in a real browser (playwright-core driving Debian's /usr/bin/chromium) against a
// served dataset: both tabs, filters + Update, paging, sort, page size, Reset, Reload, the
// expression filter and its errors, URL state, the graph (legend shapes and colours, hover,
// pivot, expand, PNG), export, the histogram brush, top-N, and the XSS case. Screenshots go
// to $DM_SCREENSHOTS (docs/img with `make screenshots`) or build/e2e/shots.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHROMIUM, OUT, dataset, done, eq, haveChromium, ok, requireTool, serve, stop } from './lib.mjs';

if (!haveChromium()) {
  console.log(`not ok 1 - ${CHROMIUM} is missing (tools/setup.sh installs the Debian package chromium)`);
  process.exit(1);
}
const { chromium } = requireTool('playwright-core');
const { file, config, expect: X } = dataset();
const shots = process.env.DM_SCREENSHOTS || join(OUT, 'shots');
mkdirSync(shots, { recursive: true });
const userDir = join(OUT, `chromium-profile-${process.pid}`);

const srv = await serve([file, '--config', config, '--no-open', '--listen', '127.0.0.1:0', '--quiet']);
const base = srv.url;
const browser = await chromium.launchPersistentContext(userDir, {
  executablePath: CHROMIUM,
  headless: true,
  viewport: { width: 1280, height: 800 },
  acceptDownloads: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = browser.pages()[0] || (await browser.newPage());
const problems = [];
let dialogs = 0;
page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
page.on('console', (m) => {
  if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 400/.test(m.text())) problems.push(`console: ${m.text()}`);
});
page.on('dialog', async (d) => {
  dialogs++;
  await d.dismiss();
});
await page.addInitScript(() => {
  document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.sourceFile}:${e.lineNumber}`));
});

const count = () => page.textContent('#count');
const idle = async () => {
  await page.waitForFunction(() => !document.body.classList.contains('busy'));
};
const cells = (col) => page.$$eval(`#flows tbody tr`, (trs, c) => {
  const heads = [...document.querySelectorAll('#flows thead th')].map((th) => th.dataset.col);
  const i = heads.indexOf(c);
  return trs.map((tr) => (tr.children[i] ? tr.children[i].textContent : null));
}, col);
const fmt = (n) => n.toLocaleString('en-US');
const params = () => new URL(page.url()).searchParams;

try {
  // ---- load ----
  await page.goto(base);
  await page.waitForSelector('#flows tbody tr');
  await idle();
  eq(await page.textContent('header .title'), 'Datamate', 'load: header title from the template');
  eq(await page.textContent('header .site'), 'ACME corp — incident 4711', 'load: header site from the template');
  eq(await page.$eval('#header', (h) => getComputedStyle(h).backgroundColor), 'rgb(91, 155, 213)', 'load: header_background applied');
  eq(await page.$$eval('nav.tabs .tab', (b) => b.map((x) => x.textContent.slice(1))), ['Data exploration', 'Data visualization', 'Top talkers', 'Findings'], 'load: tabs');
  eq((await cells('ts')).length, 10, 'load: 10 rows (page size 10)');
  ok((await count()).includes(`of ${fmt(X.rows)} matching flows`), 'load: total count shown', await count());
  eq(await page.$$eval('#flows thead th', (t) => t.map((x) => x.dataset.col)), ['ts', 'src_ip', 'dst_ip', 'dst_port', 'bytes_sent', 'bytes_recv', 'action', 'message'], 'load: columns from targeted_cols');
  eq(await page.textContent('#bytes-sent .range-caption'), `0 .. ${fmt(X.max_sent)}`, 'load: Bytes sent range from the data');
  ok(await page.isVisible('#histogram canvas'), 'load: time histogram drawn');
  await page.screenshot({ path: join(shots, 'exploration.png') });

  // ---- page size, paging ----
  await page.selectOption('#page-size', '25');
  await page.waitForFunction(() => document.querySelectorAll('#flows tbody tr').length === 25);
  eq(params().get('limit'), '25', 'page size: 25 rows, in the URL');
  const firstPage = await cells('ts');
  await page.click('#pager button:has-text("Next")');
  await page.waitForFunction(() => document.querySelector('#count').textContent.startsWith('Rows 26–50'));
  const second = await cells('ts');
  ok(second[0] >= firstPage[24] && second[0] !== firstPage[0], 'paging: Next shows rows 26–50 in order');
  await page.click('#pager button:has-text("Last")');
  await page.waitForFunction((t) => document.querySelector('#count').textContent.includes(`–${t} of`), fmt(X.rows));
  eq((await cells('ts')).length, X.rows % 25 || 25, 'paging: Last page holds the remainder');
  eq(params().get('offset'), String(Math.floor((X.rows - 1) / 25) * 25), 'paging: offset in the URL');
  await page.click('#pager button:has-text("First")');
  await page.waitForFunction(() => document.querySelector('#count').textContent.startsWith('Rows 1–25'));
  ok(true, 'paging: First');

  // ---- sort ----
  await page.click('#flows th[data-col="bytes_sent"]');
  await page.waitForFunction(() => document.querySelector('#flows th.sorted')?.dataset.col === 'bytes_sent');
  await idle();
  eq((await cells('bytes_sent'))[0], fmt(987654321), 'sort: bytes_sent descending first');
  eq([params().get('sort'), params().get('order')], ['bytes_sent', 'desc'], 'sort: in the URL');
  await page.click('#flows th[data-col="bytes_sent"]');
  await page.waitForFunction(() => document.querySelector('#flows th.sorted')?.getAttribute('aria-sort') === 'ascending');
  await idle();
  const asc = (await cells('bytes_sent')).map((s) => Number(s.replace(/,/g, '')));
  ok(asc.every((v, i) => i === 0 || asc[i - 1] <= v), 'sort: ascending on the second click', asc);
  await page.click('#flows th[data-col="src_ip"]');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('sort') === 'src_ip');
  await idle();
  ok(true, 'sort: any column');

  // ---- expression filter ----
  await page.fill('#expr', 'ip = 10.2.1.21');
  await page.press('#expr', 'Enter');
  await page.waitForFunction((n) => document.querySelector('#count').textContent.includes(`of ${n} matching`), String(X.flows_10_2_1_21));
  eq(params().get('q'), 'ip = 10.2.1.21', 'expression: Enter applies it, kept in the URL');
  await page.fill('#expr', 'bogusfield = 1');
  await page.click('#update');
  await page.waitForSelector('#error.show');
  ok((await page.textContent('#error .msg')).includes("unknown field 'bogusfield' at 1:1"), 'expression: a readable error', await page.textContent('#error .msg'));
  ok(await page.$eval('#expr', (e) => e.classList.contains('bad')), 'expression: the box is marked');

  // ---- Reset ----
  await page.click('#reset');
  await page.waitForFunction((n) => document.querySelector('#count').textContent.includes(`of ${n} matching`), fmt(X.rows));
  eq(await page.inputValue('#expr'), '', 'Reset: expression cleared');
  ok(!(await page.isVisible('#error.show')), 'Reset: error gone');

  // ---- byte range typed with units ----
  await page.fill('#bytes-sent-min', '1M');
  await page.dispatchEvent('#bytes-sent-min', 'change');
  await page.click('#update');
  await page.waitForFunction(() => document.querySelector('#count').textContent.includes('of 1 matching'));
  eq(params().get('sent_min'), '1000000', 'Bytes sent: typed 1M filters, in the URL');
  const loPos = await page.$eval('#bytes-sent input.lo', (e) => Number(e.value));
  ok(loPos > 600 && loPos < 800, 'Bytes sent: log-scaled slider follows the typed value', loPos);
  await page.click('#reset');
  await idle();

  // ---- dates + Update ----
  await page.fill('#start-date', '2022-11-05');
  await page.fill('#end-date', '2022-11-05');
  await page.click('#update');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('from') === '2022-11-05');
  await idle();
  const days = await cells('ts');
  ok(days.length === 25 && days.every((d) => d.startsWith('2022-11-05')), 'dates: Start/End date filter the table', days);
  const dayCount = await count();

  // ---- Reload ----
  await page.click('#reload');
  await page.waitForFunction((n) => document.querySelector('#count').textContent.includes(`of ${n} matching`), fmt(X.rows));
  eq(await page.inputValue('#start-date'), '', 'Reload: filters reset');
  ok(dayCount !== (await count()), 'Reload: all rows again');

  // ---- URL state (bookmark) ----
  await page.goto(`${base}?q=${encodeURIComponent('dport = 443')}&limit=15`);
  await page.waitForSelector('#flows tbody tr');
  await idle();
  ok((await count()).includes(`of ${fmt(X.dport_443)} matching`), 'URL state: a bookmarked filter is applied', await count());
  eq([await page.inputValue('#expr'), await page.inputValue('#page-size')], ['dport = 443', '15'], 'URL state: controls restored');
  await page.goBack();
  await page.waitForFunction((n) => document.querySelector('#count')?.textContent.includes(`of ${n} matching`), fmt(X.rows));
  ok(true, 'URL state: Back restores the previous view');

  // ---- XSS: log strings are text ----
  await page.goto(`${base}?q=${encodeURIComponent('src = 192.168.1.66')}`);
  await page.waitForFunction(() => document.querySelector('#count')?.textContent.includes('of 1 matching'));
  eq((await cells('action'))[0], X.xss_action, 'XSS: the action shows as text');
  eq((await cells('message'))[0], '<script>alert(2)</script>&amp;"quoted"', 'XSS: the message shows as text');
  eq(await page.$$eval('#flows img, #flows script', (x) => x.length), 0, 'XSS: no element created from data');
  await page.waitForTimeout(300);
  eq(dialogs, 0, 'XSS: nothing ran');

  // ---- export download ----
  await page.goto(`${base}?q=${encodeURIComponent('ip = 10.2.1.21')}`);
  await page.waitForFunction((n) => document.querySelector('#count')?.textContent.includes(`of ${n} matching`), String(X.flows_10_2_1_21));
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
  const csv = readFileSync(await dl.path(), 'utf8').trimEnd().split('\n');
  eq(csv.length, X.flows_10_2_1_21 + 1, 'export: the CSV download holds the filtered rows');
  eq(csv[0], 'ts,src_ip,dst_ip,dst_port,bytes_sent,bytes_recv,action,message', 'export: shown columns');

  // ---- histogram brush ----
  await page.goto(base);
  await page.waitForSelector('#histogram .u-over');
  await idle();
  const box = await page.$eval('#histogram .u-over', (e) => {
    const r = e.getBoundingClientRect();
    return { x: r.x, y: r.y, w: r.width, h: r.height };
  });
  await page.mouse.move(box.x + box.w * 0.25, box.y + box.h / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.w * 0.5, box.y + box.h / 2, { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction(() => new URL(location.href).searchParams.get('from'));
  await idle();
  const from = params().get('from');
  const to = params().get('to');
  ok(from > '2022-11-04' && to > from && to < '2022-11-06', 'histogram: brushing sets the time range', [from, to]);
  const brushed = await cells('ts');
  ok(brushed.every((t) => t >= from.replace('T', ' ') && t < to.replace('T', ' ')), 'histogram: table follows the brushed range');

  // ---- graph ----
  await page.goto(`${base}?tab=graph&ips=10.2.1.21`);
  await page.waitForFunction(() => window.datamate?.graph.cy?.nodes().length > 0);
  await page.waitForTimeout(300);
  const nodes = await page.evaluate(() => Object.fromEntries(window.datamate.graph.cy.nodes().map((n) => [n.id(), { shape: n.style('shape'), color: n.style('background-color'), w: n.width() }])));
  const blue = 'rgb(31,63,209)';
  const green = 'rgb(26,138,26)';
  eq([nodes['10.2.1.21']?.shape, nodes['10.2.1.21']?.color], ['rectangle', green], 'graph: internal filtered IP = green square');
  eq([nodes['198.51.100.7']?.shape, nodes['198.51.100.7']?.color], ['ellipse', blue], 'graph: external unknown IP = blue circle');
  eq([nodes['172.16.5.5']?.shape, nodes['172.16.5.5']?.color], ['triangle', green], 'graph: internal DB server = green triangle');
  eq([nodes['10.0.0.25']?.shape, nodes['10.0.0.25']?.color], ['diamond', green], 'graph: internal MAIL server = green diamond');
  ok(nodes['198.51.100.7'].w > nodes['203.0.113.66'].w, 'graph: node size grows with connections');
  const edges = await page.evaluate(() => Object.fromEntries(window.datamate.graph.cy.edges().map((e) => [`${e.source().id()}>${e.target().id()}`, { style: e.style('line-style'), arrow: e.style('target-arrow-shape'), w: e.data('weight') }])));
  eq([edges['10.2.1.21>203.0.113.66']?.style, edges['10.2.1.21>203.0.113.66']?.w], ['solid', 1], 'graph: the heaviest edge is solid (weight 1)');
  eq(edges['10.2.1.21>198.51.100.7']?.style, 'dashed', 'graph: light edges are dashed');
  eq(edges['10.2.1.21>198.51.100.7']?.arrow, 'triangle', 'graph: edges are directed');
  const legend = await page.$$eval('#legend .legend-item', (items) => items.map((i) => [i.textContent, i.querySelector('svg').firstChild.tagName, i.querySelector('svg').firstChild.getAttribute('fill')]));
  eq(legend, [
    ['External unknown IP', 'circle', '#1f3fd1'], ['Internal unknown IP', 'circle', '#1a8a1a'],
    ['External filtered IP', 'rect', '#1f3fd1'], ['Internal filtered IP', 'rect', '#1a8a1a'],
    ['Internal MAIL IP', 'polygon', '#1a8a1a'], ['Internal DB IP', 'polygon', '#1a8a1a'],
  ], 'graph: the six-symbol legend');
  ok((await page.textContent('#graph-info')).startsWith('5 nodes, 4 edges'), 'graph: counts shown', await page.textContent('#graph-info'));
  await page.screenshot({ path: join(shots, 'graph.png') });

  // hover: a node's IP, Connections and Role
  const pos = async (id) => page.evaluate((i) => {
    const n = window.datamate.graph.cy.getElementById(i);
    const p = n.renderedPosition();
    const r = document.getElementById('graph').getBoundingClientRect();
    return { x: r.x + p.x, y: r.y + p.y };
  }, id);
  let p = await pos('198.51.100.7');
  await page.mouse.move(p.x, p.y);
  await page.waitForSelector('#graph-tooltip.show');
  const tip = await page.textContent('#graph-tooltip');
  ok(tip.includes('IP: 198.51.100.7') && tip.includes('Connections: 40') && tip.includes('Role: external'), 'graph: hover shows IP, Connections, Role', tip);
  p = await pos('172.16.5.5');
  await page.mouse.move(p.x, p.y);
  await page.waitForFunction(() => document.querySelector('#graph-tooltip').textContent.includes('172.16.5.5'));
  ok((await page.textContent('#graph-tooltip')).includes('Role: orders-db'), 'graph: hover shows a known server role');
  // edge tooltip: bytes and flows
  const mid = await page.evaluate(() => {
    const e = window.datamate.graph.cy.edges().filter((x) => x.target().id() === '198.51.100.7')[0];
    const m = e.renderedMidpoint();
    const r = document.getElementById('graph').getBoundingClientRect();
    return { x: r.x + m.x, y: r.y + m.y };
  });
  await page.mouse.move(mid.x, mid.y);
  await page.waitForFunction(() => document.querySelector('#graph-tooltip').textContent.includes('Flows:'));
  ok((await page.textContent('#graph-tooltip')).includes('Flows: 40'), 'graph: edge tooltip with bytes and flows', await page.textContent('#graph-tooltip'));

  // PNG
  const [png] = await Promise.all([page.waitForEvent('download'), page.click('#save-png')]);
  const bytes = readFileSync(await png.path());
  ok(bytes.subarray(1, 4).toString() === 'PNG' && bytes.length > 2000, 'graph: Save as PNG downloads an image', bytes.length);

  // node cap
  await page.selectOption('#max-nodes', '50');
  await page.fill('#filter-ips', '10.0.0.0/8');
  await page.click('#visualize');
  await page.waitForFunction(() => document.querySelector('#graph-info').textContent.includes('node cap'));
  ok(/more not shown/.test(await page.textContent('#graph-info')), 'graph: node cap shown', await page.textContent('#graph-info'));

  // pivots: expand, then filter the table
  await page.goto(`${base}?tab=graph&ips=10.2.1.21`);
  await page.waitForFunction(() => window.datamate?.graph.cy?.nodes().length === 5);
  await page.waitForTimeout(200);
  p = await pos('198.51.100.7');
  await page.mouse.click(p.x, p.y);
  await page.waitForSelector('#node-menu.show');
  await page.click('#node-menu button:has-text("Expand its neighbours")');
  await page.waitForFunction(() => window.datamate.graph.cy?.getElementById('198.51.100.7').data('filtered') === true);
  eq(params().get('ips'), '10.2.1.21, 198.51.100.7', 'graph pivot: expand adds the node to Filter IP(s)');
  await page.waitForTimeout(200);
  p = await pos('198.51.100.7');
  await page.mouse.click(p.x, p.y);
  await page.waitForSelector('#node-menu.show');
  await page.click('#node-menu button:has-text("Filter the table")');
  await page.waitForFunction(() => document.querySelector('#count')?.textContent.includes('of 40 matching'));
  eq([params().get('tab'), await page.inputValue('#expr')], [null, 'ip = 198.51.100.7'], 'graph pivot: click filters the table on the node');

  // table IP → graph
  await page.click('#flows button.ip:has-text("10.2.1.21")');
  await page.waitForFunction(() => window.datamate.graph.cy?.nodes().length > 0);
  eq(params().get('ips'), '10.2.1.21', 'table pivot: an IP cell opens its graph');

  // ---- top talkers ----
  await page.goto(`${base}?tab=top&by=sent`);
  await page.waitForFunction(() => document.querySelectorAll('.top-panel:not(.loading)').length === 4);
  eq(await page.textContent('.top-panel[data-key="dst"] tbody tr td.key span'), '203.0.113.66', 'top: destinations by bytes sent');
  await page.screenshot({ path: join(shots, 'top.png') });
  await page.click('.top-panel[data-key="dst"] tbody tr');
  await page.waitForFunction(() => document.querySelector('#count')?.textContent.includes('of 1 matching'));
  eq(await page.inputValue('#expr'), 'dst = 203.0.113.66', 'top: clicking an entry filters the table');

  // ---- loading state is visible while a request runs ----
  const sawBusy = await page.evaluate(async () => {
    const p = window.datamate.explore.refresh();
    const busy = document.body.classList.contains('busy') && document.getElementById('flows').classList.contains('loading');
    await p;
    return busy;
  });
  ok(sawBusy, 'loading: progress bar and dimmed table while loading');

  eq(problems, [], 'no page errors, console errors or CSP violations');
} catch (e) {
  ok(false, `browser run finished (${e.message.split('\n')[0]})`, e.stack);
  await page.screenshot({ path: join(shots, 'failure.png') }).catch(() => {});
} finally {
  await browser.close();
  await stop(srv.proc);
}
process.exit(done() ? 1 : 0);
