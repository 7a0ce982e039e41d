/* End to end on the real MNIST, when it is there ($MNIST_DIR, else data/mnist):
 * a short run of each head must clearly learn, and a run must repeat exactly. */
#include <cjson/cJSON.h>
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "support/support.h"

/* 5000 training images, 2 epochs, about a second, with extra flags (NULL-ended);
 * returns stdout */
static char *short_run(const char *dir, const char *const *extra)
{
    const char *args[32] = {"--data-dir", dir, "--limit-train", "5000", "--limit-test", "2000",
                            "--epochs", "2", "--json"};
    int n = 9;
    while (*extra && n < 31)
        args[n++] = *extra++;
    args[n] = NULL;
    return run_train_ok(args);
}

/* the summary line of a short run */
static cJSON *short_summary(const char *dir, const char *const *extra)
{
    char *out = short_run(dir, extra);
    size_t len = strlen(out);
    while (len && out[len - 1] == '\n')
        out[--len] = 0;
    char *nl = strrchr(out, '\n');
    cJSON *s = cJSON_Parse(nl ? nl + 1 : out);
    free(out);
    return s;
}

static void both_heads_learn(void **state)
{
    (void)state;
    const char *dir = mnist_subset(5000);
    if (!dir)
        skip();
    const char *heads[] = {"softmax", "sigmoid"};
    for (int h = 0; h < 2; h++) {
        const char *flags[] = {"--head", heads[h], "--seed", "1", NULL};
        char *out = short_run(dir, flags);
        cJSON *l[4];
        assert_int_equal(json_lines(out, l, 4), 3);
        double acc = json_num(l[2], "test_accuracy");
        print_message("%s: test accuracy %.4f after 2 epochs on 5000 images\n", heads[h], acc);
        /* chance is 0.10; a broken gradient or loader lands far below this */
        assert_true(acc > 0.88);
        assert_int_equal(json_num(l[2], "test_total"), 2000);
        assert_true(json_num(l[1], "train_loss") < json_num(l[0], "train_loss"));
        for (int i = 0; i < 3; i++)
            cJSON_Delete(l[i]);
        free(out);
    }
}

/* softmax over two outputs and one sigmoid are the same model written twice:
 * from the same seed they train to the same accuracy */
static void binary_heads_agree(void **state)
{
    (void)state;
    const char *dir = mnist_subset(5000);
    if (!dir)
        skip();
    const char *soft[] = {"--task", "binary", "--positive", "8", "--head", "softmax", NULL};
    const char *sig[] = {"--task", "binary", "--positive", "8", "--head", "sigmoid", NULL};
    cJSON *a = short_summary(dir, soft), *b = short_summary(dir, sig);
    double acc_a = json_num(a, "test_accuracy"), acc_b = json_num(b, "test_accuracy");
    print_message("is it an 8? softmax(2) %.4f, sigmoid(1) %.4f\n", acc_a, acc_b);
    /* 9.7% of the test images are 8s: answering "no" scores about 0.90 */
    assert_true(acc_a > 0.96 && acc_b > 0.96);
    assert_true(fabs(acc_a - acc_b) < 0.01);
    cJSON_Delete(a);
    cJSON_Delete(b);
}

static void pairs_run_with_f1(void **state)
{
    (void)state;
    const char *dir = mnist_subset(5000);
    if (!dir)
        skip();
    const char *heads[] = {"softmax", "sigmoid"};
    for (int h = 0; h < 2; h++) {
        const char *flags[] = {"--task", "pairs", "--head", heads[h], NULL};
        cJSON *s = short_summary(dir, flags);
        double acc = json_num(s, "test_accuracy"), f1 = json_num(s, "macro_f1");
        print_message("pairs, %s: exact set %.4f, macro F1 %.4f\n", heads[h], acc, f1);
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s, "per_label_f1")), 10);
        /* guessing scores near 0.01 exact sets; learning gets far past that */
        assert_true(acc > 0.3 && f1 > 0.6 && f1 <= 1);
        cJSON_Delete(s);
    }
}

/* whether this CPU runs bf16 products, as --version says; train refuses
 * them with exit 69 otherwise (test_cli checks that) */
static int bf16_runs(void)
{
    char *out, *err;
    const char *args[] = {"--version", NULL};
    int rc = run_train(args, &out, &err);
    int yes = rc == 0 && strstr(out, "or bf16 (native)") != NULL;
    free(out), free(err);
    return yes;
}

static void same_seed_same_output(void **state)
{
    (void)state;
    const char *dir = mnist_subset(5000);
    if (!dir)
        skip();
    const char *precision[] = {"fp32", "bf16"};
    for (int p = 0; p < (bf16_runs() ? 2 : 1); p++) {
        const char *flags[] = {"--head", "sigmoid", "--seed", "3", "--dropout", "0.1",
                               "--precision", precision[p], NULL};
        char *ra = short_run(dir, flags), *rb = short_run(dir, flags);
        char *a = json_without_times(ra), *b = json_without_times(rb);
        assert_string_equal(a, b);
        free(a), free(b), free(ra), free(rb);
    }
}

/* --quiet evaluates the test set only after the last epoch: its result line is
 * the one a run that prints every epoch ends with, and --quiet --json still
 * reports each epoch's test figures */
static void quiet_result_is_the_full_runs(void **state)
{
    (void)state;
    const char *dir = mnist_subset(5000);
    if (!dir)
        skip();
    const char *args[] = {"--data-dir", dir, "--limit-train", "3000", "--limit-test", "1000",
                          "--epochs", "3", "--dropout", "0.2", "--augment", "shift:1", NULL, NULL};
    char *full, *quiet, *err;
    assert_int_equal(run_train(args, &full, &err), 0);
    free(err);
    args[12] = "--quiet";
    assert_int_equal(run_train(args, &quiet, &err), 0);
    assert_string_equal(err, "");
    free(err);
    const char *last = strstr(full, "test accuracy: ");
    assert_non_null(last);
    assert_string_equal(quiet, last);
    assert_non_null(strstr(quiet, "%"));
    free(full), free(quiet);
    const char *json[] = {"--data-dir", dir, "--limit-train", "3000", "--limit-test", "1000",
                          "--epochs", "2", "--quiet", "--json", NULL};
    char *out;
    assert_int_equal(run_train(json, &out, &err), 0);
    cJSON *l[3];
    assert_int_equal(json_lines(out, l, 3), 3);
    assert_true(json_num(l[0], "test_accuracy") > 0.5);
    for (int i = 0; i < 3; i++)
        cJSON_Delete(l[i]);
    free(out), free(err);
}

/* the prediction column of each row of a CSV (field f), at most n rows */
static int csv_column(const char *csv, int f, int *v, int n)
{
    int k = 0;
    const char *l = strchr(csv, '\n');   /* the header */
    while (l && l[1] && k < n) {
        const char *p = l + 1;
        for (int i = 0; i < f; i++)
            p = strchr(p, ',') + 1;
        v[k++] = atoi(p);
        l = strchr(p, '\n');
    }
    return k;
}

/* a model trained on deskewed images deskews what --predict gives it: its
 * predictions for the test file are those the training run wrote */
static void deskew_model_predicts_as_trained(void **state)
{
    (void)state;
    const char *dir = mnist_subset(5000);
    if (!dir)
        skip();
    char model[] = "/tmp/test_e2e_deskew_XXXXXX";
    int fd = mkstemp(model);
    assert_true(fd >= 0);
    close(fd);
    char preds[sizeof model + 4];
    snprintf(preds, sizeof preds, "%s.csv", model);
    const char *train[] = {"--data-dir", dir, "--limit-train", "2000", "--limit-test", "500",
                           "--epochs", "1", "--hidden", "32", "--deskew", "--quiet", "--save",
                           model, "--predictions", preds, NULL};
    char *out, *err;
    assert_int_equal(run_train(train, &out, &err), 0);
    free(out), free(err);
    char images[4096];
    snprintf(images, sizeof images, "%s/t10k-images-idx3-ubyte.gz", dir);
    const char *predict[] = {"--load", model, "--predict", images, NULL};
    assert_int_equal(run_train(predict, &out, &err), 0);
    char *csv = slurp_text(preds);
    int a[500], b[500];
    assert_int_equal(csv_column(csv, 2, a, 500), 500);
    assert_int_equal(csv_column(out, 1, b, 500), 500);
    assert_memory_equal(a, b, sizeof a);
    free(csv), free(out), free(err);
    unlink(preds), unlink(model);
}

/* where oneDNN does not dispatch to native bf16 (here forced down to AVX2),
 * bf16 is refused before any work, with exit 69, never run as something else */
static void bf16_refused_without_native_isa(void **state)
{
    (void)state;
    setenv("ONEDNN_MAX_CPU_ISA", "AVX2", 1);
    char *out, *err;
    RUN(69, out, err, "--precision", "bf16", "--data-dir", "/nonexistent");
    assert_non_null(strstr(err, "train: precision: bf16 needs a CPU with AVX512-BF16"));
    assert_non_null(strstr(err, "dispatches to avx2"));
    assert_string_equal(out, "");
    free(out), free(err);
    RUN(0, out, err, "--version");
    assert_non_null(strstr(out, "precision: fp32 only"));
    free(out), free(err);
    unsetenv("ONEDNN_MAX_CPU_ISA");
}

/* --precision auto runs bf16 only where oneDNN dispatches to native bf16,
 * fp32 elsewhere (here forced down to AVX2 and to SSE41, oneDNN's floor);
 * the summary, the header and the saved model say which ran. Synthetic
 * digits: no MNIST needed. */
static void auto_precision_follows_the_isa(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    write_synthetic_mnist(dir, 300, 100, 28);
    const char *outer = getenv("ONEDNN_MAX_CPU_ISA");
    char *saved = outer ? strdup(outer) : NULL;
    const char *isas[] = {"AVX2", "SSE41", saved};
    for (int i = 0; i < 3; i++) {
        if (isas[i])
            setenv("ONEDNN_MAX_CPU_ISA", isas[i], 1);
        else
            unsetenv("ONEDNN_MAX_CPU_ISA");
        const char *want = i < 2 ? "fp32" : bf16_runs() ? "bf16" : "fp32";
        char *out, *err;
        const char *model = path_in(dir, "m.bin");
        const char *args[] = {"--data-dir", dir, "--precision", "auto", "--epochs", "1",
                              "--hidden", "32", "--json", "--save", model, NULL};
        if (run_train(args, &out, &err) != 0)
            fail_msg("%s: %s", isas[i] ? isas[i] : "native", err);
        cJSON *l[3];
        assert_int_equal(json_lines(out, l, 3), 2);
        assert_string_equal(cJSON_GetObjectItem(l[1], "precision")->valuestring, want);
        cJSON *cfg = cJSON_GetObjectItem(l[1], "config");
        assert_string_equal(cJSON_GetObjectItem(cfg, "precision")->valuestring, want);
        cJSON_Delete(l[0]), cJSON_Delete(l[1]);
        free(out), free(err);
        /* the model file's settings name the precision that ran, not "auto" */
        const char *show[] = {"--load", model, "--print-config", NULL};
        assert_int_equal(run_train(show, &out, &err), 0);
        cJSON *p = cJSON_Parse(out);
        assert_string_equal(cJSON_GetObjectItem(p, "precision")->valuestring, want);
        cJSON_Delete(p);
        free(out), free(err);
        /* and the header's compute line */
        const char *text[] = {"--data-dir", dir, "--precision", "auto", "--epochs", "1",
                              "--hidden", "32", NULL};
        assert_int_equal(run_train(text, &out, &err), 0);
        char line[64];
        snprintf(line, sizeof line, "compute:  %s products", want);
        assert_non_null(strstr(out, line));
        free(out), free(err);
    }
    if (saved)
        setenv("ONEDNN_MAX_CPU_ISA", saved, 1);
    free(saved);
    tmpdir_remove(dir);
}

/* Every shipped config (a new one too: they are globbed) runs, here and with
 * oneDNN held to AVX2, as on most laptops and cloud CPUs: none asks for a
 * precision the CPU lacks. One short epoch on synthetic digits each; the
 * settings that define the run (head, network, precision, ...) are the
 * config's, only the amount of data is cut. */
static void shipped_configs_run(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    write_synthetic_mnist(dir, 300, 50, 28);
    const char *outer = getenv("ONEDNN_MAX_CPU_ISA");
    char *saved = outer ? strdup(outer) : NULL;
    glob_t g;
    assert_int_equal(glob("configs/*.json", 0, NULL, &g), 0);
    assert_int_equal(glob("configs/nielsen/*.json", GLOB_APPEND, NULL, &g), 0);
    assert_int_equal(glob("configs/nielsen/variants/*.json", GLOB_APPEND, NULL, &g), 0);
    assert_true(g.gl_pathc >= 16);
    for (int isa = 0; isa < 2; isa++) {
        if (isa)
            setenv("ONEDNN_MAX_CPU_ISA", "AVX2", 1);
        for (size_t i = 0; i < g.gl_pathc; i++) {
            const char *args[] = {"--config", g.gl_pathv[i], "--data-dir", dir, "--epochs", "1",
                                  "--limit-train", "250", "--val", "50", "--quiet", NULL};
            char *out, *err;
            int rc = run_train(args, &out, &err);
            if (rc != 0)
                fail_msg("%s%s: exit %d: %s", g.gl_pathv[i], isa ? " (ONEDNN_MAX_CPU_ISA=AVX2)" : "",
                         rc, err);
            assert_non_null(strstr(out, "test accuracy: "));
            free(out), free(err);
        }
    }
    if (saved)
        setenv("ONEDNN_MAX_CPU_ISA", saved, 1);
    else
        unsetenv("ONEDNN_MAX_CPU_ISA");
    free(saved);
    globfree(&g);
    tmpdir_remove(dir);
}

/* bf16 products learn as well, and the summary says what ran */
static void bf16_learns(void **state)
{
    (void)state;
    const char *dir = mnist_subset(5000);
    if (!dir)
        skip();
    if (!bf16_runs()) {
        print_message("skipped: oneDNN dispatches to no native bf16 ISA here\n");
        skip();
    }
    const char *heads[] = {"softmax", "sigmoid"};
    for (int h = 0; h < 2; h++) {
        const char *flags[] = {"--head", heads[h], "--precision", "bf16", NULL};
        cJSON *s = short_summary(dir, flags);
        double acc = json_num(s, "test_accuracy");
        print_message("bf16, %s: test accuracy %.4f after 2 epochs on 5000 images\n", heads[h], acc);
        assert_true(acc > 0.88);
        assert_string_equal(cJSON_GetObjectItem(s, "precision")->valuestring, "bf16");
        assert_non_null(strstr(cJSON_GetObjectItem(s, "isa")->valuestring, "avx512_core_"));
        cJSON_Delete(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(both_heads_learn),
        cmocka_unit_test(same_seed_same_output),
        cmocka_unit_test(bf16_learns),
        cmocka_unit_test(quiet_result_is_the_full_runs),
        cmocka_unit_test(deskew_model_predicts_as_trained),
        cmocka_unit_test(bf16_refused_without_native_isa),
        cmocka_unit_test(auto_precision_follows_the_isa),
        cmocka_unit_test(shipped_configs_run),
        cmocka_unit_test(binary_heads_agree),
        cmocka_unit_test(pairs_run_with_f1),
    };
    return cmocka_run_group_tests_name("e2e", tests, NULL, NULL);
}
