#!/usr/bin/env python3
"""The design text's per-bar backtest loop, the peer of `engram bench backtest`.

For every decision bar t, one at a time: the market pattern from a rolling pandas window over the bars up to t
(d = 11 numbers: the last five log returns, the 5/10/20-bar momentum, the 20-bar volatility, the bar's range and its
volume z-score, each as pandas rolling statistics over the window), then one PyTorch retrieval against the memory
(M x 11 patterns, outcomes V): out = softmax(beta * q @ X.T) @ V, confidence 1 - H/log M, cosine top-k; then the
signal rule (long above +threshold, short below -threshold, flat below a confidence threshold). The memory's values do
not change the work, so it is random (seeded); the bars are a seeded random walk.

usage: backtest_loop.py --sizes 100000,1000000 [--bars 300] [--threads 2] [--beta 0.125] [--k 10]
prints one JSON line per M (peerlib): bars, seconds, bars_per_s.
"""
import argparse
import math
import time

import numpy as np
import pandas as pd
import torch

import peerlib

LOOKBACK = 64


def pattern(frame):
    """The 11 features of the window's last bar, from pandas rolling statistics."""
    r = np.log(frame["close"]).diff()
    vol20 = r.rolling(20).std().iloc[-1]
    last5 = (r.iloc[-5:] / vol20).to_numpy()
    mom = [r.rolling(n).sum().iloc[-1] / (vol20 * math.sqrt(n)) for n in (5, 10, 20)]
    rng = ((frame["high"] - frame["low"]) / frame["close"]).iloc[-1] / vol20
    v = frame["volume"]
    vz = (v.iloc[-1] - v.rolling(20).mean().iloc[-1]) / v.rolling(20).std().iloc[-1]
    return np.concatenate([last5, mom, [vol20, rng, vz]]).astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", required=True)
    ap.add_argument("--bars", type=int, default=300)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--beta", type=float, default=0.125)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--threshold", type=float, default=0.1)
    ap.add_argument("--min-confidence", type=float, default=0.5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    with torch.inference_mode():
        torch.rand(64, 64) @ torch.rand(64, 64)  # load the BLAS before asking which one it is
    blas = peerlib.loaded_blas(("libtorch_cpu",), static_mkl=torch.backends.mkl.is_available())
    record = peerlib.peer_record("pandas+torch per-bar loop",
                                 "pattern (rolling pandas window), softmax retrieval, confidence, top-k, signal",
                                 torch.get_num_threads(), "PyTorch %s, pandas %s" % (torch.__version__, pd.__version__),
                                 blas)
    peerlib.announce(record)
    rnd = np.random.default_rng(0)
    n = LOOKBACK + a.bars
    close = 100 * np.exp(np.cumsum(0.01 * rnd.standard_normal(n)))
    bars = pd.DataFrame({"close": close, "high": close * 1.005, "low": close * 0.995,
                         "volume": 1000 + 100 * rnd.random(n)})
    d = 11
    for m in (int(s) for s in a.sizes.split(",")):
        X = torch.randn(m, d)
        V = 0.01 * torch.randn(m, 1)
        x_inv_norm = 1 / X.norm(dim=1)
        positions = []
        with torch.inference_mode():
            for warm in (True, False):
                start = time.perf_counter()
                for t in range(LOOKBACK, n if not warm else LOOKBACK + 5):
                    q = torch.from_numpy(pattern(bars.iloc[t - LOOKBACK + 1:t + 1]))[None]
                    s = q @ X.T
                    logp = torch.log_softmax(a.beta * s, dim=1)
                    p = logp.exp()
                    out = (p @ V).item()
                    conf = 1 - (-(p * logp).sum()).item() / math.log(m)
                    cos = s * x_inv_norm[None, :] / q.norm()
                    torch.topk(cos, a.k, dim=1)
                    pos = 0.0
                    if conf >= a.min_confidence:
                        pos = 1.0 if out > a.threshold * 0.01 else (-1.0 if out < -a.threshold * 0.01 else 0.0)
                    positions.append(pos)
                seconds = time.perf_counter() - start
        peerlib.emit(record, M=m, d=d, bars=a.bars, seconds=seconds, bars_per_s=a.bars / seconds)


if __name__ == "__main__":
    main()
