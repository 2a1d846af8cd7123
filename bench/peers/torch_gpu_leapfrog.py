#!/usr/bin/env python3
"""PyTorch on the GPU beside Engram's integration kernels (cuda/dev/integrate.cu), same model and sizes
(native-build/gpu-check.sh runs it).

The model: a tanh MLP H(q, p) = w3 . tanh(W2 tanh(W1 [q, p] + b1) + b2) + b3 (2n -> h -> h -> 1, weights
uniform(-1, 1)/sqrt(fan_in)), the seed's leapfrog (p -= dt/2 dH/dq; q += dt dH/dp; p -= dt/2 dH/dq: three gradients
per step), N trajectories batched, state in float32. Methods, one JSON line per (method, dtype, N):
  autograd          the obvious code: torch.autograd.grad of H.sum() for every half step (float32 only)
  handwritten       the gradient written out: forward, then backward through tanh with three GEMMs
                    (dH/dx = ((w3 * (1 - a2^2)) @ W2 * (1 - a1^2)) @ W1); in bfloat16 the GEMMs and activations are
                    bf16 (FP32 accumulate in cuBLAS) and the state stays float32, as in Engram's tensor kernel
  handwritten+graph the same, the whole --steps loop captured once in a CUDA graph and replayed (no launch overhead)
Before timing, the handwritten gradient is checked against autograd on 1,000 states (float32: max |diff| must be
< 1e-4 relative to max |grad|); a mismatch exits 1.
Timed with CUDA events: one run, then up to --reps more while they fit in --max-seconds (median reported); a case
predicted (from the previous N) to take longer than --max-seconds is reported as skipped, as is one that does not fit
in device memory.

usage: torch_gpu_leapfrog.py [--sizes 100000,1000000,10000000] [--dof 1] [--hidden 64] [--steps 100]
                             [--dtypes float32,bfloat16] [--methods autograd,handwritten,handwritten+graph]
                             [--reps 5] [--max-seconds 8] [--device cuda] [--json FILE]
"""
import argparse
import json
import math
import sys

# H200 SXM figures, as cuda/dev/integrate.cu states them (scaled by the device's SM count over 132)
PEAK_FP32, PEAK_BF16, PEAK_SMS = 66.9e12, 989.4e12, 132


def emit(obj, path):
    line = json.dumps(obj)
    print(line, flush=True)
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


def positive_ints(text, name):
    out = []
    for v in text.split(","):
        if not v.isdigit() or int(v) < 1:
            raise SystemExit(f"error: {name} entry '{v}' is not a positive integer")
        out.append(int(v))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100000,1000000,10000000")
    ap.add_argument("--dof", type=int, default=1)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--dtypes", default="float32,bfloat16")
    ap.add_argument("--methods", default="autograd,handwritten,handwritten+graph")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--max-seconds", type=float, default=8.0)
    ap.add_argument("--dt", type=float, default=0.05)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    sizes = positive_ints(a.sizes, "--sizes")
    for name, v in (("--dof", a.dof), ("--hidden", a.hidden), ("--steps", a.steps), ("--reps", a.reps)):
        if v < 1:
            raise SystemExit(f"error: {name} must be >= 1, got {v}")
    if not a.max_seconds > 0:
        raise SystemExit(f"error: --max-seconds must be > 0, got {a.max_seconds}")
    methods = a.methods.split(",")
    for m in methods:
        if m not in ("autograd", "handwritten", "handwritten+graph"):
            raise SystemExit(f"error: --methods entry '{m}' is not autograd, handwritten or handwritten+graph")
    try:
        import torch
    except ImportError as e:
        emit({"peer": "torch-leapfrog", "skipped": f"PyTorch is not installed: {e}"}, a.json)
        return 0
    cuda = a.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        emit({"peer": "torch-leapfrog", "skipped": "torch.cuda.is_available() is False"}, a.json)
        return 0
    dev = torch.device(a.device)
    name = torch.cuda.get_device_name(0) if cuda else "cpu"
    sms = torch.cuda.get_device_properties(0).multi_processor_count if cuda else PEAK_SMS
    n, h = a.dof, a.hidden
    g = torch.Generator(device="cpu").manual_seed(1)

    def uniform(*shape, fan_in):
        return ((torch.rand(*shape, generator=g) * 2 - 1) / math.sqrt(fan_in)).to(dev)

    W1, b1 = uniform(h, 2 * n, fan_in=2 * n), uniform(h, fan_in=10)
    W2, b2 = uniform(h, h, fan_in=h), uniform(h, fan_in=10)
    w3, b3 = uniform(h, fan_in=h), uniform(1, fan_in=10)

    def energy(x):
        return torch.tanh(torch.tanh(x @ W1.T + b1) @ W2.T + b2) @ w3 + b3

    def grad_autograd(x):
        x = x.detach().requires_grad_(True)
        gx, = torch.autograd.grad(energy(x).sum(), x)
        return gx

    def make_grad_handwritten(dtype):
        W1c, b1c, W2c, b2c, w3c = (t.to(dtype) for t in (W1, b1, W2, b2, w3))

        def grad(x):
            a1 = torch.tanh(torch.addmm(b1c, x.to(dtype), W1c.T))
            a2 = torch.tanh(torch.addmm(b2c, a1, W2c.T))
            d2 = w3c * (1 - a2 * a2)
            d1 = (d2 @ W2c) * (1 - a1 * a1)
            return (d1 @ W1c).float()

        return grad

    def leapfrog(grad, x, steps):
        dt = a.dt
        x = x.clone()
        q, p = x[:, :n], x[:, n:]  # views: the updates are in place, one kernel each
        for _ in range(steps):
            p.add_(grad(x)[:, :n], alpha=-0.5 * dt)
            q.add_(grad(x)[:, n:], alpha=dt)
            p.add_(grad(x)[:, :n], alpha=-0.5 * dt)
        return x

    # the handwritten gradient against autograd
    xs = torch.randn(1000, 2 * n, generator=g).to(dev)
    ga, gh = grad_autograd(xs), make_grad_handwritten(torch.float32)(xs)
    diff = ((ga - gh).abs().max() / ga.abs().max()).item()
    if not diff < 1e-4:
        emit({"peer": "torch-leapfrog", "error": f"handwritten gradient differs from autograd by {diff:.3g} "
                                                 "(relative to max |grad|)"}, a.json)
        return 1

    def sync():
        if cuda:
            torch.cuda.synchronize()

    def time_once(fn):
        if not cuda:
            import time
            t0 = time.perf_counter()
            fn()
            return (time.perf_counter() - t0) * 1e3
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        fn()
        e.record()
        e.synchronize()
        return s.elapsed_time(e)

    useful = 3 * (4 * h * h + 8 * n * h)
    for dtype_name in a.dtypes.split(","):
        dtype = getattr(torch, dtype_name, None)
        if not isinstance(dtype, torch.dtype):
            raise SystemExit(f"error: --dtypes entry '{dtype_name}' is not a torch dtype")
        for method in methods:
            if method == "autograd" and dtype != torch.float32:
                continue
            if method == "handwritten+graph" and not cuda:
                continue
            prev = None
            for N in sizes:
                base = {"peer": "torch-leapfrog", "torch": torch.__version__, "device": name, "dtype": dtype_name,
                        "method": method, "N": N, "n": n, "hidden": h, "steps": a.steps, "gradient_check": diff}
                if prev is not None and prev[1] * N / prev[0] > a.max_seconds * 1e3:
                    emit(dict(base, skipped=f"predicted {prev[1] * N / prev[0] / 1e3:.1f} s per run from "
                                            f"N = {prev[0]}, over --max-seconds {a.max_seconds}"), a.json)
                    continue
                try:
                    x0 = torch.cat([torch.randn(N, n, device=dev) * 0.5, torch.randn(N, n, device=dev) * 0.5], dim=1)
                    if method == "autograd":
                        def fn():
                            return leapfrog(grad_autograd, x0, a.steps)
                    else:
                        grad = make_grad_handwritten(dtype)
                        if method == "handwritten+graph":
                            static_x = x0.clone()
                            stream = torch.cuda.Stream()
                            stream.wait_stream(torch.cuda.current_stream())
                            with torch.cuda.stream(stream):
                                leapfrog(grad, static_x, 2)  # warm-up on a side stream, as capture wants
                            torch.cuda.current_stream().wait_stream(stream)
                            graph = torch.cuda.CUDAGraph()
                            with torch.cuda.graph(graph):
                                static_out = leapfrog(grad, static_x, a.steps)

                            def fn():
                                graph.replay()
                                return static_out
                        else:
                            def fn():
                                return leapfrog(grad, x0, a.steps)
                    with torch.no_grad() if method != "autograd" else torch.enable_grad():
                        sync()
                        first = time_once(fn)
                        more = int(min(a.reps, (a.max_seconds * 1e3 - first) // max(first, 1e-3)))
                        times = sorted(time_once(fn) for _ in range(max(0, more)))
                        ms = times[len(times) // 2] if times else first
                        out = fn()
                        sync()
                        finite = bool(torch.isfinite(out).all().item())
                    prev = (N, ms)
                    ts = N * a.steps / (ms * 1e-3)
                    peak = (PEAK_BF16 if dtype == torch.bfloat16 else PEAK_FP32) * sms / PEAK_SMS
                    emit(dict(base, ms=ms, reps=max(1, more), traj_steps_per_s=ts, useful_flop_per_traj_step=useful,
                              useful_tflops=ts * useful / 1e12,
                              **{("frac_bf16_peak" if dtype == torch.bfloat16 else "frac_fp32_peak"): ts * useful / peak},
                              final_states_finite=finite), a.json)
                    del x0
                    if method == "handwritten+graph":
                        del graph, static_x, static_out
                except (torch.cuda.OutOfMemoryError if cuda else MemoryError) as e:
                    emit(dict(base, skipped=f"out of device memory: {str(e).splitlines()[0]}"), a.json)
                except RuntimeError as e:
                    emit(dict(base, skipped=f"{type(e).__name__}: {str(e).splitlines()[0]}"), a.json)
                if cuda:
                    torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main())
