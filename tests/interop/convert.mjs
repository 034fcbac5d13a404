// Interop checks of `datamate convert` with DuckDB (see convert.t). Prints TAP.
// Usage: node convert.mjs WORKDIR
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(root, 'tools', 'package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');
const bin = process.env.DM_BIN || join(root, 'build', 'datamate');
const real = join(root, '..', 'shared', 'testdata', 'real');
const dir = process.argv[2];
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });

let n = 0;
function ok(cond, name, detail) {
  n++;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${name}`);
  if (!cond && detail !== undefined)
    console.log(`# ${String(detail).slice(0, 800).replace(/\n/g, '\n# ')}`);
}
function dm(args) {
  return execFileSync(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
const con = await inst.connect();
await con.run("SET TimeZone = 'UTC'");
const rows = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJson();
const q = (s) => `'${s.replace(/'/g, "''")}'`;
const COLS = 'epoch_us(ts)::VARCHAR AS ts, src_ip, dst_ip, src_port::VARCHAR AS src_port, ' +
  'dst_port::VARCHAR AS dst_port, proto::VARCHAR AS proto, bytes_sent::VARCHAR AS bytes_sent, ' +
  'bytes_recv::VARCHAR AS bytes_recv, packets::VARCHAR AS packets, action, ' +
  'duration_ms::VARCHAR AS duration_ms';
const NAMES = ['ts', 'src_ip', 'dst_ip', 'src_port', 'dst_port', 'proto', 'bytes_sent',
  'bytes_recv', 'packets', 'action', 'duration_ms'];
const str = (v) => (v === null || v === undefined ? null : String(v));

// RFC 5952 text of an IP, via the WHATWG URL serializer (IPv6) or as is (IPv4).
function canonIp(s) {
  if (!s.includes(':')) return s;
  const h = new URL(`http://[${s}]/`).hostname;
  const inner = h.slice(1, -1);
  const m = inner.match(/^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/);
  if (m) { // IPv4-mapped: printed as IPv4
    const a = parseInt(m[1], 16), b = parseInt(m[2], 16);
    return `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
  }
  return inner;
}
// ISO 8601 with optional fraction and zone -> µs since the epoch as a decimal string.
function isoUs(s) {
  const m = s.match(/^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$/);
  if (!m) throw new Error(`bad time ${s}`);
  let ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  if (m[8] && m[8] !== 'Z') {
    const z = m[8].replace(':', '');
    const off = (+z.slice(1, 3) * 60 + +z.slice(3, 5)) * 60000;
    ms += z[0] === '+' ? -off : off;
  }
  const frac = ((m[7] || '') + '000000').slice(0, 6);
  return (BigInt(ms) * 1000n + BigInt(frac)).toString();
}
const PROTO = { tcp: 6, udp: 17, icmp: 1 };

// Expected canonical row of one generated line, per schema.
const expect = {
  datamate(o) {
    return [isoUs(o['_@timestamp']), canonIp(o._SourceIP), canonIp(o._DestinationIP),
      o._SourcePort, o._DestinationPort, PROTO[o._Protocol], o._BytesSent, o._BytesReceived,
      null, o._Action.toLowerCase(), null];
  },
  ecs(o) {
    return [isoUs(o['@timestamp']), canonIp(o.source.ip), canonIp(o.destination.ip),
      o.source.port, o.destination.port, Number(o.network.iana_number), o.source.bytes,
      o.destination.bytes, o.network.packets, o.event.action.toLowerCase(),
      Math.round(o.event.duration / 1e6)];
  },
  zeek(o, line) {
    const m = line.match(/"ts":(\d+)(?:\.(\d+))?/);
    const ts = (BigInt(m[1]) * 1000000n + BigInt(((m[2] || '') + '000000').slice(0, 6))).toString();
    return [ts, canonIp(o['id.orig_h']), canonIp(o['id.resp_h']), o['id.orig_p'], o['id.resp_p'],
      PROTO[o.proto], o.orig_bytes, o.resp_bytes, o.orig_pkts + o.resp_pkts,
      o.conn_state.toLowerCase(), o.duration === undefined ? null : Math.round(o.duration * 1000)];
  },
  suricata(o) {
    const t0 = BigInt(isoUs(o.flow.start)), t1 = BigInt(isoUs(o.flow.end));
    return [t0.toString(), canonIp(o.src_ip), canonIp(o.dest_ip), o.src_port, o.dest_port,
      PROTO[o.proto.toLowerCase()], o.flow.bytes_toserver, o.flow.bytes_toclient,
      o.flow.pkts_toserver + o.flow.pkts_toclient, (o.flow.action || o.flow.state).toLowerCase(),
      ((t1 - t0) / 1000n).toString()];
  },
};

// ---- gen -> convert -> DuckDB, every schema, every row ----
for (const schema of Object.keys(expect)) {
  const src = join(dir, `gen-${schema}.jsonl`), out = join(dir, `gen-${schema}.parquet`);
  dm(['gen', '-q', '-o', src, '--rows', '30000', '--seed', '7', '--schema', schema]);
  dm(['convert', '-q', src, '-o', out, '--threads', '2']);
  const lines = readFileSync(src, 'utf8').split('\n').filter((l) => l.length);
  const got = await rows(`SELECT ${COLS} FROM read_parquet(${q(out)})`);
  let bad = 0, first = '';
  if (got.length !== lines.length) { bad = -1; first = `rows ${got.length} vs ${lines.length}`; }
  for (let i = 0; bad >= 0 && i < lines.length; i++) {
    const want = expect[schema](JSON.parse(lines[i]), lines[i]).map(str);
    const g = NAMES.map((k) => got[i][k]);
    for (let k = 0; k < NAMES.length; k++)
      if (want[k] !== g[k]) {
        if (!bad) first = `row ${i + 1} ${NAMES[k]}: got ${g[k]} want ${want[k]}\n${lines[i]}`;
        bad++;
        break;
      }
  }
  ok(bad === 0, `gen --schema ${schema}: ${lines.length} rows convert and read back equal in DuckDB`, first);
}

// ---- schema, logical types and metadata ----
const zeekOut = join(dir, 'zeek.parquet');
dm(['convert', '-q', join(real, 'elastic-integrations/zeek/test-conn.log'), '-o', zeekOut]);
const desc = await rows(`DESCRIBE SELECT * FROM read_parquet(${q(zeekOut)})`);
const types = Object.fromEntries(desc.map((r) => [r.column_name, r.column_type]));
ok(JSON.stringify(types) === JSON.stringify({
  ts: 'TIMESTAMP WITH TIME ZONE', src_ip: 'VARCHAR', dst_ip: 'VARCHAR', src_port: 'USMALLINT',
  dst_port: 'USMALLINT', proto: 'UTINYINT', bytes_sent: 'BIGINT', bytes_recv: 'BIGINT',
  packets: 'BIGINT', action: 'VARCHAR', duration_ms: 'BIGINT',
}), 'canonical column names and types', JSON.stringify(types));
const req = await rows(`SELECT name, repetition_type FROM parquet_schema(${q(zeekOut)}) WHERE name IN ('ts','src_ip','dst_ip','bytes_sent')`);
ok(req.map((r) => `${r.name}:${r.repetition_type}`).sort().join(',') ===
  'bytes_sent:OPTIONAL,dst_ip:REQUIRED,src_ip:REQUIRED,ts:REQUIRED', 'ts and IPs required, the rest optional',
  JSON.stringify(req));
const kv = Object.fromEntries((await rows(
  `SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${q(zeekOut)})`)).map((r) => [r.k, r.v]));
let mapping = null;
try { mapping = JSON.parse(kv['datamate.mapping']); } catch (e) { /* reported below */ }
ok(/^\d+\.\d+/.test(kv['datamate.version'] || '') && kv['datamate.source_format'] === 'jsonl' &&
  mapping && mapping.zeek && mapping.zeek.src_ip === 'id.orig_h' && mapping.zeek.action === 'conn_state',
  'key-value metadata: version, source format, field mapping', JSON.stringify(kv));
const st = await rows(`SELECT stats_min, stats_max FROM parquet_metadata(${q(zeekOut)}) WHERE path_in_schema = 'ts'`);
ok(st.length >= 1 && st[0].stats_min !== null && st[0].stats_max !== null, 'row groups carry ts min/max statistics', JSON.stringify(st));

// ---- exact values from real fixtures ----
const fixtures = [
  ['elastic-integrations/zeek/test-conn.log', 0,
    ['1547188415857497', '192.168.86.167', '192.168.86.1', '38339', '53', '17', '75', '178', '2', 'sf', '77']],
  ['slips/test2-malicious.binetflow', 'src_port = 8',
    ['1554394987963960', '10.8.0.69', '192.168.170.1', '8', '29192', '1', '72', '0', '1', 'eco', '0']],
  ['slips/derived/test1-malicious.nfdump.json', 0,
    ['1515771450942000', '147.32.80.119', '147.32.82.62', '52324', '902', '6', '60', null, '1', null, '0']],
  ['elastic-integrations/aws-vpcflow/test-extra-samples.log', 0,
    ['1477913708000000', '2001:db8:1234:a100:8d6e:3477:df66:f105', '2001:db8:1234:a102:3304:8879:34cf:4071',
      '34892', '22', '6', '8855', null, '54', 'accept', '112000']],
  ['slips/test6-malicious.suricata.json', 0, null],
];
for (const [rel, where, want] of fixtures) {
  const out = join(dir, 'fixture.parquet');
  dm(['convert', '-q', join(real, rel), '-o', out]);
  const sel = typeof where === 'string' ? `WHERE ${where}` : '';
  const r = await rows(`SELECT ${COLS} FROM read_parquet(${q(out)}) ${sel} LIMIT 1`);
  if (want) {
    const g = NAMES.map((k) => r[0][k]);
    ok(JSON.stringify(g) === JSON.stringify(want), `${rel}: values spot-checked`, JSON.stringify(g));
  } else {
    // Suricata: the first flow event of the source, parsed here.
    const line = readFileSync(join(real, rel), 'utf8').split('\n')
      .find((l) => l && JSON.parse(l).event_type === 'flow');
    const w = expect.suricata(JSON.parse(line)).map(str);
    const first = await rows(`SELECT ${COLS} FROM read_parquet(${q(out)}) LIMIT 1`);
    ok(JSON.stringify(NAMES.map((k) => first[0][k])) === JSON.stringify(w), `${rel}: first flow event equal`,
      JSON.stringify(first[0]));
  }
}

// ---- day partitions readable as a Hive dataset ----
const ds = join(dir, 'ds');
dm(['convert', '-q', join(real, 'slips/test6-malicious.suricata.json'), '-o', ds, '--partition', 'day']);
const part = await rows(`SELECT count(*)::INT AS n, count(*) FILTER (WHERE day::VARCHAR <> strftime(ts, '%Y-%m-%d'))::INT AS wrong
  FROM read_parquet(${q(ds + '/*/*.parquet')}, hive_partitioning = true)`);
ok(part[0].n === 3512 && part[0].wrong === 0, 'day partitions: every row in the directory of its UTC day', JSON.stringify(part));

console.log(`1..${n}`);
