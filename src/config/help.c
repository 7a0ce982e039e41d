/* help: what config/ prints: --help from the option table, and the effective
 * settings as JSON (--print-config, a model file's stored settings). */
#include "options.h"

#include <cjson/cJSON.h>
#include <stdio.h>

static const char *GROUP_TITLE[N_GROUPS] = {"Model", "Training", "Data", "Output",
                                            "Saving, resuming, predicting"};

cJSON *config_to_json(const struct config *c, bool model_only)
{
    cJSON *root = cJSON_CreateObject();
    for (size_t i = 0; root && i < option_count; i++) {
        if (model_only && option_table[i].local && !option_table[i].carried)
            continue;
        /* an unset optional file (predictions, save, ...) is left out: "" would not load back */
        if (option_table[i].type == T_PATH && !*(char *)option_field((struct config *)c, &option_table[i]))
            continue;
        cJSON *v = option_value_json(c, &option_table[i]);
        if (!v || !cJSON_AddItemToObject(root, option_table[i].key, v)) {
            cJSON_Delete(v);
            cJSON_Delete(root);
            return NULL;
        }
    }
    return root;
}

void config_print_help(FILE *f)
{
    fputs("Usage: train [OPTION]...\n"
          "Train a small MLP on MNIST with a softmax or a sigmoid output head.\n"
          "Every option is also a key of a JSON config file (--batch-size <-> \"batch_size\");\n"
          "flags override the config file, which overrides the defaults.\n\n"
          "  --config FILE        read settings from a JSON config file\n"
          "  --print-config       print the effective config as JSON and exit\n"
          "  -h, --help           print this help and exit\n"
          "  --version            print versions of train and its libraries and exit\n",
          f);
    for (int g = 0; g < N_GROUPS; g++) {
        fprintf(f, "\n%s:\n", GROUP_TITLE[g]);
        for (size_t i = 0; i < option_count; i++) {
            const struct option *o = &option_table[i];
            if ((int)o->group != g)
                continue;
            char flag[64], range[64] = "";
            snprintf(flag, sizeof flag, "--%s%s%s", o->key, o->arg ? " " : "", o->arg ? o->arg : "");
            for (char *p = flag; *p && *p != ' '; p++)
                if (*p == '_')
                    *p = '-';
            if (o->type == T_INT || o->type == T_REAL)
                option_range_text(o, range, sizeof range);
            else if (o->type == T_ENUM)
                option_join_choices(range, sizeof range, o->choices);
            fprintf(f, "  %-20s %s\n", flag, o->help);
            if (*o->def)
                fprintf(f, "  %-20s %s%sdefault: %s\n", "", range, *range ? "; " : "", o->def);
        }
    }
    fputs("\nBooleans take --flag, --no-flag or --flag=true|false.\n"
          "Exit status: 0 success, 64 usage error, 65 bad data or diverged training,\n"
          "66 missing input, 69 precision not available on this CPU, 70 internal error,\n"
          "73 cannot create an output file, 74 I/O error, 130/143 interrupted.\n",
          f);
}
