/* Parquet read benchmark driver: reads every column chunk of FILE (dictionary-aware, as the
 * engine's loader does) on a pool of THREADS workers, REPS times, and prints a
 * "result" line (Mrows/s) for bench/run.sh. Usage: pq_read_bench FILE THREADS [REPS] */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dm_alloc.h"
#include "dm_pool.h"
#include "dm_pq_reader.h"

struct job {
    const struct dm_pq_reader *r;
    size_t ncols;
    atomic_int failed;
    atomic_ullong checksum;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void task(void *ctx, size_t t, unsigned worker)
{
    (void)worker;
    struct job *j = ctx;
    struct dm_pq_chunk ch;
    struct dm_error err;
    if (dm_pq_read_chunk(j->r, t / j->ncols, t % j->ncols, DM_PQ_READ_DICT, &ch, &err)) {
        fprintf(stderr, "pq_read_bench: %s\n", err.msg);
        atomic_store(&j->failed, 1);
    } else {
        /* touch the result so the read cannot be skipped */
        unsigned long long x = ch.nrows + ch.ndict;
        if (ch.is_dict && ch.nrows)
            x += ch.idx[ch.nrows - 1];
        else if (ch.nrows && ch.values.type == DM_I64)
            x += (unsigned long long)ch.values.v.i64[ch.nrows - 1];
        atomic_fetch_add(&j->checksum, x);
    }
    dm_pq_chunk_release(&ch);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: pq_read_bench FILE THREADS [REPS]\n");
        return 2;
    }
    unsigned threads = (unsigned)strtoul(argv[2], NULL, 10);
    int reps = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 3;
    if (reps < 1)
        reps = 1;
    struct dm_pq_reader *r;
    struct dm_error err;
    if (dm_pq_reader_open(&r, argv[1], &err)) {
        fprintf(stderr, "pq_read_bench: %s\n", err.msg);
        return 1;
    }
    const struct dm_pq_meta *m = dm_pq_reader_meta(r);
    struct dm_pool *pool = dm_pool_new(threads);
    struct job j = {r, m->ncols, 0, 0};
    double best = 1e30;
    for (int k = 0; k < reps; k++) {
        double t0 = now();
        dm_pool_for(pool, m->nrow_groups * m->ncols, task, &j);
        double t = now() - t0;
        if (t < best)
            best = t;
    }
    fprintf(stderr, "pq_read_bench: %lld rows, %zu columns, %zu row groups, best of %d: %.3f s "
                    "with %u threads (checksum %llx)\n",
            (long long)m->num_rows, m->ncols, m->nrow_groups, reps, best, dm_pool_size(pool),
            (unsigned long long)atomic_load(&j.checksum));
    printf("result\tparquet read %s\tdatamate\t%.2f\tMrows/s\n", argc > 4 ? argv[4] : "",
           (double)m->num_rows / best / 1e6);
    dm_pool_free(pool);
    dm_pq_reader_free(r);
    return atomic_load(&j.failed);
}
