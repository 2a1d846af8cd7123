#!/usr/bin/env python3
"""FAISS peer for the top-k part of Engram's retrieval: exact cosine top-k with IndexFlatIP over unit rows.

The index holds the normalised patterns (built before timing, as Engram precomputes pattern norms when patterns are
stored); each timed call normalises the B queries and searches. FAISS computes only the top-k (no softmax output,
entropy or confidence). For B >= 20 FAISS uses the BLAS sgemm, below it its own SIMD loop. The first call's scores
are checked against numpy's before timing. Timed with the fastest of (OpenMP threads, BLAS threads) = (N, 1) and
(1, N) on N = --threads cores: FAISS's OpenMP pool and a pthread BLAS pool spin against each other when both have N.

usage: faiss_topk.py --cases 1x1000000x32,64x1000000x32 [--threads 2] [--reps 5] [--k 10]
"""
import argparse

import faiss
import numpy as np

import peerlib


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--k", type=int, default=10)
    a = ap.parse_args()
    faiss.omp_set_num_threads(a.threads)
    rng = np.random.default_rng(0)
    probe = faiss.IndexFlatIP(8)
    probe.add(rng.random((64, 8), dtype=np.float32))
    probe.search(rng.random((64, 8), dtype=np.float32), 4)  # >= 20 queries: runs the BLAS sgemm, loads the BLAS
    record = peerlib.peer_record("faiss", "top-k", faiss.omp_get_max_threads(), "FAISS " + faiss.__version__,
                                 peerlib.loaded_blas(("_swigfaiss", "libfaiss")))
    peerlib.announce(record)

    def apply(config):
        faiss.omp_set_num_threads(config[0])
        peerlib.set_blas_threads(record, config[1])

    configs = peerlib.thread_configurations(a.threads, with_both=False)
    for B, M, d in peerlib.parse_cases(a.cases, 3):
        X = rng.random((M, d), dtype=np.float32) * 2 - 1
        X /= np.linalg.norm(X, axis=1, keepdims=True)
        q = rng.random((B, d), dtype=np.float32) * 2 - 1
        index = faiss.IndexFlatIP(d)
        index.add(X)

        def search():
            return index.search(q / np.linalg.norm(q, axis=1, keepdims=True), a.k)

        scores, _ = search()
        expected = -np.sort(-((q / np.linalg.norm(q, axis=1, keepdims=True)) @ X.T), axis=1)[:, :a.k]
        if not np.abs(scores - expected).max() <= 1e-5:
            raise SystemExit("faiss: top-k scores differ from numpy's by %g (> 1e-5)" % np.abs(scores - expected).max())
        c, stats = peerlib.fastest_stats(search, configs, apply, a.reps)
        peerlib.emit(record, B=B, M=M, d=d, threads=c[0], blas_threads=peerlib.current_blas_threads(record), **stats)
        del index, X, q


if __name__ == "__main__":
    main()
