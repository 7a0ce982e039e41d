#include "deskew.h"

#include <math.h>
#include <string.h>

/* The source image as floats with a zero frame: one row above and below, cols
 * columns left and right (and one more), so every bilinear tap of a row that
 * overlaps the image at all is a plain load. */
#define PAD_W(cols) (3 * (size_t)(cols) + 2)

size_t deskew_scratch_bytes(uint32_t rows, uint32_t cols)
{
    return ((size_t)rows + 2) * PAD_W(cols) * sizeof(float);
}

/* The ink-weighted centre (cx, cy) and slant of one image, from exact integer
 * sums; 0 when it has no ink. */
static int moments(const uint8_t *p, uint32_t rows, uint32_t cols, double *cx, double *cy,
                   double *slant)
{
    uint64_t m = 0, sx = 0, sy = 0, syy = 0, sxy = 0;
    for (uint32_t y = 0; y < rows; y++) {
        uint64_t rs = 0, rx = 0;
        const uint8_t *r = p + (size_t)y * cols;
        for (uint32_t x = 0; x < cols; x++)
            rs += r[x], rx += (uint64_t)r[x] * x;
        m += rs, sx += rx, sy += rs * y, syy += rs * y * y, sxy += rx * y;
    }
    if (!m)
        return 0;
    const double dm = (double)m;
    *cx = (double)sx / dm, *cy = (double)sy / dm;
    const double vyy = (double)syy - (double)sy * *cy, vxy = (double)sxy - (double)sx * *cy;
    /* a single row of ink has no vertical spread to measure a slant by */
    *slant = vyy > 1e-3 * dm ? vxy / vyy : 0;
    return 1;
}

static void deskew_one(uint8_t *img, uint32_t rows, uint32_t cols, float *pad)
{
    double cx, cy, slant;
    if (!moments(img, rows, cols, &cx, &cy, &slant))
        return;
    const size_t w = PAD_W(cols);
    for (uint32_t y = 0; y < rows; y++) {
        float *r = pad + (y + 1) * w + cols;
        for (uint32_t x = 0; x < cols; x++)
            r[x] = img[(size_t)y * cols + x];
    }
    const double oy = (rows - 1) / 2.0, ox = (cols - 1) / 2.0;
    for (uint32_t y = 0; y < rows; y++) {
        uint8_t *out = img + (size_t)y * cols;
        /* output row y samples source row sy, every column shifted by the same
         * amount: the taps and their weights are the row's */
        const double sy = y - oy + cy, shift = cx - ox + slant * (y - oy);
        const double y0 = floor(sy), x0 = floor(shift);
        if (y0 < -1 || y0 >= rows || x0 < -(double)cols || x0 >= cols) {
            memset(out, 0, cols);
            continue;
        }
        const float fy = (float)(sy - y0), fx = (float)(shift - x0);
        const float w00 = (1 - fy) * (1 - fx), w01 = (1 - fy) * fx, w10 = fy * (1 - fx),
                    w11 = fy * fx;
        const float *p0 = pad + (size_t)(y0 + 1) * w + cols + (long)x0, *p1 = p0 + w;
        for (uint32_t x = 0; x < cols; x++) {
            float v = nearbyintf(w00 * p0[x] + w01 * p0[x + 1] + w10 * p1[x] + w11 * p1[x + 1]);
            out[x] = (uint8_t)(v > 255 ? 255 : v);
        }
    }
}

void deskew_images(uint8_t *x, uint32_t n, uint32_t rows, uint32_t cols, void *scratch)
{
    float *pad = scratch;
    memset(pad, 0, deskew_scratch_bytes(rows, cols));   /* the frame stays zero */
    for (uint32_t i = 0; i < n; i++)
        deskew_one(x + (size_t)i * rows * cols, rows, cols, pad);
}
