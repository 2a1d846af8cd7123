#!/usr/bin/env python3
"""PyTorch on the GPU beside Engram's retrieval kernels, at the same shapes (native-build/gpu-check.sh runs it).

Per case BxMxd (V = X, beta, top-k k) and dtype (float32, bfloat16), timed with CUDA events (median of --reps after
warm-up), one JSON line each, printed and appended to --json:
  matmul_softmax_topk  the obvious code: S = q @ X.T, p = softmax(beta*S), out = p @ X, entropy, cosine top-k
  sdpa                 torch.nn.functional.scaled_dot_product_attention(q, X, X, scale=beta): output only
  cublas_gemm          S = q @ X.T alone: the cuBLAS GEMM every score-matrix approach starts with
A case that does not fit in device memory is reported as skipped, never a crash.

usage: torch_gpu_retrieval.py --cases 1x10000000x64,64x10000000x64 [--dtypes float32,bfloat16] [--reps 20]
                              [--beta 0.125] [--k 10] [--json FILE]
"""
import argparse
import json
import math
import sys


def emit(obj, path):
    line = json.dumps(obj)
    print(line, flush=True)
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


def parse_cases(text):
    out = []
    for c in text.split(","):
        parts = c.lower().split("x")
        if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
            raise SystemExit(f"error: --cases entry '{c}' is not BxMxd with positive integers")
        out.append(tuple(int(p) for p in parts))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default="1x10000000x64,64x10000000x64")
    ap.add_argument("--dtypes", default="float32,bfloat16")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--beta", type=float, default=0.125)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    cases = parse_cases(a.cases)
    if a.reps < 1:
        raise SystemExit(f"error: --reps must be >= 1, got {a.reps}")
    try:
        import torch
        import torch.nn.functional as F
    except ImportError as e:
        emit({"peer": "torch", "skipped": f"PyTorch is not installed: {e}"}, a.json)
        return 0
    if not torch.cuda.is_available():
        emit({"peer": "torch", "skipped": "torch.cuda.is_available() is False"}, a.json)
        return 0
    dev = torch.device("cuda")
    name = torch.cuda.get_device_name(0)

    def timed(fn):
        for _ in range(3):
            fn()
        torch.cuda.synchronize()
        times = []
        for _ in range(a.reps):
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
            fn()
            e.record()
            e.synchronize()
            times.append(s.elapsed_time(e))
        times.sort()
        return times[len(times) // 2]

    for dtype_name in a.dtypes.split(","):
        dtype = getattr(torch, dtype_name, None)
        if not isinstance(dtype, torch.dtype):
            raise SystemExit(f"error: --dtypes entry '{dtype_name}' is not a torch dtype")
        for (B, M, d) in cases:
            base = {"peer": "torch", "torch": torch.__version__, "device": name, "dtype": dtype_name, "B": B, "M": M,
                    "d": d, "k": a.k, "beta": a.beta, "reps": a.reps}
            try:
                g = torch.Generator(device=dev).manual_seed(0)
                X = (torch.rand(M, d, device=dev, generator=g) * 2 - 1).to(dtype)
                q = (torch.rand(B, d, device=dev, generator=g) * 2 - 1).to(dtype)
                inv = 1.0 / X.float().norm(dim=1)
                logM = math.log(M)

                def full():
                    s = q @ X.T
                    logp = torch.log_softmax(a.beta * s.float(), dim=1)
                    p = logp.exp()
                    out = p.to(dtype) @ X
                    ent = -(p * logp).sum(dim=1)
                    conf = 1 - ent / logM
                    cos = s.float() * inv[None, :] / q.float().norm(dim=1, keepdim=True)
                    return out, conf, torch.topk(cos, a.k, dim=1)

                def sdpa():
                    return F.scaled_dot_product_attention(q[None, None], X[None, None], X[None, None], scale=a.beta)

                def gemm():
                    return q @ X.T

                bytes_x = M * d * X.element_size()
                with torch.inference_mode():
                    for label, fn in (("matmul_softmax_topk", full), ("sdpa", sdpa), ("cublas_gemm", gemm)):
                        try:
                            ms = timed(fn)
                            emit(dict(base, op=label, ms=ms, GBps_X=bytes_x / (ms * 1e-3) / 1e9), a.json)
                        except torch.OutOfMemoryError as e:
                            emit(dict(base, op=label, skipped=f"out of device memory: {str(e).splitlines()[0]}"), a.json)
                        except RuntimeError as e:
                            emit(dict(base, op=label, skipped=f"{type(e).__name__}: {str(e).splitlines()[0]}"), a.json)
                del X, q, inv
                torch.cuda.empty_cache()
            except torch.OutOfMemoryError as e:
                emit(dict(base, skipped=f"out of device memory: {str(e).splitlines()[0]}"), a.json)
                torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main())
