#include "report.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <string.h>

static int check_write(const struct reporter *r)
{
    if (fflush(r->out) == 0 && !ferror(r->out))
        return 0;
    return err_set(r->err, ERR_IO, "stdout: %s", strerror(errno ? errno : EIO));
}

/* one JSON line; takes ownership of obj */
static int emit_json(const struct reporter *r, cJSON *obj)
{
    char *s = obj ? cJSON_PrintUnformatted(obj) : NULL;
    cJSON_Delete(obj);
    if (!s)
        return err_set(r->err, ERR_SOFTWARE, "out of memory writing JSON");
    fputs(s, r->out);
    fputc('\n', r->out);
    cJSON_free(s);
    return check_write(r);
}

static double round_to(double x, double unit) { return round(x / unit) * unit; }

static void print_network(FILE *f, const struct mlp *m)
{
    fprintf(f, "network:  ");
    for (int l = 0; l <= m->L; l++)
        fprintf(f, "%s%d", l ? "-" : "", m->size[l]);
    fprintf(f, " (%s hidden, %s head), %zu parameters\n",
            m->L > 1 ? config_enum_name("activation", m->spec.act) : "no",
            config_enum_name("head", m->spec.head.kind), m->n_params);
}

/* every setting as key=value, wrapped: the header reproduces the run */
static void print_settings(FILE *f, const struct config *c)
{
    cJSON *j = config_to_json(c);
    int col = 0;
    for (cJSON *it = j ? j->child : NULL; it; it = it->next) {
        char *v = cJSON_IsString(it) ? NULL : cJSON_PrintUnformatted(it);
        char item[CONFIG_PATH_MAX + 64];
        int n = snprintf(item, sizeof item, "%s=%s", it->string, v ? v : it->valuestring);
        cJSON_free(v);
        if (col && col + 1 + n > 88) {
            fputc('\n', f);
            col = 0;
        }
        col += fprintf(f, "%s%s", col ? " " : "settings: ", item);
    }
    if (col)
        fputc('\n', f);
    cJSON_Delete(j);
}

void report_header(const struct reporter *r, const struct mlp *m, const struct dataset *train,
                   const struct dataset *val, const struct dataset *test, double load_seconds)
{
    if (r->cfg->json)
        return;
    print_settings(r->out, r->cfg);
    print_network(r->out, m);
    fprintf(r->out, "data:     %u training, %u validation, %u test images of %ux%u (loaded in %.2f s)\n",
            train->n, val->n, test->n, train->rows, train->cols, load_seconds);
    if (!r->cfg->quiet)
        fprintf(r->out, "%5s %11s %10s%s %10s %9s %11s\n", "epoch", "train_loss", "train_acc",
                r->cfg->val ? "    val_acc" : "", "test_acc", "seconds", "samples/s");
    check_write(r);
}

static cJSON *epoch_json(const struct epoch_stats *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "epoch");
    cJSON_AddNumberToObject(o, "epoch", s->epoch);
    cJSON_AddNumberToObject(o, "lr", s->lr);
    cJSON_AddNumberToObject(o, "train_loss", s->train_loss);
    cJSON_AddNumberToObject(o, "train_accuracy", s->train_accuracy);
    if (s->val.total)
        cJSON_AddNumberToObject(o, "val_accuracy", (double)s->val.correct / s->val.total);
    cJSON_AddNumberToObject(o, "test_accuracy", (double)s->test.correct / s->test.total);
    cJSON_AddNumberToObject(o, "test_loss", s->test.loss);
    cJSON_AddNumberToObject(o, "seconds", round_to(s->seconds, 1e-6));
    cJSON_AddNumberToObject(o, "samples_per_second", round_to(s->samples_per_second, 0.1));
    return o;
}

int report_epoch(const struct epoch_stats *s, void *reporter)
{
    const struct reporter *r = reporter;
    if (r->cfg->json)
        return emit_json(r, epoch_json(s));
    if (r->cfg->quiet)
        return 0;
    char val[16] = "";
    if (s->val.total)
        snprintf(val, sizeof val, " %9.2f%%", 100.0 * s->val.correct / s->val.total);
    fprintf(r->out, "%5d %11.4f %9.2f%%%s %9.2f%% %9.2f %11.0f\n", s->epoch, s->train_loss,
            100 * s->train_accuracy, val, 100.0 * s->test.correct / s->test.total, s->seconds,
            s->samples_per_second);
    return check_write(r);
}

int report_summary(const struct reporter *r, const struct run_summary *s)
{
    double acc = s->test.total ? (double)s->test.correct / s->test.total : 0;
    if (!r->cfg->json) {
        fprintf(r->out, "test accuracy: %.2f%% (%lld/%lld)\n", 100 * acc, s->test.correct,
                s->test.total);
        return check_write(r);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "summary");
    cJSON_AddItemToObject(o, "config", config_to_json(r->cfg));
    cJSON_AddNumberToObject(o, "epochs", s->epochs);
    cJSON_AddNumberToObject(o, "test_accuracy", acc);
    cJSON_AddNumberToObject(o, "test_correct", (double)s->test.correct);
    cJSON_AddNumberToObject(o, "test_total", (double)s->test.total);
    cJSON_AddNumberToObject(o, "test_loss", s->test.loss);
    cJSON_AddNumberToObject(o, "train_seconds", round_to(s->train_seconds, 1e-6));
    cJSON_AddNumberToObject(o, "load_seconds", round_to(s->load_seconds, 1e-6));
    cJSON_AddNumberToObject(o, "seconds", round_to(s->seconds, 1e-6));
    return emit_json(r, o);
}
