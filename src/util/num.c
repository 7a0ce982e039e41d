#include "num.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

bool num_parse_long(const char *s, long long *out)
{
    const char *p = (*s == '-' || *s == '+') ? s + 1 : s;
    if (!*p || strspn(p, "0123456789") != strlen(p))
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

bool num_parse_double(const char *s, double *out)
{
    /* plain decimal notation only: strtod would also take hex floats, "inf", "nan"
     * and leading blanks */
    if (!*s || strspn(s, "0123456789+-.eE") != strlen(s))
        return false;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || (errno == ERANGE && v != 0))
        return false;
    *out = v;
    return true;
}
