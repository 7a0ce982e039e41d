/* options: the option table (one row per setting: key, type, default, range,
 * choices, help text), its lookup with "did you mean" suggestions, and setting
 * a value from text with its range checked. Every other part of config/
 * reaches settings through this table. */
#include "options.h"

#include <string.h>

#include "../data/pixel.h"
#include "../nn/act.h"
#include "../nn/head.h"
#include "../nn/init.h"
#include "../nn/optim_kinds.h"
#include "../nn/precision.h"
#include "../util/num.h"
#include "task_kinds.h"

#define AT(field) offsetof(struct config, field)
#define MAX_SEED 9007199254740991.0   /* 2^53 - 1: exact in a JSON number */
#define MAX_ITEMS 268435456.0

const struct option option_table[] = {
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
    {"input_range", T_ENUM, AT(input_range), "unit", .choices = ENUM_NAMES(INPUT_RANGES),
     .group = G_MODEL, .kind = true, .arg = "R",
     .help = "the inputs as the network sees them: unit: pixel/255 in [0,1]; pm1: "
             "2*pixel/255-1 in [-1,1] (Ciresan et al. 2010)"},
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
    {"init", T_ENUM, AT(init), "he-glorot", .choices = ENUM_NAMES(MLP_INITS),
     .group = G_MODEL, .kind = true, .arg = "I",
     .help = "initial weights: he-glorot: He-uniform (relu hidden) or Glorot-uniform, biases "
             "0; normal: weights and biases N(0,1) (Nielsen ch. 1); normal-scaled: weights "
             "N(0,1/n_in), biases N(0,1) (Nielsen ch. 3); normal-out: weights N(0,1/n_out), "
             "biases N(0,1), output layer 0 (Nielsen ch. 6 network3); uniform: weights and "
             "biases U(+-init_range) (Ciresan et al. 2010)"},
    {"init_range", T_REAL, AT(init_range), "0.05", 0, 10, .lo_open = true, .group = G_MODEL,
     .arg = "R", .help = "uniform init: the weights' and biases' range, U(-R, R)"},
    {"deskew", T_BOOL, AT(deskew), "false", .group = G_MODEL,
     .help = "straighten and centre every image (training, test, --predict) by its moments "
             "before it is used: slant sheared away, centre of mass to the middle"},

    {"epochs", T_INT, AT(epochs), "10", 0, 100000, .group = G_TRAIN, .arg = "N",
     .help = "passes over the training set, in all (also when resuming); 0 only with --load"},
    {"batch_size", T_INT, AT(batch_size), "64", 1, 65536, .group = G_TRAIN, .arg = "N",
     .help = "mini-batch size (the last partial batch is kept)"},
    {"lr", T_REAL, AT(lr), "0.1", 0, 100, .lo_open = true, .group = G_TRAIN, .arg = "X",
     .help = "learning rate"},
    {"lr_schedule", T_ENUM, AT(lr_schedule), "cosine", .choices = ENUM_NAMES(LR_SCHEDULES),
     .group = G_TRAIN, .arg = "S",
     .help = "per-epoch schedule; cosine: lr*(1+cos(pi*e/epochs))/2; step: lr*lr_gamma^"
             "floor(e/lr_step); exp: lr*lr_gamma^e (e from 0; lr to lr_final over N "
             "epochs: lr_gamma = (lr_final/lr)^(1/(N-1)))"},
    {"lr_step", T_INT, AT(lr_step), "10", 1, 100000, .group = G_TRAIN, .arg = "N",
     .help = "step schedule: epochs between decays"},
    {"lr_gamma", T_REAL, AT(lr_gamma), "0.1", 0, 1, .lo_open = true, .group = G_TRAIN,
     .arg = "X", .help = "step and exp schedules: factor applied at each decay"},
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
    {"seed", T_INT, AT(seed), "1", 0, MAX_SEED, .group = G_TRAIN, .started = true, .arg = "N",
     .help = "seeds init, data order, dropout and augmentation (--resume goes on with its "
             "checkpoint's: another seed is refused)"},
    {"threads", T_INT, AT(threads), "0", 0, 256, .group = G_TRAIN, .local = true,
     .carried = true, .arg = "N",
     .help = "threads for the products and every per-step pass (one OpenMP team); 0: the "
             "CPUs this process may use (--resume keeps the run's; --load does not)"},
    {"precision", T_ENUM, AT(precision), "fp32", .choices = ENUM_NAMES(PRECISIONS),
     .group = G_TRAIN, .arg = "P",
     .help = "operands of the matrix products; bf16 keeps fp32 accumulation, weights and "
             "optimizer state, and needs a CPU with AVX512-BF16 or AMX; auto: bf16 where the CPU "
             "runs it natively, else fp32 (the header and a saved model say which)"},
    {"patience", T_INT, AT(patience), "0", 0, 100000, .group = G_TRAIN, .arg = "N",
     .help = "early stopping: stop when the validation accuracy (--val) has not improved for "
             "N epochs, and keep the weights of its best epoch for the test line, --save, "
             "--report and --predictions; 0: train every epoch"},

    {"data_dir", T_PATH, AT(data_dir), "", .group = G_DATA, .local = true, .arg = "DIR",
     .help = "where the four MNIST files are; default $MNIST_DIR, else ./data/mnist if it "
             "is a folder, else $XDG_DATA_HOME/mnist-train/mnist (~/.local/share/...)"},
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
    {"limit_test", T_INT, AT(limit_test), "0", 0, MAX_ITEMS, .group = G_DATA, .local = true,
     .carried = true, .arg = "N",
     .help = "use the first N test images; 0: all (--resume keeps the run's; --load does not)"},
    {"val", T_INT, AT(val), "0", 0, MAX_ITEMS, .group = G_DATA, .arg = "N",
     .help = "hold out the last N training images for validation"},

    {"json", T_BOOL, AT(json), "false", .group = G_OUTPUT, .local = true,
     .help = "JSON lines on stdout (one per epoch, then a summary)"},
    {"quiet", T_BOOL, AT(quiet), "false", .group = G_OUTPUT, .local = true,
     .help = "print only the result line, test accuracy: P% (C/N): no settings, "
             "per-epoch lines or progress line (--report, --predict, --print-config "
             "still print what they are asked for; errors still go to stderr)"},
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
    {"export", T_PATH, AT(export_onnx), "", .group = G_RUN, .local = true, .arg = "FILE",
     .help = "with --load: write the model as ONNX (opset 13) to FILE, atomically, and exit"},
};
const size_t option_count = sizeof option_table / sizeof option_table[0];

/* ---- option lookup and suggestions ---- */

const struct option *option_find(const char *key)
{
    for (size_t i = 0; i < option_count; i++)
        if (!strcmp(option_table[i].key, key))
            return &option_table[i];
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

const char *option_nearest_key(const char *key)
{
    const char *keys[option_count];
    for (size_t i = 0; i < option_count; i++)
        keys[i] = option_table[i].key;
    return nearest(key, keys, option_count);
}

/* ---- values ---- */

void *option_field(struct config *c, const struct option *o) { return (char *)c + o->off; }

const char *option_range_text(const struct option *o, char *buf, size_t n)
{
    if (o->type == T_REAL)
        snprintf(buf, n, "%c%g, %g]", o->lo_open ? '(' : '[', o->lo, o->hi);
    else
        snprintf(buf, n, "%.0f..%.0f", o->lo, o->hi);
    return buf;
}

int option_out_of_range(const struct option *o, const char *who, const char *val, struct err *e)
{
    char r[64];
    return err_set(e, ERR_USAGE, "%s: %s is out of range %s", who, val, option_range_text(o, r, sizeof r));
}

int option_set_int(struct config *c, const struct option *o, double v, const char *text,
                   const char *who, struct err *e)
{
    if (!(v >= o->lo && v <= o->hi))
        return option_out_of_range(o, who, text, e);
    *(long long *)option_field(c, o) = (long long)v;
    return 0;
}

int option_set_real(struct config *c, const struct option *o, double v, const char *text,
                    const char *who, struct err *e)
{
    if (!(v <= o->hi && (o->lo_open ? v > o->lo : v >= o->lo)))
        return option_out_of_range(o, who, text, e);
    *(double *)option_field(c, o) = v;
    return 0;
}

void option_join_choices(char *buf, size_t n, const char *const *names)
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
            *(int *)option_field(c, o) = (int)n;
            return 0;
        }
    const char *near = nearest(s, (const char **)o->choices, n);
    char shown[128];
    option_join_choices(shown, sizeof shown, o->choices);
    if (near)
        return err_set(e, ERR_USAGE, "%s: '%s' is not one of %s (did you mean '%s'?)", who, s,
                       shown, near);
    return err_set(e, ERR_USAGE, "%s: '%s' is not one of %s", who, s, shown);
}

static int set_list(struct config *c, const struct option *o, const char *s, const char *who,
                    struct err *e)
{
    struct width_list *l = option_field(c, o);
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
            return option_out_of_range(o, who, item, e);
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
    return distort_parse(option_field(c, o), s, who, e);
}

/* Set an option from text as typed on the command line. */
int option_set_text(struct config *c, const struct option *o, const char *s, const char *who,
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
        return option_set_int(c, o, (double)v, s, who, e);
    case T_REAL:
        if (!num_parse_double(s, &d))   /* '0,05': a comma-decimal locale's habit */
            return err_set(e, ERR_USAGE, "%s: '%s' is not a finite number%s", who, s,
                           strchr(s, ',') ? " (decimals take a point, not a comma)" : "");
        return option_set_real(c, o, d, s, who, e);
    case T_BOOL:
        if (strcmp(s, "true") && strcmp(s, "false"))
            return err_set(e, ERR_USAGE, "%s: '%s' is not true or false", who, s);
        *(bool *)option_field(c, o) = !strcmp(s, "true");
        return 0;
    case T_ENUM:
        return set_enum(c, o, s, who, e);
    case T_PATH:
        if (strlen(s) >= CONFIG_PATH_MAX)
            return err_set(e, ERR_USAGE, "%s: path longer than %d bytes", who, CONFIG_PATH_MAX - 1);
        strcpy(option_field(c, o), s);
        return 0;
    case T_LIST:
        return set_list(c, o, s, who, e);
    case T_AUGMENT:
        return set_augment(c, o, s, who, e);
    }
    return err_set(e, ERR_SOFTWARE, "%s: unknown option type", who);
}

/* ---- names and values as JSON ---- */

const char *config_enum_name(const char *key, int value)
{
    const struct option *o = option_find(key);
    if (!o || o->type != T_ENUM || value < 0)
        return "?";
    for (int i = 0; o->choices[i]; i++)
        if (i == value)
            return o->choices[i];
    return "?";
}

/* the bytes a value of each type takes in struct config */
static size_t field_size(const struct option *o)
{
    switch (o->type) {
    case T_INT: return sizeof(long long);
    case T_REAL: return sizeof(double);
    case T_BOOL: return sizeof(bool);
    case T_ENUM: return sizeof(int);
    case T_PATH: return CONFIG_PATH_MAX;
    case T_LIST: return sizeof(struct width_list);
    case T_AUGMENT: return sizeof(struct distort_spec);
    }
    return 0;
}

void option_copy(struct config *dst, const struct config *src, const struct option *o)
{
    memcpy((char *)dst + o->off, (const char *)src + o->off, field_size(o));
}

bool option_equal(const struct config *a, const struct config *b, const struct option *o)
{
    const void *va = (const char *)a + o->off, *vb = (const char *)b + o->off;
    switch (o->type) {
    case T_INT:
        return *(const long long *)va == *(const long long *)vb;
    case T_REAL:
        return *(const double *)va == *(const double *)vb;
    case T_BOOL:
        return *(const bool *)va == *(const bool *)vb;
    case T_ENUM:
        return *(const int *)va == *(const int *)vb;
    case T_PATH:
        return !strcmp(va, vb);
    case T_LIST: {
        const struct width_list *la = va, *lb = vb;
        return la->n == lb->n && !memcmp(la->v, lb->v, sizeof la->v[0] * (size_t)la->n);
    }
    case T_AUGMENT: {
        char sa[DISTORT_TEXT_MAX], sb[DISTORT_TEXT_MAX];
        return !distort_format(va, sa, sizeof sa) && !distort_format(vb, sb, sizeof sb) &&
               !strcmp(sa, sb);
    }
    }
    return false;
}

cJSON *option_value_json(const struct config *cc, const struct option *o)
{
    struct config *c = (struct config *)cc;
    switch (o->type) {
    case T_INT:
        return cJSON_CreateNumber((double)*(long long *)option_field(c, o));
    case T_REAL:
        return cJSON_CreateNumber(*(double *)option_field(c, o));
    case T_BOOL:
        return cJSON_CreateBool(*(bool *)option_field(c, o));
    case T_ENUM:
        return cJSON_CreateString(config_enum_name(o->key, *(int *)option_field(c, o)));
    case T_PATH:
        return cJSON_CreateString(option_field(c, o));
    case T_LIST:
        return cJSON_CreateIntArray(c->hidden.v, c->hidden.n);
    case T_AUGMENT: {
        char s[DISTORT_TEXT_MAX];
        if (distort_format(option_field(c, o), s, sizeof s))
            return NULL;
        return cJSON_CreateString(s);
    }
    }
    return cJSON_CreateNull();
}
