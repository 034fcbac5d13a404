// The JSON API of `datamate serve` against a real served dataset (tests/e2e/mkdata.c):
// every endpoint, the common filter, bad parameters and limits, security headers, the Host
// check, the access token, assets with gzip / ETag. TAP output.
import { join } from 'node:path';
import { OUT, dataset, done, eq, getJSON, ok, request, requireTool, serve, stop } from './lib.mjs';

const { file, config, expect: X } = dataset();
const srv = await serve([file, '--config', config, '--no-open', '--listen', '127.0.0.1:0', '--quiet']);
const base = srv.url.replace(/\/$/, '');
const api = (path) => getJSON(base + path);
const enc = encodeURIComponent;

// ---- /api/meta ----
{
  const r = await api('/api/meta');
  eq(r.status, 200, 'meta: 200');
  eq(r.json.rows, X.rows, 'meta: rows');
  eq(r.json.max_sent, X.max_sent, 'meta: max_sent');
  eq(r.json.max_recv, X.max_recv, 'meta: max_recv');
  eq(r.json.ts_min, '2022-11-04T00:00:00Z', 'meta: ts_min');
  eq(r.json.template.site, 'ACME corp — incident 4711', 'meta: template from the config');
  eq(r.json.legend.map((l) => `${l.shape}/${l.color}`), ['circle/blue', 'circle/green', 'square/blue', 'square/green', 'diamond/green', 'triangle/green'], 'meta: the six-symbol legend');
  ok(r.json.columns.some((c) => c.name === 'message' && c.kind === 'string'), 'meta: extra column listed', r.json.columns);
  eq(r.json.default_columns, ['ts', 'src_ip', 'dst_ip', 'dst_port', 'bytes_sent', 'bytes_recv', 'action', 'message'], 'meta: default columns = config targeted_cols');
  ok(/application\/json/.test(r.headers['content-type']), 'meta: JSON content type');
  eq(r.headers['cache-control'], 'no-store', 'meta: not cached');
}

// ---- /api/flows ----
{
  let r = await api('/api/flows');
  eq([r.status, r.json.total, r.json.rows.length, r.json.offset, r.json.limit], [200, X.rows, 50, 0, 50], 'flows: default page of 50 with the total');
  const ts = r.json.rows.map((x) => x.ts);
  ok(ts.every((t, i) => i === 0 || ts[i - 1] <= t), 'flows: default order is ts ascending');
  eq(Object.keys(r.json.rows[0]), r.json.columns, 'flows: rows keyed by the listed columns');

  r = await api('/api/flows?sort=bytes_sent&order=desc&limit=3');
  eq([r.json.rows[0].bytes_sent, r.json.rows[0].src_ip, r.json.rows[0].dst_ip], [987654321, '10.2.1.21', '203.0.113.66'], 'flows: sort bytes_sent desc puts the big upload first');
  ok(r.json.rows[1].bytes_sent >= r.json.rows[2].bytes_sent, 'flows: descending');
  r = await api('/api/flows?sort=bytes&order=asc&limit=5');
  const b = r.json.rows.map((x) => x.bytes_sent + x.bytes_recv);
  ok(r.status === 200 && b.every((v, i) => i === 0 || b[i - 1] <= v), 'flows: sort by bytes (sent + recv)', b);
  r = await api('/api/flows?sort=dst_ip&order=asc&limit=1000');
  eq([r.status, r.json.rows.length], [200, 1000], 'flows: page size 1000 allowed');

  r = await api(`/api/flows?offset=${X.rows - 8}&limit=10`);
  eq([r.json.total, r.json.rows.length], [X.rows, 8], 'flows: last page is short');
  r = await api(`/api/flows?offset=${X.rows + 100}&limit=10`);
  eq([r.status, r.json.total, r.json.rows.length], [200, X.rows, 0], 'flows: offset past the end: no rows, same total');
  const p1 = await api('/api/flows?limit=20&offset=0');
  const p2 = await api('/api/flows?limit=10&offset=10');
  eq(p2.json.rows, p1.json.rows.slice(10), 'flows: pages are consistent');

  r = await api(`/api/flows?q=${enc('ip = 10.2.1.21')}`);
  eq(r.json.total, X.flows_10_2_1_21, 'flows: q expression (ip =)');
  r = await api(`/api/flows?q=${enc('dport = 443')}&limit=1`);
  eq(r.json.total, X.dport_443, 'flows: q expression (dport =)');
  r = await api(`/api/flows?q=${enc('ip = 10.2.1.21')}&sent_min=1M`);
  eq(r.json.total, 1, 'flows: q and sent_min with a unit');
  r = await api('/api/flows?sent_min=987654321&sent_max=987654321');
  eq(r.json.total, 1, 'flows: exact sent range');
  r = await api('/api/flows?recv_max=0&limit=1000');
  ok(r.status === 200 && r.json.rows.every((x) => x.bytes_recv === 0), 'flows: recv_max=0');
  r = await api('/api/flows?from=2022-11-05&to=2022-11-05&limit=1000&columns=ts');
  ok(r.json.total > 0 && r.json.total < X.rows && r.json.rows.every((x) => x.ts.startsWith('2022-11-05')), 'flows: from/to dates (to includes the whole day)', r.json.total);
  eq(r.json.columns, ['ts'], 'flows: columns parameter');
  const a = await api('/api/flows?to=2022-11-05&limit=1');
  const c = await api('/api/flows?from=2022-11-05T00:00:00Z&limit=1');
  eq(a.json.total + c.json.total - r.json.total, X.rows, 'flows: time ranges add up');
  r = await api(`/api/flows?q=${enc('src = 192.168.1.66')}`);
  eq([r.json.total, r.json.rows[0].action, r.json.rows[0].message], [1, X.xss_action, '<script>alert(2)</script>&amp;"quoted"'], 'flows: attacker strings come back verbatim as JSON strings');
  ok(!r.body.toString('utf8').includes('<img'), 'flows: < and > escaped in the JSON text');
}

// ---- /api/top ----
{
  let r = await api('/api/top?key=dst&by=sent&limit=1');
  eq([r.status, r.json.rows.length, r.json.rows[0].dst], [200, 1, '203.0.113.66'], 'top: destinations by bytes sent');
  ok(r.json.rows[0].sent >= 987654321, 'top: the upload dominates');
  r = await api(`/api/top?key=pair&by=flows&limit=1&q=${enc('src = 10.2.1.21')}`);
  eq([r.json.rows[0].src, r.json.rows[0].dst, r.json.rows[0].flows], ['10.2.1.21', '198.51.100.7', X.hub_peer_flows], 'top: pairs by flows');
  r = await api('/api/top?key=dport&by=flows&limit=1000');
  eq(r.json.rows.reduce((s, x) => s + x.flows, 0), X.rows, 'top: port groups cover every flow');
  eq(r.json.groups, r.json.rows.length, 'top: groups count');
  r = await api('/api/top?key=src&by=peers&limit=5');
  ok(r.status === 200 && r.json.rows.length === 5 && r.json.rows[0].peers >= r.json.rows[4].peers, 'top: by peers');
}

// ---- /api/histogram ----
{
  let r = await api('/api/histogram?bucket=1h');
  eq([r.status, r.json.bucket_us], [200, 3600e6], 'histogram: 1h buckets');
  eq(r.json.rows.reduce((s, x) => s + x.flows, 0), X.rows, 'histogram: flows add up to the total');
  ok(r.json.rows.length >= 47 && r.json.rows.length <= 48, 'histogram: two days of hours', r.json.rows.length);
  r = await api('/api/histogram');
  ok(r.status === 200 && r.json.rows.length > 0 && r.json.rows.length <= 300, 'histogram: auto bucket');
  r = await api(`/api/histogram?bucket=1d&q=${enc('src = 10.2.1.21 and dst = 203.0.113.66')}`);
  eq([r.json.rows.length, r.json.rows[0].egress], [1, 987654321], 'histogram: egress of the upload');
}

// ---- /api/graph ----
{
  let r = await api('/api/graph?ips=10.2.1.21');
  eq(r.status, 200, 'graph: 200');
  const node = (ip) => r.json.nodes.find((n) => n.ip === ip) || {};
  eq([node('10.2.1.21').filtered, node('10.2.1.21').internal], [true, true], 'graph: the typed IP is filtered and internal');
  eq([node('198.51.100.7').connections, node('198.51.100.7').internal], [40, false], 'graph: external peer with its connections');
  eq([node('172.16.5.5').role, node('10.0.0.25').role], ['orders-db', 'mail-gw'], 'graph: roles from known_servers');
  eq(r.json.nodes.length, 5, 'graph: one hop');
  const e = r.json.edges.find((x) => x.src === '10.2.1.21' && x.dst === '198.51.100.7') || {};
  eq(e.flows, 40, 'graph: directed edge with its flows');
  eq(r.json.cut, 0, 'graph: nothing cut');
  r = await api('/api/graph?ips=10.2.1.21&max_nodes=2');
  eq([r.json.nodes.length, r.json.cut], [2, 3], 'graph: node cap reports what was cut');
  r = await api('/api/graph?ips=10.2.1.21,198.51.100.7&hops=2&max_nodes=2000');
  ok(r.status === 200 && r.json.nodes.length > 5, 'graph: two hops, two seeds');
  r = await api('/api/graph?ips=10.2.0.0/16');
  ok(r.status === 200 && r.json.nodes.some((n) => n.ip === '10.2.1.21' && n.filtered), 'graph: CIDR seed');
}

// ---- /api/findings ----
{
  let r = await api('/api/findings?limit=20');
  eq(r.status, 200, 'findings: 200');
  ok(Array.isArray(r.json.findings) && Array.isArray(r.json.hosts), 'findings: {findings, hosts}');
  ok(r.json.findings.length <= 20, 'findings: limit honoured');
  const keys = ['kind', 'score', 'host', 'peers', 'start', 'end', 'bytes_out', 'flows', 'evidence', 'explanation', 'filter'];
  ok(r.json.findings.every((f) => keys.every((k) => k in f)), 'findings: every finding has the contract keys');
  let sorted = true;
  for (let i = 1; i < r.json.findings.length; i++) if (r.json.findings[i].score > r.json.findings[i - 1].score) sorted = false;
  ok(sorted, 'findings: ranked by score');
  ok(r.json.findings.length > 0, 'findings: the served data has findings');
  for (const f of r.json.findings.slice(0, 3)) {
    const rows = await api(`/api/flows?limit=1&q=${enc(f.filter)}`);
    eq(rows.json.total, f.flows, `findings: the filter of ${f.kind} ${f.host} reproduces its flow count`);
  }
  r = await api(`/api/findings?q=${enc('srcip = 1')}`);
  ok(r.status === 400 && /did you mean 'src'/.test(r.json.error), 'findings: bad q is a 400 with a suggestion');
  r = await api('/api/findings?bogus=1');
  eq(r.status, 400, 'findings: unknown parameter is a 400');
  r = await api('/api/meta');
  eq(r.json.findings, true, 'meta: findings available');
}

// ---- /api/export ----
{
  let r = await request(`${base}/api/export?format=csv&q=${enc('ip = 10.2.1.21')}`);
  const lines = r.body.toString('utf8').trimEnd().split('\n');
  eq([r.status, lines.length], [200, X.flows_10_2_1_21 + 1], 'export csv: header plus every matching row');
  ok(/attachment/.test(r.headers['content-disposition'] || ''), 'export csv: a download');
  ok(/text\/csv/.test(r.headers['content-type']), 'export csv: content type');
  ok(lines[0].startsWith('ts,src_ip,dst_ip'), 'export csv: header names the columns', lines[0]);
  r = await request(`${base}/api/export?format=jsonl`);
  const rows = r.body.toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
  eq(rows.length, X.rows, 'export jsonl: every row when unfiltered');
  ok(rows.every((x, i) => i === 0 || rows[i - 1].ts <= x.ts), 'export jsonl: in time order');
  ok(rows.some((x) => x.action === X.xss_action), 'export jsonl: strings verbatim');
  r = await request(`${base}/api/export?format=parquet&q=${enc('ip = 10.2.1.21')}`);
  ok(r.status === 200 && r.body.subarray(0, 4).toString() === 'PAR1' && r.body.subarray(-4).toString() === 'PAR1', 'export parquet: a Parquet file', [r.status, r.body.length]);
  {
    const { writeFileSync } = await import('node:fs');
    const pq = join(OUT, 'export.parquet');
    writeFileSync(pq, r.body);
    const { DuckDBInstance } = requireTool('@duckdb/node-api');
    const db = await DuckDBInstance.create(':memory:');
    const con = await db.connect();
    const rows = (await con.runAndReadAll(`select count(*)::INT n, max(bytes_sent)::BIGINT m, any_value(typeof(ts)) tt, sum(case when dst_ip = '198.51.100.7' then 1 else 0 end)::INT hub from read_parquet('${pq}')`)).getRowObjectsJson();
    eq(rows[0], { n: X.flows_10_2_1_21, m: '987654321', tt: 'TIMESTAMP WITH TIME ZONE', hub: X.hub_peer_flows }, 'export parquet: DuckDB reads the filtered rows with canonical types');
  }
  r = await request(`${base}/api/export?format=csv&q=${enc('dport = 1')}`);
  eq(r.body.toString('utf8').trimEnd().split('\n').length, 1, 'export csv: header only when nothing matches');
}

// ---- bad parameters → 400 {"error": "..."} ----
const bad = [
  ['/api/flows?limit=0', /limit/],
  ['/api/flows?limit=1001', /limit/],
  ['/api/flows?order=up', /order/],
  ['/api/flows?sort=nope', /sort/],
  ['/api/flows?srot=ts', /unknown parameter 'srot'/],
  ['/api/flows?from=soon', /from/],
  ['/api/flows?sent_min=lots', /sent_min/],
  ['/api/flows?sent_min=10&sent_max=5', /sent_min/],
  ['/api/flows?from=2022-11-05&to=2022-11-04', /before/],
  [`/api/flows?q=${enc('bogusfield = 1')}`, /bogusfield.*1:1/],
  [`/api/flows?q=${enc('dport = = 3')}`, /./],
  ['/api/flows?limit=1&limit=2', /twice/],
  ['/api/flows?q=%zz', /percent/],
  ['/api/top?key=nope', /nope/],
  ['/api/top?by=nope', /by/],
  ['/api/histogram?bucket=7m', /bucket/],
  ['/api/graph', /ips/],
  ['/api/graph?ips=not-an-ip', /not-an-ip|invalid/],
  ['/api/graph?ips=10.2.1.21&max_nodes=5000', /max_nodes/],
  ['/api/graph?ips=10.2.1.21&hops=3', /hops/],
  ['/api/export?format=xml', /format/],
  [`/api/flows?q=${'a'.repeat(4097)}`, /longer than/],
];
for (const [path, re] of bad) {
  const r = await api(path);
  ok(r.status === 400 && r.json && typeof r.json.error === 'string' && re.test(r.json.error), `400 for ${path.slice(0, 60)}`, [r.status, r.json]);
}
{
  const r = await api('/api/nope');
  ok(r.status === 404 && r.json && r.json.error, '404 JSON for an unknown endpoint');
  const p = await request(base + '/api/flows', { method: 'POST' });
  eq([p.status, p.headers.allow], [405, 'GET, HEAD'], '405 for POST');
  const long = await request(`${base}/api/flows?q=${'x'.repeat(17000)}`);
  ok(long.status === 414 || long.status === 413 || long.status === 431, 'oversized request URI refused', long.status);
  const nf = await request(base + '/etc/passwd');
  eq(nf.status, 404, 'only embedded assets are served');
  const trav = await request(base + '/assets/../../etc/passwd');
  ok(trav.status === 404 || trav.status === 400, 'no path traversal', trav.status);
}

// ---- security headers, Host check ----
{
  const r = await request(base + '/');
  eq(r.status, 200, 'page: 200');
  const csp = r.headers['content-security-policy'] || '';
  ok(/script-src 'self'/.test(csp) && !/unsafe-inline|unsafe-eval/.test(csp) && /frame-ancestors 'none'/.test(csp), 'page: CSP without inline script, no framing', csp);
  eq(r.headers['x-content-type-options'], 'nosniff', 'page: nosniff');
  ok(!/<script>/.test(r.body.toString()), 'page: no inline script');
  const port = new URL(base).port;
  const evil = await request(base + '/api/meta', { headers: { Host: `evil.example:${port}` } });
  eq(evil.status, 403, 'Host check: a rebinding name is refused');
  const evil2 = await request(base + '/', { headers: { Host: `localhost.evil.example:${port}` } });
  eq(evil2.status, 403, 'Host check: look-alike name refused');
  const good = await request(base + '/api/meta', { headers: { Host: `localhost:${port}` } });
  eq(good.status, 200, 'Host check: localhost accepted');
}

// ---- assets: gzip, ETag, cache ----
{
  const page = (await request(base + '/')).body.toString();
  const js = /src="(\/assets\/app-[^"]+\.js)"/.exec(page)[1];
  const plain = await request(base + js);
  const gz = await request(base + js, { headers: { 'Accept-Encoding': 'gzip, deflate' } });
  ok(gz.headers['content-encoding'] === 'gzip' && gz.body.length < plain.body.length / 2, 'assets: gzip variant when accepted', [gz.headers['content-encoding'], gz.body.length, plain.body.length]);
  ok(!plain.headers['content-encoding'], 'assets: identity otherwise');
  ok(/immutable/.test(plain.headers['cache-control']), 'assets: hashed bundle cached for good');
  const nm = await request(base + js, { headers: { 'If-None-Match': plain.headers.etag } });
  eq([nm.status, nm.body.length], [304, 0], 'assets: If-None-Match → 304');
  const idx = await request(base + '/');
  eq(idx.headers['cache-control'], 'no-cache', 'assets: the page revalidates');
}

// ---- slow clients do not block others ----
{
  const net = await import('node:net');
  const port = new URL(base).port;
  const stalled = [];
  for (let i = 0; i < 16; i++) {
    const sock = net.connect(Number(port), '127.0.0.1');
    sock.on('error', () => {});
    sock.write(`GET /api/meta HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `); // never finished
    stalled.push(sock);
  }
  await new Promise((r) => setTimeout(r, 200));
  const rs = await Promise.all(Array.from({ length: 8 }, () => api('/api/meta')));
  ok(rs.every((r) => r.status === 200), 'slow clients: 16 half-sent requests do not block others');
  for (const sock of stalled) sock.destroy();
}

// ---- concurrent requests are served side by side ----
{
  const rs = await Promise.all(Array.from({ length: 24 }, (_, i) => api(`/api/flows?limit=5&offset=${i * 5}`)));
  ok(rs.every((r) => r.status === 200 && r.json.rows.length === 5), 'concurrency: 24 parallel requests all answered');
}
eq(await stop(srv.proc), 0, 'serve exits 0 on SIGTERM');

// ---- access token ----
{
  const t = 'e2e-token-123456';
  const s = await serve([file, '--config', config, '--no-open', '--listen', '127.0.0.1:0', '--token', t, '--quiet']);
  ok(s.url.endsWith(`/?token=${t}`), 'token: printed URL carries it', s.url);
  const b = s.url.replace(/\/\?token=.*$/, '');
  let r = await request(b + '/api/meta');
  eq(r.status, 401, 'token: refused without it');
  r = await request(b + '/');
  eq(r.status, 401, 'token: page refused without it');
  r = await request(`${b}/api/meta?token=wrong-token-000`);
  eq(r.status, 401, 'token: wrong token refused');
  r = await request(`${b}/?token=${t}`);
  const cookie = (r.headers['set-cookie'] || [''])[0];
  ok(r.status === 200 && cookie.startsWith(`datamate_token=${t}`) && /HttpOnly/.test(cookie) && /SameSite=Strict/.test(cookie), 'token: accepted in the URL, kept in a cookie', cookie);
  r = await request(b + '/api/meta', { headers: { Cookie: `datamate_token=${t}` } });
  eq(r.status, 200, 'token: cookie accepted');
  r = await request(b + '/api/meta', { headers: { Authorization: `Bearer ${t}` } });
  eq(r.status, 200, 'token: bearer header accepted');
  await stop(s.proc);
  const w = await serve([file, '--config', config, '--no-open', '--listen', '0.0.0.0:0', '--quiet']);
  const m = /\?token=([0-9a-f]+)$/.exec(w.url);
  ok(m && m[1].length === 48, 'token: generated for a non-loopback listen', w.url);
  const port = new URL(w.url).port;
  r = await request(`http://127.0.0.1:${port}/api/meta`);
  eq(r.status, 401, 'token: non-loopback server refuses requests without it');
  r = await request(`http://127.0.0.1:${port}/api/meta?token=${m ? m[1] : ''}`);
  eq(r.status, 200, 'token: and accepts the generated one');
  await stop(w.proc);
}

// ---- the earlier tool's command line ----
{
  const s = await serve(['--config', config, '--datafile', file, '--no-open', '--listen', '127.0.0.1:0', '--quiet']);
  const r = await getJSON(s.url.replace(/\/$/, '') + '/api/meta');
  eq([r.status, r.json.rows, r.json.template.site], [200, X.rows, 'ACME corp — incident 4711'], '--config FILE --datafile FILE serves the data');
  await stop(s.proc);
}

process.exit(done() ? 1 : 0);
