// The Findings tab in a real browser (playwright-core driving /usr/bin/chromium) against
// `datamate serve` on `datamate gen` data: the planted scenarios are listed with the right
// kind, the kind / score / host filters change the list, sparklines are drawn from a bounded
// number of histogram requests, a finding opens the table on its filter (same row count as
// `datamate query --where FILTER --summary`) and the graph around its host, the hosts
// roll-up, and a hostile known-server name in a finding's explanation stays text.
// Screenshot: $DM_SCREENSHOTS/findings.png (docs/img with `make screenshots`).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, CHROMIUM, OUT, done, eq, getJSON, haveChromium, ok, requireTool, serve, stop } from './lib.mjs';

if (!haveChromium()) {
  console.log(`not ok 1 - ${CHROMIUM} is missing (tools/setup.sh installs the Debian package chromium)`);
  process.exit(1);
}
const { chromium } = requireTool('playwright-core');
const dir = join(OUT, 'findings');
mkdirSync(dir, { recursive: true });
const shots = process.env.DM_SCREENSHOTS || join(OUT, 'shots');
mkdirSync(shots, { recursive: true });
const run = (args) => execFileSync(BIN, args, { cwd: dir, maxBuffer: 1 << 26 }).toString();

// ---- data: gen with ground truth, a config whose DB server's name is hostile ----
run(['gen', '-q', '-o', 'flows.jsonl', '--rows', '100000', '--seed', '3', '--truth', 'truth.json', '--config', 'gen.json']);
run(['convert', '-q', 'flows.jsonl', '-o', 'flows.parquet']);
const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8'));
const cfg = JSON.parse(readFileSync(join(dir, 'gen.json'), 'utf8'));
const db = truth.scenarios.find((s) => s.kind === 'db_exfil').host;
const HOSTILE = '<img src=x onerror="window.__xss=1;alert(1)">';
cfg.known_servers[db] = `DB server ${HOSTILE}`;
writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
const config = join(dir, 'config.json');
const file = join(dir, 'flows.parquet');
const summaryRows = (where) => JSON.parse(run(['query', file, '--config', config, '--where', where, '--summary', '--format', 'json'])).rows;
const EXPECTED = { night_upload: 'off_hours', db_exfil: 'role_violation', beacon: 'beacon', dns_tunnel: 'tunnel', slow_leak: 'rare_destination' };

const srv = await serve([file, '--config', config, '--no-open', '--listen', '127.0.0.1:0', '--quiet']);
const base = srv.url.replace(/\/$/, '');
const api = (await getJSON(`${base}/api/findings?limit=1000`)).json;
const userDir = join(OUT, `chromium-profile-findings-${process.pid}`);
const browser = await chromium.launchPersistentContext(userDir, {
  executablePath: CHROMIUM,
  headless: true,
  viewport: { width: 1280, height: 800 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = browser.pages()[0] || (await browser.newPage());
const problems = [];
let dialogs = 0;
const histograms = [];
page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
page.on('console', (m) => {
  if (m.type() === 'error') problems.push(`console: ${m.text()}`);
});
page.on('dialog', async (d) => {
  dialogs++;
  await d.dismiss();
});
page.on('request', (r) => {
  const u = new URL(r.url());
  // the sparklines' requests (Data exploration's histogram gives no bucket)
  if (u.pathname === '/api/histogram' && u.searchParams.get('bucket')) histograms.push(u.searchParams.get('q'));
});
await page.addInitScript(() => {
  document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.sourceFile}:${e.lineNumber}`));
});

const idle = () => page.waitForFunction(() => !document.body.classList.contains('busy'));
const params = () => new URL(page.url()).searchParams;
// The listed findings: [{kind, host, peers, score}]
const listed = () => page.$$eval('#findings-list li.finding[data-kind]', (lis) => lis.map((li) => ({
  kind: li.dataset.kind, host: li.dataset.host, peers: li.querySelector('.peers').title.split(', '), score: Number(li.querySelector('.score').title.split(' ')[1]),
})));
const fmt = (n) => n.toLocaleString('en-US');

try {
  ok(api && Array.isArray(api.findings) && api.findings.length >= 5, 'api: findings to show', api && api.findings.length);

  // ---- the tab and the ranked list ----
  await page.goto(base);
  await page.waitForSelector('#tab-button-findings');
  eq(await page.textContent('#tab-button-findings'), '⚑Findings', 'tab: Findings is offered when /api/findings exists');
  await page.click('#tab-button-findings');
  await page.waitForSelector('#findings-list li.finding[data-kind]');
  eq(params().get('tab'), 'findings', 'tab: in the URL');
  const all = await listed();
  eq(all.length, api.findings.length, 'list: every finding of /api/findings, in order');
  eq(all.map((f) => `${f.kind} ${f.host}`), api.findings.map((f) => `${f.kind} ${f.host}`), 'list: ranked as the API ranks them');
  const top = all.slice(0, 10);
  for (const s of truth.scenarios) {
    if (s.malicious) {
      ok(top.some((f) => f.host === s.host && f.kind === EXPECTED[s.kind] && f.peers.includes(s.peer)), `list: planted ${s.kind} ${s.host} -> ${s.peer} is a top-10 ${EXPECTED[s.kind]} finding`, top);
    } else {
      ok(!top.some((f) => f.host === s.host), `list: benign ${s.kind} (${s.host}) is not in the top 10`);
    }
  }
  eq(await page.textContent('#findings-count'), `${fmt(api.findings.length)} of ${fmt(api.findings.length)} findings — ${fmt(api.hosts.length)} hosts`, 'list: count line');
  const f0 = api.findings[0];
  const head = await page.$eval('#findings-list li.finding', (li) => [li.querySelector('.f-host').textContent, li.querySelector('.out').textContent, li.querySelector('.flows').textContent, li.querySelector('.span').textContent, li.querySelector('.explanation').textContent]);
  eq(head[0], f0.host, 'list: the host');
  ok(head[1].endsWith(' out') && head[2] === `${fmt(f0.flows)} flows`, 'list: bytes out and flows', head);
  ok(head[3].startsWith(f0.start.slice(0, 10)) && head[3].includes('→'), 'list: the time span', head[3]);
  eq(head[4], f0.explanation, 'list: the explanation');

  // ---- hosts roll-up ----
  const hosts = await page.$$eval('#findings-hosts tbody tr', (trs) => trs.map((tr) => tr.dataset.host));
  eq(hosts, api.hosts.slice(0, 50).map((h) => h.host), 'hosts: the roll-up in ranked order');

  // ---- sparklines: one histogram request per host on screen, the host's egress ----
  await page.waitForSelector('#findings-list svg.sparkline');
  await idle();
  const distinct = new Set(api.findings.map((f) => f.host));
  ok(histograms.length > 0 && histograms.length <= distinct.size, 'sparklines: at most one histogram request per host', histograms);
  ok(histograms.every((q) => /^ip = [0-9a-f.:]+$/.test(q)) && new Set(histograms).size === histograms.length, 'sparklines: each asks for its host\'s flows once', histograms);
  const dbSpark = await page.$eval(`#findings-list li[data-kind="role_violation"][data-host="${db}"] svg.sparkline`, (s) => [s.querySelector('.spark-bars').getAttribute('d'), Number(s.querySelector('.spark-window').getAttribute('width'))]).catch((e) => [String(e), 0]);
  ok(/^M[\d.]+ 26v-/.test(dbSpark[0]) && dbSpark[1] >= 2, 'sparklines: the DB server\'s bars and the finding window are drawn', dbSpark);
  await page.screenshot({ path: join(shots, 'findings.png') });

  // ---- hostile text stays text ----
  const expl = await page.$eval(`#findings-list li[data-kind="role_violation"][data-host="${db}"] .explanation`, (e) => e.textContent);
  ok(expl.includes(HOSTILE), 'XSS: the hostile server name shows as text in the explanation', expl);
  eq(await page.$$eval('#tab-findings img, #tab-findings script', (x) => x.length), 0, 'XSS: no element created from data');
  await page.waitForTimeout(200);
  eq([dialogs, await page.evaluate(() => window.__xss === undefined)], [0, true], 'XSS: nothing ran');

  // ---- kind filter ----
  await page.click('#kinds-none');
  await page.waitForFunction(() => document.querySelectorAll('#findings-list li.finding[data-kind]').length === 0);
  eq(params().get('kinds'), 'none', 'kinds: none shows no finding, in the URL');
  await page.check('#kind-beacon');
  const beacons = api.findings.filter((f) => f.kind === 'beacon');
  await page.waitForFunction((n) => document.querySelectorAll('#findings-list li.finding[data-kind]').length === n, beacons.length);
  const onlyBeacon = await listed();
  ok(onlyBeacon.length === beacons.length && onlyBeacon.length > 0 && onlyBeacon.every((f) => f.kind === 'beacon'), 'kinds: beacon alone lists the beacon findings', onlyBeacon);
  eq(params().get('kinds'), 'beacon', 'kinds: kept in the URL');
  await page.check('#kind-tunnel');
  await page.waitForFunction((n) => document.querySelectorAll('#findings-list li.finding[data-kind]').length === n, beacons.length + api.findings.filter((f) => f.kind === 'tunnel').length);
  eq(params().get('kinds'), 'beacon,tunnel', 'kinds: two kinds');
  await page.click('#kinds-all');
  await page.waitForFunction((n) => document.querySelectorAll('#findings-list li.finding[data-kind]').length === n, api.findings.length);
  eq(params().get('kinds'), null, 'kinds: all again');

  // ---- score filter ----
  const min = 90;
  const high = api.findings.filter((f) => f.score >= min);
  ok(high.length > 0 && high.length < api.findings.length, 'score: the data has findings on both sides of 90', api.findings.map((f) => f.score));
  await page.fill('#min-score', String(min));
  await page.waitForFunction((n) => document.querySelectorAll('#findings-list li.finding[data-kind]').length === n, high.length);
  const scored = await listed();
  ok(scored.length === high.length && scored.every((f) => f.score >= min), `score: minimum ${min} keeps the ${high.length} findings scoring >= ${min}`, scored);
  eq(params().get('min_score'), String(min), 'score: in the URL');
  eq(await page.textContent('#findings-count'), `${fmt(high.length)} of ${fmt(api.findings.length)} findings — ${fmt(api.hosts.length)} hosts`, 'score: count line follows');
  await page.fill('#min-score', '');
  await page.waitForFunction((n) => document.querySelectorAll('#findings-list li.finding[data-kind]').length === n, api.findings.length);

  // ---- host filter from the roll-up ----
  await page.click(`#findings-hosts tbody tr[data-host="${db}"]`);
  const ofDb = api.findings.filter((f) => f.host === db || f.peers.includes(db));
  await page.waitForFunction((n) => document.querySelectorAll('#findings-list li.finding[data-kind]').length === n, ofDb.length);
  eq([await page.inputValue('#finding-host'), params().get('fhost')], [db, db], 'hosts: clicking a host lists its findings');
  await page.click('#finding-host-clear');
  await page.waitForFunction((n) => document.querySelectorAll('#findings-list li.finding[data-kind]').length === n, api.findings.length);

  // ---- a finding opens the table on its filter ----
  const rv = api.findings.find((f) => f.kind === 'role_violation' && f.host === db);
  await page.click(`#findings-list li[data-kind="role_violation"][data-host="${db}"] .explanation`);
  await page.waitForSelector('#tab-explore.active');
  await idle();
  const want = summaryRows(rv.filter);
  await page.waitForFunction((n) => document.querySelector('#count')?.textContent.includes(`of ${n} matching`), fmt(want));
  eq([params().get('tab'), await page.inputValue('#expr')], [null, rv.filter], 'open: the table with the finding\'s filter');
  ok((await page.textContent('#count')).endsWith(`of ${fmt(want)} matching flows`) && want === rv.flows, `open: ${want} rows, as query --where FILTER --summary and the finding say`, [await page.textContent('#count'), want, rv.flows]);
  await page.goBack();
  await page.waitForSelector('#tab-findings.active #findings-list li.finding[data-kind]');
  ok(true, 'open: Back returns to the findings');

  // the Table button of another finding (more rows than a page)
  const bf = api.findings.find((f) => f.kind === 'beacon');
  await page.click(`#findings-list li[data-kind="beacon"][data-host="${bf.host}"] .open-table`);
  const wantB = summaryRows(bf.filter);
  await page.waitForFunction((n) => document.querySelector('#count')?.textContent.includes(`of ${n} matching`), fmt(wantB));
  eq([await page.inputValue('#expr'), wantB], [bf.filter, bf.flows], 'open: Table button, beacon evidence rows as query --summary counts them');

  // ---- the graph around the host ----
  await page.goto(`${base}/?tab=findings`);
  await page.waitForSelector('#findings-list li.finding[data-kind]');
  const oh = api.findings.find((f) => f.kind === 'off_hours');
  await page.click(`#findings-list li[data-kind="off_hours"][data-host="${oh.host}"] .open-graph`);
  await page.waitForFunction(() => window.datamate?.graph.cy?.nodes().length > 0);
  const nodes = await page.evaluate(() => window.datamate.graph.cy.nodes().map((n) => n.id()));
  eq([params().get('tab'), params().get('ips'), params().get('q')], ['graph', oh.host, oh.filter], 'graph: the host under the finding\'s filter');
  ok(nodes.includes(oh.host) && oh.peers.every((p) => nodes.includes(p)), 'graph: the host and its peers are drawn', nodes);

  // ---- the state survives a reload of the page ----
  await page.goto(`${base}/?tab=findings&kinds=off_hours,beacon&min_score=50`);
  await page.waitForSelector('#findings-list li.finding[data-kind]');
  const fromUrl = await listed();
  eq(fromUrl.map((f) => f.kind + f.host), api.findings.filter((f) => (f.kind === 'off_hours' || f.kind === 'beacon') && f.score >= 50).map((f) => f.kind + f.host), 'URL state: kinds and minimum score from a bookmark');
  eq([await page.isChecked('#kind-beacon'), await page.isChecked('#kind-volume'), await page.inputValue('#min-score')], [true, false, '50'], 'URL state: controls restored');

  eq(problems, [], 'no page errors, console errors or CSP violations');
} catch (e) {
  ok(false, `findings browser run finished (${e.message.split('\n')[0]})`, e.stack);
  await page.screenshot({ path: join(shots, 'findings-failure.png') }).catch(() => {});
} finally {
  await browser.close();
  await stop(srv.proc);
}
process.exit(done() ? 1 : 0);
