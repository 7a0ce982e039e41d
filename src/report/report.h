/* report: everything train prints on stdout. Text for people; with --json, one
 * JSON object per line and nothing else (field names are documented in the
 * README and are a stable interface for scripts). */
#ifndef REPORT_H
#define REPORT_H

#include <stdio.h>

#include "../config/config.h"
#include "../train/outstats.h"
#include "../train/train.h"
#include "../util/afile.h"

struct reporter {
    FILE *out;
    const struct config *cfg;
    struct err *err;          /* where a failed write is recorded */
    FILE *metrics;            /* --metrics, or NULL */
    FILE *progress;           /* the live progress line (a terminal), or NULL */
    struct afile metrics_file;
};

/* Open --metrics and decide on the progress line. A new run replaces the
 * metrics file (atomically, util/afile.h) with one holding the header; a run
 * resumed after `resumed_epochs` complete epochs (-1: not resuming) keeps the
 * existing file's rows of those epochs, drops rows of later epochs (written
 * by the interrupted run after its checkpoint; they are written again) and
 * appends. A file that is not a metrics file of train is not touched (ERR_DATA). */
int report_open(struct reporter *r, int resumed_epochs, struct err *e);
/* ERR_IO when the metrics file could not be completed */
int report_close(struct reporter *r);
/* a progress_fn: redraws one line in place */
void report_progress(int epoch, int epochs, uint32_t done, uint32_t total, double loss,
                     double seconds, void *reporter);

struct run_summary {
    struct eval test;
    const struct outstats *outstats;  /* the head report, or NULL without --report */
    const struct class_figures *classes;  /* classify: per-class figures, else NULL */
    bool per_label;                  /* pairs: report per-label F1 from test.score */
    bool predictions;                /* a --predictions file was written, with this CRC-32 */
    unsigned long predictions_crc32;
    int epochs;
    double train_seconds, load_seconds, seconds;
    const struct dataset *train_set, *test_set;   /* their files' CRC-32s: which data were read */
    /* --patience: the epoch whose weights are reported (else 0), its
     * validation accuracy, the epochs trained and whether patience ran out */
    int kept_epoch, epochs_trained;
    double kept_val_accuracy;
    bool patience_stop;
};

/* ERR_IO when stdout cannot be written (closed, a broken pipe) */
int report_header(const struct reporter *r, const struct mlp *m, const struct dataset *train,
                  const struct dataset *val, const struct dataset *test, double load_seconds);
/* an epoch_fn: prints one epoch; non-zero when stdout cannot be written */
int report_epoch(const struct epoch_stats *s, void *reporter);
/* in text mode the head report comes before the final accuracy line */
int report_summary(const struct reporter *r, const struct run_summary *s);

/* --predict output for nb images starting at index `from`: CSV rows
 * index,prediction,p0.. or JSON lines {"type":"prediction",...}; the
 * prediction (the first argmax of the logits) only when logits is not NULL */
void report_prediction_rows(FILE *f, bool json, uint32_t from, const float *probs,
                            const float *logits, int nb, int K);

/* CSV, one row per test image: index,label,prediction,p0..p(K-1); atomic.
 * *crc: the CRC-32 (zlib's) of the bytes written, which the summary records */
int report_predictions(const char *path, const float *probs, const int *pred,
                       const uint8_t *labels, long long n, int K, unsigned long *crc,
                       struct err *e);

#endif
