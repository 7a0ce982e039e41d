/* onnx: the protobuf wire format, written directly (onnx.h says what the
 * graph holds). Every message is a function that emits its fields into a
 * sink; a sink without a file only counts bytes, so a nested message's length
 * is found by running its function once counting, then once writing. The
 * weights are written once, straight from the model's parameters: nothing the
 * size of the model is held twice. */
#include "onnx.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../data/pixel.h"
#include "../nn/head.h"
#include "../train/train.h"
#include "../util/afile.h"

/* ---- the wire format ---- */

enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

struct sink {
    FILE *f;             /* NULL: count only */
    uint64_t n;          /* bytes emitted */
    int failed;          /* a write failed: write no more (the stream's error stays) */
};

static void put(struct sink *w, const void *p, size_t n)
{
    w->n += n;
    if (w->f && !w->failed && fwrite(p, 1, n, w->f) != n)
        w->failed = 1;
}

static void varint(struct sink *w, uint64_t v)
{
    uint8_t b[10];
    int k = 0;
    do {
        b[k++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    put(w, b, (size_t)k);
}

static void tag(struct sink *w, int field, int wire) { varint(w, (uint64_t)field << 3 | (unsigned)wire); }

/* int32/int64 fields: a negative value is its 64-bit two's complement */
static void pb_int(struct sink *w, int field, int64_t v)
{
    tag(w, field, WIRE_VARINT);
    varint(w, (uint64_t)v);
}

static void pb_str(struct sink *w, int field, const char *s)
{
    size_t n = strlen(s);
    tag(w, field, WIRE_LEN);
    varint(w, n);
    put(w, s, n);
}

typedef void (*emit_fn)(struct sink *w, const void *ctx);

/* an embedded message: its length (a counting run), then its fields */
static void pb_msg(struct sink *w, int field, emit_fn fn, const void *ctx)
{
    struct sink count = {0};
    fn(&count, ctx);
    tag(w, field, WIRE_LEN);
    varint(w, count.n);
    fn(w, ctx);
}

/* n floats as raw_data: IEEE 754 little-endian, whatever this machine's order */
static void put_floats(struct sink *w, const float *x, size_t n)
{
    if (!w->f) {
        w->n += 4 * (uint64_t)n;
        return;
    }
    uint8_t buf[4096];
    for (size_t i = 0; i < n;) {
        size_t k = 0;
        for (; i < n && k + 4 <= sizeof buf; i++, k += 4) {
            uint32_t u;
            memcpy(&u, &x[i], 4);
            buf[k] = (uint8_t)u;
            buf[k + 1] = (uint8_t)(u >> 8);
            buf[k + 2] = (uint8_t)(u >> 16);
            buf[k + 3] = (uint8_t)(u >> 24);
        }
        put(w, buf, k);
    }
}

/* ---- onnx.proto's messages (field numbers from onnx/onnx.proto) ---- */

enum {
    MODEL_IR_VERSION = 1, MODEL_PRODUCER_NAME = 2, MODEL_PRODUCER_VERSION = 3,
    MODEL_DOC = 6, MODEL_GRAPH = 7, MODEL_OPSET = 8, MODEL_METADATA = 14,
    OPSET_VERSION = 2,
    ENTRY_KEY = 1, ENTRY_VALUE = 2,
    GRAPH_NODE = 1, GRAPH_NAME = 2, GRAPH_INITIALIZER = 5, GRAPH_INPUT = 11, GRAPH_OUTPUT = 12,
    NODE_INPUT = 1, NODE_OUTPUT = 2, NODE_NAME = 3, NODE_OP = 4,
    TENSOR_DIMS = 1, TENSOR_TYPE = 2, TENSOR_NAME = 8, TENSOR_RAW = 9,
    VALUE_NAME = 1, VALUE_TYPE = 2,
    TYPE_TENSOR = 1, TTENSOR_ELEM = 1, TTENSOR_SHAPE = 2,
    SHAPE_DIM = 1, DIM_VALUE = 1, DIM_PARAM = 2,
    ONNX_FLOAT = 1,
};

#define NAME_MAX_ 32
#define META_MAX 96

/* everything the messages read, prepared once */
struct export {
    int L, size[MLP_MAX_LAYERS + 1];
    const float *W[MLP_MAX_LAYERS], *b[MLP_MAX_LAYERS];
    const char *act_op, *head_op;
    bool scaled_tanh;   /* the activation is A tanh(B x): Mul, Tanh, Mul */
    bool pm1;           /* the network sees 2 v - 1 of each pixel/255 v */
    int n_meta;
    const char *key[META_MAX];
    char *value[META_MAX];
    char owned[META_MAX];   /* value[i] is malloc'd */
};

struct entry { const char *key, *value; };

static void emit_entry(struct sink *w, const void *ctx)
{
    const struct entry *m = ctx;
    pb_str(w, ENTRY_KEY, m->key);
    pb_str(w, ENTRY_VALUE, m->value);
}

static void emit_opset(struct sink *w, const void *ctx)
{
    (void)ctx;
    pb_int(w, OPSET_VERSION, ONNX_OPSET);   /* domain "" (absent): the ONNX operators */
}

struct node {
    const char *name, *op, *in[3], *out;
};

static void emit_node(struct sink *w, const void *ctx)
{
    const struct node *n = ctx;
    for (int i = 0; i < 3 && n->in[i]; i++)
        pb_str(w, NODE_INPUT, n->in[i]);
    pb_str(w, NODE_OUTPUT, n->out);
    pb_str(w, NODE_NAME, n->name);
    pb_str(w, NODE_OP, n->op);
}

struct tensor {
    const char *name;
    int nd;
    int64_t dims[2];
    const float *x;
};

static void emit_tensor(struct sink *w, const void *ctx)
{
    const struct tensor *t = ctx;
    uint64_t n = 1;
    for (int i = 0; i < t->nd; i++) {
        pb_int(w, TENSOR_DIMS, t->dims[i]);
        n *= (uint64_t)t->dims[i];
    }
    pb_int(w, TENSOR_TYPE, ONNX_FLOAT);
    pb_str(w, TENSOR_NAME, t->name);
    tag(w, TENSOR_RAW, WIRE_LEN);
    varint(w, 4 * n);
    put_floats(w, t->x, (size_t)n);
}

/* a graph input or output: float [N, cols], N the batch, free */
struct value { const char *name; int64_t cols; };

static void emit_dim_batch(struct sink *w, const void *ctx)
{
    (void)ctx;
    pb_str(w, DIM_PARAM, "N");
}

static void emit_dim_cols(struct sink *w, const void *ctx)
{
    pb_int(w, DIM_VALUE, ((const struct value *)ctx)->cols);
}

static void emit_shape(struct sink *w, const void *ctx)
{
    pb_msg(w, SHAPE_DIM, emit_dim_batch, ctx);
    pb_msg(w, SHAPE_DIM, emit_dim_cols, ctx);
}

static void emit_tensor_type(struct sink *w, const void *ctx)
{
    pb_int(w, TTENSOR_ELEM, ONNX_FLOAT);
    pb_msg(w, TTENSOR_SHAPE, emit_shape, ctx);
}

static void emit_type(struct sink *w, const void *ctx) { pb_msg(w, TYPE_TENSOR, emit_tensor_type, ctx); }

static void emit_value(struct sink *w, const void *ctx)
{
    pb_str(w, VALUE_NAME, ((const struct value *)ctx)->name);
    pb_msg(w, VALUE_TYPE, emit_type, ctx);
}

/* the constants of the input range and of scaled-tanh, as scalars; the
 * same float operations train does (pixel.h, act.h) */
static const float TWO = 2.0f, ONE = 1.0f, STANH_A = ACT_STANH_A, STANH_B = ACT_STANH_B;

static void emit_graph(struct sink *w, const void *ctx)
{
    const struct export *x = ctx;
    /* weights, biases, products, activations, scaled-tanh's B x and tanh */
    char name[6][MLP_MAX_LAYERS][NAME_MAX_];
    for (int l = 0; l < x->L; l++) {
        snprintf(name[0][l], NAME_MAX_, "dense%d.weight", l);
        snprintf(name[1][l], NAME_MAX_, "dense%d.bias", l);
        snprintf(name[2][l], NAME_MAX_, "dense%d", l);
        snprintf(name[3][l], NAME_MAX_, "hidden%d", l);
        snprintf(name[4][l], NAME_MAX_, "dense%d.scaled", l);
        snprintf(name[5][l], NAME_MAX_, "tanh%d", l);
    }
    const char *in = "pixels";
    if (x->pm1) {   /* inputs 2 v - 1 */
        struct node twice = {"inputs.twice", "Mul", {in, "two"}, "inputs.twice"};
        struct node less = {"inputs", "Sub", {"inputs.twice", "one"}, "inputs"};
        pb_msg(w, GRAPH_NODE, emit_node, &twice);
        pb_msg(w, GRAPH_NODE, emit_node, &less);
        in = "inputs";
    }
    for (int l = 0; l < x->L; l++) {
        const int last = l + 1 == x->L;
        struct node gemm = {name[2][l], "Gemm", {in, name[0][l], name[1][l]},
                            last ? "logits" : name[2][l]};
        pb_msg(w, GRAPH_NODE, emit_node, &gemm);
        if (last)
            break;
        if (x->scaled_tanh) {   /* A tanh(B x) */
            struct node bx = {name[4][l], "Mul", {name[2][l], "scaled_tanh.b"}, name[4][l]};
            struct node t = {name[5][l], "Tanh", {name[4][l]}, name[5][l]};
            struct node a = {name[3][l], "Mul", {name[5][l], "scaled_tanh.a"}, name[3][l]};
            pb_msg(w, GRAPH_NODE, emit_node, &bx);
            pb_msg(w, GRAPH_NODE, emit_node, &t);
            pb_msg(w, GRAPH_NODE, emit_node, &a);
        } else {
            struct node act = {name[3][l], x->act_op, {name[2][l]}, name[3][l]};
            pb_msg(w, GRAPH_NODE, emit_node, &act);
        }
        in = name[3][l];
    }
    struct node head = {"head", x->head_op, {"logits"}, "probabilities"};
    pb_msg(w, GRAPH_NODE, emit_node, &head);
    pb_str(w, GRAPH_NAME, "mnist_mlp");
    for (int l = 0; l < x->L; l++) {
        struct tensor W = {name[0][l], 2, {x->size[l], x->size[l + 1]}, x->W[l]};
        struct tensor b = {name[1][l], 1, {x->size[l + 1]}, x->b[l]};
        pb_msg(w, GRAPH_INITIALIZER, emit_tensor, &W);
        pb_msg(w, GRAPH_INITIALIZER, emit_tensor, &b);
    }
    const struct tensor scalars[] = {{"two", 0, {0}, &TWO}, {"one", 0, {0}, &ONE},
                                     {"scaled_tanh.a", 0, {0}, &STANH_A},
                                     {"scaled_tanh.b", 0, {0}, &STANH_B}};
    for (int i = x->pm1 ? 0 : 2; i < (x->scaled_tanh ? 4 : 2); i++)
        pb_msg(w, GRAPH_INITIALIZER, emit_tensor, &scalars[i]);
    struct value pixels = {"pixels", x->size[0]};
    struct value probs = {"probabilities", x->size[x->L]}, logits = {"logits", x->size[x->L]};
    pb_msg(w, GRAPH_INPUT, emit_value, &pixels);
    pb_msg(w, GRAPH_OUTPUT, emit_value, &probs);
    pb_msg(w, GRAPH_OUTPUT, emit_value, &logits);
}

static void emit_model(struct sink *w, const void *ctx)
{
    const struct export *x = ctx;
    pb_int(w, MODEL_IR_VERSION, ONNX_IR_VERSION);
    pb_str(w, MODEL_PRODUCER_NAME, CONFIG_PRODUCT);
    pb_str(w, MODEL_PRODUCER_VERSION, TRAIN_VERSION);
    pb_str(w, MODEL_DOC, "An MLP trained on MNIST by " CONFIG_PRODUCT ". Input pixels: float "
           "[N, inputs], each pixel/255. Outputs: probabilities (the head's outputs) and "
           "logits. The metadata holds the training settings.");
    pb_msg(w, MODEL_GRAPH, emit_graph, x);
    pb_msg(w, MODEL_OPSET, emit_opset, NULL);
    for (int i = 0; i < x->n_meta; i++) {
        struct entry m = {x->key[i], x->value[i]};
        pb_msg(w, MODEL_METADATA, emit_entry, &m);
    }
}

/* ---- the model as an export ---- */

static const char *act_op(enum act a)
{
    switch (a) {
    case ACT_RELU: return "Relu";
    case ACT_TANH: return "Tanh";
    case ACT_SIGMOID: return "Sigmoid";
    case ACT_SCALED_TANH: return "Tanh";   /* between two Muls */
    }
    return NULL;
}

static void export_free(struct export *x)
{
    for (int i = 0; i < x->n_meta; i++)
        if (x->owned[i])
            free(x->value[i]);
    x->n_meta = 0;
}

static int add_meta(struct export *x, const char *key, char *value, int owned)
{
    if (!value || x->n_meta == META_MAX) {
        if (owned)
            free(value);
        return -1;
    }
    x->key[x->n_meta] = key;
    x->value[x->n_meta] = value;
    x->owned[x->n_meta++] = (char)owned;
    return 0;
}

static char *text_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *text_of(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n < 0 ? NULL : malloc((size_t)n + 1);
    if (s) {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return s;
}

/* metadata: each stored setting (strings as they are, other values as JSON),
 * then what a user of the file needs to feed it and read it */
static int add_settings(struct export *x, cJSON *settings, const struct config *c,
                        const struct checkpoint *ck)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, settings) {
        if (cJSON_IsString(s)) {
            if (add_meta(x, s->string, s->valuestring, 0))
                return -1;
        } else if (add_meta(x, s->string, cJSON_PrintUnformatted(s), 1)) {
            return -1;
        }
    }
    const int pairs = c->task == TASK_PAIRS;
    const char *layout = pairs ? "28 rows of 56 pixels, row-major: row r is row r of the "
                                 "left image, then row r of the right one"
                               : "28 rows of 28 pixels, row-major";
    if (add_meta(x, "input", text_of("pixels: float [N, %d], each pixel/255 in [0, 1]; %s",
                                     x->size[0], layout), 1) ||
        add_meta(x, "outputs", text_of("probabilities: %s of the logits, float [N, %d]; logits: "
                                       "float [N, %d]", x->head_op, x->size[x->L],
                                       x->size[x->L]), 1) ||
        add_meta(x, "weights", text_of("fp32%s", c->precision == PRECISION_BF16 ?
                                       " master weights of a model trained with bf16 products"
                                       : ""), 1) ||
        add_meta(x, "epochs_trained", text_of("%u", ck->epoch), 1))
        return -1;
    return 0;
}

static int export_init(struct export *x, cJSON **settings, const struct config *c,
                       const struct checkpoint *ck, struct err *e)
{
    memset(x, 0, sizeof *x);
    *settings = NULL;
    x->L = (int)ck->L;
    for (int l = 0; l <= x->L; l++)
        x->size[l] = (int)ck->size[l];
    /* the parameter block: [W_0 .. W_{L-1} | b_0 .. b_{L-1}] (mlp.h) */
    uint64_t off = 0;
    for (int l = 0; l < x->L; l++) {
        x->W[l] = ck->params ? ck->params + off : NULL;
        off += (uint64_t)x->size[l] * (uint64_t)x->size[l + 1];
    }
    for (int l = 0; l < x->L; l++) {
        x->b[l] = ck->params ? ck->params + off : NULL;
        off += (uint64_t)x->size[l + 1];
    }
    if (off != ck->n_params)
        return err_set(e, ERR_DATA, "%s: %llu parameters, its layers need %llu", c->load,
                       (unsigned long long)ck->n_params, (unsigned long long)off);
    const struct head head = trainer_head(c);
    x->head_op = head_onnx_op(&head);
    x->act_op = act_op((enum act)c->activation);
    x->scaled_tanh = c->activation == ACT_SCALED_TANH;
    x->pm1 = c->input_range == INPUT_PM1;
    if (c->deskew)
        return err_set(e, ERR_UNAVAILABLE, "export: %s deskews every image before the network "
                       "sees it (--deskew), a step ONNX's operators do not express; the file "
                       "would give wrong answers on raw images", c->load);
    *settings = cJSON_Parse(ck->config ? ck->config : "");
    if (!x->act_op || !*settings)
        return err_set(e, ERR_DATA, "%s: the model's settings cannot be read", c->load);
    if (add_settings(x, *settings, c, ck))
        return err_set(e, ERR_SOFTWARE, "export: out of memory (the model's settings)");
    return 0;
}

uint64_t onnx_size(const struct config *c, const struct checkpoint *ck)
{
    struct export x;
    cJSON *settings;
    struct err e = {0};
    struct sink count = {0};
    if (!export_init(&x, &settings, c, ck, &e))
        emit_model(&count, &x);
    export_free(&x);
    cJSON_Delete(settings);
    return count.n;
}

int onnx_write(const char *path, const struct config *c, const struct checkpoint *ck,
               struct err *e)
{
    struct export x;
    cJSON *settings;
    struct sink w = {0};
    int rc = export_init(&x, &settings, c, ck, e);
    if (!rc) {
        emit_model(&w, &x);   /* counts: the file's size */
        if (w.n > ONNX_MAX_BYTES)
            rc = err_set(e, ERR_CANTCREAT, "export: %s: the model would take %.2f GB in ONNX; "
                         "protobuf holds at most 2 GB in one file", path, (double)w.n / 1e9);
    }
    struct afile a;
    if (!rc && !(rc = afile_open(&a, path, 0, e))) {
        w = (struct sink){a.f, 0, 0};
        emit_model(&w, &x);   /* a failed write leaves the stream in error: commit says so */
        rc = afile_commit(&a, e);
    }
    export_free(&x);
    cJSON_Delete(settings);
    return rc;
}
