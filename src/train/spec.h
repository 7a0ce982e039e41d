/* spec: the network and the output head a config describes, for the
 * trainer, the memory budget and --predict alike. */
#ifndef SPEC_H
#define SPEC_H

#include "../config/config.h"
#include "../nn/head.h"
#include "../nn/mlp.h"

/* The output head cfg describes. */
struct head trainer_head(const struct config *cfg);

/* The network cfg describes, for n_inputs and n_outputs. */
struct mlp_spec trainer_spec(const struct config *cfg, int n_inputs, int n_outputs);

#endif
