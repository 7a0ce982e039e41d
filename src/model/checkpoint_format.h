/* checkpoint_format: what the model file's writer (checkpoint_save.c) and
 * reader (checkpoint.c) share beyond checkpoint.h: the magic and the limits
 * on a model's shape. Private to src/model/. */
#ifndef CHECKPOINT_FORMAT_H
#define CHECKPOINT_FORMAT_H

#include "checkpoint.h"

static const char MAGIC[8] = {'T', 'R', 'A', 'I', 'N', 'M', 'D', 'L'};

/* the reader's limits on a model's shape */
static inline int check_shape(uint32_t L, const uint32_t *size, const char *name, struct err *e)
{
    if (L < 1 || L > MLP_MAX_LAYERS)
        return err_set(e, ERR_DATA, "%s: %u layers is not a model of this program", name, L);
    for (uint32_t l = 0; l <= L; l++)
        if (size[l] == 0 || size[l] > CHECKPOINT_MAX_WIDTH)
            return err_set(e, ERR_DATA, "%s: layer size %u is not plausible (a model file holds "
                           "layers of 1 to %u units)", name, size[l], CHECKPOINT_MAX_WIDTH);
    return 0;
}

#endif
