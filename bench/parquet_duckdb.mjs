// DuckDB side of bench/parquet.bench: loads DIR/source.parquet into an in-memory table,
// then times COPY ... TO parquet for each codec (same threads as datamate), and reading
// (CREATE TABLE AS SELECT * FROM read_parquet) of both tools' zstd files. Prints
// "result" lines for bench/run.sh. Usage: node parquet_duckdb.mjs DIR THREADS
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { statSync } from 'node:fs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'tools', 'package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');

const [dir, threads] = process.argv.slice(2);
const inst = await DuckDBInstance.create(':memory:', { threads: String(threads) });
const con = await inst.connect();
let t = performance.now();
await con.run(`CREATE TABLE flows AS SELECT * FROM read_parquet('${join(dir, 'source.parquet')}')`);
const rows = Number((await con.runAndReadAll('SELECT count(*) AS n FROM flows')).getRowObjectsJson()[0].n);
console.error(`duckdb: loaded ${rows} rows in ${((performance.now() - t) / 1000).toFixed(2)} s`);
for (const codec of ['zstd', 'snappy']) {
  const out = join(dir, `duckdb-${codec}.parquet`);
  t = performance.now();
  await con.run(`COPY flows TO '${out}' (FORMAT parquet, COMPRESSION ${codec})`);
  const s = (performance.now() - t) / 1000;
  console.error(`duckdb: write ${codec} ${s.toFixed(3)} s -> ${(statSync(out).size / 1e6).toFixed(1)} MB file, ${threads} threads`);
  console.log(`result\tparquet write ${codec}\tduckdb\t${(rows / s / 1e6).toFixed(2)}\tMrows/s`);
}
await con.run('DROP TABLE flows');
for (const f of ['datamate-zstd', 'duckdb-zstd']) {
  const file = join(dir, `${f}.parquet`);
  t = performance.now();
  await con.run(`CREATE TABLE r AS SELECT * FROM read_parquet('${file}')`);
  const s = (performance.now() - t) / 1000;
  await con.run('DROP TABLE r');
  console.error(`duckdb: read ${f} ${s.toFixed(3)} s`);
  console.log(`result\tparquet read ${f}\tduckdb\t${(rows / s / 1e6).toFixed(2)}\tMrows/s`);
}
