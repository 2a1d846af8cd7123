#!/usr/bin/env python3
"""The obvious PyTorch code for HNN training (Greydanus et al. 2019): a tanh MLP H(q, p) (2n -> h -> ... -> 1),
dH = torch.autograd.grad(H.sum(), x, create_graph=True), the loss on Hamilton's equations
mean((dH/dp - dq/dt)^2 + (-dH/dq - dp/dt)^2), loss.backward() (the double backprop) and an Adam step.
Timed with its fastest (torch threads, BLAS threads) configuration on --threads cores (peerlib); the JSON lines carry
the BLAS the process loaded.

usage: torch_hnn_train.py --cases spring:750:200x2:0:20,minibatch:100000:64x2:1024:20 [--dtype float32,float64]
       [--threads 2] [--reps 3]
A case is NAME:POINTS:HIDDENxLAYERS:BATCH:STEPS (BATCH 0 = full batch). Data: the spring's field (dq/dt = 2p,
dp/dt = -2q) at Gaussian states. Prints one JSON object per case and dtype (peer "torch-float32" or
"torch-float64") with the median and best wall-clock seconds per optimiser step, and the CPU seconds (all threads,
time.process_time) per step of one more run: on a shared, loaded machine the CPU time is the steadier measure.
"""
import argparse
import time

import torch

import peerlib


def make_case(points, hidden, layers, batch, dtype):
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

    return step


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", required=True)
    ap.add_argument("--dtype", default="float32,float64")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    make_case(64, 16, 2, 0, torch.float32)(0)  # load the BLAS before asking which one it is
    blas = peerlib.loaded_blas(("libtorch_cpu",), static_mkl=torch.backends.mkl.is_available())
    records = {dt: peerlib.peer_record("torch-" + dt, "HNN training step (autograd double backprop, Adam)",
                                       torch.get_num_threads(), "PyTorch " + torch.__version__, blas)
               for dt in a.dtype.split(",")}
    peerlib.announce(next(iter(records.values())))

    def apply(config):
        torch.set_num_threads(config[0])
        peerlib.set_blas_threads(blas, config[1])

    for case in a.cases.split(","):
        name, points, shape, batch, steps = case.split(":")
        hidden, layers = (int(v) for v in shape.lower().split("x"))
        points, batch, steps = int(points), int(batch), int(steps)
        for dt, record in records.items():
            step = make_case(points, hidden, layers, batch, getattr(torch, dt))
            for i in range(3):  # warm-up
                step(i)

            def run():
                for i in range(steps):
                    step(i)

            c, ms, min_ms = peerlib.fastest(run, peerlib.thread_configurations(a.threads), apply, a.reps)
            c0 = time.process_time()
            run()
            cpu = (time.process_time() - c0) / steps
            peerlib.emit(record, case=name, points=points, hidden=hidden, layers=layers, batch=batch, dtype=dt,
                         steps=steps, reps=a.reps, seconds_per_step=ms / 1e3 / steps,
                         min_seconds_per_step=min_ms / 1e3 / steps, cpu_seconds_per_step=cpu, threads=c[0],
                         blas_threads=peerlib.current_blas_threads(blas))


if __name__ == "__main__":
    main()
