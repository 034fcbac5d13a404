#!/usr/bin/env node
// Reads every parquet-testing file with `datamate inspect` and compares with DuckDB's reading
// (tests/interop/golden, made by make-golden.mjs), with the _expect.csv files, and checks
// that bad_data/ and nested_negative/ files are refused cleanly (exit 1, message naming the
// file) without crashing. TAP output.
'use strict';
const fs = require('fs');
const path = require('path');
const { setBin, run, readRows, diffRows } = require('./pqcompare.js');

const root = process.env.DM_ROOT || path.resolve(__dirname, '..', '..');
const bin = process.env.DM_BIN || path.join(root, 'build', 'datamate');
const shared = process.env.DM_SHARED || path.join(root, '..', 'shared');
const pt = path.join(shared, 'testdata', 'parquet-testing');
const goldenDir = path.join(root, 'tests', 'interop', 'golden');
setBin(bin);

let n = 0;
let failed = 0;
function ok(cond, name, diag) {
  n++;
  if (cond) console.log(`ok ${n} - ${name}`);
  else {
    failed++;
    console.log(`not ok ${n} - ${name}`);
    if (diag) console.log('# ' + String(diag).split('\n').join('\n# '));
  }
}


function compareGolden(label, file, goldenFile, allowRefusal) {
  const lines = fs.readFileSync(goldenFile, 'utf8').split('\n').filter((l) => l.length);
  const head = JSON.parse(lines[0]);
  const gold = lines.slice(1).map((l) => JSON.parse(l));
  const got = readRows(file, gold.length);
  if (got.err) {
    ok(allowRefusal && /datamate: .*\.parquet: /.test(got.err), `${label}: read`, got.err);
    return;
  }
  const diff = diffRows(head.columns, got.rows, gold);
  ok(!diff, `${label}: values equal DuckDB's (${gold.length} rows)`, diff);
  const meta = run(['inspect', '--json', file]);
  let nr = null;
  try { nr = JSON.parse(meta.stdout).num_rows; } catch (e) { /* reported below */ }
  ok(meta.status === 0 && nr === head.num_rows, `${label}: num_rows ${head.num_rows}`, meta.stderr || `got ${nr}`);
  if (head.num_rows > gold.length) {
    const all = run(['inspect', '--rows', String(head.num_rows + 1), '--json', file]);
    const cnt = all.stdout.split('\n').filter((l) => l.length).length;
    ok(all.status === 0 && cnt === head.num_rows, `${label}: all ${head.num_rows} rows read`, all.stderr || `got ${cnt}`);
  }
}

const dataDir = path.join(pt, 'data');
// Files we may refuse with a clean error (parquet-testing README: implementations differ).
const mayRefuse = new Set(['nation.dict-malformed.parquet']);
for (const g of fs.readdirSync(goldenDir).filter((f) => f.endsWith('.jsonl')).sort()) {
  const f = g.replace(/\.jsonl$/, '.parquet');
  compareGolden(f, path.join(dataDir, f), path.join(goldenDir, g), mayRefuse.has(f));
}
// LZ4 (Hadoop framing, and raw-block fallback) hold the same data as the LZ4_RAW files,
// which DuckDB reads.
compareGolden('hadoop_lz4_compressed.parquet vs lz4_raw', path.join(dataDir, 'hadoop_lz4_compressed.parquet'), path.join(goldenDir, 'lz4_raw_compressed.jsonl'), false);
compareGolden('non_hadoop_lz4_compressed.parquet vs lz4_raw', path.join(dataDir, 'non_hadoop_lz4_compressed.parquet'), path.join(goldenDir, 'lz4_raw_compressed.jsonl'), false);
compareGolden('hadoop_lz4_compressed_larger.parquet vs lz4_raw', path.join(dataDir, 'hadoop_lz4_compressed_larger.parquet'), path.join(goldenDir, 'lz4_raw_compressed_larger.jsonl'), false);

// byte_stream_split_extended: every BYTE_STREAM_SPLIT column equals its PLAIN twin.
{
  const got = readRows(path.join(dataDir, 'byte_stream_split_extended.gzip.parquet'), 1000000);
  let diff = got.err || null;
  let pairs = 0;
  if (!diff) {
    const names = got.rows[0].map((kv) => kv[0]);
    for (let c = 0; c < names.length && !diff; c++) {
      if (!names[c].endsWith('_plain')) continue;
      const twin = names.indexOf(names[c].replace(/_plain$/, '_byte_stream_split'));
      if (twin < 0) { diff = `no twin for ${names[c]}`; break; }
      pairs++;
      for (let r = 0; r < got.rows.length; r++)
        if (JSON.stringify(got.rows[r][c][1]) !== JSON.stringify(got.rows[r][twin][1])) {
          diff = `row ${r}: ${names[c]} ${JSON.stringify(got.rows[r][c][1])} vs ${JSON.stringify(got.rows[r][twin][1])}`;
          break;
        }
    }
  }
  ok(!diff && pairs >= 6, `byte_stream_split_extended: ${pairs} BYTE_STREAM_SPLIT columns equal their PLAIN twins`, diff);
}

// _expect.csv files.
for (const csv of fs.readdirSync(dataDir).filter((f) => f.endsWith('_expect.csv')).sort()) {
  const f = csv.replace(/_expect\.csv$/, '.parquet');
  const lines = fs.readFileSync(path.join(dataDir, csv), 'utf8').split('\n').filter((l) => l.length);
  // fields: "quoted" (no embedded quotes in these files) or bare; bare empty = NULL
  const split = (l) => {
    const out = [];
    let i = 0;
    for (;;) {
      if (l[i] === '"') {
        let j = i + 1, v = '';
        for (;;) {
          if (l[j] === '"' && l[j + 1] === '"') { v += '"'; j += 2; } else if (l[j] === '"') break; else v += l[j++];
        }
        out.push(v);
        i = j + 1;
      } else {
        let j = l.indexOf(',', i);
        if (j < 0) j = l.length;
        out.push(i === j ? null : l.slice(i, j));
        i = j;
      }
      if (l[i] !== ',') break;
      i++;
    }
    return out;
  };
  const norm = (x) => x.replace(/[^A-Za-z0-9_]/g, '');
  const names = split(lines[0]).map(norm);
  const got = readRows(path.join(dataDir, f), lines.length);
  let diff = got.err || null;
  if (!diff && got.rows.length !== lines.length - 1) diff = `ours ${got.rows.length} rows, csv ${lines.length - 1}`;
  for (let r = 1; !diff && r < lines.length; r++) {
    const vals = split(lines[r]);
    const row = got.rows[r - 1];
    for (let c = 0; c < names.length; c++) {
      const v = row[c][1];
      const text = v === null ? null : v.s !== undefined ? v.s : v.t;
      if (norm(row[c][0]) !== names[c] || text !== vals[c]) {
        diff = `row ${r - 1} column ${names[c]}: ours ${JSON.stringify(text)} csv ${JSON.stringify(vals[c])}`;
        break;
      }
    }
  }
  ok(!diff, `${f}: values equal ${csv}`, diff);
}

// Refused cleanly: nested files, encrypted/bad files. ARROW-GH-43605 is read (every index 0).
const refuse = [
  ['nested_negative', 'list_columns.parquet'],
  ['nested_negative', 'nulls.snappy.parquet'],
  ['nested_negative', 'repeated_primitive_no_list.parquet'],
  ['bad_data', 'ARROW-GH-47662.parquet'],
  ['bad_data', 'ARROW-RS-GH-6229-DICTHEADER.parquet'],
  ['bad_data', 'PARQUET-1481.parquet'],
  ['data', 'datapage_v2.snappy.parquet'],
];
for (const [dir, f] of refuse) {
  const r = run(['inspect', '--rows', '1000000', '--json', path.join(pt, dir, f)]);
  ok(r.status === 1 && r.stderr.includes(f) && !r.signal, `${dir}/${f}: refused with an error naming the file`, `exit ${r.status} ${r.signal || ''} ${r.stderr}`);
}
{
  const r = run(['inspect', '--rows', '1000000', '--json', path.join(pt, 'bad_data', 'ARROW-GH-43605.parquet')]);
  const rows = r.stdout.split('\n').filter((l) => l.length);
  const bad = rows.find((l) => l !== '{"min_fl":0}');
  ok(r.status === 0 && !bad && rows.length > 0, `bad_data/ARROW-GH-43605.parquet: read, every value 0 (${rows.length} rows)`, r.stderr || bad);
}
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
