// engram.cu: the C ABI (engram.h) over the retrieval kernels: memory handles (upload once, append), argument
// checks, launch-shape choice, workspace, and every CUDA error turned into a status plus message.
// Host code only; the kernels live in retrieve_partial.cu and retrieve_merge.cu.
#include "engram.h"
#include "engram_cuda.cuh"
#include "half_bits.h"
#include "integrate.cuh"
#include "quantiles.cuh"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <vector>

// 1 once retrieval kernel 2 has passed the GPU check on real hardware (see kRetrieveV2Auto)
#ifndef ENGRAM_RETRIEVE_V2_AUTO
#define ENGRAM_RETRIEVE_V2_AUTO 1  // validated and measured on an H200, 2026-11-30 (cuda/PERFORMANCE.md)
#endif

using engram::kMaxDimTile;
using engram::kMaxPairs;
using engram::kTile;

struct engram_memory {
    int32_t dim = 0;
    int32_t value_dim = 0;
    bool values_are_patterns = false;
    int32_t storage = ENGRAM_STORAGE_F32;
    int64_t size = 0;
    int64_t capacity = 0;
    void* x = nullptr;  // capacity × d stored elements
    void* v = nullptr;  // capacity × dv stored elements (null when V = X)
    float* norms = nullptr;
    void* workspace = nullptr;
    size_t workspace_bytes = 0;
    int device = 0;            // the device the buffers live on (current at create); every call selects it first
    int sms = 1;               // its multiprocessors and opt-in shared memory per block, read once at create
    size_t smem_optin = 0;
    std::mutex mu;  // one retrieval, append, write or destroy at a time: they share the workspace and the buffers
};

namespace {

std::atomic<int64_t> live_memories{0};

int32_t fail(int32_t status, char* err, int64_t cap, const char* fmt, ...) {
    if (err != nullptr && cap > 0) {
        va_list ap;
        va_start(ap, fmt);
        std::vsnprintf(err, (size_t) cap, fmt, ap);
        va_end(ap);
    }
    return status;
}

int32_t status_of(cudaError_t e) {
    switch (e) {
        case cudaErrorMemoryAllocation: return ENGRAM_ERROR_OUT_OF_MEMORY;
        case cudaErrorNoDevice: return ENGRAM_ERROR_NO_DEVICE;
#if !defined(ENGRAM_EMULATION_BUILD)
        case cudaErrorInsufficientDriver: return ENGRAM_ERROR_NO_DEVICE;
        case cudaErrorInvalidDevice: return ENGRAM_ERROR_NO_DEVICE;
#endif
        default: return ENGRAM_ERROR_DEVICE;
    }
}

/** Turns a CUDA error into a status and a message naming what was being done. */
int32_t cuda_fail(cudaError_t e, const char* what, char* err, int64_t cap) {
    cudaGetLastError();  // clear a non-sticky error so the next call starts clean
    return fail(status_of(e), err, cap, "%s failed: %s (CUDA error %d)", what, cudaGetErrorString(e), (int) e);
}

#define CUDA_TRY(call, what)                                      \
    do {                                                          \
        cudaError_t e_ = (call);                                  \
        if (e_ != cudaSuccess) return cuda_fail(e_, what, err, err_cap); \
    } while (0)

size_t element_bytes(int32_t storage) { return storage == ENGRAM_STORAGE_F32 ? 4 : 2; }

struct Shape {
    int threads, chunk, qtile;
    int version;  // pass-1 kernel: 1 (retrieve_partial.cu) or 2 (retrieve_partial_v2.cu)
};

/**
 * Whether kernel 0 (automatic) runs version 2 where it serves the shape. Version 2 passed the emulated cross-checks and
 * the harness's validation and compute-sanitizer on an H200 (native-build/gpu-check.sh, cuda/PERFORMANCE.md); until
 * a kernel has passed both, automatic keeps version 1 and a caller asks for version 2 explicitly.
 */
constexpr bool kRetrieveV2Auto = ENGRAM_RETRIEVE_V2_AUTO;

int32_t check_common(engram_memory* mem, const float* queries, int64_t batch, int64_t stride, float beta, int32_t k,
                     int64_t from, int64_t to, char* err, int64_t err_cap) {
    if (mem == nullptr) return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "mem is NULL");
    if (queries == nullptr) return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "queries is NULL");
    if (batch < 1 || batch > 0x7fffffff)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "batch must be in [1, 2^31 - 1], got %lld",
                    (long long) batch);
    if (stride < mem->dim)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap,
                    "query_stride must be >= d = %d floats, got %lld", mem->dim, (long long) stride);
    if (!(beta > 0.f) || !std::isfinite(beta))
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "beta must be a finite number > 0, got %g",
                    (double) beta);
    if (mem->size == 0)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap,
                    "memory is empty: retrieval needs at least one stored pattern");
    if (from < 0 || to > mem->size || from >= to)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "pattern range [%lld, %lld) is empty or outside 0..%lld",
                    (long long) from, (long long) to, (long long) mem->size);
    if (k < 0 || k > ENGRAM_MAX_K)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "k must be in [0, %d], got %d", ENGRAM_MAX_K, k);
    for (int64_t r = 0; r < batch; r++) {
        for (int j = 0; j < mem->dim; j++) {
            const float v = queries[r * stride + j];
            if (!std::isfinite(v))
                return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "queries[%lld][%d] is %g (must be finite)",
                            (long long) r, j, (double) v);
        }
    }
    return ENGRAM_OK;
}

/** Version 2's shape: 128 threads, 16 queries per block, chunk % 128 == 0 (asked for, or chosen). */
int32_t choose_shape_v2(const engram_memory* mem, int64_t batch, int32_t k, int64_t count, const engram_launch* launch,
                        bool explicit_v2, Shape* s, char* err, int64_t err_cap) {
    const int threads = launch != nullptr ? launch->block_threads : 0;
    const int qtile = launch != nullptr ? launch->query_tile : 0;
    int chunk = launch != nullptr ? launch->chunk : 0;
    const int step = engram::retrieve_v2_chunk_multiple();
    if (threads != 0 && threads != 128)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap,
                    "launch.block_threads must be 0 or 128 for retrieval kernel 2, got %d", threads);
    if (qtile != 0 && qtile != engram::retrieve_v2_query_tile())
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap,
                    "launch.query_tile must be 0 or %d for retrieval kernel 2, got %d", engram::retrieve_v2_query_tile(),
                    qtile);
    if (chunk < 0 || (chunk != 0 && chunk % step != 0))
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap,
                    "launch.chunk must be a positive multiple of %d for retrieval kernel 2, got %d", step, chunk);
    if (chunk == 0) chunk = engram::retrieve_v2_default_chunk(count, (int) batch, mem->sms);
    const int64_t chunks = (count + chunk - 1) / chunk;
    if (chunks > 65535)
        return fail(ENGRAM_ERROR_UNSUPPORTED, err, err_cap,
                    "retrieval kernel 2 with chunk=%d needs %lld chunks (at most 65535); use a larger chunk", chunk,
                    (long long) chunks);
    const int bytes = engram::retrieve_v2_shared_bytes(mem->storage, mem->dim, !mem->values_are_patterns, k);
    if ((size_t) bytes > mem->smem_optin) {
        if (explicit_v2)
            return fail(ENGRAM_ERROR_UNSUPPORTED, err, err_cap,
                        "retrieval kernel 2 with d=%d, k=%d needs %d bytes of shared memory per block; the device offers "
                        "%zu; use kernel 1",
                        mem->dim, k, bytes, mem->smem_optin);
        return ENGRAM_ERROR_UNSUPPORTED;  // automatic: the caller falls back to version 1
    }
    *s = Shape{128, chunk, engram::retrieve_v2_query_tile(), 2};
    return ENGRAM_OK;
}

int32_t choose_shape(const engram_memory* mem, int64_t batch, int32_t k, int64_t count, bool values_in_xs,
                     const engram_launch* launch, Shape* s, char* err, int64_t err_cap) {
    const int kernel = launch != nullptr ? launch->kernel : 0;
    if (kernel < 0 || kernel > 2)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap,
                    "launch.kernel must be 0 (automatic), 1 or 2, got %d", kernel);
    const bool v2_serves = engram::retrieve_v2_supports(mem->dim, mem->value_dim);
    if (kernel == 2 && !v2_serves)
        return fail(ENGRAM_ERROR_UNSUPPORTED, err, err_cap,
                    "retrieval kernel 2 needs d = dv in {32, 64, 128}, got d=%d, dv=%d; use kernel 0 or 1", mem->dim,
                    mem->value_dim);
    if (kernel == 2) return choose_shape_v2(mem, batch, k, count, launch, true, s, err, err_cap);
    if (kernel == 0 && kRetrieveV2Auto && v2_serves) {
        // automatic: version 2 where its shape rules and shared memory allow, else version 1 (no message left behind)
        if (choose_shape_v2(mem, batch, k, count, launch, false, s, nullptr, 0) == ENGRAM_OK) return ENGRAM_OK;
    }
    int threads = launch != nullptr ? launch->block_threads : 0;
    int chunk = launch != nullptr ? launch->chunk : 0;
    int qtile = launch != nullptr ? launch->query_tile : 0;
    // Larger batches get more threads so one query tile covers up to 64 queries: X is then streamed once per 64
    // queries instead of once per 16.
    if (threads == 0) threads = batch > 16 ? engram::kMaxBlockThreads : engram::kMaxBlockThreads / 2;
    if (threads < 32 || threads > engram::kMaxBlockThreads || threads % 32 != 0)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap,
                    "launch.block_threads must be a multiple of 32 in [32, %d], got %d", engram::kMaxBlockThreads,
                    threads);
    const int max_qtile = kMaxPairs * threads / kTile;
    if (qtile == 0) qtile = (int) std::min<int64_t>(max_qtile, batch);
    if (qtile < 1 || qtile > max_qtile)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap,
                    "launch.query_tile must be in [1, block_threads/4 = %d], got %d", max_qtile, qtile);
    if (chunk == 0) {
        // Enough blocks to fill the device several times over, but chunks long enough that the per-chunk partials
        // (B·(3 + dv + 2k) floats each) stay small next to the patterns they summarise.
        const int64_t qtiles = (batch + qtile - 1) / qtile;
        const int64_t wanted = std::max<int64_t>(1, 8LL * mem->sms / qtiles);
        int64_t c = (count + wanted - 1) / wanted;
        c = (c + kTile - 1) / kTile * kTile;
        chunk = (int) std::min<int64_t>(std::max<int64_t>(c, 256), 16384);
    }
    if (chunk < kTile || chunk % kTile != 0)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap,
                    "launch.chunk must be a positive multiple of %d, got %d", kTile, chunk);
    const size_t optin = mem->smem_optin;
    bool asked_for_tile = launch != nullptr && launch->query_tile != 0;
    while ((size_t) engram::shared_plan(mem->dim, mem->value_dim, k, qtile, values_in_xs).bytes > optin) {
        if (asked_for_tile || qtile == 1)
            return fail(ENGRAM_ERROR_UNSUPPORTED, err, err_cap,
                        "d=%d, dv=%d, k=%d with query_tile=%d need %d bytes of shared memory per block; the device "
                        "offers %zu",
                        mem->dim, mem->value_dim, k, qtile,
                        engram::shared_plan(mem->dim, mem->value_dim, k, qtile, values_in_xs).bytes, optin);
        qtile = std::max(1, qtile / 2);
    }
    const int64_t chunks = (count + chunk - 1) / chunk;
    const int64_t qtiles = (batch + qtile - 1) / qtile;
    if (chunks > 0x7fffffff || qtiles > 65535)
        return fail(ENGRAM_ERROR_UNSUPPORTED, err, err_cap,
                    "grid of %lld chunks × %lld query tiles exceeds the CUDA grid limits; use a larger chunk or tile",
                    (long long) chunks, (long long) qtiles);
    s->threads = threads;
    s->chunk = chunk;
    s->qtile = qtile;
    s->version = 1;
    return ENGRAM_OK;
}

size_t align256(size_t n) { return (n + 255) & ~(size_t) 255; }

/** Runs both passes; finish selects the finished results or the merged partial. Caller holds mem->mu. */
int32_t run(engram_memory* mem, const float* queries, int64_t batch, int64_t stride, float beta, int32_t k,
            int64_t from, int64_t to, const engram_launch* launch, bool finish, float* a, float* b, float* c, float* o,
            int64_t* top_index, float* top_score, char* err, int64_t err_cap) {
    int32_t st = check_common(mem, queries, batch, stride, beta, k, from, to, err, err_cap);
    if (st != ENGRAM_OK) return st;
    if (finish && k > to - from)  // a partial may hold fewer than k entries (padded); a finished result may not
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap,
                    "k=%d exceeds the number of patterns in range M=%lld", k, (long long) (to - from));
    if (a == nullptr || b == nullptr || o == nullptr || (!finish && c == nullptr))
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "an output buffer is NULL");
    if (k > 0 && (top_index == nullptr || top_score == nullptr))
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "top_index/top_score are NULL but k=%d", k);
    const int d = mem->dim, dv = mem->value_dim;
    const bool values_in_xs = mem->values_are_patterns && d <= kMaxDimTile;
    const int64_t count = to - from;
    Shape shape{};
    st = choose_shape(mem, batch, k, count, values_in_xs, launch, &shape, err, err_cap);
    if (st != ENGRAM_OK) return st;
    // partials: one per (chunk, query) for version 1, one per (chunk, warp, query) for version 2
    const int64_t chunks =
        (count + shape.chunk - 1) / shape.chunk * (shape.version == 2 ? engram::retrieve_v2_parts_per_chunk() : 1);
    const int64_t cb = chunks * batch;

    // workspace: queries | partial m, l, t, o, top | merge scratch | outputs
    size_t off = 0;
    auto take = [&](size_t bytes) {
        size_t at = off;
        off += align256(bytes);
        return at;
    };
    const size_t q_at = take((size_t) batch * d * 4);
    const size_t pm_at = take((size_t) cb * 4), pl_at = take((size_t) cb * 4), pt_at = take((size_t) cb * 4);
    const size_t po_at = take((size_t) cb * dv * 4);
    const size_t ps_at = take((size_t) cb * k * 4), pi_at = take((size_t) cb * k * 8);
    const size_t w_at = take((size_t) cb * 8), h_at = take((size_t) cb * 4);
    const size_t oa_at = take((size_t) batch * 4), ob_at = take((size_t) batch * 4), oc_at = take((size_t) batch * 4);
    const size_t oo_at = take((size_t) batch * dv * 4);
    const size_t os_at = take((size_t) batch * k * 4), oi_at = take((size_t) batch * k * 8);
    if (off > mem->workspace_bytes) {
        cudaFree(mem->workspace);
        mem->workspace = nullptr;
        mem->workspace_bytes = 0;
        CUDA_TRY(cudaMalloc(&mem->workspace, off), "allocating the retrieval workspace");
        mem->workspace_bytes = off;
    }
    char* ws = static_cast<char*>(mem->workspace);
    float* dq = reinterpret_cast<float*>(ws + q_at);
    // one copy either way: a strided batch is gathered by the copy engine (rows of d floats, stride floats apart)
    CUDA_TRY(cudaMemcpy2D(dq, (size_t) d * 4, queries, (size_t) stride * 4, (size_t) d * 4, (size_t) batch,
                          cudaMemcpyHostToDevice),
             "uploading the queries");
    engram::PartialOut part{reinterpret_cast<float*>(ws + pm_at), reinterpret_cast<float*>(ws + pl_at),
                            reinterpret_cast<float*>(ws + pt_at), reinterpret_cast<float*>(ws + po_at),
                            reinterpret_cast<float*>(ws + ps_at), reinterpret_cast<long long*>(ws + pi_at)};
    engram::MergeOut merged{reinterpret_cast<float*>(ws + oa_at), reinterpret_cast<float*>(ws + ob_at),
                            reinterpret_cast<float*>(ws + oc_at), reinterpret_cast<float*>(ws + oo_at),
                            reinterpret_cast<float*>(ws + os_at), reinterpret_cast<long long*>(ws + oi_at)};
    if (shape.version == 2) {
        CUDA_TRY(engram::launch_retrieve_partial_v2(mem->storage, mem->x, mem->values_are_patterns ? nullptr : mem->v,
                                                    mem->norms, from, to, d, dq, (int) batch, beta, k, shape.chunk,
                                                    part),
                 "launching retrieve_partial_v2 kernel");
    } else {
        const void* v = values_in_xs ? nullptr : (mem->values_are_patterns ? mem->x : mem->v);
        CUDA_TRY(engram::launch_retrieve_partial(mem->storage, mem->x, v, mem->norms, from, to, d, dv, dq, (int) batch,
                                                 beta, k, shape.threads, shape.chunk, shape.qtile, part),
                 "launching retrieve_partial_kernel");
    }
    CUDA_TRY(engram::launch_retrieve_merge(part, (int) chunks, (int) batch, dv, k, count, finish ? 1 : 0,
                                           reinterpret_cast<double*>(ws + w_at), reinterpret_cast<int*>(ws + h_at),
                                           merged),
             "launching retrieve_merge_kernel");
    CUDA_TRY(cudaDeviceSynchronize(), "running the retrieval kernels");
    CUDA_TRY(cudaMemcpy(a, merged.a, (size_t) batch * 4, cudaMemcpyDeviceToHost), "downloading results");
    CUDA_TRY(cudaMemcpy(b, merged.b, (size_t) batch * 4, cudaMemcpyDeviceToHost), "downloading results");
    if (!finish) CUDA_TRY(cudaMemcpy(c, merged.c, (size_t) batch * 4, cudaMemcpyDeviceToHost), "downloading results");
    CUDA_TRY(cudaMemcpy(o, merged.o, (size_t) batch * dv * 4, cudaMemcpyDeviceToHost), "downloading results");
    if (k > 0) {
        static_assert(sizeof(long long) == sizeof(int64_t), "index width");
        CUDA_TRY(cudaMemcpy(top_score, merged.top_score, (size_t) batch * k * 4, cudaMemcpyDeviceToHost),
                 "downloading results");
        CUDA_TRY(cudaMemcpy(top_index, merged.top_index, (size_t) batch * k * 8, cudaMemcpyDeviceToHost),
                 "downloading results");
    }
    return ENGRAM_OK;
}

/** The checks append and write share: a handle, n >= 0, and x (and v exactly when the memory stores values). */
int32_t check_row_args(const engram_memory* mem, int64_t n, const float* x, const float* v, char* err,
                       int64_t err_cap) {
    if (mem == nullptr) return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "mem is NULL");
    if (n < 0) return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "n must be >= 0, got %lld", (long long) n);
    if (n == 0) return ENGRAM_OK;
    if (x == nullptr) return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "x is NULL");
    if (mem->values_are_patterns && v != nullptr)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "this memory's values are its patterns; pass v = NULL");
    if (!mem->values_are_patterns && v == nullptr)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "this memory stores separate values; v is NULL");
    return ENGRAM_OK;
}

/** Rows converted on the host for upload: stored elements (empty for float32, which goes up as given) and norms. */
struct HostRows {
    std::vector<uint16_t> x, v;
    std::vector<float> norms;
};

/**
 * Checks n rows (x n×d, v n×dv or NULL) for finiteness and range, converts them to mem's storage kind and computes
 * the norms of the stored (rounded) patterns in double. Changes nothing in mem.
 */
int32_t convert_rows(const engram_memory* mem, const float* x, const float* v, int64_t n, HostRows* out, char* err,
                     int64_t err_cap) {
    const int d = mem->dim, dv = mem->value_dim;
    try {
        out->norms.resize((size_t) n);
        if (mem->storage != ENGRAM_STORAGE_F32) {
            out->x.resize((size_t) n * d);
            if (v != nullptr) out->v.resize((size_t) n * dv);
        }
    } catch (const std::bad_alloc&) {
        return fail(ENGRAM_ERROR_OUT_OF_MEMORY, err, err_cap, "out of host memory converting %lld rows",
                    (long long) n);
    }
    auto convert = [&](const float* src, int width, std::vector<uint16_t>& dst, const char* what) -> int32_t {
        for (int64_t r = 0; r < n; r++) {
            for (int j = 0; j < width; j++) {
                const float f = src[r * width + j];
                if (!std::isfinite(f))
                    return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap,
                                "%s must be finite, but element (%lld, %d) is %g", what, (long long) r, j, (double) f);
                const size_t at = (size_t) r * width + j;
                switch (mem->storage) {
                    case ENGRAM_STORAGE_F16: {
                        const uint16_t h = engram::half_bits::f16_of(f);
                        if ((h & 0x7c00u) == 0x7c00u)
                            return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap,
                                        "%s element (%lld, %d) = %g overflows fp16 storage (|x| <= 65504)", what,
                                        (long long) r, j, (double) f);
                        dst[at] = h;
                        break;
                    }
                    case ENGRAM_STORAGE_BF16: dst[at] = engram::half_bits::bf16_of(f); break;
                    default: break;  // float32 is uploaded as given
                }
            }
        }
        return ENGRAM_OK;
    };
    int32_t st = convert(x, d, out->x, "x");
    if (st != ENGRAM_OK) return st;
    if (v != nullptr) {
        st = convert(v, dv, out->v, "v");
        if (st != ENGRAM_OK) return st;
    }
    for (int64_t r = 0; r < n; r++) {  // norms of the patterns as stored (after rounding), in double
        double s = 0;
        for (int j = 0; j < d; j++) {
            const size_t at = (size_t) r * d + j;
            double f;
            switch (mem->storage) {
                case ENGRAM_STORAGE_F16: f = engram::half_bits::f16_value(out->x[at]); break;
                case ENGRAM_STORAGE_BF16: f = engram::half_bits::bf16_value(out->x[at]); break;
                default: f = x[at]; break;
            }
            s += f * f;
        }
        out->norms[(size_t) r] = (float) std::sqrt(s);
    }
    return ENGRAM_OK;
}

/** Uploads rows [first, first + count) of the converted rows h (x, v as given for float32) to device rows from dst. */
int32_t upload_rows(engram_memory* mem, int64_t dst, const HostRows& h, const float* x, const float* v, int64_t first,
                    int64_t count, char* err, int64_t err_cap) {
    const int d = mem->dim, dv = mem->value_dim;
    const size_t es = element_bytes(mem->storage);
    const bool f32 = mem->storage == ENGRAM_STORAGE_F32;
    char* dx = static_cast<char*>(mem->x) + (size_t) dst * d * es;
    const void* sx = f32 ? static_cast<const void*>(x + (size_t) first * d) : h.x.data() + (size_t) first * d;
    CUDA_TRY(cudaMemcpy(dx, sx, (size_t) count * d * es, cudaMemcpyHostToDevice), "uploading patterns");
    if (v != nullptr) {
        char* dvp = static_cast<char*>(mem->v) + (size_t) dst * dv * es;
        const void* sv = f32 ? static_cast<const void*>(v + (size_t) first * dv) : h.v.data() + (size_t) first * dv;
        CUDA_TRY(cudaMemcpy(dvp, sv, (size_t) count * dv * es, cudaMemcpyHostToDevice), "uploading values");
    }
    CUDA_TRY(cudaMemcpy(mem->norms + dst, h.norms.data() + first, (size_t) count * 4, cudaMemcpyHostToDevice),
             "uploading norms");
    return ENGRAM_OK;
}

void free_memory(engram_memory* mem) {
    cudaFree(mem->x);
    cudaFree(mem->v);
    cudaFree(mem->norms);
    cudaFree(mem->workspace);
    cudaGetLastError();
}

}  // namespace

extern "C" {

int32_t engram_abi_version(void) { return ENGRAM_ABI_VERSION; }

void engram_get_limits(engram_limits* out) {
    if (out == nullptr) return;
    out->max_k = ENGRAM_MAX_K;
    out->max_block_threads = engram::kMaxBlockThreads;
    out->retrieve_v2_auto = kRetrieveV2Auto ? 1 : 0;
}

const char* engram_variant(void) {
#if defined(ENGRAM_EMULATION_BUILD)
    return "emu";
#else
    return "cuda";
#endif
}

int32_t engram_device_info(int32_t* device_count, char* name, int64_t name_cap, char* err, int64_t err_cap) {
    if (device_count == nullptr) return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "device_count is NULL");
    *device_count = 0;
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) return cuda_fail(e, "cudaGetDeviceCount", err, err_cap);
    if (n == 0) return fail(ENGRAM_ERROR_NO_DEVICE, err, err_cap, "no CUDA device found");
    *device_count = n;
    if (name != nullptr && name_cap > 0) {
        cudaDeviceProp prop;
        CUDA_TRY(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
        std::snprintf(name, (size_t) name_cap, "%s (sm_%d%d, %d SMs, %.1f GiB)", prop.name, prop.major, prop.minor,
                      prop.multiProcessorCount, prop.totalGlobalMem / 1073741824.0);
    }
    return ENGRAM_OK;
}

int32_t engram_memory_create(int32_t dim, int32_t value_dim, int32_t values_are_patterns, int32_t storage,
                             engram_memory** out, char* err, int64_t err_cap) {
    if (out == nullptr) return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "out is NULL");
    *out = nullptr;
    if (dim < 1) return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "dim must be >= 1, got %d", dim);
    if (value_dim < 1)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "value_dim must be >= 1, got %d", value_dim);
    if (values_are_patterns && value_dim != dim)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap,
                    "values_are_patterns needs value_dim == dim, got value_dim=%d, dim=%d", value_dim, dim);
    if (storage < 0 || storage >= ENGRAM_STORAGE_COUNT)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "storage must be 0 (f32), 1 (f16) or 2 (bf16), got %d",
                    storage);
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) return cuda_fail(e, "cudaGetDeviceCount", err, err_cap);
    if (n == 0) return fail(ENGRAM_ERROR_NO_DEVICE, err, err_cap, "no CUDA device found");
    int device = 0;
    cudaDeviceProp prop;
    if (cudaGetDevice(&device) != cudaSuccess || cudaGetDeviceProperties(&prop, device) != cudaSuccess) {
        cudaGetLastError();
        return fail(ENGRAM_ERROR_NO_DEVICE, err, err_cap, "cannot read the properties of the current device");
    }
    engram_memory* m = new (std::nothrow) engram_memory();
    if (m == nullptr) return fail(ENGRAM_ERROR_OUT_OF_MEMORY, err, err_cap, "out of host memory for a handle");
    m->device = device;
    m->sms = std::max(1, prop.multiProcessorCount);
    m->smem_optin = prop.sharedMemPerBlockOptin > 0 ? prop.sharedMemPerBlockOptin : prop.sharedMemPerBlock;
    m->dim = dim;
    m->value_dim = value_dim;
    m->values_are_patterns = values_are_patterns != 0;
    m->storage = storage;
    live_memories++;
    *out = m;
    return ENGRAM_OK;
}

int32_t engram_memory_append(engram_memory* mem, const float* x, const float* v, int64_t n, char* err,
                             int64_t err_cap) {
    const int32_t args = check_row_args(mem, n, x, v, err, err_cap);
    if (args != ENGRAM_OK || n == 0) return args;
    std::lock_guard<std::mutex> lock(mem->mu);
    CUDA_TRY(cudaSetDevice(mem->device), "selecting the memory's device");
    const int d = mem->dim, dv = mem->value_dim;
    const size_t es = element_bytes(mem->storage);
    const int64_t limit = (int64_t) (((size_t) 1 << 62) / (es * (size_t) std::max(d, dv)));
    if (n > limit - mem->size)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "appending %lld rows to %lld overflows the size limit",
                    (long long) n, (long long) mem->size);
    // Convert and check everything on the host first, so a rejected append changes nothing.
    HostRows h;
    const int32_t st = convert_rows(mem, x, v, n, &h, err, err_cap);
    if (st != ENGRAM_OK) return st;
    const int64_t need = mem->size + n;
    if (need > mem->capacity) {
        const int64_t cap = std::max<int64_t>({need, 2 * mem->capacity, 1024});
        // Grow all three first into fresh buffers; only when all succeed do they replace the old ones.
        void* nx = mem->x;
        void* nv = mem->v;
        void* nn = mem->norms;
        cudaError_t e = cudaSuccess;
        void* fx = nullptr;
        void* fv = nullptr;
        void* fn = nullptr;
        if ((e = cudaMalloc(&fx, (size_t) cap * d * es)) == cudaSuccess && (mem->values_are_patterns
                || (e = cudaMalloc(&fv, (size_t) cap * dv * es)) == cudaSuccess)
            && (e = cudaMalloc(&fn, (size_t) cap * 4)) == cudaSuccess) {
            const size_t m = (size_t) mem->size;
            if (m > 0) {
                if ((e = cudaMemcpy(fx, nx, m * d * es, cudaMemcpyDeviceToDevice)) == cudaSuccess
                    && (fv == nullptr || (e = cudaMemcpy(fv, nv, m * dv * es, cudaMemcpyDeviceToDevice)) == cudaSuccess))
                    e = cudaMemcpy(fn, nn, m * 4, cudaMemcpyDeviceToDevice);
            }
        }
        if (e != cudaSuccess) {
            cudaFree(fx);
            cudaFree(fv);
            cudaFree(fn);
            return cuda_fail(e, "growing the device memory", err, err_cap);
        }
        cudaFree(nx);
        cudaFree(nv);
        cudaFree(nn);
        mem->x = fx;
        mem->v = fv;
        mem->norms = static_cast<float*>(fn);
        mem->capacity = cap;
    }
    const int32_t up = upload_rows(mem, mem->size, h, x, v, 0, n, err, err_cap);
    if (up != ENGRAM_OK) return up;
    mem->size = need;
    return ENGRAM_OK;
}

int32_t engram_memory_write(engram_memory* mem, const int64_t* rows, int64_t n, const float* x, const float* v,
                            char* err, int64_t err_cap) {
    const int32_t args = check_row_args(mem, n, x, v, err, err_cap);
    if (args != ENGRAM_OK || n == 0) return args;
    if (rows == nullptr) return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "rows is NULL");
    std::lock_guard<std::mutex> lock(mem->mu);
    CUDA_TRY(cudaSetDevice(mem->device), "selecting the memory's device");
    for (int64_t i = 0; i < n; i++) {
        if (rows[i] < 0 || rows[i] >= mem->size)
            return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "rows[%lld] = %lld is outside 0..%lld",
                        (long long) i, (long long) rows[i], (long long) mem->size);
    }
    HostRows h;
    const int32_t st = convert_rows(mem, x, v, n, &h, err, err_cap);
    if (st != ENGRAM_OK) return st;
    for (int64_t i = 0; i < n;) {  // one copy per buffer for each run of consecutive rows
        int64_t j = i + 1;
        while (j < n && rows[j] == rows[j - 1] + 1) j++;
        const int32_t up = upload_rows(mem, rows[i], h, x, v, i, j - i, err, err_cap);
        if (up != ENGRAM_OK) return up;
        i = j;
    }
    return ENGRAM_OK;
}

int64_t engram_memory_size(const engram_memory* mem) { return mem == nullptr ? -1 : mem->size; }

int64_t engram_memory_device_bytes(const engram_memory* mem) {
    if (mem == nullptr) return -1;
    const size_t es = element_bytes(mem->storage);
    return (int64_t) ((size_t) mem->capacity * (mem->dim * es + (mem->v ? mem->value_dim * es : 0) + 4)
                      + mem->workspace_bytes);
}

void engram_memory_destroy(engram_memory* mem) {
    if (mem == nullptr) return;
    {
        // waits for a call in flight on another thread (the caller must not start new ones on a handle it destroys)
        std::lock_guard<std::mutex> lock(mem->mu);
        cudaSetDevice(mem->device);
        free_memory(mem);
    }
    delete mem;
    live_memories--;
}

int64_t engram_live_memories(void) { return live_memories.load(); }

int32_t engram_retrieve(engram_memory* mem, const float* queries, int64_t batch, int64_t query_stride, float beta,
                        int32_t k, int64_t from, int64_t to, const engram_launch* launch, float* output,
                        float* entropy, float* confidence, int64_t* top_index, float* top_score, char* err,
                        int64_t err_cap) {
    if (mem == nullptr) return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "mem is NULL");
    std::lock_guard<std::mutex> lock(mem->mu);
    CUDA_TRY(cudaSetDevice(mem->device), "selecting the memory's device");
    return run(mem, queries, batch, query_stride, beta, k, from, to, launch, true, entropy, confidence, nullptr, output,
               top_index, top_score, err, err_cap);
}

int32_t engram_retrieve_partial(engram_memory* mem, const float* queries, int64_t batch, int64_t query_stride,
                                float beta, int32_t k, int64_t from, int64_t to, const engram_launch* launch,
                                float* max, float* sum, float* shifted, float* out, int64_t* top_index,
                                float* top_score, char* err, int64_t err_cap) {
    if (mem == nullptr) return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "mem is NULL");
    std::lock_guard<std::mutex> lock(mem->mu);
    CUDA_TRY(cudaSetDevice(mem->device), "selecting the memory's device");
    return run(mem, queries, batch, query_stride, beta, k, from, to, launch, false, max, sum, shifted, out, top_index,
               top_score, err, err_cap);
}

int32_t engram_emu_memory_limit(int64_t bytes, int64_t* allocated, char* err, int64_t err_cap) {
#if defined(ENGRAM_EMULATION_BUILD)
    emu::set_memory_limit(bytes < 0 ? SIZE_MAX : (size_t) bytes);
    if (allocated != nullptr) *allocated = (int64_t) emu::allocated();
    return ENGRAM_OK;
#else
    (void) bytes;
    (void) allocated;
    return fail(ENGRAM_ERROR_UNSUPPORTED, err, err_cap, "engram_emu_memory_limit exists only in the emulation build");
#endif
}

}  // extern "C"

// ---- ensemble integration: argument checks, packing, workspace, launch (kernels in integrate*.cu) ----
namespace {

const char* const kKindNames[] = {"hamiltonian", "separable", "dissipative", "port", "derivative"};
const char* const kSchemeNames[] = {"LEAPFROG", "STORMER_VERLET", "TAO", "RK4"};
constexpr int kMaxNetWidth = 1 << 16;

bool scheme_valid(int kind, int scheme) {
    switch (kind) {
        case ENGRAM_MODEL_HAMILTONIAN: return scheme != ENGRAM_SCHEME_STORMER_VERLET;
        case ENGRAM_MODEL_SEPARABLE: return true;
        default: return scheme == ENGRAM_SCHEME_RK4;
    }
}

/** Checks net `slot` of the model (name for messages): widths in range, in/out widths (−1: any), params finite. */
int32_t check_net(const engram_mlp& net, int slot, const char* name, int in, int out, bool scalar_energy, char* err,
                  int64_t err_cap) {
    if (net.layers < 1 || net.layers > ENGRAM_MAX_NET_LAYERS)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap,
                    "nets[%d] (%s): layers must be in [1, %d], got %d", slot, name, ENGRAM_MAX_NET_LAYERS, net.layers);
    if (net.widths == nullptr || net.params == nullptr)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "nets[%d] (%s): widths or params is NULL", slot, name);
    if (scalar_energy && net.layers < 2)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap,
                    "nets[%d] (%s) is a scalar energy and needs at least one tanh hidden layer", slot, name);
    for (int l = 0; l <= net.layers; l++) {
        if (net.widths[l] < 1 || net.widths[l] > kMaxNetWidth)
            return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "nets[%d] (%s): widths[%d] must be in [1, %d], got %d",
                        slot, name, l, kMaxNetWidth, net.widths[l]);
    }
    if (net.widths[0] != in)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "nets[%d] (%s): input width must be %d, got %d", slot,
                    name, in, net.widths[0]);
    if (out >= 0 && net.widths[net.layers] != out)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "nets[%d] (%s): output width must be %d, got %d", slot,
                    name, out, net.widths[net.layers]);
    int64_t count = 0;
    for (int l = 0; l < net.layers; l++) count += (int64_t) net.widths[l + 1] * (net.widths[l] + 1);
    if (count > (int64_t) 1 << 28)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "nets[%d] (%s) has %lld parameters (at most 2^28)",
                    slot, name, (long long) count);
    for (int64_t k = 0; k < count; k++) {
        if (!std::isfinite(net.params[k]))
            return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "nets[%d] (%s): params[%lld] is %g (must be finite)",
                        slot, name, (long long) k, (double) net.params[k]);
    }
    return ENGRAM_OK;
}

/** The model's networks by kind: names, input/output widths, whether each is a scalar energy. */
int32_t check_model(const engram_ensemble* e, int* nets_used, char* err, int64_t err_cap) {
    const int n = e->dof, m = e->input_count;
    struct Want {
        const char* name;
        int in, out;
        bool energy;
    } want[3] = {};
    int used = 0;
    switch (e->kind) {
        case ENGRAM_MODEL_HAMILTONIAN:
            want[0] = {"H", 2 * n, 1, true};
            used = 1;
            break;
        case ENGRAM_MODEL_SEPARABLE:
            want[0] = {"T", n, 1, true};
            want[1] = {"V", n, 1, true};
            used = 2;
            break;
        case ENGRAM_MODEL_DISSIPATIVE:
            want[0] = {"H", 2 * n, 1, true};
            want[1] = {"R", 2 * n, n, false};
            used = 2;
            break;
        case ENGRAM_MODEL_PORT:
            want[0] = {"H", 2 * n, 1, true};
            want[1] = {"R", 2 * n, n, false};
            want[2] = {"G", n, n * m, false};
            used = 3;
            break;
        default:
            want[0] = {"F", 2 * n + m, 2 * n, false};
            used = 1;
            break;
    }
    const bool takes_inputs = e->kind == ENGRAM_MODEL_PORT || e->kind == ENGRAM_MODEL_DERIVATIVE;
    if (e->kind == ENGRAM_MODEL_PORT ? m < 1 : (takes_inputs ? m < 0 : m != 0))
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "input_count %d is not valid for a %s model (%s)", m,
                    kKindNames[e->kind], e->kind == ENGRAM_MODEL_PORT ? "at least 1" : takes_inputs ? ">= 0" : "must be 0");
    if (m > 4096)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "input_count must be <= 4096, got %d", m);
    for (int s = 0; s < 3; s++) {
        if (s < used) {
            const int32_t st = check_net(e->nets[s], s, want[s].name, want[s].in, want[s].out, want[s].energy, err,
                                         err_cap);
            if (st != ENGRAM_OK) return st;
        } else if (e->nets[s].layers != 0) {
            return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "nets[%d] must be empty (layers 0) for a %s model",
                        s, kKindNames[e->kind]);
        }
    }
    *nets_used = used;
    return ENGRAM_OK;
}

int32_t check_finite_floats(const float* v, int64_t count, const char* what, char* err, int64_t err_cap) {
    for (int64_t k = 0; k < count; k++) {
        if (!std::isfinite(v[k]))
            return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "%s[%lld] is %g (must be finite)", what,
                        (long long) k, (double) v[k]);
    }
    return ENGRAM_OK;
}

/** Device buffers of one integration, freed on every return path. */
struct DeviceBuffers {
    std::vector<void*> held;
    ~DeviceBuffers() {
        for (void* p : held) cudaFree(p);
        cudaGetLastError();
    }
    cudaError_t alloc(void** p, size_t bytes) {
        *p = nullptr;
        cudaError_t e = cudaMalloc(p, bytes == 0 ? 4 : bytes);
        if (e == cudaSuccess) held.push_back(*p);
        return e;
    }
};

/** Multiprocessors of the current device, read once per device and process (properties are slow to query). */
int32_t device_sm_count(int* out, char* err, int64_t err_cap) {
    static std::mutex mu;
    static std::vector<int> cache;
    int device = 0;
    if (cudaGetDevice(&device) != cudaSuccess) {
        cudaGetLastError();
        return fail(ENGRAM_ERROR_NO_DEVICE, err, err_cap, "cannot read the current device");
    }
    std::lock_guard<std::mutex> lock(mu);
    if ((int) cache.size() <= device) cache.resize(device + 1, 0);
    if (cache[device] == 0) {
        cudaDeviceProp prop;
        if (cudaGetDeviceProperties(&prop, device) != cudaSuccess) {
            cudaGetLastError();
            return fail(ENGRAM_ERROR_NO_DEVICE, err, err_cap, "cannot read the properties of device %d", device);
        }
        cache[device] = std::max(1, prop.multiProcessorCount);
    }
    *out = cache[device];
    return ENGRAM_OK;
}

}  // namespace

namespace {

/**
 * Where an integration's results go: every sample, final state and divergence flag (engram_integrate), or only
 * their quantiles, computed on the device (engram_integrate_quantiles).
 */
struct IntegrateOutputs {
    float* samples = nullptr;
    float* final_states = nullptr;
    int32_t* diverged_at = nullptr;
    bool quantiles = false;
    const double* levels = nullptr;
    int32_t level_count = 0;
    float* sample_quantiles = nullptr;
    float* final_quantiles = nullptr;
    int64_t* diverged_count = nullptr;
};

/**
 * A non-blocking stream and its pinned staging buffer: integrations take one from the pool for their device, run
 * everything on it (uploads, kernels, the one packed download) and give it back, so concurrent calls never share a
 * stream or a staging buffer, and the legacy default stream (which serialises with every other blocking stream of
 * the process) is never used. Held for the life of the process (at most one per concurrent call and device).
 */
struct StreamSlot {
    int device = 0;
    cudaStream_t stream = nullptr;
    void* pinned = nullptr;
    size_t pinned_bytes = 0;
};

std::mutex slot_mu;
std::vector<StreamSlot*> free_slots;

/** A slot of the current device, handed back on destruction. */
struct SlotLease {
    StreamSlot* slot = nullptr;
    ~SlotLease() {
        if (slot == nullptr) return;
        std::lock_guard<std::mutex> lock(slot_mu);
        free_slots.push_back(slot);
    }
};

int32_t lease_slot(SlotLease& lease, char* err, int64_t err_cap) {
    int device = 0;
    if (cudaGetDevice(&device) != cudaSuccess) {
        cudaGetLastError();
        return fail(ENGRAM_ERROR_NO_DEVICE, err, err_cap, "cannot read the current device");
    }
    {
        std::lock_guard<std::mutex> lock(slot_mu);
        for (size_t i = 0; i < free_slots.size(); i++) {
            if (free_slots[i]->device == device) {
                lease.slot = free_slots[i];
                free_slots.erase(free_slots.begin() + (long) i);
                return ENGRAM_OK;
            }
        }
    }
    StreamSlot* s = new (std::nothrow) StreamSlot();
    if (s == nullptr) return fail(ENGRAM_ERROR_OUT_OF_MEMORY, err, err_cap, "out of host memory for a stream slot");
    s->device = device;
    const cudaError_t e = cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking);
    if (e != cudaSuccess) {
        delete s;
        return cuda_fail(e, "creating the integration stream", err, err_cap);
    }
    lease.slot = s;
    return ENGRAM_OK;
}

/** The slot's pinned staging grown to `bytes` (power-of-two steps); false when pinned memory cannot be had. */
bool pinned_staging(StreamSlot* s, size_t bytes) {
    if (s->pinned_bytes >= bytes) return true;
    size_t want = 1 << 20;
    while (want < bytes) want <<= 1;
    if (s->pinned != nullptr) cudaFreeHost(s->pinned);
    s->pinned = nullptr;
    s->pinned_bytes = 0;
    if (cudaMallocHost(&s->pinned, want) != cudaSuccess) {
        cudaGetLastError();
        s->pinned = nullptr;
        return false;
    }
    s->pinned_bytes = want;
    return true;
}

int32_t integrate(const engram_ensemble* e, int64_t first, int64_t count, const engram_integrate_launch* launch,
                  const IntegrateOutputs& out, char* err, int64_t err_cap) {
    using engram::IntegrateArgs;
    if (e->kind < 0 || e->kind >= ENGRAM_MODEL_COUNT)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "kind must be in [0, %d), got %d", ENGRAM_MODEL_COUNT,
                    e->kind);
    if (e->scheme < 0 || e->scheme >= ENGRAM_SCHEME_COUNT)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "scheme must be in [0, %d), got %d",
                    ENGRAM_SCHEME_COUNT, e->scheme);
    if (!scheme_valid(e->kind, e->scheme))
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "scheme %s is not valid for a %s model",
                    kSchemeNames[e->scheme], kKindNames[e->kind]);
    if (e->dof < 1 || e->dof > 4096)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "dof must be in [1, 4096], got %d", e->dof);
    int nets_used = 0;
    int32_t st = check_model(e, &nets_used, err, err_cap);
    if (st != ENGRAM_OK) return st;
    if (!(e->dt > 0.f) || !std::isfinite(e->dt))
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "dt must be a finite number > 0, got %g", (double) e->dt);
    const float nonneg[3] = {e->sigma_q, e->sigma_p, e->noise};
    const char* const nonneg_names[3] = {"sigma_q", "sigma_p", "noise"};
    for (int k = 0; k < 3; k++) {
        if (!(nonneg[k] >= 0.f) || !std::isfinite(nonneg[k]))
            return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "%s must be a finite number >= 0, got %g",
                        nonneg_names[k], (double) nonneg[k]);
    }
    if (!(e->tao_omega > 0) || !std::isfinite(e->tao_omega))
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "tao_omega must be a finite number > 0, got %g",
                    e->tao_omega);
    if (e->steps < 1) return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "steps must be >= 1, got %d", e->steps);
    if (e->sample_every < 0)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "sample_every must be >= 0, got %d", e->sample_every);
    const long long samples_expected = engram::sample_count(e->steps, e->sample_every);
    if (e->sample_count != samples_expected)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap,
                    "sample_count is %d but steps = %d and sample_every = %d give %lld samples", e->sample_count,
                    e->steps, e->sample_every, samples_expected);
    if (e->trajectories < 1)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "trajectories must be >= 1, got %lld",
                    (long long) e->trajectories);
    if (first < 0 || count < 1 || count > e->trajectories - first)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap,
                    "trajectory range [%lld, %lld + %lld) is empty or outside 0..%lld", (long long) first,
                    (long long) first, (long long) count, (long long) e->trajectories);
    const int n = e->dof, m = e->input_count, dim = 2 * n;
    if (e->inputs != nullptr) {
        if (m == 0)
            return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "inputs given but the %s model takes none (m = 0)",
                        kKindNames[e->kind]);
        st = check_finite_floats(e->inputs, (int64_t) e->steps * m, "inputs", err, err_cap);
        if (st != ENGRAM_OK) return st;
    }
    if (e->initial_states != nullptr) {
        st = check_finite_floats(e->initial_states + first * dim, count * dim, "initial_states (of the range)", err,
                                 err_cap);
    } else if (e->q0 == nullptr || e->p0 == nullptr) {
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "q0/p0 are NULL and no initial_states are given");
    } else {
        st = check_finite_floats(e->q0, n, "q0", err, err_cap);
        if (st == ENGRAM_OK) st = check_finite_floats(e->p0, n, "p0", err, err_cap);
    }
    if (st != ENGRAM_OK) return st;
    const int32_t kernel = launch != nullptr ? launch->kernel : 0;
    const int32_t threads_asked = launch != nullptr ? launch->block_threads : 0;
    const int32_t max_blocks = launch != nullptr ? launch->max_blocks : 0;
    if (kernel < 0 || kernel >= ENGRAM_KERNEL_COUNT)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "launch.kernel must be in [0, %d), got %d",
                    ENGRAM_KERNEL_COUNT, kernel);
    if (threads_asked != 0 && (threads_asked < 32 || threads_asked > 256 || threads_asked % 32 != 0))
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap,
                    "launch.block_threads must be a multiple of 32 in [32, 256], got %d", threads_asked);
    if (max_blocks < 0)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "launch.max_blocks must be >= 0, got %d", max_blocks);
    const long long sample_floats = (long long) e->sample_count * count * (dim + 1);

    // Pack the networks: params of each net in order, with the offsets the kernels index by.
    IntegrateArgs a{};
    std::vector<float> params;
    int act = 0;  // running workspace offset of hidden activations
    int max_width = dim + m;
    try {
        for (int s = 0; s < nets_used; s++) {
            const engram_mlp& src = e->nets[s];
            engram::NetDesc& d = a.nets[s];
            d.layers = src.layers;
            int64_t at = 0;
            for (int l = 0; l <= src.layers; l++) {
                d.widths[l] = src.widths[l];
                max_width = std::max(max_width, src.widths[l]);
            }
            for (int l = 0; l < src.layers; l++) {
                const int rows = src.widths[l + 1], cols = src.widths[l];
                d.w_off[l] = (int) params.size();
                params.insert(params.end(), src.params + at, src.params + at + (int64_t) rows * cols);
                at += (int64_t) rows * cols;
                d.b_off[l] = (int) params.size();
                params.insert(params.end(), src.params + at, src.params + at + rows);
                at += rows;
                if (l + 1 < src.layers) {
                    d.act_off[l] = act;
                    act += rows;
                }
            }
            if (params.size() > ((size_t) 1 << 30))
                return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "the model has too many parameters (%zu)",
                            params.size());
        }
    } catch (const std::bad_alloc&) {
        return fail(ENGRAM_ERROR_OUT_OF_MEMORY, err, err_cap, "out of host memory packing the model");
    }
    engram::Scratch& sc = a.scratch;
    int at = act;
    auto take = [&](int floats) {
        const int k = at;
        at += floats;
        return k;
    };
    sc.delta = take(max_width);
    sc.g = take(max_width);
    sc.x = take(dim);
    sc.prev = take(dim);
    sc.grad = take(dim);
    sc.field = take(dim);
    sc.tmp = take(dim);
    sc.ksum = take(dim);
    sc.copy = take(dim);
    sc.force = take(n);
    sc.aux = take(std::max(dim + m, n));
    sc.inforce = take(std::max(1, n * m));
    sc.floats = at;

    a.kind = e->kind;
    a.scheme = e->scheme;
    a.n = n;
    a.m = m;
    a.steps = e->steps;
    a.sample_every = e->sample_every;
    a.sample_count = e->sample_count;
    a.dt = e->dt;
    a.sigma_q = e->sigma_q;
    a.sigma_p = e->sigma_p;
    a.noise = e->noise;
    a.tao_c = (float) std::cos(2 * e->tao_omega * (double) e->dt);
    a.tao_s = (float) std::sin(2 * e->tao_omega * (double) e->dt);
    a.amp = (double) e->noise * std::sqrt((double) e->dt);
    a.seed = e->seed;
    a.first = first;
    a.count = count;

    int sms = 0;
    st = device_sm_count(&sms, err, err_cap);
    if (st != ENGRAM_OK) return st;
    // The kernel and its grid. FP32: one thread per trajectory, enough threads to fill every SM (2048 resident
    // each), no more (the workspace grows with the grid). Tensor: warps of `tile` trajectories, at most 128 threads.
    const bool tensor = kernel == ENGRAM_KERNEL_TENSOR_BF16;
    int tile = launch != nullptr ? launch->tile : 0;
    int threads = threads_asked != 0 ? threads_asked : 128;
    long long blocks = 0;
    std::vector<unsigned char> packed;
    if (tensor) {
        char why[200];
        if (!engram::tensor_kernel_supports(a, why, (int) sizeof why))
            return fail(ENGRAM_ERROR_UNSUPPORTED, err, err_cap, "%s", why);
        if (tile == 0) tile = 16;
        if (tile != 16 && tile != 32)
            return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "launch.tile must be 0, 16 or 32, got %d", tile);
        if (tile == 32 && e->nets[0].widths[1] > 32)
            return fail(ENGRAM_ERROR_UNSUPPORTED, err, err_cap,
                        "launch.tile = 32 needs a hidden width h <= 32 (registers), got h = %d; use tile 16",
                        e->nets[0].widths[1]);
        if (threads > 128)
            return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap,
                        "launch.block_threads must be at most 128 for the tensor-core kernel, got %d", threads);
        const long long tiles = (count + tile - 1) / tile;
        const int warps = threads / 32;
        blocks = std::min<long long>((tiles + warps - 1) / warps, (long long) sms * 16);
        try {
            packed.resize((size_t) engram::tensor_kernel_weight_bytes(a));
        } catch (const std::bad_alloc&) {
            return fail(ENGRAM_ERROR_OUT_OF_MEMORY, err, err_cap, "out of host memory packing the weights");
        }
        engram::pack_tensor_weights(a, params.data(), packed.data());
    } else {
        if (launch != nullptr && launch->tile != 0)
            return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap,
                        "launch.tile applies to the tensor-core kernel only; pass 0 for the FP32 kernel, got %d",
                        launch->tile);
        blocks = (count + threads - 1) / threads;
        blocks = std::min<long long>(blocks, (long long) sms * (2048 / threads));
        const long long ws_budget = 1LL << 30;  // bytes of workspace at most
        blocks = std::min<long long>(blocks, std::max<long long>(1, ws_budget / ((long long) sc.floats * 4 * threads)));
    }
    if (max_blocks > 0) blocks = std::min<long long>(blocks, max_blocks);
    blocks = std::max<long long>(blocks, 1);

    if (out.quantiles) {
        if (out.level_count < 1 || out.level_count > 4096)
            return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "level_count must be in [1, 4096], got %d",
                        out.level_count);
        for (int l = 0; l < out.level_count; l++) {
            if (!(out.levels[l] >= 0 && out.levels[l] <= 1))
                return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "levels[%d] must lie in [0, 1], got %g", l,
                            out.levels[l]);
        }
    }

    SlotLease lease;
    st = lease_slot(lease, err, err_cap);
    if (st != ENGRAM_OK) return st;
    cudaStream_t stream = lease.slot->stream;
    // One device allocation for what the kernel writes (samples | final states | flags), 256-byte aligned parts, so
    // that a full result is one download; with quantiles a second, small one for what goes back (quantiles of every
    // sample column | of the final states | the count of diverged trajectories).
    const size_t samples_bytes = align256((size_t) sample_floats * 4), finals_bytes = align256((size_t) count * dim * 4);
    const size_t flags_bytes = align256((size_t) count * 4);
    const int coords = dim + 1, L = out.level_count;
    const size_t sq_floats = out.quantiles ? (size_t) e->sample_count * coords * L : 0;
    const size_t fq_floats = out.quantiles ? (size_t) dim * L : 0;
    const size_t q_bytes = align256(sq_floats * 4) + align256(fq_floats * 4) + 8;
    DeviceBuffers dev;
    void *dparams, *dinputs = nullptr, *dinit = nullptr, *dq0 = nullptr, *dp0 = nullptr, *dresults, *dws = nullptr,
                   *dpacked = nullptr, *dlevels = nullptr, *dquant = nullptr;
    CUDA_TRY(dev.alloc(&dparams, params.size() * 4), "allocating the model's parameters");
    CUDA_TRY(cudaMemcpyAsync(dparams, params.data(), params.size() * 4, cudaMemcpyHostToDevice, stream),
             "uploading the model");
    if (tensor) {
        CUDA_TRY(dev.alloc(&dpacked, packed.size()), "allocating the packed bf16 weights");
        CUDA_TRY(cudaMemcpyAsync(dpacked, packed.data(), packed.size(), cudaMemcpyHostToDevice, stream),
                 "uploading the packed bf16 weights");
    }
    if (e->inputs != nullptr) {
        CUDA_TRY(dev.alloc(&dinputs, (size_t) e->steps * m * 4), "allocating the input table");
        CUDA_TRY(cudaMemcpyAsync(dinputs, e->inputs, (size_t) e->steps * m * 4, cudaMemcpyHostToDevice, stream),
                 "uploading the input table");
    }
    if (e->initial_states != nullptr) {
        CUDA_TRY(dev.alloc(&dinit, (size_t) count * dim * 4), "allocating the initial states");
        CUDA_TRY(cudaMemcpyAsync(dinit, e->initial_states + first * dim, (size_t) count * dim * 4,
                                 cudaMemcpyHostToDevice, stream),
                 "uploading the initial states");
    } else {
        CUDA_TRY(dev.alloc(&dq0, (size_t) n * 4), "allocating q0");
        CUDA_TRY(dev.alloc(&dp0, (size_t) n * 4), "allocating p0");
        CUDA_TRY(cudaMemcpyAsync(dq0, e->q0, (size_t) n * 4, cudaMemcpyHostToDevice, stream), "uploading q0");
        CUDA_TRY(cudaMemcpyAsync(dp0, e->p0, (size_t) n * 4, cudaMemcpyHostToDevice, stream), "uploading p0");
    }
    CUDA_TRY(dev.alloc(&dresults, samples_bytes + finals_bytes + flags_bytes),
             "allocating the samples, final states and divergence flags");
    if (out.quantiles) {
        CUDA_TRY(dev.alloc(&dlevels, (size_t) L * 8), "allocating the quantile levels");
        CUDA_TRY(cudaMemcpyAsync(dlevels, out.levels, (size_t) L * 8, cudaMemcpyHostToDevice, stream),
                 "uploading the quantile levels");
        CUDA_TRY(dev.alloc(&dquant, q_bytes), "allocating the quantiles");
    }
    if (!tensor)
        CUDA_TRY(dev.alloc(&dws, (size_t) blocks * threads * sc.floats * 4), "allocating the integration workspace");
    unsigned char* results = static_cast<unsigned char*>(dresults);
    a.params = static_cast<const float*>(dparams);
    a.inputs = static_cast<const float*>(dinputs);
    a.init = static_cast<const float*>(dinit);
    a.q0 = static_cast<const float*>(dq0);
    a.p0 = static_cast<const float*>(dp0);
    a.samples = reinterpret_cast<float*>(results);
    a.finals = reinterpret_cast<float*>(results + samples_bytes);
    a.diverged = reinterpret_cast<int*>(results + samples_bytes + finals_bytes);
    a.ws = static_cast<float*>(dws);
    if (tensor) {
        CUDA_TRY(engram::launch_integrate_tensor(a, dpacked, (int) blocks, threads / 32, tile, stream),
                 "launching integrate_tc_kernel");
    } else {
        CUDA_TRY(engram::launch_integrate_fp32(a, (int) blocks, threads, stream), "launching integrate_fp32_kernel");
    }
    // what goes back: everything, or the quantiles; one packed download either way
    const void* src = dresults;
    size_t down = samples_bytes + finals_bytes + flags_bytes;
    if (out.quantiles) {
        unsigned char* q = static_cast<unsigned char*>(dquant);
        float* sq = reinterpret_cast<float*>(q);
        float* fq = reinterpret_cast<float*>(q + align256(sq_floats * 4));
        unsigned long long* dcount =
            reinterpret_cast<unsigned long long*>(q + align256(sq_floats * 4) + align256(fq_floats * 4));
        const double* lv = static_cast<const double*>(dlevels);
        const engram::QuantileColumns sc_cols{a.samples, count, coords, count * coords, coords, e->sample_count * coords};
        const engram::QuantileColumns fc_cols{a.finals, count, dim, 0, dim, dim};
        CUDA_TRY(engram::launch_column_quantiles(sc_cols, lv, L, sq, stream), "launching the sample quantiles");
        CUDA_TRY(engram::launch_column_quantiles(fc_cols, lv, L, fq, stream), "launching the final-state quantiles");
        CUDA_TRY(cudaMemsetAsync(dcount, 0, 8, stream), "clearing the diverged count");
        CUDA_TRY(engram::launch_count_diverged(a.diverged, count, dcount, stream), "launching the diverged count");
        src = dquant;
        down = q_bytes;
    }
    unsigned char* host = nullptr;
    std::vector<unsigned char> pageable;
    if (pinned_staging(lease.slot, down)) {
        host = static_cast<unsigned char*>(lease.slot->pinned);
        CUDA_TRY(cudaMemcpyAsync(host, src, down, cudaMemcpyDeviceToHost, stream), "downloading the results");
        CUDA_TRY(cudaStreamSynchronize(stream), "running the integration");
    } else {  // no pinned memory to be had: the same single download into pageable memory
        CUDA_TRY(cudaStreamSynchronize(stream), "running the integration");
        try {
            pageable.resize(down);
        } catch (const std::bad_alloc&) {
            return fail(ENGRAM_ERROR_OUT_OF_MEMORY, err, err_cap, "out of host memory for %zu bytes of results", down);
        }
        host = pageable.data();
        CUDA_TRY(cudaMemcpy(host, src, down, cudaMemcpyDeviceToHost), "downloading the results");
    }
    if (out.quantiles) {
        std::memcpy(out.sample_quantiles, host, sq_floats * 4);
        std::memcpy(out.final_quantiles, host + align256(sq_floats * 4), fq_floats * 4);
        unsigned long long c = 0;
        std::memcpy(&c, host + align256(sq_floats * 4) + align256(fq_floats * 4), 8);
        *out.diverged_count = (int64_t) c;
    } else {
        std::memcpy(out.samples, host, (size_t) sample_floats * 4);
        std::memcpy(out.final_states, host + samples_bytes, (size_t) count * dim * 4);
        std::memcpy(out.diverged_at, host + samples_bytes + finals_bytes, (size_t) count * 4);
    }
    return ENGRAM_OK;
}

}  // namespace

extern "C" int32_t engram_integrate(const engram_ensemble* e, int64_t first, int64_t count,
                                    const engram_integrate_launch* launch, float* samples, float* final_states,
                                    int32_t* diverged_at, char* err, int64_t err_cap) {
    if (e == nullptr) return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "e (the ensemble) is NULL");
    if (samples == nullptr || final_states == nullptr || diverged_at == nullptr)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "samples, final_states or diverged_at is NULL");
    IntegrateOutputs out;
    out.samples = samples;
    out.final_states = final_states;
    out.diverged_at = diverged_at;
    return integrate(e, first, count, launch, out, err, err_cap);
}

extern "C" int32_t engram_integrate_quantiles(const engram_ensemble* e, int64_t first, int64_t count,
                                              const engram_integrate_launch* launch, const double* levels,
                                              int32_t level_count, float* sample_quantiles, float* final_quantiles,
                                              int64_t* diverged_count, char* err, int64_t err_cap) {
    if (e == nullptr) return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap, "e (the ensemble) is NULL");
    if (levels == nullptr || sample_quantiles == nullptr || final_quantiles == nullptr || diverged_count == nullptr)
        return fail(ENGRAM_ERROR_INVALID_ARGUMENT, err, err_cap,
                    "levels, sample_quantiles, final_quantiles or diverged_count is NULL");
    IntegrateOutputs out;
    out.quantiles = true;
    out.levels = levels;
    out.level_count = level_count;
    out.sample_quantiles = sample_quantiles;
    out.final_quantiles = final_quantiles;
    out.diverged_count = diverged_count;
    return integrate(e, first, count, launch, out, err, err_cap);
}

extern "C" int32_t engram_integrate_args_layout(int64_t* out, int32_t cap) {
    using engram::IntegrateArgs;
    using engram::NetDesc;
    using engram::Scratch;
    const int64_t v[] = {
        (int64_t) sizeof(IntegrateArgs), (int64_t) alignof(IntegrateArgs),
        (int64_t) offsetof(IntegrateArgs, params), (int64_t) offsetof(IntegrateArgs, nets),
        (int64_t) offsetof(IntegrateArgs, kind), (int64_t) offsetof(IntegrateArgs, scheme),
        (int64_t) offsetof(IntegrateArgs, n), (int64_t) offsetof(IntegrateArgs, m),
        (int64_t) offsetof(IntegrateArgs, steps), (int64_t) offsetof(IntegrateArgs, sample_every),
        (int64_t) offsetof(IntegrateArgs, sample_count), (int64_t) offsetof(IntegrateArgs, dt),
        (int64_t) offsetof(IntegrateArgs, sigma_q), (int64_t) offsetof(IntegrateArgs, sigma_p),
        (int64_t) offsetof(IntegrateArgs, noise), (int64_t) offsetof(IntegrateArgs, tao_c),
        (int64_t) offsetof(IntegrateArgs, tao_s), (int64_t) offsetof(IntegrateArgs, amp),
        (int64_t) offsetof(IntegrateArgs, seed), (int64_t) offsetof(IntegrateArgs, first),
        (int64_t) offsetof(IntegrateArgs, count), (int64_t) offsetof(IntegrateArgs, inputs),
        (int64_t) offsetof(IntegrateArgs, init), (int64_t) offsetof(IntegrateArgs, q0),
        (int64_t) offsetof(IntegrateArgs, p0), (int64_t) offsetof(IntegrateArgs, samples),
        (int64_t) offsetof(IntegrateArgs, finals), (int64_t) offsetof(IntegrateArgs, diverged),
        (int64_t) offsetof(IntegrateArgs, ws), (int64_t) offsetof(IntegrateArgs, scratch),
        (int64_t) sizeof(NetDesc), (int64_t) offsetof(NetDesc, layers), (int64_t) offsetof(NetDesc, widths),
        (int64_t) offsetof(NetDesc, w_off), (int64_t) offsetof(NetDesc, b_off), (int64_t) offsetof(NetDesc, act_off),
        (int64_t) sizeof(Scratch), (int64_t) offsetof(Scratch, x), (int64_t) offsetof(Scratch, prev),
        (int64_t) offsetof(Scratch, grad), (int64_t) offsetof(Scratch, field), (int64_t) offsetof(Scratch, tmp),
        (int64_t) offsetof(Scratch, ksum), (int64_t) offsetof(Scratch, copy), (int64_t) offsetof(Scratch, force),
        (int64_t) offsetof(Scratch, aux), (int64_t) offsetof(Scratch, inforce), (int64_t) offsetof(Scratch, delta),
        (int64_t) offsetof(Scratch, g), (int64_t) offsetof(Scratch, floats)};
    const int32_t count = (int32_t) (sizeof v / sizeof v[0]);
    for (int32_t i = 0; i < count && i < cap; i++) out[i] = v[i];
    return count;
}

extern "C" int32_t engram_quantile_columns_layout(int64_t* out, int32_t cap) {
    using engram::QuantileColumns;
    const int64_t v[] = {(int64_t) sizeof(QuantileColumns),          (int64_t) offsetof(QuantileColumns, data),
                         (int64_t) offsetof(QuantileColumns, count),   (int64_t) offsetof(QuantileColumns, stride),
                         (int64_t) offsetof(QuantileColumns, slab),    (int64_t) offsetof(QuantileColumns, coords),
                         (int64_t) offsetof(QuantileColumns, columns)};
    const int32_t count = (int32_t) (sizeof v / sizeof v[0]);
    for (int32_t i = 0; i < count && i < cap; i++) out[i] = v[i];
    return count;
}

extern "C" void engram_tensor_weights_layout(int32_t h, int32_t* out) { engram::tensor_weights_layout(h, out); }

extern "C" void engram_pack_tensor_weights(int32_t n, int32_t h, const float* params, void* dst) {
    engram::IntegrateArgs a{};
    a.kind = ENGRAM_MODEL_HAMILTONIAN;
    a.scheme = ENGRAM_SCHEME_LEAPFROG;
    a.n = n;
    engram::NetDesc& d = a.nets[0];
    d.layers = 3;
    const int widths[4] = {2 * n, h, h, 1};
    int at = 0;
    for (int l = 0; l < 3; l++) {
        d.widths[l] = widths[l];
        d.w_off[l] = at;
        at += widths[l + 1] * widths[l];
        d.b_off[l] = at;
        at += widths[l + 1];
    }
    d.widths[3] = 1;
    engram::pack_tensor_weights(a, params, dst);
}
