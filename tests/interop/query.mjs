// Runs `datamate query ... --format json` and the equivalent SQL on DuckDB over the same
// Parquet file and compares the results exactly. Prints TAP.
// Usage: node query.mjs DATAMATE FILE CONFIG (CONFIG: internal_networks 10/8 and 192.168/16)
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(root, 'tools', 'package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');
const [bin, file, config] = process.argv.slice(2);

let n = 0, failed = 0;
function ok(cond, name, detail) {
  n++;
  if (cond) console.log(`ok ${n} - ${name}`);
  else {
    failed++;
    console.log(`not ok ${n} - ${name}`);
    if (detail !== undefined) console.log(`# ${String(detail).slice(0, 800).replace(/\n/g, '\n# ')}`);
  }
}

const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
const con = await inst.connect();
await con.run("SET TimeZone = 'UTC'");
await con.run(`CREATE TABLE f AS SELECT * FROM read_parquet('${file.replace(/'/g, "''")}')`);
async function sql(q) { return (await con.runAndReadAll(q)).getRowObjectsJson(); }

function dm(...args) {
  const out = execFileSync(bin, ['query', file, '--config', config, '--quiet', '--format', 'json', ...args],
    { maxBuffer: 1 << 28 });
  return JSON.parse(out.toString());
}

// "2024-03-01T10:00:00.25Z" -> µs since the epoch (BigInt)
function isoUs(s) {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(s);
  if (!m) return null;
  const frac = ((m[2] || '') + '000000').slice(0, 6);
  return BigInt(Date.parse(m[1] + 'Z')) * 1000n + BigInt(frac);
}

const INTERNAL = (c) => `(${c} LIKE '10.%' OR ${c} LIKE '192.168.%')`;
const BYTES = `(coalesce(bytes_sent, 0) + coalesce(bytes_recv, 0))`;
const HASBYTES = `(bytes_sent IS NOT NULL OR bytes_recv IS NOT NULL)`;

// 1. counts with filters
const counts = [
  ['', 'true'],
  ['dport = 443 and sent > 10K', 'dst_port = 443 AND bytes_sent > 10000'],
  ['src 10.1.0.0/16', "src_ip LIKE '10.1.%'"],
  ['src internal and dst external', `${INTERNAL('src_ip')} AND NOT ${INTERNAL('dst_ip')}`],
  ['ts >= 2024-03-01T06:00 and ts < 2024-03-01T12:00 and action = deny',
    "ts >= TIMESTAMPTZ '2024-03-01 06:00:00+00' AND ts < TIMESTAMPTZ '2024-03-01 12:00:00+00' AND action = 'deny'"],
  ['dport in [22, 3389] or bytes > 1M', `dst_port IN (22, 3389) OR (${BYTES} > 1000000 AND ${HASBYTES})`],
  ['user = alice and not (dport = 80)', "\"user\" = 'alice' AND NOT coalesce(dst_port = 80, false)"],
  ['dport != 443', 'dst_port <> 443'],
  ['recv >= 1Mi', 'bytes_recv >= 1048576'],
  ['ip 2001:db8::/32', "src_ip LIKE '2001:db8:%' OR dst_ip LIKE '2001:db8:%'"],
  ['proto = udp and duration < 1m', 'proto = 17 AND duration_ms < 60000'],
];
for (const [where, cond] of counts) {
  const got = dm('--summary', ...(where ? ['--where', where] : [])).rows;
  const want = Number((await sql(`SELECT count(*) AS c FROM f WHERE ${cond}`))[0].c);
  ok(got === want, `count where "${where}" = ${want}`, `datamate ${got}`);
}

// 2. summary sums
{
  const s = dm('--summary', '--where', 'dport = 443');
  const [w] = await sql(`SELECT count(*) AS rows, sum(bytes_sent)::VARCHAR AS sent, sum(bytes_recv)::VARCHAR AS recv,
      max(bytes_sent)::VARCHAR AS max_sent, max(bytes_recv)::VARCHAR AS max_recv,
      epoch_us(min(ts))::VARCHAR AS first, epoch_us(max(ts))::VARCHAR AS last FROM f WHERE dst_port = 443`);
  const [d] = await sql(`SELECT count(DISTINCT ip) AS c FROM (SELECT src_ip AS ip FROM f WHERE dst_port = 443
      UNION ALL SELECT dst_ip FROM f WHERE dst_port = 443)`);
  ok(s.rows === Number(w.rows) && String(s.sent) === w.sent && String(s.recv) === w.recv &&
     String(s.max_sent) === w.max_sent && String(s.max_recv) === w.max_recv &&
     String(isoUs(s.first)) === w.first && String(isoUs(s.last)) === w.last &&
     s.distinct_ips === Number(d.c), 'summary sums, maxima, time range and distinct IPs',
     JSON.stringify([s, w, d]));
}

// 3. top-N: every group's metrics, and the order of the top 20
async function checkTop(key, cols, where, cond, by) {
  const got = dm('--top', key, '--by', by, '--limit', '0', ...(where ? ['--where', where] : []));
  const keyExpr = cols.join(', ');
  const peer = key === 'src' ? 'dst_ip' : 'src_ip';
  const peers = key === 'pair' ? '1' : `count(DISTINCT ${peer})`;
  const want = await sql(`SELECT ${cols.map((c) => `${c}::VARCHAR AS ${c}`).join(', ')}, count(*) AS flows,
      coalesce(sum(bytes_sent), 0)::VARCHAR AS sent, coalesce(sum(bytes_recv), 0)::VARCHAR AS recv,
      ${peers} AS peers FROM f WHERE ${cond} GROUP BY ${keyExpr}`);
  const k = (o, names) => names.map((c) => String(o[c] ?? 'null')).join('|');
  const names = key === 'pair' ? ['src', 'dst'] : [key];
  const wm = new Map(want.map((r) => [k(r, cols), r]));
  let bad = got.length !== want.length ? `groups ${got.length} vs ${want.length}` : '';
  for (const g of got) {
    const w = wm.get(k(g, names));
    if (!w || g.flows !== Number(w.flows) || String(g.sent) !== w.sent || String(g.recv) !== w.recv ||
        String(g.bytes) !== String(BigInt(w.sent) + BigInt(w.recv)) || g.peers !== Number(w.peers)) {
      bad = `group ${k(g, names)}: ${JSON.stringify(g)} vs ${JSON.stringify(w)}`;
      break;
    }
  }
  ok(!bad, `top ${key} by ${by}${where ? ` where "${where}"` : ''}: ${want.length} groups identical`, bad);
  const metric = (g) => BigInt(g[by]);
  let sorted = true;
  for (let i = 1; i < got.length; i++) if (metric(got[i - 1]) < metric(got[i])) sorted = false;
  const top20 = dm('--top', key, '--by', by, '--limit', '20', ...(where ? ['--where', where] : []));
  ok(sorted && JSON.stringify(top20) === JSON.stringify(got.slice(0, 20)), `top ${key} by ${by}: ranked, --limit 20 is the head`);
}
await checkTop('src', ['src_ip'], 'dst external', `NOT ${INTERNAL('dst_ip')}`, 'bytes');
await checkTop('dst', ['dst_ip'], 'dport = 443', 'dst_port = 443', 'flows');
await checkTop('pair', ['src_ip', 'dst_ip'], 'sent > 100K', 'bytes_sent > 100000', 'sent');
await checkTop('dport', ['dst_port'], '', 'true', 'flows');
await checkTop('action', ['action'], '', 'true', 'peers');
await checkTop('user', ['"user"'].map(() => 'user'), 'src internal', INTERNAL('src_ip'), 'recv');

// 4. histogram buckets
{
  const got = dm('--histogram', '1h', '--where', 'action = allow');
  const want = await sql(`SELECT epoch_us(time_bucket(INTERVAL 1 hour, ts))::VARCHAR AS b, count(*) AS flows,
      coalesce(sum(bytes_sent), 0)::VARCHAR AS sent, coalesce(sum(bytes_recv), 0)::VARCHAR AS recv,
      coalesce(sum(CASE WHEN ${INTERNAL('src_ip')} AND NOT ${INTERNAL('dst_ip')} THEN coalesce(bytes_sent, 0)
                        WHEN NOT ${INTERNAL('src_ip')} AND ${INTERNAL('dst_ip')} THEN coalesce(bytes_recv, 0)
                        ELSE 0 END), 0)::VARCHAR AS egress
      FROM f WHERE action = 'allow' GROUP BY 1 ORDER BY 1`);
  const nonEmpty = got.filter((b) => b.flows > 0);
  let bad = nonEmpty.length !== want.length ? `buckets ${nonEmpty.length} vs ${want.length}` : '';
  for (let i = 0; !bad && i < want.length; i++) {
    const g = nonEmpty[i], w = want[i];
    if (String(isoUs(g.ts)) !== w.b || g.flows !== Number(w.flows) || String(g.sent) !== w.sent ||
        String(g.recv) !== w.recv || String(g.egress) !== w.egress)
      bad = `bucket ${i}: ${JSON.stringify(g)} vs ${JSON.stringify(w)}`;
  }
  ok(!bad, `histogram 1h: ${want.length} buckets identical (flows, sent, recv, egress)`, bad);
  const g15 = dm('--histogram', '15m');
  const [w15] = await sql(`SELECT count(DISTINCT time_bucket(INTERVAL 15 minute, ts)) AS c FROM f`);
  ok(g15.filter((b) => b.flows > 0).length === Number(w15.c), '15m buckets with flows match');
}

// 5. a sorted page
{
  const got = dm('--where', 'dport = 443', '--sort', 'sent:desc', '--offset', '10', '--limit', '40',
    '--columns', 'ts,src_ip,dst_ip,bytes_sent');
  const want = await sql(`SELECT epoch_us(ts)::VARCHAR AS ts, src_ip, dst_ip, bytes_sent::VARCHAR AS s FROM f
      WHERE dst_port = 443 ORDER BY bytes_sent DESC NULLS LAST, ts LIMIT 40 OFFSET 10`);
  const same = got.length === want.length && got.every((g, i) => String(isoUs(g.ts)) === want[i].ts &&
    g.src_ip === want[i].src_ip && g.dst_ip === want[i].dst_ip && String(g.bytes_sent) === want[i].s);
  ok(same, 'page sorted by sent desc, offset 10 limit 40', JSON.stringify([got[0], want[0]]));
  const asc = dm('--where', 'src 10.2.0.0/16', '--limit', '25', '--offset', '100', '--columns', 'ts');
  const wasc = await sql(`SELECT epoch_us(ts)::VARCHAR AS ts FROM f WHERE src_ip LIKE '10.2.%' ORDER BY ts LIMIT 25 OFFSET 100`);
  ok(asc.length === 25 && asc.every((g, i) => String(isoUs(g.ts)) === wasc[i].ts), 'page in time order, offset 100');
}

// 6. graph edges around an address
{
  const [{ ip }] = await sql(`SELECT src_ip AS ip FROM f WHERE src_ip LIKE '10.%' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`);
  const g = dm('--graph', ip, '--max-nodes', '100000');
  const want = await sql(`SELECT src_ip, dst_ip, count(*) AS flows, sum(${BYTES})::VARCHAR AS bytes FROM f
      WHERE src_ip = '${ip}' OR dst_ip = '${ip}' GROUP BY 1, 2`);
  const wm = new Map(want.map((r) => [`${r.src_ip}>${r.dst_ip}`, r]));
  const bad = g.edges.length !== want.length ||
    g.edges.some((e) => { const w = wm.get(`${e.src}>${e.dst}`); return !w || e.flows !== Number(w.flows) || String(e.bytes) !== w.bytes; });
  ok(!bad && g.cut === 0 && g.nodes[0].ip === ip && g.nodes[0].filtered, `graph around ${ip}: ${want.length} edges identical`);
  const capped = dm('--graph', ip, '--max-nodes', '5');
  ok(capped.nodes.length === 5 && capped.cut === g.nodes.length - 5, 'graph node cap keeps 5 and reports the cut');
}

console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
