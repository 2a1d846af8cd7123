"""What every side-by-side peer shares: which BLAS the process really loaded, its thread count, timing, output.

Why the BLAS matters: Debian's python3-torch (and python3-faiss) link libblas.so.3, an alternative that points at
OpenBLAS, BLIS or netlib's reference BLAS, whichever is installed; on the reference one every matrix product is
unoptimised and the peer is 3-4x slower than it should be. torch.__config__.show() says BLAS_INFO=generic either way,
so the library is read from /proc/self/maps after a matrix product has run.

Each peer prints one JSON object per measured case on stdout (the Java bench reads them), and one human line about
its BLAS on stderr. Every object carries the keys of peer_record(): peer, computes, blas, blas_library,
blas_threads, threads, version. The Java side refuses a ratio against a peer whose blas is "reference".
"""
import ctypes
import json
import os
import statistics
import sys
import time

# (kind, substrings of a mapped library's file name or folder); the first kind with a mapped library wins.
_OPTIMISED = (
    ("mkl", ("libmkl_",)),
    ("openblas", ("openblas",)),
    ("blis", ("libblis", "/blis")),
    ("atlas", ("atlas",)),
)


def mapped_libraries(maps_text):
    """File paths of the shared objects in a /proc/<pid>/maps text, in order of first appearance, no repeats."""
    seen = []
    for line in maps_text.splitlines():
        parts = line.split(None, 5)
        if len(parts) == 6 and parts[5].startswith("/") and ".so" in os.path.basename(parts[5]):
            path = parts[5].strip()
            if path not in seen:
                seen.append(path)
    return seen


def classify(libraries, static_mkl=False):
    """(kind, library path) for the BLAS among the mapped libraries.

    kind is mkl, openblas, blis or atlas (optimised), "reference" (netlib's libblas: Debian's libblas3 lives in
    .../blas/libblas.so.3), "mkl-static" when no BLAS is mapped but the framework says MKL is linked into it (pip
    wheels of torch), else "unknown".
    """
    for kind, needles in _OPTIMISED:
        hits = [p for p in libraries if any(n in p.lower() for n in needles)]
        if hits:
            # the library itself (libopenblasp-r0.3.21.so) rather than a shim beside it (liblapack.so.3)
            named = [p for p in hits if any(n.strip("/") in os.path.basename(p).lower() for n in needles)]
            return kind, (named or hits)[0]
    for path in libraries:
        name = os.path.basename(path)
        if name.startswith("libblas.so") or name.startswith("librefblas") or name.startswith("libcblas.so"):
            return "reference", path
    if static_mkl:
        return "mkl-static", None
    return "unknown", None


def blas_threads(kind, path):
    """The BLAS library's own thread count (None when it cannot be asked); the reference BLAS is single-threaded."""
    if kind == "reference":
        return 1
    symbol = {"openblas": "openblas_get_num_threads", "mkl": "mkl_get_max_threads",
              "blis": "bli_thread_get_num_threads"}.get(kind)
    if symbol is None or path is None:
        return None
    try:
        return int(getattr(ctypes.CDLL(path), symbol)())
    except (OSError, AttributeError):
        return None


def set_blas_threads(blas, n):
    """Asks the loaded BLAS (as returned by loaded_blas) to use n threads; returns the count it then reports."""
    symbol = {"openblas": "openblas_set_num_threads", "mkl": "mkl_set_num_threads",
              "blis": "bli_thread_set_num_threads"}.get(blas["blas"])
    if symbol is not None and blas["blas_library"] is not None:
        try:
            getattr(ctypes.CDLL(blas["blas_library"]), symbol)(ctypes.c_int(n))
        except (OSError, AttributeError):
            pass
    return blas_threads(blas["blas"], blas["blas_library"])


def current_blas_threads(blas):
    """The thread count the BLAS (as returned by loaded_blas) reports now."""
    return blas_threads(blas["blas"], blas["blas_library"])


def thread_configurations(threads, with_both=True):
    """(framework threads, BLAS threads) pairs worth trying on `threads` cores: each pool alone, and both.

    OpenMP and pthread BLAS pools both spin-wait between calls; on a busy machine two pools of `threads` can be 10-100x
    slower than one, so a peer is timed with its fastest configuration (the most favourable to the peer).
    """
    if threads <= 1:
        return [(1, 1)]
    configs = [(threads, 1), (1, threads)]
    return configs + [(threads, threads)] if with_both else configs


def fastest(fn, configurations, apply, reps):
    """Times fn under each configuration once (after one warm-up call), then reps times under the fastest.

    apply(config) sets a configuration. Returns (config, median ms, min ms).
    """
    screened = []
    for config in configurations:
        apply(config)
        screened.append((time_ms(fn, 1)[0], config))
    best = min(screened)[1]
    apply(best)
    ms, min_ms = time_ms(fn, reps, warmup=0)
    return best, ms, min_ms


def fastest_stats(fn, configurations, apply, reps):
    """As fastest, with the spread: returns (config, {ms (median), min_ms, max_ms, p25_ms, p75_ms, reps})."""
    screened = []
    for config in configurations:
        apply(config)
        screened.append((time_ms(fn, 1)[0], config))
    best = min(screened)[1]
    apply(best)
    return best, time_stats(fn, reps, warmup=0)


def time_stats(fn, reps, warmup=1):
    """{ms (median), min_ms, max_ms, p25_ms, p75_ms, reps} of fn()'s wall time in ms, after warmup untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()

    def quantile(q):
        pos = q * (len(times) - 1)
        lo = int(pos)
        hi = min(len(times) - 1, lo + 1)
        return times[lo] + (pos - lo) * (times[hi] - times[lo])

    return {"ms": statistics.median(times), "min_ms": times[0], "max_ms": times[-1], "p25_ms": quantile(0.25),
            "p75_ms": quantile(0.75), "reps": reps}


def _maps(maps_path):
    """[(start, end, path or None)] of a /proc/<pid>/maps file."""
    rows = []
    try:
        with open(maps_path) as f:
            for line in f:
                parts = line.split(None, 5)
                start, end = (int(v, 16) for v in parts[0].split("-"))
                rows.append((start, end, parts[5].strip() if len(parts) == 6 else None))
    except OSError:
        pass
    return rows


def resolved_sgemm(consumer, rows):
    """The file whose sgemm_ the library `consumer` calls: dlsym from its handle searches its dependencies in the
    loader's order, which is what matters when two BLAS libraries are mapped (netlib's libblas.so.3 beside OpenBLAS's
    liblapack.so.3, say). None when it cannot be resolved."""
    try:
        address = ctypes.cast(getattr(ctypes.CDLL(consumer), "sgemm_"), ctypes.c_void_p).value
    except (OSError, AttributeError):
        return None
    for start, end, path in rows:
        if start <= address < end:
            return path
    return None


def loaded_blas(consumers=(), static_mkl=False, maps_path="/proc/self/maps"):
    """{blas, blas_library, blas_threads, blas_found_by} of this process; call it after a matrix product has run.

    consumers: substrings of the libraries that call the BLAS (libtorch_cpu, _swigfaiss); the BLAS is the library that
    their sgemm_ resolves to, else (no consumer mapped, symbol not found) the first BLAS among the mapped libraries.
    """
    rows = _maps(maps_path)
    libraries = mapped_libraries("\n".join("0-0 r 0 0 0 " + p for _, _, p in rows if p))
    for consumer in (p for p in libraries if any(c in os.path.basename(p) for c in consumers)):
        path = resolved_sgemm(consumer, rows)
        if path is not None:
            kind, _ = classify([path])
            if kind != "unknown":
                return {"blas": kind, "blas_library": path, "blas_threads": blas_threads(kind, path),
                        "blas_found_by": "sgemm_ as " + os.path.basename(consumer) + " resolves it"}
    kind, path = classify(libraries, static_mkl)
    return {"blas": kind, "blas_library": path, "blas_threads": blas_threads(kind, path),
            "blas_found_by": "mapped libraries"}


def peer_record(peer, computes, threads, version, blas):
    """The keys every JSON line of every peer carries (blas as returned by loaded_blas)."""
    record = {"peer": peer, "computes": computes, "threads": threads, "version": version}
    record.update(blas)
    return record


def announce(record):
    """One line on stderr naming the peer's BLAS (a reference BLAS is called out); threads are per case, in the JSON."""
    blas = record["blas"]
    where = " (" + record["blas_library"] + ", found by " + record.get("blas_found_by", "?") + ")" \
        if record.get("blas_library") else ""
    warn = ("  <- netlib reference BLAS: every matrix product is unoptimised; install an optimised one "
            "(Debian: apt-get install libopenblas0-pthread)") if blas == "reference" else ""
    print("peer %s (%s): BLAS %s%s; computes %s%s"
          % (record["peer"], record["version"], blas, where, record["computes"], warn), file=sys.stderr, flush=True)


def emit(record, **measured):
    """Prints one JSON line: the peer's record and this case's measurements."""
    line = dict(record)
    line.update(measured)
    print(json.dumps(line), flush=True)


def parse_cases(text, parts):
    """'1x1000000x32,64x1000x8' -> [(1, 1000000, 32), (64, 1000, 8)]; each case must have `parts` numbers."""
    cases = []
    for case in text.split(","):
        values = tuple(int(v) for v in case.lower().split("x"))
        if len(values) != parts:
            raise SystemExit("--cases: '%s' does not have %d numbers separated by x" % (case, parts))
        cases.append(values)
    return cases


def time_ms(fn, reps, warmup=1):
    """Median and minimum wall time of fn() in ms over reps calls, after warmup untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times)


def main(argv):
    """python3 peerlib.py --classify < maps: prints classify() of a maps text as JSON (used by the tests)."""
    if argv[1:] == ["--classify"]:
        kind, path = classify(mapped_libraries(sys.stdin.read()))
        print(json.dumps({"blas": kind, "blas_library": path}))
        return 0
    print("usage: peerlib.py --classify < /proc/PID/maps", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
