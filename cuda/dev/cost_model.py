#!/usr/bin/env python3
"""cost_model.py: what bounds each retrieval kernel, from its compiled code and (when there is one) a GPU measurement.

For each kernel version, storage and size (B, M, d) it prints
  - bytes that must move (X once per query tile through L2, norms, partials) and the time that takes at the HBM
    bandwidth of an H100 SXM (3.35 TB/s) and an H200 (4.8 TB/s): the memory bound;
  - tensor and SIMT work: the compute bound (H100/H200 dense bf16 mma.sync ~ 660 TFLOP/s, FP32 67 TFLOP/s);
  - from the SASS (cuobjdump -sass, where cuobjdump exists: the GPU machine) the instructions of the kernel's main
    loop and how many patterns one trip covers, hence issue slots per pattern: the issue bound at 4 warp
    instructions per SM per cycle (1.98 GHz, 132 SMs);
  - registers per thread (ptxas -v) and the warps per SM they allow;
  - the measured time (gpu-check.jsonl), the fraction of HBM bandwidth it reaches, the cycles one warp spends per
    trip of the main loop, and the verdict: memory-bound when the measurement is within 1.4x of the memory bound,
    issue-bound when within 1.4x of the issue bound, otherwise latency-bound (too few warps, or too long a dependent
    chain per trip, to fill the issue slots or the memory pipe).
The static loop count includes rarely taken paths (the top-k slow path), so the issue bound is an upper estimate of
the issue time and "latency-bound" is a conservative verdict.

usage: cost_model.py --measured gpu-check.jsonl [--sass sass.txt ...] [--ptxas ptxas.txt ...] [--markdown]
"""
import argparse
import collections
import json
import re
import sys

GPUS = {"H100": {"bw": 3.35e12, "sms": 132, "clock": 1.83e9}, "H200": {"bw": 4.8e12, "sms": 132, "clock": 1.98e9}}
TENSOR_BF16 = 660e12   # mma.sync dense bf16, about 2/3 of the wgmma peak
FP32 = 67e12
ES = {"f32": 4, "f16": 2, "bf16": 2}
PARTS = {"f32": 3, "f16": 2, "bf16": 1}   # bf16 terms of a stored element in version 2


def parse_sass(paths):
    """kernel name -> list of (address, opcode, text)."""
    kernels = {}
    for path in paths:
        name = None
        for line in open(path, encoding="utf-8", errors="replace"):
            m = re.search(r"Function : (\S+)", line)
            if m:
                name = m.group(1)
                kernels[name] = []
                continue
            m = re.match(r"\s+/\*([0-9a-f]{4,})\*/\s+(.*?);", line)
            if m and name:
                text = m.group(2).strip()
                op = re.sub(r"^@!?U?P\w+\s+", "", text).split()[0] if text else ""
                kernels[name].append((int(m.group(1), 16), op, text))
    return kernels


def main_loop(ins, marker):
    """The largest backward-branch loop whose body holds `marker` instructions: (instruction count, class counts)."""
    index = {a: i for i, (a, _, _) in enumerate(ins)}
    best = None
    for i, (a, op, text) in enumerate(ins):
        m = re.search(r"BRA(?:\.\w+)*\s+(?:\w+, )?0x([0-9a-f]+)", text)
        if not m:
            continue
        target = int(m.group(1), 16)
        if target >= a or target not in index:
            continue
        body = ins[index[target]:i + 1]
        hits = sum(1 for _, o, _ in body if o.startswith(marker))
        if hits and (best is None or len(body) > len(best)):
            best = body
    if best is None:
        return None
    counts = collections.Counter(o.split(".")[0] for _, o, _ in best)
    return len(best), counts


def parse_ptxas(paths):
    regs = {}
    for path in paths:
        name = None
        for line in open(path, encoding="utf-8", errors="replace"):
            m = re.search(r"Compiling entry function '(\S+)'", line)
            if m:
                name = m.group(1)
            m = re.search(r"Used (\d+) registers", line)
            if m and name:
                regs[name] = int(m.group(1))
    return regs


def kernel_name(version, storage, d):
    return (f"engram_kernel_retrieve_partial_{storage}" if version == 1
            else f"engram_kernel_retrieve_partial_v2_{storage}_d{d}")


def model(case, sass, regs):
    v, st, b, m, d = case["version"], case["storage"], case["B"], case["M"], case["d"]
    es = ES[st]
    qtile = case.get("qtile", 16)
    tiles = -(-b // qtile)
    # X streamed once per query tile through L2; from HBM once when the tiles of a chunk run together (version 2
    # launches them adjacently; version 1's qtile covers up to 64 queries)
    hbm_bytes = m * d * es + m * 4
    l2_bytes = tiles * (m * d * es + m * 4)
    useful_flops = 4.0 * b * m * d
    if v == 2:
        rows = 16 * tiles
        mma_flops = 2.0 * rows * m * d * (3 * PARTS[st] - (1 if PARTS[st] == 3 else 0)) \
            + 2.0 * rows * m * d * 2 * PARTS[st]
        compute_s = mma_flops / TENSOR_BF16
        patterns_per_trip = 16 if (es == 4 and d >= 64) else 32   # trip_patterns() in retrieve_partial_v2.cu
        marker = "HMMA"
    else:
        compute_s = useful_flops / FP32 / 0.25   # v1 reaches about a quarter of FP32 peak from shared memory
        patterns_per_trip = 32
        marker = "FFMA"
    out = {"hbm_GB": hbm_bytes / 1e9, "l2_GB": l2_bytes / 1e9, "compute_ms": compute_s * 1e3}
    for g, spec in GPUS.items():
        out[f"mem_ms_{g}"] = hbm_bytes / spec["bw"] * 1e3
    name = kernel_name(v, st, d)
    loop = main_loop(sass[name], marker) if name in sass else None
    warps_per_sm = None
    if name in regs:
        threads = 128 if v == 2 else (256 if b > 16 else 128)
        per_warp = -(-regs[name] * 32 // 256) * 256
        blocks = 65536 // (per_warp * (threads // 32))
        if v == 2:  # shared memory per block (warp_plan + the query terms; V = X as timed), 228 KB per SM
            k = case.get("k", 10)
            al = lambda n: (n + 15) // 16 * 16
            tp = patterns_per_trip
            warp_bytes = 2 * al(tp * (d * es + 16) + tp * 4) + al(16 * tp * 4) + 2 * al(64) \
                + (al(16 * k * 12) if 0 < k <= 32 else 0)
            smem = 4 * warp_bytes + al(3 * 16 * (2 * d + 16))
            blocks = min(blocks, 228 * 1024 // (smem + 1024))
            out["smem_per_block"] = smem
        warps_per_sm = min(64, blocks * (threads // 32))
        out["registers"] = regs[name]
        out["warps_per_SM"] = warps_per_sm
    if loop:
        n, counts = loop
        out["loop_instructions"] = n
        out["loop_mix"] = ", ".join(f"{k} {c}" for k, c in counts.most_common(6))
        trips = tiles * (m / patterns_per_trip)
        h = GPUS["H200"]
        out["issue_ms_H200"] = trips * n / (h["sms"] * 4 * h["clock"]) * 1e3
    if "ms" in case:
        ms = case.get("ms_pass1", case["ms"])
        out["measured_ms"] = case["ms"]
        out["pass1_ms"] = ms
        out["frac_HBM_H200"] = out["mem_ms_H200"] / case["ms"]
        bounds = {"memory": out["mem_ms_H200"], "compute": out["compute_ms"]}
        if "issue_ms_H200" in out:
            bounds["issue"] = out["issue_ms_H200"]
        verdict = "latency"
        for kind, t in sorted(bounds.items(), key=lambda kv: -kv[1]):
            if ms <= 1.4 * t:
                verdict = kind
                break
        out["verdict"] = verdict
        if warps_per_sm:
            trips_per_warp = tiles * (m / patterns_per_trip) / (GPUS["H200"]["sms"] * warps_per_sm)
            out["cycles_per_trip_per_warp"] = ms * 1e-3 * GPUS["H200"]["clock"] / max(trips_per_warp, 1e-9)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--measured", required=True, help="gpu-check.jsonl (native-build/gpu-check.sh)")
    ap.add_argument("--sass", action="append", default=[])
    ap.add_argument("--ptxas", action="append", default=[])
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    sass = parse_sass(a.sass)
    regs = parse_ptxas(a.ptxas)
    rows = []
    for line in open(a.measured, encoding="utf-8"):
        try:
            j = json.loads(line)
        except ValueError:
            continue
        if j.get("harness") == "retrieve" and j.get("phase") == "time" and "ms" in j:
            rows.append((j, model(j, sass, regs)))
    if not rows:
        sys.exit(f"cost_model: no timing lines in {a.measured}")
    cols = ["version", "storage", "B", "M", "d", "measured_ms", "pass1_ms", "mem_ms_H200", "frac_HBM_H200",
            "compute_ms", "issue_ms_H200", "registers", "warps_per_SM", "cycles_per_trip_per_warp", "verdict"]

    def fmt(x):
        if isinstance(x, float):
            return f"{x:.3g}"
        return "" if x is None else str(x)

    if a.markdown:
        print("| " + " | ".join(cols) + " |")
        print("|" + "---|" * len(cols))
    else:
        print("\t".join(cols))
    for j, o in rows:
        vals = [fmt(j.get(c, o.get(c))) for c in cols]
        print(("| " + " | ".join(vals) + " |") if a.markdown else "\t".join(vals))
    loops = {}
    for j, o in rows:
        if "loop_instructions" in o:
            loops[kernel_name(j["version"], j["storage"], j["d"])] = (o["loop_instructions"], o["loop_mix"])
    if loops:
        print()
        for name, (n, mix) in sorted(loops.items()):
            print(f"{name}: main loop {n} instructions ({mix})")


if __name__ == "__main__":
    main()
