/* init: the names of the initial-weight rules of mlp_init (mlp.c), apart
 * from mlp.h so the option table can list them without the network. */
#ifndef INIT_H
#define INIT_H

#include "../util/enum_names.h"

/* initial weights and biases (mlp_init), per layer from its own rng stream:
 *   he-glorot      He-uniform U(+-sqrt(6/n_in)) for a relu hidden layer, else
 *                  Glorot-uniform U(+-sqrt(6/(n_in+n_out))); biases 0
 *   normal         weights and biases N(0,1): Nielsen ch. 1 network.py
 *   normal-scaled  weights N(0,1/n_in), biases N(0,1): Nielsen ch. 3 network2.py
 *   normal-out     weights N(0,1/n_out), biases N(0,1), the output layer all 0:
 *                  Nielsen ch. 6 network3.py (FullyConnectedLayer, SoftmaxLayer)
 *   uniform        weights and biases U(+-r), r = init_range for every layer:
 *                  Ciresan et al. 2010 (r 0.05) */
#define MLP_INITS(X)                                                                     \
    X(INIT_HE_GLOROT, "he-glorot") X(INIT_NORMAL, "normal")                              \
    X(INIT_NORMAL_SCALED, "normal-scaled") X(INIT_NORMAL_OUT, "normal-out")             \
    X(INIT_UNIFORM, "uniform")
enum mlp_init { MLP_INITS(ENUM_ID) };

#endif
