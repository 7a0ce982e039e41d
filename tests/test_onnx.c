/* --export: the ONNX file of a saved model, checked by real tools. Debian's
 * python3-onnx checker (full_check) must accept every exported file, and
 * onnxruntime-node must run each on the 10,000 MNIST test images with train's
 * own outputs (within 1e-5) and predictions (every image), for both heads,
 * every activation and loss, 0 to 2 hidden layers and every task. Where the
 * tools are missing (scripts/install-deps.sh installs them) or MNIST is, the
 * round trip skips and says why; the refusals run everywhere. */
#include <cjson/cJSON.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "config/config.h"
#include "model/onnx.h"
#include "support/support.h"

/* ---- refusals and limits (synthetic data, no tools) ---- */

static const char *tiny_model(void)
{
    return TRAINED_MODEL("tiny.bin", "--data-dir", test_dir, "--epochs", "1", "--hidden", "8", "--quiet");
}

#define EXPECT_FAIL(code, text, ...)                                                   \
    do {                                                                               \
        char *out_, *err_;                                                             \
        RUN(code, out_, err_, __VA_ARGS__);                                            \
        if (!strstr(err_, text))                                                       \
            fail_msg("stderr '%s' does not say '%s'", err_, text);                     \
        free(out_);                                                                    \
        free(err_);                                                                    \
    } while (0)

static void export_refuses_bad_targets(void **state)
{
    (void)state;
    const char *model = tiny_model();
    size_t len0;
    uint8_t *before = slurp_bytes(model, &len0);
    char onnx[4200], data[4200], missing[4200];
    snprintf(onnx, sizeof onnx, "%s/tiny.onnx", test_dir);
    snprintf(data, sizeof data, "%s/t10k-images-idx3-ubyte.gz", test_dir);
    snprintf(missing, sizeof missing, "%s/no/such/dir/m.onnx", test_dir);
    EXPECT_FAIL(64, "export: needs a model, given with --load", "--export", onnx);
    EXPECT_FAIL(64, "which this run reads", "--data-dir", test_dir, "--load", model, "--export",
                model);
    EXPECT_FAIL(64, "--test-images file", "--data-dir", test_dir, "--load", model, "--export",
                data);
    EXPECT_FAIL(64, "export: a model file cannot go to stdout", "--data-dir", test_dir,
                "--load", model, "--export", "-");
    EXPECT_FAIL(73, "export:", "--data-dir", test_dir, "--load", model, "--export", missing);
    EXPECT_FAIL(64, "save: not with --export", "--data-dir", test_dir, "--load", model,
                "--export", onnx, "--save", data);
    EXPECT_FAIL(64, "predictions: not with --export", "--data-dir", test_dir, "--load", model,
                "--export", onnx, "--predictions", "p.csv");
    EXPECT_FAIL(64, "export: not with --predict", "--data-dir", test_dir, "--load", model,
                "--export", onnx, "--predict", "-");
    /* a model that deskews its images: no ONNX operator straightens an image,
     * and a file without the step would answer raw images wrongly */
    char deskew[4200];
    snprintf(deskew, sizeof deskew, "%s/deskew.bin", test_dir);
    free(RUN_OK("--data-dir", test_dir, "--epochs", "1", "--hidden", "8", "--deskew", "--quiet",
        "--save", deskew));
    EXPECT_FAIL(69, "deskews every image", "--data-dir", test_dir, "--load", deskew, "--export",
                onnx);
    /* the model read is untouched and nothing was written */
    size_t len1;
    uint8_t *after = slurp_bytes(model, &len1);
    assert_int_equal(len0, len1);
    assert_memory_equal(before, after, len0);
    free(before);
    free(after);
    assert_int_not_equal(access(onnx, F_OK), 0);
    /* and the good target is written */
    char *out, *err;
    RUN(0, out, err, "--data-dir", test_dir, "--load", model, "--export", onnx);
    assert_string_equal(out, "");
    free(out);
    free(err);
    size_t n;
    uint8_t *b = slurp_bytes(onnx, &n);
    /* field 1 (ir_version), varint 7: the first bytes of a ModelProto */
    assert_true(n > 100 && b[0] == 0x08 && b[1] == ONNX_IR_VERSION);
    free(b);
}

/* --predict serves a model of every task: binary and pairs models print
 * their outputs (what an export is compared with), classify also the digit */
static void predict_every_task(void **state)
{
    (void)state;
    const char *tasks[][3] = {{"binary", "index,p0\n", "1"}, {"pairs", "index,p0,p1,p2,p3,p4,p5,p6,p7,p8,p9\n", "0"},
                              {"classify", "index,prediction,p0,", "0"}};
    char model[4200], images[4200], pairs[4200];
    snprintf(images, sizeof images, "%s/t10k-images-idx3-ubyte.gz", test_dir);
    snprintf(pairs, sizeof pairs, "%s/pairs-idx3-ubyte", test_dir);
    /* 3 images of 10 x 20: what a pairs model of 10 x 10 digits takes */
    uint8_t px[600] = {0};
    uint8_t *idx;
    size_t n = idx_bytes(&idx, 3, (const uint32_t[]){3, 10, 20}, px);
    write_bytes(pairs, idx, n);
    free(idx);
    for (int t = 0; t < 3; t++) {
        snprintf(model, sizeof model, "%s/%s.bin", test_dir, tasks[t][0]);
        char *out, *err;
        free(RUN_OK("--data-dir", test_dir, "--epochs", "1", "--hidden", "8", "--quiet",
            "--task", tasks[t][0], "--head", *tasks[t][2] == '1' ? "sigmoid" : "softmax",
            "--save", model));
        const int is_pairs = !strcmp(tasks[t][0], "pairs");
        RUN(0, out, err, "--data-dir", test_dir, "--load", model, "--predict",
            is_pairs ? pairs : images);
        assert_true(strncmp(out, tasks[t][1], strlen(tasks[t][1])) == 0);
        int rows = 0;
        for (const char *p = out; (p = strchr(p, '\n')); p++)
            rows++;
        assert_int_equal(rows, 1 + (is_pairs ? 3 : 200));
        free(out);
        free(err);
    }
}

/* A model whose ONNX file would pass protobuf's 2 GB limit is refused before
 * anything is written: counted, never built (the weights are not touched). */
static void export_refuses_oversized(void **state)
{
    (void)state;
    struct config c;
    config_defaults(&c);
    snprintf(c.load, sizeof c.load, "big.bin");
    char settings[] = "{\"head\":\"softmax\"}";
    struct checkpoint ck = {.config = settings, .L = 2, .size = {784, 700000, 10}};
    ck.n_params = 784ull * 700000 + 700000 * 10 + 700000 + 10;
    assert_true(onnx_size(&c, &ck) > ONNX_MAX_BYTES);
    char path[4200];
    snprintf(path, sizeof path, "%s/big.onnx", test_dir);
    struct err e = {0};
    assert_int_equal(onnx_write(path, &c, &ck, &e), 73);
    assert_non_null(strstr(e.msg, "2 GB"));
    assert_int_not_equal(access(path, F_OK), 0);
    /* a model whose parameter count does not match its layers is refused */
    ck.n_params--;
    memset(&e, 0, sizeof e);
    assert_int_equal(onnx_write(path, &c, &ck, &e), 65);
}

/* ---- the round trip against the real tools ---- */

/* the first python3 with the onnx module: Debian's python3-onnx is for
 * /usr/bin/python3, which need not be the first python3 on PATH */
static const char *python_onnx(void)
{
    static const char *const cand[] = {"/usr/bin/python3", "python3"};
    for (size_t i = 0; i < 2; i++)
        if (sh("%s -c 'import onnx' >/dev/null 2>&1", cand[i]) == 0)
            return cand[i];
    return NULL;
}

/* the onnxruntime-node package: $ORT_NODE_DIR, else where
 * scripts/install-deps.sh puts it */
static const char *ort_dir(void)
{
    static char dir[4200];
    const char *env = getenv("ORT_NODE_DIR");
    if (env && *env)
        snprintf(dir, sizeof dir, "%s", env);
    else if (getenv("XDG_CACHE_HOME") && getenv("XDG_CACHE_HOME")[0] == '/')
        snprintf(dir, sizeof dir, "%s/mnist-train/onnxruntime-node/node_modules/onnxruntime-node",
                 getenv("XDG_CACHE_HOME"));
    else
        snprintf(dir, sizeof dir, "%s/.cache/mnist-train/onnxruntime-node/node_modules/"
                 "onnxruntime-node", getenv("HOME") ? getenv("HOME") : "");
    char pkg[4300];
    snprintf(pkg, sizeof pkg, "%s/package.json", dir);
    return access(pkg, R_OK) == 0 ? dir : NULL;
}

struct variant {
    const char *name;
    const char *flags[12];
};

/* every head, activation, loss, depth and task; small trainings, full test set */
static const struct variant VARIANTS[] = {
    {"softmax-relu", {"--hidden", "64"}},
    {"softmax-tanh-2", {"--hidden", "48,32", "--activation", "tanh"}},
    {"softmax-sigmoid", {"--hidden", "48", "--activation", "sigmoid", "--dropout", "0.2"}},
    {"softmax-none", {"--hidden", "none"}},
    {"sigmoid-relu", {"--head", "sigmoid", "--hidden", "64"}},
    {"sigmoid-tanh-2", {"--head", "sigmoid", "--hidden", "48,32", "--activation", "tanh",
                        "--loss", "bce-mean"}},
    {"sigmoid-sigmoid", {"--head", "sigmoid", "--hidden", "48", "--activation", "sigmoid",
                         "--loss", "squared", "--lr", "1"}},
    {"sigmoid-keras", {"--head", "sigmoid", "--hidden", "32", "--loss", "keras-cce"}},
    {"binary-softmax", {"--task", "binary", "--positive", "3", "--hidden", "32"}},
    {"binary-sigmoid", {"--task", "binary", "--positive", "3", "--head", "sigmoid", "--hidden",
                        "32", "--activation", "tanh"}},
    {"pairs-softmax", {"--task", "pairs", "--hidden", "96"}},
    {"pairs-sigmoid", {"--task", "pairs", "--head", "sigmoid", "--hidden", "96",
                       "--activation", "sigmoid", "--limit-train", "10000"}},
    {"bf16-softmax", {"--precision", "bf16", "--hidden", "64"}},
    /* Ciresan et al.'s units and inputs: A tanh(B x) as Mul, Tanh, Mul, and
     * 2 v - 1 of each pixel/255 as Mul, Sub before the first layer */
    {"softmax-stanh-pm1", {"--hidden", "48,32", "--activation", "scaled-tanh", "--input-range",
                           "pm1", "--init", "uniform", "--init-range", "0.05"}},
    {"sigmoid-stanh", {"--head", "sigmoid", "--hidden", "48", "--activation", "scaled-tanh"}},
};
enum { N_VARIANTS = sizeof VARIANTS / sizeof VARIANTS[0] };

/* The MNIST test images, and an IDX file of 10,000 pairs of them side by
 * side (28 x 56: row r is row r of image i, then row r of image j) with the
 * digits of each pair in labels[2i], labels[2i+1]. */
static void write_pairs(const char *mnist, const char *path, uint8_t *labels)
{
    char f[4200];
    snprintf(f, sizeof f, "%s/t10k-images-idx3-ubyte.gz", mnist);
    gzFile g = gzopen(f, "rb");
    assert_non_null(g);
    static uint8_t img[16 + 10000 * 784], lab[8 + 10000];
    assert_int_equal(gzread(g, img, sizeof img), (int)sizeof img);
    gzclose(g);
    snprintf(f, sizeof f, "%s/t10k-labels-idx1-ubyte.gz", mnist);
    g = gzopen(f, "rb");
    assert_non_null(g);
    assert_int_equal(gzread(g, lab, sizeof lab), (int)sizeof lab);
    gzclose(g);
    static uint8_t pairs[10000 * 1568];
    for (int i = 0; i < 10000; i++) {
        int j = (i * 7919 + 17) % 10000;
        const uint8_t *a = img + 16 + (size_t)i * 784, *b = img + 16 + (size_t)j * 784;
        for (int r = 0; r < 28; r++) {
            memcpy(pairs + (size_t)i * 1568 + r * 56, a + r * 28, 28);
            memcpy(pairs + (size_t)i * 1568 + r * 56 + 28, b + r * 28, 28);
        }
        labels[2 * i] = lab[8 + i];
        labels[2 * i + 1] = lab[8 + j];
    }
    uint8_t *idx;
    size_t n = idx_bytes(&idx, 3, (const uint32_t[]){10000, 28, 56}, pairs);
    write_bytes(path, idx, n);
    free(idx);
}

/* train's rows: columns [first, first + K) of each line after the header of
 * a CSV file, and (pred_col >= 0) its prediction column */
static void read_csv(const char *path, int first, int K, int pred_col, float *p, int *pred)
{
    char *text = slurp_text(path);
    assert_non_null(text);
    char *line = strchr(text, '\n');
    int i = 0;
    while (line && line[1]) {
        char *s = line + 1;
        for (int col = 0; col < first + K; col++) {
            char *end;
            double v = strtod(s, &end);
            if (col == pred_col)
                pred[i] = (int)v;
            if (col >= first)
                p[(size_t)i * K + (col - first)] = (float)v;
            s = end + 1;
        }
        i++;
        line = strchr(s - 1, '\n');
    }
    assert_int_equal(i, 10000);
}

static float *read_floats(const char *path, size_t n)
{
    size_t len;
    uint8_t *b = slurp_bytes(path, &len);
    assert_int_equal(len, 4 * n);
    float *x = malloc(4 * n);
    for (size_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 |
                     (uint32_t)b[4 * i + 2] << 16 | (uint32_t)b[4 * i + 3] << 24;
        memcpy(&x[i], &u, 4);
    }
    free(b);
    return x;
}

static int argmax(const float *z, int K)
{
    int best = 0;
    for (int k = 1; k < K; k++)
        if (z[k] > z[best])
            best = k;
    return best;
}

/* the exact-set accuracy of pairs answers read from logits z: sigmoid z > 0,
 * softmax the top k (k the size of the true set) */
static double pairs_accuracy(const float *z, const uint8_t *labels, int sigmoid)
{
    int right = 0;
    for (int i = 0; i < 10000; i++) {
        unsigned truth = 1u << labels[2 * i] | 1u << labels[2 * i + 1], got = 0;
        const float *zi = z + (size_t)i * 10;
        if (sigmoid) {
            for (int c = 0; c < 10; c++)
                got |= (unsigned)(zi[c] > 0) << c;
        } else {
            for (int k = __builtin_popcount(truth); k > 0; k--) {
                int best = -1;
                for (int c = 0; c < 10; c++)
                    if (!(got >> c & 1) && (best < 0 || zi[c] > zi[best]))
                        best = c;
                got |= 1u << best;
            }
        }
        right += got == truth;
    }
    return right / 10000.0;
}

static void onnx_round_trip(void **state)
{
    (void)state;
    const char *mnist = mnist_subset(10000), *py = python_onnx(), *ort = ort_dir();
    const char *why = !mnist ? "no MNIST ($MNIST_DIR or data/mnist)"
                      : !py ? "no python3 with the onnx module (Debian's python3-onnx; "
                              "scripts/install-deps.sh python3-onnx=py:onnx)"
                      : !ort ? "no onnxruntime-node in the cache (scripts/install-deps.sh "
                               "npm:onnxruntime-node)"
                      : sh("node --version >/dev/null 2>&1") ? "no node (Debian's nodejs)" : NULL;
    if (why) {
        print_message("onnx_round_trip skipped: %s\n", why);
        skip();
    }
    char pairs_idx[4200], test_idx[4200], cmd[16384] = "", checks[16384] = "";
    snprintf(pairs_idx, sizeof pairs_idx, "%s/pairs-idx3-ubyte", test_dir);
    snprintf(test_idx, sizeof test_idx, "%s/t10k-images-idx3-ubyte.gz", mnist);
    static uint8_t pair_labels[20000];
    write_pairs(mnist, pairs_idx, pair_labels);
    int done[N_VARIANTS] = {0};
    double train_acc[N_VARIANTS] = {0};
    for (int v = 0; v < N_VARIANTS; v++) {
        const struct variant *var = &VARIANTS[v];
        char bin[4200], onnx[4200], csv[4200];
        snprintf(bin, sizeof bin, "%s/%s.bin", test_dir, var->name);
        snprintf(onnx, sizeof onnx, "%s/%s.onnx", test_dir, var->name);
        snprintf(csv, sizeof csv, "%s/%s.csv", test_dir, var->name);
        const int classify = !strstr(var->name, "binary") && !strstr(var->name, "pairs");
        const int half = strstr(var->name, "bf16") != NULL;
        const char *args[40] = {"--data-dir", mnist, "--limit-train", "3000", "--epochs", "1",
                                "--json", "--save", bin};
        int n = 9;
        for (int i = 0; var->flags[i]; i++)
            args[n++] = var->flags[i];
        if (classify && !half) {   /* train's outputs for the weights it saves */
            args[n++] = "--predictions";
            args[n++] = csv;
        }
        args[n] = NULL;
        char *out, *err;
        int rc = run_train(args, &out, &err);
        if (rc == 69 && strstr(var->name, "bf16")) {
            print_message("%s skipped: this CPU runs no bf16 (%s)\n", var->name, err);
            free(out);
            free(err);
            continue;
        }
        if (rc != 0)
            fail_msg("%s: train exit %d: %s", var->name, rc, err);
        cJSON *line[8];
        int nl = json_lines(out, line, 8);
        train_acc[v] = json_num(line[nl - 1], "test_accuracy");   /* the summary */
        for (int i = 0; i < nl; i++)
            cJSON_Delete(line[i]);
        free(out);
        free(err);
        free(RUN_OK("--data-dir", mnist, "--load", bin, "--export", onnx));
        /* train's own outputs: a classify run wrote them with --predictions,
         * except bf16, whose export holds the fp32 weights, which
         * --precision fp32 evaluates with; binary and pairs through --predict */
        out = err = NULL;
        if (half)
            RUN(0, out, err, "--data-dir", mnist, "--load", bin, "--epochs", "0", "--precision",
                "fp32", "--predictions", csv, "--quiet");
        else if (!classify) {
            const char *pargs[] = {"--data-dir", mnist, "--load", bin, "--predict",
                                   strstr(var->name, "pairs") ? pairs_idx : test_idx, NULL};
            write_text(csv, "");   /* the runner opens stdout's file, never creates it */
            if ((rc = run_train_to(pargs, csv, &out, &err)))
                fail_msg("%s: --predict exit %d: %s", var->name, rc, err);
        }
        free(out);
        free(err);
        size_t l = strlen(cmd);
        snprintf(cmd + l, sizeof cmd - l, " '%s' '%s' '%s/%s'", onnx,
                 strstr(var->name, "pairs") ? pairs_idx : test_idx, test_dir, var->name);
        l = strlen(checks);
        snprintf(checks + l, sizeof checks - l, " '%s'", onnx);
        done[v] = 1;
    }
    /* the checker, full_check (shape inference too), on every file; what a
     * user reads from the file is there */
    assert_int_equal(sh("%s -c '"
                        "import onnx, sys\n"
                        "for f in sys.argv[1:]:\n"
                        "    m = onnx.load(f)\n"
                        "    onnx.checker.check_model(m, full_check=True)\n"
                        "    assert m.opset_import[0].version >= 13\n"
                        "    assert [i.name for i in m.graph.input] == [\"pixels\"]\n"
                        "    assert [o.name for o in m.graph.output] == [\"probabilities\", \"logits\"]\n"
                        "    meta = {p.key: p.value for p in m.metadata_props}\n"
                        "    assert meta[\"head\"] in (\"softmax\", \"sigmoid\") and \"activation\" in meta, meta\n"
                        "' %s", py, checks), 0);
    char json_out[4200];
    snprintf(json_out, sizeof json_out, "%s/ort.jsonl", test_dir);
    assert_int_equal(sh("ORT_NODE_DIR='%s' node tests/support/onnx-run.js %s > '%s'", ort, cmd,
                        json_out), 0);
    /* the runtime read the names and the free batch dimension as exported */
    assert_non_null(strstr(slurp_text(json_out),
                           "\"inputs\":[\"pixels\"],\"outputs\":[\"probabilities\",\"logits\"]"));
    for (int v = 0; v < N_VARIANTS; v++) {
        if (!done[v])
            continue;
        const struct variant *var = &VARIANTS[v];
        const int pairs = strstr(var->name, "pairs") != NULL;
        const int binary = strstr(var->name, "binary") != NULL;
        const int sigmoid = strstr(var->name, "sigmoid") != NULL && !strstr(var->name, "softmax");
        const int K = binary ? (sigmoid ? 1 : 2) : 10;
        const int classify = !pairs && !binary;
        char f[4200];
        snprintf(f, sizeof f, "%s/%s.probabilities", test_dir, var->name);
        float *p = read_floats(f, 10000 * (size_t)K);
        snprintf(f, sizeof f, "%s/%s.logits", test_dir, var->name);
        float *z = read_floats(f, 10000 * (size_t)K);
        float *tp = malloc(sizeof(float) * 10000 * K);
        int *pred = malloc(sizeof(int) * 10000);
        snprintf(f, sizeof f, "%s/%s.csv", test_dir, var->name);
        if (classify)
            read_csv(f, 3, K, 2, tp, pred);   /* index,label,prediction,p0.. */
        else
            read_csv(f, 1, K, -1, tp, pred);  /* index,p0.. */
        double worst = 0;
        int differ = 0;
        for (int i = 0; i < 10000; i++) {
            for (int k = 0; k < K; k++) {
                double d = fabs((double)p[i * K + k] - tp[i * K + k]);
                worst = d > worst ? d : worst;
            }
            if (classify)
                differ += argmax(z + (size_t)i * K, K) != pred[i];
        }
        print_message("%-16s max |p_onnx - p_train| %.2g, predictions differing %d of 10000\n",
                      var->name, worst, differ);
        assert_true(worst <= 1e-5);
        assert_int_equal(differ, 0);
        if (pairs) {
            /* the input layout is the one train trained on: read the same
             * way, the pairs are as well answered as train's own */
            double acc = pairs_accuracy(z, pair_labels, sigmoid);
            print_message("%-16s exact-set accuracy %.4f (train on its pairs: %.4f)\n",
                          var->name, acc, train_acc[v]);
            assert_true(fabs(acc - train_acc[v]) < 0.03);
        }
        free(p);
        free(z);
        free(tp);
        free(pred);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(export_refuses_bad_targets),
        cmocka_unit_test(export_refuses_oversized),
        cmocka_unit_test(predict_every_task),
        cmocka_unit_test(onnx_round_trip),
    };
    return cmocka_run_group_tests_name("onnx", tests, setup_synthetic_dir, teardown_dir);
}
