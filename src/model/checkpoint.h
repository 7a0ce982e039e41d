/* checkpoint: the model file. A small versioned binary format, explicitly
 * little-endian, with a CRC-32 over the payload:
 *
 *   "TRAINMDL"  u32 version (2)  u32 flags (0)  u64 payload length  payload  u32 crc32
 *
 *   payload:  u32 n  config JSON (n bytes; the settings that define the model)
 *             u32 L  u32 size[L+1]  u64 n_params  f32 params[n_params]
 *             u32 has_state; when 1 (a checkpoint to resume from; every file
 *               train writes, final models too, so that they can be trained
 *               further with --resume --epochs N+k):
 *               u32 optimizer  i64 steps  u64 n_m  f32 m[n_m]  u64 n_v  f32 v[n_v]
 *               (n_m: n_params for momentum and adam, 0 for sgd, which has no
 *               state; files from before that hold n_params zeros for sgd, read
 *               and ignored. n_v: n_params for adam, else 0)
 *               u32 epochs done  u32 next sample in the epoch  f64 loss so far
 *               i64 correct so far  u64 rng[3][4] (shuffle, dropout, augment)
 *               u32 n_order  u32 order[n_order]
 *               version 2 on (version 1 files read as a run without --patience):
 *               u32 kept epoch  i64 its validation count  u32 stopped by patience
 *               u64 n_current  f32 current[n_current]
 *               (--patience: params are the weights of the best validation
 *               epoch so far, the kept epoch; current, n_params of them when
 *               there is a kept epoch, else none, the weights training
 *               continues from)
 *
 * Files are written atomically (util/afile.h): a crash or a full disk leaves
 * the previous file under the real name. Readers check every length against
 * what the buffer holds before using it. */
#ifndef CHECKPOINT_H
#define CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"
#include "../train/train.h"

#define CHECKPOINT_VERSION 2
/* The limits the reader applies; the writer refuses, before any training, a
 * model that would break them (checkpoint_check_fits). */
#define CHECKPOINT_MAX_BYTES (1ull << 32)
#define CHECKPOINT_MAX_WIDTH (1u << 21)

struct checkpoint {
    char *config;            /* JSON text, NUL-terminated */
    struct config *settings; /* that text decoded, once (config_load_stored, carried keys
                                included): every later use of the settings reads this */
    uint32_t L, size[MLP_MAX_LAYERS + 1];
    uint64_t n_params;
    float *params;
    uint32_t has_state;
    uint32_t optimizer;
    int64_t steps;
    uint64_t n_m, n_v;
    float *m, *v;
    uint32_t epoch, next;
    double loss;
    int64_t correct;
    uint64_t rng[3][4];
    uint32_t n_order;
    uint32_t *order;
    uint32_t kept_epoch, patience_stop;
    int64_t kept_correct;
    uint64_t n_current;
    float *current;
    uint32_t version;
};

/* Would the model file (with state) of the network spec, trained by c on
 * n_train samples, be one the reader accepts? ERR_USAGE naming path when not.
 * Needs no model: call it before anything is allocated. */
int checkpoint_check_fits(const struct config *c, const struct mlp_spec *spec, uint32_t n_train,
                          const char *path, struct err *e);
/* the bytes of such a file; moments: the optimizer's arrays of n_params
 * floats (0 sgd, 1 momentum, 2 adam) */
uint64_t checkpoint_file_bytes(uint32_t L, const uint32_t *size, int with_state, int moments,
                               uint32_t n_order, size_t config_len);

/* Write t's model (and with state, everything needed to resume) to path. */
int checkpoint_save(const char *path, const struct trainer *t, int with_state, struct err *e);

/* Parse a model file held in memory; `name` is what errors call it. The
 * file is untrusted: its stored settings are checked as config_load_stored
 * does (no location or output keys) and must agree with its layers and its
 * state; every random state must be a valid one (not all zero), the data
 * order a permutation, the position inside the epochs it was trained for. */
int checkpoint_parse(struct checkpoint *ck, const uint8_t *buf, size_t len, const char *name,
                     struct err *e);
int checkpoint_read(struct checkpoint *ck, const char *path, struct err *e);
void checkpoint_free(struct checkpoint *ck);

/* Can training continue from ck up to c->epochs? ERR_DATA for a final model
 * (no state), ERR_USAGE when ck is past c->epochs. */
int checkpoint_resumable(const struct checkpoint *ck, const struct config *c, const char *name,
                         struct err *e);
/* ck has trained all of c->epochs: resuming it only evaluates it */
int checkpoint_finished(const struct checkpoint *ck, const struct config *c);

/* The network a model file describes, for --predict and --resume alike: m
 * must be built from a config of the same kind (ERR_USAGE naming the first
 * key that differs) with the file's layers (ERR_DATA); its weights become
 * the file's. */
int checkpoint_load_weights(struct mlp *m, const struct checkpoint *ck, const struct config *c,
                            const char *name, struct err *e);

/* Put a read checkpoint into a trainer built from the same config: weights
 * always; optimizer, RNG and position too when resume is set. */
int checkpoint_restore(struct trainer *t, const struct checkpoint *ck, int resume,
                       const char *name, struct err *e);

#endif
