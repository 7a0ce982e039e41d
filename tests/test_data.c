/* The IDX loader and batching, on small files each test writes itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "data/dataset.h"
#include "data/idx.h"
#include "data/pixel.h"
#include "support/support.h"

static uint8_t PIX[3 * 2 * 2] = {0, 255, 51, 102, 1, 2, 3, 4, 5, 6, 7, 8};
static uint8_t LAB[3] = {7, 0, 9};
static const uint32_t IMG_DIMS[3] = {3, 2, 2}, LAB_DIMS[1] = {3};

static int setup(void **state)
{
    *state = tmpdir_make();
    return 0;
}

static int teardown(void **state)
{
    tmpdir_remove(*state);
    return 0;
}

static void write_images(const char *path, int gz)
{
    uint8_t *b;
    size_t n = idx_bytes(&b, 3, IMG_DIMS, PIX);
    gz ? write_gz(path, b, n) : write_bytes(path, b, n);
    free(b);
}

static void write_labels(const char *path, const uint32_t *dims, const uint8_t *lab)
{
    uint8_t *b;
    size_t n = idx_bytes(&b, 1, dims, lab);
    write_gz(path, b, n);
    free(b);
}

/* expect idx_read(path) to fail with code and a message containing `what` */
static void expect_idx_error(const char *path, int ndims, int code, const char *what)
{
    struct idx x;
    struct err e = {0};
    assert_int_equal(idx_read(&x, path, ndims, &e), code);
    if (!strstr(e.msg, what) || !strstr(e.msg, path))
        fail_msg("message \"%s\" lacks \"%s\" or the path", e.msg, what);
    assert_null(x.data);
}

static void reads_gzip_and_raw(void **state)
{
    const char *dir = *state;
    for (int gz = 0; gz < 2; gz++) {
        const char *p = path_in(dir, gz ? "i.gz" : "i.raw");
        write_images(p, gz);
        struct idx x;
        struct err e = {0};
        assert_int_equal(idx_read(&x, p, 3, &e), 0);
        assert_int_equal(x.ndims, 3);
        assert_int_equal(x.dims[0], 3);
        assert_int_equal(x.dims[2], 2);
        assert_int_equal(x.size, 12);
        assert_memory_equal(x.data, PIX, 12);
        idx_free(&x);
    }
}

static void reads_multi_member_gzip(void **state)
{
    const char *dir = *state;
    uint8_t *b;
    size_t n = idx_bytes(&b, 3, IMG_DIMS, PIX);
    write_gz(path_in(dir, "a.gz"), b, 7);
    write_gz(path_in(dir, "b.gz"), b + 7, n - 7);
    free(b);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cat %s/a.gz %s/b.gz > %s/ab.gz", dir, dir, dir);
    assert_int_equal(system(cmd), 0);
    struct idx x;
    struct err e = {0};
    assert_int_equal(idx_read(&x, path_in(dir, "ab.gz"), 3, &e), 0);
    assert_memory_equal(x.data, PIX, 12);
    idx_free(&x);
}

static void rejects_broken_gzip(void **state)
{
    const char *dir = *state;
    const char *good = path_in(dir, "good.gz");
    write_images(good, 1);
    FILE *f = fopen(good, "rb");
    uint8_t buf[256];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    /* cut short: lose the 8-byte trailer and a bit of the stream */
    write_bytes(path_in(dir, "cut.gz"), buf, n - 10);
    expect_idx_error(path_in(dir, "cut.gz"), 3, ERR_DATA, "cut short");
    /* a flipped bit in the CRC-32 of the trailer */
    buf[n - 8] ^= 1;
    write_bytes(path_in(dir, "crc.gz"), buf, n);
    expect_idx_error(path_in(dir, "crc.gz"), 3, ERR_DATA, "incorrect data check");
}

static void rejects_bad_headers(void **state)
{
    const char *dir = *state;
    write_bytes(path_in(dir, "empty"), "", 0);
    expect_idx_error(path_in(dir, "empty"), 3, ERR_DATA, "empty");
    write_text(path_in(dir, "text"), "hello, world\n");
    expect_idx_error(path_in(dir, "text"), 3, ERR_DATA, "neither gzip nor");
    /* a label file where images are expected */
    write_labels(path_in(dir, "labels"), LAB_DIMS, LAB);
    expect_idx_error(path_in(dir, "labels"), 3, ERR_DATA, "magic number 0x00000801");
    uint8_t *b;
    uint32_t zero[3] = {3, 0, 2};
    size_t n = idx_bytes(&b, 3, zero, NULL);
    write_gz(path_in(dir, "zero"), b, n);
    free(b);
    expect_idx_error(path_in(dir, "zero"), 3, ERR_DATA, "dimension 1 is zero");
    /* absurd headers are refused before anything is allocated for them */
    uint8_t hdr[16] = {0, 0, 8, 3, 0x80, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28};
    write_gz(path_in(dir, "huge"), hdr, sizeof hdr);
    expect_idx_error(path_in(dir, "huge"), 3, ERR_DATA, "more than");
    uint8_t wide[16] = {0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0xff, 0xff, 0, 0, 0xff, 0xff};
    write_gz(path_in(dir, "wide"), wide, sizeof wide);
    expect_idx_error(path_in(dir, "wide"), 3, ERR_DATA, "65535x65535");
    uint8_t big[16] = {0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    write_gz(path_in(dir, "big"), big, sizeof big);
    expect_idx_error(path_in(dir, "big"), 3, ERR_DATA, "absurd");
    /* an IDX file of another element type (0x0d: floats) is not ours */
    uint8_t floats[16] = {0, 0, 0x0d, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28};
    write_gz(path_in(dir, "floats"), floats, sizeof floats);
    expect_idx_error(path_in(dir, "floats"), 3, ERR_DATA, "neither gzip nor an unsigned-byte IDX");
    /* a header cut short in its dimensions, gzip or raw: the bytes it lacks */
    uint8_t cuthdr[10] = {0, 0, 8, 3, 0, 0, 0, 1, 0, 0};
    write_gz(path_in(dir, "cuthdr.gz"), cuthdr, sizeof cuthdr);
    expect_idx_error(path_in(dir, "cuthdr.gz"), 3, ERR_DATA, "header is cut short: 6 of 12 bytes");
    write_bytes(path_in(dir, "cuthdr"), cuthdr, sizeof cuthdr);
    expect_idx_error(path_in(dir, "cuthdr"), 3, ERR_DATA, "header is cut short: 6 of 12 bytes");
    /* a header that promises more than the file holds */
    uint8_t shortp[16 + 5] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28};
    write_gz(path_in(dir, "short"), shortp, sizeof shortp);
    expect_idx_error(path_in(dir, "short"), 3, ERR_DATA, "payload is cut short: 5 of 1568");
    write_bytes(path_in(dir, "short.raw"), shortp, sizeof shortp);
    expect_idx_error(path_in(dir, "short.raw"), 3, ERR_DATA,
                     "header claims 1568 bytes of data, the file holds 5");
    /* and one that promises less */
    n = idx_bytes(&b, 3, IMG_DIMS, PIX);
    uint8_t *longer = calloc(1, n + 3);
    memcpy(longer, b, n);
    write_gz(path_in(dir, "long"), longer, n + 3);
    free(b);
    free(longer);
    expect_idx_error(path_in(dir, "long"), 3, ERR_DATA, "unexpected data after");
}

/* A gzip file holding a header and size bytes of zeros, written as members
 * of 1 MiB each (multi-member gzip: every copy is one compressed member). */
static size_t write_zero_gz(const char *path, const uint8_t *hdr, size_t hlen, size_t size)
{
    uint8_t *zeros = calloc(1, 1 << 20);
    write_gz(path, hdr, hlen);
    FILE *f = fopen(path, "ab");
    for (size_t done = 0; done < size; done += 1 << 20) {
        size_t n = size - done < (1 << 20) ? size - done : (1 << 20);
        uLong cap = compressBound(n) + 32;
        uint8_t *z = malloc(cap);
        z_stream s = {0};
        assert_int_equal(deflateInit2(&s, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
        s.next_in = zeros, s.avail_in = (uInt)n, s.next_out = z, s.avail_out = (uInt)cap;
        assert_int_equal(deflate(&s, Z_FINISH), Z_STREAM_END);
        fwrite(z, 1, s.total_out, f);
        deflateEnd(&s);
        free(z);
    }
    long len = ftell(f);
    fclose(f);
    free(zeros);
    return (size_t)len;
}

/* A header may claim only what the file can expand to (deflate: at most about
 * 1032:1; raw: the file itself), refused before any payload is read. */
static void rejects_claims_beyond_the_file(void **state)
{
    const char *dir = *state;
    /* 2^28 images of 28x28 (210 GB) in a file of a few hundred KB holding 64 MiB */
    uint8_t claim[16] = {0, 0, 8, 3, 0x10, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28};
    size_t len = write_zero_gz(path_in(dir, "bomb.gz"), claim, sizeof claim, 64u << 20);
    assert_true(len < (64u << 20) / 900);
    expect_idx_error(path_in(dir, "bomb.gz"), 3, ERR_DATA, "more than a");
    struct idx x;
    struct err e = {0};
    assert_int_equal(idx_probe(&x, path_in(dir, "bomb.gz"), 3, &e), ERR_DATA);
    /* the real limit of deflate still loads: 1 MiB of zeros at level 9 */
    uint8_t one[16] = {0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 4, 0, 0, 0, 4, 0};
    len = write_zero_gz(path_in(dir, "dense.gz"), one, sizeof one, 1u << 20);
    assert_true(len * 1000 < (1u << 20) + 50 * 1000);   /* near the ratio, yet within it */
    memset(&e, 0, sizeof e);
    assert_int_equal(idx_read(&x, path_in(dir, "dense.gz"), 3, &e), 0);
    assert_int_equal(x.size, 1u << 20);
    idx_free(&x);
    assert_int_equal(idx_probe(&x, path_in(dir, "dense.gz"), 3, &e), 0);
    assert_int_equal(x.dims[1], 1024);
    assert_null(x.data);
    /* raw: one byte short of the claim is refused at the header */
    uint8_t *b;
    size_t n = idx_bytes(&b, 3, IMG_DIMS, PIX);
    write_bytes(path_in(dir, "short.idx"), b, n - 1);
    free(b);
    expect_idx_error(path_in(dir, "short.idx"), 3, ERR_DATA,
                     "header claims 12 bytes of data, the file holds 11");
}

static void rejects_missing_files(void **state)
{
    const char *dir = *state;
    expect_idx_error(path_in(dir, "nope.gz"), 3, ERR_NOINPUT, "No such file");
    expect_idx_error(dir, 3, ERR_NOINPUT, "not a regular file");
}

static void dataset_cross_checks(void **state)
{
    const char *dir = *state;
    const char *img = path_in(dir, "img.gz"), *lab = path_in(dir, "lab.gz");
    write_images(img, 1);
    write_labels(lab, LAB_DIMS, LAB);
    struct dataset d;
    struct err e = {0};
    assert_int_equal(dataset_load(&d, img, lab, &e), 0);
    assert_int_equal(d.n, 3);
    assert_int_equal(d.dim, 4);
    assert_int_equal(d.y[2], 9);
    dataset_free(&d);

    uint32_t two[1] = {2};
    write_labels(lab, two, LAB);
    memset(&e, 0, sizeof e);
    assert_int_equal(dataset_load(&d, img, lab, &e), ERR_DATA);
    assert_non_null(strstr(e.msg, "2 labels for the 3 images"));

    uint8_t bad[3] = {1, 10, 2};
    write_labels(lab, LAB_DIMS, bad);
    memset(&e, 0, sizeof e);
    assert_int_equal(dataset_load(&d, img, lab, &e), ERR_DATA);
    assert_non_null(strstr(e.msg, "label 10 of item 1 is not a digit"));
}

/* a pixel value as the loader scales it */
static float px(int v) { return (float)v * (1.0f / 255.0f); }

static void batches_scale_and_shift(void **state)
{
    (void)state;
    uint8_t pix[9] = {10, 20, 30, 40, 50, 60, 70, 80, 255};
    uint8_t y[1] = {3};
    struct dataset d = {.n = 1, .rows = 3, .cols = 3, .dim = 9, .x = pix, .y = y};
    float X[9];
    uint32_t idx[1] = {0};
    batch_gather(X, &d, idx, 1, NULL, NULL);
    assert_float_equal(X[0], 10 / 255.0, 1e-7);
    assert_float_equal(X[8], 1.0, 1e-7);
    /* with shift:1 the image sometimes stays, mostly moves, and its centre pixel
     * is never lost */
    struct rng r;
    rng_seed(&r, 1, RNG_AUGMENT);
    struct distort *shift1 = distort_create(&(struct distort_spec){.shift = 1}, 3, 3);
    int seen_center = 0, seen_moved = 0;
    for (int k = 0; k < 200; k++) {
        batch_gather(X, &d, idx, 1, shift1, &r);
        int same = 1;
        for (int p = 0; p < 9; p++)
            same &= X[p] == px(pix[p]);
        seen_center += same;
        seen_moved += !same;
        /* the centre pixel 50 moves to a neighbour or stays; never vanishes */
        int found = 0;
        for (int p = 0; p < 9; p++)
            found |= X[p] == px(50);
        assert_true(found);
    }
    assert_true(seen_center > 5 && seen_moved > 150);
    /* an exact shift: dx = 1 moves column 0 to column 1 and zero-fills column 0 */
    float Z[9];
    for (;;) {
        batch_gather(Z, &d, idx, 1, shift1, &r);
        if (Z[1] == px(10) && Z[4] == px(40))
            break;
    }
    assert_float_equal(Z[0], 0, 0);
    assert_float_equal(Z[3], 0, 0);
    distort_free(shift1);
}

/* input range pm1: 2 v - 1 of the unit value, plain and distorted alike (the
 * distortion's zero fill is background, -1); the same draws as unit */
static void batches_in_pm1(void **state)
{
    (void)state;
    uint8_t pix[9] = {0, 20, 30, 40, 50, 60, 70, 80, 255};
    uint8_t y[1] = {3};
    struct dataset u = {.n = 1, .rows = 3, .cols = 3, .dim = 9, .x = pix, .y = y};
    struct dataset d = u;
    d.range = INPUT_PM1;
    float X[9], U[9];
    uint32_t idx[1] = {0};
    batch_gather(X, &d, idx, 1, NULL, NULL);
    assert_float_equal(X[0], -1.0, 0);
    assert_float_equal(X[8], 1.0, 0);
    assert_float_equal(X[4], 2 * px(50) - 1, 1e-7);
    struct rng r, q;
    rng_seed(&r, 5, RNG_AUGMENT);
    rng_seed(&q, 5, RNG_AUGMENT);
    struct distort *shift1 = distort_create(&(struct distort_spec){.shift = 1}, 3, 3);
    for (int k = 0; k < 20; k++) {
        batch_gather(X, &d, idx, 1, shift1, &r);
        batch_gather(U, &u, idx, 1, shift1, &q);
        for (int p = 0; p < 9; p++)
            assert_float_equal(X[p], 2 * U[p] - 1, 1e-7);
    }
    distort_free(shift1);
}

/* batch_gather hands the distortion the images' labels: with narrow=1 a 7
 * is not rotated at all, a 3 is */
static void batches_pass_labels(void **state)
{
    (void)state;
    uint8_t pix[2 * 25];
    for (int p = 0; p < 50; p++)
        pix[p] = (uint8_t)(p * 5 % 256);
    uint8_t y[2] = {7, 3};
    struct dataset d = {.n = 2, .rows = 5, .cols = 5, .dim = 25, .x = pix, .y = y};
    float X[50], U[50];
    batch_gather(U, &d, NULL, 2, NULL, NULL);
    struct distort_spec sp = {.affine = true, .rot = 90, .narrow = 1};
    struct distort *w = distort_create(&sp, 5, 5);
    struct rng r;
    rng_seed(&r, 3, RNG_AUGMENT);
    batch_gather(X, &d, NULL, 2, w, &r);
    for (int p = 0; p < 25; p++)
        assert_float_equal(X[p], U[p], 1e-6);
    assert_memory_not_equal(X + 25, U + 25, sizeof(float) * 25);
    distort_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(reads_gzip_and_raw, setup, teardown),
        cmocka_unit_test_setup_teardown(reads_multi_member_gzip, setup, teardown),
        cmocka_unit_test_setup_teardown(rejects_broken_gzip, setup, teardown),
        cmocka_unit_test_setup_teardown(rejects_bad_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(rejects_claims_beyond_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(rejects_missing_files, setup, teardown),
        cmocka_unit_test_setup_teardown(dataset_cross_checks, setup, teardown),
        cmocka_unit_test(batches_scale_and_shift),
        cmocka_unit_test(batches_in_pm1),
        cmocka_unit_test(batches_pass_labels),
    };
    return cmocka_run_group_tests_name("data", tests, NULL, NULL);
}
