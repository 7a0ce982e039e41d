/* budget: the memory a run will need, worked out from its config and the
 * sizes its data files declare, before anything is allocated, so a config
 * larger than the machine is refused with a message instead of being killed
 * by the kernel halfway through. budget_estimate adds up what each
 * allocating module answers for its own bytes (mlp_weight_bytes,
 * mlp_batch_bytes, optim_state_arrays) and what trainer_init (train.c),
 * task_set_init, the data loader and checkpoint_save allocate; tests hold it
 * to the measured figures. */
#ifndef BUDGET_H
#define BUDGET_H

#include <stdint.h>

#include "../config/config.h"
#include "../util/err.h"

/* what the data files declare (their headers, already checked against the files) */
struct budget_shape {
    uint64_t n_train, n_test;    /* items in the files, before any limit */
    uint32_t rows, cols;
};

/* bytes, by what they are for */
struct budget {
    double data;        /* the four files' payloads, held in memory */
    double model;       /* parameters and their gradients */
    double optimizer;   /* momentum / Adam moments */
    double batch;       /* per-layer activations, dropout masks, backward scratch */
    double eval;        /* test outputs and predictions, targets, data order, pairs */
    double save;        /* the serialised model while --save or a checkpoint is written */
    double fixed;       /* code, libraries, BLAS and zlib buffers */
    double total;
};

void budget_estimate(struct budget *b, const struct config *c, const struct budget_shape *s);

/* Memory available to this run in bytes (util/sysres.h: MemAvailable, the
 * cgroup limits above this process), lowered under RLIMIT_AS or RLIMIT_DATA
 * to the address space left less what the threads and libraries map beyond
 * the estimate; 0 when nothing can tell. Call after par_team. */
uint64_t budget_available(void);

/* ERR_USAGE naming the setting that weighs most when b needs more than
 * available ("hidden: this run needs about 27.1 GiB (...), 21.9 GiB
 * available"); 0 when it fits or available is 0 (unknown). */
int budget_check(const struct budget *b, uint64_t available, struct err *e);

/* The same for one buffer of `bytes` that key's value (a file) asks for. */
int budget_check_bytes(double bytes, uint64_t available, const char *key, const char *what,
                       struct err *e);

#endif
