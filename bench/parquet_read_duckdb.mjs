// DuckDB side of bench/parquet_read.bench. Usage: node parquet_read_duckdb.mjs DIR THREADS MODE
//   write: DIR/duckdb.parquet from DIR/datamate.parquet (DuckDB defaults)
//   read:  times CREATE TABLE AS SELECT * FROM read_parquet(f) for both files (best of 3)
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'tools', 'package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');

const [dir, threads, mode] = process.argv.slice(2);
const inst = await DuckDBInstance.create(':memory:', { threads: String(threads) });
const con = await inst.connect();
if (mode === 'write') {
  await con.run(`COPY (SELECT * FROM read_parquet('${join(dir, 'datamate.parquet')}')) TO '${join(dir, 'duckdb.parquet')}' (FORMAT parquet)`);
} else {
  for (const f of ['datamate', 'duckdb']) {
    const p = join(dir, `${f}.parquet`);
    let best = Infinity;
    let rows = 0;
    for (let k = 0; k < 3; k++) {
      await con.run('DROP TABLE IF EXISTS t');
      const t = performance.now();
      await con.run(`CREATE TABLE t AS SELECT * FROM read_parquet('${p}')`);
      best = Math.min(best, (performance.now() - t) / 1000);
      rows = Number((await con.runAndReadAll('SELECT count(*) AS n FROM t')).getRowObjectsJson()[0].n);
    }
    await con.run('DROP TABLE IF EXISTS t');
    console.error(`duckdb: read ${f} file, ${rows} rows, best of 3: ${best.toFixed(3)} s, ${threads} threads`);
    console.log(`result\tparquet read (${f} file)\tduckdb\t${(rows / best / 1e6).toFixed(2)}\tMrows/s`);
  }
}
