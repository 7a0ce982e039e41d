#include "rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    return rng_mix64(*x += RNG_GAMMA);
}

void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
    /* mix the stream id in before expanding, so streams of one seed are unrelated */
    uint64_t x = seed;
    uint64_t k = splitmix64(&x) ^ (stream * 0xd1b54a32d192ed03ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&k);
}

/* Rejections rng_below allows before it takes the last draw as it is. A
 * working generator rejects with probability below 1/2, so 64 in a row has
 * probability under 2^-64 and never changes a result; an all-zero state
 * (which xoshiro never leaves, and a damaged checkpoint could hold) would
 * otherwise reject forever. */
#define RNG_MAX_REJECTIONS 64

uint32_t rng_below(struct rng *r, uint32_t n)
{
    /* Lemire's multiply-shift with rejection of the biased low zone */
    uint64_t m = (uint64_t)(uint32_t)(rng_next(r) >> 32) * n;
    uint32_t lo = (uint32_t)m;
    if (lo < n) {
        uint32_t floor = (uint32_t)-n % n;
        for (int k = 0; lo < floor && k < RNG_MAX_REJECTIONS; k++) {
            m = (uint64_t)(uint32_t)(rng_next(r) >> 32) * n;
            lo = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

void rng_shuffle(struct rng *r, uint32_t *a, uint32_t n)
{
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = rng_below(r, i);
        uint32_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

void rng_jump_make(struct rng_jump *j, uint64_t n)
{
    for (int b = 0; b < 256; b++) {
        struct rng r = {{0}};
        r.s[b / 64] = 1ULL << (b % 64);
        for (uint64_t k = 0; k < n; k++)
            rng_next(&r);
        for (int w = 0; w < 4; w++)
            j->col[b][w] = r.s[w];
    }
}

void rng_jump(const struct rng_jump *j, struct rng *r)
{
    uint64_t out[4] = {0};
    for (int w = 0; w < 4; w++)
        for (uint64_t bits = r->s[w]; bits; bits &= bits - 1) {
            const uint64_t *c = j->col[w * 64 + __builtin_ctzll(bits)];
            out[0] ^= c[0], out[1] ^= c[1], out[2] ^= c[2], out[3] ^= c[3];
        }
    for (int w = 0; w < 4; w++)
        r->s[w] = out[w];
}
