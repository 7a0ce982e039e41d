/* rng: xoshiro256** seeded through splitmix64. Never rand(): output must be
 * identical on every libc. Each consumer (init of layer l, shuffling, dropout,
 * augmentation, ...) gets its own stream derived from (seed, stream id), so
 * changing how much one consumer draws never perturbs another: two heads of
 * different output width still get the same hidden weights and data order. */
#ifndef RNG_H
#define RNG_H

#include <stdint.h>

struct rng {
    uint64_t s[4];
};

enum rng_stream {
    RNG_SHUFFLE = 1,
    RNG_DROPOUT = 2,
    RNG_AUGMENT = 3,
    RNG_TASK = 4,     /* synthetic task composition */
    RNG_INIT = 100,   /* + layer index */
};

void rng_seed(struct rng *r, uint64_t seed, uint64_t stream);

/* inline: dropout draws one number per hidden unit per sample, some 10^8 an
 * epoch, and a call each cost a quarter of the 800-800 recipe's time */
static inline uint64_t rng_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rng_rotl(s[3], 45);
    return out;
}

/* [0, 1) with 24 random bits */
static inline float rng_uniform(struct rng *r)
{
    return (float)(rng_next(r) >> 40) * (1.0f / 16777216.0f);
}

/* [0, n), unbiased, n > 0; returns after a bounded number of draws, whatever the state */
uint32_t rng_below(struct rng *r, uint32_t n);
void rng_shuffle(struct rng *r, uint32_t *a, uint32_t n);

#endif
