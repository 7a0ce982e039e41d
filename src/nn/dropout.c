#include "dropout.h"

void dropout_forward(float *out, uint8_t *mask, const float *in, size_t n, float p,
                     struct rng *r)
{
    float scale = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++) {
        mask[i] = rng_uniform(r) >= p;
        out[i] = mask[i] ? in[i] * scale : 0.0f;
    }
}

void dropout_backward(float *d, const uint8_t *mask, size_t n, float p)
{
    float scale = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++)
        d[i] = mask[i] ? d[i] * scale : 0.0f;
}
