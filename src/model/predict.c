/* predict: --predict, the outputs of a saved model for new images: an IDX
 * file, or raw images on stdin ("-") streamed a batch at a time in constant
 * memory. One CSV row (or JSON line) per image: index, prediction, outputs. */
#include "predict.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../data/dataset.h"
#include "../data/deskew.h"
#include "../data/idx.h"
#include "../nn/mlp.h"
#include "../nn/precision.h"
#include "../report/report.h"
#include "../train/budget.h"
#include "../train/train.h"
#include "../util/interrupt.h"

/* --predict's images, one batch at a time: an IDX file, read and validated
 * whole before any output (its size is bounded by what the file can hold),
 * or raw images streamed from stdin ("-") through one batch buffer. */
struct images {
    const char *name;
    uint32_t dim, next;
    uint32_t rows, cols;  /* the IDX file's; stdin: a square's, when dim is one */
    struct idx file;     /* the IDX file; unused for stdin */
    uint8_t *buf;        /* stdin: one batch */
    uint32_t cap;        /* images buf holds */
};

static int open_images(struct images *im, const char *path, uint32_t dim, uint32_t batch,
                       struct err *e)
{
    memset(im, 0, sizeof *im);
    im->dim = dim;
    if (!strcmp(path, "-")) {
        im->name = "stdin";
        im->cap = batch;
        uint32_t side = 0;
        while ((side + 1) * (side + 1) <= dim)
            side++;
        if (side * side == dim)
            im->rows = im->cols = side;
        im->buf = malloc((size_t)dim * batch);
        return im->buf ? 0 : err_set(e, ERR_SOFTWARE, "stdin: out of memory");
    }
    im->name = path;
    struct idx h;
    if (idx_probe(&h, path, 3, e))
        return e->code;
    if (h.dims[1] * h.dims[2] != dim)
        return err_set(e, ERR_DATA, "%s: images of %ux%u pixels, the model takes %u", path,
                       h.dims[1], h.dims[2], dim);
    if (budget_check_bytes((double)h.size, budget_available(), "predict", path, e))
        return e->code;
    im->rows = h.dims[1], im->cols = h.dims[2];
    return idx_read(&im->file, path, 3, e);
}

/* Up to max raw images from stdin into im->buf; *n = 0 at its end. */
static int read_raw_batch(struct images *im, uint32_t *n, struct err *e)
{
    size_t want = (size_t)im->dim * im->cap, got = 0;
    while (got < want) {
        errno = 0;
        size_t k = fread(im->buf + got, 1, want - got, stdin);
        got += k;
        if (interrupt_check(e, "reading images from stdin"))
            return e->code;
        if (k == 0 && ferror(stdin))
            return err_set(e, ERR_IO, "stdin: %s", strerror(errno ? errno : EIO));
        if (k == 0)
            break;
    }
    if (got % im->dim)
        return err_set(e, ERR_DATA, "stdin: %zu bytes left over; images are %u bytes",
                       got % im->dim, im->dim);
    *n = (uint32_t)(got / im->dim);
    return 0;
}

/* The next batch of at most im->cap (stdin) or max (file) images as a dataset view. */
static int next_images(struct images *im, uint32_t max, struct dataset *d, struct err *e)
{
    uint32_t n = 0;
    if (im->buf) {
        if (read_raw_batch(im, &n, e))
            return e->code;
        *d = (struct dataset){.n = n, .rows = im->rows, .cols = im->cols, .dim = im->dim,
                              .x = im->buf};
    } else {
        uint32_t left = im->file.dims[0] - im->next;
        n = left < max ? left : max;
        *d = (struct dataset){.n = n, .rows = im->rows, .cols = im->cols, .dim = im->dim,
                              .x = im->file.data + (size_t)im->next * im->dim};
    }
    im->next += n;
    return 0;
}

static void close_images(struct images *im)
{
    idx_free(&im->file);
    free(im->buf);
}

/* the network a saved model describes, with its weights (as --resume
 * builds it: checkpoint_load_weights) */
static struct mlp *model_from(const struct config *c, const struct checkpoint *ck, struct err *e)
{
    struct mlp_spec spec = trainer_spec(c, (int)ck->size[0], (int)ck->size[ck->L]);
    struct mlp *m = mlp_create(&spec);
    if (!m) {
        err_set(e, ERR_SOFTWARE, "out of memory");
        return NULL;
    }
    if (checkpoint_load_weights(m, ck, c, c->load, e)) {
        mlp_free(m);
        return NULL;
    }
    return m;
}

/* one batch of predictions, after checking that the model's outputs are numbers */
static int predict_batch(const struct config *c, struct mlp *m, const struct dataset *d,
                         uint32_t from, void *scratch, struct err *e)
{
    const int K = m->size[m->L];
    if (c->deskew)   /* the images the model learnt from were deskewed */
        deskew_images(d->x, d->n, d->rows, d->cols, scratch);
    batch_gather(m->a[0], d, NULL, (int)d->n, NULL, NULL);
    const float *Z = mlp_forward(m, (int)d->n, NULL);
    if (!Z)
        return err_set(e, m->err.code, "%s", m->err.msg);
    if (!trainer_finite(Z, (size_t)d->n * (size_t)K))
        return err_set(e, ERR_DATA, "%s: the model's outputs are not finite (images %u to %u)",
                       c->load, from, from + d->n - 1);
    const struct head head = trainer_head(c);
    head_outputs(&head, m->probs, Z, (int)d->n, K);
    if (from == 0 && !c->json) {
        fputs("index,prediction", stdout);
        for (int k = 0; k < K; k++)
            printf(",p%d", k);
        putchar('\n');
    }
    report_prediction_rows(stdout, c->json, from, m->probs, Z, (int)d->n, K);
    return 0;
}

int predict_run(const struct config *c, const struct checkpoint *ck, struct err *e)
{
    if (c->task != TASK_CLASSIFY)
        return err_set(e, ERR_USAGE, "predict: only for task classify");
    if (onednn_check_precision((enum precision)c->precision, e))
        return e->code;
    struct mlp *m = model_from(c, ck, e);
    struct images im = {0};
    uint32_t step = m ? (uint32_t)m->spec.max_batch : 0, from = 0;
    int rc = m ? open_images(&im, c->predict, ck->size[0], step, e) : e->code;
    void *scratch = NULL;
    if (!rc && c->deskew) {
        if (!im.rows)
            rc = err_set(e, ERR_USAGE, "predict: the model deskews its images, which needs their "
                         "rows and columns: raw images of %u bytes are not square; give an IDX "
                         "file", im.dim);
        else if (!(scratch = malloc(deskew_scratch_bytes(im.rows, im.cols))))
            rc = err_set(e, ERR_SOFTWARE, "predict: out of memory");
    }
    while (!rc) {
        struct dataset d;
        rc = next_images(&im, step, &d, e);
        if (rc || !d.n)
            break;
        if (d.n > UINT32_MAX - from) {   /* the row index would wrap */
            rc = err_set(e, ERR_DATA, "%s: more than %u images", im.name, UINT32_MAX);
            break;
        }
        d.range = (int)c->input_range;   /* the model's, as it was trained */
        rc = predict_batch(c, m, &d, from, scratch, e);
        from += d.n;
        char what[64];
        snprintf(what, sizeof what, "predicting (after %u images)", from);
        if (!rc)
            rc = interrupt_check(e, what);
    }
    if (!rc && from == 0)
        rc = err_set(e, ERR_DATA, "%s: no images (raw images of %u bytes each expected)",
                     im.name, ck->size[0]);
    close_images(&im);
    free(scratch);
    mlp_free(m);
    return rc;
}
