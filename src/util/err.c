#include "err.h"

#include <stdio.h>
#include <string.h>

void err_append(struct err *e, const char *fmt, ...)
{
    size_t used = strlen(e->msg);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg + used, sizeof e->msg - used, fmt, ap);
    va_end(ap);
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
    if (e->code)
        return e->code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    e->code = code;
    return code;
}
