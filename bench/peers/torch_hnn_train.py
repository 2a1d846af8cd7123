#!/usr/bin/env python3
"""The obvious PyTorch code for HNN training (Greydanus et al. 2019): a tanh MLP H(q, p) (2n -> h -> ... -> 1),
dH = torch.autograd.grad(H.sum(), x, create_graph=True), the loss on Hamilton's equations
mean((dH/dp - dq/dt)^2 + (-dH/dq - dp/dt)^2), loss.backward() (the double backprop) and an Adam step.

usage: torch_hnn_train.py --cases spring:750:200x2:0:20,minibatch:100000:64x2:1024:98 [--dtype float32,float64]
       [--threads 2] [--reps 3]
A case is NAME:POINTS:HIDDENxLAYERS:BATCH:STEPS (BATCH 0 = full batch). Data: the spring's field (dq/dt = 2p,
dp/dt = -2q) at Gaussian states. Prints the BLAS torch loaded (from /proc/self/maps) on stderr and one JSON object
per case and dtype on stdout, with the best wall-clock seconds per optimiser step over the repetitions and the best
CPU seconds (all threads, time.process_time) per step: on a shared, loaded machine the CPU time is the steadier
measure of work.
"""
import argparse
import json
import sys
import time

import torch


def loaded_blas():
    """The BLAS/LAPACK shared objects mapped into this process (what torch really calls)."""
    names = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                base = path.rsplit("/", 1)[-1]
                if any(k in base.lower() for k in ("blas", "mkl", "lapack", "blis", "dnnl")):
                    names.add(path)
    except OSError:
        pass
    return sorted(names)


def run_case(name, points, hidden, layers, batch, steps, dtype, reps):
    torch.manual_seed(0)
    n = 1
    q = torch.randn(points, n, dtype=dtype)
    p = torch.randn(points, n, dtype=dtype)
    x_all = torch.cat([q, p], dim=1)
    t_all = torch.cat([2 * p, -2 * q], dim=1)  # (dq/dt, dp/dt)
    mods = []
    width = 2 * n
    for _ in range(layers):
        mods += [torch.nn.Linear(width, hidden), torch.nn.Tanh()]
        width = hidden
    mods.append(torch.nn.Linear(width, 1))
    mlp = torch.nn.Sequential(*mods).to(dtype)
    opt = torch.optim.Adam(mlp.parameters(), lr=1e-3)
    bs = points if batch == 0 else batch

    def step(i):
        start = (i * bs) % points
        x = x_all[start:start + bs].clone().requires_grad_(True)
        t = t_all[start:start + bs]
        g, = torch.autograd.grad(mlp(x).sum(), x, create_graph=True)
        pred = torch.cat([g[:, n:], -g[:, :n]], dim=1)
        loss = ((pred - t) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    for i in range(3):  # warm-up
        step(i)
    times = []
    cpu = []
    for _ in range(reps):
        t0 = time.perf_counter()
        c0 = time.process_time()
        for i in range(steps):
            step(i)
        cpu.append((time.process_time() - c0) / steps)
        times.append((time.perf_counter() - t0) / steps)
    return min(times), min(cpu)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", required=True)
    ap.add_argument("--dtype", default="float32,float64")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print("torch %s BLAS: %s" % (torch.__version__, ", ".join(loaded_blas()) or "none mapped"), file=sys.stderr)
    for case in a.cases.split(","):
        name, points, shape, batch, steps = case.split(":")
        hidden, layers = (int(v) for v in shape.lower().split("x"))
        for dt in a.dtype.split(","):
            sec, cpu = run_case(name, int(points), hidden, layers, int(batch), int(steps), getattr(torch, dt), a.reps)
            print(json.dumps({"case": name, "points": int(points), "hidden": hidden, "layers": layers,
                              "batch": int(batch), "dtype": dt, "seconds_per_step": sec,
                              "cpu_seconds_per_step": cpu,
                              "threads": torch.get_num_threads(), "torch": torch.__version__,
                              "blas": loaded_blas()}), flush=True)


if __name__ == "__main__":
    main()
