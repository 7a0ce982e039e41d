/* dropout: inverted dropout on hidden activations during training. Kept units
 * are scaled by 1/(1-p), so evaluation simply skips this layer. */
#ifndef DROPOUT_H
#define DROPOUT_H

#include <stddef.h>
#include <stdint.h>

#include "../util/rng.h"

/* out = in * mask / (1-p); mask[i] = 1 with probability 1-p, drawn from r */
void dropout_forward(float *out, uint8_t *mask, const float *in, size_t n, float p,
                     struct rng *r);
void dropout_backward(float *d, const uint8_t *mask, size_t n, float p); /* in place */

#endif
