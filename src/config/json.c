/* json: settings from JSON text (config files, --config) and the settings
 * stored in a model file, which are untrusted: a model file may set what
 * defines the model and its training, nothing else. */
#include "options.h"
#include "config_testing.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../nn/head.h"
#include "../util/readall.h"

static const char *json_type(const cJSON *v)
{
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsArray(v)) return "an array";
    return "an object";
}

/* A JSON number as an integer; rejects fractions and values a long long cannot hold. */
static int json_int(const cJSON *v, const struct option *o, double *out, const char *who,
                    struct err *e)
{
    double d = v->valuedouble;
    char text[64];
    snprintf(text, sizeof text, "%.17g", d);
    if (!isfinite(d))
        return err_set(e, ERR_USAGE, "%s: %s is not finite", who, text);
    if (d != floor(d))
        return err_set(e, ERR_USAGE, "%s: %s is not an integer", who, text);
    if (!(d >= o->lo && d <= o->hi))
        return option_out_of_range(o, who, text, e);
    *out = d;
    return 0;
}

static int set_json_list(struct config *c, const struct option *o, const cJSON *v,
                         const char *who, struct err *e)
{
    struct width_list *l = option_field(c, o);
    int n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, v) {
        double d;
        if (!cJSON_IsNumber(it))
            return err_set(e, ERR_USAGE, "%s: expected layer widths, got %s", who, json_type(it));
        if (json_int(it, o, &d, who, e))
            return e->code;
        if (n == CONFIG_MAX_HIDDEN)
            return err_set(e, ERR_USAGE, "%s: more than %d hidden layers", who, CONFIG_MAX_HIDDEN);
        l->v[n++] = (int)d;
    }
    l->n = n;
    return 0;
}

static int set_json(struct config *c, const struct option *o, const cJSON *v, const char *who,
                    struct err *e)
{
    double d;
    char text[64];
    switch (o->type) {
    case T_INT:
        if (!cJSON_IsNumber(v))
            break;
        if (json_int(v, o, &d, who, e))
            return e->code;
        snprintf(text, sizeof text, "%.0f", d);
        return option_set_int(c, o, d, text, who, e);
    case T_REAL:
        if (!cJSON_IsNumber(v))
            break;
        snprintf(text, sizeof text, "%.17g", v->valuedouble);
        if (!isfinite(v->valuedouble))
            return err_set(e, ERR_USAGE, "%s: %s is not finite", who, text);
        return option_set_real(c, o, v->valuedouble, text, who, e);
    case T_BOOL:
        if (!cJSON_IsBool(v))
            break;
        *(bool *)option_field(c, o) = cJSON_IsTrue(v);
        return 0;
    case T_LIST:
        if (cJSON_IsArray(v))
            return set_json_list(c, o, v, who, e);
        /* fall through - "800,800" and "none" as strings */
    case T_ENUM:
    case T_PATH:
    case T_AUGMENT:
        if (!cJSON_IsString(v))
            break;
        if (!*v->valuestring)
            return err_set(e, ERR_USAGE, "%s: empty string", who);
        return option_set_text(c, o, v->valuestring, who, e);
    }
    static const char *want[] = {"an integer", "a number", "a string", "true or false",
                                 "a string", "an array of widths", "a string"};
    return err_set(e, ERR_USAGE, "%s: expected %s, got %s", who, want[o->type], json_type(v));
}

/* ---- config text and files ---- */

static void line_col(const char *text, const char *at, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (const char *p = text; p < at && *p; p++) {
        if (*p == '\n') {
            ++*line;
            *col = 1;
        } else {
            ++*col;
        }
    }
}

/* Deeper than any real config: reject before cJSON recurses into it. An
 * escaped NUL (\u0000) is refused too: cJSON ends its C string there, so
 * "a\u0000b.bin" would quietly be read as "a". */
#define CONFIG_MAX_DEPTH 4

static int check_depth(const char *t, size_t len, const char *name, struct err *e)
{
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char ch = t[i];
        if (in_string) {
            if (ch == '\\' && len - i >= 6 && !memcmp(t + i + 1, "u0000", 5)) {
                int line, col;
                line_col(t, t + i, &line, &col);
                return err_set(e, ERR_USAGE, "%s:%d:%d: a string holds \\u0000, a NUL "
                               "character no key or value may contain", name, line, col);
            }
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_string = false;
        } else if (ch == '"') {
            in_string = true;
        } else if (ch == '{' || ch == '[') {
            if (++depth > CONFIG_MAX_DEPTH) {
                int line, col;
                line_col(t, t + i, &line, &col);
                return err_set(e, ERR_USAGE, "%s:%d:%d: nested deeper than %d levels", name,
                               line, col, CONFIG_MAX_DEPTH);
            }
        } else if (ch == '}' || ch == ']') {
            depth--;
        }
    }
    return 0;
}

static int apply_object(struct config *c, const cJSON *root, const char *name, struct err *e)
{
    char who[CONFIG_PATH_MAX + 64];
    for (const cJSON *it = root->child; it; it = it->next) {
        for (const cJSON *prev = root->child; prev != it; prev = prev->next)
            if (!strcmp(prev->string, it->string))
                return err_set(e, ERR_USAGE, "%s: key \"%s\" appears twice", name, it->string);
        const struct option *o = option_find(it->string);
        if (!o) {
            const char *near = option_nearest_key(it->string);
            if (near)
                return err_set(e, ERR_USAGE, "%s: unknown key \"%s\" (did you mean \"%s\"?)",
                               name, it->string, near);
            return err_set(e, ERR_USAGE, "%s: unknown key \"%s\"", name, it->string);
        }
        snprintf(who, sizeof who, "%s: %s", name, o->key);
        if (set_json(c, o, it, who, e))
            return e->code;
    }
    return 0;
}

int config_load_text(struct config *c, const char *text, size_t len, const char *name,
                     struct err *e)
{
    if (memchr(text, 0, len))
        return err_set(e, ERR_USAGE, "%s: contains a NUL byte; not a JSON text file", name);
    if (check_depth(text, len, name, e))
        return e->code;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!root) {
        int line, col;
        line_col(text, end ? end : text, &line, &col);
        return err_set(e, ERR_USAGE, "%s:%d:%d: JSON syntax error", name, line, col);
    }
    for (const char *p = end; p < text + len; p++)
        if (!strchr(" \t\r\n", *p)) {
            int line, col;
            line_col(text, p, &line, &col);
            cJSON_Delete(root);
            return err_set(e, ERR_USAGE, "%s:%d:%d: unexpected text after the JSON object", name,
                           line, col);
        }
    int rc = cJSON_IsObject(root)
                 ? apply_object(c, root, name, e)
                 : err_set(e, ERR_USAGE, "%s: top level must be a JSON object, not %s", name,
                           json_type(root));
    cJSON_Delete(root);
    return rc;
}

/* ---- settings stored in a model file: untrusted ---- */

/* Settings that older model files hold under names this program no longer
 * has, mapped to today's, here alone. Before the `loss` key, bce_reduction
 * "mean" spelt loss bce-mean for a sigmoid head; "sum" is the default loss. */
static void map_old_settings(cJSON *root)
{
    cJSON *red = cJSON_DetachItemFromObjectCaseSensitive(root, "bce_reduction");
    const cJSON *head = cJSON_GetObjectItemCaseSensitive(root, "head");
    const cJSON *loss = cJSON_GetObjectItemCaseSensitive(root, "loss");
    if (cJSON_IsString(red) && !strcmp(red->valuestring, "mean") && cJSON_IsString(head) &&
        !strcmp(head->valuestring, "sigmoid") &&
        (!loss || (cJSON_IsString(loss) && !strcmp(loss->valuestring, "auto")))) {
        cJSON_DeleteItemFromObjectCaseSensitive(root, "loss");
        cJSON_AddStringToObject(root, "loss", "bce-mean");
    }
    cJSON_Delete(red);
}

/* A model file may set what defines the model and its training, never where
 * anything is read or written nor what is printed: those keys are refused by
 * name. Keys the table marks `carried` apply only when resuming. */
static int check_stored_keys(cJSON *root, const char *name, bool resuming, struct err *e)
{
    for (cJSON *it = root->child, *next; it; it = next) {
        next = it->next;
        const struct option *o = option_find(it->string);
        if (!o)
            continue;   /* apply_object names unknown keys */
        if (o->local && !o->carried)
            return err_set(e, ERR_DATA,
                           "%s: its stored settings hold \"%s\", which a model file may not set "
                           "(only what defines the model and its training)", name, o->key);
        if (o->carried && !resuming)
            cJSON_Delete(cJSON_DetachItemViaPointer(root, it));
    }
    return 0;
}

int config_load_stored(struct config *c, const char *text, size_t len, const char *name,
                       bool resuming, struct err *e)
{
    cJSON *root = NULL;
    int rc = memchr(text, 0, len) ? err_set(e, ERR_DATA, "%s: stored settings hold a NUL byte", name)
                                  : check_depth(text, len, name, e);
    if (!rc) {
        const char *end = NULL;
        root = cJSON_ParseWithLengthOpts(text, len, &end, false);
        while (root && end < text + len && strchr(" \t\r\n", *end))
            end++;
        if (!cJSON_IsObject(root) || end != text + len)
            rc = err_set(e, ERR_DATA, "%s: stored settings are not one JSON object", name);
    }
    if (!rc)
        map_old_settings(root);
    if (!rc)
        rc = check_stored_keys(root, name, resuming, e);
    if (!rc)
        rc = apply_object(c, root, name, e);
    cJSON_Delete(root);
    /* a bad value in a model file is bad data, not a usage error */
    if (rc)
        e->code = rc = ERR_DATA;
    return rc;
}

/* the loss as the head will use it: "auto" spells the same models as the
 * loss it resolves to (a model file stores the resolved loss) */
void option_fold_loss(struct config *c)
{
    const char *why;
    int loss = head_resolve_loss((enum head_kind)c->head, (enum head_loss)c->loss, &why);
    if (loss >= 0)
        c->loss = loss;
}

void config_apply_stored(struct config *c, const struct config *stored, bool resuming)
{
    char keep[sizeof *c];
    memcpy(keep, c, sizeof *c);
    *c = *stored;
    for (size_t i = 0; !resuming && i < option_count; i++)
        if (option_table[i].carried)
            option_copy(c, (const struct config *)keep, &option_table[i]);
}

const char *config_model_differs(const struct config *a0, const struct config *b0)
{
    struct config *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    if (!a || !b) {
        free(a);
        free(b);
        return "loss";   /* cannot compare: refuse rather than pass */
    }
    *a = *a0;
    *b = *b0;
    option_fold_loss(a);
    option_fold_loss(b);
    const char *key = NULL;
    for (size_t i = 0; i < option_count && !key; i++)
        if (option_table[i].kind && !option_equal(a, b, &option_table[i]))
            key = option_table[i].key;
    free(a);
    free(b);
    return key;
}

#define CONFIG_MAX_BYTES (1 << 20)

/* The whole text of a config file into *text (malloc'd, n bytes), read once:
 * a pipe (--config <(...), /dev/stdin) cannot be read twice. */
int json_read_file(const char *path, char **text, size_t *n, struct err *e)
{
    /* a pipe is welcome, a directory is no input at all */
    int rc = readall(path, CONFIG_MAX_BYTES, 0, "a config file", text, n, e);
    if (rc == ERR_DATA)
        e->code = rc = ERR_USAGE;   /* too large: a file given where a config was asked for */
    if (!rc && *n == 0) {
        free(*text);
        *text = NULL;
        rc = err_set(e, ERR_USAGE, "%s: file is empty", path);
    }
    return rc;
}

int config_load_file(struct config *c, const char *path, struct err *e)
{
    char *text;
    size_t n;
    int rc = json_read_file(path, &text, &n, e);
    if (!rc)
        rc = config_load_text(c, text, n, path, e);
    free(text);
    return rc;
}
