/* precision: the products' operand type, and what the CPU oneDNN dispatches
 * to can run; the public face of onednn.c (onednn.h, which holds oneDNN's own
 * types, is private to src/nn/). */
#ifndef PRECISION_H
#define PRECISION_H

#include <stddef.h>

#include "../util/enum_names.h"
#include "../util/err.h"

/* the products' operand type; accumulation, master weights, optimizer state
 * and loss stay fp32 in both. AUTO is a request, resolved once by
 * onednn_resolve_precision (config_resolve) before anything runs: no layer,
 * model file or report ever sees it. */
#define PRECISIONS(X) X(PRECISION_FP32, "fp32") X(PRECISION_BF16, "bf16") X(PRECISION_AUTO, "auto")
enum precision { PRECISIONS(ENUM_ID) };

/* the instruction set oneDNN dispatches to here (after ONEDNN_MAX_CPU_ISA),
 * as oneDNN names it: "avx512_core_bf16", "avx2", ... */
const char *onednn_isa(void);
/* "oneDNN 2.6.3 (OpenMP)", cut to size */
void onednn_version(char *s, size_t size);

/* 0 when `p` runs natively on the dispatched ISA; else ERR_UNAVAILABLE and a
 * message saying why (bf16 needs AVX512-BF16 or AMX). The precision is never
 * quietly changed: a run asked for bf16 runs bf16 products or stops. */
int onednn_check_precision(enum precision p, struct err *e);
/* AUTO -> bf16 where its products run natively on the ISA oneDNN dispatches
 * to (after ONEDNN_MAX_CPU_ISA), else fp32; any other value is returned as is */
enum precision onednn_resolve_precision(enum precision p);
const char *onednn_precision_name(enum precision p);

#endif
