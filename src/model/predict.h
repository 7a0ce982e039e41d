/* predict: --predict, a saved model's outputs for new images. */
#ifndef PREDICT_H
#define PREDICT_H

#include "../config/config.h"
#include "../util/err.h"
#include "checkpoint.h"

/* Print one row per image of c->predict (an IDX file, or "-": raw images of
 * the model's input size on stdin) with the model ck (read from c->load). */
int predict_run(const struct config *c, const struct checkpoint *ck, struct err *e);

#endif
