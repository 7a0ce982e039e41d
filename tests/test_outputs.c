/* Output files, black-box: every output path (--save, --predictions,
 * --metrics, the file --resume saves back to) is checked before any data
 * loads and fails with EX_CANTCREAT (73); devices, FIFOs and descriptors are
 * written through, never replaced; symlinks are followed and stay links;
 * existing files keep their permission bits. Each test builds its own bad
 * target in a temporary directory. */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "support/support.h"

#define NO_DATA "/nonexistent-train-data"

/* the whole file (malloc'd: the caller frees; several may be held at once) */
static char *slurp_owned(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *b = slurp_fd(fd);
    close(fd);
    return b;
}

static int count_prefix(const char *text, const char *prefix)
{
    int n = 0;
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, prefix, strlen(prefix)))
            n++;
    return n;
}

/* no FILE.tmp.XXXXXX left behind in dir */
static void no_temporaries(const char *dir)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "ls -a '%s' | grep -q '\\.tmp\\.'", dir);
    if (system(cmd) == 0)
        fail_msg("a temporary file was left in %s", dir);
}

/* a small model to resume from (2 epochs, finished) */
static const char *small_model(void)
{
    return TRAINED_MODEL("small.bin", "--data-dir", test_dir, "--hidden", "8", "--epochs", "2", "--quiet");
}

/* A bad output path fails at once: the data is never loaded (here it does
 * not even exist, and the error is still the output's). */
static void bad_outputs_fail_before_data(void **state)
{
    (void)state;
    char *out, *err;
    RUN(73, out, err, "--data-dir", NO_DATA, "--epochs", "10", "--save", "/nonexistent/dir/m.bin");
    assert_string_equal(err, "train: save: /nonexistent/dir/m.bin: directory /nonexistent/dir "
                             "does not exist\n");
    assert_string_equal(out, "");
    free(out), free(err);
    RUN(73, out, err, "--data-dir", NO_DATA, "--epochs", "10", "--save", test_dir);
    assert_non_null(strstr(err, "is a directory"));
    free(out), free(err);
    RUN(73, out, err, "--data-dir", NO_DATA, "--predictions", "/nonexistent/p.csv");
    assert_non_null(strstr(err, "train: predictions: /nonexistent/p.csv: directory"));
    free(out), free(err);
    RUN(73, out, err, "--data-dir", NO_DATA, "--metrics", "/nonexistent/m.csv");
    assert_non_null(strstr(err, "train: metrics: /nonexistent/m.csv: directory"));
    free(out), free(err);
    mkdir(path_in(test_dir, "adir.csv"), 0755);
    RUN(73, out, err, "--data-dir", NO_DATA, "--metrics", path_in(test_dir, "adir.csv"));
    assert_non_null(strstr(err, "is a directory"));
    free(out), free(err);
    /* a link to a directory, a file used as a directory */
    symlink(test_dir, path_in(test_dir, "to-dir.bin"));
    RUN(73, out, err, "--data-dir", NO_DATA, "--save", path_in(test_dir, "to-dir.bin"));
    assert_non_null(strstr(err, "the link names a directory"));
    free(out), free(err);
    write_text(path_in(test_dir, "plain"), "x");
    RUN(73, out, err, "--data-dir", NO_DATA, "--save", path_in(test_dir, "plain/m.bin"));
    free(out), free(err);
    /* --resume saves back (or to --save): checked before the data too */
    RUN(73, out, err, "--data-dir", NO_DATA, "--resume", small_model(), "--epochs", "4", "--save",
        "/nonexistent/m.bin");
    assert_non_null(strstr(err, "save: /nonexistent/m.bin"));
    free(out), free(err);
    /* two outputs naming one file */
    RUN(64, out, err, "--data-dir", NO_DATA, "--predictions", path_in(test_dir, "same.csv"),
        "--metrics", path_in(test_dir, "same.csv"));
    assert_non_null(strstr(err, "is also the --predictions file"));
    free(out), free(err);
    /* stdout is --json's, by any name */
    RUN(64, out, err, "--data-dir", NO_DATA, "--predictions", "-", "--json");
    free(out), free(err);
    RUN(64, out, err, "--data-dir", NO_DATA, "--predictions", "/dev/stdout", "--json");
    assert_non_null(strstr(err, "predictions: /dev/stdout is stdout"));
    free(out), free(err);
}

/* root ignores permissions: these cases run as nobody, or are skipped */
static int run_unprivileged(const char *const *args, char **out, char **err)
{
    if (geteuid() != 0)
        return run_train(args, out, err);
    const char *argv[40] = {"--reuid=nobody", "--regid=nogroup", "--clear-groups", train_bin()};
    int n = 4;
    for (int i = 0; args[i] && n < 39; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    return run_prog("/usr/bin/setpriv", argv, out, err);
}

static void unwritable_directory(void **state)
{
    (void)state;
    if (geteuid() == 0 && access("/usr/bin/setpriv", X_OK) != 0)
        skip();   /* root bypasses permissions and there is no setpriv to drop them */
    char *out, *err;
    const char *model = small_model();
    char *dir = tmpdir_make();
    const char *ro = path_in(dir, "ro");
    mkdir(ro, 0755);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s/' && chmod -R a+rX '%s' '%s' && chmod 0555 '%s'", model,
             ro, test_dir, dir, ro);
    assert_int_equal(system(cmd), 0);
    const char *a1[] = {"--data-dir", test_dir, "--epochs", "10", "--save",
                        path_in(ro, "m.bin"), "--quiet", NULL};
    int rc = run_unprivileged(a1, &out, &err);
    if (rc != 73 || !strstr(err, "cannot create files in"))
        fail_msg("exit %d: %s", rc, err);
    assert_null(strstr(out, "test accuracy"));   /* nothing was trained */
    free(out), free(err);
    /* --resume saves back into its own directory: checked first */
    const char *a2[] = {"--data-dir", test_dir, "--resume", path_in(ro, "small.bin"), "--epochs",
                        "4", "--quiet", NULL};
    rc = run_unprivileged(a2, &out, &err);
    if (rc != 73 || !strstr(err, "save: "))
        fail_msg("exit %d: %s", rc, err);
    free(out), free(err);
    /* a finished model is only evaluated: nothing to write back */
    const char *a3[] = {"--data-dir", test_dir, "--resume", path_in(ro, "small.bin"), "--quiet",
                        NULL};
    rc = run_unprivileged(a3, &out, &err);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err);
    free(out), free(err);
    /* someone else's file in a sticky directory cannot be replaced */
    const char *sticky = path_in(dir, "sticky");
    snprintf(cmd, sizeof cmd, "mkdir -m 1777 '%s' && echo x > '%s/root.csv'", sticky, sticky);
    assert_int_equal(system(cmd), 0);
    const char *a4[] = {"--data-dir", test_dir, "--epochs", "10", "--predictions",
                        path_in(sticky, "root.csv"), "--quiet", NULL};
    rc = run_unprivileged(a4, &out, &err);
    if (geteuid() == 0 && (rc != 73 || !strstr(err, "belongs to another user")))
        fail_msg("exit %d: %s", rc, err);
    free(out), free(err);
    snprintf(cmd, sizeof cmd, "chmod 0755 '%s'", ro);
    assert_int_equal(system(cmd), 0);
    tmpdir_remove(dir);
}

static int make_node(const char *path, mode_t type, int major_, int minor_)
{
    if (mknod(path, type | 0666, makedev(major_, minor_)) == 0)
        return 0;
    return -1;
}

/* a device node is written through and stays a device */
static void devices_written_through(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    const char *null = path_in(dir, "null"), *full = path_in(dir, "full");
    if (make_node(null, S_IFCHR, 1, 3) || make_node(full, S_IFCHR, 1, 7)) {
        tmpdir_remove(dir);
        skip();   /* mknod is not permitted here (no CAP_MKNOD) */
    }
    char *out, *err;
    free(RUN_OK("--data-dir", test_dir, "--hidden", "8", "--epochs", "1", "--save", null,
        "--predictions", null, "--metrics", path_in(dir, "m.csv"), "--quiet"));
    struct stat st;
    assert_int_equal(lstat(null, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    /* a device that cannot take the bytes is a write error, and stays a device */
    RUN(74, out, err, "--data-dir", test_dir, "--hidden", "8", "--epochs", "1", "--predictions",
        full, "--quiet");
    assert_non_null(strstr(err, "No space left on device"));
    free(out), free(err);
    assert_int_equal(lstat(full, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    no_temporaries(dir);
    tmpdir_remove(dir);
}

/* a FIFO is written through to its reader, and stays a FIFO */
static void fifo_written_through(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    const char *fifo = path_in(dir, "p.fifo");
    char got[1024];
    snprintf(got, sizeof got, "%s", path_in(dir, "got.csv"));
    if (mkfifo(fifo, 0644) != 0) {
        tmpdir_remove(dir);
        skip();
    }
    pid_t reader = fork();
    if (reader == 0) {
        int in = open(fifo, O_RDONLY), o = open(got, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        char buf[4096];
        ssize_t n;
        while (in >= 0 && (n = read(in, buf, sizeof buf)) > 0)
            if (write(o, buf, (size_t)n) != n)
                _exit(1);
        _exit(0);
    }
    free(RUN_OK("--data-dir", test_dir, "--hidden", "8", "--epochs", "1", "--predictions",
        fifo, "--quiet"));
    struct stat st;
    assert_int_equal(lstat(fifo, &st), 0);
    int is_fifo = S_ISFIFO(st.st_mode);
    /* the reader ends when the writer closes; if the FIFO was replaced it waits forever */
    int status = 0;
    for (int i = 0; i < 50 && waitpid(reader, &status, WNOHANG) == 0; i++)
        usleep(100000);
    kill(reader, SIGKILL);
    waitpid(reader, &status, 0);
    assert_true(is_fifo);
    char *csv = slurp_owned(got);
    assert_non_null(csv);
    assert_int_equal(count_prefix(csv, "index,label,prediction,"), 1);
    assert_int_equal(count_prefix(csv, "199,9,"), 1);
    free(csv);
    tmpdir_remove(dir);
}

/* --predictions - and the names of descriptor 1 write into stdout, in order,
 * between the header and the summary */
static void descriptors_written_through(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    const char *link = path_in(dir, "to-stdout.csv");
    symlink("/dev/stdout", link);
    const char *targets[] = {"-", "/dev/fd/1", "/proc/self/fd/1", link};
    for (int i = 0; i < 4; i++) {
        char log[1024];
        snprintf(log, sizeof log, "%s", path_in(dir, "log.txt"));
        write_text(log, "");
        const char *args[] = {"--data-dir", test_dir, "--hidden", "8", "--epochs", "1",
                              "--predictions", targets[i], NULL};
        char *out, *err;
        int rc = run_train_to(args, log, &out, &err);
        struct stat st;
        if (i == 0 && lstat("-", &st) == 0) {
            unlink("-");
            fail_msg("--predictions - created a file named '-'");
        }
        if (rc != 0)
            fail_msg("%s: exit %d: %s", targets[i], rc, err);
        free(out), free(err);
        char *text = slurp_owned(log);
        char *header = strstr(text, "network:"), *csv = strstr(text, "index,label,prediction,");
        char *last = strstr(text, "199,9,"), *summary = strstr(text, "test accuracy:");
        if (!header || !csv || !last || !summary || !(header < csv && last < summary))
            fail_msg("%s: stdout is not header, predictions, summary:\n%.400s", targets[i], text);
        free(text);
    }
    /* the link is still a link */
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    tmpdir_remove(dir);
}

/* a link is followed: the file it names is replaced, in its own directory,
 * and the link stays; modes of existing files are kept */
static void links_followed_modes_kept(void **state)
{
    (void)state;
    char *dir = tmpdir_make();
    char sub[1024], real[1024];
    snprintf(sub, sizeof sub, "%s", path_in(dir, "sub"));
    mkdir(sub, 0755);
    snprintf(real, sizeof real, "%s", path_in(sub, "real.csv"));
    write_text(real, "old\n");
    chmod(real, 0640);
    const char *link = path_in(dir, "link.csv"), *chain = path_in(dir, "chain.csv");
    symlink("sub/real.csv", link);
    symlink("link.csv", chain);
    char *out, *err;
    free(RUN_OK("--data-dir", test_dir, "--hidden", "8", "--epochs", "1", "--predictions",
        chain, "--quiet"));
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(lstat(chain, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(lstat(real, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0640);
    char *csv = slurp_owned(real);
    assert_int_equal(count_prefix(csv, "index,label,prediction,"), 1);
    free(csv);
    no_temporaries(dir);
    no_temporaries(sub);
    /* a dangling link: the file it names is created */
    const char *dangling = path_in(dir, "dangling.bin");
    symlink("sub/new.bin", dangling);
    free(RUN_OK("--data-dir", test_dir, "--hidden", "8", "--epochs", "1", "--save", dangling,
        "--quiet"));
    assert_int_equal(lstat(dangling, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(stat(path_in(sub, "new.bin"), &st), 0);
    /* a loop of links */
    symlink("loop-b", path_in(dir, "loop-a"));
    symlink("loop-a", path_in(dir, "loop-b"));
    RUN(73, out, err, "--data-dir", NO_DATA, "--save", path_in(dir, "loop-a"));
    assert_non_null(strstr(err, "too many levels of symbolic links"));
    free(out), free(err);
    /* an existing model and metrics file keep their modes */
    const char *model = path_in(dir, "private.bin"), *metrics = path_in(dir, "private.csv");
    write_text(model, "old");
    chmod(model, 0600);
    write_text(metrics, "");
    chmod(metrics, 0604);
    free(RUN_OK("--data-dir", test_dir, "--hidden", "8", "--epochs", "1", "--save", model,
        "--metrics", metrics, "--quiet"));
    assert_int_equal(stat(model, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(stat(metrics, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0604);
    tmpdir_remove(dir);
}

/* One file reached by two outputs, or by an output and an input, however
 * spelt (a, ./a, an absolute path, a link, a file not there yet), is a usage
 * error before any data loads: nothing is overwritten. Saving over the
 * model that was loaded is the documented way to continue it. */
static void outputs_distinct_by_any_spelling(void **state)
{
    (void)state;
    char *dir = tmpdir_make(), a[1100], a2[1100], b[1100], b2[1100], rel[1100];
    snprintf(a, sizeof a, "%s/a.csv", dir);
    snprintf(a2, sizeof a2, "%s/./a.csv", dir);
    snprintf(b, sizeof b, "%s/b.csv", dir);
    snprintf(b2, sizeof b2, "%s/link.csv", dir);
    char *out, *err;
    /* a new file, spelt twice: the model would be replaced by the predictions */
    RUN(64, out, err, "--data-dir", NO_DATA, "--save", a, "--predictions", a2);
    assert_non_null(strstr(err, "/./a.csv is also the --save file"));
    free(out), free(err);
    /* a link to a file not there yet */
    symlink("b.csv", b2);
    RUN(64, out, err, "--data-dir", NO_DATA, "--predictions", b, "--metrics", b2);
    assert_non_null(strstr(err, "link.csv is also the --predictions file"));
    free(out), free(err);
    struct stat st;
    assert_int_equal(lstat(a, &st), -1);
    assert_int_equal(lstat(b, &st), -1);
    /* an output over a data file or the model being read */
    const char *model = small_model();
    char *before = slurp_owned(model);
    snprintf(rel, sizeof rel, "%s/./t10k-labels-idx1-ubyte.gz", test_dir);
    RUN(64, out, err, "--data-dir", test_dir, "--epochs", "1", "--save", rel);
    assert_non_null(strstr(err, "is the --test-labels file, which this run reads"));
    free(out), free(err);
    RUN(64, out, err, "--data-dir", test_dir, "--load", model, "--epochs", "0", "--predictions",
        model);
    assert_non_null(strstr(err, "is the --load file"));
    free(out), free(err);
    RUN(64, out, err, "--data-dir", test_dir, "--resume", model, "--epochs", "3", "--save",
        path_in(dir, "next.bin"), "--predictions", model);
    assert_non_null(strstr(err, "is the --resume file"));
    free(out), free(err);
    char *after = slurp_owned(model);
    assert_memory_equal(before, after, strlen(before));
    free(before), free(after);
    /* saving back over the loaded model is allowed */
    free(RUN_OK("--data-dir", test_dir, "--hidden", "8", "--load", model, "--epochs", "1",
        "--save", model, "--quiet"));
    /* --json keeps stdout for JSON lines, whichever output names it */
    RUN(64, out, err, "--data-dir", NO_DATA, "--json", "--save", "/dev/stdout");
    assert_non_null(strstr(err, "save: /dev/stdout is stdout"));
    free(out), free(err);
    symlink("/dev/stdout", path_in(dir, "out.csv"));
    RUN(64, out, err, "--data-dir", NO_DATA, "--json", "--metrics", path_in(dir, "out.csv"));
    assert_non_null(strstr(err, "is stdout, which --json keeps"));
    free(out), free(err);
    tmpdir_remove(dir);
}

/* The --config file is read by the run like the data: no output may replace
 * it, under its own name, another spelling, a hard link or a symbolic link,
 * and whatever suffix it has (x.csv for --metrics) */
static void outputs_never_replace_the_config(void **state)
{
    (void)state;
    char *dir = tmpdir_make(), cfg[1100], csv[1100], hard[1100], soft[1100], dotted[1100];
    snprintf(cfg, sizeof cfg, "%s/my.json", dir);
    snprintf(csv, sizeof csv, "%s/x.csv", dir);
    snprintf(hard, sizeof hard, "%s/hard.json", dir);
    snprintf(soft, sizeof soft, "%s/soft.json", dir);
    snprintf(dotted, sizeof dotted, "%s/./my.json", dir);
    static const char text[] = "{\"epochs\": 1, \"hidden\": \"8\"}\n";
    write_text(cfg, text);
    write_text(csv, text);
    assert_int_equal(link(cfg, hard), 0);
    assert_int_equal(symlink("my.json", soft), 0);
    struct { const char *config, *key, *path; } cases[] = {
        {cfg, "--predictions", cfg}, {cfg, "--save", cfg}, {cfg, "--save", dotted},
        {cfg, "--save", hard}, {cfg, "--predictions", soft}, {soft, "--save", cfg},
        {csv, "--metrics", csv}, {hard, "--metrics", csv},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (i == 7) {   /* the metrics file is a hard link of the config */
            unlink(csv);
            assert_int_equal(link(hard, csv), 0);
        }
        char *out, *err;
        const char *args[] = {"--data-dir", test_dir, "--config", cases[i].config,
                              cases[i].key, cases[i].path, "--quiet", NULL};
        int rc = run_train(args, &out, &err);
        if (rc != 64 || !strstr(err, "is the --config file, which this run reads"))
            fail_msg("case %zu (%s %s): exit %d: %s", i, cases[i].key, cases[i].path, rc, err);
        free(out), free(err);
        assert_string_equal(slurp_text(cfg), text);
        struct stat st;
        assert_int_equal(lstat(soft, &st), 0);
        assert_true(S_ISLNK(st.st_mode));
    }
    no_temporaries(dir);
    tmpdir_remove(dir);
}

/* --save never writes a model into stdout or stderr, whatever name they go
 * by (as "-" never did), nor into a FIFO: a model file is a regular file (or
 * a sink like /dev/null) */
static void save_is_never_stdout(void **state)
{
    (void)state;
    char *dir = tmpdir_make(), log[1100], link[1100], fifo[1100];
    snprintf(log, sizeof log, "%s/log.txt", dir);
    snprintf(link, sizeof link, "%s/m.bin", dir);
    snprintf(fifo, sizeof fifo, "%s/p.fifo", dir);
    symlink("/dev/stdout", link);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    const char *targets[] = {"-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1", link, log, fifo,
                             "/dev/stderr", "/dev/fd/2"};
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        write_text(log, "");
        const char *args[] = {"--data-dir", test_dir, "--hidden", "8", "--epochs", "1",
                              "--save", targets[i], NULL};
        char *out, *err;
        int rc = run_train_to(args, log, &out, &err);
        if (rc != 64 || !strstr(err, "train: save: "))
            fail_msg("--save %s: exit %d: %s", targets[i], rc, err);
        free(out), free(err);
        assert_string_equal(slurp_text(log), "");
    }
    /* a sink that is also stdout takes it */
    const char *args[] = {"--data-dir", test_dir, "--hidden", "8", "--epochs", "1", "--save",
                          "/dev/null", "--quiet", NULL};
    char *out, *err;
    int rc = run_train_to(args, "/dev/null", &out, &err);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err);
    free(out), free(err);
    tmpdir_remove(dir);
}

/* A FIFO with no reader blocks the open that writes to it, as it would for
 * any program; SIGINT or SIGTERM ends that wait like any other phase (130,
 * 143), not as a file that could not be created (73). The same for a
 * --config FIFO with no writer. A model FIFO is refused without waiting. */
static void signal_ends_fifo_wait(void **state)
{
    (void)state;
    char *dir = tmpdir_make(), fifo[1100], fifo_csv[1100];
    snprintf(fifo, sizeof fifo, "%s", path_in(dir, "p.fifo"));
    snprintf(fifo_csv, sizeof fifo_csv, "%s", path_in(dir, "m.csv"));
    if (mkfifo(fifo, 0644) != 0 || mkfifo(fifo_csv, 0644) != 0) {
        tmpdir_remove(dir);
        skip();
    }
    char *out, *err;
    const char *a1[] = {"--data-dir", test_dir, "--hidden", "8", "--epochs", "1",
                        "--predictions", fifo, "--quiet", NULL};
    int rc = run_train_signal_in_open(a1, SIGINT, &out, &err);
    if (rc != 130 || !strstr(err, "train: interrupted"))
        fail_msg("exit %d: %s", rc, err);
    free(out), free(err);
    const char *a2[] = {"--data-dir", test_dir, "--hidden", "8", "--epochs", "1", "--metrics",
                        fifo_csv, "--quiet", NULL};
    rc = run_train_signal_in_open(a2, SIGTERM, &out, &err);
    if (rc != 143 || !strstr(err, "train: interrupted"))
        fail_msg("exit %d: %s", rc, err);
    free(out), free(err);
    const char *a3[] = {"--config", fifo, NULL};
    rc = run_train_signal_in_open(a3, SIGINT, &out, &err);
    if (rc != 130)
        fail_msg("exit %d: %s", rc, err);
    free(out), free(err);
    /* a model is a regular file: a FIFO is refused at once (the KILL is a guard) */
    const char *a4[] = {"--data-dir", test_dir, "--load", fifo, "--epochs", "0", NULL};
    rc = run_train_signal(a4, 120000, SIGKILL, &out, &err);
    if (rc != 66 || !strstr(err, "not a regular file"))
        fail_msg("exit %d: %s", rc, err);
    free(out), free(err);
    struct stat st;
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    no_temporaries(dir);
    tmpdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_outputs_fail_before_data),
        cmocka_unit_test(unwritable_directory),
        cmocka_unit_test(devices_written_through),
        cmocka_unit_test(fifo_written_through),
        cmocka_unit_test(descriptors_written_through),
        cmocka_unit_test(links_followed_modes_kept),
        cmocka_unit_test(outputs_distinct_by_any_spelling),
        cmocka_unit_test(outputs_never_replace_the_config),
        cmocka_unit_test(save_is_never_stdout),
        cmocka_unit_test(signal_ends_fifo_wait),
    };
    return cmocka_run_group_tests_name("outputs", tests, setup_synthetic_dir, teardown_dir);
}
