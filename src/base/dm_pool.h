/* One worker pool for the process.
 *
 * A job is `ntasks` independent calls fn(ctx, task, worker). dm_pool_for() runs a job and
 * returns when every task has finished; the calling thread works on it too, so a task may
 * itself call dm_pool_for() (nested jobs cannot deadlock). dm_pool_submit()/dm_pool_wait()
 * split that in two so a caller can overlap a job with its own work (the job struct is
 * caller storage and must stay alive until dm_pool_wait returns).
 * `worker` is in [0, dm_pool_size(pool)]: 0..n-1 are pool threads, n is "a caller thread";
 * use it to index per-thread scratch only for pool threads, or use task-indexed scratch.
 * A NULL pool runs everything on the calling thread. */
#ifndef DM_POOL_H
#define DM_POOL_H

#include <stdatomic.h>
#include <stddef.h>

struct dm_pool;

typedef void (*dm_pool_fn)(void *ctx, size_t task, unsigned worker);

struct dm_pool_job {
    dm_pool_fn fn;
    void *ctx;
    size_t ntasks;
    atomic_size_t next; /* next task to hand out */
    atomic_size_t done; /* tasks finished */
    struct dm_pool_job *qnext;
    int queued;
};

/* Starts nthreads workers (0 = number of online CPUs). Returns NULL on failure. */
struct dm_pool *dm_pool_new(unsigned nthreads);
/* Stops the workers and frees the pool (NULL-safe). Jobs must be finished. */
void dm_pool_free(struct dm_pool *pool);
/* Number of worker threads (1 for a NULL pool). */
unsigned dm_pool_size(const struct dm_pool *pool);
/* Runs fn for tasks 0..ntasks-1 in parallel and waits for all. */
void dm_pool_for(struct dm_pool *pool, size_t ntasks, dm_pool_fn fn, void *ctx);
/* Queues a job without waiting. */
void dm_pool_submit(struct dm_pool *pool, struct dm_pool_job *job, size_t ntasks, dm_pool_fn fn,
                    void *ctx);
/* Helps finish the job, then waits for the tasks other threads are running. */
void dm_pool_wait(struct dm_pool *pool, struct dm_pool_job *job);
/* Number of online CPUs (at least 1). */
unsigned dm_cpu_count(void);

#endif
