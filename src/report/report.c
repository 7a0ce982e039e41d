#include "report.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "../util/afile.h"

static int check_write(const struct reporter *r)
{
    if (fflush(r->out) == 0 && !ferror(r->out))
        return 0;
    return err_set(r->err, ERR_IO, "stdout: %s", strerror(errno ? errno : EIO));
}

/* one JSON line; takes ownership of obj */
static int emit_json(const struct reporter *r, cJSON *obj)
{
    char *s = obj ? cJSON_PrintUnformatted(obj) : NULL;
    cJSON_Delete(obj);
    if (!s)
        return err_set(r->err, ERR_SOFTWARE, "out of memory writing JSON");
    fputs(s, r->out);
    fputc('\n', r->out);
    cJSON_free(s);
    return check_write(r);
}

static void print_network(FILE *f, const struct mlp *m, const struct config *c)
{
    fprintf(f, "network:  ");
    for (int l = 0; l <= m->L; l++)
        fprintf(f, "%s%d", l ? "-" : "", m->size[l]);
    fprintf(f, " (%s hidden, %s head), %zu parameters\n",
            m->L > 1 ? config_enum_name("activation", m->spec.act) : "no",
            config_enum_name("head", c->head), m->n_params);
}

/* every setting as key=value, wrapped: the header reproduces the run */
static void print_settings(FILE *f, const struct config *c)
{
    cJSON *j = config_to_json(c, false);
    int col = 0;
    for (cJSON *it = j ? j->child : NULL; it; it = it->next) {
        char *v = cJSON_IsString(it) ? NULL : cJSON_PrintUnformatted(it);
        char item[CONFIG_PATH_MAX + 64];
        int n = snprintf(item, sizeof item, "%s=%s", it->string, v ? v : it->valuestring);
        cJSON_free(v);
        if (col && col + 1 + n > 88) {
            fputc('\n', f);
            col = 0;
        }
        col += fprintf(f, "%s%s", col ? " " : "settings: ", item);
    }
    if (col)
        fputc('\n', f);
    cJSON_Delete(j);
}

/* ---- the epoch record: its fields, once, for JSON, CSV and the text table ---- */

enum epoch_field { F_EPOCH, F_LR, F_TRAIN_LOSS, F_TRAIN_ACC, F_VAL_ACC, F_TEST_ACC, F_TEST_LOSS,
                   F_SECONDS, F_RATE, N_EPOCH_FIELDS };

static const struct {
    const char *key;   /* JSON key and CSV column */
    const char *csv;   /* the CSV cell */
    double unit;       /* JSON rounds to this unit; 0: as it is */
    const char *title; /* the text table's column and its cell (value * scale); NULL: not shown */
    int width;
    const char *text;
    double scale;
} EPOCH_FIELDS[N_EPOCH_FIELDS] = {
    [F_EPOCH] = {"epoch", "%.0f", 0, "epoch", 5, "%5.0f", 1},
    [F_LR] = {"lr", "%.15g", 0, NULL, 0, NULL, 1},
    [F_TRAIN_LOSS] = {"train_loss", "%.15g", 0, "train_loss", 11, "%11.4f", 1},
    [F_TRAIN_ACC] = {"train_accuracy", "%.15g", 0, "train_acc", 10, "%9.2f%%", 100},
    [F_VAL_ACC] = {"val_accuracy", "%.15g", 0, "val_acc", 10, "%9.2f%%", 100},
    [F_TEST_ACC] = {"test_accuracy", "%.15g", 0, "test_acc", 10, "%9.2f%%", 100},
    [F_TEST_LOSS] = {"test_loss", "%.15g", 0, NULL, 0, NULL, 1},
    [F_SECONDS] = {"seconds", "%.6f", 1e-6, "seconds", 9, "%9.2f", 1},
    [F_RATE] = {"samples_per_second", "%.1f", 0.1, "samples/s", 11, "%11.0f", 1},
};

/* the record's values; NAN where a field is absent (val_accuracy without --val) */
static void epoch_values(const struct epoch_stats *s, double v[N_EPOCH_FIELDS])
{
    v[F_EPOCH] = s->epoch;
    v[F_LR] = s->lr;
    v[F_TRAIN_LOSS] = s->train_loss;
    v[F_TRAIN_ACC] = s->train_accuracy;
    v[F_VAL_ACC] = s->val.total ? (double)s->val.correct / s->val.total : NAN;
    v[F_TEST_ACC] = (double)s->test.correct / s->test.total;
    v[F_TEST_LOSS] = s->test.loss;
    v[F_SECONDS] = s->seconds;
    v[F_RATE] = s->samples_per_second;
}

static double round_to(double x, double unit) { return round(x / unit) * unit; }

static cJSON *epoch_json(const struct epoch_stats *s)
{
    double v[N_EPOCH_FIELDS];
    epoch_values(s, v);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "epoch");
    for (int k = 0; k < N_EPOCH_FIELDS; k++)
        if (!isnan(v[k]) || k != F_VAL_ACC)
            cJSON_AddNumberToObject(o, EPOCH_FIELDS[k].key,
                                    EPOCH_FIELDS[k].unit ? round_to(v[k], EPOCH_FIELDS[k].unit)
                                                         : v[k]);
    if (s->kept_epoch) {   /* --patience */
        cJSON_AddNumberToObject(o, "kept_epoch", s->kept_epoch);
        if (s->patience_stop)
            cJSON_AddBoolToObject(o, "patience_stop", true);
    }
    return o;
}

/* the CSV header: every field's key */
static const char *csv_header(void)
{
    static char h[256];
    for (int k = 0, n = 0; k < N_EPOCH_FIELDS; k++)
        n += snprintf(h + n, sizeof h - (size_t)n, "%s%s", k ? "," : "", EPOCH_FIELDS[k].key);
    return h;
}

/* a CSV row; an absent field is an empty cell */
static void print_csv_row(FILE *f, const struct epoch_stats *s)
{
    double v[N_EPOCH_FIELDS];
    epoch_values(s, v);
    for (int k = 0; k < N_EPOCH_FIELDS; k++) {
        if (k)
            fputc(',', f);
        if (!isnan(v[k]) || k != F_VAL_ACC)
            fprintf(f, EPOCH_FIELDS[k].csv, v[k]);
    }
    fputc('\n', f);
}

/* the text table's titles; the validation column only with --val */
static void print_epoch_titles(FILE *f, bool val, bool patience)
{
    for (int k = 0, first = 1; k < N_EPOCH_FIELDS; k++)
        if (EPOCH_FIELDS[k].title && (val || k != F_VAL_ACC)) {
            fprintf(f, "%s%*s", first ? "" : " ", EPOCH_FIELDS[k].width, EPOCH_FIELDS[k].title);
            first = 0;
        }
    if (patience)   /* --patience: a mark on each epoch that became the kept one */
        fputs("  best_val", f);
    fputc('\n', f);
}

static void print_epoch_row(FILE *f, const struct epoch_stats *s)
{
    double v[N_EPOCH_FIELDS];
    epoch_values(s, v);
    for (int k = 0, first = 1; k < N_EPOCH_FIELDS; k++)
        if (EPOCH_FIELDS[k].title && !(k == F_VAL_ACC && isnan(v[k]))) {
            if (!first)
                fputc(' ', f);
            fprintf(f, EPOCH_FIELDS[k].text, EPOCH_FIELDS[k].scale * v[k]);
            first = 0;
        }
    if (s->kept_epoch && s->kept_epoch == s->epoch)
        fputs("         *", f);
    fputc('\n', f);
}

int report_header(const struct reporter *r, const struct mlp *m, const struct dataset *train,
                  const struct dataset *val, const struct dataset *test, double load_seconds)
{
    /* --quiet: the result line alone; the header is chatter */
    if (r->cfg->json || r->cfg->quiet)
        return 0;
    print_settings(r->out, r->cfg);
    print_network(r->out, m, r->cfg);
    char compute[256];
    mlp_describe(m, compute, sizeof compute);
    fprintf(r->out, "compute:  %s, %lld threads\n", compute, r->cfg->threads);
    fprintf(r->out, "data:     %u training, %u validation, %u test images of %ux%u (loaded in %.2f s)\n",
            train->n, val->n, test->n, train->rows, train->cols, load_seconds);
    print_epoch_titles(r->out, r->cfg->val != 0, r->cfg->patience != 0);
    return check_write(r);
}

/* the epoch a metrics row is about, or -1 when the line is no row of ours */
static long row_epoch(char *line, bool jsonl)
{
    if (!jsonl) {
        char *end;
        long v = strtol(line, &end, 10);
        return end != line && *end == ',' && v > 0 ? v : -1;
    }
    cJSON *o = cJSON_Parse(line);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
    const cJSON *ep = cJSON_GetObjectItemCaseSensitive(o, "epoch");
    long v = cJSON_IsString(type) && !strcmp(type->valuestring, "epoch") && cJSON_IsNumber(ep) &&
                     ep->valuedouble >= 1 && ep->valuedouble <= 1e9
                 ? (long)ep->valuedouble
                 : -1;
    cJSON_Delete(o);
    return v;
}

/* Copy to out the rows of epochs 1..upto of the metrics file at path (gone:
 * nothing to keep). Lines must be ours, in increasing epoch order; an
 * unfinished last line (a run killed while writing it) is dropped. */
static int keep_rows(FILE *out, const char *path, long upto, bool jsonl, struct err *e)
{
    FILE *in = fopen(path, "r");
    if (!in)
        return errno == ENOENT ? 0 : err_set(e, ERR_NOINPUT, "%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long last = 0, lineno = 0;
    int rc = 0;
    while (!rc && (n = getline(&line, &cap, in)) > 0) {
        lineno++;
        if (line[n - 1] != '\n')
            break;
        line[n - 1] = 0;
        if (!jsonl && lineno == 1) {
            if (strcmp(line, csv_header()))
                rc = err_set(e, ERR_DATA, "%s: line 1 is not the header of train's metrics; "
                             "not appending to it", path);
            continue;
        }
        long ep = row_epoch(line, jsonl);
        if (ep <= last)
            rc = err_set(e, ERR_DATA, "%s:%ld: %s; not appending to it", path, lineno,
                         ep < 0 ? "not a metrics row of train" : "epochs out of order");
        else if (ep <= upto)
            fprintf(out, "%s\n", line);
        last = ep;
    }
    if (!rc && ferror(in))
        rc = err_set(e, ERR_IO, "%s: read error", path);
    free(line);
    fclose(in);
    return rc;
}

int report_open(struct reporter *r, int resumed_epochs, struct err *e)
{
    r->progress = !r->cfg->quiet && isatty(STDERR_FILENO) ? stderr : NULL;
    r->metrics = NULL;
    const char *path = r->cfg->metrics;
    if (!*path)
        return 0;
    struct afile *a = &r->metrics_file;
    if (afile_open(a, path, 0, e))
        return e->code;
    bool jsonl = config_output_format(path) == FORMAT_JSONL;
    if (!jsonl)
        fprintf(a->f, "%s\n", csv_header());
    /* a device or FIFO cannot be read back: there is nothing to keep */
    if (resumed_epochs >= 0 && !a->through &&
        keep_rows(a->f, a->target, resumed_epochs, jsonl, e)) {
        afile_abort(a);
        return e->code;
    }
    if (afile_publish(a, e))
        return e->code;
    r->metrics = a->f;
    return 0;
}

int report_close(struct reporter *r)
{
    if (!r->metrics)
        return 0;
    r->metrics = NULL;
    return afile_close(&r->metrics_file, r->err);
}

void report_progress(int epoch, int epochs, uint32_t done, uint32_t total, double loss,
                     double seconds, void *reporter)
{
    const struct reporter *r = reporter;
    if (!r->progress || !done)
        return;
    char bar[21];
    int fill = done >= total ? 20 : (int)(20.0 * done / total);
    for (int i = 0; i < 20; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[20] = 0;
    double rate = done / seconds;
    fprintf(r->progress, "\r\033[Kepoch %d/%d [%s] %u/%u  %.0f samples/s  ETA %.1f s  loss %.4f",
            epoch, epochs, bar, done, total, rate, (total - done) / rate, loss);
    fflush(r->progress);
}

static int write_metrics(const struct reporter *r, const struct epoch_stats *s)
{
    if (config_output_format(r->cfg->metrics) == FORMAT_JSONL) {
        cJSON *o = epoch_json(s);
        char *line = o ? cJSON_PrintUnformatted(o) : NULL;
        cJSON_Delete(o);
        fprintf(r->metrics, "%s\n", line ? line : "{}");
        cJSON_free(line);
    } else {
        print_csv_row(r->metrics, s);
    }
    if (fflush(r->metrics) != 0 || ferror(r->metrics))
        return err_set(r->err, ERR_IO, "%s: %s", r->cfg->metrics, strerror(errno ? errno : EIO));
    return 0;
}

int report_epoch(const struct epoch_stats *s, void *reporter)
{
    const struct reporter *r = reporter;
    if (r->progress) {
        fputs("\r\033[K", r->progress);   /* the epoch line replaces the progress line */
        fflush(r->progress);
    }
    if (r->metrics && write_metrics(r, s))
        return r->err->code;
    if (r->cfg->json)
        return emit_json(r, epoch_json(s));
    if (r->cfg->quiet)
        return 0;
    print_epoch_row(r->out, s);
    return check_write(r);
}

/* per class: the confusion matrix's integers, then the figures made of them */
static void print_class_figures(FILE *f, const struct class_figures *c)
{
    fprintf(f, "  per class (tp: the diagonal; fp: the rest of the column; fn: the rest of the row):\n"
               "  %5s %6s %6s %6s %10s %8s %8s\n", "class", "tp", "fp", "fn", "precision",
            "recall", "F1");
    for (int k = 0; k < c->K; k++)
        fprintf(f, "  %5d %6lld %6lld %6lld %9.2f%% %7.2f%% %7.2f%%\n", k, c->tp[k], c->fp[k],
                c->fn[k], 100 * c->precision[k], 100 * c->recall[k], 100 * c->f1[k]);
    fprintf(f, "  %5s %6s %6s %6s %9.2f%% %7.2f%% %7.2f%%\n", "macro", "", "", "",
            100 * c->macro_precision, 100 * c->macro_recall, 100 * c->macro_f1);
}

static cJSON *class_figures_json(const struct class_figures *c)
{
    cJSON *o = cJSON_CreateObject();
    const long long *counts[3] = {c->tp, c->fp, c->fn};
    const char *count_keys[3] = {"true_positives", "false_positives", "false_negatives"};
    for (int i = 0; i < 3; i++) {
        cJSON *a = cJSON_AddArrayToObject(o, count_keys[i]);
        for (int k = 0; a && k < c->K; k++)
            cJSON_AddItemToArray(a, cJSON_CreateNumber((double)counts[i][k]));
    }
    cJSON_AddItemToObject(o, "precision", cJSON_CreateDoubleArray(c->precision, c->K));
    cJSON_AddItemToObject(o, "recall", cJSON_CreateDoubleArray(c->recall, c->K));
    cJSON_AddItemToObject(o, "f1", cJSON_CreateDoubleArray(c->f1, c->K));
    cJSON_AddNumberToObject(o, "macro_precision", c->macro_precision);
    cJSON_AddNumberToObject(o, "macro_recall", c->macro_recall);
    cJSON_AddNumberToObject(o, "macro_f1", c->macro_f1);
    return o;
}

static void print_outstats(FILE *f, const struct outstats *m)
{
    fprintf(f, "head report on %lld test images:\n", m->n);
    fprintf(f, "  per-class accuracy (%%):");
    for (int k = 0; k < m->K; k++)
        fprintf(f, " %d:%.2f", k, 100 * m->per_class_accuracy[k]);
    fprintf(f, "\n  confusion matrix (rows: true class, columns: prediction):\n      ");
    for (int k = 0; k < m->K; k++)
        fprintf(f, "%6d", k);
    for (int i = 0; i < m->K; i++) {
        fprintf(f, "\n  %4d", i);
        for (int k = 0; k < m->K; k++)
            fprintf(f, "%6lld", m->confusion[i][k]);
    }
    fputc('\n', f);
    print_class_figures(f, &m->classes);
    fprintf(f, "  sum of the %d outputs: mean %.6f, std %.6f\n", m->K, m->sum_mean, m->sum_std);
    fprintf(f, "  outputs above 0.5: exactly one %.2f%%, none %.2f%%, two or more %.2f%%\n",
            100 * m->share_one, 100 * m->share_none, 100 * m->share_multi);
    fprintf(f, "  strict accuracy (the outputs above 0.5 are exactly the true class): %.2f%%\n",
            100 * m->strict_accuracy);
    fprintf(f, "  Keras binary accuracy (each of the %d outputs scored alone, [p > 0.5] == y; "
               "Keras 1.0.6-2.3's 'accuracy' for binary_crossentropy, NOT the classifier's): "
               "%.2f%%\n", m->K, 100 * m->keras_binary_accuracy);
    fprintf(f, "  calibration: ECE %.4f (%d bins); mean top output %.4f when right, %.4f when wrong\n",
            m->ece, OUTSTATS_ECE_BINS, m->top_mean_correct, m->top_mean_wrong);
}

static cJSON *outstats_json(const struct outstats *m)
{
    cJSON *o = cJSON_CreateObject(), *conf = cJSON_CreateArray();
    cJSON *per = cJSON_CreateDoubleArray(m->per_class_accuracy, m->K);
    for (int i = 0; i < m->K; i++) {
        cJSON *row = cJSON_CreateArray();
        for (int k = 0; k < m->K; k++)
            cJSON_AddItemToArray(row, cJSON_CreateNumber((double)m->confusion[i][k]));
        cJSON_AddItemToArray(conf, row);
    }
    cJSON_AddItemToObject(o, "confusion", conf);
    cJSON_AddItemToObject(o, "per_class_accuracy", per);
    cJSON_AddNumberToObject(o, "output_sum_mean", m->sum_mean);
    cJSON_AddNumberToObject(o, "output_sum_std", m->sum_std);
    cJSON_AddNumberToObject(o, "share_one_above", m->share_one);
    cJSON_AddNumberToObject(o, "share_none_above", m->share_none);
    cJSON_AddNumberToObject(o, "share_multi_above", m->share_multi);
    cJSON_AddNumberToObject(o, "strict_accuracy", m->strict_accuracy);
    cJSON_AddNumberToObject(o, "keras_binary_accuracy", m->keras_binary_accuracy);
    cJSON_AddNumberToObject(o, "ece", m->ece);
    cJSON_AddNumberToObject(o, "mean_top_correct", m->top_mean_correct);
    cJSON_AddNumberToObject(o, "mean_top_wrong", m->top_mean_wrong);
    return o;
}

/* F1 of each label from its true positives, false positives and false negatives */
static void per_label_f1(const struct task_score *sc, double f1[DATASET_CLASSES], double *macro)
{
    *macro = 0;
    for (int c = 0; c < DATASET_CLASSES; c++) {
        double denom = 2.0 * sc->tp[c] + sc->fp[c] + sc->fn[c];
        f1[c] = denom > 0 ? 2.0 * sc->tp[c] / denom : 0;
        *macro += f1[c] / DATASET_CLASSES;
    }
}

int report_summary(const struct reporter *r, const struct run_summary *s)
{
    double acc = s->test.total ? (double)s->test.correct / s->test.total : 0;
    double f1[DATASET_CLASSES], macro = 0;
    if (s->per_label)
        per_label_f1(&s->test.score, f1, &macro);
    if (!r->cfg->json) {
        /* --report is output asked for by name, so --quiet keeps it; the
         * per-label line and its gloss are detail, which --quiet drops */
        if (s->outstats)
            print_outstats(r->out, s->outstats);
        if (s->per_label && !r->cfg->quiet) {
            fprintf(r->out, "per-label F1 (%%):");
            for (int c = 0; c < DATASET_CLASSES; c++)
                fprintf(r->out, " %d:%.2f", c, 100 * f1[c]);
            fprintf(r->out, "; macro F1 %.2f%%\n", 100 * macro);
            fputs("(pairs: test accuracy counts a pair right when the predicted set of digits "
                  "is exactly the true set)\n", r->out);
        }
        if (s->kept_epoch && !r->cfg->quiet) {
            if (s->patience_stop)
                fprintf(r->out, "early stop after epoch %d: no better validation accuracy for "
                        "%lld epochs; ", s->epochs_trained, r->cfg->patience);
            fprintf(r->out, "kept epoch %d, the best validation accuracy (%.2f%%)\n",
                    s->kept_epoch, 100 * s->kept_val_accuracy);
        }
        fprintf(r->out, "test accuracy: %.2f%% (%lld/%lld)\n", 100 * acc, s->test.correct,
                s->test.total);
        return check_write(r);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "summary");
    cJSON_AddItemToObject(o, "config", config_to_json(r->cfg, false));
    cJSON_AddNumberToObject(o, "epochs", s->epochs);
    cJSON_AddNumberToObject(o, "test_accuracy", acc);
    cJSON_AddNumberToObject(o, "test_correct", (double)s->test.correct);
    cJSON_AddNumberToObject(o, "test_total", (double)s->test.total);
    cJSON_AddNumberToObject(o, "test_loss", s->test.loss);
    if (s->kept_epoch) {
        cJSON_AddNumberToObject(o, "kept_epoch", s->kept_epoch);
        cJSON_AddNumberToObject(o, "kept_val_accuracy", s->kept_val_accuracy);
        cJSON_AddNumberToObject(o, "epochs_trained", s->epochs_trained);
        cJSON_AddStringToObject(o, "stopped", s->patience_stop ? "patience" : "epochs");
    }
    if (s->classes)
        cJSON_AddItemToObject(o, "per_class", class_figures_json(s->classes));
    if (s->predictions) {
        /* ties the predictions file to this summary (compare checks it) */
        char crc[16];
        snprintf(crc, sizeof crc, "%08lx", s->predictions_crc32 & 0xffffffffUL);
        cJSON_AddStringToObject(o, "predictions_crc32", crc);
    }
    if (s->outstats)
        cJSON_AddItemToObject(o, "report", outstats_json(s->outstats));
    if (s->per_label) {
        cJSON_AddItemToObject(o, "per_label_f1", cJSON_CreateDoubleArray(f1, DATASET_CLASSES));
        cJSON_AddNumberToObject(o, "macro_f1", macro);
    }
    /* the identity of the data read, so that a run is never taken for one
     * made from other files (scripts/common.bash compares it) */
    if (s->train_set && s->test_set) {
        cJSON *d = cJSON_AddObjectToObject(o, "data_crc32");
        const uint32_t crc[4] = {s->train_set->crc_x, s->train_set->crc_y, s->test_set->crc_x,
                                  s->test_set->crc_y};
        const char *const name[4] = {"train_images", "train_labels", "test_images", "test_labels"};
        for (int i = 0; i < 4; i++) {
            char hex[9];
            snprintf(hex, sizeof hex, "%08x", (unsigned)crc[i]);
            cJSON_AddStringToObject(d, name[i], hex);
        }
    }
    cJSON_AddStringToObject(o, "precision", config_enum_name("precision", r->cfg->precision));
    cJSON_AddStringToObject(o, "isa", onednn_isa());
    cJSON_AddNumberToObject(o, "train_seconds", round_to(s->train_seconds, 1e-6));
    cJSON_AddNumberToObject(o, "load_seconds", round_to(s->load_seconds, 1e-6));
    cJSON_AddNumberToObject(o, "seconds", round_to(s->seconds, 1e-6));
    return emit_json(r, o);
}

/* printf into f, adding the bytes to a running CRC-32 */
static void crc_printf(FILE *f, unsigned long *crc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void crc_printf(FILE *f, unsigned long *crc, const char *fmt, ...)
{
    char line[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    n = n < 0 ? 0 : n >= (int)sizeof line ? (int)sizeof line - 1 : n;
    *crc = crc32_z(*crc, (const unsigned char *)line, (size_t)n);
    fwrite(line, 1, (size_t)n, f);
}

int report_predictions(const char *path, const float *probs, const int *pred,
                       const uint8_t *labels, long long n, int K, unsigned long *crc,
                       struct err *e)
{
    struct afile a;
    *crc = crc32_z(0L, NULL, 0);
    if (afile_open(&a, path, AFILE_DASH, e))
        return e->code;
    crc_printf(a.f, crc, "index,label,prediction");
    for (int k = 0; k < K; k++)
        crc_printf(a.f, crc, ",p%d", k);
    crc_printf(a.f, crc, "\n");
    for (long long i = 0; i < n; i++) {
        crc_printf(a.f, crc, "%lld,%d,%d", i, labels[i], pred[i]);
        /* %.9g: a float written this way reads back exactly */
        for (int k = 0; k < K; k++)
            crc_printf(a.f, crc, ",%.9g", probs[i * K + k]);
        crc_printf(a.f, crc, "\n");
    }
    return afile_commit(&a, e);
}

void report_prediction_rows(FILE *f, bool json, uint32_t from, const float *probs,
                            const float *logits, int nb, int K)
{
    for (int b = 0; b < nb; b++) {
        const float *p = probs + (size_t)b * K;
        fprintf(f, json ? "{\"type\":\"prediction\",\"index\":%u" : "%u", from + (uint32_t)b);
        if (logits)
            fprintf(f, json ? ",\"prediction\":%d" : ",%d", head_argmax(logits + (size_t)b * K, K));
        if (json)
            fputs(",\"outputs\":[", f);
        for (int k = 0; k < K; k++)
            fprintf(f, "%s%.9g", json && !k ? "" : ",", p[k]);
        fputs(json ? "]}\n" : "\n", f);
    }
}
