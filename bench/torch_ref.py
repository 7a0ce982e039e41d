#!/usr/bin/python3
"""The peer for bench/compare.sh: the same benchmark configs in PyTorch on the CPU.

    python3 bench/torch_ref.py --config bench/configs/mid.json --head sigmoid \
        --threads 2 [--epochs N] [--seed N] [--precision fp32|bf16] [--data-dir DIR]

Same network, init scheme (He-uniform for relu hidden layers, Glorot-uniform
for the output layer, biases 0), loss (softmax: cross-entropy averaged over
the batch; sigmoid: binary cross-entropy summed over the 10 outputs, averaged
over the batch, as train's loss bce), optimizer (SGD with momentum
0.9, PyTorch's v = mu v + g, w -= lr v, which is train's rule) and batching
(a new permutation every epoch, the last batch smaller; batches gathered by
index from uint8 tensors held in memory and scaled to [0,1]).

The fast recipe's keys (configs/fast-*.json) are followed too: "deskew" (the
same moments and bilinear map as src/data/deskew.c, as PyTorch's own affine_grid
and grid_sample, on every image before training, timed as part of the load), "dropout" (inverted, after each
hidden ReLU), "augment": "shift:N" (per image, integer (dx, dy) uniform in
-N..N, zero fill), "lr_schedule" cosine or constant (per epoch, train's
formula). --precision bf16 runs the forward pass under CPU autocast to bf16
(fp32 weights and optimizer, the loss on fp32 logits), where PyTorch has it.

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
import math
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


def deskew(x, chunk=10000):
    """src/data/deskew.c in PyTorch: centre of mass to the middle, slant sheared
    away, one affine grid per image (bilinear, zero outside), rounded to uint8."""
    n, H, W = x.shape
    out = torch.empty(x.shape, dtype=torch.uint8)
    ys = torch.arange(H, dtype=torch.float64)[None, :, None]
    xs = torch.arange(W, dtype=torch.float64)[None, None, :]
    oy, ox = (H - 1) / 2.0, (W - 1) / 2.0
    for a in range(0, n, chunk):
        img = torch.from_numpy(x[a:a + chunk].astype(np.float64))
        m = img.sum((1, 2))
        ink = m > 0
        m = torch.where(ink, m, torch.ones_like(m))
        cx = torch.where(ink, (img * xs).sum((1, 2)) / m, torch.full_like(m, ox))
        cy = torch.where(ink, (img * ys).sum((1, 2)) / m, torch.full_like(m, oy))
        dy = ys - cy[:, None, None]
        vyy = (img * dy * dy).sum((1, 2))
        vxy = (img * dy * (xs - cx[:, None, None])).sum((1, 2))
        slant = torch.where(vyy > 1e-3 * m, vxy / vyy.clamp(min=1e-30), torch.zeros_like(m))
        # output (u, v) in [-1, 1] samples the source at
        # (u + slant (H-1)/(W-1) v + 2 (cx - ox)/(W-1), v + 2 (cy - oy)/(H-1))
        theta = torch.zeros(len(img), 2, 3, dtype=torch.float64)
        theta[:, 0, 0] = 1
        theta[:, 0, 1] = slant * (H - 1) / (W - 1)
        theta[:, 0, 2] = 2 * (cx - ox) / (W - 1)
        theta[:, 1, 1] = 1
        theta[:, 1, 2] = 2 * (cy - oy) / (H - 1)
        grid = torch.nn.functional.affine_grid(theta.float(), (len(img), 1, H, W), align_corners=True)
        v = torch.nn.functional.grid_sample(img.float()[:, None], grid, mode="bilinear",
                                            padding_mode="zeros", align_corners=True)
        out[a:a + chunk] = v[:, 0].round().clamp(0, 255).to(torch.uint8)
    return out.numpy()


def shift_batch(x, n, gen):
    """x: (B, H, W) floats; each image moved by (dx, dy) uniform in -n..n, zero fill."""
    B, H, W = x.shape
    d = torch.randint(-n, n + 1, (2, B), generator=gen)
    p = torch.nn.functional.pad(x, (n, n, n, n))
    rows = torch.arange(H)[None, :] + (n - d[1])[:, None]
    cols = torch.arange(W)[None, :] + (n - d[0])[:, None]
    return p[torch.arange(B)[:, None, None], rows[:, :, None], cols[:, None, :]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--head", choices=["softmax", "sigmoid"])   # default: the config's, else softmax
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    ap.add_argument("--data-dir", default=os.environ.get("MNIST_DIR", "data/mnist"))
    a = ap.parse_args()
    with open(a.config) as f:
        cfg = json.load(f)
    epochs = a.epochs or cfg.get("epochs", 3)
    seed = a.seed if a.seed is not None else cfg.get("seed", 1)
    B, lr, mu = cfg["batch_size"], cfg["lr"], cfg.get("momentum", 0.9)
    hidden = cfg["hidden"]
    a.head = a.head or cfg.get("head", "softmax")
    p_drop = cfg.get("dropout", 0)
    augment = cfg.get("augment", "none")
    if augment != "none" and not augment.startswith("shift:"):
        sys.exit(f"torch_ref: augment {augment}: only shift:N here")
    shift = int(augment[6:]) if augment != "none" else 0
    schedule = cfg.get("lr_schedule", "constant")
    if schedule not in ("constant", "cosine"):
        sys.exit(f"torch_ref: lr_schedule {schedule}: only constant and cosine here")

    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(seed)

    t0 = time.perf_counter()
    xtr = read_idx(find(a.data_dir, "train-images-idx3-ubyte"))
    ytr = read_idx(find(a.data_dir, "train-labels-idx1-ubyte"))
    xte = read_idx(find(a.data_dir, "t10k-images-idx3-ubyte"))
    yte = read_idx(find(a.data_dir, "t10k-labels-idx1-ubyte"))
    if cfg.get("deskew"):
        xtr, xte = deskew(xtr), deskew(xte)
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
            if p_drop:
                layers.append(torch.nn.Dropout(p_drop))
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=mu)
    eye = torch.eye(10)

    def loss_fn(z, y):
        if a.head == "softmax":
            return torch.nn.functional.cross_entropy(z, y)
        return torch.nn.functional.binary_cross_entropy_with_logits(
            z, eye[y], reduction="sum") / z.shape[0]

    gen = torch.Generator().manual_seed(seed)
    side = xtr.shape[1:]
    autocast = a.precision == "bf16"
    times = []
    for e in range(epochs):
        t0 = time.perf_counter()
        if schedule == "cosine":
            for g in opt.param_groups:
                g["lr"] = lr * 0.5 * (1 + math.cos(math.pi * e / epochs))
        model.train()
        perm = torch.randperm(n)
        for i in range(0, n, B):
            idx = perm[i:i + B]
            x = Xtr[idx].float().div_(255)
            if shift:
                x = shift_batch(x.view(-1, *side), shift, gen).reshape(len(idx), -1)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
                z = model(x)
            loss = loss_fn(z.float(), Ytr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    model.eval()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        acc = (model(Xte).argmax(1) == Yte).float().mean().item()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    med = statistics.median(times)
    print(json.dumps({
        "hidden": "-".join(map(str, sizes)), "head": a.head, "batch": B,
        "threads": a.threads, "n_train": n, "epochs": epochs, "seed": seed,
        "precision": a.precision, "train_seconds": round(sum(times), 4),
        "load_seconds": round(load, 4), "epoch_seconds": [round(t, 4) for t in times],
        "epoch_seconds_median": round(med, 4), "samples_per_second": round(n / med),
        "peak_rss_mb": round(rss, 1), "test_accuracy": round(acc, 4),
        "torch": torch.__version__}))


if __name__ == "__main__":
    main()
