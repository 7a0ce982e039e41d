#include "budget.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "../nn/optim.h"
#include "../util/sysres.h"
#include "spec.h"
#include "task.h"

#define MIB (1024.0 * 1024.0)
#define GIB (1024.0 * MIB)

/* Measured on this code (README "Errors and exit codes"): the process with
 * its libraries, zlib's buffers and each OpenMP thread's stack and oneDNN
 * scratch. */
#define FIXED_BYTES (8 * MIB)
#define PER_THREAD_BYTES (4 * MIB)
/* Under RLIMIT_AS: the address space a run maps beyond what it maps when the
 * budget is checked (libraries, the team's stacks) plus the memory the
 * estimate counts: oneDNN's JIT code and scratch, a malloc arena (64 MiB
 * reserved) for the thread that loads the test set; measured 74-81 MiB
 * (VmPeak) over five configs, and oneDNN's JIT faults when it cannot map. */
#define AS_FIXED_BYTES ((uint64_t)(80 * MIB))
#define AS_PER_THREAD_BYTES ((uint64_t)(8 * MIB))
/* under RLIMIT_DATA (private writable memory only): oneDNN's JIT code and
 * scratch beyond the estimate */
#define DATA_FIXED_BYTES ((uint64_t)(16 * MIB))
/* the share of the available memory a run may plan to take */
#define BUDGET_SHARE 0.9

/* task_init's n_outputs, without building the task */
static int task_outputs(const struct config *c)
{
    const struct head h = trainer_head(c);
    return task_n_outputs((enum task_kind)c->task, &h);
}

void budget_estimate(struct budget *b, const struct config *c, const struct budget_shape *s)
{
    memset(b, 0, sizeof *b);
    const double dim = (double)s->rows * s->cols, K = task_outputs(c);
    const double n_train = (double)(c->limit_train ? (uint64_t)c->limit_train : s->n_train);
    const double n_test = (double)(c->limit_test ? (uint64_t)c->limit_test : s->n_test);
    int input = (int)(c->task == TASK_PAIRS ? 2 * dim : dim);
    struct mlp_spec spec = trainer_spec(c, input, (int)K);
    const double P = (double)mlp_count_params(&spec), B = spec.max_batch;
    /* batch buffers have max_batch rows, but only the rows of the largest
     * batch ever run are written: a split smaller than a batch leaves the rest
     * of the buffer untouched, costing address space, not memory */
    const double biggest = n_train > n_test ? n_train : n_test;
    const double rows = biggest < B ? (biggest > 0 ? biggest : 1) : B;
    /* dataset_load keeps every image and label of the four files */
    b->data = (double)(s->n_train + s->n_test) * (dim + 1);
    b->model = mlp_weight_bytes(&spec);
    b->optimizer = 4 * P * optim_state_arrays((enum optim_kind)c->optimizer, (int)c->nesterov);
    b->batch = mlp_batch_bytes(&spec, rows);
    /* trainer: order, targets, test outputs and predictions; pairs: two
     * indices per sample of each split, and the task's two-image scratch */
    b->eval = 4 * n_train + 4 * B * K + 4 * n_test * K + 4 * n_test;
    if (c->task == TASK_PAIRS)
        b->eval += 8 * (n_train + n_test) + 8 * dim;
    /* checkpoint_save serialises parameters, optimizer state and data order
     * into one buffer; --resume/--load hold the file and its parsed copy */
    double file = 4 * P + 4 * P * optim_saved_arrays((enum optim_kind)c->optimizer) + 4 * n_train;
    if (*c->save)
        b->save = file;
    if (*c->resume || *c->load)
        b->save = 2 * file > b->save ? 2 * file : b->save;
    /* one OpenMP team of --threads threads, at most one per core counted */
    long long cores = sysres_cpus(""), threads = c->threads > 0 ? c->threads : 1;
    if (threads > cores)
        threads = cores;
    b->fixed = FIXED_BYTES + PER_THREAD_BYTES * (double)threads;
    b->total = b->data + b->model + b->optimizer + b->batch + b->eval + b->save + b->fixed;
}

/* the headroom a resource limit leaves, less what the run maps beyond the estimate */
static uint64_t rlimit_left(int resource, uint64_t fixed, uint64_t per_thread)
{
    const uint64_t left = sysres_rlimit_left("", resource);
    if (left == UINT64_MAX)
        return 0;
    const uint64_t extra = fixed + per_thread * (uint64_t)omp_get_max_threads();
    return left > extra ? left - extra : 1;
}

uint64_t budget_available(void)
{
    const uint64_t left[] = {sysres_memory(""),
                             rlimit_left(RLIMIT_AS, AS_FIXED_BYTES, AS_PER_THREAD_BYTES),
                             rlimit_left(RLIMIT_DATA, DATA_FIXED_BYTES, 0)};
    uint64_t avail = 0;
    for (size_t i = 0; i < sizeof left / sizeof left[0]; i++)
        if (left[i] && (!avail || left[i] < avail))
            avail = left[i];
    return avail;
}

/* the setting to change when the run does not fit: the one behind the largest part */
static const char *heaviest(const struct budget *b)
{
    struct { double bytes; const char *key; } parts[] = {
        {b->model + b->optimizer + b->save, "hidden"},
        {b->batch, "batch_size"},
        {b->data, "train_images"},
        {b->eval, "limit_test"},
    };
    size_t best = 0;
    for (size_t i = 1; i < sizeof parts / sizeof parts[0]; i++)
        if (parts[i].bytes > parts[best].bytes)
            best = i;
    return parts[best].key;
}

int budget_check(const struct budget *b, uint64_t available, struct err *e)
{
    /* the rest of the system needs some too: a run that would take the last
     * tenth of free memory is as good as killed */
    if (!available || b->total <= BUDGET_SHARE * (double)available)
        return 0;
    return err_set(e, ERR_USAGE,
                   "%s: this run needs about %.1f GiB (model and optimizer %.1f, batch buffers "
                   "%.1f, data %.1f, outputs %.1f, saving %.1f), more than 90%% of the %.1f GiB "
                   "available",
                   heaviest(b), b->total / GIB, (b->model + b->optimizer) / GIB,
                   b->batch / GIB, b->data / GIB, b->eval / GIB, b->save / GIB,
                   (double)available / GIB);
}

int budget_check_bytes(double bytes, uint64_t available, const char *key, const char *what,
                       struct err *e)
{
    if (!available || bytes + FIXED_BYTES <= BUDGET_SHARE * (double)available)
        return 0;
    return err_set(e, ERR_USAGE, "%s: %s needs about %.1f GiB, more than 90%% of the %.1f GiB "
                   "available", key, what, (bytes + FIXED_BYTES) / GIB, (double)available / GIB);
}
