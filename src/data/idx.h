/* idx: read one IDX file (the MNIST format) through zlib, so gzip (single or
 * multi-member) and uncompressed files both work. Everything the header claims is
 * checked against what the file really holds before it is trusted. */
#ifndef IDX_H
#define IDX_H

#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"

#define IDX_MAX_DIMS 3

struct idx {
    int ndims;
    uint32_t dims[IDX_MAX_DIMS];
    uint8_t *data;   /* dims[0] * ... * dims[ndims-1] bytes */
    size_t size;
    uint32_t crc;    /* idx_read: CRC-32 of the whole file as read, header included, after
                        any gunzip (what gzip -lv shows): the identity of the data */
};

/* Read an unsigned-byte IDX file with exactly `ndims` dimensions
 * (magic 0x0801 labels, 0x0803 images). Errors name the file. */
int idx_read(struct idx *out, const char *path, int ndims, struct err *e);
void idx_free(struct idx *x);

/* Only the header of such a file, checked as idx_read checks it (including
 * that the file can hold what it claims); out->data stays NULL. */
int idx_probe(struct idx *out, const char *path, int ndims, struct err *e);

#endif
