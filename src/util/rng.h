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

/* SplitMix64 (Steele, Lea and Flood 2014): its increment and its output
 * mixer, which rng_seed expands a seed with */
#define RNG_GAMMA 0x9e3779b97f4a7c15ULL
static inline uint64_t rng_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Counter-based draws: element i of the SplitMix64 sequence seeded with key.
 * Each is one function of (key, i), with no state carried from draw to draw,
 * so draws can be taken on any thread and in any order, and a loop over i
 * vectorises. */
static inline uint64_t rng_at(uint64_t key, uint64_t i)
{
    return rng_mix64(key + (i + 1) * RNG_GAMMA);
}

/* inline: dropout draws one number per hidden unit per sample, some 10^8 an
 * epoch, and a call each would be a large share of a step */
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

/* Jumping ahead: xoshiro's step is linear over GF(2), so the state n draws
 * ahead is a fixed 256x256 bit matrix times the state. rng_jump_make builds
 * the matrix for n (256 n draws of work, once); rng_jump then moves a state n
 * draws ahead in about 0.3 us, giving exactly the state n calls of rng_next
 * would. Lets several threads each take their share of one stream. */
struct rng_jump {
    uint64_t col[256][4];   /* the image of each state bit */
};
void rng_jump_make(struct rng_jump *j, uint64_t n);
void rng_jump(const struct rng_jump *j, struct rng *r);

/* [0, n), unbiased, n > 0; returns after a bounded number of draws, whatever the state */
uint32_t rng_below(struct rng *r, uint32_t n);
void rng_shuffle(struct rng *r, uint32_t *a, uint32_t n);

#endif
