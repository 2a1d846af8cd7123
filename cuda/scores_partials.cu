// scores_partials.cu: the second half of the cuBLAS baseline for retrieval. A GEMM (cublasSgemm, by the JCublas
// baseline in dev.engram.engine.jcuda.JCublasBaseline, or by cuda/dev/scores.cu) has written the B×M score matrix
// S = Q·Xᵀ; this kernel turns it into the same per-(chunk, query) partial state the fused pass-1 kernel
// (retrieve_partial.cu) writes, so that engram_kernel_retrieve_merge finishes it unchanged:
//   m = max_i β·s_i,  l = Σ e_i,  t = Σ e_i·(β·s_i − m),  o = Σ e_i·v_i  (e_i = e^(β·s_i − m)),
//   top-k by cosine s_i / (‖q‖·‖x_i‖) (0 when the product of norms is 0), descending, ties to the smaller index,
//   padded with (−inf, −1).
// It exists to show what the fused kernel gains: the baseline writes and reads the whole score matrix (B·M·4 bytes
// each way) and reads V once per query, where the fused kernel reads X (and V) once per query tile and never
// materialises S.
//
// Grid: x = chunks of `chunk` patterns of [from, to), y = queries; one block of kThreads per (chunk, query):
//   1. max of β·s over the chunk (block reduction);
//   2. per sub-tile of kThreads patterns: thread p computes e_p into shared memory and adds to its l, t; then thread
//      (j, part) accumulates o_j over the sub-tile's patterns p ≡ part (mod kThreads/dv'), dv' = min(dv, kThreads),
//      columns j ≥ kThreads in further passes;
//   3. top-k: k rounds of a block arg-max over the chunk's cosines, each round taking the best pattern strictly
//      behind the previous round's (the order is total: score, then index).
// Shared memory: kThreads weights and a few reduction arrays (~3 KB).
#include "scores_partials.cuh"

#include <cmath>

namespace engram {
namespace {

constexpr int kThreads = 256;

/** Block-wide reduction of v (sum or max) through shared memory red[kThreads]; every thread gets the result. */
template <bool kMax>
__device__ __forceinline__ float block_reduce(float v, float* red) {
    const int tid = threadIdx.x;
    red[tid] = v;
    __syncthreads();
    for (int w = kThreads / 2; w > 0; w >>= 1) {
        if (tid < w) red[tid] = kMax ? fmaxf(red[tid], red[tid + w]) : red[tid] + red[tid + w];
        __syncthreads();
    }
    const float r = red[0];
    __syncthreads();
    return r;
}

__device__ __forceinline__ float cosine(const float* s_row, const float* norms, long long from, long long i,
                                        float qn) {
    const float den = qn * norms[from + i];
    return den == 0.f ? 0.f : s_row[i] / den;
}

}  // namespace
}  // namespace engram

// Parameters (dev.engram.engine.jcuda.KernelTable.SCORES_PARTIALS lists the same, in order):
//   scores (B rows of lds floats: row b holds s for patterns from .. to − 1 at columns 0 ..), lds, v (M×dv rows of
//   the memory's values, f32), dv, norms (‖x_i‖ of the memory, indexed from 0), from, to, qnorms (B), batch, beta, k,
//   chunk, then the PartialOut arrays m, l, t, o, top_score, top_index as retrieve_partial writes them.
extern "C" __global__ void __launch_bounds__(256)
    engram_kernel_scores_partials(const float* scores, long long lds, const float* v, int dv, const float* norms,
                                  long long from, long long to, const float* qnorms, int batch, float beta, int k,
                                  int chunk, float* m, float* l, float* t, float* o, float* top_score,
                                  long long* top_index) {
    using engram::kThreads;
    ENGRAM_SHARED_ARRAY(float, red, kThreads);
    ENGRAM_SHARED_ARRAY(float, wts, kThreads);
    ENGRAM_SHARED_ARRAY(long long, red_i, kThreads);
    const long long c = blockIdx.x;
    const int b = blockIdx.y, tid = threadIdx.x;
    const long long p0 = c * chunk;  // relative to from
    const long long np = (to - from - p0) < chunk ? (to - from - p0) : chunk;
    const float* srow = scores + (long long) b * lds;
    const long long at = c * batch + b;

    // 1. max
    float mx = -INFINITY;
    for (long long i = tid; i < np; i += kThreads) mx = fmaxf(mx, beta * srow[p0 + i]);
    mx = engram::block_reduce<true>(mx, red);

    // 2. l, t, o over sub-tiles of kThreads patterns
    const int cols = dv < kThreads ? dv : kThreads;
    const int parts = kThreads / cols;
    const int col = tid % cols, part = tid / cols;
    float ls = 0.f, ts = 0.f;
    for (int j0 = 0; j0 < dv; j0 += cols) {
        float acc = 0.f;
        for (long long s0 = 0; s0 < np; s0 += kThreads) {
            const long long n = np - s0 < kThreads ? np - s0 : kThreads;
            if (tid < n) {
                const float s = beta * srow[p0 + s0 + tid];
                const float e = expf(s - mx);
                wts[tid] = e;
                if (j0 == 0) {
                    ls += e;
                    ts += e * (s - mx);
                }
            }
            __syncthreads();
            if (part < parts && j0 + col < dv) {
                for (long long p = part; p < n; p += parts)
                    acc = fmaf(wts[p], v[(from + p0 + s0 + p) * dv + j0 + col], acc);
            }
            __syncthreads();
        }
        // sum the parts of column j0 + col
        red[tid] = acc;
        __syncthreads();
        if (part == 0 && j0 + col < dv) {
            float sum = 0.f;
            for (int q = 0; q < parts; q++) sum += red[q * cols + col];
            o[at * dv + j0 + col] = sum;
        }
        __syncthreads();
    }
    ls = engram::block_reduce<false>(ls, red);
    ts = engram::block_reduce<false>(ts, red);
    if (tid == 0) {
        m[at] = mx;
        l[at] = ls;
        t[at] = ts;
    }

    // 3. top-k by cosine: k rounds of arg-max, each strictly behind the last pick
    const float qn = qnorms[b];
    float last_s = INFINITY;
    long long last_i = -1;
    for (int r = 0; r < k; r++) {
        float best_s = -INFINITY;
        long long best_i = -1;
        for (long long i = tid; i < np; i += kThreads) {
            const float s = engram::cosine(srow, norms, from, p0 + i, qn);
            const long long gi = from + p0 + i;
            const bool behind = s < last_s || (s == last_s && gi > last_i);
            if (behind && (best_i < 0 || engram::better(s, gi, best_s, best_i))) {
                best_s = s;
                best_i = gi;
            }
        }
        red[tid] = best_s;
        red_i[tid] = best_i;
        __syncthreads();
        for (int w = kThreads / 2; w > 0; w >>= 1) {
            if (tid < w) {
                const float s2 = red[tid + w];
                const long long i2 = red_i[tid + w];
                if (i2 >= 0 && (red_i[tid] < 0 || engram::better(s2, i2, red[tid], red_i[tid]))) {
                    red[tid] = s2;
                    red_i[tid] = i2;
                }
            }
            __syncthreads();
        }
        last_s = red[0];
        last_i = red_i[0];
        __syncthreads();
        if (tid == 0) {
            top_score[at * k + r] = last_i < 0 ? -INFINITY : last_s;
            top_index[at * k + r] = last_i;
        }
        if (last_i < 0) last_s = -INFINITY;  // nothing left: the remaining rounds write padding
    }
}

namespace engram {

cudaError_t launch_scores_partials(const float* scores, long long lds, const float* v, int dv, const float* norms,
                                   long long from, long long to, const float* qnorms, int batch, float beta, int k,
                                   int chunk, PartialOut out, cudaStream_t stream) {
    const long long chunks = (to - from + chunk - 1) / chunk;
    ENGRAM_LAUNCH_ON(engram_kernel_scores_partials, dim3((unsigned) chunks, (unsigned) batch), dim3(kThreads), 0,
                     stream)
    (scores, lds, v, dv, norms, from, to, qnorms, batch, beta, k, chunk, out.m, out.l, out.t, out.o, out.top_score,
     out.top_index);
    return cudaGetLastError();
}

}  // namespace engram
