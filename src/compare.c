/* compare: the statistics of a head comparison, computed from a results folder
 * written by scripts/seed-runs.sh, where each run left NAME-seedS.jsonl (its
 * --json lines, with --report) and NAME-seedS.pred.csv (its --predictions).
 *
 *   compare DIR NAME_A NAME_B
 *
 * Prints Markdown: per config the mean +- std test accuracy, min, max, strict
 * accuracy, ECE and seconds per epoch; then, over the seeds both configs ran,
 * the paired difference B - A with a 95% t interval, and McNemar's exact test
 * on the per-image predictions of each seed pair and pooled over seeds. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "config/config.h"
#include "stats/stats.h"
#include "util/err.h"
#include "util/interrupt.h"
#include "util/readall.h"

#define COMPARE_VERSION TRAIN_VERSION
#define MAX_RUNS 256
#define MAX_FILE (64L << 20)

struct run {
    long long seed;
    double acc, strict, ece, epoch_seconds;
    long long correct, total;   /* the summary's test_correct, test_total */
    unsigned long crc;          /* the summary's predictions_crc32 */
    cJSON *config;              /* the summary's config, seed taken out */
    long long n;            /* test images */
    unsigned char *right;   /* per image: prediction == label */
    unsigned char *label;
};

static char *read_all(const char *path, long *len, struct err *e)
{
    char *buf;
    size_t n;
    if (readall(path, MAX_FILE, 0, "a run file", &buf, &n, e))
        return NULL;
    *len = (long)n;
    return buf;
}

/* o's number under key, which must lie in [lo, hi]: these files can be
 * edited by hand, and a NaN, an infinity (1e999 parses as one) or an accuracy
 * of 2 would otherwise flow into every statistic. A missing key is NAN when
 * optional. */
static int number(const cJSON *o, const char *key, double lo, double hi, bool optional,
                  double *out, const char *path, int line, struct err *e)
{
    const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    *out = NAN;
    if (!v && optional)
        return 0;
    if (!cJSON_IsNumber(v))
        return err_set(e, ERR_DATA, "%s:%d: %s: %s", path, line, key,
                       v ? "not a number" : "missing");
    if (!(v->valuedouble >= lo && v->valuedouble <= hi))
        return err_set(e, ERR_DATA, "%s:%d: %s: %.17g is not in [%g, %g]", path, line, key,
                       v->valuedouble, lo, hi);
    *out = v->valuedouble;
    return 0;
}

/* o's integer under key, in [0, hi]: a count is compared exactly, never as a
 * float read back */
static int count(const cJSON *o, const char *key, double hi, long long *out, const char *path,
                 int line, struct err *e)
{
    double v;
    if (number(o, key, 0, hi, false, &v, path, line, e))
        return e->code;
    if (v != floor(v))
        return err_set(e, ERR_DATA, "%s:%d: %s: %.17g is not a whole number", path, line, key, v);
    *out = (long long)v;
    return 0;
}

/* The summary names its run: the seed it ran with (which must be the file
 * name's), the test counts, and the CRC-32 of the predictions file it wrote. */
static int summary_line(struct run *r, cJSON *o, const char *path, int line, struct err *e)
{
    const cJSON *rep = cJSON_GetObjectItemCaseSensitive(o, "report");
    cJSON *cfg = cJSON_GetObjectItemCaseSensitive(o, "config");
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(cfg, "seed");
    const cJSON *crc = cJSON_GetObjectItemCaseSensitive(o, "predictions_crc32");
    char *end = NULL;
    if (number(o, "test_accuracy", 0, 1, false, &r->acc, path, line, e) ||
        number(rep, "strict_accuracy", 0, 1, true, &r->strict, path, line, e) ||
        number(rep, "ece", 0, 1, true, &r->ece, path, line, e) ||
        count(o, "test_total", 1e15, &r->total, path, line, e) ||
        count(o, "test_correct", (double)r->total, &r->correct, path, line, e))
        return e->code;
    if (!cJSON_IsObject(cfg) || !cJSON_IsNumber(seed))
        return err_set(e, ERR_DATA, "%s:%d: config.seed: missing", path, line);
    if (seed->valuedouble != (double)r->seed)
        return err_set(e, ERR_DATA, "%s:%d: the run's seed is %.17g, not the file name's %lld",
                       path, line, seed->valuedouble, r->seed);
    if (!cJSON_IsString(crc) || strlen(crc->valuestring) != 8 ||
        (r->crc = strtoul(crc->valuestring, &end, 16), *end))
        return err_set(e, ERR_DATA, "%s:%d: predictions_crc32: %s (a run of train --json "
                       "--predictions records it; rerun older runs)", path, line,
                       crc ? "not 8 hex digits" : "missing");
    cJSON_Delete(r->config);
    r->config = cJSON_DetachItemViaPointer(o, cfg);
    /* what the runs of one config may differ in: the seed, and where each
     * wrote its outputs */
    static const char *const own[] = {"seed", "predictions", "metrics", "save", "resume",
                                      "load", "json", "quiet", "report", "checkpoint_every"};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        cJSON_DeleteItemFromObjectCaseSensitive(r->config, own[i]);
    return 0;
}

static int load_summary(struct run *r, const char *path, struct err *e)
{
    long len;
    char *text = read_all(path, &len, e);
    if (!text)
        return e->code;
    double seconds = 0;
    int epochs = 0, found = 0, rc = 0, no = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); !rc && line; line = strtok_r(NULL, "\n", &save)) {
        cJSON *o = cJSON_Parse(line);
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
        no++;
        if (cJSON_IsString(type) && !strcmp(type->valuestring, "epoch")) {
            double s;
            rc = number(o, "seconds", 0, 1e9, false, &s, path, no, e);
            seconds += s;
            epochs++;
        } else if (cJSON_IsString(type) && !strcmp(type->valuestring, "summary")) {
            rc = summary_line(r, o, path, no, e);
            found = 1;
        }
        cJSON_Delete(o);
    }
    free(text);
    r->epoch_seconds = epochs ? seconds / epochs : NAN;
    if (rc)
        return rc;
    return found ? 0 : err_set(e, ERR_DATA, "%s: no summary line (unfinished run?)", path);
}

static int load_predictions(struct run *r, const char *path, struct err *e)
{
    long len;
    char *text = read_all(path, &len, e);
    if (!text)
        return e->code;
    if ((unsigned long)crc32_z(0L, (const unsigned char *)text, (size_t)len) != r->crc) {
        free(text);
        return err_set(e, ERR_DATA, "%s: its CRC-32 is not the predictions_crc32 %08lx its "
                       "run's summary recorded: not the same run", path, r->crc);
    }
    long long cap = 1024, n = 0;
    r->right = malloc((size_t)cap);
    r->label = malloc((size_t)cap);
    if (!r->right || !r->label) {
        free(text);
        return err_set(e, ERR_SOFTWARE, "%s: out of memory", path);
    }
    char *save, *line = strtok_r(text, "\n", &save);   /* the header */
    int rc = line && !strncmp(line, "index,label,prediction", 22)
                 ? 0
                 : err_set(e, ERR_DATA, "%s: not a --predictions file", path);
    while (!rc && (line = strtok_r(NULL, "\n", &save))) {
        char *p = line, *end;
        long long idx = strtoll(p, &end, 10);
        long label = *end == ',' ? strtol(end + 1, &end, 10) : -1;
        long pred = *end == ',' ? strtol(end + 1, &end, 10) : -1;
        if (idx != n || label < 0 || label > 255 || pred < 0 || (*end && *end != ',')) {
            rc = err_set(e, ERR_DATA, "%s: line %lld is malformed", path, n + 2);
            break;
        }
        if (n == cap) {
            unsigned char *a = realloc(r->right, (size_t)cap * 2);
            if (a)
                r->right = a;
            unsigned char *b = a ? realloc(r->label, (size_t)cap * 2) : NULL;
            if (!b) {
                rc = err_set(e, ERR_SOFTWARE, "%s: out of memory", path);
                break;
            }
            r->label = b;
            cap *= 2;
        }
        r->right[n] = label == pred;
        r->label[n] = (unsigned char)label;
        n++;
    }
    r->n = n;
    free(text);
    return rc;
}

/* The summary's counts and McNemar's must describe one run: a predictions
 * file from another run (left over, swapped, edited by hand) would otherwise
 * pair with a summary it does not belong to. The CRC-32 ties the file to the
 * summary (load_predictions); the integer counts, compared exactly, say the
 * same in words a reader can check. */
static int same_run(const struct run *r, const char *path, struct err *e)
{
    long long right = 0;
    for (long long i = 0; i < r->n; i++)
        right += r->right[i];
    if (r->n && right == r->correct && r->n == r->total)
        return 0;
    return err_set(e, ERR_DATA, "%s: %lld of %lld predictions are right, but the run's summary "
                   "says %lld of %lld: not the same run", path, right, r->n, r->correct,
                   r->total);
}

static void free_runs(struct run *r, int n)
{
    for (int i = 0; i < n; i++) {
        free(r[i].right);
        free(r[i].label);
        cJSON_Delete(r[i].config);
    }
}

static const struct run *find_seed(const struct run *r, int n, long long seed)
{
    for (int i = 0; i < n; i++)
        if (r[i].seed == seed)
            return &r[i];
    return NULL;
}

/* The seed a directory entry names when it is exactly PREFIX-seedS.jsonl
 * (PREFIX compared byte for byte: no character of it is a pattern), else -1. */
static long long entry_seed(const char *entry, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(entry, prefix, n) || strncmp(entry + n, "-seed", 5))
        return -1;
    const char *s = entry + n + 5;
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    long long seed = strtoll(s, &end, 10);
    return errno || strcmp(end, ".jsonl") ? -1 : seed;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* the names of dir's entries that are runs of prefix, sorted */
static int list_runs(const char *dir, const char *prefix, char ***names, size_t *n,
                     struct err *e)
{
    DIR *d = opendir(dir);
    *names = NULL;
    *n = 0;
    if (!d)
        return err_set(e, ERR_NOINPUT, "%s: %s", dir, strerror(errno));
    size_t cap = 0;
    int rc = 0;
    for (struct dirent *ent; !rc && (ent = readdir(d));) {
        if (entry_seed(ent->d_name, prefix) < 0)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            char **p = realloc(*names, cap * sizeof *p);
            if (!p) {
                rc = err_set(e, ERR_SOFTWARE, "out of memory");
                break;
            }
            *names = p;
        }
        if (!((*names)[*n] = strdup(ent->d_name)))
            rc = err_set(e, ERR_SOFTWARE, "out of memory");
        else
            ++*n;
    }
    closedir(d);
    if (*n)
        qsort(*names, *n, sizeof **names, by_name);
    return rc;
}

/* The runs of one config share every setting but the seed: a run of another
 * config left under this name would otherwise be averaged in. */
static int same_config(const struct run *runs, int n, const char *path, const char *name,
                       struct err *e)
{
    const struct run *r = &runs[n], *first = &runs[0];
    if (!n || cJSON_Compare(first->config, r->config, true))
        return 0;
    for (const cJSON *it = r->config->child; it; it = it->next) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(first->config, it->string);
        if (!v || !cJSON_Compare(v, it, true))
            return err_set(e, ERR_DATA, "%s: its %s differs from seed %lld's: not a run of the "
                           "same config %s", path, it->string, first->seed, name);
    }
    return err_set(e, ERR_DATA, "%s: its settings differ from seed %lld's: not a run of the "
                   "same config %s", path, first->seed, name);
}

/* Every DIR/NAME-seedS.jsonl, with its predictions DIR/NAME-seedS.pred.csv.
 * DIR and NAME are names, never patterns: '*', '?', '[', spaces and "$(...)"
 * in them are those characters. NAME may hold folders (DIR/sub/NAME). */
static int load_runs(const char *dir, const char *name, struct run *runs, int *n, struct err *e)
{
    char where[4200], path[4400], pred[4400];
    const char *slash = strrchr(name, '/'), *prefix = slash ? slash + 1 : name;
    *n = 0;
    if (!*prefix)
        return err_set(e, ERR_USAGE, "%s: a config NAME cannot end in /", name);
    if (slash)
        snprintf(where, sizeof where, "%s/%.*s", dir, (int)(slash - name), name);
    else
        snprintf(where, sizeof where, "%s", dir);
    char **names;
    size_t count_names;
    int rc = list_runs(where, prefix, &names, &count_names, e);
    if (!rc && !count_names)
        rc = err_set(e, ERR_NOINPUT, "%s: no runs of %s", dir, name);
    for (size_t i = 0; !rc && i < count_names; i++) {
        struct run *r = &runs[*n];
        memset(r, 0, sizeof *r);
        r->seed = entry_seed(names[i], prefix);
        snprintf(path, sizeof path, "%s/%s", where, names[i]);
        snprintf(pred, sizeof pred, "%s/%.*s.pred.csv", where, (int)(strlen(names[i]) - 6),
                 names[i]);
        /* seed1 and seed01 are one seed: counted twice, it would weigh double */
        if (find_seed(runs, *n, r->seed)) {
            rc = err_set(e, ERR_DATA, "%s: a second run of %s with seed %lld", path, name,
                         r->seed);
            break;
        }
        if (*n == MAX_RUNS) {
            rc = err_set(e, ERR_DATA, "%s: more than %d runs of %s", dir, MAX_RUNS, name);
            break;
        }
        rc = load_summary(r, path, e);
        if (!rc)
            rc = load_predictions(r, pred, e);
        if (!rc)
            rc = same_run(r, pred, e);
        if (!rc)
            rc = same_config(runs, *n, path, name, e);
        if (!rc)
            (*n)++;
        else
            free_runs(r, 1);
    }
    for (size_t i = 0; i < count_names; i++)
        free(names[i]);
    free(names);
    return rc;
}

/* a table cell: "n/a" where some run did not record the value (NAN) */
static const char *cell(char *buf, size_t n, const char *fmt, double v)
{
    if (isnan(v))
        return "n/a";
    snprintf(buf, n, fmt, v);
    return buf;
}

static void config_row(const char *name, const struct run *r, int n)
{
    double acc[MAX_RUNS], strict[MAX_RUNS], ece[MAX_RUNS], sec[MAX_RUNS];
    double lo = 1, hi = 0;
    for (int i = 0; i < n; i++) {
        acc[i] = 100 * r[i].acc;
        strict[i] = 100 * r[i].strict;
        ece[i] = r[i].ece;
        sec[i] = r[i].epoch_seconds;
        lo = r[i].acc < lo ? r[i].acc : lo;
        hi = r[i].acc > hi ? r[i].acc : hi;
    }
    char st[32], ec[32], se[32];
    printf("| %s | %d | %.2f ± %.2f | %.2f | %.2f | %s | %s | %s |\n", name, n,
           stats_mean(acc, n), stats_sd(acc, n), 100 * lo, 100 * hi,
           cell(st, sizeof st, "%.2f", stats_mean(strict, n)),
           cell(ec, sizeof ec, "%.4f", stats_mean(ece, n)), cell(se, sizeof se, "%.2f",
                                                               stats_mean(sec, n)));
}

static int paired(const char *na, const struct run *a, int n_a, const char *nb,
                  const struct run *b, int n_b, struct err *e)
{
    double acc_a[MAX_RUNS], acc_b[MAX_RUNS];
    long long sum_b = 0, sum_c = 0;
    int n = 0;
    printf("\n| seed | %s (%%) | %s (%%) | b: only %s right | c: only %s right | McNemar p |\n"
           "|---|---|---|---|---|---|\n", na, nb, na, nb);
    for (int i = 0; i < n_a; i++) {
        const struct run *ra = &a[i], *rb = find_seed(b, n_b, ra->seed);
        if (!rb)
            continue;
        if (ra->n != rb->n || memcmp(ra->label, rb->label, (size_t)ra->n))
            return err_set(e, ERR_DATA, "seed %lld: the two runs were tested on different images",
                           ra->seed);
        long long cb = 0, cc = 0;
        for (long long k = 0; k < ra->n; k++) {
            cb += ra->right[k] && !rb->right[k];
            cc += !ra->right[k] && rb->right[k];
        }
        printf("| %lld | %.2f | %.2f | %lld | %lld | %.3g |\n", ra->seed, 100 * ra->acc,
               100 * rb->acc, cb, cc, stats_mcnemar_p(cb, cc));
        sum_b += cb;
        sum_c += cc;
        acc_a[n] = 100 * ra->acc;
        acc_b[n] = 100 * rb->acc;
        n++;
    }
    if (!n)
        return err_set(e, ERR_DATA, "%s and %s share no seed", na, nb);
    printf("| pooled | | | %lld | %lld | %.3g |\n", sum_b, sum_c, stats_mcnemar_p(sum_b, sum_c));
    double mean, lo, hi;
    stats_paired_ci(acc_a, acc_b, n, &mean, &lo, &hi);
    if (n < 2)   /* one pair: a difference, but no spread to make an interval of */
        printf("\nPaired difference %s − %s over 1 seed: %+.3f points (one seed: no "
               "interval; run more seeds).\n", nb, na, mean);
    else
        printf("\nPaired difference %s − %s over %d seeds: %+.3f points, 95%% CI [%+.3f, %+.3f]"
               " (t with %d df).\n", nb, na, n, mean, lo, hi, n - 1);
    return 0;
}

/* --by-class: where the two configs' errors differ, by true class, pooled
 * over the seeds both ran (paired has checked that each pair was tested on
 * the same images): each config's errors, the images only one of them got
 * wrong, and McNemar's exact test on those two counts. */
static void by_class(const char *na, const struct run *a, int n_a, const char *nb,
                     const struct run *b, int n_b)
{
    enum { CLASSES = 256 };
    static long long images[CLASSES], err_a[CLASSES], err_b[CLASSES], only_a[CLASSES],
        only_b[CLASSES];
    memset(images, 0, sizeof images);
    memset(err_a, 0, sizeof err_a);
    memset(err_b, 0, sizeof err_b);
    memset(only_a, 0, sizeof only_a);
    memset(only_b, 0, sizeof only_b);
    int seeds = 0, top = 0;
    for (int i = 0; i < n_a; i++) {
        const struct run *ra = &a[i], *rb = find_seed(b, n_b, ra->seed);
        if (!rb)
            continue;
        seeds++;
        for (long long k = 0; k < ra->n; k++) {
            int c = ra->label[k];
            top = c + 1 > top ? c + 1 : top;
            images[c]++;
            err_a[c] += !ra->right[k];
            err_b[c] += !rb->right[k];
            only_a[c] += !ra->right[k] && rb->right[k];
            only_b[c] += ra->right[k] && !rb->right[k];
        }
    }
    printf("\nErrors by true class, pooled over the %d seeds both ran:\n\n"
           "| class | images | %s errors | %s errors | %s − %s | only %s wrong | only %s wrong "
           "| McNemar p |\n|---|---|---|---|---|---|---|---|\n", seeds, na, nb, nb, na, na, nb);
    for (int c = 0; c < top; c++)
        if (images[c])
            printf("| %d | %lld | %lld | %lld | %+lld | %lld | %lld | %.3g |\n", c, images[c],
                   err_a[c], err_b[c], err_b[c] - err_a[c], only_a[c], only_b[c],
                   stats_mcnemar_p(only_a[c], only_b[c]));
}

static void help(const char *prog)
{
    printf("Usage: %s [--by-class] DIR NAME_A NAME_B\n"
           "Compare two configs trained over the same seeds, from the runs in DIR: each\n"
           "run NAME-seedS left NAME-seedS.jsonl (train's --json --report lines) and\n"
           "NAME-seedS.pred.csv (its --predictions), as scripts/seed-runs.sh writes them.\n"
           "DIR and NAME are names, never patterns. A predictions file must be its run's:\n"
           "the summary's seed, test_correct, test_total and predictions_crc32 say so.\n"
           "Prints Markdown: per config the mean +- std test accuracy, min, max, strict\n"
           "accuracy, ECE and seconds per epoch; then, over the seeds both ran, the paired\n"
           "difference B - A with a 95%% t interval and McNemar's exact test per seed\n"
           "and pooled.\n\n"
           "  --by-class     also where the errors differ by true class: each config's\n"
           "                 errors per class, the images only one got wrong, McNemar p\n"
           "  -h, --help     print this help and exit\n"
           "  --version      print the version and exit\n\n"
           "Exit status: 0 success, 64 usage error, 65 a run file is malformed or the\n"
           "configs share no seed, 66 no runs of a NAME in DIR, 74 I/O error.\n", prog);
}

int main(int argc, char **argv)
{
    interrupt_guard_std_fds();   /* no run file may take a closed stdout's place */
    const char *prog = err_program_name(argc > 0 ? argv[0] : NULL, "compare");
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        help(prog);
        return fflush(stdout) || ferror(stdout) ? ERR_IO : 0;
    }
    if (argc == 2 && !strcmp(argv[1], "--version")) {
        printf("%s %s\n", prog, COMPARE_VERSION);
        return fflush(stdout) || ferror(stdout) ? ERR_IO : 0;
    }
    bool classes = argc > 1 && !strcmp(argv[1], "--by-class");
    if (classes) {   /* the arguments after it are as without it */
        argv[1] = argv[0];
        argv++;
        argc--;
    }
    for (int i = 1; i < argc; i++)
        if (argv[i][0] == '-' && argv[i][1]) {
            char shown[65];
            snprintf(shown, sizeof shown, "%s", argv[i]);
            for (char *p = shown; *p; p++)   /* one line, whatever the word holds */
                *p = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
            fprintf(stderr, "%s: %s: unknown option (a DIR that starts with - is written "
                    "./-DIR)\nTry '%s --help' for more information.\n", prog, shown, prog);
            return ERR_USAGE;
        }
    if (argc != 4) {
        fprintf(stderr, "%s: %s\nTry '%s --help' for more information.\n", prog,
                argc < 4 ? "needs DIR NAME_A NAME_B" : "too many arguments (DIR NAME_A NAME_B)",
                prog);
        return ERR_USAGE;
    }
    static struct run a[MAX_RUNS], b[MAX_RUNS];
    int n_a = 0, n_b = 0;
    struct err e = {0};
    int rc = load_runs(argv[1], argv[2], a, &n_a, &e);
    if (!rc)
        rc = load_runs(argv[1], argv[3], b, &n_b, &e);
    if (!rc) {
        printf("| config | runs | test accuracy (%%) mean ± std | min | max | strict accuracy (%%) "
               "| ECE | s/epoch |\n|---|---|---|---|---|---|---|---|\n");
        config_row(argv[2], a, n_a);
        config_row(argv[3], b, n_b);
        rc = paired(argv[2], a, n_a, argv[3], b, n_b, &e);
        if (!rc && classes)
            by_class(argv[2], a, n_a, argv[3], b, n_b);
    }
    free_runs(a, n_a);
    free_runs(b, n_b);
    if (!rc && (fflush(stdout) || ferror(stdout)))
        rc = err_set(&e, ERR_IO, "stdout: write error");
    if (rc)
        fprintf(stderr, "%s: %s\n", prog, e.msg);
    return rc;
}
