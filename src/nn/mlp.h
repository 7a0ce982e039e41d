/* mlp: a stack of dense layers (hidden activation + optional dropout) ending in
 * logits for the head. All parameters live in one block laid out as
 * [W_0 .. W_{L-1} | b_0 .. b_{L-1}] (the optimizer's gradient and state
 * blocks have the same layout), so optimizers are a loop over floats and
 * weight decay touches exactly the first n_weights of them. Every buffer a training step needs is
 * allocated by mlp_create; nothing is allocated per batch.
 *
 * The products run on oneDNN (dense.h), whose types stay inside src/nn/. Copies of the weights for the
 * products (each layer's packed copy for its forward product, dense.h; with
 * bf16 a plain bf16 copy for the backward-data products) are refreshed by
 * mlp_update in the same pass as the update. With bf16 the model also keeps
 * bf16 copies of every layer's input; activations, gradients, master
 * weights and optimizer state stay fp32. */
#ifndef MLP_H
#define MLP_H

#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"
#include "../util/rng.h"
#include "act.h"
#include "bf16.h"
#include "init.h"
#include "optim.h"
#include "precision.h"

#define MLP_MAX_LAYERS 17   /* up to 16 hidden layers plus the output layer */

struct mlp_spec {
    int n_inputs, n_outputs;
    int n_hidden;                       /* 0: logistic/softmax regression */
    int hidden[MLP_MAX_LAYERS - 1];
    enum act act;
    float dropout;                      /* on hidden layers, in [0, 1) */
    int max_batch;
    enum precision precision;           /* of the products */
    enum mlp_init init;                 /* INIT_HE_GLOROT when 0 */
    float init_range;                   /* INIT_UNIFORM: r of U(+-r) */
    int pack;                           /* packed forward weights (dense.h): 0 as
                                           dense_should_pack says, 1 all layers,
                                           -1 none (tests) */
};

struct mlp {
    struct mlp_spec spec;
    int L;                              /* dense layers: n_hidden + 1 */
    int size[MLP_MAX_LAYERS + 1];       /* size[0] inputs .. size[L] outputs */
    size_t n_params, n_weights;
    float *params;                      /* the gradient has no block here: the
                                           optimizer says where it goes */
    float *W[MLP_MAX_LAYERS], *b[MLP_MAX_LAYERS];
    /* per-layer activations for one batch: h[l] after the activation, a[l] what
     * feeds layer l (a[l] == h[l] unless dropout is on); a[0] is the input batch */
    float *a[MLP_MAX_LAYERS + 1], *h[MLP_MAX_LAYERS + 1];
    uint8_t *mask[MLP_MAX_LAYERS + 1];
    float *probs;                       /* head outputs, max_batch x n_outputs */
    float *dlogits;                     /* head gradient, max_batch x n_outputs */
    float *delta[2];                    /* backward scratch, max_batch x widest */
    struct mlp_dnn *dnn;                /* the engine and the dense layers
                                           (mlp_dnn.h, private to src/nn/) */
    /* bf16 only (else NULL): the weights, laid out as the first n_weights
     * params; each layer's input (a16[0] from a[0]); the gradient being
     * propagated */
    bf16 *w16, *a16[MLP_MAX_LAYERS], *dy16;
    int copies;                         /* some layer packs, or w16 exists */
    int weights_fresh;                  /* the copies hold the current weights */
    struct err err;                     /* why mlp_forward/mlp_backward failed */
};

/* NULL when out of memory (or when oneDNN cannot open its CPU engine) */
struct mlp *mlp_create(const struct mlp_spec *spec);
void mlp_free(struct mlp *m);
size_t mlp_count_params(const struct mlp_spec *spec);
/* size[0] the inputs, size[1..] the hidden widths, size[L] the outputs
 * (MLP_MAX_LAYERS + 1 entries); returns L, the number of dense layers */
int mlp_sizes(const struct mlp_spec *spec, int *size);
/* whether dense layer l keeps packed forward weights: spec->pack, or as
 * dense_should_pack says for its size (size as mlp_sizes gives it) */
int mlp_layer_packs(const struct mlp_spec *spec, const int *size, int l);

/* What mlp_create allocates, in bytes, for the memory budget: the parameters
 * and the weights' copies the products read (each packing layer's, and with
 * bf16 the plain copy of all weights); and the per-row buffers (activations,
 * dropout copies and masks, head outputs and gradients, backward scratch)
 * for the rows of the largest batch that runs. */
double mlp_weight_bytes(const struct mlp_spec *spec);
double mlp_batch_bytes(const struct mlp_spec *spec, double rows);

/* He-uniform for relu hidden layers, Glorot-uniform for tanh/sigmoid hidden
 * layers and the output layer, biases 0. Layer l draws from its own stream. */
void mlp_init(struct mlp *m, uint64_t seed);

/* Create the primitives for batches of B, before the work: forward only
 * (evaluation), or with backward also the backward ones for this beta.
 * Forward and backward would create them on first use otherwise. */
int mlp_prepare(struct mlp *m, int B, int backward, float beta, struct err *e);

/* The input batch is read from m->a[0] (B x n_inputs). Returns the logits
 * (B x n_outputs), or NULL when oneDNN failed (m->err says why). With
 * r != NULL dropout is applied (training). */
float *mlp_forward(struct mlp *m, int B, struct rng *r);

/* The gradient from dZ (at the logits) of the last forward pass, G = beta G
 * + the gradient (G as optim_grad_target gave it), and one optimizer step,
 * each layer updated as soon as its gradient is complete (and still in
 * cache), its weights' copies refreshed in the same pass: what a training
 * step runs; bit for bit mlp_backward then mlp_update (mlp_testing.h). 0, or
 * an error code with m->err saying why. */
int mlp_backward_update(struct mlp *m, const float *dZ, int B, struct optim *o, float *G,
                        float beta, float lr);

/* Call after writing m->params other than through mlp_update or mlp_init
 * (loading a model, a test's nudge): the weights' copies are redone before
 * the next product. Without it the products would read the old weights. */
void mlp_params_changed(struct mlp *m);

/* "fp32 products on oneDNN 2.6.3 (OpenMP), ISA avx512_core_bf16, matmul
 * brg:avx512_core": what runs, as oneDNN reports it (after mlp_prepare) */
void mlp_describe(const struct mlp *m, char *s, size_t size);

#endif
