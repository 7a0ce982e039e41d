#include "config.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../nn/act.h"
#include "../nn/head.h"
#include "../nn/mlp.h"
#include "../nn/onednn.h"
#include "../nn/optim.h"
#include "../train/task.h"
#include "../util/num.h"

enum type { T_INT, T_REAL, T_ENUM, T_BOOL, T_PATH, T_LIST, T_AUGMENT };
enum group { G_MODEL, G_TRAIN, G_DATA, G_OUTPUT, G_RUN, N_GROUPS };

struct option {
    const char *key;       /* JSON key; the flag is "--" + key with '_' -> '-' */
    enum type type;
    size_t off;            /* where the value lives in struct config */
    const char *def;       /* default, written as it would be typed after the flag */
    double lo, hi;         /* T_INT, T_REAL, T_LIST elements */
    bool lo_open;          /* T_REAL: lo itself not allowed */
    const char *const *choices; /* T_ENUM: the names the enum is declared with (enum_names.h) */
    enum group group;
    bool local;            /* about this invocation, not the model: not stored in model files,
                              and refused by name when a model file's settings hold it */
    bool carried;          /* local, yet a model file remembers it for --resume only: how the
                              interrupted run went on (checkpoint cadence) */
    bool kind;             /* defines the kind of model: once a model is loaded (--load,
                              --resume), no config file or flag may change it */
    const char *arg;       /* placeholder in --help */
    const char *help;
};

#define AT(field) offsetof(struct config, field)
#define MAX_SEED 9007199254740991.0   /* 2^53 - 1: exact in a JSON number */
#define MAX_ITEMS 268435456.0

static const struct option OPTIONS[] = {
    {"task", T_ENUM, AT(task), "classify", .choices = ENUM_NAMES(TASK_KINDS),
     .group = G_MODEL, .kind = true, .arg = "T",
     .help = "classify the 10 digits; binary: is it the digit --positive?; pairs: which "
             "digits are in two images side by side"},
    {"positive", T_INT, AT(positive), "0", 0, 9, .group = G_MODEL, .kind = true, .arg = "D",
     .help = "binary task: the digit that counts as positive"},
    {"head", T_ENUM, AT(head), "softmax", .choices = ENUM_NAMES(HEAD_KINDS), .group = G_MODEL,
     .kind = true, .arg = "H", .help = "output head: softmax + cross-entropy, or 10 sigmoids + binary cross-entropy"},
    {"hidden", T_LIST, AT(hidden), "256", 1, 16384, .group = G_MODEL, .kind = true, .arg = "N,N..",
     .help = "hidden layer widths, e.g. 800,800; 'none' for no hidden layer"},
    {"activation", T_ENUM, AT(activation), "relu", .choices = ENUM_NAMES(ACTS),
     .group = G_MODEL, .kind = true, .arg = "A", .help = "hidden-layer activation"},
    {"dropout", T_REAL, AT(dropout), "0", 0, 0.99, .group = G_MODEL, .arg = "P",
     .help = "inverted dropout rate on hidden layers (training only)"},
    {"loss", T_ENUM, AT(loss), "auto", .choices = ENUM_NAMES(HEAD_LOSSES),
     .group = G_MODEL, .kind = true, .arg = "L",
     .help = "auto: cce for softmax, bce for sigmoid; cce: softmax's categorical "
             "cross-entropy (softmax takes only this); for sigmoid: bce: binary "
             "cross-entropy summed over the outputs; bce-mean: averaged over them "
             "(Keras/PyTorch default, 1/K the gradient); squared: 1/2 sum (p-y)^2 "
             "(Nielsen ch. 1); keras-cce: Keras's categorical cross-entropy on sigmoid "
             "outputs, p/sum(p) clipped to [1e-7, 1-1e-7]"},
    {"bce_reduction", T_ENUM, AT(bce_reduction), "sum", .choices = ENUM_NAMES(BCE_REDUCTIONS),
     .group = G_MODEL, .kind = true, .arg = "R",
     .help = "deprecated (old model files): sum is loss bce, mean is loss bce-mean"},
    {"init", T_ENUM, AT(init), "he-glorot", .choices = ENUM_NAMES(MLP_INITS),
     .group = G_MODEL, .arg = "I",
     .help = "initial weights: he-glorot: He-uniform (relu hidden) or Glorot-uniform, biases "
             "0; normal: weights and biases N(0,1) (Nielsen ch. 1); normal-scaled: weights "
             "N(0,1/n_in), biases N(0,1) (Nielsen ch. 3); normal-out: weights N(0,1/n_out), "
             "biases N(0,1), output layer 0 (Nielsen ch. 6 network3)"},

    {"epochs", T_INT, AT(epochs), "10", 0, 100000, .group = G_TRAIN, .arg = "N",
     .help = "passes over the training set, in all (also when resuming); 0 only with --load"},
    {"batch_size", T_INT, AT(batch_size), "64", 1, 65536, .group = G_TRAIN, .arg = "N",
     .help = "mini-batch size (the last partial batch is kept)"},
    {"lr", T_REAL, AT(lr), "0.1", 0, 100, .lo_open = true, .group = G_TRAIN, .arg = "X",
     .help = "learning rate"},
    {"lr_schedule", T_ENUM, AT(lr_schedule), "cosine", .choices = ENUM_NAMES(LR_SCHEDULES),
     .group = G_TRAIN, .arg = "S",
     .help = "per-epoch schedule; cosine: lr*(1+cos(pi*e/epochs))/2"},
    {"lr_step", T_INT, AT(lr_step), "10", 1, 100000, .group = G_TRAIN, .arg = "N",
     .help = "step schedule: epochs between decays"},
    {"lr_gamma", T_REAL, AT(lr_gamma), "0.1", 0, 1, .lo_open = true, .group = G_TRAIN,
     .arg = "X", .help = "step schedule: factor applied at each decay"},
    {"optimizer", T_ENUM, AT(optimizer), "momentum", .choices = ENUM_NAMES(OPTIM_KINDS),
     .group = G_TRAIN, .arg = "O", .help = "update rule; momentum: v=mu*v+g, w-=lr*v"},
    {"momentum", T_REAL, AT(momentum), "0.9", 0, 0.999, .group = G_TRAIN, .arg = "MU",
     .help = "momentum coefficient"},
    {"nesterov", T_BOOL, AT(nesterov), "false", .group = G_TRAIN,
     .help = "Nesterov momentum: w-=lr*(g+mu*v)"},
    {"adam_beta1", T_REAL, AT(adam_beta1), "0.9", 0, 0.9999, .group = G_TRAIN, .arg = "B",
     .help = "adam: first-moment decay"},
    {"adam_beta2", T_REAL, AT(adam_beta2), "0.999", 0, 0.99999, .group = G_TRAIN, .arg = "B",
     .help = "adam: second-moment decay"},
    {"adam_eps", T_REAL, AT(adam_eps), "1e-8", 0, 1, .lo_open = true, .group = G_TRAIN,
     .arg = "E", .help = "adam: denominator guard"},
    {"weight_decay", T_REAL, AT(weight_decay), "0", 0, 1, .group = G_TRAIN, .arg = "X",
     .help = "L2 penalty on weights (not biases), added to the gradient; with sgd "
             "w=(1-lr*X)w-lr*g exactly, so Nielsen's lambda over n training images is "
             "X=lambda/n"},
    {"augment", T_AUGMENT, AT(augment), "none", .group = G_TRAIN, .arg = "A",
     .help = "distort training images: none, shift:N, affine:rot=DEG,scale=F,shear=K,.., "
             "elastic:alpha=A,sigma=S or affine+elastic:.. (docs/augment.md)"},
    {"seed", T_INT, AT(seed), "1", 0, MAX_SEED, .group = G_TRAIN, .arg = "N",
     .help = "seeds init, data order, dropout and augmentation"},
    {"threads", T_INT, AT(threads), "0", 0, 256, .group = G_TRAIN, .arg = "N",
     .help = "BLAS threads; 0: all online cores"},
    {"precision", T_ENUM, AT(precision), "fp32", .choices = ENUM_NAMES(PRECISIONS),
     .group = G_TRAIN, .arg = "P",
     .help = "operands of the matrix products; bf16 keeps fp32 accumulation, weights and "
             "optimizer state, and needs a CPU with AVX512-BF16"},

    {"data_dir", T_PATH, AT(data_dir), "", .group = G_DATA, .local = true, .arg = "DIR",
     .help = "where the four MNIST files are; default $MNIST_DIR, else data/mnist"},
    {"train_images", T_PATH, AT(train_images), "", .group = G_DATA, .local = true, .arg = "FILE",
     .help = "training images (IDX, gzipped or not); default in the data dir"},
    {"train_labels", T_PATH, AT(train_labels), "", .group = G_DATA, .local = true, .arg = "FILE",
     .help = "training labels; default in the data dir"},
    {"test_images", T_PATH, AT(test_images), "", .group = G_DATA, .local = true, .arg = "FILE",
     .help = "test images; default in the data dir"},
    {"test_labels", T_PATH, AT(test_labels), "", .group = G_DATA, .local = true, .arg = "FILE",
     .help = "test labels; default in the data dir"},
    {"limit_train", T_INT, AT(limit_train), "0", 0, MAX_ITEMS, .group = G_DATA, .arg = "N",
     .help = "use the first N training images; 0: all"},
    {"limit_test", T_INT, AT(limit_test), "0", 0, MAX_ITEMS, .group = G_DATA, .arg = "N",
     .help = "use the first N test images; 0: all"},
    {"val", T_INT, AT(val), "0", 0, MAX_ITEMS, .group = G_DATA, .arg = "N",
     .help = "hold out the last N training images for validation"},

    {"json", T_BOOL, AT(json), "false", .group = G_OUTPUT, .local = true,
     .help = "JSON lines on stdout (one per epoch, then a summary)"},
    {"quiet", T_BOOL, AT(quiet), "false", .group = G_OUTPUT, .local = true,
     .help = "no per-epoch lines in text mode, no progress line"},
    {"report", T_BOOL, AT(report), "false", .group = G_OUTPUT, .local = true,
     .help = "after training, describe the head's test-set outputs (confusion, sums, calibration)"},
    {"predictions", T_PATH, AT(predictions), "", .group = G_OUTPUT, .local = true, .arg = "FILE",
     .help = "write one CSV row per test image: index, label, prediction, outputs"},

    {"metrics", T_PATH, AT(metrics), "", .group = G_OUTPUT, .local = true, .arg = "FILE",
     .help = "write per-epoch metrics to FILE.csv or FILE.jsonl, a line per epoch as it ends"},

    {"save", T_PATH, AT(save), "", .group = G_RUN, .local = true, .arg = "FILE",
     .help = "write the trained model (and checkpoints) to FILE, atomically"},
    {"checkpoint_every", T_INT, AT(checkpoint_every), "0", 0, 100000, .group = G_RUN,
     .local = true, .carried = true, .arg = "N",
     .help = "save a checkpoint to --save every N epochs (--resume keeps it); 0: never"},
    {"resume", T_PATH, AT(resume), "", .group = G_RUN, .local = true, .arg = "FILE",
     .help = "continue training from a checkpoint (its settings are the base config); "
             "saves back to FILE unless --save says otherwise"},
    {"load", T_PATH, AT(load), "", .group = G_RUN, .local = true, .arg = "FILE",
     .help = "start from a saved model's weights (its settings are the base config)"},
    {"predict", T_PATH, AT(predict), "", .group = G_RUN, .local = true, .arg = "FILE",
     .help = "with --load: print predictions for an IDX image file, or - for raw images on stdin"},
};
#define N_OPTIONS (sizeof OPTIONS / sizeof OPTIONS[0])

static const char *GROUP_TITLE[N_GROUPS] = {"Model", "Training", "Data", "Output",
                                            "Saving, resuming, predicting"};

/* ---- option lookup and suggestions ---- */

static const struct option *find_key(const char *key)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (!strcmp(OPTIONS[i].key, key))
            return &OPTIONS[i];
    return NULL;
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return (size_t)-1;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* The closest of `n` candidates within a typo's distance, or NULL. */
static const char *nearest(const char *word, const char **cand, size_t n)
{
    const char *best = NULL;
    size_t best_d = strlen(word) / 3 + 2;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, cand[i]);
        if (d < best_d) {
            best_d = d;
            best = cand[i];
        }
    }
    return best;
}

static const char *nearest_key(const char *key)
{
    const char *keys[N_OPTIONS];
    for (size_t i = 0; i < N_OPTIONS; i++)
        keys[i] = OPTIONS[i].key;
    return nearest(key, keys, N_OPTIONS);
}

/* ---- values ---- */

static void *field(struct config *c, const struct option *o) { return (char *)c + o->off; }

static const char *range_text(const struct option *o, char *buf, size_t n)
{
    if (o->type == T_REAL)
        snprintf(buf, n, "%c%g, %g]", o->lo_open ? '(' : '[', o->lo, o->hi);
    else
        snprintf(buf, n, "%.0f..%.0f", o->lo, o->hi);
    return buf;
}

static int out_of_range(const struct option *o, const char *who, const char *val, struct err *e)
{
    char r[64];
    return err_set(e, ERR_USAGE, "%s: %s is out of range %s", who, val, range_text(o, r, sizeof r));
}

static int set_int(struct config *c, const struct option *o, double v, const char *text,
                   const char *who, struct err *e)
{
    if (!(v >= o->lo && v <= o->hi))
        return out_of_range(o, who, text, e);
    *(long long *)field(c, o) = (long long)v;
    return 0;
}

static int set_real(struct config *c, const struct option *o, double v, const char *text,
                    const char *who, struct err *e)
{
    if (!(v <= o->hi && (o->lo_open ? v > o->lo : v >= o->lo)))
        return out_of_range(o, who, text, e);
    *(double *)field(c, o) = v;
    return 0;
}

static void join_choices(char *buf, size_t n, const char *const *names)
{
    buf[0] = 0;
    for (size_t i = 0, used = 0; names[i] && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? ", " : "", names[i]);
}

static int set_enum(struct config *c, const struct option *o, const char *s, const char *who,
                    struct err *e)
{
    size_t n = 0;
    for (; o->choices[n]; n++)
        if (!strcmp(s, o->choices[n])) {
            *(int *)field(c, o) = (int)n;
            return 0;
        }
    const char *near = nearest(s, (const char **)o->choices, n);
    char shown[128];
    join_choices(shown, sizeof shown, o->choices);
    if (near)
        return err_set(e, ERR_USAGE, "%s: '%s' is not one of %s (did you mean '%s'?)", who, s,
                       shown, near);
    return err_set(e, ERR_USAGE, "%s: '%s' is not one of %s", who, s, shown);
}

static int set_list(struct config *c, const struct option *o, const char *s, const char *who,
                    struct err *e)
{
    struct width_list *l = field(c, o);
    if (!strcmp(s, "none")) {
        l->n = 0;
        return 0;
    }
    int n = 0;
    const char *p = s;
    for (;;) {
        size_t len = strcspn(p, ",");
        char item[32];
        long long v;
        if (len == 0 || len >= sizeof item)
            return err_set(e, ERR_USAGE, "%s: '%s' is not a list of widths like 256,128 or 'none'",
                           who, s);
        memcpy(item, p, len);
        item[len] = 0;
        if (!num_parse_long(item, &v))
            return err_set(e, ERR_USAGE, "%s: '%s' is not a layer width", who, item);
        if (v < o->lo || v > o->hi)
            return out_of_range(o, who, item, e);
        if (n == CONFIG_MAX_HIDDEN)
            return err_set(e, ERR_USAGE, "%s: more than %d hidden layers", who, CONFIG_MAX_HIDDEN);
        l->v[n++] = (int)v;
        if (!p[len])
            break;
        p += len + 1;
    }
    l->n = n;
    return 0;
}

static int set_augment(struct config *c, const struct option *o, const char *s, const char *who,
                       struct err *e)
{
    return distort_parse(field(c, o), s, who, e);
}

/* Set an option from text as typed on the command line. */
static int set_text(struct config *c, const struct option *o, const char *s, const char *who,
                    struct err *e)
{
    double d;
    long long v;
    if (!*s)
        return err_set(e, ERR_USAGE, "%s: empty value", who);
    switch (o->type) {
    case T_INT:
        if (!num_parse_long(s, &v))
            return err_set(e, ERR_USAGE, "%s: '%s' is not an integer", who, s);
        return set_int(c, o, (double)v, s, who, e);
    case T_REAL:
        if (!num_parse_double(s, &d))
            return err_set(e, ERR_USAGE, "%s: '%s' is not a finite number", who, s);
        return set_real(c, o, d, s, who, e);
    case T_BOOL:
        if (strcmp(s, "true") && strcmp(s, "false"))
            return err_set(e, ERR_USAGE, "%s: '%s' is not true or false", who, s);
        *(bool *)field(c, o) = !strcmp(s, "true");
        return 0;
    case T_ENUM:
        return set_enum(c, o, s, who, e);
    case T_PATH:
        if (strlen(s) >= CONFIG_PATH_MAX)
            return err_set(e, ERR_USAGE, "%s: path longer than %d bytes", who, CONFIG_PATH_MAX - 1);
        strcpy(field(c, o), s);
        return 0;
    case T_LIST:
        return set_list(c, o, s, who, e);
    case T_AUGMENT:
        return set_augment(c, o, s, who, e);
    }
    return err_set(e, ERR_SOFTWARE, "%s: unknown option type", who);
}

static const char *json_type(const cJSON *v)
{
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsArray(v)) return "an array";
    return "an object";
}

/* A JSON number as an integer; rejects fractions and values a long long cannot hold. */
static int json_int(const cJSON *v, const struct option *o, double *out, const char *who,
                    struct err *e)
{
    double d = v->valuedouble;
    char text[64];
    snprintf(text, sizeof text, "%.17g", d);
    if (!isfinite(d))
        return err_set(e, ERR_USAGE, "%s: %s is not finite", who, text);
    if (d != floor(d))
        return err_set(e, ERR_USAGE, "%s: %s is not an integer", who, text);
    if (!(d >= o->lo && d <= o->hi))
        return out_of_range(o, who, text, e);
    *out = d;
    return 0;
}

static int set_json_list(struct config *c, const struct option *o, const cJSON *v,
                         const char *who, struct err *e)
{
    struct width_list *l = field(c, o);
    int n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, v) {
        double d;
        if (!cJSON_IsNumber(it))
            return err_set(e, ERR_USAGE, "%s: expected layer widths, got %s", who, json_type(it));
        if (json_int(it, o, &d, who, e))
            return e->code;
        if (n == CONFIG_MAX_HIDDEN)
            return err_set(e, ERR_USAGE, "%s: more than %d hidden layers", who, CONFIG_MAX_HIDDEN);
        l->v[n++] = (int)d;
    }
    l->n = n;
    return 0;
}

static int set_json(struct config *c, const struct option *o, const cJSON *v, const char *who,
                    struct err *e)
{
    double d;
    char text[64];
    switch (o->type) {
    case T_INT:
        if (!cJSON_IsNumber(v))
            break;
        if (json_int(v, o, &d, who, e))
            return e->code;
        snprintf(text, sizeof text, "%.0f", d);
        return set_int(c, o, d, text, who, e);
    case T_REAL:
        if (!cJSON_IsNumber(v))
            break;
        snprintf(text, sizeof text, "%.17g", v->valuedouble);
        if (!isfinite(v->valuedouble))
            return err_set(e, ERR_USAGE, "%s: %s is not finite", who, text);
        return set_real(c, o, v->valuedouble, text, who, e);
    case T_BOOL:
        if (!cJSON_IsBool(v))
            break;
        *(bool *)field(c, o) = cJSON_IsTrue(v);
        return 0;
    case T_LIST:
        if (cJSON_IsArray(v))
            return set_json_list(c, o, v, who, e);
        /* fall through - "800,800" and "none" as strings */
    case T_ENUM:
    case T_PATH:
    case T_AUGMENT:
        if (!cJSON_IsString(v))
            break;
        if (!*v->valuestring)
            return err_set(e, ERR_USAGE, "%s: empty string", who);
        return set_text(c, o, v->valuestring, who, e);
    }
    static const char *want[] = {"an integer", "a number", "a string", "true or false",
                                 "a string", "an array of widths", "a string"};
    return err_set(e, ERR_USAGE, "%s: expected %s, got %s", who, want[o->type], json_type(v));
}

/* ---- defaults, files ---- */

void config_defaults(struct config *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < N_OPTIONS; i++) {
        struct err e = {0};
        if (*OPTIONS[i].def && set_text(c, &OPTIONS[i], OPTIONS[i].def, OPTIONS[i].key, &e)) {
            /* the table itself is wrong: a programming error caught by the tests */
            fprintf(stderr, "train: internal error: default of %s\n", e.msg);
            abort();
        }
    }
}

static void line_col(const char *text, const char *at, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (const char *p = text; p < at && *p; p++) {
        if (*p == '\n') {
            ++*line;
            *col = 1;
        } else {
            ++*col;
        }
    }
}

/* Deeper than any real config: reject before cJSON recurses into it. An
 * escaped NUL (\u0000) is refused too: cJSON ends its C string there, so
 * "a\u0000b.bin" would quietly be read as "a". */
#define CONFIG_MAX_DEPTH 4

static int check_depth(const char *t, size_t len, const char *name, struct err *e)
{
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char ch = t[i];
        if (in_string) {
            if (ch == '\\' && len - i >= 6 && !memcmp(t + i + 1, "u0000", 5)) {
                int line, col;
                line_col(t, t + i, &line, &col);
                return err_set(e, ERR_USAGE, "%s:%d:%d: a string holds \\u0000, a NUL "
                               "character no key or value may contain", name, line, col);
            }
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_string = false;
        } else if (ch == '"') {
            in_string = true;
        } else if (ch == '{' || ch == '[') {
            if (++depth > CONFIG_MAX_DEPTH) {
                int line, col;
                line_col(t, t + i, &line, &col);
                return err_set(e, ERR_USAGE, "%s:%d:%d: nested deeper than %d levels", name,
                               line, col, CONFIG_MAX_DEPTH);
            }
        } else if (ch == '}' || ch == ']') {
            depth--;
        }
    }
    return 0;
}

static int apply_object(struct config *c, const cJSON *root, const char *name, struct err *e)
{
    char who[CONFIG_PATH_MAX + 64];
    for (const cJSON *it = root->child; it; it = it->next) {
        for (const cJSON *prev = root->child; prev != it; prev = prev->next)
            if (!strcmp(prev->string, it->string))
                return err_set(e, ERR_USAGE, "%s: key \"%s\" appears twice", name, it->string);
        const struct option *o = find_key(it->string);
        if (!o) {
            const char *near = nearest_key(it->string);
            if (near)
                return err_set(e, ERR_USAGE, "%s: unknown key \"%s\" (did you mean \"%s\"?)",
                               name, it->string, near);
            return err_set(e, ERR_USAGE, "%s: unknown key \"%s\"", name, it->string);
        }
        snprintf(who, sizeof who, "%s: %s", name, o->key);
        if (set_json(c, o, it, who, e))
            return e->code;
    }
    return 0;
}

int config_load_text(struct config *c, const char *text, size_t len, const char *name,
                     struct err *e)
{
    if (memchr(text, 0, len))
        return err_set(e, ERR_USAGE, "%s: contains a NUL byte; not a JSON text file", name);
    if (check_depth(text, len, name, e))
        return e->code;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!root) {
        int line, col;
        line_col(text, end ? end : text, &line, &col);
        return err_set(e, ERR_USAGE, "%s:%d:%d: JSON syntax error", name, line, col);
    }
    for (const char *p = end; p < text + len; p++)
        if (!strchr(" \t\r\n", *p)) {
            int line, col;
            line_col(text, p, &line, &col);
            cJSON_Delete(root);
            return err_set(e, ERR_USAGE, "%s:%d:%d: unexpected text after the JSON object", name,
                           line, col);
        }
    int rc = cJSON_IsObject(root)
                 ? apply_object(c, root, name, e)
                 : err_set(e, ERR_USAGE, "%s: top level must be a JSON object, not %s", name,
                           json_type(root));
    cJSON_Delete(root);
    return rc;
}

/* ---- settings stored in a model file: untrusted ---- */

static cJSON *value_json(const struct config *cc, const struct option *o);
static void fold_loss(struct config *c);

/* A model file may set what defines the model and its training, never where
 * anything is read or written nor what is printed: those keys are refused by
 * name. Keys the table marks `carried` apply only when resuming. */
static int check_stored_keys(cJSON *root, const char *name, bool resuming, struct err *e)
{
    for (cJSON *it = root->child, *next; it; it = next) {
        next = it->next;
        const struct option *o = find_key(it->string);
        if (!o)
            continue;   /* apply_object names unknown keys */
        if (o->local && !o->carried)
            return err_set(e, ERR_DATA,
                           "%s: its stored settings hold \"%s\", which a model file may not set "
                           "(only what defines the model and its training)", name, o->key);
        if (o->carried && !resuming)
            cJSON_Delete(cJSON_DetachItemViaPointer(root, it));
    }
    return 0;
}

int config_load_stored(struct config *c, const char *text, size_t len, const char *name,
                       bool resuming, struct err *e)
{
    cJSON *root = NULL;
    int rc = memchr(text, 0, len) ? err_set(e, ERR_DATA, "%s: stored settings hold a NUL byte", name)
                                  : check_depth(text, len, name, e);
    if (!rc) {
        const char *end = NULL;
        root = cJSON_ParseWithLengthOpts(text, len, &end, false);
        while (root && end < text + len && strchr(" \t\r\n", *end))
            end++;
        if (!cJSON_IsObject(root) || end != text + len)
            rc = err_set(e, ERR_DATA, "%s: stored settings are not one JSON object", name);
    }
    if (!rc)
        rc = check_stored_keys(root, name, resuming, e);
    if (!rc)
        rc = apply_object(c, root, name, e);
    cJSON_Delete(root);
    /* a bad value in a model file is bad data, not a usage error */
    if (rc)
        e->code = rc = ERR_DATA;
    return rc;
}

/* the loss as the head will use it: "auto" and the deprecated bce_reduction
 * spell the same models as an explicit loss (an old model file stores
 * bce_reduction, a new one the resolved loss) */
static void fold_loss(struct config *c)
{
    const char *why;
    int loss = head_resolve_loss((enum head_kind)c->head, (enum head_loss)c->loss,
                                 (enum bce_reduction)c->bce_reduction, &why);
    if (loss >= 0) {
        c->loss = loss;
        c->bce_reduction = head_folded_reduction((enum head_kind)c->head,
                                                 (enum bce_reduction)c->bce_reduction);
    }
}

const char *config_model_differs(const struct config *a0, const struct config *b0)
{
    struct config *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    if (!a || !b) {
        free(a);
        free(b);
        return "loss";   /* cannot compare: refuse rather than pass */
    }
    *a = *a0;
    *b = *b0;
    fold_loss(a);
    fold_loss(b);
    const char *key = NULL;
    for (size_t i = 0; i < N_OPTIONS && !key; i++) {
        const struct option *o = &OPTIONS[i];
        if (!o->kind)
            continue;
        cJSON *va = value_json(a, o), *vb = value_json(b, o);
        bool same = va && vb && cJSON_Compare(va, vb, true);
        cJSON_Delete(va);
        cJSON_Delete(vb);
        if (!same)
            key = o->key;
    }
    free(a);
    free(b);
    return key;
}

#define CONFIG_MAX_BYTES (1 << 20)

/* The whole text of a config file into *text (malloc'd, n bytes), read once:
 * a pipe (--config <(...), /dev/stdin) cannot be read twice. */
static int read_config(const char *path, char **text, size_t *n, struct err *e)
{
    *text = NULL;
    /* a pipe is welcome, a directory is no input at all */
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return err_set(e, ERR_NOINPUT, "%s: is a directory, not a config file", path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_set(e, ERR_NOINPUT, "%s: %s", path, strerror(errno));
    char *buf = malloc(CONFIG_MAX_BYTES + 1);
    if (!buf) {
        fclose(f);
        return err_set(e, ERR_SOFTWARE, "%s: out of memory", path);
    }
    *n = fread(buf, 1, CONFIG_MAX_BYTES + 1, f);
    int rc = 0;
    if (ferror(f))
        rc = err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
    else if (*n > CONFIG_MAX_BYTES)
        rc = err_set(e, ERR_USAGE, "%s: larger than %d bytes; not a config file", path,
                     CONFIG_MAX_BYTES);
    else if (*n == 0)
        rc = err_set(e, ERR_USAGE, "%s: file is empty", path);
    fclose(f);
    if (rc)
        free(buf);
    else
        *text = buf;
    return rc;
}

int config_load_file(struct config *c, const char *path, struct err *e)
{
    char *text;
    size_t n;
    int rc = read_config(path, &text, &n, e);
    if (!rc)
        rc = config_load_text(c, text, n, path, e);
    free(text);
    return rc;
}

/* ---- command line ---- */

struct flag {
    const struct option *opt;   /* NULL for --config and --print-config */
    const char *name;           /* as typed, for messages: "--lr" */
    const char *value;
};

/* An argv word as shown in a message: at most 64 bytes, control bytes as '?',
 * so a hostile word cannot run on or break the one-line message. */
static const char *shown_word(char *buf, size_t n, const char *w, size_t len)
{
    size_t max = n - 4, k = 0;
    if (!len)
        return "''";
    for (; k < len && k < max; k++)
        buf[k] = (unsigned char)w[k] < 0x20 || w[k] == 0x7f ? '?' : w[k];
    buf[k] = 0;
    if (k < len)
        strcat(buf, "...");
    return buf;
}

/* The option a flag name spells ("batch-size": the text after "--" up to
 * '=' or the end, not NUL-terminated), or NULL. Flags are spelled with dashes
 * only; the name must match a key in full, never a prefix. */
static const struct option *flag_option(const char *name, size_t len)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const char *k = OPTIONS[i].key;
        size_t j = 0;
        while (j < len && k[j] && (k[j] == '_' ? name[j] == '-' : name[j] == k[j]))
            j++;
        if (j == len && !k[j])
            return &OPTIONS[i];
    }
    return NULL;
}

/* "--" + key with '_' -> '-' */
static void key_to_flag(char *flag, size_t n, const char *key)
{
    snprintf(flag, n, "--%s", key);
    for (char *p = flag; *p; p++)
        if (*p == '_')
            *p = '-';
}

/* name (len bytes after "--") is no option: say so, with the nearest one */
static int unknown_flag(const char *name, size_t len, struct err *e)
{
    char buf[72], key[72], flag[72];
    const char *shown = shown_word(buf, sizeof buf, name, len);
    size_t k = 0;
    for (; k < len && k < sizeof key - 1; k++)
        key[k] = name[k] == '-' ? '_' : (char)tolower((unsigned char)name[k]);
    key[k] = 0;
    const char *near = k < len ? NULL : nearest_key(key);
    if (!near)
        return err_set(e, ERR_USAGE, "--%s: unknown option", shown);
    key_to_flag(flag, sizeof flag, near);
    return err_set(e, ERR_USAGE, "--%s: unknown option (did you mean %s?)", shown, flag);
}

/* A word where an option was expected that does not start with "--": a bare
 * word, "-", "-x", "++epochs", "". A word that is a flag without its dashes
 * gets that flag suggested. */
static int not_an_option(const char *arg, const struct flag *prev, struct err *e)
{
    char buf[72], flag[72];
    const char *shown = shown_word(buf, sizeof buf, arg, strlen(arg));
    const char *name = arg + strspn(arg, "-+");
    const struct option *o = *name ? flag_option(name, strcspn(name, "=")) : NULL;
    if (prev && prev->opt && prev->opt->type == T_BOOL && !strchr(prev->name, '=') &&
        (!strcmp(arg, "true") || !strcmp(arg, "false")))
        return err_set(e, ERR_USAGE, "%s: unexpected argument (a boolean takes %.64s=%s)",
                       shown, prev->name, arg);
    if (o) {
        key_to_flag(flag, sizeof flag, o->key);
        return err_set(e, ERR_USAGE, "%s: unexpected argument (options start with --: did you "
                       "mean %s?)", shown, flag);
    }
    if (arg[0] == '-' && arg[1] && arg[1] != '-')
        return err_set(e, ERR_USAGE, "%s: unknown option (options start with --)", shown);
    return err_set(e, ERR_USAGE, "%s: unexpected argument (train takes only options, each "
                   "starting with --)", shown);
}

static bool is_word(const char *name, size_t len, const char *word)
{
    return strlen(word) == len && !memcmp(name, word, len);
}

/* The value of flag f at argv[*i]: after '=', or the next word. A next word
 * that starts with "--" is taken for a forgotten value, not as one: a value
 * that really starts with "--" is written --flag=--value. */
static int flag_value(struct flag *f, const char *eq, int argc, char **argv, int *i,
                      const char *shown, struct err *e)
{
    if (!eq && *i + 1 >= argc)
        return err_set(e, ERR_USAGE, "%s: missing value", shown);
    const char *next = eq ? eq + 1 : argv[*i + 1];
    if (!eq && !strncmp(next, "--", 2)) {
        char nshown[72];
        return err_set(e, ERR_USAGE, "%s: missing value before %s (write %s=VALUE for a value "
                       "that starts with --)", shown,
                       shown_word(nshown, sizeof nshown, next, strcspn(next, "=")), shown);
    }
    if (!*next)
        return err_set(e, ERR_USAGE, "%s: empty value", shown);
    f->value = next;
    *i += !eq;
    return 0;
}

/* Read argv into flags without applying them; stops at --help or --version.
 * Every word is an option "--name", "--name=value" or "--name value", or the
 * value of the option before it; anything else is a usage error. */
static int scan_args(int argc, char **argv, struct flag *flags, int *n, const char **config_path,
                     enum config_action *action, struct err *e)
{
    *n = 0;
    const struct flag *prev = NULL;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "-h")) {
            *action = CONFIG_HELP;
            return 0;
        }
        if (strncmp(arg, "--", 2))
            return not_an_option(arg, prev, e);
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        char shown[72] = "--";
        shown_word(shown + 2, sizeof shown - 2, name, len);
        if (!len)
            return err_set(e, ERR_USAGE, "%s: unexpected argument (train takes only options, "
                           "each starting with -- and a name)", shown_word(shown, sizeof shown,
                                                                      arg, strlen(arg)));
        bool help = is_word(name, len, "help"), version = is_word(name, len, "version");
        if ((help || version || is_word(name, len, "print-config")) && eq)
            return err_set(e, ERR_USAGE, "%s: takes no value", shown);
        if (help || version) {
            *action = help ? CONFIG_HELP : CONFIG_VERSION;
            return 0;
        }
        if (is_word(name, len, "print-config")) {
            *action = CONFIG_PRINT;
            continue;
        }
        bool is_config = is_word(name, len, "config"), negated = false;
        const struct option *o = is_config ? NULL : flag_option(name, len);
        if (!o && !is_config && len > 3 && !strncmp(name, "no-", 3)) {
            o = flag_option(name + 3, len - 3);
            if (o && o->type != T_BOOL) {
                char flag[72];
                key_to_flag(flag, sizeof flag, o->key);
                return err_set(e, ERR_USAGE, "%s: unknown option (%s is not a boolean: --no- "
                               "only turns booleans off)", shown, flag);
            }
            negated = o != NULL;
        }
        if (!o && !is_config)
            return unknown_flag(name, len, e);
        struct flag *f = &flags[(*n)++];
        f->opt = o;
        f->name = arg;
        if (o && o->type == T_BOOL && !eq)
            f->value = negated ? "false" : "true";
        else if (negated)
            return err_set(e, ERR_USAGE, "%s: takes no value", shown);
        else if (flag_value(f, eq, argc, argv, &i, shown, e))
            return e->code;
        prev = f;
        if (is_config) {
            if (*config_path)
                return err_set(e, ERR_USAGE, "--config: given twice");
            *config_path = f->value;
            (*n)--;
            prev = NULL;
        }
    }
    return 0;
}

/* the value of the last flag for key, or NULL */
static const char *last_flag(const struct flag *flags, int n, const char *key)
{
    const char *v = NULL;
    for (int i = 0; i < n; i++)
        if (flags[i].opt && !strcmp(flags[i].opt->key, key))
            v = flags[i].value;
    return v;
}

/* The model named by --resume or --load: on the command line, else in the
 * --config file (a config file that names a model means what the same flag
 * would: the model's settings go under the file's). */
static int find_model(const struct flag *flags, int n, const char *config_path,
                      const char *config_text, size_t config_len, char *path, bool *resuming,
                      struct err *e)
{
    const char *r = last_flag(flags, n, "resume"), *l = last_flag(flags, n, "load");
    path[0] = 0;
    *resuming = r != NULL;
    if (r || l) {
        snprintf(path, CONFIG_PATH_MAX, "%s", r ? r : l);
        return 0;
    }
    if (!config_path)
        return 0;
    struct config *file = malloc(sizeof *file);
    if (!file)
        return err_set(e, ERR_SOFTWARE, "out of memory");
    config_defaults(file);
    int rc = config_load_text(file, config_text, config_len, config_path, e);
    if (!rc) {
        *resuming = *file->resume != 0;
        snprintf(path, CONFIG_PATH_MAX, "%s", *resuming ? file->resume : file->load);
    }
    free(file);
    return rc;
}

/* --resume and --load put the model's stored settings under everything else */
static int load_base(struct config *c, const char *path, bool resuming,
                     const struct config_base *base, struct err *e)
{
    char *text = NULL;
    int rc = base->read(base->ctx, path, &text, e);
    if (!rc)
        rc = config_load_stored(c, text, strlen(text), path, resuming, e);
    free(text);
    return rc;
}

/* what the loaded model is may not change after its settings are applied:
 * neither a --config file nor a flag turns it into another kind of model */
static int same_model(const struct config *stored, const struct config *c, const char *path,
                      struct err *e)
{
    const char *key = config_model_differs(stored, c);
    if (!key)
        return 0;
    const struct option *o = find_key(key);
    /* the loss as resolved (not "auto" against "auto" when bce_reduction differs) */
    struct config *fs = malloc(sizeof *fs), *fc = malloc(sizeof *fc);
    if (fs && fc) {
        *fs = *stored;
        *fc = *c;
        fold_loss(fs);
        fold_loss(fc);
    }
    cJSON *a = fs && fc ? value_json(fs, o) : NULL, *b = fs && fc ? value_json(fc, o) : NULL;
    free(fs);
    free(fc);
    char *sa = a ? cJSON_PrintUnformatted(a) : NULL, *sb = b ? cJSON_PrintUnformatted(b) : NULL;
    err_set(e, ERR_USAGE, "%s: the model in %s has %s, not %s", key, path, sa ? sa : "?",
            sb ? sb : "?");
    cJSON_free(sa);
    cJSON_free(sb);
    cJSON_Delete(a);
    cJSON_Delete(b);
    return e->code;
}

int config_from_args(struct config *c, int argc, char **argv, enum config_action *action,
                     const struct config_base *base, struct err *e)
{
    config_defaults(c);
    *action = CONFIG_RUN;
    struct flag *flags = calloc((size_t)argc + 1, sizeof *flags);
    if (!flags)
        return err_set(e, ERR_SOFTWARE, "out of memory");
    const char *config_path = NULL;
    int n, rc = scan_args(argc, argv, flags, &n, &config_path, action, e);
    if (rc || *action == CONFIG_HELP || *action == CONFIG_VERSION) {
        free(flags);
        return rc;
    }
    char model[CONFIG_PATH_MAX], *config_text = NULL;
    size_t config_len = 0;
    bool resuming;
    struct config *stored = NULL;
    if (config_path)
        rc = read_config(config_path, &config_text, &config_len, e);
    if (!rc)
        rc = find_model(flags, n, config_path, config_text, config_len, model, &resuming, e);
    if (!rc && *model && base) {
        rc = load_base(c, model, resuming, base, e);
        stored = rc ? NULL : malloc(sizeof *stored);
        if (!rc && !stored)
            rc = err_set(e, ERR_SOFTWARE, "out of memory");
        if (stored)
            *stored = *c;
    }
    if (!rc && config_path)
        rc = config_load_text(c, config_text, config_len, config_path, e);
    free(config_text);
    for (int i = 0; !rc && i < n; i++) {
        char who[128];
        snprintf(who, sizeof who, "%.*s", (int)strcspn(flags[i].name, "="), flags[i].name);
        rc = set_text(c, flags[i].opt, flags[i].value, who, e);
    }
    if (!rc && stored)
        rc = same_model(stored, c, model, e);
    free(stored);
    free(flags);
    return rc ? rc : config_resolve(c, e);
}

/* ---- derived values ---- */

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
    /* --predict only prints: an output it would not write must not pass in silence */
    const char *unused = !*c->predict ? NULL : *c->save ? "save" : *c->predictions ? "predictions"
                         : *c->metrics ? "metrics" : c->report ? "report"
                         : c->checkpoint_every ? "checkpoint_every" : NULL;
    if (unused)
        return err_set(e, ERR_USAGE, "%s: not with --predict, which only prints predictions "
                       "on stdout", unused);
    size_t ml = strlen(c->metrics);
    if (ml && !(ml > 4 && !strcmp(c->metrics + ml - 4, ".csv")) &&
        !(ml > 6 && !strcmp(c->metrics + ml - 6, ".jsonl")))
        return err_set(e, ERR_USAGE, "metrics: '%s' must end in .csv or .jsonl", c->metrics);
    /* a resumed run keeps writing where it was resumed from */
    if (*c->resume && !*c->save)
        snprintf(c->save, CONFIG_PATH_MAX, "%s", c->resume);
    if (c->checkpoint_every && !*c->save)
        return err_set(e, ERR_USAGE, "checkpoint_every: needs --save FILE to write to");
    /* the head report and the predictions file describe 10-class outputs */
    if (c->task != TASK_CLASSIFY && c->report)
        return err_set(e, ERR_USAGE, "report: only for task classify, not %s",
                       config_enum_name("task", c->task));
    if (c->task != TASK_CLASSIFY && *c->predictions)
        return err_set(e, ERR_USAGE, "predictions: only for task classify, not %s",
                       config_enum_name("task", c->task));
    /* the head's loss: auto and the deprecated bce_reduction resolved once, so a
     * saved model names the loss it was trained with */
    const char *why;
    int loss = head_resolve_loss((enum head_kind)c->head, (enum head_loss)c->loss,
                                 (enum bce_reduction)c->bce_reduction, &why);
    if (loss < 0)
        return err_set(e, ERR_USAGE, "loss: %s%s with head %s: %s",
                       config_enum_name("loss", c->loss),
                       c->bce_reduction == BCE_MEAN ? " and bce_reduction mean" : "",
                       config_enum_name("head", c->head), why);
    if (loss == HEAD_KERAS_CCE && c->task == TASK_BINARY)
        return err_set(e, ERR_USAGE, "loss: keras-cce with task binary: the one sigmoid output "
                       "divided by itself is always 1, there is nothing to learn");
    c->loss = loss;
    if (c->threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        c->threads = n < 1 ? 1 : n > 256 ? 256 : n;
    }
    if (!*c->data_dir) {
        const char *env = getenv("MNIST_DIR");
        snprintf(c->data_dir, CONFIG_PATH_MAX, "%s", env && *env ? env : "data/mnist");
    }
    struct { char *path; const char *name; } files[] = {
        {c->train_images, "train-images-idx3-ubyte"},
        {c->train_labels, "train-labels-idx1-ubyte"},
        {c->test_images, "t10k-images-idx3-ubyte"},
        {c->test_labels, "t10k-labels-idx1-ubyte"},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (resolve_file(files[i].path, c->data_dir, files[i].name, e))
            return e->code;
    return 0;
}

/* ---- output ---- */

const char *config_enum_name(const char *key, int value)
{
    const struct option *o = find_key(key);
    if (!o || o->type != T_ENUM || value < 0)
        return "?";
    for (int i = 0; o->choices[i]; i++)
        if (i == value)
            return o->choices[i];
    return "?";
}

static cJSON *value_json(const struct config *cc, const struct option *o)
{
    struct config *c = (struct config *)cc;
    switch (o->type) {
    case T_INT:
        return cJSON_CreateNumber((double)*(long long *)field(c, o));
    case T_REAL:
        return cJSON_CreateNumber(*(double *)field(c, o));
    case T_BOOL:
        return cJSON_CreateBool(*(bool *)field(c, o));
    case T_ENUM:
        return cJSON_CreateString(config_enum_name(o->key, *(int *)field(c, o)));
    case T_PATH:
        return cJSON_CreateString(field(c, o));
    case T_LIST:
        return cJSON_CreateIntArray(c->hidden.v, c->hidden.n);
    case T_AUGMENT: {
        char s[DISTORT_TEXT_MAX];
        if (distort_format(field(c, o), s, sizeof s))
            return NULL;
        return cJSON_CreateString(s);
    }
    }
    return cJSON_CreateNull();
}

cJSON *config_to_json(const struct config *c, bool model_only)
{
    cJSON *root = cJSON_CreateObject();
    for (size_t i = 0; root && i < N_OPTIONS; i++) {
        if (model_only && OPTIONS[i].local && !OPTIONS[i].carried)
            continue;
        /* an unset optional file (predictions, save, ...) is left out: "" would not load back */
        if (OPTIONS[i].type == T_PATH && !*(char *)field((struct config *)c, &OPTIONS[i]))
            continue;
        cJSON *v = value_json(c, &OPTIONS[i]);
        if (!v || !cJSON_AddItemToObject(root, OPTIONS[i].key, v)) {
            cJSON_Delete(v);
            cJSON_Delete(root);
            return NULL;
        }
    }
    return root;
}

void config_print_help(FILE *f)
{
    fputs("Usage: train [OPTION]...\n"
          "Train a small MLP on MNIST with a softmax or a sigmoid output head.\n"
          "Every option is also a key of a JSON config file (--batch-size <-> \"batch_size\");\n"
          "flags override the config file, which overrides the defaults.\n\n"
          "  --config FILE        read settings from a JSON config file\n"
          "  --print-config       print the effective config as JSON and exit\n"
          "  -h, --help           print this help and exit\n"
          "  --version            print versions of train and its libraries and exit\n",
          f);
    for (int g = 0; g < N_GROUPS; g++) {
        fprintf(f, "\n%s:\n", GROUP_TITLE[g]);
        for (size_t i = 0; i < N_OPTIONS; i++) {
            const struct option *o = &OPTIONS[i];
            if ((int)o->group != g)
                continue;
            char flag[64], range[64] = "";
            snprintf(flag, sizeof flag, "--%s%s%s", o->key, o->arg ? " " : "", o->arg ? o->arg : "");
            for (char *p = flag; *p && *p != ' '; p++)
                if (*p == '_')
                    *p = '-';
            if (o->type == T_INT || o->type == T_REAL)
                range_text(o, range, sizeof range);
            else if (o->type == T_ENUM)
                join_choices(range, sizeof range, o->choices);
            fprintf(f, "  %-20s %s\n", flag, o->help);
            if (*o->def)
                fprintf(f, "  %-20s %s%sdefault: %s\n", "", range, *range ? "; " : "", o->def);
        }
    }
    fputs("\nBooleans take --flag, --no-flag or --flag=true|false.\n"
          "Exit status: 0 success, 64 usage error, 65 bad data or diverged training,\n"
          "66 missing input, 69 precision not available on this CPU, 70 internal error,\n"
          "73 cannot create an output file, 74 I/O error, 130/143 interrupted.\n",
          f);
}
