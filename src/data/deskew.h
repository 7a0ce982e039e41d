/* deskew: straighten and centre each image by its moments, the preprocessing
 * of LeCun et al.'s MNIST table ("deskewing"): the digit's ink-weighted centre
 * moves to the image centre and its slant (the covariance of x with y over
 * the variance of y) is sheared away, x' = x + slant (y - centre). Bilinear
 * sampling, zero outside, rounded back to 8 bits. It reads one image and no
 * label, so the training, validation, test and --predict images all go
 * through the same map. */
#ifndef DESKEW_H
#define DESKEW_H

#include <stddef.h>
#include <stdint.h>

/* bytes of scratch deskew_images needs for images of rows x cols */
size_t deskew_scratch_bytes(uint32_t rows, uint32_t cols);

/* Deskew the n images of rows x cols pixels at x, in place. An image without
 * ink is left as it is; one without vertical spread (a single row) is only
 * centred. */
void deskew_images(uint8_t *x, uint32_t n, uint32_t rows, uint32_t cols, void *scratch);

#endif
