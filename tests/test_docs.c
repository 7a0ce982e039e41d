/* The documentation's commands run as written: scripts/check-docs.sh --short
 * (the README and docs), on the real MNIST (skipped without it), and
 * the checker itself on planted documents over a synthetic digit set: a
 * failing command, a changed tracked file and a stray file each fail it;
 * output blocks and ```sh skip blocks are not run; an option table that
 * differs from --help fails it; usage errors exit 64. And the README's
 * learning-curve figure draws each loss on a panel of its own kind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "support/support.h"

/* check-docs --short over the planted document NAME in test_dir, on the
 * synthetic digits; stderr to NAME.err. Returns the exit status. */
static int check(const char *name, const char *env)
{
    return sh("%s MNIST_DIR=%s %s scripts/check-docs.sh --short %s/%s 2> %s/%s.err > /dev/null", test_bins(),
              test_dir, env ? env : "", test_dir, name, test_dir, name);
}

static const char *err_of(const char *name)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s.err", test_dir, name);
    return slurp_text(p);
}

/* the README and docs of this tree, on the real MNIST */
static void documented_commands_run(void **state)
{
    (void)state;
    const char *dir = mnist_dir();
    if (!dir) {
        fprintf(stderr, "no MNIST in $MNIST_DIR or data/mnist: skipped\n");
        skip();
    }
    char abs[4096];
    if (!realpath(dir, abs))
        fail_msg("%s: cannot resolve", dir);
    int rc = sh("%s MNIST_DIR=%s scripts/check-docs.sh --short 2> %s/docs.err > /dev/null", test_bins(), abs,
                test_dir);
    if (rc != 0)
        fail_msg("check-docs exit %d:\n%s", rc, err_of("docs"));
    const char *err = err_of("docs");
    assert_non_null(strstr(err, "README.md:"));
    assert_non_null(strstr(err, " 0 failed (--short)"));
}

/* a document whose commands all pass passes; the same with one failing
 * command planted among them fails, naming the line and the exit status */
static void planted_failure_fails(void **state)
{
    (void)state;
    const char *good = "# doc\n\n```sh\n./train --version\nmkdir -p runs\n"
                       "./train --hidden 8 --save runs/m.bin --quiet\n"
                       "./train --load runs/m.bin --epochs 0 --report > runs/report.txt\n```\n";
    write_text(path_in(test_dir, "good.md"), good);
    assert_int_equal(check("good.md", NULL), 0);
    assert_non_null(strstr(err_of("good.md"), "4 commands run, 0 skipped, 0 failed"));

    /* an out-of-range value is a usage error (64), as in a stale doc */
    char bad[1024];
    snprintf(bad, sizeof bad, "%s\nthen\n\n```sh\n./train --lr 0\n```\n", good);
    write_text(path_in(test_dir, "bad.md"), bad);
    assert_int_equal(check("bad.md", NULL), 1);
    const char *err = err_of("bad.md");
    assert_non_null(strstr(err, "bad.md:13: exit 64: ./train --lr 0"));
    assert_non_null(strstr(err, "5 commands run, 0 skipped, 1 failed"));

    /* a line continued with \ is one command (train refuses the flag, 64);
     * split, the first half would pass and the second be no command (127) */
    write_text(path_in(test_dir, "cont.md"), "```sh\n./train --hidden 8 --quiet \\\n  --bogus-flag\n```\n");
    assert_int_equal(check("cont.md", NULL), 1);
    assert_non_null(strstr(err_of("cont.md"), "cont.md:2: exit 64"));
}

/* following the docs may write only where git ignores it */
static void tracked_changes_fail(void **state)
{
    (void)state;
    write_text(path_in(test_dir, "edit.md"), "```sh\necho more >> README.md\n```\n");
    assert_int_equal(check("edit.md", NULL), 1);
    assert_non_null(strstr(err_of("edit.md"), " M README.md"));

    write_text(path_in(test_dir, "stray.md"), "```sh\n./train --hidden 8 --save model.bin --quiet\n```\n");
    assert_int_equal(check("stray.md", NULL), 1);
    assert_non_null(strstr(err_of("stray.md"), "?? model.bin"));

    write_text(path_in(test_dir, "ignored.md"),
               "```sh\nmkdir -p runs && ./train --hidden 8 --save runs/model.bin --quiet\n```\n");
    assert_int_equal(check("ignored.md", NULL), 0);
}

/* output blocks and ```sh skip blocks are shown, never run */
static void only_sh_blocks_run(void **state)
{
    (void)state;
    write_text(path_in(test_dir, "blocks.md"),
               "```text\nfalse\n```\n\n```\nfalse\n```\n\n```json\n{\"a\": 1}\n```\n\n"
               "```sh skip\nfalse\n```\n\n```bash\ntrue\n```\n");
    assert_int_equal(check("blocks.md", NULL), 0);
    assert_non_null(strstr(err_of("blocks.md"), "1 commands run, 1 skipped, 0 failed"));
    assert_int_equal(sh("scripts/check-docs.sh --list %s/blocks.md > %s/list.out", test_dir, test_dir), 0);
    const char *list = slurp_text(path_in(test_dir, "list.out"));
    assert_non_null(strstr(list, "#skip false"));
    assert_non_null(strstr(list, "\ntrue\n"));
}

/* The option table of docs/reference.md is written from train's option table
 * (gendoc markdown), never parsed back out of --help's prose: every row is an
 * option --help lists and every option --help lists has its row; the exit
 * status, environment, files and examples tables have their rows; and a
 * table that differs from the option table's (an option added) fails the
 * check until it is regenerated. */
static void option_table_follows_the_option_table(void **state)
{
    (void)state;
    assert_int_equal(sh("scripts/check-docs.sh --options > %s/table.md", test_dir), 0);
    assert_int_equal(sh("awk '/^<!-- END options/ {i=0} i {print} /^<!-- BEGIN options/ {i=1}' "
                        "docs/reference.md | cmp -s - %s/table.md", test_dir), 0);
    /* the rows' flags are exactly --help's option lines' flags */
    assert_int_equal(sh("%s --help | sed -n 's/^  \\(-h, \\)\\{0,1\\}\\(--[a-z0-9-]*\\).*/\\2/p' "
                        "| sort -u > %s/help.flags", train_bin(), test_dir), 0);
    assert_int_equal(sh("sed -n 's/^| `\\(-h, \\)\\{0,1\\}\\(--[a-z0-9-]*\\)[ `].*/\\2/p' "
                        "%s/table.md | sort -u > %s/table.flags", test_dir, test_dir), 0);
    if (sh("cmp -s %s/help.flags %s/table.flags", test_dir, test_dir))
        fail_msg("the table's options are not --help's:\n%s\n---\n%s",
                 strdup(slurp_text(path_in(test_dir, "help.flags"))),
                 slurp_text(path_in(test_dir, "table.flags")));
    /* no other row claims to be an option */
    assert_int_equal(sh("grep '^| `-' %s/table.md | grep -vc '^| `\\(-h, \\)\\{0,1\\}--[a-z0-9-]*"
                        "\\( [A-Z,.]*\\)\\{0,1\\}` |' > /dev/null", test_dir), 1);
    const char *table = slurp_text(path_in(test_dir, "table.md"));
    const char *rows[] = {"| `64` | usage error", "| `MNIST_DIR` |", "| `~/.config/mnist-train/configs/` |",
                          "| `mnist-train-fetch` |"};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (!strstr(table, rows[i]))
            fail_msg("no row %s in the table", rows[i]);
    /* a table the option table does not make fails the check */
    char g[4096], fake[3 * 4096];
    if (!realpath("build/bin/gendoc", g))
        fail_msg("no build/bin/gendoc");
    const char *gd = getenv("GENDOC_BIN");
    if (gd && *gd && !realpath(gd, g))
        fail_msg("no %s", gd);
    snprintf(fake, sizeof fake,
             "#!/bin/sh\n\"%s\" \"$@\" | sed 's/^| `--lr X` |/| `--lr-warmup N` | x |  |  |  |\\n&/'\n",
             g);
    write_text(path_in(test_dir, "fake-gendoc"), fake);
    assert_int_equal(sh("chmod +x %s/fake-gendoc", test_dir), 0);
    write_text(path_in(test_dir, "ok.md"), "```sh\n./train --version\n```\n");
    char env[4200];
    snprintf(env, sizeof env, "GENDOC=%s/fake-gendoc", test_dir);
    assert_int_equal(check("ok.md", env), 1);
    assert_non_null(strstr(err_of("ok.md"), "the option table differs from the option table of train"));
    assert_non_null(strstr(err_of("ok.md"), "--lr-warmup"));
    assert_int_equal(check("ok.md", NULL), 0);
}

/* width and height of a PNG, from its IHDR chunk */
static void png_size(const char *path, unsigned *w, unsigned *h)
{
    unsigned char b[24];
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(b, 1, sizeof b, f), sizeof b);
    fclose(f);
    assert_memory_equal(b, "\x89PNG", 4);
    *w = (unsigned)b[16] << 24 | (unsigned)b[17] << 16 | (unsigned)b[18] << 8 | b[19];
    *h = (unsigned)b[20] << 24 | (unsigned)b[21] << 16 | (unsigned)b[22] << 8 | b[23];
}

/* The README's learning-curve figure puts each loss on a panel of its own
 * kind, named by the run's loss key: softmax, summed BCE, averaged BCE and
 * squared error are four panels beside the accuracy (two rows of three),
 * not one BCE panel holding three different quantities (one row). */
static void figure_panels_follow_the_loss(void **state)
{
    (void)state;
    const char *loss[] = {"--head=softmax", "--loss=bce", "--loss=bce-mean", "--loss=squared"};
    char files[4096] = "";
    for (int i = 0; i < 4; i++) {
        const char *head = i ? "--head=sigmoid" : "";
        assert_int_equal(sh("%s --data-dir %s --hidden 8 --epochs 2 --json %s %s > %s/l%d.jsonl", train_bin(),
                            test_dir, head, loss[i], test_dir, i), 0);
        snprintf(files + strlen(files), sizeof files - strlen(files), " %s/l%d.jsonl", test_dir, i);
    }
    assert_int_equal(sh("scripts/plot.sh curves %s/c4.png%s", test_dir, files), 0);
    unsigned w, h;
    png_size(path_in(test_dir, "c4.png"), &w, &h);
    assert_int_equal(w, 1500);
    assert_int_equal(h, 880);
    /* two sigmoid runs of one loss share a panel: three panels in one row */
    assert_int_equal(sh("scripts/plot.sh curves %s/c2.png %s/l0.jsonl %s/l2.jsonl %s/l2.jsonl", test_dir,
                        test_dir, test_dir, test_dir), 0);
    png_size(path_in(test_dir, "c2.png"), &w, &h);
    assert_int_equal(w, 1500);
    assert_int_equal(h, 440);
}

static void help_and_usage_errors(void **state)
{
    (void)state;
    assert_int_equal(sh("scripts/check-docs.sh --help > %s/h.out", test_dir), 0);
    assert_non_null(strstr(slurp_text(path_in(test_dir, "h.out")), "```sh skip"));
    assert_int_equal(sh("scripts/check-docs.sh --bogus 2> %s/u.err", test_dir), 64);
    assert_non_null(strstr(slurp_text(path_in(test_dir, "u.err")), "unknown option '--bogus'"));
    assert_int_equal(sh("scripts/check-docs.sh %s/none.md 2> %s/u.err", test_dir, test_dir), 66);
    assert_non_null(strstr(slurp_text(path_in(test_dir, "u.err")), "none.md: no such file"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(help_and_usage_errors),
        cmocka_unit_test(only_sh_blocks_run),
        cmocka_unit_test(planted_failure_fails),
        cmocka_unit_test(tracked_changes_fail),
        cmocka_unit_test(option_table_follows_the_option_table),
        cmocka_unit_test(figure_panels_follow_the_loss),
        cmocka_unit_test(documented_commands_run),
    };
    if (getenv("TEST_FILTER"))
        cmocka_set_test_filter(getenv("TEST_FILTER"));
    return cmocka_run_group_tests_name("docs", tests, setup_synthetic_dir, teardown_dir);
}
