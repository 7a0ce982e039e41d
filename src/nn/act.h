/* act: hidden-layer activations. The forward pass runs as a oneDNN eltwise
 * post-op fused into the layer's product (dense.c); the backward pass, here,
 * needs only the activation's output y, not its input. */
#ifndef ACT_H
#define ACT_H

#include <math.h>
#include <stddef.h>

#include "../util/enum_names.h"

/* scaled-tanh: LeCun et al. 1998's A tanh(B x), A = 1.7159, B = 0.6666 (the
 * hidden units of Ciresan et al. 2010); f(+-1) = +-1 */
#define ACTS(X)                                                                          \
    X(ACT_RELU, "relu") X(ACT_TANH, "tanh") X(ACT_SIGMOID, "sigmoid")                    \
    X(ACT_SCALED_TANH, "scaled-tanh")
enum act { ACTS(ENUM_ID) };
enum { N_ACTS = 0 ACTS(ENUM_COUNT) };

#define ACT_STANH_A 1.7159f
#define ACT_STANH_B 0.6666f

/* scaled-tanh's f'(x) through y = A tanh(B x): A B (1 - tanh^2) = (B/A)(A^2 - y^2) */
static inline float act_stanh_slope(float y)
{
    return (ACT_STANH_B / ACT_STANH_A) * (ACT_STANH_A * ACT_STANH_A - y * y);
}

/* the gradient d at an activation's output y taken back to its input:
 * d f'(x), written through y = f(x) */
static inline float act_grad(enum act a, float d, float y)
{
    switch (a) {
    case ACT_RELU: return y > 0 ? d : 0;
    case ACT_TANH: return d * (1 - y * y);
    case ACT_SIGMOID: return d * (y * (1 - y));
    case ACT_SCALED_TANH: return d * act_stanh_slope(y);
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
