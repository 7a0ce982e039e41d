/* libFuzzer target: the model file parser on arbitrary bytes. Most inputs die
 * at the CRC; -use_value_profile helps it past, and the seed corpus holds real
 * model files. */
#include <stdint.h>

#include "train/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct checkpoint ck;
    struct err e = {0};
    if (checkpoint_parse(&ck, data, size, "fuzz.bin", &e) == 0) {
        /* an accepted file is self-consistent */
        if (!ck.config || (ck.has_state && ck.next > ck.n_order))
            __builtin_trap();
        checkpoint_free(&ck);
    } else if (!e.msg[0]) {
        __builtin_trap();
    }
    return 0;
}
