#include "spec.h"

#include <string.h>

/* the rows of an evaluation batch: the network's buffers hold at least this many */
#define EVAL_BATCH 512

struct mlp_spec trainer_spec(const struct config *c, int n_inputs, int n_outputs)
{
    struct mlp_spec s = {
        .n_inputs = n_inputs,
        .n_outputs = n_outputs,
        .n_hidden = c->hidden.n,
        .act = (enum act)c->activation,
        .dropout = (float)c->dropout,
        .max_batch = c->batch_size > EVAL_BATCH ? (int)c->batch_size : EVAL_BATCH,
        .precision = (enum precision)c->precision,
        .init = (enum mlp_init)c->init,
        .init_range = (float)c->init_range,
    };
    memcpy(s.hidden, c->hidden.v, sizeof(int) * (size_t)c->hidden.n);
    return s;
}

struct head trainer_head(const struct config *c)
{
    /* config_resolve has resolved and checked the loss; a config made in code
     * (tests) may still say auto */
    const char *why;
    int loss = head_resolve_loss((enum head_kind)c->head, (enum head_loss)c->loss, &why);
    return (struct head){(enum head_kind)c->head, loss < 0 ? HEAD_LOSS_AUTO : (enum head_loss)loss};
}
