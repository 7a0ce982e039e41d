/* dropout: inverted dropout on hidden activations during training. Kept units
 * are scaled by 1/(1-p), so evaluation simply skips this layer. The mask is
 * drawn in order from one stream (so it does not depend on the thread count);
 * applying it is threaded. The backward pass applies the mask inside the
 * model's gradient pass (mlp.c). */
#ifndef DROPOUT_H
#define DROPOUT_H

#include <stddef.h>
#include <stdint.h>

#include "../util/rng.h"
#include "bf16.h"

/* mask[i] = 1 with probability 1-p, drawn from r; called outside any parallel
 * region (it starts its own), by one thread at a time */
void dropout_mask(uint8_t *mask, size_t n, float p, struct rng *r);
/* out = in * mask / (1-p) */
void dropout_apply(float *out, const uint8_t *mask, const float *in, size_t n, float p);
void dropout_apply_bf16(bf16 *out, const uint8_t *mask, const float *in, size_t n, float p);

#endif
