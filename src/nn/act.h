/* act: hidden-layer activations, applied in place; the backward pass needs only
 * the activation's output y, not its input. */
#ifndef ACT_H
#define ACT_H

#include <math.h>
#include <stddef.h>

#include "../util/enum_names.h"

#define ACTS(X) X(ACT_RELU, "relu") X(ACT_TANH, "tanh") X(ACT_SIGMOID, "sigmoid")
enum act { ACTS(ENUM_ID) };
enum { N_ACTS = 0 ACTS(ENUM_COUNT) };

void act_forward(enum act a, float *y, size_t n);                   /* y = f(y) */
void act_backward(enum act a, float *dy, const float *y, size_t n); /* dy *= f'(x), from y */

/* sigmoid without overflow for any finite z */
static inline float act_sigmoid(float z)
{
    if (z >= 0)
        return 1.0f / (1.0f + expf(-z));
    float t = expf(z);
    return t / (1.0f + t);
}

#endif
