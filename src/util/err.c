#include "err.h"

#include <stdio.h>
#include <string.h>

/* A message is one line whatever it quotes (a value or a path holding a
 * newline, say): control bytes become '?', so scripts can rely on
 * "train: ..." being the whole error. */
static void one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

void err_append(struct err *e, const char *fmt, ...)
{
    size_t used = strlen(e->msg);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg + used, sizeof e->msg - used, fmt, ap);
    va_end(ap);
    one_line(e->msg + used);
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
    if (e->code)
        return e->code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    one_line(e->msg);
    e->code = code;
    return code;
}

const char *err_program_name(const char *argv0, const char *fallback)
{
    const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
    const char *name = slash ? slash + 1 : argv0;
    if (!name || !*name || strlen(name) > 64)
        return fallback;
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return fallback;
    return name;
}
