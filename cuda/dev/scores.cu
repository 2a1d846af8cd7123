// scores.cu: harness for the cuBLAS baseline of retrieval: S = Q·Xᵀ by a GEMM, then engram_kernel_scores_partials
// (cuda/scores_partials.cu) and engram_kernel_retrieve_merge (cuda/retrieve_merge.cu), llm.c style.
//
// What it does, in order:
//   1. validation (always): random f32 problems (seeded) whose score matrix is computed on the host (float of the
//      double dot product: what a GEMM returns up to its rounding), at several chunk sizes and score-row strides,
//      whole memories and slices [from, to), V = X and separate V; the merged results against a C reference in
//      double: softmax(β·q·Xᵀ)·V, entropy, confidence, cosine top-k (ties to the smaller index). Tolerances as
//      retrieve.cu's (the Java tests' RetrievalAssertions): logit error ds = β·d·2⁻²⁴·max‖q‖·max‖x‖,
//      output 2e-5·max|v| + 4·ds·max|v|, entropy 2e-5 + 4·ds·(1 + ln M), cosine 2e-5·(1 + d/32).
//   2. timing (nvcc build with cuBLAS, unless --validate-only): per --cases BxMxd (V = X), cublasSgemm for S, then the
//      two kernels; CUDA events, median of --reps; JSON with the GEMM's and the whole pipeline's milliseconds, to set
//      beside retrieve.cu's fused kernel at the same case.
// Every result is one JSON line on stdout, and appended to --json FILE when given.
//
// usage: scores [--validate-only] [--quick] [--storage f32|all] [--cases 1x10000000x64,64x10000000x64] [--k 10]
//               [--beta 0.125] [--reps 10] [--seed 1] [--json FILE]
// Build (GPU):      nvcc -O3 -std=c++17 -arch=sm_90 --expt-relaxed-constexpr -Icuda cuda/dev/scores.cu
//                        cuda/scores_partials.cu cuda/retrieve_merge.cu -lcublas -o scores
// Build (emulated): CMake target harness_scores_emu; validation only (no cuBLAS: the scores come from the host).
#include "harness.h"

#include "../scores_partials.cuh"

#if !defined(ENGRAM_EMULATION_BUILD) && __has_include(<cublas_v2.h>)
#include <cublas_v2.h>
#define SCORES_HAVE_CUBLAS 1
#endif

namespace {

struct Problem {
    long long m;
    int d, dv, b, k;
    bool v_is_x;
    float beta;
    std::vector<float> x, v, q, norms, qnorms;
    const float* vrow(long long i) const { return v_is_x ? &x[(size_t) i * d] : &v[(size_t) i * dv]; }
};

/** repeat > 0: row i of X is row i mod repeat, so cosines tie and the top-k order falls to the index. */
Problem make(long long m, int d, int dv, bool v_is_x, int b, int k, float beta, uint64_t seed, int repeat) {
    harness::Rng rng(seed);
    Problem p{m, d, v_is_x ? d : dv, b, k, v_is_x, beta, {}, {}, {}, {}, {}};
    p.x.resize((size_t) m * d);
    for (auto& f : p.x) f = rng.uniform();
    if (repeat > 0)
        for (long long i = repeat; i < m; i++)
            for (int j = 0; j < d; j++) p.x[(size_t) (i * d + j)] = p.x[(size_t) ((i % repeat) * d + j)];
    if (!v_is_x) {
        p.v.resize((size_t) m * dv);
        for (auto& f : p.v) f = rng.uniform();
    }
    p.q.resize((size_t) b * d);
    for (auto& f : p.q) f = rng.uniform();
    for (long long i = 0; i < m; i++) {
        double s = 0;
        for (int j = 0; j < d; j++) s += (double) p.x[(size_t) i * d + j] * p.x[(size_t) i * d + j];
        p.norms.push_back((float) std::sqrt(s));
    }
    for (int r = 0; r < b; r++) {
        double s = 0;
        for (int j = 0; j < d; j++) s += (double) p.q[(size_t) r * d + j] * p.q[(size_t) r * d + j];
        p.qnorms.push_back((float) std::sqrt(s));
    }
    return p;
}

double dot(const Problem& p, int b, long long i) {
    double s = 0;
    for (int j = 0; j < p.d; j++) s += (double) p.q[(size_t) b * p.d + j] * p.x[(size_t) i * p.d + j];
    return s;
}

struct Result {
    std::vector<double> out, entropy, confidence, top_score;
    std::vector<long long> top_index;
};

/** The C reference over patterns [from, to), in double. */
Result reference(const Problem& p, long long from, long long to) {
    Result r;
    const long long M = to - from;
    r.out.assign((size_t) p.b * p.dv, 0.0);
    std::vector<double> s((size_t) M), cosv((size_t) M);
    std::vector<long long> order((size_t) M);
    for (int b = 0; b < p.b; b++) {
        double mx = -INFINITY;
        for (long long i = 0; i < M; i++) {
            const double dt = dot(p, b, from + i);
            s[(size_t) i] = p.beta * dt;
            const double den = (double) p.qnorms[(size_t) b] * p.norms[(size_t) (from + i)];
            cosv[(size_t) i] = den == 0 ? 0 : dt / den;
            mx = std::max(mx, s[(size_t) i]);
        }
        double l = 0, t = 0;
        for (long long i = 0; i < M; i++) {
            const double e = std::exp(s[(size_t) i] - mx);
            l += e;
            t += e * (s[(size_t) i] - mx);
            for (int j = 0; j < p.dv; j++) r.out[(size_t) b * p.dv + j] += e * p.vrow(from + i)[j];
        }
        for (int j = 0; j < p.dv; j++) r.out[(size_t) b * p.dv + j] /= l;
        const double h = std::log(l) - t / l;
        r.entropy.push_back(h);
        r.confidence.push_back(M == 1 ? 1.0 : 1.0 - h / std::log((double) M));
        for (long long i = 0; i < M; i++) order[(size_t) i] = i;
        const int kk = (int) std::min<long long>(p.k, M);
        std::partial_sort(order.begin(), order.begin() + kk, order.end(), [&](long long a, long long c) {
            return cosv[(size_t) a] > cosv[(size_t) c] || (cosv[(size_t) a] == cosv[(size_t) c] && a < c);
        });
        for (int i = 0; i < p.k; i++) {
            r.top_index.push_back(i < kk ? from + order[(size_t) i] : -1);
            r.top_score.push_back(i < kk ? cosv[(size_t) order[(size_t) i]] : -INFINITY);
        }
    }
    return r;
}

template <typename T>
T* dalloc(size_t n) {
    T* p = nullptr;
    CUDA_CHECK(cudaMalloc((void**) &p, std::max<size_t>(n, 1) * sizeof(T)));
    return p;
}

template <typename T>
T* upload(const std::vector<T>& h) {
    T* d = dalloc<T>(h.size());
    if (!h.empty()) CUDA_CHECK(cudaMemcpy(d, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice));
    return d;
}

template <typename T>
std::vector<T> download(const T* d, size_t n) {
    std::vector<T> h(n);
    if (n > 0) CUDA_CHECK(cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost));
    return h;
}

/** Partials of every (chunk, query), merge scratch and finished outputs, on the device. */
struct Buffers {
    long long chunks;
    engram::PartialOut part{};
    double* w = nullptr;
    int* heads = nullptr;
    float *a = nullptr, *bb = nullptr, *c = nullptr, *o = nullptr, *os = nullptr;
    long long* oi = nullptr;
    Buffers(int batch, int dv, int k, long long count, int chunk) {
        chunks = (count + chunk - 1) / chunk;
        const size_t cb = (size_t) chunks * batch, kk = (size_t) std::max(k, 1);
        part.m = dalloc<float>(cb);
        part.l = dalloc<float>(cb);
        part.t = dalloc<float>(cb);
        part.o = dalloc<float>(cb * dv);
        part.top_score = dalloc<float>(cb * kk);
        part.top_index = dalloc<long long>(cb * kk);
        w = dalloc<double>(cb);
        heads = dalloc<int>(cb);
        a = dalloc<float>((size_t) batch);
        bb = dalloc<float>((size_t) batch);
        c = dalloc<float>((size_t) batch);
        o = dalloc<float>((size_t) batch * dv);
        os = dalloc<float>((size_t) batch * kk);
        oi = dalloc<long long>((size_t) batch * kk);
    }
    ~Buffers() {
        for (void* q : {(void*) part.m, (void*) part.l, (void*) part.t, (void*) part.o, (void*) part.top_score,
                        (void*) part.top_index, (void*) w, (void*) heads, (void*) a, (void*) bb, (void*) c, (void*) o,
                        (void*) os, (void*) oi})
            cudaFree(q);
    }
    Buffers(const Buffers&) = delete;
    Buffers& operator=(const Buffers&) = delete;
};

void partials_and_merge(const float* dS, long long lds, const float* dV, int dv, const float* dnorms, long long from,
                        long long to, const float* dqn, int batch, float beta, int k, int chunk, Buffers& buf) {
    CUDA_CHECK(engram::launch_scores_partials(dS, lds, dV, dv, dnorms, from, to, dqn, batch, beta, k, chunk, buf.part,
                                              0));
    ENGRAM_LAUNCH(engram_kernel_retrieve_merge, dim3((unsigned) batch), dim3(256), 0)
    (buf.part.m, buf.part.l, buf.part.t, buf.part.o, buf.part.top_score, buf.part.top_index, (int) buf.chunks, batch,
     dv, k, to - from, 1, buf.w, buf.heads, buf.a, buf.bb, buf.c, buf.o, buf.os, buf.oi);
    CUDA_CHECK(cudaGetLastError());
}

/** One launch against the reference; the first mismatch or "". */
std::string check(const Problem& p, long long from, long long to, int chunk, long long pad) {
    const long long M = to - from, lds = M + pad;
    std::vector<float> S((size_t) (p.b * lds), NAN);  // padding NaN: a read past the row shows
    for (int b = 0; b < p.b; b++)
        for (long long i = 0; i < M; i++) S[(size_t) (b * lds + i)] = (float) dot(p, b, from + i);
    float* dS = upload(S);
    float* dV = upload(p.v_is_x ? p.x : p.v);
    float* dn = upload(p.norms);
    float* dqn = upload(p.qnorms);
    Buffers buf(p.b, p.dv, p.k, M, chunk);
    partials_and_merge(dS, lds, dV, p.dv, dn, from, to, dqn, p.b, p.beta, p.k, chunk, buf);
    CUDA_CHECK(cudaDeviceSynchronize());
    const size_t B = (size_t) p.b, k = (size_t) p.k;
    const std::vector<float> h = download(buf.a, B), conf = download(buf.bb, B), o = download(buf.o, B * p.dv);
    const std::vector<float> ts = download(buf.os, B * k);
    const std::vector<long long> ti = download(buf.oi, B * k);
    for (void* q : {(void*) dS, (void*) dV, (void*) dn, (void*) dqn}) cudaFree(q);
    const Result want = reference(p, from, to);
    double qmax = 0, xmax = 0, vmax = 0;
    for (float f : p.qnorms) qmax = std::max(qmax, (double) f);
    for (long long i = from; i < to; i++) {
        xmax = std::max(xmax, (double) p.norms[(size_t) i]);
        for (int j = 0; j < p.dv; j++) vmax = std::max(vmax, (double) std::fabs(p.vrow(i)[j]));
    }
    const double ds = p.beta * p.d * std::pow(2.0, -24) * qmax * xmax;
    const double out_tol = 2e-5 * vmax + 4 * ds * vmax, h_tol = 2e-5 + 4 * ds * (1 + std::log((double) M));
    const double cos_tol = 2e-5 * (1 + p.d / 32.0);
    char msg[256];
    for (size_t i = 0; i < o.size(); i++)
        if (!(std::fabs(o[i] - want.out[i]) <= out_tol)) {
            std::snprintf(msg, sizeof msg, "output[%zu] = %.8g, reference %.8g (tolerance %.3g)", i, (double) o[i],
                          want.out[i], out_tol);
            return msg;
        }
    for (size_t i = 0; i < B; i++) {
        if (!(std::fabs(h[i] - want.entropy[i]) <= h_tol)) {
            std::snprintf(msg, sizeof msg, "entropy[%zu] = %.8g, reference %.8g", i, (double) h[i], want.entropy[i]);
            return msg;
        }
        const double c_tol = M == 1 ? 1e-7 : h_tol / std::log((double) M);
        if (!(std::fabs(conf[i] - want.confidence[i]) <= c_tol)) {
            std::snprintf(msg, sizeof msg, "confidence[%zu] = %.8g, reference %.8g", i, (double) conf[i],
                          want.confidence[i]);
            return msg;
        }
        for (size_t j = 0; j < k; j++) {
            const size_t at = i * k + j;
            if (want.top_index[at] < 0) {
                if (ti[at] != -1 || ts[at] != -INFINITY) {
                    std::snprintf(msg, sizeof msg, "top %zu of query %zu = (%g, %lld), want padding (-inf, -1)", j, i,
                                  (double) ts[at], ti[at]);
                    return msg;
                }
                continue;
            }
            if (!(std::fabs(ts[at] - want.top_score[at]) <= cos_tol) || ti[at] < from || ti[at] >= to ||
                (j > 0 && ts[at - 1] < ts[at])) {
                std::snprintf(msg, sizeof msg, "top %zu of query %zu = (%.8g, %lld), reference (%.8g, %lld)", j, i,
                              (double) ts[at], ti[at], want.top_score[at], want.top_index[at]);
                return msg;
            }
            for (size_t j2 = 0; j2 < j; j2++)
                if (ti[i * k + j2] == ti[at]) {
                    std::snprintf(msg, sizeof msg, "top %zu and %zu of query %zu are both index %lld", j2, j, i, ti[at]);
                    return msg;
                }
            if (ti[at] != want.top_index[at]) {  // only where cosines tie within the tolerance
                const double den = (double) p.qnorms[i] * p.norms[(size_t) ti[at]];
                const double cv = den == 0 ? 0 : dot(p, (int) i, ti[at]) / den;
                if (!(std::fabs(cv - want.top_score[at]) <= cos_tol)) {
                    std::snprintf(msg, sizeof msg, "top index %zu of query %zu = %lld (cosine %.8g), reference %lld",
                                  j, i, ti[at], cv, want.top_index[at]);
                    return msg;
                }
            }
        }
    }
    return "";
}

struct VCase {
    long long m;
    int d, dv;
    bool v_is_x;
    int b, k;
    float beta;
    long long from, to;
    int repeat;
};

}  // namespace

int main(int argc, char** argv) {
    harness::Args args(argc, argv);
    const bool validate_only = args.flag("--validate-only");
    const bool quick = args.flag("--quick");
    const std::string storage = args.value("--storage", "all");
    const std::string cases_arg = args.value("--cases", "1x10000000x64,64x10000000x64");
    const int k = (int) args.integer("--k", 10);
    const float beta = (float) args.real("--beta", 0.125);
    const int reps = (int) args.integer("--reps", 10);
    const uint64_t seed = (uint64_t) args.integer("--seed", 1);
    const std::string json = args.value("--json", "");
    args.done();
    if (storage != "all" && storage != "f32")
        harness::Args::die("--storage must be f32 or all (the baseline reads float32 scores and values), got '%s'",
                           storage.c_str());
    if (k < 0 || k > ENGRAM_MAX_K) harness::Args::die("--k must be in [0, %d], got %d", ENGRAM_MAX_K, k);
    if (reps < 1) harness::Args::die("--reps must be >= 1, got %d", reps);
    const std::vector<harness::Case> cases = harness::parse_cases(cases_arg);
#if defined(ENGRAM_EMULATION_BUILD)
    const char* build = "emu";
#else
    const char* build = "cuda";
#endif
    std::vector<VCase> vcases = {
        {700, 64, 64, true, 1, 10, 0.5f, 0, 700, 0},     {333, 3, 3, true, 5, 7, 2.0f, 0, 333, 37},
        {600, 130, 20, false, 9, 16, 0.25f, 50, 590, 0}, {64, 17, 300, false, 3, 64, 1.0f, 0, 64, 0},
        {1, 8, 8, true, 2, 1, 1.0f, 0, 1, 0},            {1100, 32, 32, true, 3, 0, 0.125f, 100, 1100, 0},
        {500, 16, 16, false, 4, 20, 1.0f, 0, 500, 3},
    };
    std::vector<int> chunks = {32, 100, 256, 1000, 5000};
    if (quick) {
        vcases = {{300, 40, 40, true, 3, 5, 0.5f, 0, 300, 0}, {200, 20, 9, false, 2, 3, 1.0f, 10, 190, 7}};
        chunks = {64, 256};
    }
    int failures = 0, checked = 0;
    for (size_t ci = 0; ci < vcases.size(); ci++) {
        const VCase& c = vcases[ci];
        const uint64_t case_seed = seed * 1000 + ci;
        const Problem p = make(c.m, c.d, c.dv, c.v_is_x, c.b, c.k, c.beta, case_seed, c.repeat);
        for (size_t si = 0; si < chunks.size(); si++) {
            const long long pad = (long long) (si % 3);  // score rows of length M, M + 1, M + 2
            const std::string bad = check(p, c.from, c.to, chunks[si], pad);
            checked++;
            harness::Json j;
            j.str("harness", "scores").str("build", build).str("phase", "validate").integer("M", c.m)
                .integer("from", c.from).integer("to", c.to).integer("d", c.d).integer("dv", p.dv)
                .boolean("v_is_x", c.v_is_x).integer("B", c.b).integer("k", c.k).num("beta", c.beta)
                .integer("chunk", chunks[si]).integer("lds_pad", pad).integer("repeat", c.repeat).integer("seed", (long long) case_seed)
                .boolean("ok", bad.empty());
            if (!bad.empty()) {
                failures++;
                j.str("error", bad);
                harness::emit(j, json);
            } else if (quick) {
                harness::emit(j, json);
            }
        }
    }
    {
        harness::Json j;
        j.str("harness", "scores").str("build", build).str("phase", "validate-summary").integer("checked", checked)
            .integer("failures", failures).boolean("ok", failures == 0);
        harness::emit(j, json);
    }
    if (failures > 0) return 1;
    if (validate_only) return 0;
#if !defined(SCORES_HAVE_CUBLAS)
    harness::Json j;
    j.str("harness", "scores").str("build", build).str("phase", "time").str("skipped",
        "timing needs the nvcc build with cuBLAS (cublas_v2.h was not found, or this is the emulator)");
    harness::emit(j, json);
    (void) cases;
    (void) reps;
    (void) k;
    (void) beta;
#else
    cublasHandle_t handle;
    if (cublasCreate(&handle) != CUBLAS_STATUS_SUCCESS) harness::Args::die("cublasCreate failed");
    int dev = 0;
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDevice(&dev));
    CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
    for (const harness::Case& c : cases) {
        harness::Json j;
        j.str("harness", "scores").str("build", build).str("phase", "time").str("device", prop.name)
            .integer("B", c.b).integer("M", c.m).integer("d", c.d).integer("k", k).num("beta", beta);
        const double bytes = (double) c.m * c.d * 4 + (double) c.b * c.m * 4 + (double) c.m * 4;
        if (bytes > 0.8 * (double) prop.totalGlobalMem) {
            j.str("skipped", "X and the score matrix do not fit in device memory");
            harness::emit(j, json);
            continue;
        }
        // X, Q uniform in [-1, 1) from a host generator would take minutes at M = 1e7: fill on the device instead
        // with cuBLAS-independent values (a scaled index hash), norms on the host are not needed for timing
        float* dX = dalloc<float>((size_t) (c.m * c.d));
        float* dS = dalloc<float>((size_t) (c.b * c.m));
        float* dn = dalloc<float>((size_t) c.m);
        std::vector<float> hq((size_t) (c.b * c.d)), hqn((size_t) c.b, 1.f);
        harness::Rng rng(seed);
        for (auto& f : hq) f = rng.uniform();
        float* dQ = upload(hq);
        float* dqn = upload(hqn);
        {
            std::vector<float> chunk_x((size_t) 1 << 22);
            for (auto& f : chunk_x) f = rng.uniform();
            for (long long at = 0; at < c.m * c.d; at += (long long) chunk_x.size()) {
                const long long n = std::min<long long>((long long) chunk_x.size(), c.m * c.d - at);
                CUDA_CHECK(cudaMemcpy(dX + at, chunk_x.data(), (size_t) n * 4, cudaMemcpyHostToDevice));
            }
            std::vector<float> ones((size_t) c.m, 4.f);
            CUDA_CHECK(cudaMemcpy(dn, ones.data(), (size_t) c.m * 4, cudaMemcpyHostToDevice));
        }
        const long long wanted = std::max<long long>(1, 8LL * prop.multiProcessorCount / c.b);
        const int chunk = (int) std::min<long long>(std::max<long long>((c.m + wanted - 1) / wanted, 256), 1 << 20);
        Buffers buf((int) c.b, (int) c.d, k, c.m, chunk);
        const float one = 1.f, zero = 0.f;
        auto gemm = [&] {
            // column-major: S' (M × B, ld M) = Xᵀ (X is d × M, ld d) · Q (d × B, ld d), i.e. row-major S (B × M)
            if (cublasSgemm(handle, CUBLAS_OP_T, CUBLAS_OP_N, (int) c.m, (int) c.b, (int) c.d, &one, dX, (int) c.d,
                            dQ, (int) c.d, &zero, dS, (int) c.m) != CUBLAS_STATUS_SUCCESS)
                harness::Args::die("cublasSgemm failed");
        };
        const double gemm_ms = harness::time_ms(2, reps, gemm);
        const double all_ms = harness::time_ms(2, reps, [&] {
            gemm();
            partials_and_merge(dS, c.m, dX, (int) c.d, dn, 0, c.m, dqn, (int) c.b, beta, k, chunk, buf);
        });
        j.integer("chunk", chunk).num("gemm_ms", gemm_ms).num("ms", all_ms).integer("reps", reps)
            .num("GBps_X", (double) c.m * c.d * 4 / (all_ms * 1e-3) / 1e9);
        harness::emit(j, json);
        for (void* q : {(void*) dX, (void*) dS, (void*) dn, (void*) dQ, (void*) dqn}) cudaFree(q);
    }
    cublasDestroy(handle);
#endif
    return 0;
}
