/* train: train a small MLP on MNIST with a softmax or a sigmoid output head.
 *
 *   parse the config (config/) -> load the data (data/) -> build and train the
 *   network (nn/, train/) -> report (report/)
 *
 * This is the only place that turns an error into a message and an exit code. */
#include <cblas.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "config/config.h"
#include "data/dataset.h"
#include "report/report.h"
#include "train/train.h"
#include "util/err.h"
#include "util/timer.h"

#define TRAIN_VERSION "0.1.0"

static int load_data(const struct config *c, struct dataset *train, struct dataset *test,
                     struct err *e)
{
    if (dataset_load(train, c->train_images, c->train_labels, e) ||
        dataset_load(test, c->test_images, c->test_labels, e)) {
        if (e->code == ERR_NOINPUT)
            snprintf(e->msg + strlen(e->msg), sizeof e->msg - strlen(e->msg), "%s",
                     " (get MNIST with 'make data', or point --data-dir or MNIST_DIR at it)");
        return e->code;
    }
    if (train->rows != test->rows || train->cols != test->cols)
        return err_set(e, ERR_DATA, "%s: images are %ux%u but the training images are %ux%u",
                       c->test_images, test->rows, test->cols, train->rows, train->cols);
    return 0;
}

/* apply limit_train, limit_test and val to the loaded sets */
static int split_data(const struct config *c, struct dataset *train, struct dataset *val,
                      struct dataset *test, struct err *e)
{
    if (c->limit_train > train->n)
        return err_set(e, ERR_USAGE, "limit_train: %lld is more than the %u training images",
                       c->limit_train, train->n);
    if (c->limit_test > test->n)
        return err_set(e, ERR_USAGE, "limit_test: %lld is more than the %u test images",
                       c->limit_test, test->n);
    uint32_t n = c->limit_train ? (uint32_t)c->limit_train : train->n;
    if (c->val >= n)
        return err_set(e, ERR_USAGE, "val: %lld leaves no training images out of %u", c->val, n);
    *val = dataset_slice(train, n - (uint32_t)c->val, (uint32_t)c->val);
    *train = dataset_slice(train, 0, n - (uint32_t)c->val);
    if (c->limit_test)
        *test = dataset_slice(test, 0, (uint32_t)c->limit_test);
    return 0;
}

static int run(const struct config *c, struct err *e)
{
    double t0 = timer_now();
    struct dataset train_all = {0}, test_all = {0}, train, val, test;
    int rc = load_data(c, &train_all, &test_all, e);
    double load_seconds = timer_now() - t0;
    train = train_all;
    test = test_all;
    if (!rc)
        rc = split_data(c, &train, &val, &test, e);
    struct trainer t = {0};
    if (!rc) {
        openblas_set_num_threads((int)c->threads);
        rc = trainer_init(&t, c, &train, &val, &test, e);
    }
    if (!rc) {
        struct reporter r = {stdout, c, e};
        report_header(&r, t.model, &train, &val, &test, load_seconds);
        double t1 = timer_now();
        rc = trainer_run(&t, report_epoch, &r, e);
        double t2 = timer_now();
        struct metrics m;
        const int K = t.task.n_outputs;
        if (!rc && c->report)
            metrics_compute(&m, t.test_probs, t.test_pred, test.y, test.n, K);
        if (!rc && *c->predictions)
            rc = report_predictions(c->predictions, t.test_probs, t.test_pred, test.y, test.n,
                                    K, e);
        if (!rc) {
            struct run_summary s = {t.test_eval, c->report ? &m : NULL,
                                    t.task.kind == TASK_PAIRS, (int)c->epochs, t2 - t1,
                                    load_seconds, timer_now() - t0};
            rc = report_summary(&r, &s);
        }
    }
    trainer_free(&t);
    dataset_free(&train_all);
    dataset_free(&test_all);
    return rc;
}

static void print_version(void)
{
    printf("train %s\nzlib %s, cJSON %s, OpenBLAS %s\n", TRAIN_VERSION, zlibVersion(),
           cJSON_Version(), openblas_get_config());
}

static int print_config(const struct config *c, struct err *e)
{
    cJSON *j = config_to_json(c);
    char *s = j ? cJSON_Print(j) : NULL;
    cJSON_Delete(j);
    if (!s)
        return err_set(e, ERR_SOFTWARE, "out of memory");
    puts(s);
    cJSON_free(s);
    return 0;
}

int main(int argc, char **argv)
{
    struct err e = {0};
    struct config c;
    enum config_action action;
    int rc = config_from_args(&c, argc, argv, &action, &e);
    if (!rc) {
        switch (action) {
        case CONFIG_HELP:
            config_print_help(stdout);
            break;
        case CONFIG_VERSION:
            print_version();
            break;
        case CONFIG_PRINT:
            rc = print_config(&c, &e);
            break;
        case CONFIG_RUN:
            rc = run(&c, &e);
            break;
        }
    }
    /* output that never reached its destination is a failure too (train > /dev/full) */
    if (fflush(stdout) != 0 || ferror(stdout))
        rc = rc ? rc : err_set(&e, ERR_IO, "stdout: write error");
    if (rc) {
        fprintf(stderr, "train: %s\n", e.msg);
        if (rc == ERR_USAGE)
            fputs("Try 'train --help' for more information.\n", stderr);
    }
    return rc;
}
