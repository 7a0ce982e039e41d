/* libFuzzer target: the model file parser on arbitrary bytes. Fuzzing builds
 * skip the CRC check (checkpoint.c), so inputs reach the payload: the stored
 * settings (see also fuzz_stored), the layers, the state. The seed corpus
 * holds real model files. */
#include <stdint.h>
#include <stdlib.h>

#include "model/checkpoint.h"

/* what the parser promises about a file it accepts */
static int consistent(const struct checkpoint *ck)
{
    if (!ck->config)
        return 0;
    if (!ck->has_state)
        return 1;
    if (ck->next >= ck->n_order)
        return 0;
    for (int i = 0; i < 3; i++)
        if (!(ck->rng[i][0] | ck->rng[i][1] | ck->rng[i][2] | ck->rng[i][3]))
            return 0;
    uint8_t *seen = calloc(ck->n_order, 1);
    int ok = seen != NULL;
    for (uint32_t i = 0; ok && i < ck->n_order; i++) {
        ok = ck->order[i] < ck->n_order && !seen[ck->order[i]];
        if (ok)
            seen[ck->order[i]] = 1;
    }
    free(seen);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct checkpoint ck;
    struct err e = {0};
    if (checkpoint_parse(&ck, data, size, "fuzz.bin", &e) == 0) {
        if (!consistent(&ck))
            __builtin_trap();
        checkpoint_free(&ck);
    } else if (!e.msg[0]) {
        __builtin_trap();
    }
    return 0;
}
