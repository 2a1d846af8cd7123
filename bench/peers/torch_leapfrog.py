#!/usr/bin/env python3
"""The obvious PyTorch code for a batched HNN leapfrog ensemble: a tanh MLP H(q, p) (2n -> h -> h -> 1) and
torch.autograd.grad for every half-step gradient (three per step, as Engram's leapfrog), all trajectories batched.
Timed with its fastest (torch threads, BLAS threads) configuration on --threads cores (peerlib); the JSON lines carry
the BLAS the process loaded.

usage: torch_leapfrog.py --cases 10000x100,100000x20 [--hidden 64] [--threads 2] [--reps 3]
Prints one JSON object per case (N x steps) on stdout.
"""
import argparse

import torch

import peerlib


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
    leapfrog(mlp, torch.zeros(64, n), torch.zeros(64, n), 0.01, 1)  # load the BLAS before asking which one it is
    blas = peerlib.loaded_blas(("libtorch_cpu",), static_mkl=torch.backends.mkl.is_available())
    record = peerlib.peer_record("torch", "leapfrog with autograd gradients", torch.get_num_threads(),
                                 "PyTorch " + torch.__version__, blas)
    peerlib.announce(record)

    def apply(config):
        torch.set_num_threads(config[0])
        peerlib.set_blas_threads(blas, config[1])

    for N, steps in peerlib.parse_cases(a.cases, 2):
        q = torch.randn(N, n) * 0.1 + 0.5
        p = torch.randn(N, n) * 0.1
        leapfrog(mlp, q, p, 0.01, 2)  # warm-up
        c, ms, min_ms = peerlib.fastest(lambda: leapfrog(mlp, q, p, 0.01, steps),
                                        peerlib.thread_configurations(a.threads), apply, a.reps)
        peerlib.emit(record, N=N, steps=steps, hidden=a.hidden, dof=n, seconds=ms / 1e3, min_seconds=min_ms / 1e3,
                     reps=a.reps, traj_steps_per_s=N * steps / (ms / 1e3), threads=c[0],
                     blas_threads=peerlib.current_blas_threads(blas))


if __name__ == "__main__":
    main()
