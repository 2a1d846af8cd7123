// harness.h: what every kernel harness in cuda/dev/ shares (llm.c's dev/cuda/common.h habit): one checker for CUDA
// calls that names file and line, a seeded generator, argument parsing, JSON lines, and CUDA-event timing.
// Builds with nvcc alone, or with g++ against the host emulation (ENGRAM_EMULATION_BUILD: no timing there).
#pragma once

#include "../engram_cuda.cuh"
#include "../half_bits.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace harness {

inline void cuda_check(cudaError_t e, const char* file, int line) {
    if (e != cudaSuccess) {
        std::fprintf(stderr, "[CUDA ERROR] at %s:%d: %s\n", file, line, cudaGetErrorString(e));
        std::exit(2);
    }
}
#define CUDA_CHECK(call) harness::cuda_check((call), __FILE__, __LINE__)

/** splitmix64: the same stream on every machine, so a failure's seed replays it. */
struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed) {}
    uint64_t next() {
        uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    /** uniform in [-1, 1) */
    float uniform() { return (float) ((next() >> 40) * (1.0 / (1 << 23)) - 1.0); }
};

/** Command line: --name value pairs and bare flags; an unknown argument is a one-line error. */
struct Args {
    std::vector<std::string> argv;
    std::vector<bool> used;
    Args(int argc, char** a) {
        for (int i = 1; i < argc; i++) argv.emplace_back(a[i]);
        used.assign(argv.size(), false);
    }
    bool flag(const char* name) {
        for (size_t i = 0; i < argv.size(); i++)
            if (argv[i] == name) return used[i] = true;
        return false;
    }
    std::string value(const char* name, const std::string& dflt) {
        for (size_t i = 0; i + 1 < argv.size(); i++)
            if (argv[i] == name) {
                used[i] = used[i + 1] = true;
                return argv[i + 1];
            }
        return dflt;
    }
    long long integer(const char* name, long long dflt) {
        std::string v = value(name, "");
        if (v.empty()) return dflt;
        char* end = nullptr;
        long long r = std::strtoll(v.c_str(), &end, 10);
        if (*end != 0) die("%s must be an integer, got '%s'", name, v.c_str());
        return r;
    }
    double real(const char* name, double dflt) {
        std::string v = value(name, "");
        if (v.empty()) return dflt;
        char* end = nullptr;
        double r = std::strtod(v.c_str(), &end);
        if (*end != 0) die("%s must be a number, got '%s'", name, v.c_str());
        return r;
    }
    /** Fails on any argument no one asked for (a typo is an error, not a silent default). */
    void done() {
        for (size_t i = 0; i < argv.size(); i++)
            if (!used[i]) die("unknown argument '%s' (see the usage at the top of the harness source)", argv[i].c_str());
    }
    [[noreturn]] static void die(const char* fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        std::fprintf(stderr, "error: ");
        std::vfprintf(stderr, fmt, ap);
        std::fprintf(stderr, "\n");
        va_end(ap);
        std::exit(64);
    }
};

/** One JSON object built field by field; written as one line to stdout and appended to --json's file. */
struct Json {
    std::string s = "{";
    Json& raw(const char* k, const std::string& v) {
        if (s.size() > 1) s += ", ";
        s += "\"";
        s += k;
        s += "\": ";
        s += v;
        return *this;
    }
    Json& str(const char* k, const std::string& v) {
        std::string e = "\"";
        for (char c : v) {
            if (c == '"' || c == '\\') e += '\\';
            if ((unsigned char) c >= 0x20) e += c;
        }
        return raw(k, e + "\"");
    }
    Json& num(const char* k, double v) {
        char b[64];
        if (!std::isfinite(v)) return raw(k, "null");
        std::snprintf(b, sizeof b, "%.6g", v);
        return raw(k, b);
    }
    Json& integer(const char* k, long long v) { return raw(k, std::to_string(v)); }
    Json& boolean(const char* k, bool v) { return raw(k, v ? "true" : "false"); }
    std::string done() const { return s + "}"; }
};

/** Prints the object and appends it, as one line, to `path` (if not empty), flushed at once. */
inline void emit(const Json& j, const std::string& path) {
    const std::string line = j.done();
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
    if (!path.empty()) {
        FILE* f = std::fopen(path.c_str(), "a");
        if (f == nullptr) Args::die("cannot append to --json %s: %s", path.c_str(), std::strerror(errno));
        std::fprintf(f, "%s\n", line.c_str());
        std::fclose(f);
    }
}

/** "BxMxd,BxMxd" → triples; a malformed case is a one-line error. */
struct Case {
    long long b, m, d;
};
inline std::vector<Case> parse_cases(const std::string& list) {
    std::vector<Case> out;
    size_t at = 0;
    while (at <= list.size() && !list.empty()) {
        size_t comma = list.find(',', at);
        std::string c = list.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
        Case x{};
        char tail = 0;
        if (std::sscanf(c.c_str(), "%lldx%lldx%lld%c", &x.b, &x.m, &x.d, &tail) != 3 || x.b < 1 || x.m < 1 || x.d < 1)
            Args::die("--cases entry '%s' is not BxMxd with positive integers", c.c_str());
        out.push_back(x);
        if (comma == std::string::npos) break;
        at = comma + 1;
    }
    return out;
}

#if !defined(ENGRAM_EMULATION_BUILD)
/** Median milliseconds of `reps` runs of f, each bracketed by CUDA events, after `warmup` untimed runs. */
template <typename F>
inline double time_ms(int warmup, int reps, F f) {
    for (int i = 0; i < warmup; i++) f();
    CUDA_CHECK(cudaDeviceSynchronize());
    cudaEvent_t a, b;
    CUDA_CHECK(cudaEventCreate(&a));
    CUDA_CHECK(cudaEventCreate(&b));
    std::vector<float> t((size_t) reps);
    for (int i = 0; i < reps; i++) {
        CUDA_CHECK(cudaEventRecord(a));
        f();
        CUDA_CHECK(cudaEventRecord(b));
        CUDA_CHECK(cudaEventSynchronize(b));
        CUDA_CHECK(cudaEventElapsedTime(&t[(size_t) i], a, b));
    }
    CUDA_CHECK(cudaEventDestroy(a));
    CUDA_CHECK(cudaEventDestroy(b));
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}
#endif

}  // namespace harness
