/* options: what the parts of config/ share (private to src/config/). The one
 * table, option_table in options.c, has a row per setting; json.c, args.c,
 * help.c and config.c read and write struct config only through it and the
 * helpers below, so a key, its flag, its range and its help text cannot
 * disagree. */
#ifndef CONFIG_OPTIONS_H
#define CONFIG_OPTIONS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "../util/err.h"

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
    bool kind;             /* defines the kind of model (or, as init, what made its
                              weights): once a model is loaded (--load, --resume), no
                              config file or flag may change it */
    bool started;          /* acts only when a run starts (the seed draws the initial
                              weights and the random streams): a resumed run goes on
                              with its checkpoint's, so it may not name another */
    const char *arg;       /* placeholder in --help */
    const char *help;
};

extern const struct option option_table[];
extern const size_t option_count;

const struct option *option_find(const char *key);
void *option_field(struct config *c, const struct option *o);
const char *option_nearest_key(const char *key);
const char *option_range_text(const struct option *o, char *buf, size_t n);
int option_out_of_range(const struct option *o, const char *who, const char *val, struct err *e);
int option_set_int(struct config *c, const struct option *o, double v, const char *text,
                   const char *who, struct err *e);
int option_set_real(struct config *c, const struct option *o, double v, const char *text,
                    const char *who, struct err *e);
void option_join_choices(char *buf, size_t n, const char *const *names);
int option_set_text(struct config *c, const struct option *o, const char *s, const char *who,
                    struct err *e);
cJSON *option_value_json(const struct config *cc, const struct option *o);
/* dst's value of o becomes src's */
void option_copy(struct config *dst, const struct config *src, const struct option *o);
/* a and b hold the same value of o, compared as its type */
bool option_equal(const struct config *a, const struct config *b, const struct option *o);
/* json.c: the loss as the head will use it ("auto" resolved); a config
 * file's whole text, read once */
void option_fold_loss(struct config *c);
int json_read_file(const char *path, char **text, size_t *n, struct err *e);
/* paths.c: the MNIST folder when nothing names one */
void config_default_data_dir(struct config *c);

#endif
