/* mlp_testing: the two halves of mlp_backward_update, for the tests that
 * hold the fused step to them (production runs mlp_backward_update). */
#ifndef MLP_TESTING_H
#define MLP_TESTING_H

#include "mlp.h"

/* From dZ (gradient at the logits) of the last forward pass: G = beta G + the
 * gradient, G laid out as params (any n_params floats with beta 0 for the
 * gradient alone). 0, or an error code with m->err saying why. */
int mlp_backward(struct mlp *m, const float *dZ, int B, float *G, float beta);

/* One optimizer step on the parameters from G (as optim_grad_target gave it),
 * refreshing the weights' copies in the same pass. */
void mlp_update(struct mlp *m, struct optim *o, float *G, float lr);

#endif
