/* PRNG and samplers: xoshiro256** seeded by splitmix64, Box-Muller normals, log-normal,
 * and Zipf by rejection-inversion. */
#include <math.h>

#include "dm_gen.h"
#include "banned.h"

uint64_t dm_rng_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

void dm_rng_seed(struct dm_rng *r, uint64_t seed, uint64_t stream)
{
    /* Streams are separated by mixing the stream number into the splitmix64 start. */
    uint64_t x = dm_rng_mix(seed) ^ dm_rng_mix(stream * 0xd1342543de82ef95ull + 1);
    for (int i = 0; i < 4; i++) {
        x += 0x9e3779b97f4a7c15ull;
        r->s[i] = dm_rng_mix(x);
    }
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        r->s[0] = 1; /* the all-zero state is a fixed point */
    r->spare = 0;
    r->has_spare = 0;
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t dm_rng_next(struct dm_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

double dm_rng_uniform(struct dm_rng *r)
{
    return (double)(dm_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t dm_rng_below(struct dm_rng *r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)dm_rng_next(r) * n) >> 64);
}

double dm_rng_normal(struct dm_rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    /* Box-Muller: u1 in (0, 1] so the log is finite. */
    double u1 = 1.0 - dm_rng_uniform(r);
    double u2 = dm_rng_uniform(r);
    double rad = sqrt(-2.0 * log(u1));
    double a = 6.283185307179586 * u2;
    r->spare = rad * sin(a);
    r->has_spare = 1;
    return rad * cos(a);
}

double dm_rng_lognormal(struct dm_rng *r, double mu, double sigma)
{
    return exp(mu + sigma * dm_rng_normal(r));
}

/* ---- Zipf by rejection-inversion ----
 * With h(x) = x^-s and H(x) = (x^(1-s) - 1) / (1 - s) (log x when s = 1) its integral,
 * draw u uniformly in [H(1.5) - 1, H(n + 0.5)], invert x = H^-1(u), round to k, and
 * accept when u falls under the histogram bar of k. The two helpers evaluate
 * log1p(x)/x and expm1(x)/x stably near 0 so s = 1 needs no special case. */

static double log1p_over(double x)
{
    if (fabs(x) > 1e-8)
        return log1p(x) / x;
    return 1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
}

static double expm1_over(double x)
{
    if (fabs(x) > 1e-8)
        return expm1(x) / x;
    return 1.0 + x * 0.5 * (1.0 + x / 3.0 * (1.0 + 0.25 * x));
}

static double zipf_h(double s, double x)
{
    return exp(-s * log(x));
}

static double zipf_H(double s, double x)
{
    double lx = log(x);
    return expm1_over((1.0 - s) * lx) * lx;
}

static double zipf_H_inv(double s, double x)
{
    double t = x * (1.0 - s);
    if (t < -1.0)
        t = -1.0; /* rounding guard: H^-1 is only defined down to there */
    return exp(log1p_over(t) * x);
}

int dm_zipf_init(struct dm_zipf *z, uint64_t n, double s)
{
    if (n == 0 || !(s > 0) || !isfinite(s))
        return -EINVAL;
    z->n = n;
    z->s = s;
    z->h_x1 = zipf_H(s, 1.5) - 1.0;
    z->h_n = zipf_H(s, (double)n + 0.5);
    z->shift = 2.0 - zipf_H_inv(s, zipf_H(s, 2.5) - zipf_h(s, 2.0));
    return 0;
}

uint64_t dm_zipf_sample(const struct dm_zipf *z, struct dm_rng *r)
{
    for (;;) {
        double u = z->h_n + dm_rng_uniform(r) * (z->h_x1 - z->h_n);
        double x = zipf_H_inv(z->s, u);
        double kf = floor(x + 0.5);
        if (kf < 1)
            kf = 1;
        else if (kf > (double)z->n)
            kf = (double)z->n;
        if (kf - x <= z->shift || u >= zipf_H(z->s, kf + 0.5) - zipf_h(z->s, kf))
            return (uint64_t)kf;
    }
}
