/* checkpoint_save: the model file written (the format is in checkpoint.h). */
#include "checkpoint_format.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../util/afile.h"

/* ---- writing: a growable little-endian byte buffer ---- */

struct buf {
    uint8_t *p;
    size_t len, cap;
    int failed;
};

static void put(struct buf *b, const void *src, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void put_u32(struct buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, x, 4);
}

static void put_u64(struct buf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static void put_f32s(struct buf *b, const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        put_u32(b, u);
    }
}

static void put_f64(struct buf *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    put_u64(b, u);
}

/* The weights a model file holds (the model) and, with --patience once an
 * epoch is kept, the ones training continues from (else NULL): while
 * training, the kept copy is the model; after it, the two were swapped. */
static void weights_of(const struct trainer *t, const float **model, const float **current)
{
    *model = t->model->params;
    *current = NULL;
    if (!t->kept || !t->kept_epoch)
        return;
    if (t->ended) {
        *current = t->kept;
    } else {
        *model = t->kept;
        *current = t->model->params;
    }
}

static void put_state(struct buf *b, const struct trainer *t)
{
    const struct optim *o = &t->optim;
    put_u32(b, (uint32_t)o->kind);
    put_u64(b, (uint64_t)o->t);
    put_u64(b, o->m ? o->n : 0);
    if (o->m)
        put_f32s(b, o->m, o->n);
    put_u64(b, o->v ? o->n : 0);
    if (o->v)
        put_f32s(b, o->v, o->n);
    put_u32(b, (uint32_t)t->pos.epoch);
    put_u32(b, t->pos.next);
    put_f64(b, t->pos.loss);
    put_u64(b, (uint64_t)t->pos.correct);
    const struct rng *r[3] = {&t->shuffle, &t->dropout, &t->augment};
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 4; k++)
            put_u64(b, r[i]->s[k]);
    put_u32(b, t->train.n);
    for (uint32_t i = 0; i < t->train.n; i++)
        put_u32(b, t->order[i]);
    const float *model, *current;
    weights_of(t, &model, &current);
    put_u32(b, (uint32_t)(t->kept ? t->kept_epoch : 0));
    put_u64(b, (uint64_t)(t->kept ? t->kept_correct : 0));
    put_u32(b, (uint32_t)(t->kept && t->patience_stop));
    put_u64(b, current ? t->model->n_params : 0);
    if (current)
        put_f32s(b, current, t->model->n_params);
}

uint64_t checkpoint_file_bytes(uint32_t L, const uint32_t *size, int with_state, int moments,
                               uint32_t n_order, size_t config_len)
{
    uint64_t n_params = 0;
    for (uint32_t l = 1; l <= L; l++)
        n_params += (uint64_t)size[l - 1] * size[l] + size[l];
    uint64_t payload = 4 + (uint64_t)config_len + 4 + 4ull * (L + 1) + 8 + 4 * n_params + 4;
    if (with_state)
        payload += 4 + 8 + 8 + 4 * n_params * (uint64_t)moments + 8 + 4 + 4 + 8 + 8 +
                   3 * 4 * 8 + 4 + 4ull * n_order + 4 + 8 + 4 + 8;
    return 8 + 4 + 4 + 8 + payload + 4;
}

static size_t settings_length(const struct config *c)
{
    cJSON *cfg = config_to_json(c, true);
    char *text = cfg ? cJSON_PrintUnformatted(cfg) : NULL;
    size_t n = text ? strlen(text) : 0;
    cJSON_free(text);
    cJSON_Delete(cfg);
    return n;
}

int checkpoint_check_fits(const struct config *c, const struct mlp_spec *spec, uint32_t n_train,
                          const char *path, struct err *e)
{
    uint32_t L = (uint32_t)spec->n_hidden + 1, size[MLP_MAX_LAYERS + 1];
    size[0] = (uint32_t)spec->n_inputs;
    for (int l = 0; l < spec->n_hidden; l++)
        size[l + 1] = (uint32_t)spec->hidden[l];
    size[L] = (uint32_t)spec->n_outputs;
    struct err why = {0};
    if (check_shape(L, size, "the model", &why))
        return err_set(e, ERR_USAGE, "save: %s: cannot be written: %s", path, why.msg);
    const int moments = optim_saved_arrays((enum optim_kind)c->optimizer);
    uint64_t bytes = checkpoint_file_bytes(L, size, 1, moments, n_train,
                                           settings_length(c));
    if (c->patience)   /* the current weights beside the kept ones */
        bytes += 4 * (uint64_t)mlp_count_params(spec);
    if (bytes > CHECKPOINT_MAX_BYTES)
        return err_set(e, ERR_USAGE, "save: %s: the model file would take %.2f GB; a model file "
                       "holds at most %.2f GB (use fewer or narrower --hidden layers)", path,
                       bytes / 1e9, CHECKPOINT_MAX_BYTES / 1e9);
    return 0;
}

int checkpoint_save(const char *path, const struct trainer *t, int with_state, struct err *e)
{
    struct buf b = {0};
    cJSON *cfg = config_to_json(t->cfg, true);
    char *text = cfg ? cJSON_PrintUnformatted(cfg) : NULL;
    cJSON_Delete(cfg);
    if (!text)
        return err_set(e, ERR_SOFTWARE, "%s: out of memory", path);
    const struct mlp *m = t->model;
    const float *model, *current;
    weights_of(t, &model, &current);
    put_u32(&b, (uint32_t)strlen(text));
    put(&b, text, strlen(text));
    cJSON_free(text);
    put_u32(&b, (uint32_t)m->L);
    for (int l = 0; l <= m->L; l++)
        put_u32(&b, (uint32_t)m->size[l]);
    put_u64(&b, m->n_params);
    put_f32s(&b, model, m->n_params);
    put_u32(&b, (uint32_t)with_state);
    if (with_state)
        put_state(&b, t);
    if (b.failed) {
        free(b.p);
        return err_set(e, ERR_SOFTWARE, "%s: out of memory", path);
    }
    struct buf head = {0};
    put(&head, MAGIC, 8);
    put_u32(&head, CHECKPOINT_VERSION);
    put_u32(&head, 0);
    put_u64(&head, b.len);
    uLong crc = crc32_z(0L, b.p, b.len);
    struct buf tail = {0};
    put_u32(&tail, (uint32_t)crc);
    struct afile a;
    int rc = head.failed || tail.failed ? err_set(e, ERR_SOFTWARE, "%s: out of memory", path)
                                        : afile_open(&a, path, 0, e);
    if (!rc) {
        fwrite(head.p, 1, head.len, a.f);
        fwrite(b.p, 1, b.len, a.f);
        fwrite(tail.p, 1, tail.len, a.f);
        rc = afile_commit(&a, e);
    }
    free(head.p);
    free(b.p);
    free(tail.p);
    return rc;
}

