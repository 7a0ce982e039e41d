/* outstats_testing: the expected calibration error on its own, for the tests
 * (production computes it inside outstats_compute). */
#ifndef OUTSTATS_TESTING_H
#define OUTSTATS_TESTING_H

#include "outstats.h"

/* Expected calibration error over `bins` equal-width bins of confidence:
 * sum over bins of |accuracy - mean confidence| * (items in bin) / n. */
double outstats_ece(const float *conf, const uint8_t *correct, long long n, int bins);

#endif
