// retrieve_partial.cu: pass 1 of retrieval, flash-decoding shaped. Computes, for every (memory chunk, query), the
// online-softmax partial state (m, l, t relative to m, o) and the chunk's cosine top-k, without ever
// materialising the B×M score matrix.
//
// Grid: x = memory chunks of `chunk` patterns (a multiple of 32), y = query tiles of `qtile` queries.
// A block owns one (query tile, memory chunk) pair and walks its chunk in sub-tiles of kTile = 32 patterns:
//   1. stage: the sub-tile's rows of X (kTile × up to 128 columns at a time) are loaded into shared memory with
//      coalesced loads (float4 / 4×16-bit when d % 4 == 0, scalar otherwise); fp16/bf16 are widened to float here;
//   2. scores: lane p of warp w owns pattern p and queries w, w + W, ... (at most kMaxPairs of them) and
//      accumulates their dot products in registers across the column tiles; each staged x value is read from
//      shared memory once and used for all of the thread's queries (query values are warp-wide broadcasts);
//   3. softmax + top-k: warp w owns queries w, w + W, ...; lane p owns pattern p of the sub-tile: warp max, rescale
//      of the running (m, l, t), weights e^(s − m) written back to shared memory, warp sums by shuffles; cosine =
//      dot / (‖q‖·‖x‖) with the norms precomputed at upload, offered to the query's sorted top-k list (a ballot
//      finds the lanes that beat the current k-th entry; the warp inserts each one in parallel);
//   4. output: the sub-tile's V rows are staged (or X is reused when V = X fits one 128-column tile) and
//      o ← o·e^(m_old − m_new) + Σ_p w_p·v_p; with at least two queries per warp, lane j owns column j for the
//      warp's queries (each staged v read once for all of them), otherwise (query, column) pairs are spread over
//      all threads.
// Shared memory (see SharedPlan): top-k lists (qtile×k×12 B), queries (qtile×d×4), staged X and V
// (32×(dt+1)×4 each), scores/weights and cosines (2×qtile×32×4), running state (16·qtile), output accumulator
// (qtile×dv×4).
// Registers per thread: kMaxPairs accumulators plus indexing; no per-thread arrays indexed at run time.
//
// Bytes moved per batch (s = bytes per stored element: 4 for f32, 2 for f16/bf16; C = chunk; T = ceil(B/qtile)):
//   X read T times: T·M·d·s (T = 1 for B ≤ qtile: X is streamed once), V: T·M·dv·s (0 extra when V = X, d ≤ 128),
//   norms T·M·4, queries (M/C)·B·d·4 (hits L2), partials written (M/C)·B·(3 + dv + 2k)·4.
// FLOPs: 2·B·M·d (scores) + 2·B·M·dv (output) + ~B·M·(exp + a few) — see cuda/PERFORMANCE.md.
#include "engram_cuda.cuh"

namespace engram {
namespace {

template <typename T>
struct Elem;

template <>
struct Elem<float> {
    static __device__ __forceinline__ float get(const float* p) { return *p; }
    static __device__ __forceinline__ void get4(const float* p, float* out) {
        float4 v = *reinterpret_cast<const float4*>(p);
        out[0] = v.x;
        out[1] = v.y;
        out[2] = v.z;
        out[3] = v.w;
    }
};

template <>
struct Elem<__half> {
    static __device__ __forceinline__ float get(const __half* p) { return __half2float(*p); }
    static __device__ __forceinline__ void get4(const __half* p, float* out) {
        uint2 raw = *reinterpret_cast<const uint2*>(p);
        out[0] = __half2float(__ushort_as_half((unsigned short) (raw.x & 0xffffu)));
        out[1] = __half2float(__ushort_as_half((unsigned short) (raw.x >> 16)));
        out[2] = __half2float(__ushort_as_half((unsigned short) (raw.y & 0xffffu)));
        out[3] = __half2float(__ushort_as_half((unsigned short) (raw.y >> 16)));
    }
};

template <>
struct Elem<__nv_bfloat16> {
    static __device__ __forceinline__ float get(const __nv_bfloat16* p) { return __bfloat162float(*p); }
    static __device__ __forceinline__ void get4(const __nv_bfloat16* p, float* out) {
        uint2 raw = *reinterpret_cast<const uint2*>(p);
        out[0] = __bfloat162float(__ushort_as_bfloat16((unsigned short) (raw.x & 0xffffu)));
        out[1] = __bfloat162float(__ushort_as_bfloat16((unsigned short) (raw.x >> 16)));
        out[2] = __bfloat162float(__ushort_as_bfloat16((unsigned short) (raw.y & 0xffffu)));
        out[3] = __bfloat162float(__ushort_as_bfloat16((unsigned short) (raw.y >> 16)));
    }
};

/**
 * Stages rows [p0, p0 + np) × columns [c0, c0 + w) of a row-major matrix with `ld` columns into dst (kTile rows,
 * row stride sstride floats), widening to float; rows np..kTile−1 become 0. Consecutive threads read consecutive
 * addresses of a row, so loads coalesce.
 */
template <typename T>
__device__ __forceinline__ void stage(const T* __restrict__ src, int ld, long long p0, int np, int c0, int w,
                                      float* dst, int sstride) {
    const int tid = threadIdx.x, nthreads = blockDim.x;
    if ((ld & 3) == 0 && (c0 & 3) == 0 && (w & 3) == 0) {
        const int groups = w >> 2;
        for (int g = tid; g < kTile * groups; g += nthreads) {
            const int row = g / groups, col = (g - row * groups) << 2;
            float vals[4] = {0.f, 0.f, 0.f, 0.f};
            if (row < np) Elem<T>::get4(src + (p0 + row) * ld + c0 + col, vals);
            float* o = dst + row * sstride + col;
            o[0] = vals[0];
            o[1] = vals[1];
            o[2] = vals[2];
            o[3] = vals[3];
        }
    } else {
        for (int e = tid; e < kTile * w; e += nthreads) {
            const int row = e / w, col = e - row * w;
            dst[row * sstride + col] = row < np ? Elem<T>::get(src + (p0 + row) * ld + c0 + col) : 0.f;
        }
    }
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(kFullMask, v, o));
    return v;
}

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(kFullMask, v, o);
    return v;
}

/**
 * Offers the sub-tile's candidates to a query's sorted top-k list (k entries at most, *tn so far) in shared memory.
 * Called by a whole warp; lane p has written its cosine to cand[p] (−inf when invalid). One ballot finds the lanes
 * that beat the current k-th entry (after warm-up usually none, so the common case costs one vote). Each such
 * candidate, in lane order, is inserted by the whole warp: its position is the number of entries better than it
 * (one ballot per 32 entries), and the entries behind it move down one slot, 32 slots per step, from the end of the
 * list towards the front so that no slot is overwritten before it has been read.
 */
__device__ __forceinline__ void topk_offer(float* ts, long long* ti, int* tn, int k, const float* cand, long long p0,
                                           int lane) {
    __syncwarp(kFullMask);  // cand[] written by every lane
    int n = *tn;            // the same value in every lane, kept in step below
    const float s = cand[lane];
    const bool beats = s != -INFINITY && (n < k || better(s, p0 + lane, ts[k - 1], ti[k - 1]));
    unsigned mask = __ballot_sync(kFullMask, beats);
    while (mask != 0) {  // mask, n and the list are the same for every lane: the loop is warp-uniform
        const int src = __ffs(mask) - 1;
        mask &= mask - 1;
        const float cs = cand[src];
        const long long ci = p0 + src;
        if (n == k && !better(cs, ci, ts[k - 1], ti[k - 1])) continue;  // an earlier insertion raised the bar
        int pos = 0;
        for (int base = 0; base < n; base += 32) {
            const int j = base + lane;
            pos += __popc(__ballot_sync(kFullMask, j < n && better(ts[j], ti[j], cs, ci)));
        }
        const int last = n < k ? n : k - 1;  // slots pos..last change: j takes j − 1's entry, pos the candidate
        for (int base = last & ~31; base >= (pos & ~31); base -= 32) {
            const int j = base + lane;
            const bool move = j > pos && j <= last;
            const float ms = move ? ts[j - 1] : 0.f;
            const long long mi = move ? ti[j - 1] : 0;
            __syncwarp(kFullMask);  // every read of this step before any write
            if (move) {
                ts[j] = ms;
                ti[j] = mi;
            } else if (j == pos) {
                ts[j] = cs;
                ti[j] = ci;
            }
            __syncwarp(kFullMask);  // writes seen before the next (lower) step reads
        }
        if (n < k) n++;
    }
    __syncwarp(kFullMask);  // every lane's read of *tn (above) before lane 0 writes it (racecheck)
    if (lane == 0) *tn = n;
    __syncwarp(kFullMask);  // the count is read by every lane at the next offer
}

/** One block of pass 1 (see the header comment); the extern "C" kernels below are this body per storage type. */
template <typename T>
__device__ __forceinline__ void retrieve_partial_block(const T* __restrict__ x, const T* __restrict__ v,
                                                       const float* __restrict__ norms, long long from, long long to,
                                                       int d, int dv, const float* __restrict__ queries, int batch,
                                                       float beta, int k, int chunk, int qtile, PartialOut out) {
    const int tid = threadIdx.x, nthreads = blockDim.x, lane = tid & 31, warp = tid >> 5, nwarps = nthreads >> 5;
    const long long c = blockIdx.x;
    const long long c0 = from + c * (long long) chunk;
    const long long c1 = c0 + chunk < to ? c0 + chunk : to;
    const int q0 = blockIdx.y * qtile;
    const int nq = batch - q0 < qtile ? batch - q0 : qtile;
    const bool values_in_xs = v == nullptr;  // V = X and d <= kMaxDimTile: the staged X rows are the values
    const int dt = d < kMaxDimTile ? d : kMaxDimTile;
    const int dvt = dv < kMaxDimTile ? dv : kMaxDimTile;
    const SharedPlan plan = shared_plan(d, dv, k, qtile, values_in_xs);

    ENGRAM_DYNAMIC_SHARED(unsigned char, smem);
    long long* tk_i = reinterpret_cast<long long*>(smem + plan.top_index);
    float* tk_s = reinterpret_cast<float*>(smem + plan.top_score);
    int* tk_n = reinterpret_cast<int*>(smem + plan.top_count);
    float* qs = reinterpret_cast<float*>(smem + plan.queries);
    float* qn = reinterpret_cast<float*>(smem + plan.qnorm);
    float* xs = reinterpret_cast<float*>(smem + plan.xs);
    float* vs = reinterpret_cast<float*>(smem + plan.vs);
    float* sc = reinterpret_cast<float*>(smem + plan.scores);
    float* cs = reinterpret_cast<float*>(smem + plan.cosines);
    float* st_m = reinterpret_cast<float*>(smem + plan.state);
    float* st_l = st_m + qtile;
    float* st_t = st_l + qtile;
    float* st_scale = st_t + qtile;
    float* os = reinterpret_cast<float*>(smem + plan.out);

    for (int e = tid; e < qtile * d; e += nthreads) {
        const int r = e / d;
        qs[e] = r < nq ? queries[(long long) (q0 + r) * d + (e - r * d)] : 0.f;
    }
    for (int e = tid; e < qtile * dv; e += nthreads) os[e] = 0.f;
    for (int r = tid; r < qtile; r += nthreads) {
        st_m[r] = -INFINITY;
        st_l[r] = 0.f;
        st_t[r] = 0.f;
        st_scale[r] = 0.f;
        tk_n[r] = 0;
    }
    __syncthreads();
    for (int r = warp; r < nq; r += nwarps) {
        float s = 0.f;
        for (int j = lane; j < d; j += 32) s += qs[r * d + j] * qs[r * d + j];
        s = warp_sum(s);
        if (lane == 0) qn[r] = sqrtf(s);
    }

    for (long long p0 = c0; p0 < c1; p0 += kTile) {
        const int np = c1 - p0 < kTile ? (int) (c1 - p0) : kTile;

        // 1 + 2: dots of every (query, pattern) pair of the sub-tile, X staged 128 columns at a time. Since
        // blockDim.x % 32 == 0, all pairs of a thread share one pattern (lane) and step through queries by
        // nthreads/32: each staged x value is loaded once and used for up to kMaxPairs queries (broadcast reads).
        const int pp = lane;
        const int qbase = warp, qstep = nwarps;
        const int npairs = nq > qbase ? (nq - qbase + qstep - 1) / qstep : 0;  // <= kMaxPairs (host checks)
        float acc[kMaxPairs];
#pragma unroll
        for (int r = 0; r < kMaxPairs; r++) acc[r] = 0.f;
        for (int k0 = 0; k0 < d; k0 += dt) {
            const int w = d - k0 < dt ? d - k0 : dt;
            stage(x, d, p0, np, k0, w, xs, dt + 1);
            __syncthreads();
            const float* xrow = xs + pp * (dt + 1);
            const float* q0row = qs + qbase * d + k0;
            for (int j = 0; j < w; j++) {
                const float xv = xrow[j];
#pragma unroll
                for (int r = 0; r < kMaxPairs; r++) {
                    if (r < npairs) acc[r] = fmaf(q0row[r * qstep * d + j], xv, acc[r]);
                }
            }
            if (k0 + dt < d) __syncthreads();  // the next column tile overwrites xs
        }
#pragma unroll
        for (int r = 0; r < kMaxPairs; r++) {
            if (r < npairs) sc[(qbase + r * qstep) * kTile + pp] = acc[r];
        }
        __syncthreads();

        // 3: online softmax update and top-k, one warp per query
        for (int r = warp; r < nq; r += nwarps) {
            const bool valid = lane < np;
            const float dot = sc[r * kTile + lane];
            const float s = valid ? beta * dot : -INFINITY;
            const float m_old = st_m[r], l_old = st_l[r], t_old = st_t[r];
            const float m_new = fmaxf(m_old, warp_max(s));
            const float scale = l_old == 0.f ? 0.f : expf(m_old - m_new);
            const float e = valid ? expf(s - m_new) : 0.f;
            const float le = warp_sum(e);
            const float lt = warp_sum(valid ? e * (s - m_new) : 0.f);
            sc[r * kTile + lane] = e;
            __syncwarp(kFullMask);  // every lane's read of the running state before lane 0 rewrites it (racecheck)
            if (lane == 0) {
                // t was relative to m_old: Σ e^(s−m_old)(s−m_old) → scale·(t + (m_old − m_new)·l) relative to m_new
                st_t[r] = (l_old == 0.f ? 0.f : scale * (t_old + (m_old - m_new) * l_old)) + lt;
                st_l[r] = l_old * scale + le;
                st_m[r] = m_new;
                st_scale[r] = scale;
            }
            if (k > 0) {
                const float den = valid ? qn[r] * norms[p0 + lane] : 0.f;
                cs[r * kTile + lane] = valid ? (den == 0.f ? 0.f : dot / den) : -INFINITY;
                topk_offer(tk_s + r * k, tk_i + r * k, tk_n + r, k, cs + r * kTile, p0, lane);
            }
        }
        __syncthreads();

        // 4: o ← o·scale + Σ_p w_p·v_p, V staged 128 columns at a time (or the X rows already staged)
        for (int j0 = 0; j0 < dv; j0 += dvt) {
            const int w = dv - j0 < dvt ? dv - j0 : dvt;
            if (!values_in_xs) {
                stage(v, dv, p0, np, j0, w, vs, dvt + 1);
                __syncthreads();
            }
            if (nq >= 2 * nwarps) {  // block-uniform: every thread takes the same branch
                // At least two queries per warp: lane j owns column j for the warp's queries (r ≡ warp), so each
                // staged v value is read once for all of them (as in the score step).
                for (int jc = lane; jc < w; jc += 32) {
                    float a[kMaxPairs];
#pragma unroll
                    for (int r = 0; r < kMaxPairs; r++) a[r] = 0.f;
                    for (int p = 0; p < np; p++) {
                        const float vv = vs[p * (dvt + 1) + jc];
#pragma unroll
                        for (int r = 0; r < kMaxPairs; r++) {
                            if (r < npairs) a[r] = fmaf(sc[(qbase + r * qstep) * kTile + p], vv, a[r]);
                        }
                    }
#pragma unroll
                    for (int r = 0; r < kMaxPairs; r++) {
                        if (r < npairs) {
                            const int row = qbase + r * qstep;
                            float* o = os + row * dv + j0 + jc;
                            *o = *o * st_scale[row] + a[r];
                        }
                    }
                }
            } else {
                // Few queries (small B): spread the (query, column) pairs over all threads instead.
                for (int e = tid; e < nq * w; e += nthreads) {
                    const int r = e / w, j = e - r * w;
                    const float* wr = sc + r * kTile;
                    float a = 0.f;
                    for (int p = 0; p < np; p++) a = fmaf(wr[p], vs[p * (dvt + 1) + j], a);
                    float* o = os + r * dv + j0 + j;
                    *o = *o * st_scale[r] + a;
                }
            }
            __syncthreads();
        }
    }

    // write this chunk's partial state
    for (int r = tid; r < nq; r += nthreads) {
        const long long at = c * batch + q0 + r;
        out.m[at] = st_m[r];
        out.l[at] = st_l[r];
        out.t[at] = st_t[r];
    }
    for (int e = tid; e < nq * dv; e += nthreads) {
        const int r = e / dv;
        out.o[(c * batch + q0 + r) * dv + (e - r * dv)] = os[e];
    }
    for (int e = tid; e < nq * k; e += nthreads) {
        const int r = e / k, i = e - r * k;
        const long long at = (c * batch + q0 + r) * k + i;
        const bool has = i < tk_n[r];
        out.top_score[at] = has ? tk_s[r * k + i] : -INFINITY;
        out.top_index[at] = has ? tk_i[r * k + i] : -1;
    }
}

}  // namespace
}  // namespace engram

// The kernels, one per storage type, with C names so that a driver-API caller (the JCuda engine: cuModuleGetFunction
// on the fatbin) finds them by name. Flat parameters, in this order (cuLaunchKernel packs one pointer per parameter;
// dev.engram.engine.jcuda.KernelTable lists the same signature):
//   x, v (null: the staged X rows are the values), norms, from, to, d, dv, queries, batch, beta, k, chunk, qtile,
//   m, l, t, o, top_score, top_index   (the PartialOut arrays)
#define ENGRAM_PARTIAL_KERNEL(NAME, T)                                                                                  \
    extern "C" __global__ void __launch_bounds__(engram::kMaxBlockThreads, 4)                                           \
        NAME(const void* x, const void* v, const float* norms, long long from, long long to, int d, int dv,             \
             const float* queries, int batch, float beta, int k, int chunk, int qtile, float* m, float* l, float* t,     \
             float* o, float* top_score, long long* top_index) {                                                        \
        engram::retrieve_partial_block<T>(static_cast<const T*>(x), static_cast<const T*>(v), norms, from, to, d, dv,  \
                                          queries, batch, beta, k, chunk, qtile,                                       \
                                          engram::PartialOut{m, l, t, o, top_score, top_index});                       \
    }
ENGRAM_PARTIAL_KERNEL(engram_kernel_retrieve_partial_f32, float)
ENGRAM_PARTIAL_KERNEL(engram_kernel_retrieve_partial_f16, __half)
ENGRAM_PARTIAL_KERNEL(engram_kernel_retrieve_partial_bf16, __nv_bfloat16)
#undef ENGRAM_PARTIAL_KERNEL

namespace engram {

cudaError_t launch_retrieve_partial(int storage, const void* x, const void* v, const float* norms, long long from,
                                    long long to, int d, int dv, const float* queries, int batch, float beta, int k,
                                    int threads, int chunk, int qtile, PartialOut out) {
    auto kernel = storage == ENGRAM_STORAGE_F16    ? engram_kernel_retrieve_partial_f16
                  : storage == ENGRAM_STORAGE_BF16 ? engram_kernel_retrieve_partial_bf16
                                                   : engram_kernel_retrieve_partial_f32;  // create admits only these kinds
    const SharedPlan plan = shared_plan(d, dv, k, qtile, v == nullptr);
    if (plan.bytes > 48 * 1024) {
        cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, plan.bytes);
        if (e != cudaSuccess) return e;
    }
    const long long chunks = (to - from + chunk - 1) / chunk;
    dim3 grid((unsigned) chunks, (unsigned) ((batch + qtile - 1) / qtile));
    ENGRAM_LAUNCH(kernel, grid, dim3(threads), plan.bytes)
    (x, v, norms, from, to, d, dv, queries, batch, beta, k, chunk, qtile, out.m, out.l, out.t, out.o, out.top_score,
     out.top_index);
    return cudaGetLastError();
}

}  // namespace engram
