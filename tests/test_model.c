/* Saved models: save, load, evaluate, predict, resume after a signal to the
 * same bytes as an uninterrupted run, survive kill -9 during saves, and reject
 * truncated, bit-flipped, wrong-version and wrong-architecture files. */
#include <cjson/cJSON.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <cmocka.h>

#include "support/support.h"
#include "train/checkpoint.h"


static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    uint8_t *b = malloc(*len);
    assert_int_equal(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
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
    const char *m = path_in(test_dir, "m.bin");
    FILE *f = fopen(m, "rb");
    if (f) {
        fclose(f);
        return m;
    }
    char *out, *err;
    RUN(0, out, err, "--data-dir", test_dir, "--hidden", "32", "--epochs", "2", "--json", "--save", m);
    free(out), free(err);
    return m;
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
    RUN(0, out, err, "--load", m, "--predict", path_in(test_dir, "t10k-images-idx3-ubyte.gz"));
    size_t len;
    char *csv = (char *)slurp(path_in(test_dir, "p.csv"), &len);
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
    char *o = (char *)slurp(path_in(test_dir, "raw.out"), &len);
    int lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += o[i] == '\n';
    assert_int_equal(lines, 3);
    assert_non_null(strstr(o, "{\"type\":\"prediction\",\"index\":2,"));
    free(o);
    snprintf(cmd, sizeof cmd, "head -c 250 /dev/zero | %s --load %s --predict - 2> %s", bin, m,
             path_in(test_dir, "raw.err"));
    assert_int_equal(WEXITSTATUS(system(cmd)), 65);
    o = (char *)slurp(path_in(test_dir, "raw.err"), &len);
    assert_non_null(strstr(o, "stdin: 50 bytes left over; images are 100 bytes"));
    free(o);
}

/* an interrupted and resumed run ends with exactly the bytes of an uninterrupted one */
static void resume_is_exact(void **state)
{
    (void)state;
    char *out, *err;
    const char *whole = path_in(test_dir, "whole.bin"), *part = path_in(test_dir, "part.bin");
    const char *common[] = {"--data-dir", test_dir, "--hidden", "256,128", "--dropout", "0.2",
                            "--augment", "shift:1", "--epochs", "150", "--batch-size", "16",
                            "--threads", "1", "--quiet"};
    const char *a[24], *b[24];
    int n = 0;
    for (; n < 15; n++)
        a[n] = b[n] = common[n];
    a[n] = b[n] = "--save";
    a[n + 1] = whole, b[n + 1] = part;
    a[n + 2] = b[n + 2] = NULL;
    double t0 = now();
    assert_int_equal(run_train(a, &out, &err), 0);
    int ms = (int)(1000 * (now() - t0));
    free(out), free(err);
    /* stop it somewhere in the middle: exactly where does not matter */
    int rc = run_train_signal(b, ms / 2, SIGTERM, &out, &err);
    if (rc != 143)
        fail_msg("a run of %d ms, signalled after %d ms, exited %d: %s", ms, ms / 2, rc, err);
    /* inside an epoch ("at epoch E, batch B") or between two ("after epoch E") */
    if (!strstr(err, "train: interrupted at epoch") && !strstr(err, "train: interrupted after epoch"))
        fail_msg("unexpected message: %s", err);
    assert_non_null(strstr(err, "checkpoint saved to"));
    free(out), free(err);
    RUN(0, out, err, "--data-dir", test_dir, "--resume", part, "--quiet");
    free(out), free(err);
    size_t la, lb;
    uint8_t *x = slurp(whole, &la), *y = slurp(part, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(x, y, la);
    free(x), free(y);
    /* a finished model cannot be resumed past its epochs without saying so */
    RUN(64, out, err, "--data-dir", test_dir, "--resume", part, "--epochs", "10");
    assert_non_null(strstr(err, "epochs: 10, but"));
    free(out), free(err);
}

static void interrupt_without_save(void **state)
{
    (void)state;
    char *out, *err;
    const char *args[] = {"--data-dir", test_dir, "--epochs", "100000", "--hidden", "8", "--quiet",
                          NULL};
    /* a signal that lands before training starts (a slow sanitizer build on a
     * busy machine) kills as usual: try again later */
    int rc = -1;
    for (int delay = 300; rc == -1 && delay <= 4800; delay *= 2) {
        rc = run_train_signal(args, delay, SIGINT, &out, &err);
        if (rc == -1)
            free(out), free(err);
    }
    assert_int_equal(rc, 130);
    assert_non_null(strstr(err, "(nothing saved: no --save FILE)"));
    free(out), free(err);
}

/* kill -9 while checkpoints are being written: the file under the real name
 * is always a whole model */
static void kill_during_saves(void **state)
{
    (void)state;
    char *out, *err;
    const char *ck = path_in(test_dir, "ck.bin");
    RUN(0, out, err, "--data-dir", test_dir, "--hidden", "256,256", "--epochs", "1", "--save", ck,
        "--quiet");
    free(out), free(err);
    const char *args[] = {"--data-dir", test_dir, "--hidden", "256,256", "--epochs", "100000",
                          "--checkpoint-every", "1", "--save", ck, "--quiet", NULL};
    for (int i = 0; i < 8; i++) {
        assert_int_equal(run_train_signal(args, 100 + 37 * i, SIGKILL, &out, &err), -1);
        free(out), free(err);
        RUN(0, out, err, "--data-dir", test_dir, "--load", ck, "--epochs", "0", "--quiet");
        free(out), free(err);
    }
}

static void rejects_damaged_files(void **state)
{
    (void)state;
    size_t len;
    uint8_t *good = slurp(saved_model(), &len);
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
    good[8] = 2;   /* version */
    memset(&e, 0, sizeof e);
    checkpoint_parse(&ck, good, len, "m.bin", &e);
    assert_non_null(strstr(e.msg, "model format version 2, this program reads 1"));
    free(good);
    char *out, *err;
    write_text(path_in(test_dir, "text.bin"), "hello");
    RUN(65, out, err, "--load", path_in(test_dir, "text.bin"), "--epochs", "0");
    assert_non_null(strstr(err, "text.bin: not a model file of this program\n"));
    free(out), free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(save_load_evaluate),
        cmocka_unit_test(predict_from_stdin),
        cmocka_unit_test(resume_is_exact),
        cmocka_unit_test(interrupt_without_save),
        cmocka_unit_test(kill_during_saves),
        cmocka_unit_test(rejects_damaged_files),
    };
    return cmocka_run_group_tests_name("model", tests, setup_synthetic_dir, teardown_dir);
}
