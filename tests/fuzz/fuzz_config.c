/* libFuzzer target: JSON config files. A config that loads must print and
 * load back to the same settings. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config c, d;
    struct err e = {0};
    config_defaults(&c);
    if (config_load_text(&c, (const char *)data, size, "fuzz.json", &e)) {
        if (!e.msg[0] || e.code != ERR_USAGE)
            __builtin_trap();
        return 0;
    }
    cJSON *j = config_to_json(&c, false);
    char *text = cJSON_PrintUnformatted(j);
    config_defaults(&d);
    if (config_load_text(&d, text, strlen(text), "printed", &e))
        __builtin_trap();
    cJSON *j2 = config_to_json(&d, false);
    char *text2 = cJSON_PrintUnformatted(j2);
    if (strcmp(text, text2))
        __builtin_trap();
    cJSON_free(text);
    cJSON_free(text2);
    cJSON_Delete(j);
    cJSON_Delete(j2);
    return 0;
}
