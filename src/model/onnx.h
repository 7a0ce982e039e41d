/* onnx: --export, a saved model as a standard ONNX file (opset 13), written
 * with the protobuf wire format directly (field numbers of onnx.proto):
 *
 *   input  "pixels"         float [N, inputs]: the pixels scaled as train
 *                           scales them (pixel/255); inputs 784, or 1568 for
 *                           the pairs task (28 rows of 56: row r is row r of the
 *                           left image, then row r of the right one)
 *   output "probabilities"  float [N, outputs]: the head's outputs (softmax
 *                           probabilities, or one sigmoid per output)
 *   output "logits"         float [N, outputs]: what the head reads its answer
 *                           from (train's prediction is the first argmax of
 *                           these, or, for a sigmoid, logit > 0)
 *
 * The graph is one Gemm per layer (x W + b, W stored inputs x outputs as in the
 * model file), the hidden activation after each hidden layer, and the head's
 * operator (head_onnx_op). Weights are the model's fp32 parameters (a bf16
 * model's fp32 master weights, which `--precision fp32` evaluates with); the
 * settings stored in the model go into metadata_props, one entry per key.
 * Dropout and augmentation act only in training and are not in the graph. */
#ifndef ONNX_H
#define ONNX_H

#include <stdint.h>

#include "../config/config.h"
#include "../util/err.h"
#include "checkpoint.h"

#define ONNX_OPSET 13
#define ONNX_IR_VERSION 7   /* the IR of opset 13 (ONNX 1.8) */
/* protobuf's limit on one message: a larger model needs external data files */
#define ONNX_MAX_BYTES 2147483647ull

/* the size of the ONNX file for model ck with settings c, in bytes */
uint64_t onnx_size(const struct config *c, const struct checkpoint *ck);

/* Write the ONNX file of ck to path, atomically (util/afile.h). A model over
 * ONNX_MAX_BYTES is refused (ERR_CANTCREAT) before anything is written. */
int onnx_write(const char *path, const struct config *c, const struct checkpoint *ck,
               struct err *e);

#endif
