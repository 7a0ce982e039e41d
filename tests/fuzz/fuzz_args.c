/* libFuzzer target: the command-line scanner. The input is split at NUL bytes
 * into argv words. Every argv either parses, or fails as a usage error with a
 * one-line message that names something; a parsed argv prints as a config
 * that loads back to the same settings. Words that would make the scanner
 * read files (--config, --load, --resume) are left out: files are another
 * target's business. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

#define MAX_WORDS 32

static int reads_files(const char *w)
{
    return strstr(w, "--config") || strstr(w, "--load") || strstr(w, "--resume");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    char *argv[MAX_WORDS + 1] = {"train"};
    int argc = 1;
    for (size_t at = 0; at <= size && argc < MAX_WORDS; at += strlen(text + at) + 1) {
        if (reads_files(text + at)) {
            free(text);
            return 0;
        }
        argv[argc++] = text + at;
    }
    argv[argc] = NULL;
    struct config c, d;
    struct err e = {0};
    enum config_action act;
    int rc = config_from_args(&c, argc, argv, &act, NULL, &e);
    if (rc) {
        /* 66: a data file named by a flag is missing; nothing else may fail */
        if (!e.msg[0] || (rc != ERR_USAGE && rc != ERR_NOINPUT) || e.code != rc)
            __builtin_trap();
        free(text);
        return 0;
    }
    if (act == CONFIG_RUN || act == CONFIG_PRINT) {
        cJSON *j = config_to_json(&c, false);
        char *printed = cJSON_PrintUnformatted(j);
        config_defaults(&d);
        if (config_load_text(&d, printed, strlen(printed), "printed", &e))
            __builtin_trap();
        cJSON *j2 = config_to_json(&d, false);
        char *again = cJSON_PrintUnformatted(j2);
        if (strcmp(printed, again))
            __builtin_trap();
        cJSON_free(printed);
        cJSON_free(again);
        cJSON_Delete(j);
        cJSON_Delete(j2);
    }
    free(text);
    return 0;
}
