// retrieve_merge.cu: pass 2 of retrieval. Merges the per-chunk partials of pass 1 exactly (the RetrievalPartial
// monoid) and writes either the finished results (output, entropy, confidence, top-k) or one merged partial.
//
// Grid: one block per query b; 256 threads (any multiple of 32 up to 1024 works).
//   1. m = max_c m_c over chunks (block reduction: warp shuffles, then shared memory across warps);
//   2. each thread owns chunks c ≡ tid (mod threads): w_c = e^(m_c − m) (0 for an empty chunk), stored to the
//      weights scratch, and double partial sums of l = Σ w_c·l_c and t = Σ w_c·(t_c + (m_c − m)·l_c);
//   3. o_j = Σ_c w_c·o_cj in double: lane j of warp w sums column j over chunks c ≡ w, warps meet in shared
//      memory (reads of consecutive j coalesce; many chunks are summed in parallel, which matters at small B);
//   4. top-k: a k-way merge of the chunks' sorted lists with a head pointer per list (scratch). Each thread keeps
//      the best head of its own lists; each of k rounds is a block arg-max (score desc, index asc), after which
//      only the winner's owner advances that head and rescans its lists.
// Shared memory: cross-warp reduction slots (64 doubles, 32 candidates) and 32×32 doubles of column sums. All sums over chunks are double (the partials
// themselves are float32).
// Bytes moved per batch: reads C·B·(3 + dv)·4 + (at most) C·B·k·12 where C = chunks; writes B·(dv + 2 + 3k)·4
// plus scratch C·B·12. Small next to pass 1 whenever the chunk is large against B·dv/d.
#include "engram_cuda.cuh"

namespace engram {
namespace {

struct Best {
    float s;
    long long i;
    int c;
};

__device__ __forceinline__ bool better_best(const Best& a, const Best& b) {
    if (a.c < 0) return false;
    if (b.c < 0) return true;
    return better(a.s, a.i, b.s, b.i);
}

__device__ __forceinline__ Best warp_best(Best v) {
    for (int o = 16; o > 0; o >>= 1) {
        Best w;
        w.s = __shfl_xor_sync(kFullMask, v.s, o);
        w.i = __shfl_xor_sync(kFullMask, v.i, o);
        w.c = __shfl_xor_sync(kFullMask, v.c, o);
        if (better_best(w, v)) v = w;
    }
    return v;
}

/** The best current head among the lists c ≡ tid (mod nthreads) of query b; c = −1 when they are all used up. */
__device__ __forceinline__ Best best_head(const PartialOut& in, const int* head, int chunks, int batch, int b, int k,
                                          int tid, int nthreads) {
    Best mine{-INFINITY, -1, -1};
    for (int c = tid; c < chunks; c += nthreads) {
        const int h = head[c];
        if (h >= k) continue;
        const long long at = ((long long) c * batch + b) * k + h;
        const long long i = in.top_index[at];
        if (i < 0) continue;
        const Best cand{in.top_score[at], i, c};
        if (better_best(cand, mine)) mine = cand;
    }
    return mine;
}

__device__ __forceinline__ double warp_sum(double v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(kFullMask, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(kFullMask, v, o));
    return v;
}

/** One block of pass 2 (query b = blockIdx.x); engram_kernel_retrieve_merge below is this body. */
__device__ __forceinline__ void retrieve_merge_block(const PartialOut& in, int chunks, int batch, int dv, int k,
                                                     long long count, int finish, double* weights, int* heads,
                                                     const MergeOut& out) {
    ENGRAM_SHARED_ARRAY(double, red, 64);
    ENGRAM_SHARED_ARRAY(Best, bred, 32);
    ENGRAM_SHARED_ARRAY(double, colsum, 32 * 32);
    const int b = blockIdx.x, tid = threadIdx.x, nthreads = blockDim.x, lane = tid & 31, warp = tid >> 5,
              nwarps = nthreads >> 5;
    double* w = weights + (long long) b * chunks;
    int* head = heads + (long long) b * chunks;

    // 1: global max over chunks that saw patterns
    float mx = -INFINITY;
    for (int c = tid; c < chunks; c += nthreads) {
        const long long at = (long long) c * batch + b;
        if (in.l[at] > 0.f) mx = fmaxf(mx, in.m[at]);
    }
    mx = warp_max(mx);
    if (lane == 0) red[warp] = mx;
    __syncthreads();
    if (warp == 0) {
        float v = lane < nwarps ? (float) red[lane] : -INFINITY;
        v = warp_max(v);
        if (lane == 0) red[32] = v;
    }
    __syncthreads();
    const double m = red[32];
    __syncthreads();  // red is reused below

    // 2: chunk weights, l and t
    double l = 0.0, t = 0.0;
    for (int c = tid; c < chunks; c += nthreads) {
        const long long at = (long long) c * batch + b;
        const double lc = in.l[at];
        double wc = 0.0;
        if (lc > 0.0) {
            const double d = (double) in.m[at] - m;
            wc = exp(d);
            l += wc * lc;
            t += wc * ((double) in.t[at] + d * lc);
        }
        w[c] = wc;
        head[c] = 0;
    }
    l = warp_sum(l);
    t = warp_sum(t);
    if (lane == 0) {
        red[warp] = l;
        red[32 + warp] = t;
    }
    __syncthreads();  // also publishes w[] and head[] to the block
    double lsum = 0.0, tsum = 0.0;
    for (int i = 0; i < nwarps; i++) {
        lsum += red[i];
        tsum += red[32 + i];
    }

    // 3: output columns. Lane j of each warp sums column j0 + j over the warp's chunks (c ≡ warp mod W); the warps'
    // sums meet in shared memory. Branch-free (an empty chunk has weight 0), so loads of successive chunks overlap.
    for (int j0 = 0; j0 < dv; j0 += 32) {
        const int j = j0 + lane;
        double a = 0.0;
        if (j < dv) {
#pragma unroll 4
            for (int c = warp; c < chunks; c += nwarps) a += w[c] * (double) in.o[((long long) c * batch + b) * dv + j];
        }
        colsum[warp * 32 + lane] = a;
        __syncthreads();
        if (warp == 0 && j < dv) {
            double sum = 0.0;
            for (int i = 0; i < nwarps; i++) sum += colsum[i * 32 + lane];
            out.o[(long long) b * dv + j] = (float) (finish ? sum / lsum : sum);
        }
        __syncthreads();
    }
    if (tid == 0) {
        if (finish) {
            // H = log l − t/l; round-off may leave it a hair outside [0, log count]
            const double logm = log((double) count);
            double h = log(lsum) - tsum / lsum;
            h = h < 0.0 ? 0.0 : (h > logm ? logm : h);
            out.a[b] = (float) h;
            out.b[b] = count == 1 ? 1.f : (float) (1.0 - h / logm);
        } else {
            out.a[b] = (float) m;
            out.b[b] = (float) lsum;
            out.c[b] = (float) tsum;
        }
    }

    // 4: k-way merge of the sorted per-chunk lists. Each thread keeps the best head among its own lists
    // (c ≡ tid mod T); a round is one block arg-max, after which only the owner of the winning list advances that
    // list's head and rescans its own lists.
    Best mine = best_head(in, head, chunks, batch, b, k, tid, nthreads);
    for (int r = 0; r < k; r++) {
        const Best wb = warp_best(mine);
        if (lane == 0) bred[warp] = wb;
        __syncthreads();
        Best best = bred[0];
        for (int i = 1; i < nwarps; i++)
            if (better_best(bred[i], best)) best = bred[i];
        if (tid == 0) {
            out.top_score[(long long) b * k + r] = best.c < 0 ? -INFINITY : best.s;
            out.top_index[(long long) b * k + r] = best.c < 0 ? -1 : best.i;
        }
        if (best.c >= 0 && best.c % nthreads == tid) {
            head[best.c]++;
            mine = best_head(in, head, chunks, batch, b, k, tid, nthreads);
        }
        __syncthreads();  // bred is rewritten next round
    }
}

}  // namespace
}  // namespace engram

// The kernel with a C name, for driver-API callers (cuModuleGetFunction on the fatbin). Flat parameters, in this
// order (dev.engram.engine.jcuda.KernelTable lists the same signature):
//   in_m, in_l, in_t, in_o, in_top_score, in_top_index   (pass 1's PartialOut arrays)
//   chunks, batch, dv, k, count, finish, weights, heads, out_a, out_b, out_c, out_o, out_top_score, out_top_index
extern "C" __global__ void __launch_bounds__(256)
    engram_kernel_retrieve_merge(float* in_m, float* in_l, float* in_t, float* in_o, float* in_top_score,
                                 long long* in_top_index, int chunks, int batch, int dv, int k, long long count,
                                 int finish, double* weights, int* heads, float* out_a, float* out_b, float* out_c,
                                 float* out_o, float* out_top_score, long long* out_top_index) {
    engram::retrieve_merge_block(engram::PartialOut{in_m, in_l, in_t, in_o, in_top_score, in_top_index}, chunks, batch,
                                 dv, k, count, finish, weights, heads,
                                 engram::MergeOut{out_a, out_b, out_c, out_o, out_top_score, out_top_index});
}

namespace engram {

cudaError_t launch_retrieve_merge(PartialOut in, int chunks, int batch, int dv, int k, long long count, int finish,
                                  double* weights, int* heads, MergeOut out) {
    ENGRAM_LAUNCH(engram_kernel_retrieve_merge, dim3((unsigned) batch), dim3(256), 0)
    (in.m, in.l, in.t, in.o, in.top_score, in.top_index, chunks, batch, dv, k, count, finish, weights, heads, out.a,
     out.b, out.c, out.o, out.top_score, out.top_index);
    return cudaGetLastError();
}

}  // namespace engram
