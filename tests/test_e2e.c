/* End to end on the real MNIST, when it is there ($MNIST_DIR, else data/mnist):
 * a short run of each head must clearly learn, and a run must repeat exactly. */
#include <cjson/cJSON.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "support/support.h"

static const char *mnist_dir(void)
{
    const char *env = getenv("MNIST_DIR");
    const char *d = env && *env ? env : "data/mnist";
    struct stat st;
    char p[1024];
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte.gz", d);
    if (stat(p, &st) == 0)
        return d;
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte", d);
    return stat(p, &st) == 0 ? d : NULL;
}

/* 5000 training images, 2 epochs: about a second; returns stdout */
static char *short_run(const char *dir, const char *head, const char *seed)
{
    const char *args[] = {"--data-dir", dir, "--head", head, "--seed", seed, "--limit-train",
                          "5000", "--limit-test", "2000", "--epochs", "2", "--json", NULL};
    char *out, *err;
    int rc = run_train(args, &out, &err);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err);
    free(err);
    return out;
}

static void both_heads_learn(void **state)
{
    (void)state;
    const char *dir = mnist_dir();
    if (!dir)
        skip();
    const char *heads[] = {"softmax", "sigmoid"};
    for (int h = 0; h < 2; h++) {
        char *out = short_run(dir, heads[h], "1");
        cJSON *l[4];
        assert_int_equal(json_lines(out, l, 4), 3);
        double acc = json_num(l[2], "test_accuracy");
        print_message("%s: test accuracy %.4f after 2 epochs on 5000 images\n", heads[h], acc);
        /* chance is 0.10; a broken gradient or loader lands far below this */
        assert_true(acc > 0.88);
        assert_int_equal(json_num(l[2], "test_total"), 2000);
        assert_true(json_num(l[1], "train_loss") < json_num(l[0], "train_loss"));
        for (int i = 0; i < 3; i++)
            cJSON_Delete(l[i]);
        free(out);
    }
}

static void same_seed_same_output(void **state)
{
    (void)state;
    const char *dir = mnist_dir();
    if (!dir)
        skip();
    char *a = json_without_times(short_run(dir, "sigmoid", "3"));
    char *b = json_without_times(short_run(dir, "sigmoid", "3"));
    assert_string_equal(a, b);
    free(a), free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(both_heads_learn),
        cmocka_unit_test(same_seed_same_output),
    };
    return cmocka_run_group_tests_name("e2e", tests, NULL, NULL);
}
