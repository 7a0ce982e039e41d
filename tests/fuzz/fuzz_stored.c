/* libFuzzer target: the settings stored in a model file, which are untrusted.
 * fuzz_model reaches them too (fuzzing builds skip the CRC), but only as JSON
 * inside a length-prefixed binary; here the JSON goes straight in. The first
 * byte chooses --resume (odd) or --load (even). Whatever is accepted sets no
 * location or output setting, fails only with ERR_DATA, and prints and loads
 * back to the same settings. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

static int same_text(const char *a, const char *b) { return !strcmp(a, b); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool resuming = data[0] & 1;
    static struct config c, d, def;
    struct err e = {0};
    config_defaults(&c);
    config_defaults(&def);
    if (config_load_stored(&c, (const char *)data + 1, size - 1, "fuzz.bin", resuming, &e)) {
        if (!e.msg[0] || e.code != ERR_DATA)
            __builtin_trap();
        return 0;
    }
    /* where to read and write, and what to print, stay the defaults */
    if (!same_text(c.save, def.save) || !same_text(c.predictions, def.predictions) ||
        !same_text(c.metrics, def.metrics) || !same_text(c.resume, def.resume) ||
        !same_text(c.load, def.load) || !same_text(c.predict, def.predict) ||
        !same_text(c.data_dir, def.data_dir) || !same_text(c.train_images, def.train_images) ||
        !same_text(c.train_labels, def.train_labels) ||
        !same_text(c.test_images, def.test_images) ||
        !same_text(c.test_labels, def.test_labels) || c.json != def.json ||
        c.quiet != def.quiet || c.report != def.report ||
        (!resuming && c.checkpoint_every != def.checkpoint_every))
        __builtin_trap();
    cJSON *j = config_to_json(&c, true);
    char *text = cJSON_PrintUnformatted(j);
    config_defaults(&d);
    if (config_load_stored(&d, text, strlen(text), "printed", true, &e))
        __builtin_trap();
    cJSON *j2 = config_to_json(&d, true);
    char *text2 = cJSON_PrintUnformatted(j2);
    if (strcmp(text, text2) || config_model_differs(&c, &d))
        __builtin_trap();
    cJSON_free(text);
    cJSON_free(text2);
    cJSON_Delete(j);
    cJSON_Delete(j2);
    return 0;
}
