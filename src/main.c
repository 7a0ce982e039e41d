/* train: train a small MLP on MNIST with a softmax or a sigmoid output head.
 *
 *   parse the config (config/) -> load the data (data/) -> build and train the
 *   network (nn/, train/) -> report (report/), saving models on the way
 *   (model/checkpoint.c); or, with --predict, model/predict.c
 *
 * A model named by --load or --resume is read once, here, for its settings
 * (the base config) and its weights and state.
 *
 * This is the only place that turns an error into a message and an exit code. */
#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <zlib.h>

#include "config/config.h"
#include "data/dataset.h"
#include "nn/par.h"
#include "nn/precision.h"
#include "report/report.h"
#include "model/checkpoint.h"
#include "model/onnx.h"
#include "model/predict.h"
#include "train/train.h"
#include "util/afile.h"
#include "util/denormal.h"
#include "util/err.h"
#include "util/interrupt.h"
#include "util/num.h"
#include "util/timer.h"

/* The model file --resume or --load names, read once: its stored settings
 * become the base config (config_from_args asks for them through
 * model_settings), its weights and state the start of the run. */
struct model_file {
    char path[CONFIG_PATH_MAX];
    struct checkpoint ck;
    bool read;
};

static int read_model(struct model_file *f, const char *path, struct err *e)
{
    if (f->read && !strcmp(f->path, path))
        return 0;
    checkpoint_free(&f->ck);
    f->read = false;
    if (checkpoint_read(&f->ck, path, e))
        return e->code;
    snprintf(f->path, sizeof f->path, "%s", path);
    f->read = true;
    return 0;
}

static int model_settings(void *ctx, const char *path, const struct config **stored,
                          struct err *e)
{
    struct model_file *f = ctx;
    if (read_model(f, path, e))
        return e->code;
    *stored = f->ck.settings;
    return 0;
}

struct run {
    const struct config *cfg;
    struct reporter rep;
    struct trainer *t;
    /* the epoch whose weights t->test_eval, test_probs and test_pred describe;
     * -1 until the test set has been evaluated: nothing is reported, predicted
     * or summarised from those buffers before evaluate_test has run */
    int test_epoch;
};

/* after each epoch: report, then checkpoint when it is time */
static int on_epoch(const struct epoch_stats *s, void *ctx)
{
    struct run *r = ctx;
    const struct config *c = r->cfg;
    if (r->t->test_each_epoch)
        r->test_epoch = s->epoch;   /* trainer_run evaluated the test set just before */
    if (report_epoch(s, &r->rep))
        return r->rep.err->code;
    /* the last epoch's model is saved by the caller, after patience's too */
    if (c->checkpoint_every && s->epoch % c->checkpoint_every == 0 && s->epoch < c->epochs &&
        !s->patience_stop)
        return checkpoint_save(c->save, r->t, 1, r->rep.err);
    return 0;
}

/* the test-set outputs of the weights as they are now; non-finite ones are
 * divergence (65) */
static int evaluate_test(struct run *r, struct err *e)
{
    struct trainer *t = r->t;
    if (r->test_epoch == t->pos.epoch && t->pos.next == 0)
        return 0;
    if (trainer_evaluate_test(t, e))
        return e->code;
    r->test_epoch = t->pos.epoch;
    return 0;
}

/* --resume or --load: the model file, read and checked before any data
 * loads; for a run from scratch *ck is an empty checkpoint */
static int read_start(const struct config *c, struct model_file *f, const struct checkpoint **ck,
                      struct err *e)
{
    static const struct checkpoint none;
    *ck = &none;
    const char *path = *c->resume ? c->resume : c->load;
    if (!*path)
        return 0;
    if (read_model(f, path, e))
        return e->code;
    *ck = &f->ck;
    return *c->resume ? checkpoint_resumable(&f->ck, c, path, e) : 0;
}

/* Does this run write a model? A resumed model that has already trained all
 * its epochs is only evaluated: it is not written back over itself. */
static int saves_model(const struct config *c, const struct checkpoint *ck)
{
    if (!*c->save)
        return 0;
    return !(*c->resume && checkpoint_finished(ck, c) && afile_same(c->save, c->resume));
}

/* one output path, checked as afile_open would use it, named by its key */
static int check_output(const char *key, const char *path, unsigned flags, struct err *e)
{
    struct err why = {0};
    if (!*path || !afile_check(path, flags, &why))
        return 0;
    return err_set(e, why.code, "%s: %s", key, why.msg);
}

/* "-", or a name of the file descriptor fd has open (/dev/stdout, /dev/fd/1,
 * a link to it, the file stdout was redirected to), by identity */
static int is_std(const char *path, int fd)
{
    struct stat sp, so;
    if (fd == STDOUT_FILENO && !strcmp(path, "-"))
        return 1;
    return *path && stat(path, &sp) == 0 && fstat(fd, &so) == 0 && sp.st_dev == so.st_dev &&
           sp.st_ino == so.st_ino;
}

static int is_stdout(const char *path) { return is_std(path, STDOUT_FILENO); }

/* A model file is a file: a regular one (replaced atomically, read back by
 * --resume and --load) or a sink such as /dev/null. Stdout or stderr under
 * any name, or a terminal, would mix the model with the report; a FIFO,
 * pipe or socket would take each checkpoint after the last and could never
 * be read back as one model. */
static int check_save_target(const char *key, const char *path, struct err *e)
{
    struct stat st;
    if (!strcmp(path, "-"))
        return err_set(e, ERR_USAGE, "%s: a model file cannot go to stdout ('-'); for a file "
                       "named -, write ./-", key);
    if (stat(path, &st) != 0)
        return 0;   /* a new file; afile_check says whether it can be made */
    bool null = S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
    unsigned major = S_ISCHR(st.st_mode) ? major(st.st_rdev) : 0;
    if (!null && (is_std(path, STDOUT_FILENO) || is_std(path, STDERR_FILENO)))
        return err_set(e, ERR_USAGE, "%s: %s is %s; a model file cannot go there", key, path,
                       is_std(path, STDOUT_FILENO) ? "stdout" : "stderr");
    /* Linux's terminal devices: tty, console and ptmx, the pseudo-terminals */
    if (major == 4 || major == 5 || (major >= 136 && major <= 143))
        return err_set(e, ERR_USAGE, "%s: %s is a terminal; a model file cannot go there",
                       key, path);
    if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
        return err_set(e, ERR_USAGE, "%s: %s is a %s; a model file must be a regular file "
                       "(checkpoints replace it, --resume reads it back)", key, path,
                       S_ISFIFO(st.st_mode) ? "FIFO or pipe" : "socket");
    return 0;
}

/* An output may not land on a file the run reads (the data, the model it
 * loads, the config file), nor on another output: each would destroy the
 * other. Files are compared by identity (device and inode: a hard link, a
 * symbolic link, another spelling), never by name. Saving over the loaded or
 * resumed model is the one exception: it is read first. */
#define N_OUTPUTS 4   /* save, predictions, metrics, export */

static int outputs_distinct(const struct config *c, const char *const *key,
                            const char *const *path, struct err *e)
{
    const char *model = *c->resume ? c->resume : c->load;
    const char *in_key[] = {"train-images", "train-labels", "test-images", "test-labels",
                            *c->resume ? "resume" : "load", "predict", "config"};
    const char *in[] = {c->train_images, c->train_labels, c->test_images, c->test_labels,
                        model, c->predict, c->config_file};
    for (int i = 0; i < N_OUTPUTS; i++) {
        for (int k = 0; k < i; k++)
            if (afile_same(path[i], path[k]))
                return err_set(e, ERR_USAGE, "%s: %s is also the --%s file", key[i], path[i],
                               key[k]);
        for (size_t k = 0; k < sizeof in / sizeof in[0]; k++)
            if (!(i == 0 && in[k] == model) && afile_same(path[i], in[k]))
                return err_set(e, ERR_USAGE, "%s: %s is the --%s file, which this run reads",
                               key[i], path[i], in_key[k]);
    }
    return 0;
}

/* Every file this run will write, checked before any data loads: a bad path
 * fails in a moment, not after the training it would have lost. */
static int check_outputs(const struct config *c, int save, struct err *e)
{
    const char *key[N_OUTPUTS] = {"save", "predictions", "metrics", "export"};
    const char *path[N_OUTPUTS] = {save ? c->save : "", c->predictions, c->metrics,
                                   c->export_onnx};
    /* --json's stdout holds JSON lines only, whatever name stdout is given */
    for (int i = 0; i < N_OUTPUTS; i++)
        if (c->json && *path[i] && is_stdout(path[i]))
            return err_set(e, ERR_USAGE, "%s: %s is stdout, which --json keeps for JSON "
                           "lines only", key[i], path[i]);
    if ((save && check_save_target("save", c->save, e)) ||
        (*c->export_onnx && check_save_target("export", c->export_onnx, e)))
        return e->code;
    if (outputs_distinct(c, key, path, e) ||
        check_output("save", path[0], 0, e) ||
        check_output("predictions", c->predictions, AFILE_DASH, e) ||
        check_output("metrics", c->metrics, 0, e) ||
        check_output("export", c->export_onnx, 0, e))
        return e->code;
    return 0;
}

/* Train (or with --epochs 0 only evaluate), report, save. */
static int train_and_report(struct run *r, const struct dataset *test, int save, double t0,
                            double load_seconds, struct err *e)
{
    const struct config *c = r->cfg;
    struct trainer *t = r->t;
    if (report_header(&r->rep, t->model, t->train.d, t->val.d, test, load_seconds))
        return e->code;
    double t1 = timer_now();
    int rc = trainer_run(t, on_epoch, r, e);
    double t2 = timer_now();
    /* A signal (SIGINT, SIGTERM, SIGHUP, SIGPIPE) or a stdout that can no
     * longer be written (a closed pipe, a dropped session) ends the run
     * alike: the work so far is kept in a checkpoint. A diverged model is
     * never saved. */
    if (rc && rc != ERR_DATA && (interrupt_signal || ferror(r->rep.out))) {
        struct err saved = {0};
        if (!*c->save)
            err_append(e, " (nothing saved: no --save FILE)");
        else if (checkpoint_save(c->save, t, 1, &saved))
            err_append(e, "; could not save the checkpoint: %s", saved.msg);
        else
            err_append(e, "; checkpoint saved to %s (continue with --resume %s)", c->save, c->save);
        return rc;
    }
    /* --patience: the model now holds the kept epoch's weights, which the
     * test set saw at that epoch, not at the last */
    if (!rc && t->ended && t->kept_epoch != r->test_epoch)
        r->test_epoch = -1;
    /* evaluated (and found finite) before anything is saved or reported */
    if (rc || (rc = evaluate_test(r, e)))
        return rc;
    if (save && checkpoint_save(c->save, t, 1, e))
        return e->code;
    const int K = t->task.n_outputs;
    /* classify: the summary's per-class figures, and --report's whole report */
    struct outstats m;
    const bool classify = t->task.kind == TASK_CLASSIFY;
    if (classify)
        outstats_compute(&m, t->test_probs, t->test_pred, test->y, test->n, K);
    unsigned long crc = 0;
    if (*c->predictions && report_predictions(c->predictions, t->test_probs, t->test_pred,
                                              test->y, test->n, K, &crc, e))
        return e->code;
    struct run_summary s = {.test = t->test_eval, .outstats = c->report ? &m : NULL,
                            .classes = classify ? &m.classes : NULL,
                            .per_label = t->task.kind == TASK_PAIRS,
                            .predictions = *c->predictions != 0, .predictions_crc32 = crc,
                            .epochs = (int)c->epochs, .train_seconds = t2 - t1,
                            .load_seconds = load_seconds, .seconds = timer_now() - t0,
                            .train_set = t->train.d, .test_set = test};
    if (t->kept && t->kept_epoch) {
        s.kept_epoch = t->kept_epoch;
        s.kept_val_accuracy = (double)t->kept_correct / t->val.n;
        s.epochs_trained = t->pos.epoch;
        s.patience_stop = t->patience_stop;
    }
    return report_summary(&r->rep, &s);
}

/* a model file the reader would refuse is refused before anything is built */
static int check_model_fits(const struct config *c, const struct dataset *train, struct err *e)
{
    const struct head head = trainer_head(c);
    int inputs = (int)(c->task == TASK_PAIRS ? 2 * train->dim : train->dim);
    struct mlp_spec spec = trainer_spec(c, inputs, task_n_outputs((enum task_kind)c->task, &head));
    return checkpoint_check_fits(c, &spec, train->n, c->save, e);
}

/* The progress line redraws every 0.25 s: often enough to look live, seldom
 * enough to cost nothing. TRAIN_PROGRESS_SECONDS (0..60) sets another
 * interval, so that a test sees the line without an epoch that outlasts it. */
#define PROGRESS_SECONDS 0.25
static int progress_seconds(double *s, struct err *e)
{
    const char *v = getenv("TRAIN_PROGRESS_SECONDS");
    *s = PROGRESS_SECONDS;
    if (v && !(num_parse_double(v, s) && *s >= 0 && *s <= 60))
        return err_set(e, ERR_USAGE, "TRAIN_PROGRESS_SECONDS: '%.40s' is not a number of "
                       "seconds 0..60", v);
    return 0;
}

/* images augmentation cannot take are refused by name, not met as an
 * allocation failure */
static int check_augment_fits(const struct config *c, const struct dataset *train, struct err *e)
{
    if (distort_is_none(&c->augment) ||
        (train->rows <= DISTORT_MAX_SIDE && train->cols <= DISTORT_MAX_SIDE))
        return 0;
    return err_set(e, ERR_USAGE, "augment: %s holds images of %ux%u pixels; augmentation takes "
                   "at most %d pixels a side", c->train_images, train->rows, train->cols,
                   DISTORT_MAX_SIDE);
}

/* everything that needs the data: split, build, restore, train, report */
static int run_with_data(const struct config *c, const struct checkpoint *ck, int save,
                         struct dataset *train, struct dataset *test, double t0,
                         double load_seconds, double progress, struct err *e)
{
    struct dataset val;
    int rc = trainer_split_data(c, train, &val, test, e);
    if (!rc)
        rc = check_augment_fits(c, train, e);
    if (!rc && save)
        rc = check_model_fits(c, train, e);
    struct trainer t = {0};
    if (!rc)
        rc = trainer_init(&t, c, train, &val, test, e);
    const char *from = *c->resume ? c->resume : c->load;
    if (!rc && *from)
        rc = checkpoint_restore(&t, ck, *c->resume != 0, from, e);
    if (!rc) {
        t.stop = &interrupt_signal;
        /* --quiet without --json or --metrics shows no epoch's test figures:
         * the test set is evaluated once, after the last epoch */
        t.test_each_epoch = !c->quiet || c->json || *c->metrics;
        struct run r = {c, {stdout, c, e, NULL, NULL, {0}}, &t, -1};
        rc = report_open(&r.rep, *c->resume ? (int)ck->epoch : -1, e);
        t.progress = report_progress;
        t.progress_ctx = &r.rep;
        t.progress_seconds = progress;
        if (!rc)
            rc = train_and_report(&r, test, save, t0, load_seconds, e);
        int closed = report_close(&r.rep);
        rc = rc ? rc : closed;
    }
    trainer_free(&t);
    return rc;
}

/* --export: the model --load names, as ONNX; no data, no training. The
 * weights are the fp32 parameters whatever the precision: nothing here needs
 * the CPU to run bf16. */
static int export_model(const struct config *c, struct model_file *f, struct err *e)
{
    if (read_model(f, c->load, e) || check_outputs(c, 0, e))
        return e->code;
    return onnx_write(c->export_onnx, c, &f->ck, e);
}

static int run(const struct config *c, struct model_file *f, struct err *e)
{
    double t0 = timer_now();
    const struct checkpoint *ck = NULL;
    /* a precision this CPU cannot run is refused before anything is read */
    int rc = onednn_check_precision((enum precision)c->precision, e);
    double progress;
    if (!rc)
        rc = progress_seconds(&progress, e);
    if (!rc)
        rc = read_start(c, f, &ck, e);
    int save = !rc && saves_model(c, ck);
    if (!rc)
        rc = check_outputs(c, save, e);
    struct dataset train_all = {0}, test_all = {0};
    if (!rc)
        rc = config_check_data(c, e);
    if (!rc)
        rc = trainer_load_data(c, &train_all, &test_all, e);
    double load_seconds = timer_now() - t0;
    struct dataset train = train_all, test = test_all;
    if (!rc)
        rc = run_with_data(c, ck, save, &train, &test, t0, load_seconds, progress, e);
    dataset_free(&train_all);
    dataset_free(&test_all);
    return rc;
}

/* the libraries, and what oneDNN dispatches to on this CPU: whether bf16 runs */
static void print_version(const char *prog)
{
    char dnn[64];
    struct err e = {0};
    onednn_version(dnn, sizeof dnn);
    printf("%s %s\nzlib %s, cJSON %s, %s\n", prog, TRAIN_VERSION, zlibVersion(), cJSON_Version(),
           dnn);
    if (onednn_check_precision(PRECISION_BF16, &e) == 0)
        printf("precision: fp32 (default) or bf16 (native), auto is bf16; oneDNN ISA here: %s\n",
               onednn_isa());
    else
        printf("precision: fp32 only (bf16 needs AVX512-BF16), auto is fp32; oneDNN ISA here: "
               "%s\n", onednn_isa());
}

static int print_config(const struct config *c, struct err *e)
{
    cJSON *j = config_to_json(c, false);
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
    interrupt_guard_std_fds();   /* before anything opens a file */
    struct err e = {0};
    struct config c;
    enum config_action action;
    const char *prog = err_program_name(argc > 0 ? argv[0] : NULL, "train");
    interrupt_install();   /* SIGINT/TERM/HUP/PIPE end every phase, loading included */
    struct model_file model = {0};
    const struct config_base base = {model_settings, &model};
    int rc = config_from_args(&c, argc, argv, &action, &base, &e);
    if (!rc) {
        switch (action) {
        case CONFIG_HELP:
            config_print_help(stdout, prog);
            break;
        case CONFIG_VERSION:
            print_version(prog);
            break;
        case CONFIG_PRINT:
            rc = print_config(&c, &e);
            break;
        case CONFIG_RUN:
            /* --export converts the model; no product runs */
            if (*c.export_onnx) {
                rc = export_model(&c, &model, &e);
                break;
            }
            /* the team before any parallel region: the products are planned for it */
            if ((rc = par_team((int)c.threads, &e)))
                break;
            denormals_flush();
            if (!*c.predict)
                rc = run(&c, &model, &e);
            else if (!(rc = read_model(&model, c.load, &e)))
                rc = predict_run(&c, &model.ck, &e);
            break;
        }
    }
    /* output that never reached its destination is a failure too (train > /dev/full) */
    if (fflush(stdout) != 0 || ferror(stdout))
        rc = rc ? rc : err_set(&e, ERR_IO, "stdout: write error");
    if (rc)
        rc = interrupt_settle(&e);
    if (rc) {
        fprintf(stderr, "%s: %s\n", prog, e.msg);
        if (rc == ERR_USAGE)
            fprintf(stderr, "Try '%s --help' for more information.\n", prog);
    }
    checkpoint_free(&model.ck);
    return rc;
}
