#include "onednn.h"

#include <oneapi/dnnl/dnnl_debug.h>
#include <stdio.h>

int onednn_check(dnnl_status_t s, const char *what, struct err *e)
{
    if (s == dnnl_success)
        return 0;
    return err_set(e, s == dnnl_unimplemented ? ERR_UNAVAILABLE : ERR_SOFTWARE,
                   "oneDNN: %s: %s", what, dnnl_status2str(s));
}

/* oneDNN's own environment variables must not change a number or write
 * where the user did not ask: ONEDNN_DEFAULT_FPMATH_MODE=bf16 would let fp32
 * products round through bf16, ONEDNN_VERBOSE prints its trace on stdout
 * (into --predict rows and --json lines), ONEDNN_JIT_DUMP writes a file per
 * kernel into the working folder. Their settings through the API win over the
 * variables. (ONEDNN_MAX_CPU_ISA stays the user's: it picks kernels, and a
 * run's figures are promised for one machine and ISA.) */
static int settle_runtime(struct err *e)
{
    return onednn_check(dnnl_set_default_fpmath_mode(dnnl_fpmath_mode_strict),
                        "setting strict fp32 math", e) ||
           onednn_check(dnnl_set_verbose(0), "turning its trace off", e) ||
           onednn_check(dnnl_set_jit_dump(0), "turning its kernel dumps off", e);
}

int onednn_open(struct onednn *o, struct err *e)
{
    o->engine = NULL;
    o->stream = NULL;
    if (settle_runtime(e))
        return e->code;
    if (onednn_check(dnnl_engine_create(&o->engine, dnnl_cpu, 0), "creating the CPU engine", e) ||
        onednn_check(dnnl_stream_create(&o->stream, o->engine, dnnl_stream_default_flags),
                     "creating a stream", e)) {
        onednn_close(o);
        return e->code;
    }
    return 0;
}

void onednn_close(struct onednn *o)
{
    if (o->stream)
        dnnl_stream_destroy(o->stream);
    if (o->engine)
        dnnl_engine_destroy(o->engine);
    o->stream = NULL;
    o->engine = NULL;
}

const char *onednn_isa(void)
{
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "generic";
    }
}

void onednn_version(char *s, size_t size)
{
    const dnnl_version_t *v = dnnl_version();
    snprintf(s, size, "oneDNN %d.%d.%d (%s)", v->major, v->minor, v->patch,
             v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "not OpenMP");
}

const char *onednn_precision_name(enum precision p)
{
    static const char *const names[] = {PRECISIONS(ENUM_NAME)};
    return (unsigned)p < sizeof names / sizeof names[0] ? names[p] : "?";
}

/* bf16 products run natively: AVX512-BF16 or more (AMX) */
static int bf16_native(void)
{
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    /* the ISA values are bit sets: each one includes the ones below it */
    return (isa & dnnl_cpu_isa_avx512_core_bf16) == dnnl_cpu_isa_avx512_core_bf16;
}

enum precision onednn_resolve_precision(enum precision p)
{
    if (p != PRECISION_AUTO)
        return p;
    return bf16_native() ? PRECISION_BF16 : PRECISION_FP32;
}

int onednn_check_precision(enum precision p, struct err *e)
{
    if (p != PRECISION_BF16 || bf16_native())
        return 0;
    return err_set(e, ERR_UNAVAILABLE,
                   "precision: bf16 needs a CPU with AVX512-BF16 or AMX, and oneDNN dispatches "
                   "to %s here; it would emulate bf16 slowly or not at all (use --precision fp32, or auto: bf16 where it is native)",
                   onednn_isa());
}
