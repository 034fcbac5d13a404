// Checks every case written by pq_write_cases in DIR with DuckDB: column types, every value
// (row order kept), per-row-group statistics (min/max in the type's order, null_count),
// dictionary use, filter pushdown on unsigned columns, key-value metadata and created_by.
// Prints TAP. Usage: node pq_write.mjs DIR
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(root, 'tools', 'package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');

const dir = process.argv[2];
let n = 0, failed = 0;
function ok(cond, name, detail) {
  n++;
  if (cond) console.log(`ok ${n} - ${name}`);
  else {
    failed++;
    console.log(`not ok ${n} - ${name}`);
    if (detail !== undefined) console.log(`# ${String(detail).slice(0, 500).replace(/\n/g, '\n# ')}`);
  }
}

const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
const con = await inst.connect();
await con.run("SET TimeZone = 'UTC'");
async function rows(sql) { return (await con.runAndReadAll(sql)).getRowObjectsJson(); }
const q = (s) => `'${s.replace(/'/g, "''")}'`;
const ident = (s) => `"${s.replace(/"/g, '""')}"`;

function expr(c) {
  const id = ident(c.name);
  switch (c.kind) {
    case 'int': case 'uint': return `${id}::VARCHAR`;
    case 'ts_us': return `epoch_us(${id})::VARCHAR`;
    case 'ts_ms': return `epoch_ms(${id})::VARCHAR`;
    case 'blob': return `hex(${id})`;
    default: return id;
  }
}

function same(c, got, want) {
  if (want === null || got === null) return got === want;
  if (c.kind === 'double') return Number(got) === want || (Number.isNaN(Number(got)) && Number.isNaN(want));
  return String(got) === String(want);
}

// Orders values of one column as Parquet's TYPE_ORDER does.
function cmp(c, a, b) {
  if (c.kind === 'int' || c.kind === 'uint') { const x = BigInt(a), y = BigInt(b); return x < y ? -1 : x > y ? 1 : 0; }
  if (c.kind === 'double') return a - b;
  if (c.kind === 'bool') return (a ? 1 : 0) - (b ? 1 : 0);
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
function fmtStat(c, v) {
  if (c.kind === 'bool') return v ? 'true' : 'false';
  return String(v);
}

const cases = readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
ok(cases.length >= 10, `found ${cases.length} cases`);
for (const name of cases) {
  const file = join(dir, `${name}.parquet`);
  const meta = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
  const text = readFileSync(join(dir, `${name}.jsonl`), 'utf8');
  const expect = text ? text.trimEnd().split('\n').map((l) => JSON.parse(l)) : [];
  const cols = meta.columns;
  try {
    const desc = await rows(`DESCRIBE SELECT * FROM read_parquet(${q(file)})`);
    const types = desc.map((d) => d.column_type);
    ok(JSON.stringify(types) === JSON.stringify(cols.map((c) => c.duck)), `${name}: DuckDB types`,
       `got ${types.join(',')}`);

    const got = await rows(`SELECT ${cols.map((c, i) => `${expr(c)} AS c${i}`).join(', ')}
        FROM read_parquet(${q(file)}, file_row_number = true) ORDER BY file_row_number`);
    let bad = null;
    if (got.length !== meta.rows || expect.length !== meta.rows) bad = `rows ${got.length} vs ${meta.rows}`;
    for (let r = 0; !bad && r < got.length; r++)
      for (let i = 0; i < cols.length && !bad; i++)
        if (!same(cols[i], got[r][`c${i}`], expect[r][i]))
          bad = `row ${r} col ${cols[i].name}: got ${JSON.stringify(got[r][`c${i}`]).slice(0, 80)} want ${JSON.stringify(expect[r][i]).slice(0, 80)}`;
    ok(!bad, `${name}: ${meta.rows} rows x ${cols.length} columns read back identical`, bad);

    // Statistics and encodings per row group and column.
    const md = await rows(`SELECT row_group_id, row_group_num_rows, path_in_schema, encodings, compression,
        stats_min_value, stats_max_value, stats_null_count FROM parquet_metadata(${q(file)})
        ORDER BY row_group_id, column_id`);
    bad = null;
    const rg = meta.rg_rows;
    for (const m of md) {
      const g = Number(m.row_group_id), c = cols.find((x) => x.name === m.path_in_schema);
      const slice = expect.slice(g * rg, (g + 1) * rg).map((row) => row[cols.indexOf(c)]);
      if (Number(m.row_group_num_rows) !== slice.length) { bad = `rg ${g} rows ${m.row_group_num_rows}`; break; }
      const nulls = slice.filter((v) => v === null).length;
      if (Number(m.stats_null_count) !== nulls) { bad = `rg ${g} ${c.name} null_count ${m.stats_null_count} want ${nulls}`; break; }
      if (c.dict >= 0 && m.encodings.includes('RLE_DICTIONARY') !== (c.dict === 1)) { bad = `rg ${g} ${c.name} encodings ${m.encodings}`; break; }
      if (['ts_us', 'ts_ms', 'blob'].includes(c.kind)) continue;
      const vals = slice.filter((v) => v !== null);
      if (vals.length === 0 || (c.kind === 'string' && vals.some((v) => Buffer.byteLength(v) > 4096))) {
        if (m.stats_min_value !== null || m.stats_max_value !== null) { bad = `rg ${g} ${c.name} unexpected min/max`; break; }
        continue;
      }
      const sorted = [...vals].sort((a, b) => cmp(c, a, b));
      const mn = sorted[0], mx = sorted[sorted.length - 1];
      const okmin = c.kind === 'double' ? Number(m.stats_min_value) === mn : m.stats_min_value === fmtStat(c, mn);
      const okmax = c.kind === 'double' ? Number(m.stats_max_value) === mx : m.stats_max_value === fmtStat(c, mx);
      if (!okmin || !okmax) { bad = `rg ${g} ${c.name} min/max ${m.stats_min_value}/${m.stats_max_value} want ${mn}/${mx}`; break; }
    }
    ok(!bad, `${name}: statistics and encodings of ${md.length} column chunks`, bad);

    // Row-group pruning on unsigned columns must not lose rows.
    for (const c of cols.filter((x) => x.kind === 'uint')) {
      const vals = expect.map((row) => row[cols.indexOf(c)]).filter((v) => v !== null).map(BigInt).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      if (vals.length < 2) continue;
      const t = vals[Math.floor(vals.length / 2)];
      const want = vals.filter((v) => v > t).length;
      const [r] = await rows(`SELECT count(*) AS n FROM read_parquet(${q(file)}) WHERE ${ident(c.name)} > ${t}`);
      ok(Number(r.n) === want, `${name}: filter ${c.name} > ${t} (unsigned statistics)`, `got ${r.n} want ${want}`);
    }

    const kv = await rows(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${q(file)})`);
    const fm = await rows(`SELECT created_by, num_rows FROM parquet_file_metadata(${q(file)})`);
    ok(kv.some((e) => e.k === 'datamate.case' && e.v === name) &&
       /^datamate version \d+\.\d+\.\d+ \(build [^)]+\)$/.test(fm[0].created_by) &&
       Number(fm[0].num_rows) === meta.rows, `${name}: key-value metadata, created_by, num_rows`,
       JSON.stringify({ kv, fm }));
  } catch (e) {
    ok(false, `${name}: DuckDB reads the file`, e.message);
  }
}
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
