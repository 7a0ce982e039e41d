/* config: the defaults and the values derived after everything is read (data
 * file paths, cross-checks between settings). The parts live beside it:
 * options.c (the table), json.c (config files, stored settings), args.c (the
 * command line), help.c (--help, --print-config). */
#include "options.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../nn/head.h"
#include "../nn/precision.h"
#include "task_kinds.h"
#include "../util/sysres.h"

/* ---- defaults ---- */

void config_defaults(struct config *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < option_count; i++) {
        struct err e = {0};
        if (*option_table[i].def && option_set_text(c, &option_table[i], option_table[i].def, option_table[i].key, &e)) {
            /* the table itself is wrong: a programming error caught by the tests */
            fprintf(stderr, "train: internal error: default of %s\n", e.msg);
            abort();
        }
    }
}

/* ---- derived values ---- */

enum output_format config_output_format(const char *path)
{
    const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;
    size_t n = strlen(name);
    if (n > 4 && !strcmp(name + n - 4, ".csv"))
        return FORMAT_CSV;
    if (n > 6 && !strcmp(name + n - 6, ".jsonl"))
        return FORMAT_JSONL;
    return FORMAT_NONE;
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int resolve_file(char *out, const char *dir, const char *name, struct err *e)
{
    if (*out)
        return 0;
    /* prefer NAME.gz, accept NAME uncompressed; name the .gz when neither is there */
    int n = snprintf(out, CONFIG_PATH_MAX, "%s/%s.gz", dir, name);
    if (n < 0 || n >= CONFIG_PATH_MAX)
        return err_set(e, ERR_USAGE, "data_dir: path too long");
    if (!is_file(out)) {
        out[n - 3] = 0;
        if (!is_file(out))
            out[n - 3] = '.';
    }
    return 0;
}

int config_resolve(struct config *c, struct err *e)
{
    if (*c->resume && *c->load)
        return err_set(e, ERR_USAGE, "resume: cannot be combined with --load");
    if (c->epochs == 0 && !*c->load)
        return err_set(e, ERR_USAGE, "epochs: 0 is only for evaluating a model given with --load");
    if (*c->predict && !*c->load)
        return err_set(e, ERR_USAGE, "predict: needs a model, given with --load");
    if (*c->export_onnx && !*c->load)
        return err_set(e, ERR_USAGE, "export: needs a model, given with --load");
    /* --predict only prints, --export only converts: an output either would
     * not write must not pass in silence */
    const char *only = *c->predict ? "predict" : *c->export_onnx ? "export" : NULL;
    const char *unused = !only ? NULL : *c->save ? "save" : *c->predictions ? "predictions"
                         : *c->metrics ? "metrics" : c->report ? "report"
                         : c->checkpoint_every ? "checkpoint_every"
                         : *c->predict && *c->export_onnx ? "export" : NULL;
    if (unused)
        return err_set(e, ERR_USAGE, "%s: not with --%s, which only %s", unused, only,
                       *c->predict ? "prints predictions on stdout"
                                   : "writes the model as ONNX");
    /* nor a test limit it would not apply: --predict reads every image of its
     * file (a model's training limits, limit_train and val, come with it and
     * mean nothing here) */
    if (*c->predict && c->limit_test)
        return err_set(e, ERR_USAGE, "limit_test: not with --predict, which predicts every "
                       "image of its file (cut the file instead)");
    if (*c->metrics && config_output_format(c->metrics) == FORMAT_NONE)
        return err_set(e, ERR_USAGE, "metrics: '%s' must end in .csv or .jsonl", c->metrics);
    /* a resumed run keeps writing where it was resumed from */
    if (*c->resume && !*c->save)
        snprintf(c->save, CONFIG_PATH_MAX, "%s", c->resume);
    if (c->patience && !c->val)
        return err_set(e, ERR_USAGE, "patience: needs a validation set to watch (--val N)");
    if (c->checkpoint_every && !*c->save)
        return err_set(e, ERR_USAGE, "checkpoint_every: needs --save FILE to write to");
    /* the head report and the predictions file describe 10-class outputs */
    if (c->task != TASK_CLASSIFY && c->report)
        return err_set(e, ERR_USAGE, "report: only for task classify, not %s",
                       config_enum_name("task", c->task));
    if (c->task != TASK_CLASSIFY && *c->predictions)
        return err_set(e, ERR_USAGE, "predictions: only for task classify, not %s",
                       config_enum_name("task", c->task));
    /* the head's loss: auto resolved once, so a saved model names the loss it
     * was trained with */
    const char *why;
    int loss = head_resolve_loss((enum head_kind)c->head, (enum head_loss)c->loss, &why);
    if (loss < 0)
        return err_set(e, ERR_USAGE, "loss: %s with head %s: %s",
                       config_enum_name("loss", c->loss), config_enum_name("head", c->head), why);
    int classes;
    const enum head_question q = task_question((enum task_kind)c->task, &classes);
    const char *cannot =
        head_cannot_learn(&(struct head){(enum head_kind)c->head, loss}, q, classes);
    if (cannot)
        return err_set(e, ERR_USAGE, "loss: %s with task %s: %s", config_enum_name("loss", loss),
                       config_enum_name("task", c->task), cannot);
    c->loss = loss;
    /* auto resolved here, once: the header, the summary and a saved model name
     * the precision the products ran in */
    c->precision = onednn_resolve_precision((enum precision)c->precision);
    if (c->threads == 0) {
        /* the CPUs this process may use (affinity, cgroup quota), and no more
         * than OMP_THREAD_LIMIT allows OpenMP to start: a batch system that
         * sets it is saying how many threads the job may run. A --threads
         * given above the limit is refused in par_team instead. */
        int n = sysres_cpus(""), limit = omp_get_thread_limit();
        n = n > limit ? limit : n;
        c->threads = n > 256 ? 256 : n;
    }
    c->data_dir_from = DATA_DIR_GIVEN;
    if (!*c->data_dir)
        config_default_data_dir(c);
    struct { char *path; const char *name; } files[] = {
        {c->train_images, "train-images-idx3-ubyte"},
        {c->train_labels, "train-labels-idx1-ubyte"},
        {c->test_images, "t10k-images-idx3-ubyte"},
        {c->test_labels, "t10k-labels-idx1-ubyte"},
    };
    c->data_files_derived = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        c->data_files_derived |= (unsigned)!*files[i].path << i;
        if (resolve_file(files[i].path, c->data_dir, files[i].name, e))
            return e->code;
    }
    return 0;
}
