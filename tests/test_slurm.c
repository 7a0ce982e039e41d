/* Sweeps as Slurm job arrays (scripts/slurm.bash), against a real single-node
 * Slurm that the test starts itself (tests/support/local-slurm.sh: munged,
 * slurmctld and slurmd on 127.0.0.1, everything in the test's folder) and
 * tears down at the end. A task is cancelled (scancel) while it runs; the
 * table job names it; the same command submits only that run again; the
 * finished runs stay as they were; a folder's runs of another command are
 * refused before anything is submitted, and so is a second submission while
 * the first array still runs. Skipped, with the reason, where the cluster
 * cannot run (not installed, not root) or MNIST is not there. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "support/support.h"

static char cluster[4096];
static int started;

/* the text of a file in test_dir, copied (slurp_text reuses its buffer) */
static char *text_of(const char *name)
{
    char *t = slurp_text(path_in(test_dir, name));
    return strdup(t ? t : "");
}

static int occurrences(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

/* wait until this cluster's queue is empty (every job ended), at most 240 s */
static void wait_idle(void)
{
    assert_int_equal(sh("for i in $(seq 1200); do [ -z \"$(squeue -h)\" ] && exit 0; sleep 0.2; "
                        "done; squeue; exit 1"), 0);
}

static int start_cluster(void)
{
    snprintf(cluster, sizeof cluster, "%s/slurm", test_dir);
    sh("mkdir -p '%s'", cluster);
    int rc = sh("timeout 60 tests/support/local-slurm.sh start '%s' > '%s/env' 2> '%s/why'",
                cluster, test_dir, test_dir);
    started = 1;
    if (rc == 77 || rc != 0) {
        char *why = text_of("why");
        print_message("slurm skipped: %s (exit %d)\n", why, rc);
        free(why);
        return -1;
    }
    char *env = text_of("env");
    char *conf = strstr(env, "SLURM_CONF=");
    assert_non_null(conf);
    conf += strlen("SLURM_CONF=");
    conf[strcspn(conf, "\n")] = 0;
    setenv("SLURM_CONF", conf, 1);
    free(env);
    return 0;
}

static void seed_runs_as_array(void **state)
{
    (void)state;
    const char *mnist = mnist_subset(3000);
    if (!mnist) {
        print_message("seed_runs_as_array skipped: no MNIST ($MNIST_DIR or data/mnist)\n");
        skip();
    }
    if (start_cluster())
        skip();
    setenv("T", test_dir, 1);
    setenv("M", mnist, 1);
    char train[PATH_MAX];
    assert_non_null(realpath(train_bin(), train));
    setenv("TRAIN", train, 1);
    /* four seeds, one at a time, each long enough to be cancelled while it runs */
#define SEEDS "scripts/seed-runs.sh --slurm -j 1 -s 1..4 -o \"$T/sr\" configs/default.json -- " \
              "--data-dir \"$M\" --limit-train 3000 --limit-test 1000 --hidden 64"
    assert_int_equal(sh(SEEDS " --epochs 30 > \"$T/submit.out\" 2>&1"), 0);
    char *out = text_of("submit.out");
    assert_non_null(strstr(out, "submitted 4 runs as Slurm job array"));
    free(out);
    /* while the array runs, another submission of the folder is refused */
    assert_int_equal(sh(SEEDS " --epochs 30 > \"$T/busy.out\" 2>&1"), 73);
    out = text_of("busy.out");
    assert_non_null(strstr(out, "still has runs queued or running"));
    free(out);
    /* task 1 (seed 2) is cancelled mid-run: as soon as its train is seen,
     * since a loaded machine or a quiet one may make the run short or long */
    assert_int_equal(sh("a=$(cat \"$T/sr/slurm/array\"); for i in $(seq 6000); do "
                        "pgrep -f -- \"$T/sr/default-seed2\" > /dev/null && break; "
                        "sleep 0.02; done; scancel \"${a}_1\""), 0);
    wait_idle();
    /* the cancelled run ended with its task: no train of it lives on to
     * finish behind the table job's back */
    assert_int_equal(sh("! pgrep -f -- \"$T/sr/default-seed2\" > /dev/null"), 0);
    /* the table job ran after all of them: three seeds, seed 2 named */
    assert_int_equal(sh("cat \"$T\"/sr/slurm/table-*.log > \"$T/table1.log\""), 0);
    char *log = text_of("table1.log");
    assert_non_null(strstr(log, "configs/default.json seed 2 did not finish"));
    assert_non_null(strstr(log, "| default --data-dir"));
    assert_non_null(strstr(log, "| 3 |"));
    free(log);
    assert_int_not_equal(sh("jq -e 'select(.type == \"summary\")' \"$T/sr/default-seed2.jsonl\" "
                            "> /dev/null 2>&1"), 0);
    assert_int_equal(sh("cat \"$T\"/sr/default-seed[134].jsonl > \"$T/before\""), 0);
    /* the same command submits only seed 2 */
    assert_int_equal(sh(SEEDS " --epochs 30 > \"$T/resubmit.out\" 2>&1"), 0);
    out = text_of("resubmit.out");
    assert_non_null(strstr(out, "submitted 1 runs as Slurm job array"));
    free(out);
    wait_idle();
    assert_int_equal(sh("ls -t \"$T\"/sr/slurm/table-*.log | head -n1 | xargs cat > \"$T/table2.log\""),
                     0);
    log = text_of("table2.log");
    assert_null(strstr(log, "did not finish"));
    assert_non_null(strstr(log, "| 4 |"));
    free(log);
    /* the runs that had finished were reused, not run again */
    assert_int_equal(sh("cat \"$T\"/sr/default-seed[134].jsonl | cmp -s - \"$T/before\""), 0);
    /* each array task ran with the CPUs it asked for as train's --threads */
    assert_int_equal(sh("grep -q -- '--threads 1 ' \"$T/sr/default-seed2.cmd\""), 0);
    /* finished runs of another command: refused, nothing submitted */
    assert_int_equal(sh(SEEDS " --epochs 2 > \"$T/stale.out\" 2>&1"), 73);
    out = text_of("stale.out");
    assert_non_null(strstr(out, "a finished run of another command"));
    assert_null(strstr(out, "submitted"));
    free(out);
    assert_int_equal(sh("[ -z \"$(squeue -h)\" ]"), 0);
    /* a Slurm option without --slurm is a usage error */
    assert_int_equal(sh("scripts/seed-runs.sh --partition x configs/default.json > /dev/null 2>&1"),
                     64);
    assert_int_equal(sh("scripts/seed-runs.sh --slurm configs/default.json -- --threads 2 "
                        "> /dev/null 2>&1"), 64);
}

/* a sweep's grid as an array: its table job writes summary.md */
static void sweep_as_array(void **state)
{
    (void)state;
    const char *mnist = mnist_subset(3000);
    if (!mnist || !getenv("SLURM_CONF"))
        skip();
    assert_int_equal(sh("scripts/sweep.sh --slurm -j 2 --cpus-per-task 1 --time 10 "
                        "--partition debug -c configs/default.json -g head=softmax,sigmoid "
                        "-o \"$T/sw\" -- --data-dir \"$M\" --epochs 1 --limit-train 2000 "
                        "--limit-test 500 --hidden 16 > \"$T/sw.out\" 2>&1"), 0);
    char *out = text_of("sw.out");
    assert_non_null(strstr(out, "submitted 2 runs"));
    free(out);
    wait_idle();
    char *sum = text_of("sw/summary.md");
    assert_int_equal(occurrences(sum, "softmax"), 1);
    assert_int_equal(occurrences(sum, "sigmoid"), 1);
    free(sum);
}

static int teardown(void **state)
{
    if (started)
        sh("tests/support/local-slurm.sh stop '%s'", cluster);
    return teardown_dir(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seed_runs_as_array),
        cmocka_unit_test(sweep_as_array),
    };
    return cmocka_run_group_tests_name("slurm", tests, setup_dir, teardown);
}
