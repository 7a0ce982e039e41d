#include "idx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <zlib.h>

#include "../util/interrupt.h"

/* Caps on what a header may ask for; real IDX data sets are far below them. */
#define IDX_MAX_ITEMS  (1u << 28)         /* images or labels in one file */
#define IDX_MAX_PIXELS (1u << 20)         /* rows * cols of one image */
#define IDX_CHUNK      (1u << 20)        /* also how often a signal is looked for */
#define CHECK_WHAT     (4096 + 32)

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* zlib's gzerror puts the path the file was opened with before its reason;
 * the message names the file once */
static const char *gz_reason(const char *msg, const char *path)
{
    size_t n = strlen(path);
    return strncmp(msg, path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ' ? msg + n + 2 : msg;
}

/* gzread into buf; returns bytes read, or -1 with the error recorded. A
 * signal ends the read here, whether or not it broke a read() underneath. */
static long read_some(gzFile f, void *buf, unsigned n, const char *path, struct err *e)
{
    int got = gzread(f, buf, n);
    if (interrupt_signal) {
        char what[CHECK_WHAT];
        snprintf(what, sizeof what, "loading %s", path);
        interrupt_check(e, what);
        return -1;
    }
    if (got < 0) {
        int zerr;
        const char *msg = gz_reason(gzerror(f, &zerr), path);
        if (zerr == Z_ERRNO)
            msg = strerror(errno);
        err_set(e, zerr == Z_ERRNO ? ERR_IO : ERR_DATA, "%s: %s", path,
                zerr == Z_BUF_ERROR ? "gzip stream is cut short" : msg);
        return -1;
    }
    return got;
}

/* A complete read of n bytes, or an error saying what was missing. */
static int read_exact(gzFile f, void *buf, size_t n, const char *what, const char *path,
                      struct err *e)
{
    size_t done = 0;
    while (done < n) {
        unsigned want = n - done > IDX_CHUNK ? IDX_CHUNK : (unsigned)(n - done);
        long got = read_some(f, (uint8_t *)buf + done, want, path, e);
        if (got < 0)
            return e->code;
        if (got == 0)
            return err_set(e, ERR_DATA, "%s: %s is cut short: %zu of %zu bytes", path, what,
                           done, n);
        done += (size_t)got;
    }
    return 0;
}

static int check_magic(const uint8_t *h, int ndims, const char *path, struct err *e)
{
    uint32_t magic = be32(h), want = 0x0800u | (uint32_t)ndims;
    if (h[0] || h[1] || h[2] != 0x08)
        return err_set(e, ERR_DATA, "%s: neither gzip nor an unsigned-byte IDX file", path);
    if (magic != want)
        return err_set(e, ERR_DATA,
                       "%s: not an IDX %s file (magic number 0x%08x, expected 0x%08x)", path,
                       ndims == 1 ? "label" : "image", magic, want);
    return 0;
}

static int check_dims(struct idx *x, const uint8_t *h, int ndims, const char *path,
                      struct err *e)
{
    uint64_t size = 1;
    for (int i = 0; i < ndims; i++) {
        x->dims[i] = be32(h + 4 + 4 * i);
        if (x->dims[i] == 0)
            return err_set(e, ERR_DATA, "%s: dimension %d is zero", path, i);
        size *= x->dims[i];   /* at most 3 factors of 2^32: checked before overflow below */
        if (size > (uint64_t)IDX_MAX_ITEMS * IDX_MAX_PIXELS)
            return err_set(e, ERR_DATA, "%s: header claims an absurd size (%u items)", path,
                           x->dims[0]);
    }
    if (x->dims[0] > IDX_MAX_ITEMS)
        return err_set(e, ERR_DATA, "%s: header claims %u items, more than the %u allowed",
                       path, x->dims[0], IDX_MAX_ITEMS);
    if (ndims == 3 && (uint64_t)x->dims[1] * x->dims[2] > IDX_MAX_PIXELS)
        return err_set(e, ERR_DATA, "%s: header claims %ux%u images, larger than %u pixels",
                       path, x->dims[1], x->dims[2], IDX_MAX_PIXELS);
    x->ndims = ndims;
    x->size = (size_t)size;
    return 0;
}

/* Map the pages of [from, to) of a new buffer in one call before inflate
 * writes them: faulting them in one by one costs a page fault per 4 KiB of
 * MNIST, a large share of the start-up (docs/performance.md). Nothing is
 * reserved beyond what was allocated; where the kernel lacks
 * MADV_POPULATE_WRITE (before Linux 5.14) the pages fault in one by one. */
static void populate(uint8_t *p, size_t from, size_t to)
{
#ifdef MADV_POPULATE_WRITE
    const uintptr_t page = 4096;
    uintptr_t a = ((uintptr_t)p + from + page - 1) & ~(page - 1);
    uintptr_t b = ((uintptr_t)p + to) & ~(page - 1);
    if (b > a)
        madvise((void *)a, b - a, MADV_POPULATE_WRITE);
#else
    (void)p, (void)from, (void)to;
#endif
}

/* The payload grows as data really arrives, so a lying header cannot make us
 * allocate more than about twice what the file holds. */
static int read_payload(struct idx *x, gzFile f, const char *path, struct err *e)
{
    size_t cap = 0, done = 0;
    while (done < x->size) {
        if (done == cap) {
            size_t ncap = cap ? 2 * cap : IDX_CHUNK;
            if (ncap > x->size)
                ncap = x->size;
            uint8_t *p = realloc(x->data, ncap);
            if (!p)
                return err_set(e, ERR_SOFTWARE, "%s: out of memory for %zu bytes", path, ncap);
            x->data = p;
            populate(p, cap, ncap);
            cap = ncap;
        }
        size_t want = cap - done > IDX_CHUNK ? IDX_CHUNK : cap - done;
        long got = read_some(f, x->data + done, (unsigned)want, path, e);
        if (got < 0)
            return e->code;
        if (got == 0)
            return err_set(e, ERR_DATA, "%s: payload is cut short: %zu of %zu bytes", path,
                           done, x->size);
        done += (size_t)got;
    }
    /* Reading past the end makes zlib check the gzip trailer (CRC and length). */
    uint8_t extra;
    long got = read_some(f, &extra, 1, path, e);
    if (got < 0)
        return e->code;
    if (got > 0)
        return err_set(e, ERR_DATA, "%s: unexpected data after the %zu-byte payload", path,
                       x->size);
    return 0;
}

/* deflate emits at least one bit per 258-byte match: no gzip file expands by
 * more than about 1032:1 (zlib's own figure); a header may not claim more */
#define IDX_MAX_RATIO 1032u

/* What the header claims must fit in the file: its size exactly for a raw
 * file, at most IDX_MAX_RATIO times it for gzip. Checked before the payload
 * is allocated, so a small file cannot make us reserve gigabytes. */
static int check_fits(const struct idx *x, gzFile f, uint64_t file_size, int ndims,
                      const char *path, struct err *e)
{
    uint64_t header = 4 + 4 * (uint64_t)ndims;
    if (gzdirect(f)) {
        if (x->size > file_size - header)
            return err_set(e, ERR_DATA, "%s: header claims %zu bytes of data, the file holds "
                           "%llu", path, x->size, (unsigned long long)(file_size - header));
        return 0;
    }
    if (x->size > file_size * IDX_MAX_RATIO)
        return err_set(e, ERR_DATA, "%s: header claims %zu bytes of data, more than a %llu-byte "
                       "gzip file can hold (deflate expands at most %u:1)", path, x->size,
                       (unsigned long long)file_size, IDX_MAX_RATIO);
    return 0;
}

/* Open path and read and check its header into out (no payload yet). */
static gzFile open_checked(struct idx *out, const char *path, int ndims, struct err *e)
{
    memset(out, 0, sizeof *out);
    struct stat st;
    if (stat(path, &st) != 0) {
        err_set(e, ERR_NOINPUT, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        err_set(e, ERR_NOINPUT, "%s: not a regular file", path);
        return NULL;
    }
    if (st.st_size == 0) {
        err_set(e, ERR_DATA, "%s: file is empty", path);
        return NULL;
    }
    gzFile f = gzopen(path, "rb");
    if (!f) {
        err_set(e, errno == ENOMEM ? ERR_SOFTWARE : ERR_NOINPUT, "%s: %s", path,
                errno ? strerror(errno) : "cannot open");
        return NULL;
    }
    gzbuffer(f, 1u << 17);
    uint8_t h[4 + 4 * IDX_MAX_DIMS];
    int rc = read_exact(f, h, 4, "header", path, e);
    if (!rc)
        rc = check_magic(h, ndims, path, e);
    if (!rc)
        rc = read_exact(f, h + 4, 4 * (size_t)ndims, "header", path, e);
    if (!rc)
        rc = check_dims(out, h, ndims, path, e);
    if (!rc)
        rc = check_fits(out, f, (uint64_t)st.st_size, ndims, path, e);
    if (rc) {
        gzclose(f);
        return NULL;
    }
    return f;
}

int idx_probe(struct idx *out, const char *path, int ndims, struct err *e)
{
    gzFile f = open_checked(out, path, ndims, e);
    if (!f)
        return e->code;
    gzclose(f);
    return 0;
}

int idx_read(struct idx *out, const char *path, int ndims, struct err *e)
{
    gzFile f = open_checked(out, path, ndims, e);
    if (!f)
        return e->code;
    int rc = read_payload(out, f, path, e);
    gzclose(f);
    if (rc)
        idx_free(out);
    return rc;
}

void idx_free(struct idx *x)
{
    if (!x)
        return;
    free(x->data);
    memset(x, 0, sizeof *x);
}
