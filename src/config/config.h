/* config: every setting of a run, with one table (options.c) that defines each
 * option's name, type, range, default and help text. The same table drives the
 * JSON config parser (json.c), the command-line parser (args.c), --help and
 * --print-config (help.c), so a config key and its flag can never disagree
 * (lr <-> --lr, batch_size <-> --batch-size). Defaults and the cross-checks
 * after everything is read are in config.c; what the parts share, in the
 * private options.h. Precedence: defaults < config file < flags. */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../data/distort.h"
#include "../util/err.h"

#define CONFIG_MAX_HIDDEN 16
#define CONFIG_PATH_MAX 4096
/* the installed name: folders under share/, $XDG_CONFIG_HOME and $XDG_DATA_HOME
 * are named after it (docs/install.md) */
#define CONFIG_PRODUCT "mnist-train"
#define TRAIN_VERSION "0.2.0"

/* what chose the MNIST folder */
enum data_dir_source { DATA_DIR_GIVEN, DATA_DIR_ENV, DATA_DIR_CHECKOUT, DATA_DIR_USER };

/* a list of layer widths; n = 0 is no hidden layer */
struct width_list {
    int n, v[CONFIG_MAX_HIDDEN];
};

struct config {
    /* model */
    int task;                       /* enum task_kind */
    long long positive;             /* binary task: the digit D */
    int head;                       /* enum head_kind */
    struct width_list hidden;
    int activation;                 /* enum act */
    double dropout;
    int loss;                       /* enum head_loss; resolved by config_resolve */
    int init;                       /* enum mlp_init */
    double init_range;
    int input_range;                /* enum input_range */
    bool deskew;                    /* every image straightened first (data/deskew.h) */
    /* training */
    long long epochs, batch_size;
    double lr;
    int lr_schedule;                /* enum lr_schedule */
    long long lr_step;
    double lr_gamma;
    int optimizer;                  /* enum optim_kind */
    double momentum;
    bool nesterov;
    double adam_beta1, adam_beta2, adam_eps;
    double weight_decay;
    struct distort_spec augment;    /* see data/distort.h */
    long long seed, threads;
    int precision;                  /* enum precision (nn/onednn.h) */
    long long patience;             /* early stopping on val: epochs without a better one */
    /* data */
    char data_dir[CONFIG_PATH_MAX];
    char train_images[CONFIG_PATH_MAX], train_labels[CONFIG_PATH_MAX];
    char test_images[CONFIG_PATH_MAX], test_labels[CONFIG_PATH_MAX];
    long long limit_train, limit_test, val;
    int data_dir_from;              /* enum data_dir_source, set by config_resolve */
    unsigned data_files_derived;    /* bit i: file i (train images, train labels, test
                                       images, test labels) is the data dir's, not given */
    /* output */
    bool json, quiet, report;
    char predictions[CONFIG_PATH_MAX], metrics[CONFIG_PATH_MAX];
    /* saving, resuming, predicting */
    char save[CONFIG_PATH_MAX], resume[CONFIG_PATH_MAX], load[CONFIG_PATH_MAX];
    char predict[CONFIG_PATH_MAX];
    char export_onnx[CONFIG_PATH_MAX];   /* --export */
    long long checkpoint_every;
    /* the --config file this run read, as found (no option: not a setting) */
    char config_file[CONFIG_PATH_MAX];
};

/* What the command line asked for besides settings. */
enum config_action { CONFIG_RUN, CONFIG_HELP, CONFIG_VERSION, CONFIG_PRINT };

/* The settings stored in a model file, decoded (checkpoint.h: every key,
 * --resume's carried ones too). ctx is the caller's: main keeps the file it
 * read, so that a model is read and decoded once. */
struct config_base {
    int (*read)(void *ctx, const char *model_path, const struct config **stored, struct err *e);
    void *ctx;
};

/* Defaults, then the settings stored in the model named by --resume or --load
 * (read through base, which may be NULL), then the --config file if one is
 * named, then the other flags; then resolve derived values (threads 0 -> all
 * cores, data file paths) and check settings that depend on each other. With
 * a model, the config file and flags may change how it is trained or
 * evaluated but not what it is: a setting that defines the model (head,
 * hidden, ...) that differs from the stored one is a usage error. */
int config_from_args(struct config *c, int argc, char **argv, enum config_action *action,
                     const struct config_base *base, struct err *e);

void config_defaults(struct config *c);
/* apply a JSON text held in memory; `name` is what errors call it */
int config_load_text(struct config *c, const char *text, size_t len, const char *name,
                     struct err *e);
/* Apply the settings stored in a model file (untrusted): only keys that
 * define the model and its training are allowed; a location or output key
 * (save, predictions, metrics, data files, json, ...) is refused by name. Keys
 * remembered only for --resume (checkpoint_every) apply when resuming is set.
 * Every error is ERR_DATA. */
int config_load_stored(struct config *c, const char *text, size_t len, const char *name,
                       bool resuming, struct err *e);
/* A model's decoded stored settings as the base config c: all of them, but
 * the keys remembered for --resume only (checkpoint_every, threads,
 * limit_test) when not resuming, which keep c's defaults. */
void config_apply_stored(struct config *c, const struct config *stored, bool resuming);
/* the key of the first setting that defines the kind of model (head, hidden,
 * activation, task, ...) on which a and b differ, or NULL */
const char *config_model_differs(const struct config *a, const struct config *b);
/* threads 0 -> online cores; empty data paths -> --data-dir, else $MNIST_DIR,
 * else ./data/mnist when it is a folder, else $XDG_DATA_HOME/mnist-train/mnist
 * (~/.local/share/mnist-train/mnist) */
int config_resolve(struct config *c, struct err *e);
/* Before any data loads: the MNIST folder and the files taken from it are
 * there; if not, ERR_NOINPUT saying where train looked and how to fetch. */
int config_check_data(const struct config *c, struct err *e);
/* --config NAME: the first regular file NAME or NAME.json in ./,
 * $XDG_CONFIG_HOME/mnist-train/configs (~/.config/...), <the binary's
 * dir>/../share/mnist-train/configs; an absolute NAME, one starting with ./
 * or holding a .. component is a path as typed, never searched. out holds
 * CONFIG_PATH_MAX bytes. ERR_NOINPUT names the places looked in. */
int config_find(const char *name, char *out, struct err *e);

/* The effective config as a JSON object (a cJSON *), loadable with --config;
 * model_only leaves out what describes this invocation (data paths, output,
 * saving), as stored in model files. */
struct cJSON *config_to_json(const struct config *c, bool model_only);
/* --help, with prog as the program's name in the usage line */
void config_print_help(FILE *f, const char *prog);
/* the man page (roff) of the installed program, named prog */
void config_print_man(FILE *f, const char *prog, const char *version);
/* docs/reference.md's option table, in Markdown, from the option table and
 * the same words as --help */
void config_print_markdown(FILE *f);
/* a bash completion script: flags, enum values from the enum name lists,
 * configs by name and paths, registered for the n command names */
void config_print_completion(FILE *f, const char *const *names, int n_names);

/* The format of an output named path, decided here alone, by the suffix of
 * its last component: NAME.csv, NAME.jsonl (a ".jsonl" elsewhere, as in
 * runs.jsonl.d/m.csv or x.jsonl.csv, does not count); FORMAT_NONE else. */
enum output_format { FORMAT_NONE, FORMAT_CSV, FORMAT_JSONL };
enum output_format config_output_format(const char *path);

/* names of enum values, for reports */
const char *config_enum_name(const char *key, int value);

#endif
