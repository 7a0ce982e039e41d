/* mlp_dnn: what a network runs its products on, oneDNN's engine and one
 * dense layer per layer; struct mlp holds it by an opaque pointer, so only
 * src/nn/ (and bench/) see oneDNN's types. */
#ifndef MLP_DNN_H
#define MLP_DNN_H

#include "dense.h"
#include "mlp.h"
#include "onednn.h"

struct mlp_dnn {
    struct onednn engine;
    struct dense layer[MLP_MAX_LAYERS];
};

#endif
