#!/usr/bin/env python3
"""The obvious PyTorch code for one training step of Engram's trainable multi-head dense associative memory
(dev.engram.hopfield.DenseAssociativeMemory), same model and loss:

  q_h = W_q^h f, k_hi = W_k^h kappa_i, v_hi = W_v^h nu_i;  cosine scores beta * q^_h . k^_hi (x^ = x/sqrt(|x|^2+eps^2));
  a_h = softmax over the M stored rows (materialised, H x B x M), r_h = a_h v_h, H_h = entropy of a_h;
  y^ = tanh(w_p . (W_o [r_1; ...; r_H]) + b_p), c = 1 - mean_h H_h / log M, omega = c + 0.05 (detached);
  L = sum omega (y^ - y)^2 / sum omega + lambda * D(kappa over 512 sampled keys);
then loss.backward() and an AdamW step over every parameter (W_q, W_k, W_v, W_o, w_p, b_p, kappa, nu, log beta).
A second measurement times the attention alone (forward with the entropies, backward from a fixed dL/do to q, k, v
and beta; the projections included, as autograd runs them), the part Engram's engines fuse. Timed with the fastest (torch threads, BLAS threads) configuration on --threads cores
(peerlib); the JSON lines carry the BLAS the process loaded.

usage: torch_dense_memory.py --cases dense:100000:32:4x8:32:5 [--dtype float32,float64] [--threads 2] [--reps 3]
A case is NAME:M:D:HEADSxHEADDIM:BATCH:STEPS (value width 1, model width 16). Prints one JSON object per case,
dtype and part (peer "torch-float32" or "torch-float64"; part "step" or "attention") with the median and best
wall-clock seconds per step and the CPU seconds per step of one more run.
"""
import argparse
import math
import time

import torch

import peerlib

EPS = 1e-6
MODEL_DIM = 16
VALUE_DIM = 1
DIVERSITY_SAMPLE = 512


def normalise(x):
    return x / torch.sqrt((x * x).sum(-1, keepdim=True) + EPS * EPS)


def make_case(m, d, heads, hd, batch, dtype):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    p = {
        "wq": torch.randn(heads * hd, d, dtype=dtype) / math.sqrt(d),
        "wk": torch.randn(heads * hd, d, dtype=dtype) / math.sqrt(d),
        "wv": torch.randn(heads * hd, VALUE_DIM, dtype=dtype),
        "wo": torch.randn(MODEL_DIM, heads * hd, dtype=dtype) / math.sqrt(heads * hd),
        "wp": torch.randn(MODEL_DIM, dtype=dtype) / math.sqrt(MODEL_DIM),
        "bp": torch.zeros(1, dtype=dtype),
        "keys": torch.randn(m, d, dtype=dtype),
        "values": torch.randn(m, VALUE_DIM, dtype=dtype),
        "log_beta": torch.tensor([math.log(32.0)], dtype=dtype),
    }
    for t in p.values():
        t.requires_grad_(True)
    decay = [p[k] for k in ("wq", "wk", "wv", "wo", "wp")]
    rest = [p[k] for k in ("bp", "keys", "values", "log_beta")]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 1e-4}, {"params": rest, "weight_decay": 0.0}],
                            lr=3e-3)
    n = 4096
    feats = torch.randn(n, d, dtype=dtype)
    targets = 0.5 * torch.tanh(feats[:, 0] - feats[:, 1])
    log_m = math.log(m)

    def attention(f):
        q = normalise((f @ p["wq"].T).view(-1, heads, hd)).transpose(0, 1)            # H x B x hd
        k = normalise((p["keys"] @ p["wk"].T).view(m, heads, hd)).transpose(0, 1)     # H x M x hd
        v = (p["values"] @ p["wv"].T).view(m, heads, hd).transpose(0, 1)              # H x M x hd
        beta = torch.exp(p["log_beta"])
        s = beta * torch.bmm(q, k.transpose(1, 2))                                    # H x B x M
        logp = torch.log_softmax(s, dim=-1)
        a = torch.exp(logp)
        r = torch.bmm(a, v)                                                           # H x B x hd
        ent = -(a * logp).sum(-1)                                                     # H x B
        return r, ent

    def step(i):
        start = (i * batch) % (n - batch)
        f = feats[start:start + batch]
        y = targets[start:start + batch]
        r, ent = attention(f)
        rr = r.transpose(0, 1).reshape(batch, heads * hd)
        y_hat = torch.tanh((rr @ p["wo"].T) @ p["wp"] + p["bp"])
        omega = (1 - ent.mean(0) / log_m + 0.05).detach()
        mse = (omega * (y_hat - y) ** 2).sum() / omega.sum()
        idx = torch.randperm(m, generator=g)[:DIVERSITY_SAMPLE] if m > DIVERSITY_SAMPLE else torch.arange(m)
        u = normalise(p["keys"][idx])
        c = u @ u.T
        s_count = u.shape[0]
        div = (c.triu(1) ** 2).sum() * 2 / (s_count * (s_count - 1))
        loss = mse + 1e-2 * div
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    d_out = torch.randn(heads, batch, hd, dtype=dtype)

    def attention_only(i):
        # what Engram's attend + attendBackward compute: outputs and entropies forward, gradients from dL/do only
        start = (i * batch) % (n - batch)
        r, ent = attention(feats[start:start + batch])
        for t in p.values():
            t.grad = None
        r.backward(d_out)

    return step, attention_only


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", required=True)
    ap.add_argument("--dtype", default="float32,float64")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    make_case(64, 8, 2, 4, 4, torch.float32)[0](0)  # load the BLAS before asking which one it is
    blas = peerlib.loaded_blas(("libtorch_cpu",), static_mkl=torch.backends.mkl.is_available())
    records = {dt: peerlib.peer_record("torch-" + dt, "dense memory training step (autograd, materialised softmax, "
                                       "AdamW)", torch.get_num_threads(), "PyTorch " + torch.__version__, blas)
               for dt in a.dtype.split(",")}
    peerlib.announce(next(iter(records.values())))

    def apply(config):
        torch.set_num_threads(config[0])
        peerlib.set_blas_threads(blas, config[1])

    for case in a.cases.split(","):
        fields = case.split(":")
        if len(fields) != 6:
            raise SystemExit("--cases: '%s' is not NAME:M:D:HEADSxHEADDIM:BATCH:STEPS" % case)
        name, m, d, shape, batch, steps = fields
        heads, hd = (int(v) for v in shape.lower().split("x"))
        m, d, batch, steps = int(m), int(d), int(batch), int(steps)
        for dt, record in records.items():
            for part, fn in zip(("step", "attention"), make_case(m, d, heads, hd, batch, getattr(torch, dt))):
                fn(0)  # warm-up

                def run():
                    for i in range(steps):
                        fn(i)

                c, ms, min_ms = peerlib.fastest(run, peerlib.thread_configurations(a.threads), apply, a.reps)
                c0 = time.process_time()
                run()
                cpu = (time.process_time() - c0) / steps
                what = record["computes"] if part == "step" else \
                    "attention forward (outputs, entropies) + backward from dL/do (autograd, materialised softmax)"
                peerlib.emit(record, computes=what, case=name, part=part, memory=m, dim=d, heads=heads, head_dim=hd, batch=batch,
                             dtype=dt, steps=steps, reps=a.reps, seconds_per_step=ms / 1e3 / steps,
                             min_seconds_per_step=min_ms / 1e3 / steps, cpu_seconds_per_step=cpu, threads=c[0],
                             blas_threads=peerlib.current_blas_threads(blas))


if __name__ == "__main__":
    main()
