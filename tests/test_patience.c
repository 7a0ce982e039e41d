/* --patience: early stopping on the validation set. It needs --val; it stops
 * at the epoch the validation counts say (recomputed here from the epoch
 * lines), keeps the best validation epoch's weights for the test line,
 * --report, --predictions and --save (a loaded model evaluates to that
 * epoch's test figures), and a run split in two (by --epochs, or by a signal
 * mid-run) and resumed ends with the bytes of an uninterrupted one. */
#include <cjson/cJSON.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "support/support.h"

#define VAL 100
#define MAX_LINES 256

/* the run's settings: a constant schedule, so that a run cut by --epochs
 * follows the same steps as a longer one; a small lr, so that the validation
 * count climbs for a few dozen epochs, with ties on the way */
static int args_for(const char **a, const char *patience, const char *epochs, const char *save)
{
    const char *common[] = {"--data-dir", test_dir, "--hidden", "64,64", "--val", "100",
                            "--dropout", "0.3", "--lr-schedule", "constant", "--lr", "0.0005",
                            "--batch-size", "32",
                            "--threads", "1", "--patience", patience, "--epochs", epochs,
                            "--save", save, "--json", NULL};
    int n = 0;
    for (; common[n]; n++)
        a[n] = common[n];
    a[n] = NULL;
    return n;
}

static long long val_count(const cJSON *epoch)
{
    return llround(json_num(epoch, "val_accuracy") * VAL);
}

static void needs_val(void **state)
{
    (void)state;
    char *out, *err;
    RUN(64, out, err, "--data-dir", test_dir, "--patience", "3");
    assert_non_null(strstr(err, "train: patience: needs a validation set to watch (--val N)"));
    assert_string_equal(out, "");
    free(out), free(err);
    /* the config key says the same */
    const char *cfg = path_in(test_dir, "p.json");
    write_text(cfg, "{\"patience\": 2, \"epochs\": 3}\n");
    RUN(64, out, err, "--data-dir", test_dir, "--config", cfg);
    assert_non_null(strstr(err, "patience: needs a validation set"));
    free(out), free(err);
    write_text(cfg, "{\"patience\": 2, \"val\": 100, \"epochs\": 2, \"hidden\": [8]}\n");
    free(RUN_OK("--data-dir", test_dir, "--config", cfg, "--quiet"));
}

/* Patience 2: the epoch lines' kept epochs follow the validation counts (a
 * strictly better count moves it, a tie does not), training stops two epochs
 * after the best, and everything after it describes the kept weights. */
static void stops_and_keeps_the_best(void **state)
{
    (void)state;
    const char *m = path_in(test_dir, "kept.bin");
    char model[4096];
    snprintf(model, sizeof model, "%s", m);
    const char *a[40];
    int n = args_for(a, "2", "200", model);
    const char *csv = path_in(test_dir, "kept.csv");
    char pred[4096];
    snprintf(pred, sizeof pred, "%s", csv);
    a[n++] = "--report";
    a[n++] = "--predictions";
    a[n++] = pred;
    a[n] = NULL;
    char *out = run_train_ok(a);
    cJSON *l[MAX_LINES];
    int lines = json_lines(out, l, MAX_LINES), epochs = lines - 1;
    assert_true(epochs >= 3 && epochs < 200);
    /* the rule, recomputed from the counts */
    int best = 0, stop = 0;
    long long best_count = -1;
    for (int i = 0; i < epochs && !stop; i++) {
        assert_int_equal((int)json_num(l[i], "epoch"), i + 1);
        if (val_count(l[i]) > best_count)
            best = i + 1, best_count = val_count(l[i]);
        assert_int_equal((int)json_num(l[i], "kept_epoch"), best);
        if (i + 1 - best >= 2)
            stop = i + 1;
        assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItem(l[i], "patience_stop")), stop == i + 1);
    }
    assert_int_equal(stop, epochs);
    print_message("stopped after epoch %d, kept epoch %d (val %lld/%d)\n", stop, best,
                  best_count, VAL);
    const cJSON *s = l[epochs], *kept = l[best - 1];
    assert_string_equal(cJSON_GetObjectItem(s, "stopped")->valuestring, "patience");
    assert_int_equal((int)json_num(s, "kept_epoch"), best);
    assert_int_equal((int)json_num(s, "epochs_trained"), stop);
    assert_true(json_num(s, "kept_val_accuracy") == json_num(kept, "val_accuracy"));
    /* the final test line is the kept epoch's, bit for bit, not the last one's */
    assert_true(json_num(s, "test_accuracy") == json_num(kept, "test_accuracy"));
    assert_true(json_num(s, "test_loss") == json_num(kept, "test_loss"));
    assert_true(json_num(s, "test_loss") != json_num(l[epochs - 1], "test_loss"));
    /* --report counts the kept weights' right answers */
    const cJSON *conf = cJSON_GetObjectItem(cJSON_GetObjectItem(s, "report"), "confusion");
    long long trace = 0;
    for (int k = 0; k < 10; k++)
        trace += (long long)cJSON_GetArrayItem(cJSON_GetArrayItem(conf, k), k)->valuedouble;
    assert_int_equal(trace, (long long)json_num(s, "test_correct"));
    /* --predictions: the kept weights' predictions (synthetic label: index % 10) */
    char *rows = slurp_text(pred);
    long long right = 0;
    for (char *p = strchr(rows, '\n'); p && p[1]; p = strchr(p + 1, '\n')) {
        int idx, label, guess;
        if (sscanf(p + 1, "%d,%d,%d,", &idx, &label, &guess) == 3)
            right += label == guess;
    }
    assert_int_equal(right, (long long)json_num(s, "test_correct"));
    free(rows);
    /* the saved model is the kept one */
    const char *load[] = {"--data-dir", test_dir, "--load", model, "--epochs", "0", "--json", NULL};
    char *again = run_train_ok(load);
    cJSON *g[2];
    assert_int_equal(json_lines(again, g, 2), 1);
    assert_true(json_num(g[0], "test_loss") == json_num(kept, "test_loss"));
    assert_true(json_num(g[0], "test_accuracy") == json_num(kept, "test_accuracy"));
    cJSON_Delete(g[0]);
    free(again);
    for (int i = 0; i < lines; i++)
        cJSON_Delete(l[i]);
    free(out);
}

static void same_bytes(const char *x, const char *y)
{
    size_t la, lb;
    uint8_t *a = slurp_bytes(x, &la), *b = slurp_bytes(y, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(a), free(b);
}

/* the summary line without its timings and config (out is left as it was) */
static char *summary_of(const char *out)
{
    char *copy = strdup(out), *s = json_without_times(copy);
    char *at = strstr(s, "{\"type\":\"summary\"");
    assert_non_null(at);
    /* the config names the files, which differ between the runs */
    cJSON *o = cJSON_Parse(at);
    assert_non_null(o);
    cJSON_DeleteItemFromObject(o, "config");
    char *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    free(copy), free(s);
    return line;
}

/* Cut before patience runs out, by --epochs (the first run ends, keeps its
 * best weights and is resumed for more) and by a signal mid-run: resumed,
 * both end with the uninterrupted run's model file and summary. */
static void resume_is_exact(void **state)
{
    (void)state;
    char whole[4096], split[4096], signalled[4096];
    snprintf(whole, sizeof whole, "%s", path_in(test_dir, "whole.bin"));
    snprintf(split, sizeof split, "%s", path_in(test_dir, "split.bin"));
    snprintf(signalled, sizeof signalled, "%s", path_in(test_dir, "signalled.bin"));
    const char *a[40];
    args_for(a, "5", "300", whole);
    char *out = run_train_ok(a);
    char *want = summary_of(out);
    cJSON *l[MAX_LINES];
    int lines = json_lines(out, l, MAX_LINES);
    const cJSON *s = l[lines - 1];
    int stop = (int)json_num(s, "epochs_trained"), kept = (int)json_num(s, "kept_epoch");
    assert_string_equal(cJSON_GetObjectItem(s, "stopped")->valuestring, "patience");
    for (int i = 0; i < lines; i++)
        cJSON_Delete(l[i]);
    free(out);
    /* by --epochs: after the kept epoch, before the stop, so that the first
     * part ends holding weights that are not its last ones */
    char cut[16];
    snprintf(cut, sizeof cut, "%d", kept + 1 < stop ? kept + 1 : stop - 1);
    args_for(a, "5", cut, split);
    free(run_train_ok(a));
    const char *resume[] = {"--data-dir", test_dir, "--resume", split, "--epochs", "300",
                            "--json", NULL};
    out = run_train_ok(resume);
    char *got = summary_of(out);
    assert_string_equal(got, want);
    free(got), free(out);
    same_bytes(whole, split);
    /* by a signal in the middle: once the run has reported the kept epoch,
     * so that it stops holding a copy of the best weights (an event of the
     * run, not a time: the same on a busy machine) */
    args_for(a, "5", "300", signalled);
    char *err;
    int sent, rc = run_train_signal_at(a, "\"type\":\"epoch\"", kept, SIGTERM, &sent, &out, &err);
    if (!sent || rc != 143 || !strstr(err, "checkpoint saved to"))
        fail_msg("signalled after epoch %d of %d: exit %d: %s", kept, stop, rc, err);
    free(out), free(err);
    resume[3] = signalled;
    out = run_train_ok(resume);
    got = summary_of(out);
    assert_string_equal(got, want);
    free(got), free(out);
    same_bytes(whole, signalled);
    /* a run patience stopped is finished: resumed, it only evaluates */
    resume[3] = whole;
    out = run_train_ok(resume);
    cJSON *e[2];
    assert_int_equal(json_lines(out, e, 2), 1);
    assert_int_equal((int)json_num(e[0], "kept_epoch"), kept);
    cJSON_Delete(e[0]);
    free(out);
    same_bytes(whole, signalled);
    free(want);
}

/* A version 1 file (before --patience: no early-stopping record) still loads
 * and resumes, as a run without patience; built here from a version 2 file
 * of such a run by dropping its record (24 bytes: no current weights). */
static void version_1_files_load(void **state)
{
    (void)state;
    char v2[4096], v1[4096];
    snprintf(v2, sizeof v2, "%s", path_in(test_dir, "v2.bin"));
    snprintf(v1, sizeof v1, "%s", path_in(test_dir, "v1.bin"));
    const char *a[] = {"--data-dir", test_dir, "--hidden", "16", "--epochs", "2", "--save", v2,
                       "--quiet", NULL};
    free(run_train_ok(a));
    size_t len;
    uint8_t *b = slurp_bytes(v2, &len);
    assert_int_equal(b[8], 2);
    size_t plen = len - 24 - 4 - 24;   /* header, crc, the record */
    const uint8_t *rec = b + 24 + plen;
    static const uint8_t none[24] = {0};
    assert_memory_equal(rec, none, 24);   /* no kept epoch, count, stop or current weights */
    b[8] = 1;
    for (int i = 0; i < 8; i++)
        b[16 + i] = (uint8_t)((uint64_t)plen >> (8 * i));
    uLong crc = crc32_z(0L, b + 24, plen);
    for (int i = 0; i < 4; i++)
        b[24 + plen + i] = (uint8_t)(crc >> (8 * i));
    write_bytes(v1, b, 24 + plen + 4);
    free(b);
    const char *l2[] = {"--data-dir", test_dir, "--load", v2, "--epochs", "0", "--json", NULL};
    const char *l1[] = {"--data-dir", test_dir, "--load", v1, "--epochs", "0", "--json", NULL};
    char *o2 = run_train_ok(l2), *o1 = run_train_ok(l1);
    char *s2 = summary_of(o2), *s1 = summary_of(o1);
    assert_string_equal(s1, s2);
    free(o1), free(o2), free(s1), free(s2);
    /* resumed for more epochs, it is written back in version 2 */
    const char *r[] = {"--data-dir", test_dir, "--resume", v1, "--epochs", "3", "--quiet", NULL};
    free(run_train_ok(r));
    b = slurp_bytes(v1, &len);
    assert_int_equal(b[8], 2);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(needs_val),
        cmocka_unit_test(stops_and_keeps_the_best),
        cmocka_unit_test(resume_is_exact),
        cmocka_unit_test(version_1_files_load),
    };
    return cmocka_run_group_tests_name("patience", tests, setup_synthetic_dir, teardown_dir);
}
