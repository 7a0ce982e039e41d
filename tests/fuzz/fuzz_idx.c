/* libFuzzer target: the IDX reader, through zlib, on arbitrary bytes (gzip or
 * not). The reader takes a path, so each input goes to a file in /dev/shm. */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "data/idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0])
        snprintf(path, sizeof path, "/dev/shm/fuzz-idx-%d", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    for (int ndims = 1; ndims <= 3; ndims += 2) {
        struct idx x;
        struct err e = {0};
        if (idx_read(&x, path, ndims, &e) == 0) {
            /* what was accepted holds what its header says */
            size_t n = 1;
            for (int i = 0; i < x.ndims; i++)
                n *= x.dims[i];
            if (n != x.size)
                __builtin_trap();
            idx_free(&x);
        } else if (!e.msg[0]) {
            __builtin_trap();   /* an error always says what is wrong */
        }
    }
    return 0;
}
