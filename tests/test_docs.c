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
    return sh("MNIST_DIR=%s %s scripts/check-docs.sh --short %s/%s 2> %s/%s.err > /dev/null", test_dir,
              env ? env : "", test_dir, name, test_dir, name);
}

static const char *err_of(const char *name)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s.err", test_dir, name);
    return slurp_text(p);
}

/* The layers docs/ARCHITECTURE.md describes: tests/check-layers.sh passes on
 * this tree and fails, naming each, on the leaks it was written for, planted
 * in a copy of src/: config/ including train/, config/ including a module of
 * nn/ (not a leaf header), and a header outside src/nn/ reaching oneDNN's
 * through another header. */
static void layers_point_one_way(void **state)
{
    (void)state;
    const char *cc = "${CC:-cc} $(pkg-config --cflags zlib libcjson)";
    assert_int_equal(sh("tests/check-layers.sh %s 2> %s/layers.err", cc, test_dir), 0);
    assert_int_equal(sh("rm -rf %s/lay && mkdir -p %s/lay && cp -r src tests %s/lay/ && cd %s/lay && "
                        "sed -i '1i #include \"../train/task.h\"' src/config/config.c && "
                        "sed -i '1i #include \"../nn/mlp.h\"' src/config/json.c && "
                        "sed -i '1i #include \"../nn/dense.h\"' src/nn/precision.h && "
                        "tests/check-layers.sh %s 2> ../layers.err", test_dir, test_dir, test_dir,
                        test_dir, cc), 1);
    const char *err = err_of("layers");
    assert_non_null(strstr(err, "src/config/config.c: config/ includes src/train/task.h"));
    assert_non_null(strstr(err, "src/config/json.c: config/ includes src/nn/mlp.h"));
    assert_non_null(strstr(err, "src/main.c: reaches oneDNN's header"));
    assert_non_null(strstr(err, "src/report/report.c: reaches oneDNN's header"));
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
    int rc = sh("MNIST_DIR=%s scripts/check-docs.sh --short 2> %s/docs.err > /dev/null", abs,
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
    char fake[3 * 4096];
    snprintf(fake, sizeof fake,
             "#!/bin/sh\n\"%s\" \"$@\" | sed 's/^| `--lr X` |/| `--lr-warmup N` | x |  |  |  |\\n&/'\n",
             getenv("GENDOC"));
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

/* check-docs --figures over the planted document NAME (and the repository's
 * --help and man pages); stderr to NAME.err. Returns the exit status. */
static int figures(const char *name, const char *opt)
{
    return sh("scripts/check-docs.sh %s %s/%s 2> %s/%s.err > /dev/null", opt ? opt : "--figures", test_dir, name,
              test_dir, name);
}

/* A result folder under test_dir: a comparison with the figures a document
 * quotes, and (when prov) the PROVENANCE the scripts write beside it. */
static void result_folder(const char *acc, int prov)
{
    char p[4096], t[2048];
    assert_int_equal(sh("mkdir -p %s/results/heads", test_dir), 0);
    snprintf(t, sizeof t,
             "| config | runs | test accuracy (%%) mean ± std | s/run |\n|---|---|---|---|\n"
             "| softmax | 5 | 99.15 ± 0.05 | 616 |\n| sigmoid | 5 | %s ± 0.05 | 336 |\n\n"
             "| seed | McNemar p |\n|---|---|\n| 1 | 0.371 |\n| pooled | 0.0364 |\n\n"
             "Paired difference sigmoid − softmax over 5 seeds: +0.064 points, 95%% CI [+0.022, +0.106].\n", acc);
    snprintf(p, sizeof p, "%s/results/heads/comparison.md", test_dir);
    write_text(p, t);
    snprintf(p, sizeof p, "%s/results/heads/PROVENANCE", test_dir);
    if (prov)
        write_text(p, "engine: train 0.2.0\nmachine: AMD EPYC, 2 CPUs online, 2 usable\ndate: 2026-12-07\n");
    else
        unlink(p);
}

/* Every figure a document quotes is one its cited result file holds: the
 * same figures pass, a drifted one (in the document or in a regenerated
 * result file) fails naming it, as do an uncited figure, a cited file with
 * no PROVENANCE, and an included table that differs from its file. */
static void figures_follow_the_results(void **state)
{
    (void)state;
    char doc[4096];
    const char *prose = "Sigmoid scores %s ± 0.05 against 99.15 ± 0.05, %s [+0.02, +0.11], "
                        "pooled p %s, %s s a run.\n";
    result_folder("99.21", 1);
    snprintf(doc, sizeof doc, "# r\n\n<!-- figures %s/results/heads/comparison.md -->\n%s<!-- /figures -->\n",
             test_dir, prose);
    char good[4096];
    snprintf(good, sizeof good, doc, "99.21", "+0.06", "0.036", "616");
    write_text(path_in(test_dir, "fig.md"), good);
    assert_int_equal(figures("fig.md", NULL), 0);

    /* a figure drifted in the document: the mean, the interval's sign, the
     * rounding of the p-value, a time */
    const char *drift[][4] = {{"99.12", "+0.06", "0.036", "616"},
                              {"99.21", "−0.06", "0.036", "616"},
                              {"99.21", "+0.06", "0.037", "616"},
                              {"99.21", "+0.06", "0.036", "59"}};
    const char *named[] = {"99.12 is in none of", "-0.06 is in none of", "0.037 is in none of", "the time 59"};
    for (int i = 0; i < 4; i++) {
        char bad[4096];
        snprintf(bad, sizeof bad, doc, drift[i][0], drift[i][1], drift[i][2], drift[i][3]);
        write_text(path_in(test_dir, "drift.md"), bad);
        assert_int_equal(figures("drift.md", NULL), 1);
        assert_non_null(strstr(err_of("drift.md"), "drift.md:4: "));
        assert_non_null(strstr(err_of("drift.md"), named[i]));
    }

    /* the result file regenerated with another figure: the document is stale */
    result_folder("99.18", 1);
    assert_int_equal(figures("fig.md", NULL), 1);
    assert_non_null(strstr(err_of("fig.md"), "99.21 is in none of"));

    /* a cited result folder that does not say which engine made it */
    result_folder("99.21", 0);
    assert_int_equal(figures("fig.md", NULL), 1);
    assert_non_null(strstr(err_of("fig.md"), "has no PROVENANCE"));
    result_folder("99.21", 1);

    /* the same sentence citing nothing fails; a figure that is no result of
     * ours is marked so and passes */
    char bare[4096];
    snprintf(bare, sizeof bare, prose, "99.21", "+0.06", "0.036", "616");
    write_text(path_in(test_dir, "bare.md"), bare);
    assert_int_equal(figures("bare.md", NULL), 1);
    assert_non_null(strstr(err_of("bare.md"), "cites no result file"));
    write_text(path_in(test_dir, "book.md"), "<!-- figures none: LeCun's table -->1.6% error plain.<!-- /figures -->\n");
    assert_int_equal(figures("book.md", NULL), 0);

    /* an accuracy quoted bare, without % or ±, is a result figure too */
    write_text(path_in(test_dir, "acc.md"), "Mean BCE scores 98.39 against softmax's 99.16.\n");
    assert_int_equal(figures("acc.md", NULL), 1);
    assert_non_null(strstr(err_of("acc.md"), "98.39"));

    /* a time, in digits or in words, says where it comes from: a result
     * file, or the machine and date it was measured on */
    write_text(path_in(test_dir, "time.md"), "The sweep takes six minutes on 2 cores.\n");
    assert_int_equal(figures("time.md", NULL), 1);
    assert_non_null(strstr(err_of("time.md"), "six minutes"));
    write_text(path_in(test_dir, "time.md"), "<!-- figures none: timed by hand -->The sweep took 59 s.<!-- /figures -->\n");
    assert_int_equal(figures("time.md", NULL), 1);
    assert_non_null(strstr(err_of("time.md"), "needs the machine and date"));
    write_text(path_in(test_dir, "time.md"),
               "<!-- figures none: timed by hand on 2026-12-07, a 2-core AMD EPYC -->The sweep took 59 s."
               "<!-- /figures -->\n");
    assert_int_equal(figures("time.md", NULL), 0);
}

/* A table included from a result file is the file's, line for line; when it
 * drifts, --update-figures rewrites it from the file. */
static void included_tables_follow_the_results(void **state)
{
    (void)state;
    result_folder("99.21", 1);
    char doc[4096];
    const char *block = "<!-- include %s/results/heads/comparison.md table 1 -->\n```text\n"
                        "| config | runs | test accuracy (%%) mean ± std | s/run |\n|---|---|---|---|\n"
                        "| softmax | 5 | 99.15 ± 0.05 | 616 |\n| sigmoid | 5 | %s ± 0.05 | 336 |\n```\n"
                        "<!-- /include -->\n";
    snprintf(doc, sizeof doc, block, test_dir, "99.21");
    write_text(path_in(test_dir, "inc.md"), doc);
    assert_int_equal(figures("inc.md", NULL), 0);
    snprintf(doc, sizeof doc, block, test_dir, "99.31");
    write_text(path_in(test_dir, "inc.md"), doc);
    assert_int_equal(figures("inc.md", NULL), 1);
    assert_non_null(strstr(err_of("inc.md"), "inc.md:1: the block differs from"));
    assert_int_equal(figures("inc.md", "--update-figures"), 0);
    assert_non_null(strstr(slurp_text(path_in(test_dir, "inc.md")), "| sigmoid | 5 | 99.21 ± 0.05 | 336 |\n```\n"));
    assert_int_equal(figures("inc.md", NULL), 0);
}

/* --help and the man pages can cite no result file, so they quote no result
 * figure: a --help that quotes one fails the check */
static void help_quotes_no_figure(void **state)
{
    (void)state;
    const char *t = getenv("TRAIN");   /* the binary under test (main) */
    char fake[3 * 4096], env[4200];
    snprintf(fake, sizeof fake,
             "#!/bin/sh\nif [ \"$1\" = --help ]; then \"%s\" --help; echo '  trains to 98.29%% in 3 s'; "
             "else exec \"%s\" \"$@\"; fi\n", t, t);
    write_text(path_in(test_dir, "fake-help"), fake);
    assert_int_equal(sh("chmod +x %s/fake-help", test_dir), 0);
    write_text(path_in(test_dir, "plain.md"), "# plain\n");
    snprintf(env, sizeof env, "TRAIN=%s/fake-help scripts/check-docs.sh --figures %s/plain.md 2> %s/plain.md.err",
             test_dir, test_dir, test_dir);
    assert_int_equal(sh("%s", env), 1);
    assert_non_null(strstr(err_of("plain.md"), "./train --help:"));
    assert_non_null(strstr(err_of("plain.md"), "98.29%"));
    assert_int_equal(figures("plain.md", NULL), 0);
}

/* In a copy of this checkout, every results/ folder is checked as the whole
 * documentation is: a folder no document cites, one made by another engine
 * and one with no PROVENANCE each fail, naming the folder. */
static void result_folders_are_today_s_and_cited(void **state)
{
    (void)state;
    assert_int_equal(sh("mkdir -p %s/repo && git ls-files -z --cached --others --exclude-standard | "
                        "xargs -0 sh -c 'for p; do [ -e \"$p\" ] && printf \"%%s\\0\" \"$p\"; done' _ | "
                        "tar --null --no-recursion -T - -cf - | tar -C %s/repo -xf -", test_dir, test_dir), 0);
#define REPO_CHECK "cd %s/repo && scripts/check-docs.sh --figures 2> %s/repo.err > /dev/null"
    assert_int_equal(sh(REPO_CHECK, test_dir, test_dir), 0);

    assert_int_equal(sh("cd %s/repo && mkdir results/orphan && cp results/quick/* results/orphan/", test_dir), 0);
    assert_int_equal(sh(REPO_CHECK, test_dir, test_dir), 1);
    assert_non_null(strstr(err_of("repo"), "results/orphan: no document cites it"));
    assert_int_equal(sh("rm -r %s/repo/results/orphan", test_dir), 0);

    assert_int_equal(sh("cd %s/repo && sed -i 's/^engine: train [^;]*;/engine: train 0.0.1;/' "
                        "results/quick/PROVENANCE", test_dir), 0);
    assert_int_equal(sh(REPO_CHECK, test_dir, test_dir), 1);
    assert_non_null(strstr(err_of("repo"), "results/quick/PROVENANCE: made by another engine"));

    assert_int_equal(sh("rm %s/repo/results/quick/PROVENANCE", test_dir), 0);
    assert_int_equal(sh(REPO_CHECK, test_dir, test_dir), 1);
    assert_non_null(strstr(err_of("repo"), "results/quick: no PROVENANCE"));
#undef REPO_CHECK
}

/* this checkout: README.md and the docs/ pages quote their result files, every
 * results/ folder says which engine and machine made it */
static void repository_figures(void **state)
{
    (void)state;
    int rc = sh("scripts/check-docs.sh --figures 2> %s/repo.err > /dev/null", test_dir);
    if (rc != 0)
        fail_msg("check-docs --figures exit %d:\n%s", rc, err_of("repo"));
}

/* the scripts that write a table write its PROVENANCE: engine, commit,
 * machine, date and the command, as the figures check requires */
static void scripts_write_provenance(void **state)
{
    (void)state;
    assert_int_equal(sh("MNIST_DIR=%s scripts/seed-runs.sh -s 1 -o %s/prov configs/default.json -- --hidden 8 "
                        "--epochs 1 > /dev/null 2>&1", test_dir, test_dir), 0);
    const char *p = slurp_text(path_in(test_dir, "prov/PROVENANCE"));
    assert_non_null(strstr(p, "command: scripts/seed-runs.sh -s 1 -o "));
    assert_non_null(strstr(p, "\nengine: train "));
    assert_non_null(strstr(p, "\nbinary: sha256:"));
    assert_non_null(strstr(p, "\ncommit: "));
    assert_non_null(strstr(p, "\nmachine: "));
    assert_non_null(strstr(p, "\ndate: 20"));
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
        cmocka_unit_test(figures_follow_the_results),
        cmocka_unit_test(included_tables_follow_the_results),
        cmocka_unit_test(help_quotes_no_figure),
        cmocka_unit_test(scripts_write_provenance),
        cmocka_unit_test(repository_figures),
        cmocka_unit_test(result_folders_are_today_s_and_cited),
        cmocka_unit_test(layers_point_one_way),
        cmocka_unit_test(documented_commands_run),
    };
    /* check-docs and the scripts run the binaries under test */
    if (export_test_bins())
        return 1;
    return cmocka_run_group_tests_name("docs", tests, setup_synthetic_dir, teardown_dir);
}
