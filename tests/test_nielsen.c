/* configs/nielsen: one config per row of Nielsen's MLP table (issue 13). Each
 * parses, holds the settings its row names, is listed in the README beside it,
 * and trains a short run (2000 images, 1 epoch) clearly above chance on the real
 * MNIST when it is there ($MNIST_DIR, else data/mnist). */
#include <cjson/cJSON.h>
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "support/support.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("%s: cannot open", path);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return strdup(buf);
}

/* what every row shares: his split, batch 10, plain SGD at a constant rate,
 * sigmoid hidden units, nothing else */
static void check_common(const cJSON *c, const char *path)
{
    const struct { const char *key, *text; double num; } want[] = {
        {"optimizer", "sgd", 0}, {"lr_schedule", "constant", 0}, {"activation", "sigmoid", 0},
        {"augment", "none", 0}, {"batch_size", NULL, 10}, {"val", NULL, 10000},
        {"dropout", NULL, 0},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, want[i].key);
        if (want[i].text ? !cJSON_IsString(v) || strcmp(v->valuestring, want[i].text)
                         : !cJSON_IsNumber(v) || v->valuedouble != want[i].num)
            fail_msg("%s: %s is not %s", path, want[i].key, want[i].text ? want[i].text : "as the book");
    }
}

static void configs_match_the_table(void **state)
{
    (void)state;
    glob_t g;
    assert_int_equal(glob("configs/nielsen/*.json", 0, NULL, &g), 0);
    assert_int_equal(g.gl_pathc, 7);   /* the seven rows of the table */
    char *readme = slurp("configs/nielsen/README.md");
    int quadratic = 0, l2 = 0, softmax = 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char *text = slurp(g.gl_pathv[i]);
        cJSON *c = cJSON_Parse(text);
        if (!c)
            fail_msg("%s: not JSON", g.gl_pathv[i]);
        check_common(c, g.gl_pathv[i]);
        const char *base = strrchr(g.gl_pathv[i], '/') + 1;
        if (!strstr(readme, base))
            fail_msg("configs/nielsen/README.md does not list %s", base);
        const char *loss = cJSON_GetObjectItem(c, "loss")->valuestring;
        double lr = cJSON_GetObjectItem(c, "lr")->valuedouble;
        double wd = cJSON_GetObjectItem(c, "weight_decay")->valuedouble;
        quadratic += !strcmp(loss, "squared") && lr == 3.0;
        l2 += wd == 5.0 / 50000;   /* lambda 5 over his n = 50,000 training images */
        softmax += !strcmp(loss, "cce");
        cJSON_Delete(c);
        free(text);
    }
    assert_int_equal(quadratic, 2);
    assert_int_equal(l2, 2);
    assert_int_equal(softmax, 1);
    free(readme);
    globfree(&g);
}

/* configs/nielsen/variants: each is one row of the table with one thing
 * changed, so that a comparison with its row measures that thing alone
 * (docs/sigmoid-vs-softmax.md): exactly the keys named here differ */
static void variants_change_one_thing(void **state)
{
    (void)state;
    const struct { const char *variant, *row, *keys[3], *values[3]; } v[] = {
        {"configs/nielsen/variants/ch3-100-ce-scaled.json", "configs/nielsen/ch3-100-ce.json",
         {"init", NULL}, {"normal-scaled", NULL}},
        {"configs/nielsen/variants/ch6-100-sigmoid.json", "configs/nielsen/ch6-100-softmax.json",
         {"head", "loss", NULL}, {"sigmoid", "bce", NULL}},
    };
    glob_t g;
    assert_int_equal(glob("configs/nielsen/variants/*.json", 0, NULL, &g), 0);
    assert_int_equal(g.gl_pathc, sizeof v / sizeof v[0]);
    globfree(&g);
    char *readme = slurp("configs/nielsen/README.md");
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char *ta = slurp(v[i].variant), *tb = slurp(v[i].row);
        cJSON *a = cJSON_Parse(ta), *b = cJSON_Parse(tb);
        if (!a || !b)
            fail_msg("%s or %s: not JSON", v[i].variant, v[i].row);
        if (!strstr(readme, strrchr(v[i].variant, '/') + 1))
            fail_msg("configs/nielsen/README.md does not list %s", v[i].variant);
        assert_int_equal(cJSON_GetArraySize(a), cJSON_GetArraySize(b));
        int changed = 0;
        for (const cJSON *x = a->child; x; x = x->next) {
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
            if (!y)
                fail_msg("%s: %s is not in %s", v[i].variant, x->string, v[i].row);
            int k = 0;
            while (v[i].keys[k] && strcmp(v[i].keys[k], x->string))
                k++;
            if (v[i].keys[k]) {
                if (!cJSON_IsString(x) || strcmp(x->valuestring, v[i].values[k]))
                    fail_msg("%s: %s is not %s", v[i].variant, x->string, v[i].values[k]);
                changed += !cJSON_Compare(x, y, 1);
            } else if (!cJSON_Compare(x, y, 1)) {
                fail_msg("%s: %s differs from %s", v[i].variant, x->string, v[i].row);
            }
        }
        int want = 0;
        while (v[i].keys[want])
            want++;
        assert_int_equal(changed, want);
        cJSON_Delete(a);
        cJSON_Delete(b);
        free(ta);
        free(tb);
    }
    free(readme);
}

static void each_config_trains(void **state)
{
    (void)state;
    const char *dir = mnist_subset(2000);
    if (!dir)
        skip();
    glob_t g;
    assert_int_equal(glob("configs/nielsen/*.json", 0, NULL, &g), 0);
    assert_int_equal(glob("configs/nielsen/variants/*.json", GLOB_APPEND, NULL, &g), 0);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *args[] = {"--config", g.gl_pathv[i], "--data-dir", dir, "--limit-train",
                              "2000", "--val", "500", "--limit-test", "1000", "--epochs", "1",
                              "--json", NULL};
        char *out, *err;
        int rc = run_train(args, &out, &err);
        if (rc != 0)
            fail_msg("%s: exit %d: %s", g.gl_pathv[i], rc, err);
        cJSON *l[3];
        assert_int_equal(json_lines(out, l, 3), 2);
        double acc = json_num(l[1], "test_accuracy");
        print_message("%s: %.4f after 1 epoch on 1500 images\n", g.gl_pathv[i], acc);
        /* chance is 0.10; these runs reach 0.33 (quadratic, N(0,1)) to 0.68 */
        if (!(acc > 0.25))
            fail_msg("%s: test accuracy %.4f", g.gl_pathv[i], acc);
        /* the loss the file names is the loss trained with */
        char *text = slurp(g.gl_pathv[i]);
        cJSON *c = cJSON_Parse(text);
        const cJSON *eff = cJSON_GetObjectItem(l[1], "config");
        assert_string_equal(cJSON_GetObjectItem(eff, "loss")->valuestring,
                            cJSON_GetObjectItem(c, "loss")->valuestring);
        assert_string_equal(cJSON_GetObjectItem(eff, "init")->valuestring,
                            cJSON_GetObjectItem(c, "init")->valuestring);
        cJSON_Delete(c);
        free(text);
        for (int k = 0; k < 2; k++)
            cJSON_Delete(l[k]);
        free(out);
        free(err);
    }
    globfree(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(configs_match_the_table),
        cmocka_unit_test(variants_change_one_thing),
        cmocka_unit_test(each_config_trains),
    };
    return cmocka_run_group_tests_name("nielsen", tests, NULL, NULL);
}
