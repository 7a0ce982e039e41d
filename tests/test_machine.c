/* The machine as the process sees it: no variable of the OpenMP runtime
 * changes a number (training, evaluation with --load, --predict), a team
 * OpenMP cannot give is refused before the work; --threads 0 sizes the team
 * from the CPUs this process may use, and the memory budget reads the limits
 * that apply to it (cgroups v1 and v2, nested; RLIMIT_AS, RLIMIT_DATA). Each
 * test builds its condition: variables and limits on the real binary,
 * compared with a plain run's bytes, or a fake /proc and cgroup tree for
 * util/sysres. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "support/support.h"
#include "util/sysres.h"

static char *dir;

/* 28x28 images: the hidden layer's products are large enough to be split
 * between the threads (DENSE_SERIAL_MACS) */
static int setup(void **state)
{
    (void)state;
    dir = tmpdir_make();
    write_synthetic_mnist(dir, 512, 256, 28);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tmpdir_remove(dir);
    return 0;
}

/* what one run leaves: its exit code, stderr, and the bytes of out_file
 * (or of stdout when out_file is NULL) */
struct result {
    int rc;
    char *err;
    uint8_t *bytes;
    size_t len;
};

static struct result run_env(const char *env, const char *out_file, const char *const *args)
{
    /* env: "NAME=VALUE NAME=VALUE", set for this run only */
    char copy[256], *names[8];
    int n = 0;
    snprintf(copy, sizeof copy, "%s", env);
    for (char *save, *v = strtok_r(copy, " ", &save); v && n < 8; v = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(v, '=');
        *eq = 0;
        setenv(v, eq + 1, 1);
        names[n++] = v;
    }
    if (out_file)
        unlink(out_file);
    struct result r = {0};
    char *out;
    r.rc = run_train(args, &out, &r.err);
    for (int i = 0; i < n; i++)
        unsetenv(names[i]);
    if (out_file) {
        free(out);
        if (access(out_file, F_OK) == 0)
            r.bytes = slurp_bytes(out_file, &r.len);
    } else {
        r.bytes = (uint8_t *)out;
        r.len = strlen(out);
    }
    return r;
}

static void result_free(struct result *r)
{
    free(r->err);
    free(r->bytes);
}

/* the three entry points that run the network: training (the saved model),
 * evaluation of a saved model (its predictions file), --predict (stdout) */
enum { TRAIN, EVALUATE, PREDICT };

static struct result entry(int which, const char *env, const char *model)
{
    char m[1024], p[1024], images[1024];
    snprintf(m, sizeof m, "%s", path_in(dir, "m.bin"));
    snprintf(p, sizeof p, "%s", path_in(dir, "p.csv"));
    snprintf(images, sizeof images, "%s", path_in(dir, "t10k-images-idx3-ubyte.gz"));
    const char *train[] = {"--data-dir", dir, "--epochs", "1", "--threads", "2", "--quiet",
                           "--save", m, NULL};
    const char *evaluate[] = {"--data-dir", dir, "--load", model, "--epochs", "0", "--quiet",
                              "--threads", "2", "--predictions", p, NULL};
    const char *predict[] = {"--load", model, "--threads", "2", "--predict", images, NULL};
    return which == TRAIN      ? run_env(env, m, train)
           : which == EVALUATE ? run_env(env, p, evaluate)
                               : run_env(env, NULL, predict);
}

/* Each variable (or pair) against a plain run, at each entry point: the
 * same bytes, or a refusal naming the variable (64) with nothing written.
 * OMP_THREAD_LIMIT=1 and OMP_MAX_ACTIVE_LEVELS=0 give a oneDNN product
 * planned for two threads a team of one on today's main (part of each batch
 * never computed); OMP_DYNAMIC does the same on a busy machine. */
static void openmp_environment_never_changes_a_number(void **state)
{
    (void)state;
    static const char *const envs[] = {
        "OMP_DYNAMIC=true",
        "OMP_DYNAMIC=true OMP_NUM_THREADS=64",
        "OMP_THREAD_LIMIT=1",
        "OMP_THREAD_LIMIT=2 OMP_NESTED=false",
        "OMP_MAX_ACTIVE_LEVELS=0",
        "OMP_NUM_THREADS=1 OMP_SCHEDULE=dynamic,1",
        "OMP_NUM_THREADS=4,2 OMP_MAX_ACTIVE_LEVELS=2 OMP_TEAMS_THREAD_LIMIT=1 OMP_NUM_TEAMS=1",
        "OMP_NUM_THREADS=70000",
        "OMP_STACKSIZE=100G",
        "GOMP_STACKSIZE=1 OMP_PROC_BIND=true OMP_PLACES={0}",
        "GOMP_CPU_AFFINITY=0 OMP_WAIT_POLICY=active GOMP_SPINCOUNT=infinite",
        /* oneDNN's own: a trace on stdout, fp32 products through bf16 */
        "ONEDNN_VERBOSE=1 ONEDNN_DEFAULT_FPMATH_MODE=BF16",
        "DNNL_VERBOSE=2 DNNL_DEFAULT_FPMATH_MODE=ANY ONEDNN_JIT_DUMP=1",
    };
    struct result plain = entry(TRAIN, "", NULL);
    if (plain.rc)
        fail_msg("plain training: exit %d: %s", plain.rc, plain.err);
    /* the model the other two read: the plain one, kept apart */
    char model[1024];
    snprintf(model, sizeof model, "%s", path_in(dir, "plain.bin"));
    write_bytes(model, plain.bytes, plain.len);
    struct result ref[3] = {plain, entry(EVALUATE, "", model), entry(PREDICT, "", model)};
    for (int w = 1; w < 3; w++)
        if (ref[w].rc || !ref[w].len)
            fail_msg("plain entry %d: exit %d: %s", w, ref[w].rc, ref[w].err);
    for (size_t i = 0; i < sizeof envs / sizeof envs[0]; i++)
        for (int w = 0; w < 3; w++) {
            struct result r = entry(w, envs[i], model);
            if (r.rc == 64 && strstr(envs[i], "OMP_THREAD_LIMIT") &&
                strstr(r.err, "OMP_THREAD_LIMIT") && !r.len) {
                result_free(&r);
                continue;
            }
            if (r.rc || r.len != ref[w].len || memcmp(r.bytes, ref[w].bytes, r.len))
                fail_msg("%s, entry %d: exit %d, %zu bytes (plain: %zu), %s", envs[i], w, r.rc,
                         r.len, ref[w].len, r.err);
            result_free(&r);
        }
    /* a limit the planned team fits in runs; one it does not is refused */
    struct result r = entry(TRAIN, "OMP_THREAD_LIMIT=1", NULL);
    assert_int_equal(r.rc, 64);
    assert_non_null(strstr(r.err, "train: threads: this run uses 2 threads, but OMP_THREAD_LIMIT "
                                  "lets OpenMP start at most 1"));
    result_free(&r);
    for (int w = 0; w < 3; w++)
        result_free(&ref[w]);
}

/* --threads 0 sizes the team within OMP_THREAD_LIMIT (a batch system's
 * word for how many threads a job may run) instead of refusing the run */
static void thread_limit_sizes_the_default_team(void **state)
{
    (void)state;
    const char *args[] = {"--data-dir", dir, "--epochs", "1", NULL};
    struct result r = run_env("OMP_THREAD_LIMIT=1", NULL, args);
    if (r.rc)
        fail_msg("exit %d: %s", r.rc, r.err);
    assert_non_null(strstr((char *)r.bytes, "1 threads"));
    assert_non_null(strstr((char *)r.bytes, "threads=1"));
    result_free(&r);
}

/* the runtime's variables are read before the arguments: --version and
 * --help start no team at all, whatever they say */
static void no_team_before_the_arguments(void **state)
{
    (void)state;
    const char *version[] = {"--version", NULL}, *help[] = {"--help", NULL};
    for (int k = 0; k < 2; k++) {
        struct result r = run_env(k ? "OMP_NUM_THREADS=70000" : "OMP_NUM_THREADS=100000000",
                                  NULL, k ? version : help);
        if (r.rc)
            fail_msg("exit %d: %s", r.rc, r.err);
        result_free(&r);
    }
}

/* Beside another busy process, waiting threads spin a bounded count and
 * then sleep, unless the user chose a wait (libgomp's default, 300000
 * rounds, made each barrier wait for a descheduled thread: on today's main,
 * 3-10x slower runs); the variable whose slot carried the count while
 * libgomp started is the user's again afterwards. */
static void bounded_spin_on_a_busy_machine(void **state)
{
    (void)state;
    pid_t busy = fork();
    assert_true(busy >= 0);
    if (busy == 0) {   /* spins until killed, or for a minute at most */
        alarm(60);
        for (volatile unsigned long i = 0;; i++)
            ;
    }
    usleep(100000);
    const char *version[] = {"--version", NULL};
    const struct { const char *env, *want; } cases[] = {
        {"OMP_DISPLAY_ENV=verbose", "GOMP_SPINCOUNT = '1000'"},
        {"OMP_DISPLAY_ENV=verbose OMP_NUM_THREADS=3", "GOMP_SPINCOUNT = '1000'"},
        {"OMP_DISPLAY_ENV=verbose GOMP_SPINCOUNT=7", "GOMP_SPINCOUNT = '7'"},
        {"OMP_DISPLAY_ENV=verbose OMP_WAIT_POLICY=active", "OMP_WAIT_POLICY = 'ACTIVE'"},
    };
    /* OMP_WAIT_POLICY from the test runner would be the user's choice */
    char *policy = getenv("OMP_WAIT_POLICY") ? strdup(getenv("OMP_WAIT_POLICY")) : NULL;
    unsetenv("OMP_WAIT_POLICY");
    /* failures are collected: the busy process is ended before the test fails */
    char failed[2048] = "";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct result r = run_env(cases[i].env, NULL, version);
        if (!*failed && (r.rc || !strstr(r.err, cases[i].want)))
            snprintf(failed, sizeof failed, "%s: exit %d, no \"%s\" in %s", cases[i].env, r.rc,
                     cases[i].want, r.err);
        result_free(&r);
    }
    /* the last variable lends its slot: it reads back whole, and the slot
     * given back is the lent one (the first variable stays where it was) */
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "env -i PATH=/usr/bin:/bin OMP_DISPLAY_ENV=verbose MNIST_DIR=/nonexistent/lent '%s' "
             "--print-config 2>&1 | grep -q \"GOMP_SPINCOUNT = '1000'\" && "
             "env -i PATH=/usr/bin:/bin MNIST_DIR=/nonexistent/lent '%s' --print-config "
             "| grep -q '\"data_dir\":.*\"/nonexistent/lent\"' && "
             "env -i MNIST_DIR=/nonexistent/first PATH=/usr/bin:/bin LAST=1 '%s' --print-config "
             "| grep -q '\"data_dir\":.*\"/nonexistent/first\"'", train_bin(), train_bin(),
             train_bin());
    int rc = sh("%s", cmd);
    if (policy)
        setenv("OMP_WAIT_POLICY", policy, 1);
    free(policy);
    kill(busy, SIGKILL);
    waitpid(busy, NULL, 0);
    if (*failed)
        fail_msg("%s", failed);
    assert_int_equal(rc, 0);
}

/* ./train with args in a child that first sets one resource limit (or,
 * for resource -1, pins itself to CPU 0); exit code (-signal when killed),
 * stdout and stderr */
static int run_limited(int resource, uint64_t bytes, const char *const *args, char **out,
                       char **err)
{
    char outf[] = "/tmp/train-out.XXXXXX", errf[] = "/tmp/train-err.XXXXXX";
    int ofd = mkstemp(outf), efd = mkstemp(errf);
    assert_true(ofd >= 0 && efd >= 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(ofd, 1);
        dup2(efd, 2);
        if (resource < 0) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(0, &one);
            if (sched_setaffinity(0, sizeof one, &one))
                _exit(96);
        } else {
            struct rlimit r = {bytes, bytes};
            if (setrlimit(resource, &r))
                _exit(96);
        }
        const char *argv[32] = {train_bin()};
        for (int n = 0; args[n] && n < 30; n++)
            argv[n + 1] = args[n];
        execv(train_bin(), (char *const *)argv);
        _exit(97);
    }
    int status;
    assert_true(waitpid(pid, &status, 0) == pid);
    *out = slurp_fd(ofd);
    *err = slurp_fd(efd);
    close(ofd), close(efd);
    unlink(outf), unlink(errf);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

/* Under an address-space or data limit every run either trains (the same
 * model as without one) or is refused before the work with the budget's
 * message: never a crash (on today's main oneDNN's JIT segfaults once the
 * address space runs out) nor "out of memory" halfway. */
static void address_space_limits_refuse_or_run(void **state)
{
    (void)state;
    if (getenv("ASAN_OPTIONS") || getenv("TRAIN_SANITIZED"))
        skip();   /* a sanitizer maps terabytes of shadow memory */
    char m[1024], ref_path[1024];
    snprintf(m, sizeof m, "%s", path_in(dir, "limited.bin"));
    snprintf(ref_path, sizeof ref_path, "%s", path_in(dir, "unlimited.bin"));
    const char *args[] = {"--data-dir", dir, "--epochs", "1", "--threads", "2", "--quiet",
                          "--save", m, NULL};
    char *out, *err;
    int rc = run_limited(RLIMIT_STACK, RLIM_INFINITY, args, &out, &err);
    if (rc)
        fail_msg("unlimited run: exit %d: %s", rc, err);
    free(out), free(err);
    size_t ref_len;
    uint8_t *ref = slurp_bytes(m, &ref_len);
    const struct { int resource; int from, to, step; } limits[] = {
        {RLIMIT_AS, 48, 304, 16},
        {RLIMIT_DATA, 10, 90, 10},
    };
    int refused = 0, ran = 0;
    for (size_t k = 0; k < sizeof limits / sizeof limits[0]; k++)
        for (int mb = limits[k].from; mb <= limits[k].to; mb += limits[k].step) {
            unlink(m);
            rc = run_limited(limits[k].resource, (uint64_t)mb * 1000000, args, &out, &err);
            if (rc == 64 && (strstr(err, "this run needs about ") || strstr(err, "address space")) &&
                access(m, F_OK)) {
                refused++;
            } else if (rc == 0) {
                size_t len;
                uint8_t *got = slurp_bytes(m, &len);
                if (len != ref_len || memcmp(got, ref, len))
                    fail_msg("%s %d MB: another model", k ? "RLIMIT_DATA" : "RLIMIT_AS", mb);
                free(got);
                ran++;
            } else {
                fail_msg("%s %d MB: exit %d: %s", k ? "RLIMIT_DATA" : "RLIMIT_AS", mb, rc, err);
            }
            free(out), free(err);
        }
    print_message("%d limits refused, %d ran\n", refused, ran);
    assert_true(refused > 0 && ran > 0);
    free(ref);
}

/* --threads 0 is the CPUs this process may use: pinned to one CPU, one
 * thread (on today's main: every online core); and the mask as the process
 * started, not as libgomp leaves it after binding the initial thread to one
 * place (OMP_PROC_BIND, OMP_PLACES, GOMP_CPU_AFFINITY), nor what
 * OMP_NUM_THREADS says */
static void threads_0_follows_the_affinity_mask(void **state)
{
    (void)state;
    const char *args[] = {"--print-config", "--threads", "0", NULL};
    char *out, *err;
    int rc = run_limited(-1, 0, args, &out, &err);
    if (rc)
        fail_msg("exit %d: %s", rc, err);
    assert_non_null(strstr(out, "\"threads\":\t1,"));
    free(out), free(err);
    struct result plain = run_env("", NULL, args);
    assert_int_equal(plain.rc, 0);
    static const char *const envs[] = {"OMP_PROC_BIND=close", "GOMP_CPU_AFFINITY=0",
                                       "OMP_PLACES={0} OMP_PROC_BIND=true", "OMP_NUM_THREADS=1"};
    for (size_t i = 0; i < sizeof envs / sizeof envs[0]; i++) {
        struct result r = run_env(envs[i], NULL, args);
        if (r.rc || strcmp((char *)r.bytes, (char *)plain.bytes))
            fail_msg("%s: exit %d, %s", envs[i], r.rc, (char *)r.bytes);
        result_free(&r);
    }
    result_free(&plain);
}

/* a file under the fake root, its directories made on the way */
static void put(const char *root, const char *path, const char *text)
{
    char full[2048];
    snprintf(full, sizeof full, "%s/%s", root, path);
    for (char *s = strchr(full + strlen(root) + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = 0;
        mkdir(full, 0755);
        *s = '/';
    }
    write_text(full, text);
}

#define MEMINFO "MemTotal: 67108864 kB\nMemAvailable: 33554432 kB\n"   /* 32 GiB available */
#define GiB ((uint64_t)1 << 30)
#define MiB ((uint64_t)1 << 20)
#define V2_MOUNT "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n"

/* cgroup v2, nested: the tightest memory.max from the process's own cgroup
 * up (a systemd-run -p MemoryMax= scope, a batch job's step), page cache not
 * counted as used; CPU quotas the same way */
static void cgroup_v2_nested_limits(void **state)
{
    (void)state;
    char *root = tmpdir_make();
    put(root, "proc/meminfo", MEMINFO);
    put(root, "proc/self/cgroup", "0::/job.slice/step/task\n");
    put(root, "proc/self/mountinfo", "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n" V2_MOUNT);
    /* the root of the hierarchy is never limited; the job is, at 2 GiB, of
     * which 1.5 GiB are used, 1 GiB of it page cache */
    put(root, "sys/fs/cgroup/memory.current", "9000000000\n");
    put(root, "sys/fs/cgroup/job.slice/memory.max", "2147483648\n");
    put(root, "sys/fs/cgroup/job.slice/memory.current", "1610612736\n");
    put(root, "sys/fs/cgroup/job.slice/memory.stat",
        "anon 536870912\nfile 1073741824\nactive_file 268435456\ninactive_file 805306368\n");
    put(root, "sys/fs/cgroup/job.slice/step/memory.max", "max\n");
    put(root, "sys/fs/cgroup/job.slice/step/task/memory.max", "max\n");
    assert_int_equal(sysres_memory(root), 2 * GiB - 512 * MiB);
    /* a tighter limit further down wins */
    put(root, "sys/fs/cgroup/job.slice/step/memory.max", "1073741824\n");
    put(root, "sys/fs/cgroup/job.slice/step/memory.current", "104857600\n");
    assert_int_equal(sysres_memory(root), GiB - 100 * MiB);
    /* no cgroup limit: MemAvailable */
    put(root, "proc/self/cgroup", "0::/\n");
    assert_int_equal(sysres_memory(root), 32 * GiB);
    /* CPU: half a CPU on the job is one thread; none is the affinity mask */
    const int cpus = sysres_cpus("");
    put(root, "proc/self/cgroup", "0::/job.slice/step/task\n");
    assert_int_equal(sysres_cpus(root), cpus);
    put(root, "sys/fs/cgroup/job.slice/step/task/cpu.max", "max 100000\n");
    put(root, "sys/fs/cgroup/job.slice/cpu.max", "50000 100000\n");
    assert_int_equal(sysres_cpus(root), 1);
    if (cpus >= 2) {
        put(root, "sys/fs/cgroup/job.slice/cpu.max", "150000 100000\n");
        assert_int_equal(sysres_cpus(root), 2);
    }
    tmpdir_remove(root);
}

/* cgroup v1: the memory and cpu hierarchies mounted apart, a limit on the
 * job above the process's own cgroup; "unlimited" is 2^63 rounded to pages */
static void cgroup_v1_limits(void **state)
{
    (void)state;
    char *root = tmpdir_make();
    put(root, "proc/meminfo", MEMINFO);
    put(root, "proc/self/cgroup", "5:memory:/slurm/job_7/step_0\n4:cpu,cpuacct:/slurm/job_7\n"
                                  "1:name=systemd:/user.slice\n0::/user.slice\n");
    put(root, "proc/self/mountinfo",
        "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
        "31 23 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
        "32 23 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n");
    put(root, "sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
    put(root, "sys/fs/cgroup/memory/slurm/job_7/memory.limit_in_bytes", "4294967296\n");
    put(root, "sys/fs/cgroup/memory/slurm/job_7/memory.usage_in_bytes", "3221225472\n");
    put(root, "sys/fs/cgroup/memory/slurm/job_7/memory.stat",
        "cache 2147483648\ntotal_active_file 1073741824\ntotal_inactive_file 1073741824\n");
    put(root, "sys/fs/cgroup/memory/slurm/job_7/step_0/memory.limit_in_bytes",
        "9223372036854771712\n");
    assert_int_equal(sysres_memory(root), 3 * GiB);
    put(root, "sys/fs/cgroup/cpu,cpuacct/slurm/job_7/cpu.cfs_quota_us", "100000\n");
    put(root, "sys/fs/cgroup/cpu,cpuacct/slurm/job_7/cpu.cfs_period_us", "100000\n");
    assert_int_equal(sysres_cpus(root), 1);
    put(root, "sys/fs/cgroup/cpu,cpuacct/slurm/job_7/cpu.cfs_quota_us", "-1\n");
    assert_int_equal(sysres_cpus(root), sysres_cpus(""));
    tmpdir_remove(root);
}

/* In a cgroup namespace (a container) the mount shows the process's own
 * cgroup as its root: the limit is read there, not under a path that does
 * not exist; a full page cache does not make the container look full. */
static void cgroup_seen_from_a_container(void **state)
{
    (void)state;
    char *root = tmpdir_make();
    put(root, "proc/meminfo", MEMINFO);
    put(root, "proc/self/cgroup", "0::/system.slice/docker-1f2e.scope\n");
    put(root, "proc/self/mountinfo",
        "40 30 0:26 /system.slice/docker-1f2e.scope /sys/fs/cgroup ro - cgroup2 cgroup rw\n");
    put(root, "sys/fs/cgroup/memory.max", "536870912\n");
    put(root, "sys/fs/cgroup/memory.current", "536870912\n");
    put(root, "sys/fs/cgroup/memory.stat",
        "anon 104857600\nfile 432013312\nactive_file 0\ninactive_file 432013312\n");
    assert_int_equal(sysres_memory(root), 512 * MiB - 100 * MiB);
    /* the namespace's own view: 0::/ and the mount's root is / */
    put(root, "proc/self/cgroup", "0::/\n");
    put(root, "proc/self/mountinfo", V2_MOUNT);
    assert_int_equal(sysres_memory(root), 512 * MiB - 100 * MiB);
    tmpdir_remove(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(openmp_environment_never_changes_a_number),
        cmocka_unit_test(no_team_before_the_arguments),
        cmocka_unit_test(thread_limit_sizes_the_default_team),
        cmocka_unit_test(bounded_spin_on_a_busy_machine),
        cmocka_unit_test(address_space_limits_refuse_or_run),
        cmocka_unit_test(threads_0_follows_the_affinity_mask),
        cmocka_unit_test(cgroup_v2_nested_limits),
        cmocka_unit_test(cgroup_v1_limits),
        cmocka_unit_test(cgroup_seen_from_a_container),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
