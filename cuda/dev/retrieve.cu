// retrieve.cu: harness for the retrieval kernels (cuda/retrieve_partial.cu + cuda/retrieve_merge.cu), llm.c style.
//
// Versions (--version):
//   1  engram_kernel_retrieve_partial_{f32,f16,bf16} + engram_kernel_retrieve_merge: flash-decoding shaped SIMT
//      kernels. Pass 1: a block owns (query tile, memory chunk), streams X (and V) through shared memory once, keeps
//      the online-softmax state (m, l, t, o) and a cosine top-k list per query; any block size % 32 == 0 up to 256,
//      chunk % 32 == 0, query tile <= threads/4. Pass 2: one block per query merges the chunks' partials exactly.
//   2  engram_kernel_retrieve_partial_v2_{f32,f16,bf16}_d{32,64,128} (retrieve_partial_v2.cu) + the same merge:
//      tensor cores for both products (bf16 terms, float32-grade logits), a cp.async pipeline per warp, four
//      independent warps per block (one partial each), threshold-filtered top-k; d = dv in {32, 64, 128}; chunk % 128 == 0.
//
// What it does, in order:
//   1. validation (always): random problems (seeded; the seed is printed) against a C reference in double, at every
//      launch shape in the list below (results must not depend on block size, chunk or query tile), for f32, f16 and
//      bf16 storage, V = X and separate V, both merge modes (finished results, and one merged partial finished on the
//      host). Tolerances as the Java tests' (RetrievalAssertions): float32 logits, float32 sums within a chunk.
//   2. timing (nvcc build only, unless --validate-only): each --cases BxMxd with d = dv, V = X, CUDA events around
//      both kernels, median of --reps; JSON with ms, GB/s of X streamed and the launch shape.
// Every result is one JSON line on stdout, and appended to --json FILE when given.
//
// usage: retrieve [--validate-only | --skip-validation] [--quick] [--version 1|2|all] [--storage f32|f16|bf16|all] [--cases 1x10000000x64,64x10000000x64]
//                 [--k 10] [--beta 0.125] [--reps 20] [--seed 1] [--json FILE]
// Build (GPU):      nvcc -O3 -std=c++17 -arch=sm_90 --expt-relaxed-constexpr -Icuda cuda/dev/retrieve.cu
//                        cuda/retrieve_partial.cu cuda/retrieve_partial_v2.cu cuda/retrieve_merge.cu -o retrieve
// Build (emulated): CMake target harness_retrieve_emu (see CMakeLists.txt); validation only, on the host.
#include "harness.h"

#include <type_traits>

using engram::half_bits::bf16_of;
using engram::half_bits::bf16_value;
using engram::half_bits::f16_of;
using engram::half_bits::f16_value;

namespace {

enum Storage { F32 = ENGRAM_STORAGE_F32, F16 = ENGRAM_STORAGE_F16, BF16 = ENGRAM_STORAGE_BF16 };
const char* storage_name(int s) { return s == F16 ? "f16" : s == BF16 ? "bf16" : "f32"; }

/** A problem on host and device: X M×d, V M×dv (or X), queries B×d, stored rounded to the storage kind. */
struct Problem {
    long long m;
    int d, dv, b, k, storage;
    bool v_is_x;
    float beta;
    std::vector<float> x, v, q, norms;  // x, v: the values as stored (after rounding)
    void* dx = nullptr;
    void* dv_ptr = nullptr;
    float* dnorms = nullptr;
    float* dq = nullptr;

    static float round_to(float f, int storage) {
        return storage == F16 ? f16_value(f16_of(f)) : storage == BF16 ? bf16_value(bf16_of(f)) : f;
    }

    Problem(long long m_, int d_, int dv_, bool v_is_x_, int b_, int k_, float beta_, int storage_, uint64_t seed)
        : m(m_), d(d_), dv(dv_), b(b_), k(k_), storage(storage_), v_is_x(v_is_x_), beta(beta_) {
        harness::Rng rng(seed);
        x.resize((size_t) m * d);
        for (auto& f : x) f = round_to(rng.uniform(), storage);
        if (!v_is_x) {
            v.resize((size_t) m * dv);
            for (auto& f : v) f = round_to(rng.uniform(), storage);
        }
        q.resize((size_t) b * d);
        for (auto& f : q) f = rng.uniform();
        norms.resize((size_t) m);
        for (long long i = 0; i < m; i++) {
            double s = 0;
            for (int j = 0; j < d; j++) s += (double) x[(size_t) i * d + j] * x[(size_t) i * d + j];
            norms[(size_t) i] = (float) std::sqrt(s);
        }
        dx = upload_stored(x);
        if (!v_is_x) dv_ptr = upload_stored(v);
        CUDA_CHECK(cudaMalloc((void**) &dnorms, norms.size() * 4));
        CUDA_CHECK(cudaMemcpy(dnorms, norms.data(), norms.size() * 4, cudaMemcpyHostToDevice));
        CUDA_CHECK(cudaMalloc((void**) &dq, q.size() * 4));
        CUDA_CHECK(cudaMemcpy(dq, q.data(), q.size() * 4, cudaMemcpyHostToDevice));
    }
    ~Problem() {
        cudaFree(dx);
        cudaFree(dv_ptr);
        cudaFree(dnorms);
        cudaFree(dq);
    }
    Problem(const Problem&) = delete;
    Problem& operator=(const Problem&) = delete;

    void* upload_stored(const std::vector<float>& h) {
        void* p = nullptr;
        if (storage == F32) {
            CUDA_CHECK(cudaMalloc(&p, h.size() * 4));
            CUDA_CHECK(cudaMemcpy(p, h.data(), h.size() * 4, cudaMemcpyHostToDevice));
        } else {
            std::vector<uint16_t> bits(h.size());
            for (size_t i = 0; i < h.size(); i++) bits[i] = storage == F16 ? f16_of(h[i]) : bf16_of(h[i]);
            CUDA_CHECK(cudaMalloc(&p, bits.size() * 2));
            CUDA_CHECK(cudaMemcpy(p, bits.data(), bits.size() * 2, cudaMemcpyHostToDevice));
        }
        return p;
    }
    const float* vrow(long long i) const { return v_is_x ? &x[(size_t) i * d] : &v[(size_t) i * dv]; }
};

/** Finished results of B queries. */
struct Result {
    std::vector<double> out, entropy, confidence, top_score;
    std::vector<long long> top_index;
};

/** The C reference, in double: softmax(beta·q·Xᵀ)·V, entropy, confidence, cosine top-k (ties to the smaller index). */
Result reference(const Problem& p) {
    Result r;
    r.out.assign((size_t) p.b * p.dv, 0.0);
    r.entropy.resize((size_t) p.b);
    r.confidence.resize((size_t) p.b);
    r.top_score.resize((size_t) p.b * p.k);
    r.top_index.resize((size_t) p.b * p.k);
    std::vector<double> s((size_t) p.m), cosv((size_t) p.m);
    std::vector<long long> order((size_t) p.m);
    for (int b = 0; b < p.b; b++) {
        const float* q = &p.q[(size_t) b * p.d];
        double qn = 0;
        for (int j = 0; j < p.d; j++) qn += (double) q[j] * q[j];
        qn = std::sqrt(qn);
        double mx = -INFINITY;
        for (long long i = 0; i < p.m; i++) {
            double dot = 0;
            for (int j = 0; j < p.d; j++) dot += (double) q[j] * p.x[(size_t) i * p.d + j];
            s[(size_t) i] = p.beta * dot;
            const double den = qn * p.norms[(size_t) i];
            cosv[(size_t) i] = den == 0 ? 0 : dot / den;
            mx = std::max(mx, s[(size_t) i]);
        }
        double l = 0, t = 0;
        for (long long i = 0; i < p.m; i++) {
            const double e = std::exp(s[(size_t) i] - mx);
            l += e;
            t += e * (s[(size_t) i] - mx);
            const float* vi = p.vrow(i);
            for (int j = 0; j < p.dv; j++) r.out[(size_t) b * p.dv + j] += e * vi[j];
        }
        for (int j = 0; j < p.dv; j++) r.out[(size_t) b * p.dv + j] /= l;
        const double h = std::log(l) - t / l;
        r.entropy[(size_t) b] = h;
        r.confidence[(size_t) b] = p.m == 1 ? 1.0 : 1.0 - h / std::log((double) p.m);
        for (long long i = 0; i < p.m; i++) order[(size_t) i] = i;
        std::partial_sort(order.begin(), order.begin() + p.k, order.end(), [&](long long a, long long c) {
            return cosv[(size_t) a] > cosv[(size_t) c] || (cosv[(size_t) a] == cosv[(size_t) c] && a < c);
        });
        for (int i = 0; i < p.k; i++) {
            r.top_index[(size_t) b * p.k + i] = order[(size_t) i];
            r.top_score[(size_t) b * p.k + i] = cosv[(size_t) order[(size_t) i]];
        }
    }
    return r;
}

struct Shape {
    int threads, chunk, qtile;
    int version = 1;  // 2: threads and qtile are fixed (128, 16)
};

long long partials(const Problem& p, const Shape& s) {
    const long long chunks = (p.m + s.chunk - 1) / s.chunk;
    return s.version == 2 ? chunks * engram::retrieve_v2_parts_per_chunk() : chunks;
}

/** Device buffers of one launch: partials of every (chunk, query), merge scratch and outputs. */
struct Buffers {
    long long chunks = 0;
    float *pm = nullptr, *pl = nullptr, *pt = nullptr, *po = nullptr, *ps = nullptr;
    long long* pi = nullptr;
    double* w = nullptr;
    int* heads = nullptr;
    float *a = nullptr, *bb = nullptr, *c = nullptr, *o = nullptr, *os = nullptr;
    long long* oi = nullptr;
    Buffers(const Problem& p, const Shape& s) {
        chunks = partials(p, s);
        const size_t cb = (size_t) chunks * p.b, k = (size_t) std::max(p.k, 1);
        CUDA_CHECK(cudaMalloc((void**) &pm, cb * 4));
        CUDA_CHECK(cudaMalloc((void**) &pl, cb * 4));
        CUDA_CHECK(cudaMalloc((void**) &pt, cb * 4));
        CUDA_CHECK(cudaMalloc((void**) &po, cb * p.dv * 4));
        CUDA_CHECK(cudaMalloc((void**) &ps, cb * k * 4));
        CUDA_CHECK(cudaMalloc((void**) &pi, cb * k * 8));
        CUDA_CHECK(cudaMalloc((void**) &w, cb * 8));
        CUDA_CHECK(cudaMalloc((void**) &heads, cb * 4));
        CUDA_CHECK(cudaMalloc((void**) &a, (size_t) p.b * 4));
        CUDA_CHECK(cudaMalloc((void**) &bb, (size_t) p.b * 4));
        CUDA_CHECK(cudaMalloc((void**) &c, (size_t) p.b * 4));
        CUDA_CHECK(cudaMalloc((void**) &o, (size_t) p.b * p.dv * 4));
        CUDA_CHECK(cudaMalloc((void**) &os, (size_t) p.b * k * 4));
        CUDA_CHECK(cudaMalloc((void**) &oi, (size_t) p.b * k * 8));
    }
    ~Buffers() {
        for (void* q : {(void*) pm, (void*) pl, (void*) pt, (void*) po, (void*) ps, (void*) pi, (void*) w, (void*) heads,
                        (void*) a, (void*) bb, (void*) c, (void*) o, (void*) os, (void*) oi})
            cudaFree(q);
    }
    Buffers(const Buffers&) = delete;
    Buffers& operator=(const Buffers&) = delete;
};

/** Both passes, launched through the extern "C" kernels (the entry points the JCuda engine uses). */
void launch(const Problem& p, const Shape& s, Buffers& buf, int finish, bool partial_only = false) {
    if (s.version == 2) {
        engram::PartialOut out{buf.pm, buf.pl, buf.pt, buf.po, buf.ps, buf.pi};
        CUDA_CHECK(engram::launch_retrieve_partial_v2(p.storage, p.dx, p.v_is_x ? nullptr : p.dv_ptr, p.dnorms, 0LL,
                                                      p.m, p.d, p.dq, p.b, p.beta, p.k, s.chunk, out));
        if (partial_only) return;
        ENGRAM_LAUNCH(engram_kernel_retrieve_merge, dim3((unsigned) p.b), dim3(256), 0)
        (buf.pm, buf.pl, buf.pt, buf.po, buf.ps, buf.pi, (int) buf.chunks, p.b, p.dv, p.k, p.m, finish, buf.w,
         buf.heads, buf.a, buf.bb, buf.c, buf.o, buf.os, buf.oi);
        CUDA_CHECK(cudaGetLastError());
        return;
    }
    const bool values_in_xs = p.v_is_x && p.d <= engram::kMaxDimTile;
    const void* v = values_in_xs ? nullptr : (p.v_is_x ? p.dx : p.dv_ptr);
    const int bytes = engram::shared_plan(p.d, p.dv, p.k, s.qtile, values_in_xs).bytes;
    auto kernel = p.storage == F16 ? engram_kernel_retrieve_partial_f16
                  : p.storage == BF16 ? engram_kernel_retrieve_partial_bf16 : engram_kernel_retrieve_partial_f32;
    if (bytes > 48 * 1024) CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes));
    dim3 grid((unsigned) buf.chunks, (unsigned) ((p.b + s.qtile - 1) / s.qtile));
    ENGRAM_LAUNCH(kernel, grid, dim3((unsigned) s.threads), (size_t) bytes)
    (p.dx, v, p.dnorms, 0LL, p.m, p.d, p.dv, p.dq, p.b, p.beta, p.k, s.chunk, s.qtile, buf.pm, buf.pl, buf.pt, buf.po,
     buf.ps, buf.pi);
    CUDA_CHECK(cudaGetLastError());
    if (partial_only) return;
    ENGRAM_LAUNCH(engram_kernel_retrieve_merge, dim3((unsigned) p.b), dim3(256), 0)
    (buf.pm, buf.pl, buf.pt, buf.po, buf.ps, buf.pi, (int) buf.chunks, p.b, p.dv, p.k, p.m, finish, buf.w, buf.heads,
     buf.a, buf.bb, buf.c, buf.o, buf.os, buf.oi);
    CUDA_CHECK(cudaGetLastError());
}

template <typename T>
std::vector<T> download(const T* d, size_t n) {
    std::vector<T> h(n);
    if (n > 0) CUDA_CHECK(cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost));
    return h;
}

/** Compares one launch with the reference; returns the first mismatch ("" when it agrees). */
std::string check(const Problem& p, const Result& want, const Shape& s, int finish) {
    Buffers buf(p, s);
    launch(p, s, buf, finish);
    CUDA_CHECK(cudaDeviceSynchronize());
    const size_t B = (size_t) p.b, k = (size_t) p.k;
    std::vector<float> a = download(buf.a, B), bb = download(buf.bb, B), o = download(buf.o, B * p.dv);
    std::vector<float> ts = download(buf.os, B * k);
    std::vector<long long> ti = download(buf.oi, B * k);
    std::vector<double> out(B * p.dv), h(B), conf(B);
    if (finish) {
        for (size_t i = 0; i < out.size(); i++) out[i] = o[i];
        for (size_t i = 0; i < B; i++) h[i] = a[i], conf[i] = bb[i];
    } else {  // a merged partial (m, l, t, o), finished here as RetrievalPartial.finish() does
        std::vector<float> c = download(buf.c, B);
        for (size_t i = 0; i < B; i++) {
            for (int j = 0; j < p.dv; j++) out[i * p.dv + j] = o[i * p.dv + j] / (double) bb[i];
            h[i] = std::log((double) bb[i]) - c[i] / (double) bb[i];
            conf[i] = p.m == 1 ? 1.0 : 1.0 - h[i] / std::log((double) p.m);
        }
    }
    // tolerances of the Java tests (RetrievalAssertions): logit error ds = beta·d·2^-24·max‖q‖·max‖x‖
    double qmax = 0, xmax = 0, vmax = 0;
    for (int b = 0; b < p.b; b++) {
        double s2 = 0;
        for (int j = 0; j < p.d; j++) s2 += (double) p.q[(size_t) b * p.d + j] * p.q[(size_t) b * p.d + j];
        qmax = std::max(qmax, std::sqrt(s2));
    }
    for (float n : p.norms) xmax = std::max(xmax, (double) n);
    for (long long i = 0; i < p.m; i++)
        for (int j = 0; j < p.dv; j++) vmax = std::max(vmax, (double) std::fabs(p.vrow(i)[j]));
    const double ds = p.beta * p.d * std::pow(2.0, -24) * qmax * xmax;
    const double out_tol = 2e-5 * vmax + 4 * ds * vmax, h_tol = 2e-5 + 4 * ds * (1 + std::log((double) p.m));
    const double cos_tol = 2e-5 * (1 + p.d / 32.0);
    char msg[256];
    for (size_t i = 0; i < out.size(); i++)
        if (!(std::fabs(out[i] - want.out[i]) <= out_tol)) {
            std::snprintf(msg, sizeof msg, "output[%zu] = %.8g, reference %.8g (tolerance %.3g)", i, out[i], want.out[i],
                          out_tol);
            return msg;
        }
    for (size_t i = 0; i < B; i++) {
        if (!(std::fabs(h[i] - want.entropy[i]) <= h_tol)) {
            std::snprintf(msg, sizeof msg, "entropy[%zu] = %.8g, reference %.8g", i, h[i], want.entropy[i]);
            return msg;
        }
        const double c_tol = p.m == 1 ? 1e-7 : h_tol / std::log((double) p.m);
        if (!(std::fabs(conf[i] - want.confidence[i]) <= c_tol)) {
            std::snprintf(msg, sizeof msg, "confidence[%zu] = %.8g, reference %.8g", i, conf[i], want.confidence[i]);
            return msg;
        }
        for (size_t j = 0; j < k; j++) {
            const size_t at = i * k + j;
            if (!(std::fabs(ts[at] - want.top_score[at]) <= cos_tol)) {
                std::snprintf(msg, sizeof msg, "top score %zu of query %zu = %.8g, reference %.8g", j, i, (double) ts[at],
                              want.top_score[at]);
                return msg;
            }
            if (ti[at] < 0 || ti[at] >= p.m || (j > 0 && ts[at - 1] < ts[at])) {
                std::snprintf(msg, sizeof msg, "top index %zu of query %zu = %lld (unsorted or out of range)", j, i,
                              ti[at]);
                return msg;
            }
            // an index may differ from the reference's only where cosines tie within the tolerance
            if (ti[at] != want.top_index[at]) {
                double dot = 0, qn = 0;
                for (int c = 0; c < p.d; c++) {
                    dot += (double) p.q[i * p.d + c] * p.x[(size_t) ti[at] * p.d + c];
                    qn += (double) p.q[i * p.d + c] * p.q[i * p.d + c];
                }
                const double den = std::sqrt(qn) * p.norms[(size_t) ti[at]];
                const double cosv = den == 0 ? 0 : dot / den;
                if (!(std::fabs(cosv - want.top_score[at]) <= cos_tol)) {
                    std::snprintf(msg, sizeof msg, "top index %zu of query %zu = %lld (cosine %.8g), reference %lld (%.8g)",
                                  j, i, ti[at], cosv, want.top_index[at], want.top_score[at]);
                    return msg;
                }
            }
        }
    }
    return "";
}

#if !defined(ENGRAM_EMULATION_BUILD)
/** x[i] uniform in [-1, 1) from a counter hash (splitmix64 of seed + i), rounded to T. */
template <typename T>
__global__ void fill_uniform(T* x, long long n, unsigned long long seed) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        unsigned long long z = seed + (unsigned long long) i * 0x9e3779b97f4a7c15ULL;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        const float f = (float) ((z >> 40) * (1.0 / (1 << 23)) - 1.0);
        if constexpr (sizeof(T) == 4) x[i] = f;
        else if constexpr (std::is_same<T, __half>::value) x[i] = __float2half_rn(f);
        else x[i] = __float2bfloat16_rn(f);
    }
}

/** norms[r] = ‖x_r‖ of the stored (rounded) rows, one thread per row. */
template <typename T>
__global__ void row_norms(const T* x, float* norms, long long m, int d) {
    const long long r = blockIdx.x * (long long) blockDim.x + threadIdx.x;
    if (r >= m) return;
    float s = 0.f;
    for (int j = 0; j < d; j++) {
        float f;
        if constexpr (sizeof(T) == 4) f = x[r * d + j];
        else if constexpr (std::is_same<T, __half>::value) f = __half2float(x[r * d + j]);
        else f = __bfloat162float(x[r * d + j]);
        s += f * f;
    }
    norms[r] = sqrtf(s);
}

template <typename T>
void fill_typed(void* x, float* norms, long long m, int d, uint64_t seed) {
    fill_uniform<T><<<4096, 256>>>(static_cast<T*>(x), m * d, (unsigned long long) seed);
    CUDA_CHECK(cudaGetLastError());
    row_norms<T><<<(unsigned) ((m + 255) / 256), 256>>>(static_cast<const T*>(x), norms, m, d);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaDeviceSynchronize());
}

void fill_device(void* x, float* norms, long long m, int d, int storage, uint64_t seed) {
    if (storage == F16) fill_typed<__half>(x, norms, m, d, seed);
    else if (storage == BF16) fill_typed<__nv_bfloat16>(x, norms, m, d, seed);
    else fill_typed<float>(x, norms, m, d, seed);
}
#endif

struct ValidationCase {
    long long m;
    int d, dv;
    bool v_is_x;
    int b, k;
    float beta;
};

}  // namespace

/** Whether version 2's shared memory for this storage, width, V and k fits the device's opt-in limit per block. */
bool v2_fits(int storage, int d, bool separate_v, int k) {
    int dev = 0;
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDevice(&dev));
    CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
    return (size_t) engram::retrieve_v2_shared_bytes(storage, d, separate_v, k) <= prop.sharedMemPerBlockOptin;
}

int main(int argc, char** argv) {
    harness::Args args(argc, argv);
    const bool validate_only = args.flag("--validate-only");
    const bool skip_validation = args.flag("--skip-validation");  // timing only (e.g. under a profiler)
    const bool quick = args.flag("--quick");
    const std::string storage_arg = args.value("--storage", "all");
    const std::string version_arg = args.value("--version", "all");
    const std::string cases_arg = args.value("--cases", "1x10000000x64,64x10000000x64");
    const int k = (int) args.integer("--k", 10);
    const float beta = (float) args.real("--beta", 0.125);
    const int reps = (int) args.integer("--reps", 20);
    const uint64_t seed = (uint64_t) args.integer("--seed", 1);
    const std::string json = args.value("--json", "");
    args.done();
    std::vector<int> storages;
    if (storage_arg == "all") storages = {F32, F16, BF16};
    else if (storage_arg == "f32") storages = {F32};
    else if (storage_arg == "f16") storages = {F16};
    else if (storage_arg == "bf16") storages = {BF16};
    else harness::Args::die("--storage must be f32, f16, bf16 or all, got '%s'", storage_arg.c_str());
    std::vector<int> versions;
    if (version_arg == "all") versions = {1, 2};
    else if (version_arg == "1") versions = {1};
    else if (version_arg == "2") versions = {2};
    else harness::Args::die("--version must be 1, 2 or all, got '%s'", version_arg.c_str());
    if (k < 0 || k > ENGRAM_MAX_K) harness::Args::die("--k must be in [0, %d], got %d", ENGRAM_MAX_K, k);
    if (!(beta > 0) || !std::isfinite(beta)) harness::Args::die("--beta must be a finite number > 0, got %g", beta);
    if (reps < 1) harness::Args::die("--reps must be >= 1, got %d", reps);
    const std::vector<harness::Case> cases = harness::parse_cases(cases_arg);
#if defined(ENGRAM_EMULATION_BUILD)
    const char* build = "emu";
#else
    const char* build = "cuda";
#endif

    // 1. validation: every problem at every launch shape; sizes off multiples of 32 and of the chunk
    std::vector<ValidationCase> vcases = {
        {700, 64, 64, true, 1, 10, 0.5f},  {333, 3, 3, true, 5, 7, 2.0f},      {600, 130, 20, false, 9, 16, 0.25f},
        {64, 17, 17, false, 33, 64, 1.0f}, {1, 8, 8, true, 2, 1, 1.0f},        {1100, 128, 128, true, 3, 0, 0.125f},
    };
    std::vector<Shape> shapes = {{32, 32, 1}, {64, 96, 3}, {128, 256, 16}, {256, 1024, 64}, {256, 64, 7}, {96, 160, 24}};
    // version 2: d = dv in {32, 64, 128}; lists in shared memory (k <= 32) and in the output (k > 32); a tile cut by
    // the chunk's end, warps without tiles, large logits (beta·|q||x| up to ~1e4), B = 1 and B beyond one query tile
    std::vector<ValidationCase> vcases2 = {
        {700, 64, 64, true, 1, 10, 0.5f},   {333, 32, 32, false, 5, 7, 2.0f},   {1100, 128, 128, true, 3, 0, 0.125f},
        {257, 32, 32, true, 17, 33, 1.0f},  {1000, 64, 64, false, 20, 100, 0.25f}, {90, 32, 32, true, 2, 90, 300.0f},
        {1, 64, 64, true, 2, 1, 1.0f},      {600, 128, 128, false, 33, 256, 1.0f},
    };
    std::vector<Shape> shapes2 = {{128, 128, 16, 2}, {128, 384, 16, 2}, {128, 1024, 16, 2}};
    if (quick) {  // for compute-sanitizer: small problems, two shapes
        vcases = {{300, 40, 40, true, 3, 5, 0.5f}, {200, 20, 9, false, 2, 3, 1.0f}};
        shapes = {{64, 64, 2}, {128, 96, 3}};
        vcases2 = {{300, 64, 64, true, 3, 5, 0.5f}, {200, 32, 32, false, 18, 40, 1.0f}};
        shapes2 = {{128, 128, 16, 2}, {128, 384, 16, 2}};
    }
    int failures = 0, checked = 0;
    if (skip_validation) vcases.clear(), vcases2.clear();
    for (int version : versions)
    for (int st : storages) {
        const std::vector<ValidationCase>& vc = version == 2 ? vcases2 : vcases;
        for (size_t ci = 0; ci < vc.size(); ci++) {
            const ValidationCase& c = vc[ci];
            const uint64_t case_seed = seed * 1000 + ci * 10 + (uint64_t) st + (version == 2 ? 500 : 0);
            if (version == 2 && !v2_fits(st, c.d, !c.v_is_x, c.k)) {  // the library runs version 1 there
                harness::Json j;
                j.str("harness", "retrieve").str("build", build).str("phase", "validate").integer("version", version)
                    .str("storage", storage_name(st)).integer("d", c.d).boolean("v_is_x", c.v_is_x).integer("k", c.k)
                    .str("skipped", "shared memory per block beyond the device's opt-in limit");
                harness::emit(j, json);
                continue;
            }
            Problem p(c.m, c.d, c.dv, c.v_is_x, c.b, c.k, c.beta, st, case_seed);
            const Result want = reference(p);
            for (const Shape& s : version == 2 ? shapes2 : shapes) {
                if (s.version == 1 && s.qtile > engram::kMaxPairs * s.threads / engram::kTile) continue;
                for (int finish = 1; finish >= 0; finish--) {
                    const std::string bad = check(p, want, s, finish);
                    checked++;
                    harness::Json j;
                    j.str("harness", "retrieve").str("build", build).str("phase", "validate").integer("version", version)
                        .str("storage", storage_name(st)).integer("M", c.m).integer("d", c.d).integer("dv", c.dv)
                        .boolean("v_is_x", c.v_is_x).integer("B", c.b).integer("k", c.k).num("beta", c.beta)
                        .integer("threads", s.threads).integer("chunk", s.chunk).integer("qtile", s.qtile)
                        .str("merge", finish ? "finish" : "partial").integer("seed", (long long) case_seed)
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
        }
    }
    {
        harness::Json j;
        j.str("harness", "retrieve").str("build", build).str("phase", "validate-summary").integer("checked", checked)
            .integer("failures", failures).boolean("ok", failures == 0);
        harness::emit(j, json);
    }
    if (failures > 0) return 1;
    if (validate_only) return 0;

#if defined(ENGRAM_EMULATION_BUILD)
    harness::Json j;
    j.str("harness", "retrieve").str("build", build).str("phase", "time").str("skipped",
        "timing needs the nvcc build (the emulator is for correctness, never speed)");
    harness::emit(j, json);
    (void) cases;
    (void) reps;
#else
    // 2. timing, at the shapes libengram chooses (choose_shape in cuda/engram.cu)
    int dev = 0;
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDevice(&dev));
    CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
    for (int version : versions)
    for (int st : storages) {
        for (const harness::Case& c : cases) {
            Shape s{};
            if (version == 2) {
                if (!engram::retrieve_v2_supports((int) c.d, (int) c.d)) continue;
                s = Shape{128, engram::retrieve_v2_default_chunk(c.m, (int) c.b, prop.multiProcessorCount), 16, 2};
            } else {
                const int threads = c.b > 16 ? engram::kMaxBlockThreads : engram::kMaxBlockThreads / 2;
                const int qtile = (int) std::min<long long>(engram::kMaxPairs * threads / engram::kTile, c.b);
                const long long qtiles = (c.b + qtile - 1) / qtile;
                const long long wanted = std::max<long long>(1, 8LL * prop.multiProcessorCount / qtiles);
                long long chunk = (c.m + wanted - 1) / wanted;
                chunk = std::min<long long>(std::max<long long>((chunk + 31) / 32 * 32, 256), 16384);
                s = Shape{threads, (int) chunk, qtile, 1};
            }
            harness::Json j;
            j.str("harness", "retrieve").str("build", build).str("phase", "time").integer("version", version)
                .str("storage", storage_name(st)).str("device", prop.name).integer("B", c.b).integer("M", c.m)
                .integer("d", c.d).integer("k", k).num("beta", beta).integer("threads", s.threads)
                .integer("chunk", s.chunk).integer("qtile", s.qtile);
            const int es = st == F32 ? 4 : 2;
            const double bytes = (double) c.m * c.d * es;
            if (bytes + (double) c.m * 4 > 0.8 * (double) prop.totalGlobalMem) {
                j.str("skipped", "does not fit in device memory");
                harness::emit(j, json);
                continue;
            }
            // X uniform in [-1, 1) generated on the device (a host problem of this size would take minutes), norms
            // computed there too; the queries are a small host problem
            Problem* p = new Problem(1, (int) c.d, (int) c.d, true, (int) c.b, 1, beta, st, seed);
            cudaFree(p->dx);
            cudaFree(p->dnorms);
            p->m = c.m;
            p->k = k;
            CUDA_CHECK(cudaMalloc(&p->dx, (size_t) bytes));
            CUDA_CHECK(cudaMalloc((void**) &p->dnorms, (size_t) c.m * 4));
            fill_device(p->dx, p->dnorms, c.m, (int) c.d, st, seed);
            Buffers buf(*p, s);
            const double ms = harness::time_ms(3, reps, [&] { launch(*p, s, buf, 1); });
            const double ms_partial = harness::time_ms(1, reps, [&] { launch(*p, s, buf, 1, true); });
            j.num("ms", ms).num("ms_pass1", ms_partial).integer("partials", buf.chunks).num("GBps_X", bytes / (ms * 1e-3) / 1e9).integer("reps", reps);
            harness::emit(j, json);
            delete p;
        }
    }
#endif
    return 0;
}
