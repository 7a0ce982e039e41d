/* checkpoint: the model file read back, checked and restored (the format is
 * in checkpoint.h; checkpoint_save.c writes it). */
#include "checkpoint_format.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../util/afile.h"
#include "../util/readall.h"

/* ---- reading: a cursor that checks every length first ---- */

struct cur {
    const uint8_t *p;
    size_t left;
    const char *name;
    struct err *e;
};

static int need(struct cur *c, uint64_t n, const char *what)
{
    if (n > c->left)
        return err_set(c->e, ERR_DATA, "%s: truncated in %s", c->name, what);
    return 0;
}

static int get_u32(struct cur *c, uint32_t *v, const char *what)
{
    *v = 0;
    if (need(c, 4, what))
        return c->e->code;
    *v = (uint32_t)c->p[0] | (uint32_t)c->p[1] << 8 | (uint32_t)c->p[2] << 16 |
         (uint32_t)c->p[3] << 24;
    c->p += 4;
    c->left -= 4;
    return 0;
}

static int get_u64(struct cur *c, uint64_t *v, const char *what)
{
    uint32_t lo = 0, hi = 0;
    *v = 0;
    if (get_u32(c, &lo, what) || get_u32(c, &hi, what))
        return c->e->code;
    *v = (uint64_t)hi << 32 | lo;
    return 0;
}

/* n floats into a fresh array; n is checked against the bytes left first */
static int get_f32s(struct cur *c, float **out, uint64_t n, const char *what)
{
    if (n > c->left / 4)
        return err_set(c->e, ERR_DATA, "%s: truncated in %s", c->name, what);
    *out = malloc(sizeof(float) * (n ? n : 1));
    if (!*out)
        return err_set(c->e, ERR_SOFTWARE, "%s: out of memory", c->name);
    for (uint64_t i = 0; i < n; i++) {
        uint32_t u;
        get_u32(c, &u, what);
        memcpy(&(*out)[i], &u, 4);
    }
    return 0;
}

/* weights and optimizer state are finite; adam's second moments are not negative */
static int check_finite(const float *v, uint64_t n, int nonnegative, const char *what,
                        struct cur *c)
{
    for (uint64_t i = 0; i < n; i++)
        if (!isfinite(v[i]) || (nonnegative && v[i] < 0))
            return err_set(c->e, ERR_DATA, "%s: %s %llu is %g", c->name, what,
                           (unsigned long long)i, (double)v[i]);
    return 0;
}

static int parse_shape(struct checkpoint *ck, struct cur *c)
{
    if (get_u32(c, &ck->L, "layers"))
        return c->e->code;
    if (ck->L < 1 || ck->L > MLP_MAX_LAYERS)
        return err_set(c->e, ERR_DATA, "%s: %u layers is not a model of this program", c->name,
                       ck->L);
    uint64_t n = 0;
    for (uint32_t l = 0; l <= ck->L; l++)
        if (get_u32(c, &ck->size[l], "layer sizes"))
            return c->e->code;
    if (check_shape(ck->L, ck->size, c->name, c->e))
        return c->e->code;
    for (uint32_t l = 1; l <= ck->L; l++)
        n += (uint64_t)ck->size[l - 1] * ck->size[l] + ck->size[l];
    if (get_u64(c, &ck->n_params, "parameter count"))
        return c->e->code;
    if (ck->n_params != n)
        return err_set(c->e, ERR_DATA, "%s: %llu parameters do not fit the layer sizes (%llu)",
                       c->name, (unsigned long long)ck->n_params, (unsigned long long)n);
    if (get_f32s(c, &ck->params, ck->n_params, "parameters"))
        return c->e->code;
    return check_finite(ck->params, ck->n_params, 0, "parameter", c);
}

/* the data order is a permutation of 0..n-1 and the position lies inside it */
static int parse_order(struct checkpoint *ck, struct cur *c)
{
    if (ck->n_order == 0)
        return err_set(c->e, ERR_DATA, "%s: data order is empty", c->name);
    ck->order = malloc(sizeof(uint32_t) * ck->n_order);
    uint8_t *seen = calloc(ck->n_order, 1);
    int rc = ck->order && seen ? 0 : err_set(c->e, ERR_SOFTWARE, "%s: out of memory", c->name);
    for (uint32_t i = 0; !rc && i < ck->n_order; i++) {
        get_u32(c, &ck->order[i], "data order");
        uint32_t v = ck->order[i];
        if (v >= ck->n_order || seen[v])
            rc = err_set(c->e, ERR_DATA, "%s: data order is not a permutation of 0..%u (%u at %u)",
                         c->name, ck->n_order - 1, v, i);
        else
            seen[v] = 1;
    }
    free(seen);
    if (rc)
        return rc;
    if (ck->next >= ck->n_order)
        return err_set(c->e, ERR_DATA, "%s: position %u is outside the %u training samples",
                       c->name, ck->next, ck->n_order);
    /* every step takes at least one sample: a larger count is no run's, and
     * near INT64_MAX it would overflow the optimizer's counter */
    uint64_t samples = (uint64_t)ck->epoch * ck->n_order + ck->next;
    if ((uint64_t)ck->steps > samples)
        return err_set(c->e, ERR_DATA, "%s: its optimizer has taken %lld steps, more than the "
                       "%llu samples it has trained on", c->name, (long long)ck->steps,
                       (unsigned long long)samples);
    return 0;
}

/* the --patience record: the kept epoch lies within the epochs trained (and
 * before the last when patience stopped the run), and the current weights are
 * there exactly when an epoch is kept */
static int parse_patience(struct checkpoint *ck, struct cur *c)
{
    uint64_t correct;
    if (get_u32(c, &ck->kept_epoch, "patience") || get_u64(c, &correct, "patience") ||
        get_u32(c, &ck->patience_stop, "patience") || get_u64(c, &ck->n_current, "patience"))
        return c->e->code;
    ck->kept_correct = (int64_t)correct;
    const int kept = ck->kept_epoch > 0;
    if (ck->kept_epoch > ck->epoch || ck->patience_stop > 1 || ck->kept_correct < 0 ||
        (!kept && (ck->kept_correct || ck->patience_stop)) ||
        (ck->patience_stop && (ck->next || ck->kept_epoch >= ck->epoch)) ||
        ck->n_current != (kept ? ck->n_params : 0))
        return err_set(c->e, ERR_DATA, "%s: its early-stopping record is corrupt", c->name);
    if (get_f32s(c, &ck->current, ck->n_current, "current weights"))
        return c->e->code;
    return check_finite(ck->current, ck->n_current, 0, "current weight", c);
}

static int parse_state(struct checkpoint *ck, struct cur *c)
{
    uint64_t u;
    if (get_u32(c, &ck->optimizer, "optimizer") || get_u64(c, &u, "optimizer"))
        return c->e->code;
    ck->steps = (int64_t)u;
    if (get_u64(c, &ck->n_m, "optimizer") ||
        (ck->n_m && ck->n_m != ck->n_params) ||
        get_f32s(c, &ck->m, ck->n_m, "optimizer state") || get_u64(c, &ck->n_v, "optimizer") ||
        (ck->n_v && ck->n_v != ck->n_params) || get_f32s(c, &ck->v, ck->n_v, "optimizer state"))
        return c->e->code ? c->e->code
                          : err_set(c->e, ERR_DATA, "%s: optimizer state of the wrong size", c->name);
    uint64_t loss, correct;
    if (get_u32(c, &ck->epoch, "position") || get_u32(c, &ck->next, "position") ||
        get_u64(c, &loss, "position") || get_u64(c, &correct, "position"))
        return c->e->code;
    memcpy(&ck->loss, &loss, 8);
    ck->correct = (int64_t)correct;
    /* sgd keeps no velocity; files written before it stopped keeping one
     * hold n_params zeros there, which are read and ignored */
    if (ck->optimizer > 2 || ck->steps < 0 ||
        (ck->n_m != ck->n_params && (ck->n_m != 0 || ck->optimizer != OPT_SGD)) ||
        (ck->n_v != 0) != (optim_saved_arrays((enum optim_kind)ck->optimizer) == 2))
        return err_set(c->e, ERR_DATA, "%s: optimizer state is corrupt", c->name);
    if (check_finite(ck->m, ck->n_m, 0, "optimizer state", c) ||
        check_finite(ck->v, ck->n_v, 1, "optimizer second moment", c))
        return c->e->code;
    if (!isfinite(ck->loss) || ck->loss < 0 || ck->correct < 0 || ck->correct > ck->next ||
        (!ck->next && (ck->loss != 0 || ck->correct != 0)))
        return err_set(c->e, ERR_DATA, "%s: the sums of the epoch in progress are corrupt",
                       c->name);
    static const char *stream[3] = {"shuffling", "dropout", "augmentation"};
    for (int i = 0; i < 3; i++) {
        for (int k = 0; k < 4; k++)
            if (get_u64(c, &ck->rng[i][k], "random state"))
                return c->e->code;
        /* xoshiro256** never leaves the all-zero state: it would draw zeros forever */
        if (!(ck->rng[i][0] | ck->rng[i][1] | ck->rng[i][2] | ck->rng[i][3]))
            return err_set(c->e, ERR_DATA, "%s: the %s random state is all zero, which no "
                           "generator can be in", c->name, stream[i]);
    }
    if (get_u32(c, &ck->n_order, "data order") || need(c, 4ull * ck->n_order, "data order"))
        return c->e->code;
    if (parse_order(ck, c))
        return c->e->code;
    return ck->version >= 2 ? parse_patience(ck, c) : 0;
}

/* the layers and the state agree with what the stored settings say */
static int settings_agree(const struct checkpoint *ck, const struct config *s, const char *name,
                          struct err *e)
{
    int same = s->hidden.n == (int)ck->L - 1;
    for (int l = 0; same && l < s->hidden.n; l++)
        same = s->hidden.v[l] == (int)ck->size[l + 1];
    if (!same)
        return err_set(e, ERR_DATA, "%s: its stored hidden layers do not match its weights", name);
    if (!ck->has_state)
        return 0;
    if ((int)ck->optimizer != s->optimizer)
        return err_set(e, ERR_DATA, "%s: its optimizer state is not for its stored optimizer %s",
                       name, config_enum_name("optimizer", s->optimizer));
    if (ck->epoch > (uint64_t)s->epochs || (ck->epoch == (uint64_t)s->epochs && ck->next))
        return err_set(e, ERR_DATA, "%s: its position (epoch %u) is beyond its %lld epochs", name,
                       ck->epoch, s->epochs);
    if (ck->next % (uint64_t)s->batch_size)
        return err_set(e, ERR_DATA, "%s: its position %u is not at a batch of %lld", name,
                       ck->next, s->batch_size);
    if (s->limit_train && ck->n_order != (uint64_t)(s->limit_train - s->val))
        return err_set(e, ERR_DATA, "%s: its data order holds %u samples, its settings say %lld",
                       name, ck->n_order, s->limit_train - s->val);
    return 0;
}

/* The stored settings, untrusted, decoded once with the checks of applying
 * them (every key, --resume's carried ones too), then held against the
 * layers and the state. */
static int decode_settings(struct checkpoint *ck, const char *name, struct err *e)
{
    ck->settings = malloc(sizeof *ck->settings);
    if (!ck->settings)
        return err_set(e, ERR_SOFTWARE, "%s: out of memory", name);
    config_defaults(ck->settings);
    int rc = config_load_stored(ck->settings, ck->config, strlen(ck->config), name, true, e);
    return rc ? rc : settings_agree(ck, ck->settings, name, e);
}

static int parse_payload(struct checkpoint *ck, struct cur *c)
{
    uint32_t n = 0;
    if (get_u32(c, &n, "config") || need(c, n, "config"))
        return c->e->code;
    ck->config = malloc((size_t)n + 1);
    if (!ck->config)
        return err_set(c->e, ERR_SOFTWARE, "%s: out of memory", c->name);
    memcpy(ck->config, c->p, n);
    ck->config[n] = 0;
    c->p += n;
    c->left -= n;
    if (parse_shape(ck, c) || get_u32(c, &ck->has_state, "state flag"))
        return c->e->code;
    if (ck->has_state > 1)
        return err_set(c->e, ERR_DATA, "%s: state flag is corrupt", c->name);
    if (ck->has_state && parse_state(ck, c))
        return c->e->code;
    if (c->left)
        return err_set(c->e, ERR_DATA, "%s: %zu unexpected bytes at the end", c->name, c->left);
    return decode_settings(ck, c->name, c->e);
}

int checkpoint_parse(struct checkpoint *ck, const uint8_t *buf, size_t len, const char *name,
                     struct err *e)
{
    memset(ck, 0, sizeof *ck);
    if (len < 28 || memcmp(buf, MAGIC, 8))
        return err_set(e, ERR_DATA, "%s: not a model file of this program", name);
    struct cur c = {buf + 8, len - 8, name, e};
    uint32_t version, flags;
    uint64_t plen;
    get_u32(&c, &version, "header");
    get_u32(&c, &flags, "header");
    get_u64(&c, &plen, "header");
    if (version < 1 || version > CHECKPOINT_VERSION)
        return err_set(e, ERR_DATA, "%s: model format version %u, this program reads 1 to %u",
                       name, version, CHECKPOINT_VERSION);
    if (flags)
        return err_set(e, ERR_DATA, "%s: unknown format flags 0x%x", name, flags);
    if (plen != c.left - 4)
        return err_set(e, ERR_DATA, "%s: %s (payload of %llu bytes, file holds %zu)", name,
                       plen > c.left - 4 ? "truncated" : "unexpected data after the model",
                       (unsigned long long)plen, c.left - 4);
    const uint8_t *tail = c.p + plen;
    uint32_t crc = (uint32_t)tail[0] | (uint32_t)tail[1] << 8 | (uint32_t)tail[2] << 16 |
                   (uint32_t)tail[3] << 24;
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION   /* lets the fuzzer reach the payload */
    if (crc != (uint32_t)crc32_z(0L, c.p, (size_t)plen))
        return err_set(e, ERR_DATA, "%s: checksum mismatch: the file is corrupt", name);
#else
    (void)crc;
#endif
    c.left = (size_t)plen;
    ck->version = version;
    int rc = parse_payload(ck, &c);
    if (rc)
        checkpoint_free(ck);
    return rc;
}

int checkpoint_read(struct checkpoint *ck, const char *path, struct err *e)
{
    memset(ck, 0, sizeof *ck);
    char *buf;
    size_t len;
    if (readall(path, CHECKPOINT_MAX_BYTES, READALL_REGULAR, "a model file", &buf, &len, e))
        return e->code;
    int rc = checkpoint_parse(ck, (const uint8_t *)buf, len, path, e);
    free(buf);
    return rc;
}

void checkpoint_free(struct checkpoint *ck)
{
    free(ck->config);
    free(ck->settings);
    free(ck->params);
    free(ck->m);
    free(ck->v);
    free(ck->order);
    free(ck->current);
    memset(ck, 0, sizeof *ck);
}

int checkpoint_load_weights(struct mlp *m, const struct checkpoint *ck, const struct config *c,
                            const char *name, struct err *e)
{
    /* a flag may not quietly turn a saved model into another kind of model
     * (config_from_args refuses it first; this holds for any caller) */
    const char *key = config_model_differs(ck->settings, c);
    if (key)
        return err_set(e, ERR_USAGE, "%s: the model in %s is another kind of model than the "
                       "config's", key, name);
    int same = ck->L == (uint32_t)m->L;
    for (int l = 0; same && l <= m->L; l++)
        same = ck->size[l] == (uint32_t)m->size[l];
    if (!same)
        return err_set(e, ERR_DATA, "%s: the model's layers do not match the config's", name);
    memcpy(m->params, ck->params, sizeof(float) * m->n_params);
    mlp_params_changed(m);
    return 0;
}

int checkpoint_resumable(const struct checkpoint *ck, const struct config *c, const char *name,
                         struct err *e)
{
    if (!ck->has_state)
        return err_set(e, ERR_DATA, "%s: holds a final model, not a checkpoint to resume from",
                       name);
    if (ck->epoch > (uint64_t)c->epochs || (ck->epoch == (uint64_t)c->epochs && ck->next))
        return err_set(e, ERR_USAGE, "epochs: %lld, but %s has already trained %u%s", c->epochs,
                       name, ck->epoch, ck->next ? " and part of the next" : "");
    return 0;
}

int checkpoint_finished(const struct checkpoint *ck, const struct config *c)
{
    return ck->has_state && !ck->next &&
           (ck->epoch == (uint64_t)c->epochs || (ck->patience_stop && c->patience));
}

int checkpoint_restore(struct trainer *t, const struct checkpoint *ck, int resume,
                       const char *name, struct err *e)
{
    if (checkpoint_load_weights(t->model, ck, t->cfg, name, e))
        return e->code;
    /* resuming continues from the current weights, the model's are the kept ones */
    if (resume && ck->n_current) {
        memcpy(t->model->params, ck->current, sizeof(float) * t->model->n_params);
        mlp_params_changed(t->model);
    }
    if (!resume)
        return 0;
    if (checkpoint_resumable(ck, t->cfg, name, e))
        return e->code;
    if (ck->optimizer != (uint32_t)t->optim.kind || ck->n_order != t->train.n ||
        (t->optim.m && !ck->n_m) || (ck->n_v != 0) != (t->optim.v != NULL))
        return err_set(e, ERR_DATA, "%s: optimizer or training set differ from the config's", name);
    if (t->optim.m)
        memcpy(t->optim.m, ck->m, sizeof(float) * ck->n_m);
    if (ck->n_v)
        memcpy(t->optim.v, ck->v, sizeof(float) * ck->n_v);
    t->optim.t = ck->steps;
    memcpy(t->order, ck->order, sizeof(uint32_t) * ck->n_order);
    struct rng *r[3] = {&t->shuffle, &t->dropout, &t->augment};
    for (int i = 0; i < 3; i++)
        memcpy(r[i]->s, ck->rng[i], sizeof r[i]->s);
    t->pos = (struct train_pos){(int)ck->epoch, ck->next, ck->loss, ck->correct};
    if (t->kept && ck->kept_epoch) {
        memcpy(t->kept, ck->params, sizeof(float) * t->model->n_params);
        t->kept_epoch = (int)ck->kept_epoch;
        t->kept_correct = ck->kept_correct;
        t->patience_stop = ck->patience_stop;
    }
    return 0;
}
