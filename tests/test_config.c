/* Config: defaults, precedence, and an error naming the key for each kind of
 * bad value, in JSON files and on the command line. */
#include <cjson/cJSON.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config/config_testing.h"
#include "nn/act.h"
#include "nn/head.h"
#include "nn/mlp.h"
#include "nn/precision.h"
#include "nn/optim.h"
#include "train/task.h"
#include "support/support.h"


/* parse argv given as NULL-ended varargs; returns the error code */
static int parse(struct config *c, struct err *e, enum config_action *act, ...)
{
    char *argv[32] = {"train"};
    int argc = 1;
    va_list ap;
    va_start(ap, act);
    for (char *a; (a = va_arg(ap, char *)) && argc < 31;)
        argv[argc++] = a;
    va_end(ap);
    memset(e, 0, sizeof *e);
    return config_from_args(c, argc, argv, act, NULL, e);
}

/* load JSON text; expect failure with code and message fragment */
static void expect_json_error(const char *json, int code, const char *what)
{
    struct config c;
    struct err e = {0};
    config_defaults(&c);
    int rc = config_load_text(&c, json, strlen(json), "cfg.json", &e);
    if (rc != code || !strstr(e.msg, what))
        fail_msg("%s -> %d \"%s\", expected %d \"%s\"", json, rc, e.msg, code, what);
}

#define EXPECT_ARGS_ERROR(what, ...)                                                    \
    do {                                                                                \
        struct config c_;                                                               \
        struct err e_;                                                                  \
        enum config_action a_;                                                          \
        int rc_ = parse(&c_, &e_, &a_, __VA_ARGS__, NULL);                              \
        if (rc_ != ERR_USAGE || !strstr(e_.msg, what))                                  \
            fail_msg("got %d \"%s\", expected 64 \"%s\"", rc_, e_.msg, what);           \
    } while (0)

static void defaults(void **state)
{
    (void)state;
    struct config c;
    config_defaults(&c);
    assert_int_equal(c.head, HEAD_SOFTMAX);
    assert_int_equal(c.hidden.n, 1);
    assert_int_equal(c.hidden.v[0], 256);
    assert_int_equal(c.epochs, 10);
    assert_int_equal(c.batch_size, 64);
    assert_float_equal(c.lr, 0.1, 1e-12);
    assert_float_equal(c.momentum, 0.9, 1e-12);
    assert_true(distort_is_none(&c.augment));
    assert_false(c.json);
}

static void precedence(void **state)
{
    (void)state;
    const char *cfg = path_in(test_dir, "p.json");
    write_text(cfg, "{\"lr\": 0.05, \"epochs\": 3, \"head\": \"sigmoid\", \"hidden\": [800, 800]}");
    struct config c;
    struct err e;
    enum config_action act;
    /* a flag wins over the file wherever it stands on the line */
    assert_int_equal(parse(&c, &e, &act, "--epochs", "5", "--config", (char *)cfg, NULL), 0);
    assert_int_equal(act, CONFIG_RUN);
    assert_int_equal(c.epochs, 5);
    assert_float_equal(c.lr, 0.05, 1e-12);
    assert_int_equal(c.head, HEAD_SIGMOID);
    assert_int_equal(c.hidden.n, 2);
    assert_int_equal(c.batch_size, 64);   /* default where neither speaks */
    assert_int_equal(parse(&c, &e, &act, "--config=" "", NULL), ERR_USAGE);
    assert_int_equal(parse(&c, &e, &act, "--hidden=none", "--lr=1e-3", "--no-json", NULL), 0);
    assert_int_equal(c.hidden.n, 0);
    assert_float_equal(c.lr, 1e-3, 1e-15);
    assert_int_equal(parse(&c, &e, &act, "--nesterov", "--json=true", "--print-config", NULL), 0);
    assert_true(c.nesterov && c.json);
    assert_int_equal(act, CONFIG_PRINT);
    assert_int_equal(parse(&c, &e, &act, "--epochs", "3x", "--help", NULL), 0);
    assert_int_equal(act, CONFIG_HELP);
}

static void resolves_data_paths(void **state)
{
    (void)state;
    struct config c;
    struct err e;
    enum config_action act;
    setenv("MNIST_DIR", "/some/where", 1);
    assert_int_equal(parse(&c, &e, &act, "--test-labels", "t.idx", NULL), 0);
    assert_string_equal(c.data_dir, "/some/where");
    assert_string_equal(c.train_images, "/some/where/train-images-idx3-ubyte.gz");
    assert_string_equal(c.test_labels, "t.idx");
    assert_int_equal(parse(&c, &e, &act, "--data-dir", (char *)test_dir, NULL), 0);
    assert_string_equal(c.data_dir, test_dir);
    /* an uncompressed file is found when there is no .gz */
    write_text(path_in(test_dir, "t10k-images-idx3-ubyte"), "x");
    assert_int_equal(parse(&c, &e, &act, "--data-dir", (char *)test_dir, NULL), 0);
    assert_string_equal(c.test_images, path_in(test_dir, "t10k-images-idx3-ubyte"));
    unsetenv("MNIST_DIR");
    /* nothing names it: ./data/mnist when it is a folder, else the user's data
     * folder, $XDG_DATA_HOME (absolute only) or ~/.local/share */
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(test_dir), 0);
    const char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    setenv("HOME", "/h", 1);
    unsetenv("XDG_DATA_HOME");
    assert_int_equal(parse(&c, &e, &act, NULL), 0);
    assert_string_equal(c.data_dir, "/h/.local/share/mnist-train/mnist");
    assert_string_equal(c.train_images, "/h/.local/share/mnist-train/mnist/train-images-idx3-ubyte.gz");
    setenv("XDG_DATA_HOME", "/x", 1);
    assert_int_equal(parse(&c, &e, &act, NULL), 0);
    assert_string_equal(c.data_dir, "/x/mnist-train/mnist");
    setenv("XDG_DATA_HOME", "x", 1);   /* relative: ignored, as the XDG spec says */
    assert_int_equal(parse(&c, &e, &act, NULL), 0);
    assert_string_equal(c.data_dir, "/h/.local/share/mnist-train/mnist");
    unsetenv("HOME");
    assert_int_equal(parse(&c, &e, &act, NULL), 0);
    assert_string_equal(c.data_dir, "data/mnist");
    setenv("HOME", "/h", 1);
    assert_int_equal(mkdir("data", 0700) || mkdir("data/mnist", 0700), 0);
    assert_int_equal(parse(&c, &e, &act, NULL), 0);
    assert_string_equal(c.data_dir, "data/mnist");
    assert_int_equal(rmdir("data/mnist") || rmdir("data"), 0);
    unsetenv("XDG_DATA_HOME");
    if (home)
        setenv("HOME", home, 1);
    free((void *)home);
    assert_int_equal(chdir(cwd), 0);
    assert_true(c.threads >= 1);
}

static void json_value_errors(void **state)
{
    (void)state;
    expect_json_error("{\"epochs\": -1}", ERR_USAGE, "epochs: -1 is out of range 0..100000");
    expect_json_error("{\"epochs\": 2.5}", ERR_USAGE, "epochs: 2.5 is not an integer");
    expect_json_error("{\"epochs\": 1e30}", ERR_USAGE, "epochs: 1e+30 is out of range");
    expect_json_error("{\"seed\": -1}", ERR_USAGE, "seed: -1 is out of range");
    expect_json_error("{\"lr\": 0}", ERR_USAGE, "lr: 0 is out of range (0, 100]");
    expect_json_error("{\"lr\": -0.1}", ERR_USAGE, "lr: -0.10000000000000001 is out of range");
    expect_json_error("{\"lr\": 1e999}", ERR_USAGE, "lr: inf is not finite");
    expect_json_error("{\"lr\": \"fast\"}", ERR_USAGE, "lr: expected a number, got a string");
    expect_json_error("{\"lr\": null}", ERR_USAGE, "lr: expected a number, got null");
    expect_json_error("{\"dropout\": 1}", ERR_USAGE, "dropout: 1 is out of range [0, 0.99]");
    expect_json_error("{\"hidden\": [0]}", ERR_USAGE, "hidden: 0 is out of range 1..16384");
    expect_json_error("{\"hidden\": [100000]}", ERR_USAGE, "hidden: 100000 is out of range");
    expect_json_error("{\"hidden\": [8, \"a\"]}", ERR_USAGE, "hidden: expected layer widths");
    expect_json_error("{\"hidden\": \"800,,800\"}", ERR_USAGE, "not a list of widths");
    expect_json_error("{\"hidden\": {}}", ERR_USAGE, "hidden: expected an array of widths");
    expect_json_error("{\"head\": \"softmx\"}", ERR_USAGE,
                      "head: 'softmx' is not one of softmax, sigmoid (did you mean 'softmax'?)");
    expect_json_error("{\"head\": 1}", ERR_USAGE, "head: expected a string, got a number");
    expect_json_error("{\"head\": \"\"}", ERR_USAGE, "head: empty string");
    expect_json_error("{\"nesterov\": \"yes\"}", ERR_USAGE, "nesterov: expected true or false");
    expect_json_error("{\"augment\": \"shift:20\"}", ERR_USAGE,
                      "augment: 'shift:20': shift 20 is out of range 1..8");
    expect_json_error("{\"augment\": \"flip\"}", ERR_USAGE,
                      "augment: 'flip': expected none, shift:N, affine:...");
    expect_json_error("{\"augment\": \"elastic:alpha=34\"}", ERR_USAGE,
                      "augment: 'elastic:alpha=34': elastic needs sigma");
    expect_json_error("{\"augment\": 2}", ERR_USAGE, "augment: expected a string, got a number");
}

static void json_structure_errors(void **state)
{
    (void)state;
    expect_json_error("{\"batchsize\": 10}", ERR_USAGE,
                      "cfg.json: unknown key \"batchsize\" (did you mean \"batch_size\"?)");
    expect_json_error("{\"zzzzzzzzzz\": 10}", ERR_USAGE, "unknown key \"zzzzzzzzzz\"");
    expect_json_error("{\n  \"lr\": 0.1,\n  \"epochs\": }", ERR_USAGE, "cfg.json:3:13: JSON syntax error");
    expect_json_error("{\"lr\": 0.1} x", ERR_USAGE, "cfg.json:1:13: unexpected text");
    expect_json_error("[1, 2]", ERR_USAGE, "top level must be a JSON object, not an array");
    expect_json_error("{\"lr\": 0.1, \"lr\": 0.2}", ERR_USAGE, "key \"lr\" appears twice");
    expect_json_error("{\"hidden\": [[[[[1]]]]]}", ERR_USAGE, "nested deeper than 4 levels");
    expect_json_error("{\"a\": \"[[[[[[\"}", ERR_USAGE, "unknown key \"a\"");   /* brackets in strings */
    struct config c;
    struct err e = {0};
    config_defaults(&c);
    assert_int_equal(config_load_text(&c, "{\"lr\":0.2}\0", 11, "nul.json", &e), ERR_USAGE);
    assert_non_null(strstr(e.msg, "NUL byte"));
    memset(&e, 0, sizeof e);
    assert_int_equal(config_load_file(&c, path_in(test_dir, "missing.json"), &e), ERR_NOINPUT);
    assert_non_null(strstr(e.msg, "missing.json: No such file"));
    /* a directory is no input (66), not an I/O error */
    memset(&e, 0, sizeof e);
    assert_int_equal(config_load_file(&c, test_dir, &e), ERR_NOINPUT);
    assert_non_null(strstr(e.msg, "is a directory"));
    write_text(path_in(test_dir, "empty.json"), "");
    memset(&e, 0, sizeof e);
    assert_int_equal(config_load_file(&c, path_in(test_dir, "empty.json"), &e), ERR_USAGE);
    assert_non_null(strstr(e.msg, "empty"));
}

/* cJSON ends a string at an escaped NUL: "a\u0000b.bin" would be read as
 * "a", so a key, an enum or a path would quietly become another one. */
static void json_nul_escape_refused(void **state)
{
    (void)state;
    expect_json_error("{\"save\": \"a\\u0000b.bin\"}", ERR_USAGE, "cfg.json:1:12: a string holds");
    expect_json_error("{\"head\": \"softmax\\u0000x\"}", ERR_USAGE, "NUL");
    expect_json_error("{\"save\\u0000x\": \"m.bin\"}", ERR_USAGE, "NUL");
    /* an escaped backslash before u0000 is just text */
    expect_json_error("{\"augment\": \"\\\\u0000\"}", ERR_USAGE, "augment: ");
    /* a model file's settings: bad data */
    struct config c;
    struct err e = {0};
    config_defaults(&c);
    const char *stored = "{\"head\":\"sigmoid\\u0000\"}";
    assert_int_equal(config_load_stored(&c, stored, strlen(stored), "m.bin", false, &e), ERR_DATA);
    assert_non_null(strstr(e.msg, "NUL"));
}

static void flag_errors(void **state)
{
    (void)state;
    EXPECT_ARGS_ERROR("--epoch: unknown option (did you mean --epochs?)", "--epoch", "3");
    EXPECT_ARGS_ERROR("--batch_size: unknown option (did you mean --batch-size?)", "--batch_size", "3");
    EXPECT_ARGS_ERROR("--lr: missing value", "--lr");
    EXPECT_ARGS_ERROR("--epochs: '3x' is not an integer", "--epochs", "3x");
    EXPECT_ARGS_ERROR("--epochs: ' 3' is not an integer", "--epochs", " 3");
    EXPECT_ARGS_ERROR("--epochs: 100001 is out of range", "--epochs=100001");
    EXPECT_ARGS_ERROR("epochs: 0 is only for evaluating a model given with --load", "--epochs=0");
    EXPECT_ARGS_ERROR("resume: cannot be combined with --load", "--resume", "a", "--load", "b");
    EXPECT_ARGS_ERROR("predict: needs a model, given with --load", "--predict", "x.idx");
    EXPECT_ARGS_ERROR("checkpoint_every: needs --save FILE", "--checkpoint-every", "2");
    EXPECT_ARGS_ERROR("--lr: 'nan' is not a finite number", "--lr", "nan");
    EXPECT_ARGS_ERROR("--lr: '1e999' is not a finite number", "--lr", "1e999");
    EXPECT_ARGS_ERROR("--lr: '0x10' is not a finite number", "--lr", "0x10");
    EXPECT_ARGS_ERROR("--lr: '0,05' is not a finite number (decimals take a point, not a comma)",
                      "--lr", "0,05");
    EXPECT_ARGS_ERROR("--dropout: '0,1' is not a finite number (decimals take", "--dropout=0,1");
    EXPECT_ARGS_ERROR("--head: empty value", "--head", "");
    EXPECT_ARGS_ERROR("--data-dir: empty value", "--data-dir=");
    EXPECT_ARGS_ERROR("--json: 'yes' is not true or false", "--json=yes");
    EXPECT_ARGS_ERROR("--no-lr: unknown option", "--no-lr");
    EXPECT_ARGS_ERROR("extra: unexpected argument", "extra");
    EXPECT_ARGS_ERROR("-x: unknown option", "-x");
    EXPECT_ARGS_ERROR("--config: given twice", "--config", "a", "--config", "b");
    EXPECT_ARGS_ERROR("--hidden: 'a' is not a layer width", "--hidden", "128,a");
    EXPECT_ARGS_ERROR("report: only for task classify, not pairs", "--task", "pairs", "--report");
    EXPECT_ARGS_ERROR("predictions: only for task classify, not binary", "--task", "binary",
                      "--predictions", "p.csv");
    EXPECT_ARGS_ERROR("--positive: 10 is out of range 0..9", "--positive", "10");
    EXPECT_ARGS_ERROR("--hidden: more than 16 hidden layers", "--hidden",
                      "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1");
}

/* --predict only prints predictions: an output or report it would not
 * write is a usage error, not a flag that passes in silence */
static void predict_refuses_outputs(void **state)
{
    (void)state;
    EXPECT_ARGS_ERROR("predictions: not with --predict", "--load", "m.bin", "--predict", "x.idx",
                      "--predictions", "p.csv");
    EXPECT_ARGS_ERROR("save: not with --predict", "--load", "m.bin", "--predict", "-", "--save",
                      "n.bin", "--epochs", "5");
    EXPECT_ARGS_ERROR("metrics: not with --predict", "--load", "m.bin", "--predict", "-",
                      "--metrics", "m.csv");
    EXPECT_ARGS_ERROR("report: not with --predict", "--load", "m.bin", "--predict", "-",
                      "--report");
}

/* a config from a pipe (--config <(...), /dev/stdin) can be read only once:
 * it is, and applied */
static void config_from_a_pipe(void **state)
{
    (void)state;
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    const char *json = "{\"epochs\": 3, \"lr\": 0.25}";
    assert_int_equal(write(fd[1], json, strlen(json)), (ssize_t)strlen(json));
    close(fd[1]);
    char path[64];
    snprintf(path, sizeof path, "/dev/fd/%d", fd[0]);
    struct config c;
    struct err e;
    enum config_action act;
    if (parse(&c, &e, &act, "--config", path, NULL))
        fail_msg("%s", e.msg);
    close(fd[0]);
    assert_int_equal(c.epochs, 3);
    assert_true(c.lr == 0.25);
}

static void print_config_round_trips(void **state)
{
    (void)state;
    struct config c, d;
    struct err e;
    enum config_action act;
    assert_int_equal(parse(&c, &e, &act, "--head", "sigmoid", "--hidden", "800,800", "--lr",
                           "0.05", "--augment", "affine+elastic:sigma=4,alpha=34,rot=10", "--nesterov", "--seed", "12345678901",
                           NULL), 0);
    cJSON *j = config_to_json(&c, false);
    char *text = cJSON_Print(j);
    config_defaults(&d);
    memset(&e, 0, sizeof e);
    assert_int_equal(config_load_text(&d, text, strlen(text), "printed", &e), 0);
    cJSON *j2 = config_to_json(&d, false);
    char *text2 = cJSON_Print(j2);
    assert_string_equal(text, text2);
    assert_non_null(strstr(text, "\"augment\":\t\"affine+elastic:rot=10,alpha=34,sigma=4\""));
    assert_int_equal(d.seed, 12345678901LL);
    assert_int_equal(d.hidden.v[1], 800);
    cJSON_free(text);
    cJSON_free(text2);
    cJSON_Delete(j);
    cJSON_Delete(j2);
}

static void shipped_configs_load(void **state)
{
    (void)state;
    const char *files[] = {"configs/default.json", "configs/default-sigmoid.json",
                           "configs/softmax.json", "configs/sigmoid.json",
                           "configs/sigmoid-mean-bce.json",
                           "configs/nielsen/ch1-30-quadratic.json",
                           "configs/nielsen/ch1-100-quadratic.json",
                           "configs/nielsen/ch3-30-ce.json",
                           "configs/nielsen/ch3-100-ce.json",
                           "configs/nielsen/ch3-30-ce-l2.json",
                           "configs/nielsen/ch3-100-ce-l2-scaled.json",
                           "configs/nielsen/ch6-100-softmax.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        struct config c;
        struct err e = {0};
        config_defaults(&c);
        if (config_load_file(&c, files[i], &e))
            fail_msg("%s", e.msg);
    }
}

/* Every T_ENUM option lists the names its enum is declared with, in its order:
 * each name loads as its own constant and prints back as itself, and the list
 * ends where the enum does. */
#define PAIR(id, name) {name, id},
struct enum_case {
    const char *name;
    int value;
};

static void check_enum(const char *key, size_t off, const struct enum_case *cases, int n)
{
    for (int i = 0; i < n; i++) {
        char json[128];
        snprintf(json, sizeof json, "{\"%s\": \"%s\"}", key, cases[i].name);
        struct config c;
        struct err e = {0};
        config_defaults(&c);
        if (config_load_text(&c, json, strlen(json), "cfg.json", &e))
            fail_msg("%s: %s", json, e.msg);
        int got = *(int *)((char *)&c + off);
        if (got != cases[i].value)
            fail_msg("%s loads as %d, the constant is %d", json, got, cases[i].value);
        assert_string_equal(config_enum_name(key, cases[i].value), cases[i].name);
    }
    assert_string_equal(config_enum_name(key, n), "?");
}

static void enum_names_match_constants(void **state)
{
    (void)state;
#define CHECK(key, LIST)                                                                \
    do {                                                                                \
        const struct enum_case cases[] = {LIST(PAIR)};                                  \
        check_enum(#key, offsetof(struct config, key), cases,                           \
                   (int)(sizeof cases / sizeof cases[0]));                              \
    } while (0)
    CHECK(task, TASK_KINDS);
    CHECK(head, HEAD_KINDS);
    CHECK(activation, ACTS);
    CHECK(loss, HEAD_LOSSES);
    CHECK(init, MLP_INITS);
    CHECK(lr_schedule, LR_SCHEDULES);
    CHECK(optimizer, OPTIM_KINDS);
    CHECK(precision, PRECISIONS);
#undef CHECK
    /* the six constants a reader would check by hand */
    assert_string_equal(config_enum_name("head", HEAD_SIGMOID), "sigmoid");
    assert_string_equal(config_enum_name("optimizer", OPT_ADAM), "adam");
    assert_string_equal(config_enum_name("lr_schedule", LR_STEP), "step");
    assert_string_equal(config_enum_name("task", TASK_PAIRS), "pairs");
    assert_string_equal(config_enum_name("activation", ACT_TANH), "tanh");
}

/* loss: resolved once, refused against the wrong head; the retired
 * --bce-reduction is no option, while an old model file's setting of it
 * still spells the same model (the one mapping, config_load_stored) */
static void loss_key(void **state)
{
    (void)state;
    struct config c;
    struct err e;
    enum config_action act;
    assert_int_equal(parse(&c, &e, &act, "--data-dir", "/nonexistent", NULL), 0);
    assert_int_equal(c.loss, HEAD_CCE);   /* auto under softmax */
    assert_int_equal(parse(&c, &e, &act, "--head", "sigmoid", NULL), 0);
    assert_int_equal(c.loss, HEAD_BCE_SUM);
    EXPECT_ARGS_ERROR("--bce-reduction: unknown option", "--head", "sigmoid", "--bce-reduction",
                      "mean");
    assert_int_equal(parse(&c, &e, &act, "--head", "sigmoid", "--loss", "keras-cce", NULL), 0);
    assert_int_equal(c.loss, HEAD_KERAS_CCE);
    EXPECT_ARGS_ERROR("head softmax takes only loss cce", "--loss", "squared");
    EXPECT_ARGS_ERROR("loss: bce-mean with head softmax", "--loss", "bce-mean");
    EXPECT_ARGS_ERROR("loss cce is softmax's", "--head", "sigmoid", "--loss", "cce");
    EXPECT_ARGS_ERROR("nothing to learn", "--task", "binary", "--head", "sigmoid", "--loss",
                      "keras-cce");
    /* an old model file (bce_reduction mean, no loss) is the same model as one
     * saved with loss bce-mean, and another than loss bce */
    static const char oldtext[] = "{\"head\":\"sigmoid\",\"bce_reduction\":\"mean\"}";
    struct config old, now;
    config_defaults(&old);
    assert_int_equal(config_load_stored(&old, oldtext, sizeof oldtext - 1, "old.bin", false, &e), 0);
    now = old;
    now.loss = HEAD_BCE_MEAN;
    assert_null(config_model_differs(&old, &now));
    now.loss = HEAD_BCE_SUM;
    assert_string_equal(config_model_differs(&old, &now), "loss");
    now.loss = HEAD_SQUARED;
    assert_string_equal(config_model_differs(&old, &now), "loss");
    /* "sum", and "mean" under softmax or beside an explicit loss, change nothing */
    static const char *const same[][2] = {
        {"{\"head\":\"sigmoid\",\"bce_reduction\":\"sum\"}", "auto"},
        {"{\"head\":\"sigmoid\",\"loss\":\"bce\",\"bce_reduction\":\"sum\"}", "bce"},
        {"{\"head\":\"softmax\",\"bce_reduction\":\"mean\"}", "auto"},
        {"{\"head\":\"sigmoid\",\"loss\":\"squared\",\"bce_reduction\":\"mean\"}",
         "squared"}};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        config_defaults(&old);
        assert_int_equal(config_load_stored(&old, same[i][0], strlen(same[i][0]), "old.bin",
                                            false, &e), 0);
        assert_string_equal(config_enum_name("loss", old.loss), same[i][1]);
    }
    /* a config file is no old model file: the key is unknown there */
    config_defaults(&old);
    assert_int_not_equal(config_load_text(&old, oldtext, sizeof oldtext - 1, "my.json", &e), 0);
    assert_non_null(strstr(e.msg, "unknown key \"bce_reduction\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(precedence),
        cmocka_unit_test(resolves_data_paths),
        cmocka_unit_test(json_value_errors),
        cmocka_unit_test(json_structure_errors),
        cmocka_unit_test(json_nul_escape_refused),
        cmocka_unit_test(flag_errors),
        cmocka_unit_test(predict_refuses_outputs),
        cmocka_unit_test(config_from_a_pipe),
        cmocka_unit_test(print_config_round_trips),
        cmocka_unit_test(shipped_configs_load),
        cmocka_unit_test(enum_names_match_constants),
        cmocka_unit_test(loss_key),
    };
    return cmocka_run_group_tests_name("config", tests, setup_dir, teardown_dir);
}
