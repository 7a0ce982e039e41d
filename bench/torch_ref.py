#!/usr/bin/python3
"""The peer for bench/compare.sh: the same benchmark configs in PyTorch on the CPU.

    python3 bench/torch_ref.py --config bench/configs/mid.json --head sigmoid \
        --threads 2 [--epochs N] [--data-dir DIR]

Same network, init scheme (He-uniform for relu hidden layers, Glorot-uniform
for the output layer, biases 0), loss (softmax: cross-entropy averaged over
the batch; sigmoid: binary cross-entropy summed over the 10 outputs, averaged
over the batch, as train's loss bce), optimizer (SGD with momentum
0.9, PyTorch's v = mu v + g, w -= lr v, which is train's rule) and batching
(a new permutation every epoch, the last batch smaller; batches gathered by
index from uint8 tensors held in memory and scaled to [0,1]).

Set up at its best on this kind of machine, as `bench/run.sh compare` (make bench-compare) runs it:
Debian's python3-torch uses whatever libblas.so.3 is found, so the OpenMP
build of OpenBLAS (libopenblas0-openmp) goes first on LD_LIBRARY_PATH, torch
gets --threads intra-op threads (OMP_NUM_THREADS the same) and one inter-op
thread; evaluation runs under torch.no_grad().

Prints one JSON line with the fields bench.c prints that apply here.
"""
import argparse
import gzip
import json
import os
import resource
import statistics
import struct
import sys
import time

import numpy as np
import torch


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find(data_dir, name):
    for suffix in (".gz", ""):
        p = os.path.join(data_dir, name + suffix)
        if os.path.exists(p):
            return p
    sys.exit(f"torch_ref: {os.path.join(data_dir, name)}: not found")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--head", choices=["softmax", "sigmoid"], default="softmax")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--data-dir", default=os.environ.get("MNIST_DIR", "data/mnist"))
    a = ap.parse_args()
    with open(a.config) as f:
        cfg = json.load(f)
    epochs = a.epochs or cfg.get("epochs", 3)
    seed = a.seed if a.seed is not None else cfg.get("seed", 1)
    B, lr, mu = cfg["batch_size"], cfg["lr"], cfg.get("momentum", 0.9)
    hidden = cfg["hidden"]

    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(seed)

    t0 = time.perf_counter()
    xtr = read_idx(find(a.data_dir, "train-images-idx3-ubyte"))
    ytr = read_idx(find(a.data_dir, "train-labels-idx1-ubyte"))
    xte = read_idx(find(a.data_dir, "t10k-images-idx3-ubyte"))
    yte = read_idx(find(a.data_dir, "t10k-labels-idx1-ubyte"))
    load = time.perf_counter() - t0
    Xtr = torch.from_numpy(xtr.reshape(len(xtr), -1).copy())
    Ytr = torch.from_numpy(ytr.astype(np.int64))
    Xte = torch.from_numpy(xte.reshape(len(xte), -1).copy()).float().div_(255)
    Yte = torch.from_numpy(yte.astype(np.int64))
    n, d = Xtr.shape

    sizes = [d] + hidden + [10]
    layers = []
    for i in range(len(sizes) - 1):
        lin = torch.nn.Linear(sizes[i], sizes[i + 1])
        last = i == len(sizes) - 2
        if last:
            torch.nn.init.xavier_uniform_(lin.weight)
        else:
            torch.nn.init.kaiming_uniform_(lin.weight, nonlinearity="relu")
        torch.nn.init.zeros_(lin.bias)
        layers.append(lin)
        if not last:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=mu)
    eye = torch.eye(10)

    def loss_fn(z, y):
        if a.head == "softmax":
            return torch.nn.functional.cross_entropy(z, y)
        return torch.nn.functional.binary_cross_entropy_with_logits(
            z, eye[y], reduction="sum") / z.shape[0]

    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(n)
        for i in range(0, n, B):
            idx = perm[i:i + B]
            x = Xtr[idx].float().div_(255)
            loss = loss_fn(model(x), Ytr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    with torch.no_grad():
        acc = (model(Xte).argmax(1) == Yte).float().mean().item()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    med = statistics.median(times)
    print(json.dumps({
        "hidden": "-".join(map(str, sizes)), "head": a.head, "batch": B,
        "threads": a.threads, "n_train": n, "epochs": epochs,
        "load_seconds": round(load, 4), "epoch_seconds": [round(t, 4) for t in times],
        "epoch_seconds_median": round(med, 4), "samples_per_second": round(n / med),
        "peak_rss_mb": round(rss, 1), "test_accuracy": round(acc, 4),
        "torch": torch.__version__}))


if __name__ == "__main__":
    main()
