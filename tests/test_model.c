/* Saved models: save, load, evaluate, predict, resume after a signal to the
 * same bytes as an uninterrupted run, survive kill -9 during saves, and reject
 * truncated, bit-flipped, wrong-version and wrong-architecture files. Model
 * files are untrusted input: hand-made files (valid CRC, hostile content)
 * with output keys in their settings, impossible random states, orders and
 * positions are refused; no flag or config file changes a loaded model's kind;
 * resuming a finished model evaluates it; --metrics appends on resume. */
#include <cjson/cJSON.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "support/support.h"
#include "model/checkpoint.h"



/* ---- hand-made model files: edit a real one, then fix its length and CRC ---- */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

/* byte offsets of the parts of a model file (see checkpoint.h) */
struct layout {
    size_t params, n_params, has_state, optimizer, n_m, m, n_v, v, epoch, next, loss, correct,
        rng, n_order, order;
};

static struct layout layout_of(const uint8_t *b)
{
    struct layout o = {0};
    size_t at = 24;
    at += 4 + rd32(b + at);                 /* settings */
    uint32_t L = rd32(b + at);
    at += 4 + 4 * ((size_t)L + 1);
    o.n_params = at;
    uint64_t n = rd64(b + at);
    o.params = at + 8;
    at = o.params + 4 * n;
    o.has_state = at;
    o.optimizer = at + 4;
    o.n_m = at + 16;
    o.m = o.n_m + 8;
    o.n_v = o.m + 4 * rd64(b + o.n_m);
    o.v = o.n_v + 8;
    o.epoch = o.v + 4 * rd64(b + o.n_v);
    o.next = o.epoch + 4;
    o.loss = o.next + 4;
    o.correct = o.loss + 8;
    o.rng = o.correct + 8;
    o.n_order = o.rng + 96;
    o.order = o.n_order + 4;
    return o;
}

/* a fresh payload length and CRC-32 after an edit */
static void reseal(uint8_t *b, size_t len)
{
    wr64(b + 16, len - 28);
    wr32(b + len - 4, (uint32_t)crc32(0L, b + 24, (uInt)(len - 28)));
}

/* the file `good` with its stored settings replaced by json */
static uint8_t *with_settings(const uint8_t *good, size_t len, const char *json, size_t *out_len)
{
    size_t old = rd32(good + 24), n = strlen(json);
    *out_len = len - old + n;
    uint8_t *b = malloc(*out_len);
    memcpy(b, good, 24);
    wr32(b + 24, (uint32_t)n);
    memcpy(b + 28, json, n);
    memcpy(b + 28 + n, good + 28 + old, len - 28 - old);
    reseal(b, *out_len);
    return b;
}

/* the stored settings of a model file, as a string (free it) */
static char *settings_of(const uint8_t *b)
{
    uint32_t n = rd32(b + 24);
    char *s = malloc(n + 1);
    memcpy(s, b + 28, n);
    s[n] = 0;
    return s;
}

static double summary_accuracy(char *out)
{
    cJSON *l[64];
    int n = json_lines(out, l, 64);
    double acc = json_num(l[n - 1], "test_accuracy");
    for (int i = 0; i < n; i++)
        cJSON_Delete(l[i]);
    return acc;
}

/* test_dir/m.bin: the model save_load_evaluate saves, made here when a test
 * runs without it (alone, or before it) */
static const char *saved_model(void)
{
    return TRAINED_MODEL("m.bin", "--data-dir", test_dir, "--hidden", "32", "--epochs", "2", "--json");
}

/* --predict on model m agrees with the predictions its evaluation wrote to p.csv */
static void predict_agrees(const char *m)
{
    char *out, *err;
    RUN(0, out, err, "--load", m, "--predict", path_in(test_dir, "t10k-images-idx3-ubyte.gz"));
    size_t len;
    char *csv = (char *)slurp_bytes(path_in(test_dir, "p.csv"), &len);
    int rows = 0;
    for (char *save, *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (rows++ == 0) {
            assert_string_equal(l, "index,prediction,p0,p1,p2,p3,p4,p5,p6,p7,p8,p9");
            continue;
        }
        int idx, guess;
        assert_int_equal(sscanf(l, "%d,%d,", &idx, &guess), 2);
        char want[64];
        snprintf(want, sizeof want, "\n%d,%d,%d,", idx, idx % 10, guess);
        /* p.csv rows are index,label,prediction: the synthetic label is index % 10 */
        if (!strstr(csv, want))
            fail_msg("prediction %d for image %d is not in p.csv", guess, idx);
    }
    assert_int_equal(rows, 201);
    free(csv), free(out), free(err);
}

static void save_load_evaluate(void **state)
{
    (void)state;
    char *out, *err;
    const char *m = path_in(test_dir, "m.bin");
    RUN(0, out, err, "--data-dir", test_dir, "--hidden", "32", "--epochs", "2", "--json", "--save", m);
    double trained = summary_accuracy(out);
    free(out), free(err);
    /* the model's settings come back with it: no --hidden needed */
    RUN(0, out, err, "--data-dir", test_dir, "--load", m, "--epochs", "0", "--json", "--predictions",
        path_in(test_dir, "p.csv"));
    assert_float_equal(summary_accuracy(out), trained, 0);
    free(out), free(err);
    /* a flag may not turn it into another kind of model */
    RUN(64, out, err, "--data-dir", test_dir, "--load", m, "--epochs", "0", "--head", "sigmoid");
    assert_non_null(strstr(err, "head: the model in"));
    assert_non_null(strstr(err, "has \"softmax\", not \"sigmoid\""));
    free(out), free(err);
    RUN(64, out, err, "--data-dir", test_dir, "--load", m, "--epochs", "0", "--hidden", "16");
    assert_non_null(strstr(err, "has [32], not [16]"));
    free(out), free(err);

    /* --predict agrees with the predictions written during evaluation */
    predict_agrees(m);
}

/* a model trained on inputs in [-1, 1] keeps its range: evaluation after
 * --load and --predict feed it [-1, 1] too, and no flag changes it */
static void input_range_pm1(void **state)
{
    (void)state;
    char *out, *err;
    const char *m = path_in(test_dir, "m-pm1.bin");
    RUN(0, out, err, "--data-dir", test_dir, "--hidden", "32", "--epochs", "2", "--json",
        "--input-range", "pm1", "--save", m);
    double trained = summary_accuracy(out);
    free(out), free(err);
    RUN(0, out, err, "--data-dir", test_dir, "--load", m, "--epochs", "0", "--json", "--predictions",
        path_in(test_dir, "p.csv"));
    assert_float_equal(summary_accuracy(out), trained, 0);
    free(out), free(err);
    RUN(64, out, err, "--data-dir", test_dir, "--load", m, "--epochs", "0", "--input-range", "unit");
    assert_non_null(strstr(err, "input_range"));
    free(out), free(err);
    predict_agrees(m);
}


static void predict_from_stdin(void **state)
{
    (void)state;
    const char *m = saved_model();
    char cmd[2048];
    /* three raw 10x10 images, then one cut short */
    const char *bin = train_bin();
    snprintf(cmd, sizeof cmd, "head -c 300 /dev/zero | %s --load %s --predict - --json > %s", bin,
             m, path_in(test_dir, "raw.out"));
    assert_int_equal(system(cmd), 0);
    size_t len;
    char *o = (char *)slurp_bytes(path_in(test_dir, "raw.out"), &len);
    int lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += o[i] == '\n';
    assert_int_equal(lines, 3);
    assert_non_null(strstr(o, "{\"type\":\"prediction\",\"index\":2,"));
    free(o);
    snprintf(cmd, sizeof cmd, "head -c 250 /dev/zero | %s --load %s --predict - 2> %s", bin, m,
             path_in(test_dir, "raw.err"));
    assert_int_equal(WEXITSTATUS(system(cmd)), 65);
    o = (char *)slurp_bytes(path_in(test_dir, "raw.err"), &len);
    assert_non_null(strstr(o, "stdin: 50 bytes left over; images are 100 bytes"));
    free(o);
}

/* the epoch lines of --json, which the signals below wait for */
#define EPOCH_LINE "{\"type\":\"epoch\""

/* an interrupted and resumed run ends with exactly the bytes of an uninterrupted one */
static void resume_is_exact(void **state)
{
    (void)state;
    char *out, *err;
    const char *whole = path_in(test_dir, "whole.bin"), *part = path_in(test_dir, "part.bin");
    const char *common[] = {"--data-dir", test_dir, "--hidden", "256,128", "--dropout", "0.2",
                            "--augment", "shift:1", "--epochs", "40", "--batch-size", "16",
                            "--threads", "1", "--json"};
    const char *a[24], *b[24];
    int n = 0;
    for (; n < 15; n++)
        a[n] = b[n] = common[n];
    a[n] = b[n] = "--save";
    a[n + 1] = whole, b[n + 1] = part;
    a[n + 2] = b[n + 2] = NULL;
    free(run_train_ok(a));
    /* stop it in the middle, once it has reported its first epoch: exactly
     * where does not matter, and an event of the run, unlike a time, comes
     * before its end however busy the machine is */
    int sent, rc = run_train_signal_at(b, EPOCH_LINE, 1, SIGTERM, &sent, &out, &err);
    if (!sent || rc != 143)
        fail_msg("signalled after its first epoch: exit %d: %s", rc, err);
    /* inside an epoch ("at epoch E, batch B") or between two ("after epoch E") */
    if (!strstr(err, "train: interrupted at epoch") && !strstr(err, "train: interrupted after epoch"))
        fail_msg("unexpected message: %s", err);
    /* the batch it names is one of the epoch's 38 (600 images, batches of 16) */
    unsigned epoch, batch;
    int at = interrupted_at(err, &epoch, &batch);
    if (at < 0 || (at && (epoch < 2 || epoch > 40 || batch < 1 || batch > 38)))
        fail_msg("the epoch or batch it names is not one of the run's: %s", err);
    assert_non_null(strstr(err, "checkpoint saved to"));
    free(out), free(err);
    free(RUN_OK("--data-dir", test_dir, "--resume", part, "--json"));
    size_t la, lb;
    uint8_t *x = slurp_bytes(whole, &la), *y = slurp_bytes(part, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(x, y, la);
    free(x), free(y);
    /* a finished model cannot be resumed past its epochs without saying so */
    RUN(64, out, err, "--data-dir", test_dir, "--resume", part, "--epochs", "10");
    assert_non_null(strstr(err, "epochs: 10, but"));
    free(out), free(err);
}

/* the epoch numbers of out's epoch lines, in order, into ep; how many */
static int epochs_reported(char *out, int *ep, int max)
{
    cJSON *l[64];
    int n = json_lines(out, l, 64), k = 0;
    for (int i = 0; i < n; i++) {
        const cJSON *t = cJSON_GetObjectItem(l[i], "type");
        if (k < max && cJSON_IsString(t) && !strcmp(t->valuestring, "epoch"))
            ep[k++] = (int)json_num(l[i], "epoch");
        cJSON_Delete(l[i]);
    }
    return k;
}

/* A signal while an epoch is being evaluated (validation, then test): the
 * checkpoint says the epoch is done, so the evaluation runs to its end and
 * the epoch is reported before the run stops; the resumed run then goes on
 * with the next one. Before, the signal cut the evaluation short: the epoch
 * was never reported by either sitting, and never weighed for --patience's
 * kept network. Ten training images and 20,000 to validate make an epoch
 * almost all evaluation, so the signal, sent when epoch 1 is reported, lands
 * in epoch 2's evaluation on a busy machine too. */
static void resume_after_a_signal_in_evaluation(void **state)
{
    (void)state;
    char *dir = tmpdir_make(), *out, *err;
    write_synthetic_mnist(dir, 20010, 2000, 20);
    const char *whole = path_in(dir, "whole.bin"), *part = path_in(dir, "part.bin");
    const char *a[] = {"--data-dir", dir, "--hidden", "512,512", "--val", "20000", "--patience",
                       "4", "--epochs", "4", "--batch-size", "10", "--threads", "1", "--json",
                       "--save", whole, NULL};
    out = run_train_ok(a);
    int want[8], got[8];
    assert_int_equal(epochs_reported(out, want, 8), 4);
    free(out);
    a[16] = part;
    int sent, rc = run_train_signal_at(a, EPOCH_LINE, 1, SIGTERM, &sent, &out, &err);
    if (!sent || rc != 143 || !strstr(err, "checkpoint saved to"))
        fail_msg("signalled after epoch 1: exit %d: %s", rc, err);
    if (strstr(err, "while evaluating"))
        fail_msg("an epoch's evaluation was cut short: %s", err);
    int n = epochs_reported(out, got, 8);
    free(out), free(err);
    out = RUN_OK("--data-dir", dir, "--resume", part, "--json");
    n += epochs_reported(out, got + n, 8 - n);
    free(out);
    /* every epoch reported once, across the two sittings */
    assert_int_equal(n, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(got[i], i + 1);
    size_t la, lb;
    uint8_t *x = slurp_bytes(whole, &la), *y = slurp_bytes(part, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(x, y, la);
    free(x), free(y);
    tmpdir_remove(dir);
}

static void interrupt_without_save(void **state)
{
    (void)state;
    char *out, *err;
    const char *args[] = {"--data-dir", test_dir, "--epochs", "100000", "--hidden", "8", "--json",
                          NULL};
    /* once training runs: its first epoch reported */
    int sent, rc = run_train_signal_at(args, EPOCH_LINE, 1, SIGINT, &sent, &out, &err);
    assert_true(sent);
    assert_int_equal(rc, 130);
    assert_non_null(strstr(err, "(nothing saved: no --save FILE)"));
    free(out), free(err);
}

/* A closed pipe on stdout (train --save m.bin | head), a dropped session
 * (SIGHUP) and a stdout that cannot be written end the run as SIGINT does:
 * a checkpoint in --save and a clear exit, never the run lost */
static void hangup_and_broken_pipe_keep_the_work(void **state)
{
    (void)state;
    char *out, *err;
    const char *m = path_in(test_dir, "hup.bin");
    const char *args[] = {"--data-dir", test_dir, "--epochs", "100000", "--hidden", "8",
                          "--save", m, "--json", NULL};
    int sent, rc = run_train_signal_at(args, EPOCH_LINE, 1, SIGHUP, &sent, &out, &err);
    if (!sent || rc != 129 || !strstr(err, "checkpoint saved to"))
        fail_msg("exit %d: %s", rc, err);
    free(out), free(err);
    free(RUN_OK("--data-dir", test_dir, "--load", m, "--epochs", "0", "--quiet"));
    /* the reader of stdout goes away: every epoch line is a write into the pipe */
    const char *p = path_in(test_dir, "pipe.bin");
    char rcf[1024], errf[1024];
    snprintf(rcf, sizeof rcf, "%s", path_in(test_dir, "pipe.rc"));
    snprintf(errf, sizeof errf, "%s", path_in(test_dir, "pipe.err"));
    unlink(p);
    assert_int_equal(sh("{ %s --data-dir %s --epochs 100000 --hidden 8 --json --save %s "
                        "2>%s; echo $? > %s; } | head -c 1 > /dev/null", train_bin(), test_dir,
                        p, errf, rcf), 0);
    char *e = strdup(slurp_text(errf));
    int code = atoi(slurp_text(rcf));
    if (code != 141 || !strstr(e, "Broken pipe") || !strstr(e, "checkpoint saved to"))
        fail_msg("exit %d: %s", code, e);
    free(e);
    free(RUN_OK("--data-dir", test_dir, "--load", p, "--epochs", "0", "--quiet"));
}

/* Started with stdout (and stdin) closed, train does not let the next file it
 * opens become stdout: the report is not written into the metrics file, and
 * the closed stdout is an error where the report is written (74) */
static void closed_stdout_is_an_error(void **state)
{
    (void)state;
    char csv[1024], errf[1024];
    snprintf(csv, sizeof csv, "%s", path_in(test_dir, "closed.csv"));
    snprintf(errf, sizeof errf, "%s", path_in(test_dir, "closed.err"));
    const char *how[] = {">&-", "<&- >&-", ">&- --quiet", ">&- --json"};
    for (size_t i = 0; i < sizeof how / sizeof how[0]; i++) {
        unlink(csv);
        int rc = sh("exec %s --data-dir %s --epochs 2 --hidden 8 --metrics %s 2>%s %s",
                    train_bin(), test_dir, csv, errf, how[i]);
        char *e = strdup(slurp_text(errf));
        if (rc != 74 || !strstr(e, "train: stdout: "))
            fail_msg("%s: exit %d: %s", how[i], rc, e);
        free(e);
        const char *text = slurp_text(csv);
        if (text && (strstr(text, "settings:") || strstr(text, "test accuracy") ||
                     strstr(text, "\"type\"")))
            fail_msg("%s: the report went into the metrics file:\n%s", how[i], text);
    }
}

/* kill -9 while checkpoints are being written: the file under the real name
 * is always a whole model */
static void kill_during_saves(void **state)
{
    (void)state;
    char *out, *err;
    const char *ck = path_in(test_dir, "ck.bin");
    free(RUN_OK("--data-dir", test_dir, "--hidden", "256,256", "--epochs", "1", "--save", ck,
        "--quiet"));
    const char *args[] = {"--data-dir", test_dir, "--hidden", "256,256", "--epochs", "100000",
                          "--checkpoint-every", "1", "--save", ck, "--quiet", NULL};
    for (int i = 0; i < 8; i++) {
        assert_int_equal(run_train_signal(args, 100 + 37 * i, SIGKILL, &out, &err), -1);
        free(out), free(err);
        free(RUN_OK("--data-dir", test_dir, "--load", ck, "--epochs", "0", "--quiet"));
    }
}

static void rejects_damaged_files(void **state)
{
    (void)state;
    size_t len;
    uint8_t *good = slurp_bytes(saved_model(), &len);
    struct checkpoint ck;
    struct err e = {0};
    assert_int_equal(checkpoint_parse(&ck, good, len, "m.bin", &e), 0);
    assert_int_equal(ck.L, 2);
    assert_int_equal(ck.size[1], 32);
    assert_int_equal(ck.has_state, 1);
    checkpoint_free(&ck);
    /* every truncation is an error, never a crash */
    for (size_t cut = 0; cut < len; cut += cut < 64 ? 1 : 97) {
        memset(&e, 0, sizeof e);
        assert_int_equal(checkpoint_parse(&ck, good, cut, "m.bin", &e), ERR_DATA);
    }
    /* a flipped bit anywhere is caught: in the header by its checks, in the
     * payload by the CRC */
    for (size_t at = 0; at < len; at += 61) {
        good[at] ^= 0x10;
        memset(&e, 0, sizeof e);
        assert_int_equal(checkpoint_parse(&ck, good, len, "m.bin", &e), ERR_DATA);
        good[at] ^= 0x10;
    }
    memset(&e, 0, sizeof e);
    good[len - 1] ^= 1;
    checkpoint_parse(&ck, good, len, "m.bin", &e);
    assert_non_null(strstr(e.msg, "m.bin: checksum mismatch"));
    good[len - 1] ^= 1;
    good[8] = 3;   /* version */
    memset(&e, 0, sizeof e);
    checkpoint_parse(&ck, good, len, "m.bin", &e);
    assert_non_null(strstr(e.msg, "model format version 3, this program reads 1 to 2"));
    free(good);
    char *out, *err;
    write_text(path_in(test_dir, "text.bin"), "hello");
    RUN(65, out, err, "--load", path_in(test_dir, "text.bin"), "--epochs", "0");
    assert_non_null(strstr(err, "text.bin: not a model file of this program\n"));
    free(out), free(err);
}


/* the settings with one more key (value as JSON text) */
static char *plus_key(const char *cfg, const char *key, const char *value)
{
    size_t n = strlen(cfg) + strlen(key) + strlen(value) + 8;
    char *j = malloc(n);
    snprintf(j, n, "%.*s,\"%s\":%s}", (int)(strlen(cfg) - 1), cfg, key, value);
    return j;
}

/* a model file says what the model is, never where to read or write: every
 * location or output key in its settings is refused by name, and nothing is
 * written where it pointed */
/* cut `what` out of s in place; fails if it is not there */
static void cut(char *s, const char *what)
{
    char *at = strstr(s, what);
    if (!at)
        fail_msg("\"%s\" not in %s", what, s);
    memmove(at, at + strlen(what), strlen(at + strlen(what)) + 1);
}

/* a model file written before the loss and init keys (bce_reduction "mean",
 * no "loss", no "init") still loads, as the same model as loss bce-mean */
static void old_loss_settings_load(void **state)
{
    (void)state;
    char *out, *err;
    char m[1024], old[1024];
    snprintf(m, sizeof m, "%s", path_in(test_dir, "bcemean.bin"));
    snprintf(old, sizeof old, "%s", path_in(test_dir, "old-bcemean.bin"));
    RUN(0, out, err, "--data-dir", test_dir, "--head", "sigmoid", "--loss", "bce-mean",
        "--hidden", "16", "--epochs", "1", "--json", "--save", m);
    double trained = summary_accuracy(out);
    free(out), free(err);
    size_t len, blen;
    uint8_t *good = slurp_bytes(m, &len);
    char *cfg = settings_of(good);
    cut(cfg, "\"loss\":\"bce-mean\",");
    cut(cfg, "\"init\":\"he-glorot\",");
    char fixed[4096];   /* the key the file had before loss: "bce_reduction":"mean" */
    assert_int_equal(cfg[0], '{');
    snprintf(fixed, sizeof fixed, "{\"bce_reduction\":\"mean\",%s", cfg + 1);
    uint8_t *b = with_settings(good, len, fixed, &blen);
    write_bytes(old, b, blen);
    RUN(0, out, err, "--data-dir", test_dir, "--load", old, "--epochs", "0", "--json");
    assert_float_equal(summary_accuracy(out), trained, 0);
    free(out), free(err);
    free(RUN_OK("--data-dir", test_dir, "--load", old, "--epochs", "0", "--loss", "bce-mean",
        "--json"));
    RUN(64, out, err, "--data-dir", test_dir, "--load", old, "--epochs", "0", "--loss", "bce");
    assert_non_null(strstr(err, "loss: the model in"));
    assert_non_null(strstr(err, "has \"bce-mean\", not \"bce\""));
    free(out), free(err);
    free(b), free(cfg), free(good);
}

static void stored_settings_refused(void **state)
{
    (void)state;
    size_t len, blen;
    uint8_t *good = slurp_bytes(path_in(test_dir, "m.bin"), &len);
    char *cfg = settings_of(good);
    char evil[600], quoted[700];
    snprintf(evil, sizeof evil, "%s", path_in(test_dir, "evil.csv"));
    snprintf(quoted, sizeof quoted, "\"%s\"", evil);
    const char *keys[] = {"save", "predictions", "metrics", "resume", "load", "predict",
                          "data_dir", "train_images", "train_labels", "test_images",
                          "test_labels", "json", "quiet", "report", "config"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        int is_bool = !strcmp(keys[i], "json") || !strcmp(keys[i], "quiet") ||
                      !strcmp(keys[i], "report");
        char *j = plus_key(cfg, keys[i], is_bool ? "true" : quoted);
        uint8_t *b = with_settings(good, len, j, &blen);
        const char *bad = path_in(test_dir, "bad.bin");
        write_bytes(bad, b, blen);
        char *out, *err, want[64];
        snprintf(want, sizeof want, "\"%s\"", keys[i]);
        RUN(65, out, err, "--data-dir", test_dir, "--load", bad, "--epochs", "0", "--quiet");
        if (!strstr(err, want) || !strstr(err, "bad.bin"))
            fail_msg("%s: %s", keys[i], err);
        free(out), free(err);
        RUN(65, out, err, "--data-dir", test_dir, "--resume", bad, "--quiet");
        free(out), free(err);
        RUN(65, out, err, "--load", bad, "--predict", path_in(test_dir, "t10k-images-idx3-ubyte.gz"));
        free(out), free(err);
        assert_int_equal(access(evil, F_OK), -1);
        free(b), free(j);
    }
    /* checkpoint_every is remembered for --resume: stored, and allowed */
    assert_non_null(strstr(cfg, "\"checkpoint_every\":0"));
    free(cfg), free(good);
}

/* parse a hand-edited copy of good; expect ERR_DATA with `want` in the message */
static void expect_refused(const uint8_t *b, size_t len, const char *want)
{
    struct checkpoint ck;
    struct err e = {0};
    int rc = checkpoint_parse(&ck, b, len, "bad.bin", &e);
    if (rc == 0)
        checkpoint_free(&ck);
    if (rc != ERR_DATA || !strstr(e.msg, want))
        fail_msg("expected \"%s\", got %d: %s", want, rc, e.msg);
}

/* every stored random state, the data order, the position, the optimizer
 * state and the weights are checked, and agree with the stored settings */
static void stored_state_validated(void **state)
{
    (void)state;
    size_t len, blen;
    uint8_t *good = slurp_bytes(path_in(test_dir, "m.bin"), &len);
    struct layout o = layout_of(good);
    uint8_t *b = malloc(len);
    for (int stream = 0; stream < 3; stream++) {
        memcpy(b, good, len);
        memset(b + o.rng + 32 * stream, 0, 32);
        reseal(b, len);
        expect_refused(b, len, "random state is all zero");
    }
    /* all-zero shuffling state: today's --resume would spin forever in rng_below */
    memcpy(b, good, len);
    memset(b + o.rng, 0, 32);
    reseal(b, len);
    write_bytes(path_in(test_dir, "zero.bin"), b, len);
    char *out, *err;
    const char *args[] = {"--data-dir", test_dir, "--resume", path_in(test_dir, "zero.bin"),
                          "--epochs", "3", "--save", path_in(test_dir, "zero-out.bin"), NULL};
    int rc = run_train_signal(args, 120000, SIGKILL, &out, &err);   /* a guard */
    if (rc != 65 || !strstr(err, "random state is all zero"))
        fail_msg("exit %d: %s", rc, err);
    free(out), free(err);

    memcpy(b, good, len);   /* a sample twice, another never */
    memcpy(b + o.order + 4, b + o.order, 4);
    reseal(b, len);
    expect_refused(b, len, "not a permutation");
    memcpy(b, good, len);
    wr32(b + o.epoch, 1);
    wr32(b + o.next, 7);   /* not where a batch of 64 starts */
    reseal(b, len);
    expect_refused(b, len, "not at a batch");
    memcpy(b, good, len);
    wr32(b + o.next, rd32(b + o.n_order));
    reseal(b, len);
    expect_refused(b, len, "outside the");
    memcpy(b, good, len);
    wr32(b + o.epoch, 3);   /* trained for 2 epochs */
    reseal(b, len);
    expect_refused(b, len, "beyond its 2 epochs");
    memcpy(b, good, len);
    wr64(b + o.loss, 0xbff0000000000000ull);   /* -1.0 with no sample done */
    reseal(b, len);
    expect_refused(b, len, "sums of the epoch");
    memcpy(b, good, len);
    wr32(b + o.params + 40, 0x7fc00000u);   /* NaN */
    reseal(b, len);
    expect_refused(b, len, "parameter 10 is nan");
    memcpy(b, good, len);
    wr32(b + o.m, 0x7f800000u);   /* +inf */
    reseal(b, len);
    expect_refused(b, len, "optimizer state 0 is inf");
    memcpy(b, good, len);
    wr32(b + o.optimizer, 7);
    reseal(b, len);
    expect_refused(b, len, "optimizer state is corrupt");
    /* settings that disagree with the weights or the state */
    char *cfg = settings_of(good), *j = malloc(strlen(cfg) + 16), *at;
    strcpy(j, cfg);
    at = strstr(j, "\"hidden\":[32]");
    assert_non_null(at);
    memcpy(at, "\"hidden\":[16]", 13);
    free(b);
    b = with_settings(good, len, j, &blen);
    expect_refused(b, blen, "stored hidden layers do not match");
    free(b);
    strcpy(j, cfg);
    at = strstr(j, "\"optimizer\":\"momentum\"");
    assert_non_null(at);
    memcpy(at, "\"optimizer\":\"sgd\"     ", 22);
    b = with_settings(good, len, j, &blen);
    expect_refused(b, blen, "not for its stored optimizer sgd");
    free(b), free(j), free(cfg), free(good);
}

/* the optimizer's step count is bounded by the samples trained on (a step
 * takes at least one): a hand-set count near INT64_MAX would overflow its
 * counter and pass for divergence */
static void stored_steps_bounded(void **state)
{
    (void)state;
    size_t len;
    uint8_t *good = slurp_bytes(path_in(test_dir, "m.bin"), &len);
    struct layout o = layout_of(good);
    uint64_t samples = (uint64_t)rd32(good + o.epoch) * rd32(good + o.n_order);
    uint8_t *b = malloc(len);
    uint64_t bad[] = {INT64_MAX, samples + 1};
    for (int i = 0; i < 2; i++) {
        memcpy(b, good, len);
        wr64(b + o.optimizer + 4, bad[i]);
        reseal(b, len);
        expect_refused(b, len, "more than the");
    }
    /* batches of one sample reach the bound itself */
    memcpy(b, good, len);
    wr64(b + o.optimizer + 4, samples);
    reseal(b, len);
    struct checkpoint ck;
    struct err e = {0};
    if (checkpoint_parse(&ck, b, len, "ok.bin", &e))
        fail_msg("%s", e.msg);
    checkpoint_free(&ck);
    /* through the program: a data error, not training that diverged */
    memcpy(b, good, len);
    wr64(b + o.optimizer + 4, INT64_MAX);
    reseal(b, len);
    write_bytes(path_in(test_dir, "steps.bin"), b, len);
    char *out, *err;
    RUN(65, out, err, "--data-dir", test_dir, "--resume", path_in(test_dir, "steps.bin"),
        "--epochs", "3", "--save", path_in(test_dir, "steps-out.bin"));
    assert_non_null(strstr(err, "steps.bin: its optimizer has taken"));
    free(out), free(err), free(b), free(good);
}

static void write_config(const char *name, const char *json) { write_text(path_in(test_dir, name), json); }

/* what a loaded model is cannot be changed on any path that loads one */
static void kind_flags_refused_everywhere(void **state)
{
    (void)state;
    char *out, *err;
    char m[1024];   /* path_in's buffers rotate */
    snprintf(m, sizeof m, "%s", path_in(test_dir, "m.bin"));
    RUN(64, out, err, "--load", m, "--predict", path_in(test_dir, "t10k-images-idx3-ubyte.gz"),
        "--activation", "tanh");
    assert_non_null(strstr(err, "activation: the model in"));
    free(out), free(err);
    RUN(64, out, err, "--data-dir", test_dir, "--resume", m, "--head", "sigmoid");
    assert_non_null(strstr(err, "head: the model in"));
    free(out), free(err);
    RUN(64, out, err, "--data-dir", test_dir, "--load", m, "--epochs", "0", "--loss", "squared");
    assert_non_null(strstr(err, "loss: the model in"));
    free(out), free(err);
    RUN(64, out, err, "--data-dir", test_dir, "--load", m, "--epochs", "0", "--positive", "3");
    assert_non_null(strstr(err, "positive: the model in"));
    free(out), free(err);
    /* a config file may retrain it another way, not make it another model */
    write_config("kind.json", "{\"hidden\": [16]}");
    RUN(64, out, err, "--config", path_in(test_dir, "kind.json"), "--data-dir", test_dir,
        "--load", m, "--epochs", "0");
    assert_non_null(strstr(err, "hidden: the model in"));
    free(out), free(err);
    /* a config file that names the model means what --load does */
    char json[1200];
    snprintf(json, sizeof json, "{\"load\": \"%s\"}", m);
    write_config("load.json", json);
    RUN(64, out, err, "--config", path_in(test_dir, "load.json"), "--predict",
        path_in(test_dir, "t10k-images-idx3-ubyte.gz"), "--activation", "tanh");
    assert_non_null(strstr(err, "activation: the model in"));
    free(out), free(err);
    RUN(0, out, err, "--config", path_in(test_dir, "load.json"), "--print-config");
    assert_non_null(strstr(out, "\"hidden\":\t[32]"));   /* the model's settings are the base */
    free(out), free(err);
    write_config("lr.json", "{\"lr\": 0.01, \"head\": \"softmax\"}");
    free(RUN_OK("--config", path_in(test_dir, "lr.json"), "--data-dir", test_dir, "--load",
        m, "--epochs", "1", "--quiet"));
}

/* --resume of a model that has trained all its epochs evaluates it: the same
 * numbers, report and predictions as --load M --epochs 0, and the file is not
 * written back */
static void resume_finished_evaluates(void **state)
{
    (void)state;
    char *out, *err;
    char m[1024];
    snprintf(m, sizeof m, "%s", path_in(test_dir, "m.bin"));
    size_t la, lb, lp, lr;
    uint8_t *before = slurp_bytes(m, &la);
    RUN(0, out, err, "--data-dir", test_dir, "--load", m, "--epochs", "0", "--json",
        "--predictions", path_in(test_dir, "p-load.csv"));
    double loaded = summary_accuracy(out);
    free(out), free(err);
    RUN(0, out, err, "--data-dir", test_dir, "--resume", m, "--json", "--report", "--predictions",
        path_in(test_dir, "p-resume.csv"));
    cJSON *l[8];
    int n = json_lines(out, l, 8);
    assert_int_equal(n, 1);
    assert_float_equal(json_num(l[0], "test_accuracy"), loaded, 0);
    assert_float_equal(json_num(l[0], "test_total"), 200, 0);
    assert_true(loaded > 0.5);
    assert_non_null(cJSON_GetObjectItem(l[0], "report"));
    cJSON_Delete(l[0]);
    free(out), free(err);
    uint8_t *p = slurp_bytes(path_in(test_dir, "p-load.csv"), &lp);
    uint8_t *r = slurp_bytes(path_in(test_dir, "p-resume.csv"), &lr);
    assert_int_equal(lp, lr);
    assert_memory_equal(p, r, lp);
    free(p), free(r);
    /* text mode with the head report: once a segfault */
    RUN(0, out, err, "--data-dir", test_dir, "--resume", m, "--report", "--quiet");
    assert_non_null(strstr(out, "head report on 200 test images"));
    assert_null(strstr(out, "(0/0)"));
    free(out), free(err);
    /* --save naming the resumed file in another spelling is the same file:
     * not replaced either (an atomic replace would give it a new inode) */
    struct stat s0, s1;
    char again[1100];
    snprintf(again, sizeof again, "%s/./m.bin", test_dir);
    assert_int_equal(stat(m, &s0), 0);
    free(RUN_OK("--data-dir", test_dir, "--resume", m, "--save", again, "--quiet"));
    assert_int_equal(stat(m, &s1), 0);
    assert_true(s0.st_ino == s1.st_ino);
    uint8_t *after = slurp_bytes(m, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(before, after, la);
    free(before), free(after);
}

static int count_lines(const char *path, const char *prefix)
{
    size_t len;
    char *t = (char *)slurp_bytes(path, &len);
    int n = 0;
    for (size_t i = 0; i < len; i++)
        if ((i == 0 || t[i - 1] == '\n') && !strncmp(t + i, prefix, strlen(prefix)))
            n++;
    free(t);
    return n;
}

/* --metrics on --resume keeps the rows of the epochs the checkpoint has done,
 * drops rows a killed run wrote after its checkpoint, and appends */
static void resume_appends_metrics(void **state)
{
    (void)state;
    char *out, *err;
    const char *ck = path_in(test_dir, "mck.bin"), *csv = path_in(test_dir, "m.csv");
    const char *jl = path_in(test_dir, "m.jsonl");
    free(RUN_OK("--data-dir", test_dir, "--hidden", "16", "--epochs", "2", "--save", ck,
        "--metrics", csv, "--quiet"));
    size_t len0, len1;
    char *first = (char *)slurp_bytes(csv, &len0);
    free(RUN_OK("--data-dir", test_dir, "--resume", ck, "--epochs", "4", "--save",
        path_in(test_dir, "mck4.bin"), "--metrics", csv, "--quiet"));
    char *all = (char *)slurp_bytes(csv, &len1);
    assert_true(len1 > len0);
    assert_memory_equal(all, first, len0);   /* epochs 1-2 kept as they were */
    assert_int_equal(count_lines(csv, "epoch,"), 1);
    assert_int_equal(count_lines(csv, "3,"), 1);
    assert_int_equal(count_lines(csv, "4,"), 1);
    free(all);
    /* rows for epochs after the checkpoint (a run killed later) are replaced */
    char text[4096];
    snprintf(text, sizeof text, "%.*s3,9,9,9,,9,9,9,9\n5,9,9,9,,9,9,9,9\n6,9,9", (int)len0, first);
    write_text(csv, text);
    free(RUN_OK("--data-dir", test_dir, "--resume", ck, "--epochs", "3", "--save",
        path_in(test_dir, "mck3.bin"), "--metrics", csv, "--quiet"));
    assert_int_equal(count_lines(csv, "3,"), 1);
    assert_int_equal(count_lines(csv, "3,9,"), 0);
    assert_int_equal(count_lines(csv, "5,"), 0);
    assert_int_equal(count_lines(csv, "6,"), 0);
    free(first);
    /* the same for JSON lines */
    write_text(jl, "{\"type\":\"epoch\",\"epoch\":1,\"lr\":1}\n{\"type\":\"epoch\",\"epoch\":2}\n"
                   "{\"type\":\"epoch\",\"epoch\":3,\"lr\":99}\n");
    free(RUN_OK("--data-dir", test_dir, "--resume", ck, "--epochs", "3", "--save",
        path_in(test_dir, "mck3.bin"), "--metrics", jl, "--quiet"));
    assert_int_equal(count_lines(jl, "{\"type\":\"epoch\",\"epoch\":1,\"lr\":1}"), 1);
    assert_int_equal(count_lines(jl, "{\"type\":\"epoch\",\"epoch\":3,"), 1);
    assert_int_equal(count_lines(jl, "{\"type\":\"epoch\",\"epoch\":3,\"lr\":99}"), 0);
    /* a file that is not train's metrics is left alone */
    write_text(csv, "my,own,table\n1,2,3\n");
    RUN(65, out, err, "--data-dir", test_dir, "--resume", ck, "--epochs", "3", "--save",
        path_in(test_dir, "mck3.bin"), "--metrics", csv, "--quiet");
    assert_non_null(strstr(err, "not the header of train's metrics"));
    free(out), free(err);
    assert_int_equal(count_lines(csv, "my,own,table"), 1);
}

/* checkpoint_every is part of how a run goes on: --resume keeps it, --load
 * (a new run from the weights) does not */
static void checkpoint_every_carried(void **state)
{
    (void)state;
    char *out, *err;
    const char *ck = path_in(test_dir, "ce.bin"), *next = path_in(test_dir, "ce-next.bin");
    free(RUN_OK("--data-dir", test_dir, "--hidden", "16", "--epochs", "2",
        "--checkpoint-every", "1", "--save", ck, "--quiet"));
    RUN(0, out, err, "--resume", ck, "--epochs", "5", "--print-config");
    assert_non_null(strstr(out, "\"checkpoint_every\":\t1"));
    free(out), free(err);
    RUN(0, out, err, "--load", ck, "--print-config");
    assert_non_null(strstr(out, "\"checkpoint_every\":\t0"));
    free(out), free(err);
    /* a resumed run killed later has written checkpoints on the way: by its
     * second epoch line, the first epoch's */
    unlink(next);
    const char *args[] = {"--data-dir", test_dir, "--resume", ck, "--epochs", "100000", "--save",
                          next, "--json", NULL};
    int sent;
    assert_int_equal(run_train_signal_at(args, EPOCH_LINE, 2, SIGKILL, &sent, &out, &err), -1);
    assert_true(sent);
    free(out), free(err);
    free(RUN_OK("--data-dir", test_dir, "--load", next, "--epochs", "0", "--quiet"));
}

/* the Ciresan recipe resumes exactly too: the exp schedule is a function of
 * the epoch alone, and batch 1, scaled-tanh, uniform init, inputs in [-1, 1]
 * and narrowed distortions keep no state a checkpoint misses */
static void resume_ciresan_recipe_is_exact(void **state)
{
    (void)state;
    const char *once = path_in(test_dir, "c-once.bin"), *two = path_in(test_dir, "c-two.bin");
#define CIRESAN "--data-dir", test_dir, "--hidden", "16,8", "--activation", "scaled-tanh", \
        "--init", "uniform", "--init-range", "0.1", "--input-range", "pm1", "--optimizer", "sgd", \
        "--batch-size", "1", "--lr", "0.01", "--lr-schedule", "exp", "--lr-gamma", "0.5", \
        "--augment", "affine:rot=15,shear=0.268,narrow=0.5", "--quiet"
    free(RUN_OK(CIRESAN, "--epochs", "3", "--save", once));
    free(RUN_OK(CIRESAN, "--epochs", "1", "--save", two));
#undef CIRESAN
    free(RUN_OK("--data-dir", test_dir, "--resume", two, "--epochs", "3", "--quiet"));
    size_t la, lb;
    uint8_t *a = slurp_bytes(once, &la), *b = slurp_bytes(two, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(a), free(b);
}

/* the summary's config object of a --json run's output (the caller deletes it) */
static cJSON *summary_config(char *out)
{
    cJSON *l[64];
    int n = json_lines(out, l, 64);
    cJSON *cfg = cJSON_DetachItemFromObject(l[n - 1], "config");
    for (int i = 0; i < n; i++)
        cJSON_Delete(l[i]);
    assert_non_null(cfg);
    return cfg;
}

/* What the summary and a saved model say is what ran. A resumed run goes on
 * with its checkpoint's random streams, so another --seed is refused, not
 * reported; a weight initialisation that did not run is refused; the
 * trainer's thread count and test limit go on with --resume but never ride
 * along into a later --load or --predict. */
static void summary_says_what_ran(void **state)
{
    (void)state;
    char *out, *err;
    const char *m = path_in(test_dir, "ran.bin");
    free(RUN_OK("--data-dir", test_dir, "--hidden", "16", "--epochs", "2", "--threads", "3",
        "--limit-test", "50", "--save", m, "--quiet"));
    size_t len, len2;
    uint8_t *before = slurp_bytes(m, &len);
    RUN(64, out, err, "--data-dir", test_dir, "--resume", m, "--epochs", "3", "--seed", "99");
    assert_non_null(strstr(err, "seed: "));
    assert_non_null(strstr(err, "goes on with seed 1's random streams, not 99's"));
    free(out), free(err);
    RUN(64, out, err, "--data-dir", test_dir, "--load", m, "--epochs", "0", "--init", "normal");
    assert_non_null(strstr(err, "init: the model in"));
    free(out), free(err);
    uint8_t *after = slurp_bytes(m, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(before, after, len);
    free(before), free(after);
    /* the same seed resumes; the thread count and the test limit go on */
    const char *next = path_in(test_dir, "ran-next.bin");
    RUN(0, out, err, "--data-dir", test_dir, "--resume", m, "--epochs", "3", "--seed", "1",
        "--save", next, "--json");
    assert_non_null(strstr(out, "\"test_total\":50,"));
    cJSON *cfg = summary_config(out);
    assert_int_equal((int)cJSON_GetObjectItem(cfg, "threads")->valuedouble, 3);
    assert_int_equal((int)cJSON_GetObjectItem(cfg, "limit_test")->valuedouble, 50);
    cJSON_Delete(cfg);
    free(out), free(err);
    /* a later evaluation runs with this machine's threads and every test image */
    RUN(0, out, err, "--data-dir", test_dir, "--print-config");
    cJSON *here = cJSON_Parse(out);
    int threads_here = (int)cJSON_GetObjectItem(here, "threads")->valuedouble;
    cJSON_Delete(here);
    free(out), free(err);
    const char *models[] = {m, next};
    for (int k = 0; k < 2; k++) {
        RUN(0, out, err, "--data-dir", test_dir, "--load", models[k], "--epochs", "0", "--json");
        assert_non_null(strstr(out, "\"test_total\":200,"));
        cfg = summary_config(out);
        assert_int_equal((int)cJSON_GetObjectItem(cfg, "threads")->valuedouble, threads_here);
        assert_int_equal((int)cJSON_GetObjectItem(cfg, "limit_test")->valuedouble, 0);
        cJSON_Delete(cfg);
        free(out), free(err);
    }
    /* --predict reads every image of its file: a limit it would ignore is refused */
    RUN(64, out, err, "--load", m, "--predict", path_in(test_dir, "t10k-images-idx3-ubyte.gz"),
        "--limit-test", "5");
    assert_non_null(strstr(err, "limit_test: not with --predict"));
    assert_string_equal(out, "");
    free(out), free(err);
    /* while a model trained on part of the data predicts as any other */
    const char *part = path_in(test_dir, "part-trained.bin");
    free(RUN_OK("--data-dir", test_dir, "--hidden", "8", "--epochs", "1", "--limit-train",
        "300", "--val", "50", "--save", part, "--quiet"));
    char partm[1024];
    snprintf(partm, sizeof partm, "%s", part);
    RUN(0, out, err, "--load", partm, "--predict", path_in(test_dir, "t10k-images-idx3-ubyte.gz"));
    assert_true(!strncmp(out, "index,prediction,", 17));
    free(out), free(err);
}

/* A final --save holds the full training state, so that --resume with more
 * --epochs continues exactly: 2 epochs saved, then resumed to 4, give the
 * bytes of 4 epochs in one run (constant lr: cosine depends on the total),
 * for every optimizer. Plain SGD keeps no velocity and stores none; a file
 * from before that stored one (n_params zeros) still resumes the same. */
static void resume_more_epochs_is_exact(void **state)
{
    (void)state;
    const char *opt[3] = {"sgd", "momentum", "adam"};
    const char *once = path_in(test_dir, "once.bin"), *two = path_in(test_dir, "two.bin");
    for (int k = 0; k < 3; k++) {
        free(RUN_OK("--data-dir", test_dir, "--hidden", "16", "--epochs", "4",
            "--lr-schedule", "constant", "--optimizer", opt[k], "--save", once, "--quiet"));
        free(RUN_OK("--data-dir", test_dir, "--hidden", "16", "--epochs", "2",
            "--lr-schedule", "constant", "--optimizer", opt[k], "--save", two, "--quiet"));
        size_t l2;
        uint8_t *b2 = slurp_bytes(two, &l2);
        struct layout o = layout_of(b2);
        uint64_t n = rd64(b2 + o.n_params);
        assert_int_equal(rd64(b2 + o.n_m), k == 0 ? 0 : n);
        assert_int_equal(rd64(b2 + o.n_v), k == 2 ? n : 0);
        free(RUN_OK("--data-dir", test_dir, "--resume", two, "--epochs", "4", "--quiet"));
        size_t la, lb;
        uint8_t *a = slurp_bytes(once, &la), *b = slurp_bytes(two, &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(a, b, la);
        free(b);
        if (k == 0) {
            /* the old layout: n_m = n_params and that many zero floats */
            size_t lo = l2 + 4 * n;
            uint8_t *old = calloc(1, lo);
            memcpy(old, b2, o.m);
            wr64(old + o.n_m, n);
            memcpy(old + o.m + 4 * n, b2 + o.m, l2 - o.m);
            reseal(old, lo);
            write_bytes(two, old, lo);
            free(old);
            free(RUN_OK("--data-dir", test_dir, "--resume", two, "--epochs", "4", "--quiet"));
            b = slurp_bytes(two, &lb);
            assert_int_equal(la, lb);
            assert_memory_equal(a, b, la);
            free(b);
        }
        free(a);
        free(b2);
    }
}

/* the writer refuses, before training, a file the reader would refuse */
static void writer_shares_reader_limit(void **state)
{
    (void)state;
    size_t len;
    uint8_t *good = slurp_bytes(path_in(test_dir, "m.bin"), &len);
    struct checkpoint ck;
    struct err e = {0};
    assert_int_equal(checkpoint_parse(&ck, good, len, "m.bin", &e), 0);
    assert_int_equal(checkpoint_file_bytes(ck.L, ck.size, 1, 1, ck.n_order, rd32(good + 24)),
                     len);
    checkpoint_free(&ck);
    free(good);
    /* 784-16384x4-10 with momentum: some 6.5 GB, more than the reader takes */
    struct config c;
    config_defaults(&c);
    struct mlp_spec spec = {.n_inputs = 784, .n_outputs = 10, .n_hidden = 4,
                            .hidden = {16384, 16384, 16384, 16384}};
    memset(&e, 0, sizeof e);
    assert_int_equal(checkpoint_check_fits(&c, &spec, 60000, "big.bin", &e), ERR_USAGE);
    assert_non_null(strstr(e.msg, "save: big.bin: the model file would take"));
    /* one such layer fits */
    spec.n_hidden = 1;
    memset(&e, 0, sizeof e);
    assert_int_equal(checkpoint_check_fits(&c, &spec, 60000, "ok.bin", &e), 0);
    spec.n_inputs = (int)CHECKPOINT_MAX_WIDTH + 1;   /* wider than the reader takes */
    assert_int_equal(checkpoint_check_fits(&c, &spec, 60000, "wide.bin", &e), ERR_USAGE);
    assert_non_null(strstr(e.msg, "not plausible"));
    /* black-box: refused before the network is built (some 10 GB) or trained;
     * a memory check that refuses it first is as good, as long as nothing is
     * trained and no file is written */
    char *out, *err;
    const char *big = path_in(test_dir, "big.bin");
    const char *args[] = {"--data-dir", test_dir, "--hidden", "16384,16384,16384,16384",
                          "--epochs", "1", "--save", big, NULL};
    int rc = run_train(args, &out, &err);
    if (rc == 0 || strstr(out, "test accuracy") || access(big, F_OK) == 0)
        fail_msg("exit %d: %s", rc, err);
    if (rc == 64 && !strstr(err, "the model file would take"))
        fail_msg("%s", err);
    free(out), free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(save_load_evaluate),
        cmocka_unit_test(predict_from_stdin),
        cmocka_unit_test(input_range_pm1),
        cmocka_unit_test(resume_ciresan_recipe_is_exact),
        cmocka_unit_test(resume_is_exact),
        cmocka_unit_test(resume_after_a_signal_in_evaluation),
        cmocka_unit_test(interrupt_without_save),
        cmocka_unit_test(kill_during_saves),
        cmocka_unit_test(hangup_and_broken_pipe_keep_the_work),
        cmocka_unit_test(closed_stdout_is_an_error),
        cmocka_unit_test(rejects_damaged_files),
        cmocka_unit_test(stored_settings_refused),
        cmocka_unit_test(stored_state_validated),
        cmocka_unit_test(stored_steps_bounded),
        cmocka_unit_test(kind_flags_refused_everywhere),
        cmocka_unit_test(old_loss_settings_load),
        cmocka_unit_test(resume_finished_evaluates),
        cmocka_unit_test(resume_appends_metrics),
        cmocka_unit_test(resume_more_epochs_is_exact),
        cmocka_unit_test(checkpoint_every_carried),
        cmocka_unit_test(summary_says_what_ran),
        cmocka_unit_test(writer_shares_reader_limit),
    };
    return cmocka_run_group_tests_name("model", tests, setup_synthetic_dir, teardown_dir);
}
