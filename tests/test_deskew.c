/* Deskewing: images whose answer is known. A slanted stroke comes out
 * upright and centred, a dot in a corner moves to the centre, an upright
 * centred image is left as it is, and images of other shapes (non-square,
 * a single row, no ink) stay inside their buffer. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "data/deskew.h"

/* the ink-weighted centre and slant, recomputed here from the definition */
static void measure(const uint8_t *p, int rows, int cols, double *cx, double *cy, double *slant)
{
    double m = 0, sx = 0, sy = 0;
    for (int y = 0; y < rows; y++)
        for (int x = 0; x < cols; x++)
            m += p[y * cols + x], sx += p[y * cols + x] * x, sy += p[y * cols + x] * y;
    *cx = sx / m, *cy = sy / m;
    double vyy = 0, vxy = 0;
    for (int y = 0; y < rows; y++)
        for (int x = 0; x < cols; x++)
            vyy += p[y * cols + x] * (y - *cy) * (y - *cy),
            vxy += p[y * cols + x] * (y - *cy) * (x - *cx);
    *slant = vxy / vyy;
}

static void deskew(uint8_t *x, uint32_t n, uint32_t rows, uint32_t cols)
{
    void *scratch = malloc(deskew_scratch_bytes(rows, cols));
    assert_non_null(scratch);
    deskew_images(x, n, rows, cols, scratch);
    free(scratch);
}

/* a stroke leaning right by 0.5 px per row, off centre, comes out upright at
 * the centre; the ink is kept (bilinear sampling moves it, rounding aside) */
static void slanted_stroke_comes_out_upright(void **state)
{
    (void)state;
    enum { R = 28, C = 28 };
    uint8_t img[R * C] = {0};
    for (int y = 6; y < 22; y++)
        for (int x = 0; x < 3; x++)
            img[y * C + 6 + (y - 6) / 2 + x] = 255;
    double cx, cy, slant;
    measure(img, R, C, &cx, &cy, &slant);
    assert_true(slant > 0.4 && cx < 12);
    long before = 0, after = 0;
    for (int i = 0; i < R * C; i++)
        before += img[i];
    deskew(img, 1, R, C);
    for (int i = 0; i < R * C; i++)
        after += img[i];
    measure(img, R, C, &cx, &cy, &slant);
    assert_true(fabs(slant) < 0.03);
    assert_true(fabs(cx - 13.5) < 0.1 && fabs(cy - 13.5) < 0.1);
    assert_true(labs(after - before) < before / 50);
}

/* a dot at (1, 2) moves to the centre (13.5, 13.5): split over the four
 * pixels around it, which is where the sign of each translation shows */
static void dot_moves_to_the_centre(void **state)
{
    (void)state;
    enum { R = 28, C = 28 };
    uint8_t img[R * C] = {0};
    img[2 * C + 1] = 200;
    deskew(img, 1, R, C);
    for (int y = 0; y < R; y++)
        for (int x = 0; x < C; x++) {
            int inner = (y == 13 || y == 14) && (x == 13 || x == 14);
            assert_int_equal(img[y * C + x], inner ? 50 : 0);
        }
}

/* and one at the bottom right, (26, 25): the rows whose source lies below
 * the image come out blank, not read past its frame */
static void far_dot_moves_to_the_centre(void **state)
{
    (void)state;
    enum { R = 28, C = 28 };
    uint8_t img[R * C] = {0};
    img[25 * C + 26] = 200;
    deskew(img, 1, R, C);
    for (int y = 0; y < R; y++)
        for (int x = 0; x < C; x++) {
            int inner = (y == 13 || y == 14) && (x == 13 || x == 14);
            assert_int_equal(img[y * C + x], inner ? 50 : 0);
        }
}

/* upright and centred already: every pixel as it was */
static void upright_centred_image_is_kept(void **state)
{
    (void)state;
    enum { R = 28, C = 28 };
    uint8_t img[R * C] = {0}, copy[R * C];
    for (int y = 4; y < 24; y++)   /* columns 13-14, rows 4-23: centre (13.5, 13.5) */
        img[y * C + 13] = img[y * C + 14] = (uint8_t)(100 + (y < 14 ? y : 27 - y));
    memcpy(copy, img, sizeof img);
    deskew(img, 1, R, C);
    assert_memory_equal(img, copy, sizeof img);
}

/* no ink: unchanged; a single row: centred, not sheared; a non-square and a
 * far-off-centre batch stay in their buffers (asan) and each image is done
 * on its own (the batch is the images one at a time) */
static void other_shapes(void **state)
{
    (void)state;
    uint8_t blank[5 * 7] = {0}, zero[5 * 7] = {0};
    deskew(blank, 1, 5, 7);
    assert_memory_equal(blank, zero, sizeof blank);

    uint8_t row[5 * 7] = {0};
    row[0 * 7 + 0] = row[0 * 7 + 1] = row[0 * 7 + 2] = 90;   /* top row, left: centre (1, 0) */
    deskew(row, 1, 5, 7);
    for (int x = 0; x < 7; x++)
        for (int y = 0; y < 5; y++)
            assert_int_equal(row[y * 7 + x], y == 2 && x >= 2 && x <= 4 ? 90 : 0);

    enum { R = 9, C = 40, N = 3 };
    uint8_t batch[N * R * C], one[R * C];
    srand(7);
    for (int i = 0; i < N * R * C; i++)
        batch[i] = (i % C) > 30 && rand() % 3 ? (uint8_t)(rand() % 256) : 0;
    memcpy(one, batch + R * C, sizeof one);
    deskew(batch, N, R, C);
    deskew(one, 1, R, C);
    assert_memory_equal(one, batch + R * C, sizeof one);
    double cx, cy, slant;
    measure(one, R, C, &cx, &cy, &slant);
    assert_true(fabs(cx - (C - 1) / 2.0) < 0.5 && fabs(cy - (R - 1) / 2.0) < 0.5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slanted_stroke_comes_out_upright),
        cmocka_unit_test(dot_moves_to_the_centre),
        cmocka_unit_test(far_dot_moves_to_the_centre),
        cmocka_unit_test(upright_centred_image_is_kept),
        cmocka_unit_test(other_shapes),
    };
    return cmocka_run_group_tests_name("deskew", tests, NULL, NULL);
}
