/* scripts/record-table.sh (issue 23), driven as the lead runs it: tiny real
 * runs of both record configs over two seeds through scripts/seed-runs.sh,
 * then the table. Every figure of the table is recomputed here from the
 * runs' own JSON lines (and the weights from train's own header), the heads
 * section must hold build/bin/compare's output on the same runs, and the
 * refusals are checked on hostile copies: a missing predictions or command
 * file, files cut at the end or in the middle, a lying kept epoch, another
 * seed under a file's name, runs of another command and of other data; a
 * refused table leaves the output folder as it was. Needs the real MNIST
 * (skipped without it). */
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "support/support.h"

static const char *FLAGS = "--limit-train 2000 --val 500 --epochs 3 --hidden 32";
static const char *NAMES[] = {"record-sigmoid", "record-softmax"};   /* the table's order */

/* the runs in test_dir/runs, made once: both record configs, seeds 1 and 2 */
static int have_runs(void)
{
    const char *data = mnist_dir();
    if (!data)
        return 0;
    assert_int_equal(sh("[ -f %s/runs/record-softmax-seed2.jsonl ] || scripts/seed-runs.sh -s 1..2 -j 2 "
                        "-o %s/runs configs/record-softmax.json configs/record-sigmoid.json -- "
                        "--data-dir %s %s > /dev/null 2> %s/seed-runs.err",
                        test_dir, test_dir, data, FLAGS, test_dir), 0);
    /* Runs this short improve at every epoch, so the kept, the last and the
     * best-tested epochs would all be the last: one run is rewritten so that
     * they differ (best test at 1, kept 2, last 3, validation tied at 2 and
     * 3, so the earlier is kept), its summary and predictions untouched and
     * still its own. Once: its summary then says kept_epoch 2. */
    assert_int_equal(sh("f=%s/runs/record-sigmoid-seed1.jsonl && if tail -n1 $f | jq -e '.kept_epoch == 3' > /dev/null; "
                        "then a=$(tail -n1 $f | jq .test_accuracy) && jq -c --argjson a \"$a\" "
                        "'if .type == \"summary\" then .kept_epoch = 2 | .kept_val_accuracy = 0.99 "
                        "elif .epoch == 1 then .test_accuracy = $a + 0.0123 | .val_accuracy = 0.5 "
                        "elif .epoch == 2 then .test_accuracy = $a | .val_accuracy = 0.99 "
                        "else .test_accuracy = $a - 0.0234 | .val_accuracy = 0.99 end' $f > $f.t && mv $f.t $f; fi",
                        test_dir), 0);
    return 1;
}

static const char *err_text(void)
{
    return slurp_text(path_in(test_dir, "err"));
}

/* record-table.sh ARGS, stderr to test_dir/err; its exit status */
static int table(const char *args)
{
    return sh("scripts/record-table.sh %s > /dev/null 2> %s/err", args, test_dir);
}

struct figures {
    int epochs, best;
    long long total, err_kept, err_last, err_min;
    double wall;
    char head[32], aug[256], precision[16];
};

/* A run's figures, straight from its JSON lines: the best validation epoch
 * is the first of the highest val_accuracy; errors are counts of the test
 * images. */
static void figures_of(const char *path, struct figures *f)
{
    char *text = strdup(slurp_text(path));
    cJSON *l[64];
    int n = json_lines(text, l, 64);
    const cJSON *s = l[n - 1];
    memset(f, 0, sizeof *f);
    f->total = (long long)json_num(s, "test_total");
    f->err_kept = f->total - (long long)json_num(s, "test_correct");
    f->wall = json_num(s, "seconds");
    const cJSON *c = cJSON_GetObjectItem(s, "config");
    snprintf(f->head, sizeof f->head, "%s", cJSON_GetObjectItem(c, "head")->valuestring);
    snprintf(f->aug, sizeof f->aug, "%s", cJSON_GetObjectItem(c, "augment")->valuestring);
    snprintf(f->precision, sizeof f->precision, "%s", cJSON_GetObjectItem(s, "precision")->valuestring);
    double best_val = -1;
    f->err_min = f->total;
    for (int i = 0; i < n - 1; i++) {
        assert_string_equal(cJSON_GetObjectItem(l[i], "type")->valuestring, "epoch");
        double val = json_num(l[i], "val_accuracy");
        long long err = llround((1 - json_num(l[i], "test_accuracy")) * (double)f->total);
        f->epochs++;
        if (val > best_val) {
            best_val = val;
            f->best = i + 1;
        }
        f->err_last = err;
        f->err_min = err < f->err_min ? err : f->err_min;
    }
    for (int i = 0; i < n; i++)
        cJSON_Delete(l[i]);
    free(text);
}

/* train's own count of the network's parameters, from its header */
static long long parameters(void)
{
    assert_int_equal(sh("%s --config configs/record-softmax.json --data-dir %s %s --epochs 1 "
                        "--limit-train 600 > %s/header 2>&1", train_bin(), mnist_dir(), FLAGS,
                        test_dir), 0);
    const char *h = slurp_text(path_in(test_dir, "header"));
    const char *p = strstr(h, " parameters");
    assert_non_null(p);
    while (p > h && p[-1] >= '0' && p[-1] <= '9')
        p--;
    return atoll(p);
}

static void table_is_the_runs(void **state)
{
    (void)state;
    if (!have_runs())
        skip();
    char repo[PATH_MAX], out[1024];
    assert_non_null(getcwd(repo, sizeof repo));
    snprintf(out, sizeof out, "%s/out", test_dir);
    /* from the runs' parent folder, as the lead runs it on his */
    assert_int_equal(sh("cd %s && %s/scripts/record-table.sh -o out runs > /dev/null 2> err",
                        test_dir, repo), 0);
    char *t = strdup(slurp_text(path_in(out, "table.md")));
    long long weights = parameters();
    assert_int_equal(weights, 784LL * 32 + 32 + 32 * 10 + 10);
    char row[1024], path[1024];
    for (int k = 0; k < 2; k++) {
        double sum_kept = 0, sum_last = 0, sum_min = 0, sum_wall = 0, sum_rate = 0, lo = 101, hi = -1;
        struct figures f;
        for (int seed = 1; seed <= 2; seed++) {
            snprintf(path, sizeof path, "%s/runs/%s-seed%d.jsonl", test_dir, NAMES[k], seed);
            figures_of(path, &f);
            if (k == 0 && seed == 1)   /* the rewritten run: three different epochs */
                assert_true(f.best == 2 && f.err_min < f.err_kept && f.err_kept < f.err_last);
            double kept = 100.0 * (double)f.err_kept / (double)f.total;
            snprintf(row, sizeof row, "| %s | %d | %s | 784-32-10 relu | %lld | %s | %s | %d | %d | %.2f | "
                     "%.2f | %.2f | %.1f | %.1f |\n", NAMES[k], seed, f.head, weights, f.aug, f.precision,
                     f.epochs, f.best, kept, 100.0 * (double)f.err_last / (double)f.total,
                     100.0 * (double)f.err_min / (double)f.total, f.wall / 60, f.epochs * 3600 / f.wall);
            if (!strstr(t, row))
                fail_msg("no row\n%sin\n%s", row, t);
            sum_kept += kept;
            sum_last += 100.0 * (double)f.err_last / (double)f.total;
            sum_min += 100.0 * (double)f.err_min / (double)f.total;
            sum_wall += f.wall / 60;
            sum_rate += f.epochs * 3600 / f.wall;
            lo = kept < lo ? kept : lo;
            hi = kept > hi ? kept : hi;
        }
        snprintf(row, sizeof row, "| %s | %s | 2 | %.3f | %.2f | %.2f | %.3f | %.3f | %.1f | %.1f |\n",
                 NAMES[k], f.head, sum_kept / 2, lo, hi, sum_last / 2, sum_min / 2, sum_wall / 2,
                 sum_rate / 2);
        if (!strstr(t, row))
            fail_msg("no row\n%sin\n%s", row, t);
    }
    /* the runs' flags, as seed-runs ran them */
    snprintf(row, sizeof row, "- record-softmax: flags `--data-dir %s %s`\n", mnist_dir(), FLAGS);
    assert_non_null(strstr(t, row));
    /* the heads: compare's own output on these runs, softmax first */
    assert_int_equal(sh("${COMPARE:-build/bin/compare} %s/runs record-softmax record-sigmoid > %s/cmp.md",
                        test_dir, test_dir), 0);
    char *cmp = strdup(slurp_text(path_in(test_dir, "cmp.md")));
    char *heads = strdup(slurp_text(path_in(out, "heads.md")));
    assert_non_null(strstr(heads, "## record-softmax against record-sigmoid\n\n"));
    if (!strstr(heads, cmp))
        fail_msg("heads.md does not hold compare's output:\n%s\n---\n%s", cmp, heads);
    assert_non_null(strstr(heads, "| pooled | | |"));
    /* the curves: every epoch of every run, the kept one marked; the figure */
    const char *c = slurp_text(path_in(out, "curves.txt"));
    int lines = 0, kept = 0;
    for (const char *p = c; (p = strchr(p, '\n')); p++)
        lines++;
    for (const char *p = strchr(c, '\n'); (p = strstr(p, "\tkept\n")); p++)   /* after the header */
        kept++;
    assert_int_equal(lines, 1 + 4 * 3);
    assert_int_equal(kept, 4);
    assert_int_equal(sh("head -c 8 %s/curves.png | od -An -tx1 | tr -d ' \\n' | grep -qx 89504e470d0a1a0a",
                        out), 0);
    /* the provenance names the runs' binary, not whichever is built now */
    assert_int_equal(sh("sum=$(sed -n '1s/^train sha256:\\([0-9a-f]*\\) .*/\\1/p' %s/runs/record-softmax-seed1.cmd) && "
                        "grep -qx \"binary: sha256:$sum\" %s/PROVENANCE && "
                        "grep -q '^command: scripts/record-table.sh -o out runs$' %s/PROVENANCE",
                        test_dir, out, out), 0);
    /* the same bytes under a comma-decimal locale */
    assert_int_equal(sh("cd %s && LC_ALL=de_DE.UTF-8 LANG=de_DE.UTF-8 %s/scripts/record-table.sh -o out2 runs "
                        "> /dev/null 2> err && cmp -s out/table.md out2/table.md && cmp -s out/heads.md out2/heads.md "
                        "&& cmp -s out/curves.txt out2/curves.txt", test_dir, repo), 0);
    free(t);
    free(cmp);
    free(heads);
}

/* a copy of the runs in test_dir/NAME, and of their table's folder in
 * test_dir/NAME-out (its table.md also in NAME.before) */
static void copy_runs(const char *name)
{
    assert_int_equal(sh("[ -d %s/base-out ] || scripts/record-table.sh -o %s/base-out %s/runs > /dev/null "
                        "2>&1", test_dir, test_dir, test_dir), 0);
    assert_int_equal(sh("rm -rf %s/%s %s/%s-out && cp -a %s/runs %s/%s && cp -a %s/base-out %s/%s-out && "
                        "cp %s/base-out/table.md %s/%s.before", test_dir, name, test_dir, name, test_dir,
                        test_dir, name, test_dir, test_dir, name, test_dir, test_dir, name), 0);
}

/* the table refuses with CODE and a message holding WANT, and its folder is
 * as it was */
static void refused(const char *name, int code, const char *want)
{
    char args[1024];
    snprintf(args, sizeof args, "-o %s/%s-out %s/%s", test_dir, name, test_dir, name);
    int rc = table(args);
    const char *e = err_text();
    if (rc != code)
        fail_msg("exit %d, not %d (%s): %s", rc, code, want, e);
    if (!strstr(e, want) || strncmp(e, "record-table: ", 14))
        fail_msg("expected '%s' in: %s", want, e);
    assert_int_equal(sh("cmp -s %s/%s-out/table.md %s/%s.before", test_dir, name, test_dir, name), 0);
}

static void hostile_runs_are_refused(void **state)
{
    (void)state;
    if (!have_runs())
        skip();
    char d[1024];
    snprintf(d, sizeof d, "%s/h", test_dir);
    /* a run's predictions or command record missing */
    copy_runs("h");
    assert_int_equal(sh("mv %s/record-sigmoid-seed2.pred.csv %s/p", d, test_dir), 0);
    refused("h", 66, "record-sigmoid-seed2.pred.csv: no such file");
    assert_int_equal(sh("mv %s/p %s/record-sigmoid-seed2.pred.csv && rm %s/record-softmax-seed1.cmd", test_dir,
                        d, d), 0);
    refused("h", 66, "record-softmax-seed1.cmd: no such file");
    /* a run cut before its summary (still running, killed): refused, or
     * left out and named with --skip-unfinished */
    copy_runs("h");
    assert_int_equal(sh("head -n 2 %s/record-softmax-seed1.jsonl > %s/t && mv %s/t %s/record-softmax-seed1.jsonl",
                        d, d, d, d), 0);
    refused("h", 65, "record-softmax-seed1.jsonl: not finished");
    char args[2200];
    snprintf(args, sizeof args, "--skip-unfinished -o %s/h-out %s", test_dir, d);
    assert_int_equal(table(args), 0);
    char *t = strdup(slurp_text(path_in(test_dir, "h-out/table.md")));
    assert_non_null(strstr(t, "- left out, unfinished: record-softmax seed 1\n"));
    assert_null(strstr(t, "| record-softmax | 1 |"));
    assert_non_null(strstr(t, "| record-softmax | 2 |"));
    assert_non_null(strstr(t, "| record-softmax | softmax | 1 |"));
    free(t);
    /* the heads are paired on the seeds both have */
    t = strdup(slurp_text(path_in(test_dir, "h-out/heads.md")));
    assert_null(strstr(t, "\n| 1 |"));
    assert_non_null(strstr(t, "\n| 2 |"));
    free(t);
    /* a config none of whose runs finished, beside one whose runs did: the
     * table, its counts and PROVENANCE are the finished config's */
    copy_runs("h");
    assert_int_equal(sh("cd %s && for s in 1 2; do head -n 2 record-sigmoid-seed$s.jsonl > t && "
                        "mv t record-sigmoid-seed$s.jsonl; done", d), 0);
    snprintf(args, sizeof args, "--skip-unfinished -o %s/u-out %s", test_dir, d);
    assert_int_equal(table(args), 0);
    t = strdup(slurp_text(path_in(test_dir, "u-out/table.md")));
    assert_non_null(strstr(t, " (2 runs of 1 config), by "));
    assert_non_null(strstr(t, "- left out, unfinished: record-sigmoid seed 1, record-sigmoid seed 2\n"));
    assert_non_null(strstr(t, "| record-softmax | softmax | 2 |"));
    assert_null(strstr(t, "| record-sigmoid |"));
    free(t);
    assert_non_null(strstr(slurp_text(path_in(test_dir, "u-out/PROVENANCE")),
                           "note: tables of 2 runs of 1 config, finished"));
    assert_non_null(strstr(slurp_text(path_in(test_dir, "u-out/heads.md")), "no heads to compare"));
    /* a summary cut in the middle of its line */
    copy_runs("h");
    assert_int_equal(sh("f=%s/record-sigmoid-seed1.jsonl && head -c -200 $f > %s/t && mv %s/t $f", d, d, d), 0);
    refused("h", 65, "record-sigmoid-seed1.jsonl: not finished");
    /* an epoch line lost in the middle, or cut */
    copy_runs("h");
    assert_int_equal(sh("sed -i 2d %s/record-softmax-seed2.jsonl", d), 0);
    refused("h", 65, "record-softmax-seed2.jsonl: epoch line 2 is epoch 3: the epochs are not 1, 2, 3");
    copy_runs("h");
    assert_int_equal(sh("sed -i '2s/,\"test_accuracy\".*//' %s/record-softmax-seed2.jsonl", d), 0);
    refused("h", 65, "record-softmax-seed2.jsonl: line 2 is not a whole JSON line");
    /* a kept epoch that is not the best validation epoch */
    copy_runs("h");
    assert_int_equal(sh("f=%s/record-sigmoid-seed2.jsonl && jq -c 'if .epoch == 1 then .val_accuracy = 1 else . end' "
                        "$f > %s/t && mv %s/t $f", d, d, d), 0);
    refused("h", 65, "record-sigmoid-seed2.jsonl: train kept epoch");
    /* another seed's run under this seed's name */
    copy_runs("h");
    assert_int_equal(sh("cd %s && for x in jsonl pred.csv cmd; do cp record-softmax-seed1.$x "
                        "record-softmax-seed3.$x; done", d), 0);
    refused("h", 65, "record-softmax-seed3.jsonl: the run's seed is 1, not the file name's 3");
    /* a run of the same config with other flags (a third seed, 2 epochs) */
    copy_runs("h");
    assert_int_equal(sh("scripts/seed-runs.sh -s 3 -j 1 -o %s/other configs/record-softmax.json -- "
                        "--data-dir %s --limit-train 2000 --val 500 --epochs 2 --hidden 32 > /dev/null 2>&1 && "
                        "cp %s/other/record-softmax-seed3.* %s/", test_dir, mnist_dir(), test_dir,
                        d), 0);
    refused("h", 65, "record-softmax-seed3.jsonl: its settings differ from the other runs of record-softmax");
    /* a run on other data: the first 1,000 test images only */
    copy_runs("h");
    assert_int_equal(sh("scripts/seed-runs.sh -s 1 -j 1 -o %s/fewer configs/record-softmax.json -- "
                        "--data-dir %s %s --limit-test 1000 > /dev/null 2>&1 && cd %s/fewer && "
                        "for x in jsonl pred.csv cmd; do cp record-softmax-seed1.$x %s/fewer-seed1.$x; done",
                        test_dir, mnist_dir(), FLAGS, test_dir, d), 0);
    refused("h", 65, "other data than");
    /* the same run, its summary's data edited: its command record disagrees */
    copy_runs("h");
    assert_int_equal(sh("f=%s/record-softmax-seed1.jsonl && jq -c 'if .type == \"summary\" then "
                        ".data_crc32.test_labels = \"00000000\" else . end' $f > %s/t && mv %s/t $f && "
                        "for f in %s/*.jsonl; do jq -c 'if .type == \"summary\" then .data_crc32.test_labels = "
                        "\"00000000\" else . end' $f > %s/t && mv %s/t $f; done", d, d, d, d, d, d), 0);
    refused("h", 65, ".cmd: its data");
    /* a run's sittings edited: a word, an open sitting before the last, a
     * sitting that ends after the next began (its wall time inflated) */
    const char *sittings[] = {"sitting 1 2\nsitting x\n", "sitting 1\nsitting 3\n",
                              "sitting 1 99999999999\nsitting 3\n", "sitting 1 40\nsitting 30\n"};
    for (int i = 0; i < 4; i++) {
        copy_runs("h");
        assert_int_equal(sh("printf '%s' > %s/record-sigmoid-seed2.sittings", sittings[i], d), 0);
        refused("h", 65, "record-sigmoid-seed2.sittings: line ");
    }
}

/* s in single quotes for the shell, in a static buffer */
static const char *shq(const char *s)
{
    static char buf[1024];
    size_t n = 0;
    buf[n++] = '\'';
    for (; *s && n < sizeof buf - 6; s++) {
        if (*s == '\'') {
            memcpy(buf + n, "'\\''", 4);
            n += 4;
        } else
            buf[n++] = *s;
    }
    buf[n++] = '\'';
    buf[n] = 0;
    return buf;
}

static void names_are_data(void **state)
{
    (void)state;
    if (!have_runs())
        skip();
    /* a config named with a quote, a bar, a space, a star and $(...) */
    const char *odd = "it's |$(touch pwned) *";
    char from[1024], to[1024], args[2048], out[1024];
    assert_int_equal(sh("rm -rf %s/n && cp -a %s/runs %s/n", test_dir, test_dir, test_dir), 0);
    const char *ext[] = {"jsonl", "pred.csv", "cmd"};
    for (int seed = 1; seed <= 2; seed++)
        for (int x = 0; x < 3; x++) {
            snprintf(from, sizeof from, "%s/n/record-softmax-seed%d.%s", test_dir, seed, ext[x]);
            snprintf(to, sizeof to, "%s/n/%s-seed%d.%s", test_dir, odd, seed, ext[x]);
            assert_int_equal(rename(from, to), 0);
        }
    snprintf(out, sizeof out, "%s/n-out/%s", test_dir, odd);
    snprintf(args, sizeof args, "-o %s %s/n", shq(out), test_dir);
    assert_int_equal(table(args), 0);
    char *t = strdup(slurp_text(path_in(out, "table.md")));
    assert_non_null(strstr(t, "| it's \\|$(touch pwned) * | 1 | softmax |"));
    free(t);
    t = strdup(slurp_text(path_in(out, "heads.md")));
    assert_non_null(strstr(t, "## it's \\|$(touch pwned) * against record-sigmoid\n"));
    free(t);
    assert_int_equal(sh("[ -s %s/curves.png ] && [ ! -e pwned ] && [ ! -e %s/n/pwned ]", shq(out), test_dir), 0);
    /* -c keeps one config, and only its runs are tabled */
    snprintf(args, sizeof args, "-c record-sigmoid -o %s/one %s/n", test_dir, test_dir);
    assert_int_equal(table(args), 0);
    t = strdup(slurp_text(path_in(test_dir, "one/table.md")));
    assert_null(strstr(t, "softmax |"));
    free(t);
    assert_non_null(strstr(slurp_text(path_in(test_dir, "one/heads.md")), "no heads to compare"));
}

static void usage_errors(void **state)
{
    (void)state;
    char repo[PATH_MAX];
    assert_non_null(getcwd(repo, sizeof repo));
    assert_int_equal(sh("mkdir -p %s/cwd && cd %s/cwd && %s/scripts/record-table.sh --help > ../help && "
                        "grep -q '^Usage: scripts/record-table.sh' ../help", test_dir, test_dir, repo), 0);
    const struct { const char *args, *want; int code; } bad[] = {
        {"--bogus", "record-table: unknown option '--bogus'", 64},
        {"-o out", "record-table: no run folder given", 64},
        {"runs", "record-table: no output folder given", 64},
        {"-o --skip-unfinished runs", "needs a value, not the option", 64},
        {"-o out nowhere", "record-table: nowhere: no such folder", 66},
        {"-s 1..x -o out runs", "record-table: seeds '1..x'", 64},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(sh("cd %s/cwd && %s/scripts/record-table.sh %s > /dev/null 2> ../err", test_dir,
                            repo, bad[i].args), bad[i].code);
        if (!strstr(err_text(), bad[i].want))
            fail_msg("%s: %s", bad[i].args, err_text());
    }
    /* nothing was written: no folder named out or --skip-unfinished */
    assert_int_equal(sh("[ -z \"$(ls -A %s/cwd)\" ]", test_dir), 0);
    if (!have_runs())
        skip();
    char args[1024];
    /* a run folder is not an output folder (its table.md is seed-runs') */
    snprintf(args, sizeof args, "-o %s/runs %s/runs", test_dir, test_dir);
    assert_int_equal(table(args), 64);
    assert_non_null(strstr(err_text(), "that is a run folder"));
    /* seeds asked for that did not run */
    snprintf(args, sizeof args, "-s 1..3 -o %s/s3 %s/runs", test_dir, test_dir);
    assert_int_equal(table(args), 66);
    assert_non_null(strstr(err_text(), "record-sigmoid-seed3.jsonl: no such run"));
    assert_int_equal(sh("[ ! -e %s/s3 ]", test_dir), 0);
    snprintf(args, sizeof args, "-c record-other -o %s/s3 %s/runs", test_dir, test_dir);
    assert_int_equal(table(args), 66);
    assert_non_null(strstr(err_text(), "record-other: no runs of it"));
}

/* Long runs go on after an interrupt (issue 23 item 5): seed-runs.sh gives
 * each run a checkpoint (--save NAME.ckpt); a SIGTERM to the script leaves it
 * and the run's lines as they are, a SIGKILL of everything leaves the last
 * periodic one (--checkpoint-every), and the same command goes on from it:
 * the run's lines (times and paths aside), predictions and weights are an
 * uninterrupted run's, and the table's wall time adds the sittings. */
static const char *LONG_RUN = "--limit-train 8000 --val 1000 --epochs 16 --hidden 128";

/* the folders' runs are the same run: predictions byte for byte, every JSON
 * line but its times and the files it names */
static void same_run(const char *b)
{
    assert_int_equal(sh("cd %s && cmp -s whole/record-softmax-seed1.pred.csv %s/record-softmax-seed1.pred.csv && "
                        "for d in whole %s; do jq -c 'del(.seconds, .samples_per_second, .train_seconds, "
                        ".load_seconds, .config.predictions, .config.save, .config.resume, "
                        ".config.checkpoint_every)' $d/record-softmax-seed1.jsonl > $d.lines || exit 1; done && "
                        "[ $(grep -c '\"type\":\"epoch\"' %s.lines) = 16 ] && cmp -s whole.lines %s.lines",
                        test_dir, b, b, b, b), 0);
}

/* seed-runs.sh on the record softmax config, in test_dir/DIR, with EXTRA
 * options: started in a session of its own, then SIG to its whole group once
 * its run has printed LINES lines; the script's exit status */
static int interrupted(const char *dir, const char *extra, int seed, int lines, const char *sig)
{
    return sh("d=%s; setsid scripts/seed-runs.sh %s -s %d -j 1 -o $d/%s configs/record-softmax.json -- "
              "--data-dir %s %s > /dev/null 2> $d/%s.err & p=$!; f=$d/%s/record-softmax-seed%d.jsonl; i=0; "
              "while [ \"$(cat $f 2> /dev/null | wc -l)\" -lt %d ] && [ $i -lt 6000 ]; do sleep 0.01; i=$((i + 1)); done; "
              "kill -%s -$p; wait $p", test_dir, extra, seed, dir, mnist_dir(), LONG_RUN, dir, dir, seed, lines,
              sig);
}

static int go_on(const char *dir, const char *extra)
{
    return sh("scripts/seed-runs.sh %s -s 1 -j 1 -o %s/%s configs/record-softmax.json -- --data-dir %s %s "
              "> /dev/null 2>> %s/%s.err", extra, test_dir, dir, mnist_dir(), LONG_RUN, test_dir, dir);
}

static void interrupted_runs_go_on(void **state)
{
    (void)state;
    if (!mnist_dir())
        skip();
    assert_int_equal(go_on("whole", ""), 0);
    /* SIGTERM, as Ctrl-C or a batch system's end of time sends */
    assert_int_equal(interrupted("term", "", 1, 3, "TERM"), 143);
    assert_int_equal(sh("cd %s/term && [ -s record-softmax-seed1.ckpt ] && [ -s record-softmax-seed1.jsonl ] && "
                        "[ ! -e record-softmax-seed1.jsonl.failed ] && [ ! -e record-softmax-seed1.pred.csv ] && "
                        "[ $(wc -l < record-softmax-seed1.sittings) = 1 ]", test_dir), 0);
    if (!strstr(slurp_text(path_in(test_dir, "term.err")), "interrupted ones go on from their checkpoints"))
        fail_msg("%s", slurp_text(path_in(test_dir, "term.err")));
    assert_int_equal(go_on("term", ""), 0);
    same_run("term");
    /* two sittings, the first closed at its checkpoint's time */
    assert_int_equal(sh("awk 'NR == 1 && NF == 3 && $3 > $2 { ok++ } NR == 2 && NF == 2 { ok++ } "
                        "END { exit !(NR == 2 && ok == 2) }' %s/term/record-softmax-seed1.sittings", test_dir), 0);
    /* SIGKILL to the script and the run at once: nothing saved then; the run
     * goes on from its last periodic checkpoint and does the epochs after it
     * again */
    assert_int_equal(interrupted("kill", "--checkpoint-every 2", 1, 5, "KILL"), 137);
    /* and again in the resumed sitting, whose lines are then only in its
     * .part: the next invocation splices them on before it goes on */
    assert_int_equal(sh("d=%s/kill; f=$d/record-softmax-seed1.jsonl; setsid scripts/seed-runs.sh "
                        "--checkpoint-every 2 -s 1 -j 1 -o $d configs/record-softmax.json -- --data-dir %s %s "
                        "> /dev/null 2>> $d.err & p=$!; i=0; "
                        "while [ \"$(cat $f.part 2> /dev/null | wc -l)\" -lt 4 ] && [ $i -lt 6000 ]; do sleep 0.01; i=$((i + 1)); done; "
                        "kill -KILL -$p; wait $p", test_dir, mnist_dir(), LONG_RUN), 137);
    assert_int_equal(sh("[ -s %s/kill/record-softmax-seed1.jsonl.part ]", test_dir), 0);
    assert_int_equal(go_on("kill", "--checkpoint-every 2"), 0);
    same_run("kill");
    assert_int_equal(sh("[ ! -e %s/kill/record-softmax-seed1.jsonl.part ] && "
                        "[ $(wc -l < %s/kill/record-softmax-seed1.sittings) = 3 ]", test_dir, test_dir), 0);
    /* another command in a folder that holds an interrupted run: that run
     * starts afresh, and never goes on from the other command's checkpoint,
     * even when this invocation is stopped before the run began (its record
     * is then this command's, beside the old checkpoint) */
    assert_int_equal(interrupted("mix", "", 2, 3, "TERM"), 143);
    assert_int_equal(sh("d=%s; setsid scripts/seed-runs.sh -s 1..2 -j 1 -o $d/mix configs/record-softmax.json -- "
                        "--data-dir %s %s --lr 0.04 > /dev/null 2>> $d/mix.err & p=$!; f=$d/mix/record-softmax-seed1.jsonl; i=0; "
                        "while [ \"$(cat $f 2> /dev/null | wc -l)\" -lt 3 ] && [ $i -lt 6000 ]; do sleep 0.01; i=$((i + 1)); done; "
                        "kill -TERM -$p; wait $p", test_dir, mnist_dir(), LONG_RUN), 143);
    assert_int_equal(sh("scripts/seed-runs.sh -s 1..2 -j 1 -o %s/mix configs/record-softmax.json -- --data-dir %s %s "
                        "--lr 0.04 > /dev/null 2>&1 && scripts/seed-runs.sh -s 2 -j 1 -o %s/fresh configs/record-softmax.json "
                        "-- --data-dir %s %s --lr 0.04 > /dev/null 2>&1 && "
                        "cmp -s %s/mix/record-softmax-seed2.pred.csv %s/fresh/record-softmax-seed2.pred.csv",
                        test_dir, mnist_dir(), LONG_RUN, test_dir, mnist_dir(), LONG_RUN, test_dir, test_dir), 0);
    /* the table: the resumed run named, its epochs/h over all its sittings */
    char args[1024];
    snprintf(args, sizeof args, "-o %s/rt %s/term", test_dir, test_dir);
    assert_int_equal(table(args), 0);
    assert_non_null(strstr(slurp_text(path_in(test_dir, "rt/table.md")),
                           "- resumed after an interrupt (wall: all the sittings): record-softmax seed 1 (2 sittings)"));
    assert_int_equal(sh("cd %s && s=$(awk 'NF == 3 { t += $3 - $2 } END { print t }' term/record-softmax-seed1.sittings) && "
                        "w=$(tail -n1 term/record-softmax-seed1.jsonl | jq .seconds) && "
                        "r=$(grep '^| record-softmax | 1 |' rt/table.md | awk -F'|' '{ print $(NF - 1) + 0 }') && "
                        "awk -v s=$s -v w=$w -v r=$r 'BEGIN { e = 16 * 3600 / (s + w); exit !(s > 0 && r > e * 0.99 && r < e * 1.01) }'",
                        test_dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_is_the_runs),
        cmocka_unit_test(hostile_runs_are_refused),
        cmocka_unit_test(names_are_data),
        cmocka_unit_test(usage_errors),
        cmocka_unit_test(interrupted_runs_go_on),
    };
    if (export_test_bins() != 0)
        return 1;
    return cmocka_run_group_tests_name("record", tests, setup_dir, teardown_dir);
}
