#!/usr/bin/env python3
"""The obvious PyTorch code for a batched HNN leapfrog ensemble: a tanh MLP H(q, p) (2n -> h -> h -> 1) and
torch.autograd.grad for every half-step gradient (three per step, as Engram's leapfrog), all trajectories batched.

usage: torch_leapfrog.py --cases 10000x100,100000x20 [--hidden 64] [--threads 2] [--reps 3]
Prints one JSON object per case (N x steps) on stdout.
"""
import argparse
import json
import statistics
import time

import torch


def leapfrog(mlp, q, p, h, steps):
    def grad(q, p):
        x = torch.cat([q, p], dim=1).requires_grad_(True)
        g, = torch.autograd.grad(mlp(x).sum(), x)
        n = q.shape[1]
        return g[:, :n], g[:, n:]

    for _ in range(steps):
        dq, _ = grad(q, p)
        p = p - 0.5 * h * dq
        _, dp = grad(q, p)
        q = q + h * dp
        dq, _ = grad(q, p)
        p = p - 0.5 * h * dq
    return q.detach(), p.detach()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", required=True)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--dof", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    n = a.dof
    mlp = torch.nn.Sequential(torch.nn.Linear(2 * n, a.hidden), torch.nn.Tanh(), torch.nn.Linear(a.hidden, a.hidden),
                              torch.nn.Tanh(), torch.nn.Linear(a.hidden, 1))
    for case in a.cases.split(","):
        N, steps = (int(v) for v in case.lower().split("x"))
        q = torch.randn(N, n) * 0.1 + 0.5
        p = torch.randn(N, n) * 0.1
        leapfrog(mlp, q, p, 0.01, 2)  # warm-up
        times = []
        for _ in range(a.reps):
            t0 = time.perf_counter()
            leapfrog(mlp, q, p, 0.01, steps)
            times.append(time.perf_counter() - t0)
        sec = statistics.median(times)
        print(json.dumps({"N": N, "steps": steps, "hidden": a.hidden, "dof": n, "seconds": sec,
                          "traj_steps_per_s": N * steps / sec, "threads": torch.get_num_threads(),
                          "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
