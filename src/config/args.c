/* args: the command line. Flags are scanned into a list first, then applied
 * over the defaults, a model's stored settings (--resume, --load) and the
 * config file, in that order; the flag names come from the option table. */
#include "options.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- command line ---- */

struct flag {
    const struct option *opt;   /* NULL for --config and --print-config */
    const char *name;           /* as typed, for messages: "--lr" */
    const char *value;
};

/* An argv word as shown in a message: at most 64 bytes, control bytes as '?',
 * so a hostile word cannot run on or break the one-line message. */
static const char *shown_word(char *buf, size_t n, const char *w, size_t len)
{
    size_t max = n - 4, k = 0;
    if (!len)
        return "''";
    for (; k < len && k < max; k++)
        buf[k] = (unsigned char)w[k] < 0x20 || w[k] == 0x7f ? '?' : w[k];
    buf[k] = 0;
    if (k < len)
        strcat(buf, "...");
    return buf;
}

/* The option a flag name spells ("batch-size": the text after "--" up to
 * '=' or the end, not NUL-terminated), or NULL. Flags are spelled with dashes
 * only; the name must match a key in full, never a prefix. */
static const struct option *flag_option(const char *name, size_t len)
{
    for (size_t i = 0; i < option_count; i++) {
        const char *k = option_table[i].key;
        size_t j = 0;
        while (j < len && k[j] && (k[j] == '_' ? name[j] == '-' : name[j] == k[j]))
            j++;
        if (j == len && !k[j])
            return &option_table[i];
    }
    return NULL;
}

/* "--" + key with '_' -> '-' */
static void key_to_flag(char *flag, size_t n, const char *key)
{
    snprintf(flag, n, "--%s", key);
    for (char *p = flag; *p; p++)
        if (*p == '_')
            *p = '-';
}

/* name (len bytes after "--") is no option: say so, with the nearest one */
static int unknown_flag(const char *name, size_t len, struct err *e)
{
    char buf[72], key[72], flag[72];
    const char *shown = shown_word(buf, sizeof buf, name, len);
    size_t k = 0;
    for (; k < len && k < sizeof key - 1; k++)
        key[k] = name[k] == '-' ? '_' : (char)tolower((unsigned char)name[k]);
    key[k] = 0;
    const char *near = k < len ? NULL : option_nearest_key(key);
    if (!near)
        return err_set(e, ERR_USAGE, "--%s: unknown option", shown);
    key_to_flag(flag, sizeof flag, near);
    return err_set(e, ERR_USAGE, "--%s: unknown option (did you mean %s?)", shown, flag);
}

/* A word where an option was expected that does not start with "--": a bare
 * word, "-", "-x", "++epochs", "". A word that is a flag without its dashes
 * gets that flag suggested. */
static int not_an_option(const char *arg, const struct flag *prev, struct err *e)
{
    char buf[72], flag[72];
    const char *shown = shown_word(buf, sizeof buf, arg, strlen(arg));
    const char *name = arg + strspn(arg, "-+");
    const struct option *o = *name ? flag_option(name, strcspn(name, "=")) : NULL;
    if (prev && prev->opt && prev->opt->type == T_BOOL && !strchr(prev->name, '=') &&
        (!strcmp(arg, "true") || !strcmp(arg, "false")))
        return err_set(e, ERR_USAGE, "%s: unexpected argument (a boolean takes %.64s=%s)",
                       shown, prev->name, arg);
    if (o) {
        key_to_flag(flag, sizeof flag, o->key);
        return err_set(e, ERR_USAGE, "%s: unexpected argument (options start with --: did you "
                       "mean %s?)", shown, flag);
    }
    if (arg[0] == '-' && arg[1] && arg[1] != '-')
        return err_set(e, ERR_USAGE, "%s: unknown option (options start with --)", shown);
    return err_set(e, ERR_USAGE, "%s: unexpected argument (train takes only options, each "
                   "starting with --)", shown);
}

static bool is_word(const char *name, size_t len, const char *word)
{
    return strlen(word) == len && !memcmp(name, word, len);
}

/* The value of flag f at argv[*i]: after '=', or the next word. A next word
 * that starts with "--" is taken for a forgotten value, not as one: a value
 * that really starts with "--" is written --flag=--value. */
static int flag_value(struct flag *f, const char *eq, int argc, char **argv, int *i,
                      const char *shown, struct err *e)
{
    if (!eq && *i + 1 >= argc)
        return err_set(e, ERR_USAGE, "%s: missing value", shown);
    const char *next = eq ? eq + 1 : argv[*i + 1];
    if (!eq && !strncmp(next, "--", 2)) {
        char nshown[72];
        return err_set(e, ERR_USAGE, "%s: missing value before %s (write %s=VALUE for a value "
                       "that starts with --)", shown,
                       shown_word(nshown, sizeof nshown, next, strcspn(next, "=")), shown);
    }
    if (!*next)
        return err_set(e, ERR_USAGE, "%s: empty value", shown);
    f->value = next;
    *i += !eq;
    return 0;
}

/* Read argv into flags without applying them; stops at --help or --version.
 * Every word is an option "--name", "--name=value" or "--name value", or the
 * value of the option before it; anything else is a usage error. */
static int scan_args(int argc, char **argv, struct flag *flags, int *n, const char **config_path,
                     enum config_action *action, struct err *e)
{
    *n = 0;
    const struct flag *prev = NULL;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "-h")) {
            *action = CONFIG_HELP;
            return 0;
        }
        if (strncmp(arg, "--", 2))
            return not_an_option(arg, prev, e);
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        char shown[72] = "--";
        shown_word(shown + 2, sizeof shown - 2, name, len);
        if (!len)
            return err_set(e, ERR_USAGE, "%s: unexpected argument (train takes only options, "
                           "each starting with -- and a name)", shown_word(shown, sizeof shown,
                                                                      arg, strlen(arg)));
        bool help = is_word(name, len, "help"), version = is_word(name, len, "version");
        if ((help || version || is_word(name, len, "print-config")) && eq)
            return err_set(e, ERR_USAGE, "%s: takes no value", shown);
        if (help || version) {
            *action = help ? CONFIG_HELP : CONFIG_VERSION;
            return 0;
        }
        if (is_word(name, len, "print-config")) {
            *action = CONFIG_PRINT;
            continue;
        }
        bool is_config = is_word(name, len, "config"), negated = false;
        const struct option *o = is_config ? NULL : flag_option(name, len);
        if (!o && !is_config && len > 3 && !strncmp(name, "no-", 3)) {
            o = flag_option(name + 3, len - 3);
            if (o && o->type != T_BOOL) {
                char flag[72];
                key_to_flag(flag, sizeof flag, o->key);
                return err_set(e, ERR_USAGE, "%s: unknown option (%s is not a boolean: --no- "
                               "only turns booleans off)", shown, flag);
            }
            negated = o != NULL;
        }
        if (!o && !is_config)
            return unknown_flag(name, len, e);
        struct flag *f = &flags[(*n)++];
        f->opt = o;
        f->name = arg;
        if (o && o->type == T_BOOL && !eq)
            f->value = negated ? "false" : "true";
        else if (negated)
            return err_set(e, ERR_USAGE, "%s: takes no value", shown);
        else if (flag_value(f, eq, argc, argv, &i, shown, e))
            return e->code;
        prev = f;
        if (is_config) {
            if (*config_path)
                return err_set(e, ERR_USAGE, "--config: given twice");
            *config_path = f->value;
            (*n)--;
            prev = NULL;
        }
    }
    return 0;
}

/* the value of the last flag for key, or NULL */
static const char *last_flag(const struct flag *flags, int n, const char *key)
{
    const char *v = NULL;
    for (int i = 0; i < n; i++)
        if (flags[i].opt && !strcmp(flags[i].opt->key, key))
            v = flags[i].value;
    return v;
}

/* The model named by --resume or --load: on the command line, else in the
 * --config file (a config file that names a model means what the same flag
 * would: the model's settings go under the file's). */
static int find_model(const struct flag *flags, int n, const char *config_path,
                      const char *config_text, size_t config_len, char *path, bool *resuming,
                      struct err *e)
{
    const char *r = last_flag(flags, n, "resume"), *l = last_flag(flags, n, "load");
    path[0] = 0;
    *resuming = r != NULL;
    if (r || l) {
        snprintf(path, CONFIG_PATH_MAX, "%s", r ? r : l);
        return 0;
    }
    if (!config_path)
        return 0;
    struct config *file = malloc(sizeof *file);
    if (!file)
        return err_set(e, ERR_SOFTWARE, "out of memory");
    config_defaults(file);
    int rc = config_load_text(file, config_text, config_len, config_path, e);
    if (!rc) {
        *resuming = *file->resume != 0;
        snprintf(path, CONFIG_PATH_MAX, "%s", *resuming ? file->resume : file->load);
    }
    free(file);
    return rc;
}

/* --resume and --load put the model's stored settings under everything else */
static int load_base(struct config *c, const char *path, bool resuming,
                     const struct config_base *base, struct err *e)
{
    const struct config *stored;
    if (base->read(base->ctx, path, &stored, e))
        return e->code;
    config_apply_stored(c, stored, resuming);
    return 0;
}

/* A resumed run goes on with the random streams its checkpoint holds: a seed
 * (any setting that acts only at the start) other than the stored one would
 * be reported and saved without having run. */
static int same_start(const struct config *stored, const struct config *c, const char *path,
                      struct err *e)
{
    for (size_t i = 0; i < option_count; i++) {
        const struct option *o = &option_table[i];
        if (!o->started || option_equal(stored, c, o))
            continue;
        cJSON *a = option_value_json(stored, o), *b = option_value_json(c, o);
        char *sa = a ? cJSON_PrintUnformatted(a) : NULL, *sb = b ? cJSON_PrintUnformatted(b) : NULL;
        err_set(e, ERR_USAGE, "%s: %s goes on with %s %s's random streams, not %s's (to start "
                "from its weights with another %s, use --load)", o->key, path, o->key,
                sa ? sa : "?", sb ? sb : "?", o->key);
        cJSON_free(sa);
        cJSON_free(sb);
        cJSON_Delete(a);
        cJSON_Delete(b);
        return e->code;
    }
    return 0;
}

/* what the loaded model is may not change after its settings are applied:
 * neither a --config file nor a flag turns it into another kind of model */
static int same_model(const struct config *stored, const struct config *c, const char *path,
                      bool resuming, struct err *e)
{
    const char *key = config_model_differs(stored, c);
    if (!key)
        return resuming ? same_start(stored, c, path, e) : 0;
    const struct option *o = option_find(key);
    /* the loss as resolved (auto against the loss it means) */
    struct config *fs = malloc(sizeof *fs), *fc = malloc(sizeof *fc);
    if (fs && fc) {
        *fs = *stored;
        *fc = *c;
        option_fold_loss(fs);
        option_fold_loss(fc);
    }
    cJSON *a = fs && fc ? option_value_json(fs, o) : NULL, *b = fs && fc ? option_value_json(fc, o) : NULL;
    free(fs);
    free(fc);
    char *sa = a ? cJSON_PrintUnformatted(a) : NULL, *sb = b ? cJSON_PrintUnformatted(b) : NULL;
    err_set(e, ERR_USAGE, "%s: the model in %s has %s, not %s", key, path, sa ? sa : "?",
            sb ? sb : "?");
    cJSON_free(sa);
    cJSON_free(sb);
    cJSON_Delete(a);
    cJSON_Delete(b);
    return e->code;
}

int config_from_args(struct config *c, int argc, char **argv, enum config_action *action,
                     const struct config_base *base, struct err *e)
{
    config_defaults(c);
    *action = CONFIG_RUN;
    struct flag *flags = calloc((size_t)argc + 1, sizeof *flags);
    if (!flags)
        return err_set(e, ERR_SOFTWARE, "out of memory");
    const char *config_path = NULL;
    int n, rc = scan_args(argc, argv, flags, &n, &config_path, action, e);
    if (rc || *action == CONFIG_HELP || *action == CONFIG_VERSION) {
        free(flags);
        return rc;
    }
    char model[CONFIG_PATH_MAX], *config_text = NULL;
    size_t config_len = 0;
    bool resuming;
    struct config *stored = NULL;
    char found[CONFIG_PATH_MAX];
    if (config_path && !(rc = config_find(config_path, found, e))) {
        config_path = found;
        rc = json_read_file(config_path, &config_text, &config_len, e);
    }
    if (!rc)
        rc = find_model(flags, n, config_path, config_text, config_len, model, &resuming, e);
    if (!rc && *model && base) {
        rc = load_base(c, model, resuming, base, e);
        stored = rc ? NULL : malloc(sizeof *stored);
        if (!rc && !stored)
            rc = err_set(e, ERR_SOFTWARE, "out of memory");
        if (stored)
            *stored = *c;
    }
    if (!rc && config_path)
        rc = config_load_text(c, config_text, config_len, config_path, e);
    free(config_text);
    for (int i = 0; !rc && i < n; i++) {
        char who[128];
        snprintf(who, sizeof who, "%.*s", (int)strcspn(flags[i].name, "="), flags[i].name);
        rc = option_set_text(c, flags[i].opt, flags[i].value, who, e);
    }
    if (!rc && stored)
        rc = same_model(stored, c, model, resuming, e);
    free(stored);
    free(flags);
    if (!rc && config_path)
        snprintf(c->config_file, sizeof c->config_file, "%s", config_path);
    return rc ? rc : config_resolve(c, e);
}
