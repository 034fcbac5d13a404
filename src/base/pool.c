#include "dm_pool.h"

#include <pthread.h>
#include <unistd.h>

#include "dm_alloc.h"
#include "banned.h"

struct dm_pool {
    pthread_mutex_t mu;
    pthread_cond_t work;    /* signalled when a job is queued or on stop */
    pthread_cond_t finished; /* signalled when a task finishes */
    struct dm_pool_job *head, *tail;
    int stop;
    unsigned nthreads;
    pthread_t *threads;
};

struct worker_arg {
    struct dm_pool *pool;
    unsigned id;
};

unsigned dm_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

/* Runs task t (already claimed) and further tasks of job until none are left to hand out.
 * The next task is claimed before the current one is reported done, so the job (possibly on
 * its owner's stack) is never touched after this thread's last completion: the owner may
 * return as soon as done == ntasks. A thread may only touch a job while it holds a claimed,
 * unfinished task or the pool lock with the job still queued. */
static void job_run_from(struct dm_pool *pool, struct dm_pool_job *job, size_t t, unsigned worker)
{
    size_t ntasks = job->ntasks;
    while (t < ntasks) {
        job->fn(job->ctx, t, worker);
        size_t t2 = atomic_fetch_add(&job->next, 1);
        size_t d = atomic_fetch_add(&job->done, 1) + 1;
        if (d == ntasks && pool) {
            pthread_mutex_lock(&pool->mu);
            pthread_cond_broadcast(&pool->finished);
            pthread_mutex_unlock(&pool->mu);
        }
        t = t2;
    }
}

/* The owner's drain: the owner keeps its job alive, so it may claim without the lock. */
static void job_drain(struct dm_pool *pool, struct dm_pool_job *job, unsigned worker)
{
    job_run_from(pool, job, atomic_fetch_add(&job->next, 1), worker);
}

/* Removes job from the queue if it is there; caller holds the lock. The job is only
 * dereferenced when found in the queue (queued jobs are alive). */
static void queue_remove(struct dm_pool *pool, struct dm_pool_job *job)
{
    struct dm_pool_job **pp = &pool->head;
    struct dm_pool_job *prev = NULL;
    while (*pp && *pp != job) {
        prev = *pp;
        pp = &(*pp)->qnext;
    }
    if (!*pp)
        return;
    *pp = job->qnext;
    if (pool->tail == job)
        pool->tail = prev;
    job->queued = 0;
}

static void *worker_main(void *p)
{
    struct worker_arg *arg = p;
    struct dm_pool *pool = arg->pool;
    unsigned id = arg->id;
    dm_free(arg);
    pthread_mutex_lock(&pool->mu);
    for (;;) {
        while (!pool->stop && !pool->head)
            pthread_cond_wait(&pool->work, &pool->mu);
        if (pool->stop)
            break;
        /* Claim the first task under the lock: a queued job is alive, and once this thread
         * holds an unfinished task its owner cannot return (it waits for done == ntasks).
         * Dropping the lock before claiming let a worker touch a job whose owner had
         * already finished it and returned (a dead stack frame). */
        struct dm_pool_job *job = pool->head;
        size_t t = atomic_fetch_add(&job->next, 1);
        if (t >= job->ntasks) {
            queue_remove(pool, job);
            continue;
        }
        pthread_mutex_unlock(&pool->mu);
        job_run_from(pool, job, t, id);
        pthread_mutex_lock(&pool->mu);
    }
    pthread_mutex_unlock(&pool->mu);
    return NULL;
}

struct dm_pool *dm_pool_new(unsigned nthreads)
{
    if (nthreads == 0)
        nthreads = dm_cpu_count();
    struct dm_pool *pool = dm_calloc(1, sizeof(*pool));
    if (!pool)
        return NULL;
    pool->threads = dm_calloc(nthreads, sizeof(*pool->threads));
    if (!pool->threads) {
        dm_free(pool);
        return NULL;
    }
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->work, NULL);
    pthread_cond_init(&pool->finished, NULL);
    for (unsigned i = 0; i < nthreads; i++) {
        struct worker_arg *arg = dm_malloc(sizeof(*arg));
        if (arg) {
            arg->pool = pool;
            arg->id = i;
        }
        if (!arg || pthread_create(&pool->threads[i], NULL, worker_main, arg) != 0) {
            dm_free(arg);
            pool->nthreads = i;
            dm_pool_free(pool);
            return NULL;
        }
    }
    pool->nthreads = nthreads;
    return pool;
}

void dm_pool_free(struct dm_pool *pool)
{
    if (!pool)
        return;
    pthread_mutex_lock(&pool->mu);
    pool->stop = 1;
    pthread_cond_broadcast(&pool->work);
    pthread_mutex_unlock(&pool->mu);
    for (unsigned i = 0; i < pool->nthreads; i++)
        pthread_join(pool->threads[i], NULL);
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->work);
    pthread_cond_destroy(&pool->finished);
    dm_free(pool->threads);
    dm_free(pool);
}

unsigned dm_pool_size(const struct dm_pool *pool)
{
    return pool ? pool->nthreads : 1;
}

void dm_pool_submit(struct dm_pool *pool, struct dm_pool_job *job, size_t ntasks, dm_pool_fn fn,
                    void *ctx)
{
    job->fn = fn;
    job->ctx = ctx;
    job->ntasks = ntasks;
    atomic_store(&job->next, 0);
    atomic_store(&job->done, 0);
    job->qnext = NULL;
    job->queued = 0;
    if (!pool || ntasks == 0)
        return;
    pthread_mutex_lock(&pool->mu);
    if (pool->tail)
        pool->tail->qnext = job;
    else
        pool->head = job;
    pool->tail = job;
    job->queued = 1;
    pthread_cond_broadcast(&pool->work);
    pthread_mutex_unlock(&pool->mu);
}

void dm_pool_wait(struct dm_pool *pool, struct dm_pool_job *job)
{
    unsigned self = pool ? pool->nthreads : 0;
    job_drain(pool, job, self);
    if (!pool)
        return;
    pthread_mutex_lock(&pool->mu);
    queue_remove(pool, job);
    while (atomic_load(&job->done) < job->ntasks)
        pthread_cond_wait(&pool->finished, &pool->mu);
    pthread_mutex_unlock(&pool->mu);
}

void dm_pool_for(struct dm_pool *pool, size_t ntasks, dm_pool_fn fn, void *ctx)
{
    struct dm_pool_job job;
    dm_pool_submit(pool, &job, ntasks, fn, ctx);
    dm_pool_wait(pool, &job);
}
