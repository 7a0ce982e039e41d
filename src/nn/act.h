/* act: hidden-layer activations. The forward pass runs as a oneDNN eltwise
 * post-op fused into the layer's product (dense.c); the backward pass, here,
 * needs only the activation's output y, not its input. */
#ifndef ACT_H
#define ACT_H

#include <math.h>
#include <stddef.h>

#include "../util/enum_names.h"

#define ACTS(X) X(ACT_RELU, "relu") X(ACT_TANH, "tanh") X(ACT_SIGMOID, "sigmoid")
enum act { ACTS(ENUM_ID) };
enum { N_ACTS = 0 ACTS(ENUM_COUNT) };

/* the gradient d at an activation's output y taken back to its input:
 * d f'(x), written through y = f(x) */
static inline float act_grad(enum act a, float d, float y)
{
    switch (a) {
    case ACT_RELU: return y > 0 ? d : 0;
    case ACT_TANH: return d * (1 - y * y);
    case ACT_SIGMOID: return d * (y * (1 - y));
    }
    return d;
}

/* sigmoid without overflow for any finite z */
static inline float act_sigmoid(float z)
{
    if (z >= 0)
        return 1.0f / (1.0f + expf(-z));
    float t = expf(z);
    return t / (1.0f + t);
}

#endif
