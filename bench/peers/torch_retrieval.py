#!/usr/bin/env python3
"""PyTorch peers for Engram's retrieval, timed on random data of the same shapes.

Two peers, each named in its JSON lines:
- torch: the obvious PyTorch CPU code for everything Engram's retrieval returns: out = softmax(beta * q @ X.T) @ V,
  entropy and confidence 1 - H/log M, cosine top-k (norms of X precomputed, as Engram precomputes them when patterns
  are stored);
- torch-sdpa: PyTorch's scaled-dot-product attention for the output alone. Torch 1.13 has only the private
  F._scaled_dot_product_attention, with the fixed scale 1/sqrt(d), so beta is folded into the queries:
  q' = q * beta * sqrt(d). Its output is checked against the obvious code's before it is timed.
Each is timed with its fastest (torch threads, BLAS threads) configuration on --threads cores (peerlib).

usage: torch_retrieval.py --cases 1x1000000x32,64x1000000x32 [--threads 2] [--reps 5] [--beta 0.125] [--k 10]
                          [--peers torch,torch-sdpa]
"""
import argparse
import math

import torch
import torch.nn.functional as F

import peerlib


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


def sdpa_output(q, X, V, beta):
    d = q.shape[1]
    out, _ = F._scaled_dot_product_attention((q * (beta * math.sqrt(d)))[None], X[None], V[None])
    return out[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--beta", type=float, default=0.125)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--peers", default="torch,torch-sdpa")
    a = ap.parse_args()
    peers = a.peers.split(",")
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    with torch.inference_mode():
        torch.rand(64, 64) @ torch.rand(64, 64)  # load the BLAS before asking which one it is
    blas = peerlib.loaded_blas(("libtorch_cpu",), static_mkl=torch.backends.mkl.is_available())
    records = {
        "torch": peerlib.peer_record("torch", "output, entropy, confidence, top-k", torch.get_num_threads(),
                                     "PyTorch " + torch.__version__, blas),
        "torch-sdpa": peerlib.peer_record("torch-sdpa", "output", torch.get_num_threads(),
                                          "PyTorch " + torch.__version__, blas),
    }
    for name in peers:
        if name not in records:
            raise SystemExit("--peers: unknown peer '%s' (known: %s)" % (name, ", ".join(records)))
        peerlib.announce(records[name])
    configs = peerlib.thread_configurations(a.threads)

    def apply(config):
        torch.set_num_threads(config[0])
        peerlib.set_blas_threads(blas, config[1])

    for B, M, d in peerlib.parse_cases(a.cases, 3):
        X = torch.rand(M, d) * 2 - 1
        q = torch.rand(B, d) * 2 - 1
        x_inv_norm = 1.0 / X.norm(dim=1)
        with torch.inference_mode():
            if "torch" in peers:
                c, stats = peerlib.fastest_stats(lambda: retrieve(q, X, X, x_inv_norm, a.beta, a.k), configs, apply,
                                                 a.reps)
                peerlib.emit(records["torch"], B=B, M=M, d=d, threads=c[0],
                             blas_threads=peerlib.current_blas_threads(blas), **stats)
            if "torch-sdpa" in peers:
                diff = (sdpa_output(q, X, X, a.beta) - retrieve(q, X, X, x_inv_norm, a.beta, a.k)[0]).abs().max()
                if not diff <= 1e-4:
                    raise SystemExit("torch-sdpa: output differs from the obvious code's by %g (> 1e-4)" % diff)
                c, stats = peerlib.fastest_stats(lambda: sdpa_output(q, X, X, a.beta), configs, apply, a.reps)
                peerlib.emit(records["torch-sdpa"], B=B, M=M, d=d, threads=c[0],
                             blas_threads=peerlib.current_blas_threads(blas), **stats)
        del X, q, x_inv_norm


if __name__ == "__main__":
    main()
