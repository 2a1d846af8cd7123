#!/usr/bin/env python3
"""The obvious PyTorch CPU code for Engram's retrieval, timed on random data of the same shapes.

out = softmax(beta * q @ X.T) @ V, entropy and confidence 1 - H/log M, cosine top-k (norms of X precomputed,
as Engram precomputes them when patterns are stored). Prints one JSON object per case on stdout.

usage: torch_retrieval.py --cases 1x1000000x32,64x1000000x32 [--threads 2] [--reps 5] [--beta 0.125] [--k 10]
"""
import argparse
import json
import math
import statistics
import time

import torch


def retrieve(q, X, V, x_inv_norm, beta, k):
    s = q @ X.T
    logp = torch.log_softmax(beta * s, dim=1)
    p = logp.exp()
    out = p @ V
    entropy = -(p * logp).sum(dim=1)
    confidence = 1 - entropy / math.log(X.shape[0])
    cos = s * x_inv_norm[None, :] / q.norm(dim=1, keepdim=True)
    top = torch.topk(cos, k, dim=1)
    return out, entropy, confidence, top.indices, top.values


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--beta", type=float, default=0.125)
    ap.add_argument("--k", type=int, default=10)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    for case in a.cases.split(","):
        B, M, d = (int(v) for v in case.lower().split("x"))
        X = torch.rand(M, d) * 2 - 1
        q = torch.rand(B, d) * 2 - 1
        x_inv_norm = 1.0 / X.norm(dim=1)
        times = []
        with torch.inference_mode():
            retrieve(q, X, X, x_inv_norm, a.beta, a.k)  # warm-up
            for _ in range(a.reps):
                t0 = time.perf_counter()
                retrieve(q, X, X, x_inv_norm, a.beta, a.k)
                times.append((time.perf_counter() - t0) * 1e3)
        print(json.dumps({"B": B, "M": M, "d": d, "ms": statistics.median(times), "min_ms": min(times),
                          "reps": a.reps, "threads": torch.get_num_threads(), "torch": torch.__version__}),
              flush=True)


if __name__ == "__main__":
    main()
