/* distort_spec: the augment setting's grammar, its ranges and its canonical
 * text (the grammar itself is in distort.h). */
#include "distort.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/num.h"

enum part { P_AFFINE, P_ELASTIC };

/* every parameter once, in canonical order */
static const struct param {
    const char *key;
    enum part part;
    size_t off;
    double lo, hi;
    bool lo_open;
} PARAMS[] = {
    {"rot", P_AFFINE, offsetof(struct distort_spec, rot), 0, 180, false},
    {"scale", P_AFFINE, offsetof(struct distort_spec, scale), 0, 0.5, false},
    {"stretch", P_AFFINE, offsetof(struct distort_spec, stretch), 0, 0.5, false},
    {"shear", P_AFFINE, offsetof(struct distort_spec, shear), 0, 1, false},
    {"translate", P_AFFINE, offsetof(struct distort_spec, translate), 0, 8, false},
    {"narrow", P_AFFINE, offsetof(struct distort_spec, narrow), 0, 1, false},
    {"alpha", P_ELASTIC, offsetof(struct distort_spec, alpha), 0, 100, false},
    {"sigma", P_ELASTIC, offsetof(struct distort_spec, sigma), 0.25, 16, false},
};
#define N_PARAMS (sizeof PARAMS / sizeof PARAMS[0])
#define SHIFT_MAX 8
#define ITEM_MAX 64

static const char *PART_NAME[] = {"affine", "elastic"};

static double *param_field(struct distort_spec *s, const struct param *p)
{
    return (double *)((char *)s + p->off);
}

static int bad(struct err *e, const char *who, const char *text, const char *fmt, const char *a,
               const char *b)
{
    char what[256];
    snprintf(what, sizeof what, fmt, a, b);
    /* a long text is cut, so that what is wrong still fits in the message */
    int cut = strlen(text) > 100;
    return err_set(e, ERR_USAGE, "%s: '%.*s%s': %s", who, cut ? 96 : 100, text, cut ? "..." : "",
                   what);
}

static int parse_shift(struct distort_spec *s, const char *body, const char *who,
                       const char *text, struct err *e)
{
    long long v;
    if (!num_parse_long(body, &v))
        return bad(e, who, text, "shift '%s' is not a whole number of pixels", body, "");
    if (v < 1 || v > SHIFT_MAX)
        return bad(e, who, text, "shift %s is out of range 1..8", body, "");
    s->shift = (int)v;
    return 0;
}

static const struct param *find_param(const char *key)
{
    for (size_t i = 0; i < N_PARAMS; i++)
        if (!strcmp(PARAMS[i].key, key))
            return &PARAMS[i];
    return NULL;
}

/* one "key=value" of the list after the colon */
static int parse_item(struct distort_spec *s, unsigned *seen, const char *item, const char *who,
                      const char *text, struct err *e)
{
    char key[ITEM_MAX];
    const char *eq = strchr(item, '=');
    if (!*item)
        return bad(e, who, text, "empty parameter (a stray ',')", "", "");
    /* "rot=1,5" is a comma-decimal locale's 1.5: the list splits it at the comma */
    if (!eq && *seen && strspn(item, "0123456789") == strlen(item))
        return bad(e, who, text, "',%s' after a value: decimals take a point here (1.5, not "
                   "1,5), and ',' separates parameters", item, "");
    if (!eq)
        return bad(e, who, text, "'%s' has no value (write %s=V)", item, item);
    size_t kl = (size_t)(eq - item);
    memcpy(key, item, kl);
    key[kl] = 0;
    const struct param *p = find_param(key);
    if (!p)
        return bad(e, who, text,
                   "unknown parameter '%s' (affine: rot, scale, stretch, shear, translate, narrow; "
                   "elastic: alpha, sigma)", key, "");
    if (!(p->part == P_AFFINE ? s->affine : s->elastic))
        return bad(e, who, text, "'%s' is a parameter of %s, which this does not name", key,
                   PART_NAME[p->part]);
    unsigned bit = 1u << (p - PARAMS);
    if (*seen & bit)
        return bad(e, who, text, "'%s' given twice", key, "");
    *seen |= bit;
    double v;
    if (!num_parse_double(eq + 1, &v))
        return bad(e, who, text, "%s '%s' is not a finite decimal number", key, eq + 1);
    if (!(v <= p->hi && (p->lo_open ? v > p->lo : v >= p->lo))) {
        char range[64];
        snprintf(range, sizeof range, "%g..%g", p->lo, p->hi);
        char what[2 * ITEM_MAX + 128];
        snprintf(what, sizeof what, "%s %s is out of range %s", key, eq + 1, range);
        return bad(e, who, text, "%s", what, "");
    }
    *param_field(s, p) = v + 0.0;   /* -0 reads as 0 */
    return 0;
}

static int parse_params(struct distort_spec *s, const char *body, const char *who,
                        const char *text, struct err *e)
{
    unsigned seen = 0;
    char item[ITEM_MAX];
    if (!*body)
        return bad(e, who, text, "no parameters after ':'", "", "");
    for (const char *p = body;;) {
        size_t len = strcspn(p, ",");
        if (len >= sizeof item)
            return bad(e, who, text, "parameter '%.20s...' is too long", p, "");
        memcpy(item, p, len);
        item[len] = 0;
        if (parse_item(s, &seen, item, who, text, e))
            return e->code;
        if (!p[len])
            break;
        p += len + 1;
    }
    for (size_t i = 0; i < N_PARAMS; i++)
        if (PARAMS[i].part == P_ELASTIC && s->elastic && !(seen >> i & 1))
            return bad(e, who, text, "elastic needs %s", PARAMS[i].key, "");
    return 0;
}

int distort_parse(struct distort_spec *out, const char *text, const char *who, struct err *e)
{
    struct distort_spec s = {0};
    if (!strcmp(text, "none")) {
        *out = s;
        return 0;
    }
    const char *colon = strchr(text, ':');
    size_t hl = colon ? (size_t)(colon - text) : strlen(text);
    const char *body = colon ? colon + 1 : "";
#define HEAD_IS(name) (hl == strlen(name) && !strncmp(text, name, hl))
    if (HEAD_IS("shift") || HEAD_IS("affine") || HEAD_IS("elastic") ||
        HEAD_IS("affine+elastic")) {
        if (!colon)
            return bad(e, who, text, "expected parameters after '%s:'", text, "");
    } else if (HEAD_IS("elastic+affine")) {
        return bad(e, who, text, "write 'affine+elastic' (the affine map comes first)", "", "");
    } else {
        return bad(e, who, text,
                   "expected none, shift:N, affine:..., elastic:... or affine+elastic:...", "",
                   "");
    }
    int rc;
    if (HEAD_IS("shift")) {
        rc = parse_shift(&s, body, who, text, e);
    } else {
        s.affine = HEAD_IS("affine") || HEAD_IS("affine+elastic");
        s.elastic = HEAD_IS("elastic") || HEAD_IS("affine+elastic");
        rc = parse_params(&s, body, who, text, e);
    }
#undef HEAD_IS
    if (!rc)
        *out = s;
    return rc;
}

/* the shortest decimal that reads back as v, without an exponent when one
 * of at most 17 digits will do ("10", not "1e+01") */
static void shortest(char *buf, size_t n, double v)
{
    for (int plain = 1; plain >= 0; plain--)
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(buf, n, "%.*g", prec, v);
            if (strtod(buf, NULL) == v && (!plain || !strchr(buf, 'e')))
                return;
        }
}

int distort_format(const struct distort_spec *s, char *buf, size_t n)
{
    char tmp[DISTORT_TEXT_MAX * 2];
    size_t used;
    if (s->shift)
        used = (size_t)snprintf(tmp, sizeof tmp, "shift:%d", s->shift);
    else if (!s->affine && !s->elastic)
        used = (size_t)snprintf(tmp, sizeof tmp, "none");
    else {
        used = (size_t)snprintf(tmp, sizeof tmp, "%s%s%s:", s->affine ? "affine" : "",
                                s->affine && s->elastic ? "+" : "", s->elastic ? "elastic" : "");
        size_t before = used;
        for (size_t i = 0; i < N_PARAMS; i++) {
            const struct param *p = &PARAMS[i];
            double v = *param_field((struct distort_spec *)s, p);
            bool on = p->part == P_AFFINE ? s->affine : s->elastic;
            /* zeros are left out, but elastic's two are required and an
             * affine map with every parameter 0 still needs one */
            bool last_affine = i + 1 == N_PARAMS || PARAMS[i + 1].part != P_AFFINE;
            if (!on || (p->part == P_AFFINE && v == 0 && !(last_affine && used == before)))
                continue;
            if (p->part == P_AFFINE && v == 0)
                p = &PARAMS[0];   /* the all-zero map reads "rot=0" */
            char num[32];
            shortest(num, sizeof num, v);
            used += (size_t)snprintf(tmp + used, sizeof tmp - used, "%s%s=%s",
                                     used > before ? "," : "", p->key, num);
        }
    }
    if (used >= n || used >= sizeof tmp) {
        if (n)
            buf[0] = 0;
        return -1;
    }
    memcpy(buf, tmp, used + 1);
    return 0;
}

bool distort_is_none(const struct distort_spec *s)
{
    return !s->shift && !s->affine && !s->elastic;
}
