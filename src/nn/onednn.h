/* onednn: the one place that talks to oneDNN's runtime: the CPU engine and
 * stream every dense layer executes on, the turning of a dnnl_status_t into an
 * err naming the operation, and what the library dispatches to on this CPU
 * (its ISA, whether bf16 products run natively). Threads: Debian's oneDNN is
 * built on OpenMP, so the whole program shares OpenMP's thread team. Private
 * to src/nn/ (and bench/): the rest of the program sees precision.h. */
#ifndef ONEDNN_H
#define ONEDNN_H

#include <oneapi/dnnl/dnnl.h>
#include <stddef.h>

#include "../util/err.h"
#include "precision.h"

struct onednn {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
};

/* 0, or ERR_SOFTWARE with oneDNN's reason */
int onednn_open(struct onednn *o, struct err *e);
void onednn_close(struct onednn *o);   /* accepts a zeroed or closed one */

/* 0 for dnnl_success, else err "oneDNN: <what>: <status>" (ERR_SOFTWARE, or
 * ERR_UNAVAILABLE when no implementation exists for this CPU) */
int onednn_check(dnnl_status_t s, const char *what, struct err *e);

#endif
