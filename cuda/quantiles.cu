// quantiles.cu: per-column quantiles of an ensemble's samples and final states on the device, so that only
// columns × levels floats go back to the host instead of every trajectory's state.
//
// The quantile is dev.engram.engine.EnsembleRecorder.quantile exactly: NaN values (diverged trajectories) are left
// out, the rest ordered as Arrays.sort(float[]) orders them (−0.0 before 0.0), and with m values left,
// pos = level·(m − 1), lo = ⌊pos⌋, hi = min(lo + 1, m − 1), the result (float) (x_lo + (pos − lo)·(x_hi − x_lo)) in
// double after the float difference x_hi − x_lo (Java's float − float); NaN when m = 0. The same arithmetic on the
// same order statistics gives the same float, bit for bit.
//
// Ownership: one block per (column, level). The block finds the order statistic x_lo by radix select on the
// 32-bit order-preserving key of each float (sign flipped for positives, all bits for negatives), 8 bits per pass:
// pass 1 builds a 256-bin histogram of the top byte over the column (NaN skipped, which also counts m), thread 0
// walks the bins to the one holding rank lo, and passes 2–4 histogram only the values whose key has the prefix found
// so far. The last bin's count is the number of values equal to x_lo, so x_hi = x_lo whenever lo + 1 is still inside
// that run of equal keys; otherwise one more pass takes the smallest key above x_lo (a block min-reduction).
// Shared memory: 256 ints of histogram, 256 keys for the min-reduction, a few scalars.
// Cost: 4 (or 5) reads of the column per (column, level): for N = 10⁶ trajectories, 5 levels and 3 columns about
// 60 passes over 4 MB, ~0.1 ms of HBM bandwidth spread over 15 blocks, small next to the integration itself.
#include "engram_cuda.cuh"
#include "quantiles.cuh"

#include <algorithm>
#include <cmath>

namespace engram {
namespace {

constexpr int kQuantileThreads = 256;

__device__ __forceinline__ unsigned order_key(float f) {
    const unsigned b = __float_as_uint(f);
    return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

__device__ __forceinline__ float key_value(unsigned k) {
    return __uint_as_float((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k);
}

}  // namespace
}  // namespace engram

// The kernels under C names (declared in quantiles.cuh), for driver-API callers (the JCuda engine) as well.
extern "C" __global__ void __launch_bounds__(engram::kQuantileThreads)
    engram_kernel_column_quantiles(const engram::QuantileColumns c, const double* __restrict__ levels, int level_count,
                                   float* __restrict__ out) {
    using namespace engram;
    ENGRAM_SHARED_ARRAY(int, hist, 256);
    ENGRAM_SHARED_ARRAY(unsigned, mins, kQuantileThreads);
    ENGRAM_SHARED_ARRAY(long long, state, 4);  // 0: rank still to find in the bin, 1: m, 2: values equal to x_lo
    ENGRAM_SHARED_ARRAY(unsigned, prefix, 1);
    const int column = blockIdx.x / level_count, level = blockIdx.x % level_count;
    const int s = column / c.coords, coord = column % c.coords;
    const float* base = c.data + (long long) s * c.slab + coord;
    const int tid = threadIdx.x;
    unsigned mask = 0;
    long long m = 0, lo = 0;
    double frac = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
        for (int b = tid; b < 256; b += blockDim.x) hist[b] = 0;
        __syncthreads();
        const unsigned want = shift == 24 ? 0u : prefix[0];
        for (long long i = tid; i < c.count; i += blockDim.x) {
            const float v = base[i * c.stride];
            if (v != v) continue;  // NaN: a diverged trajectory
            const unsigned k = order_key(v);
            if ((k & mask) == want) atomicAdd(&hist[(k >> shift) & 255u], 1);
        }
        __syncthreads();
        if (tid == 0) {
            if (shift == 24) {
                long long total = 0;
                for (int b = 0; b < 256; b++) total += hist[b];
                state[1] = total;
                const double pos = total > 0 ? levels[level] * (double) (total - 1) : 0.0;
                state[0] = (long long) floor(pos);
                prefix[0] = 0;
            }
            long long rank = state[0];
            int b = 0;
            for (; b < 255 && rank >= hist[b]; b++) rank -= hist[b];
            state[0] = rank;
            state[2] = hist[b];
            prefix[0] |= (unsigned) b << shift;
        }
        __syncthreads();
        m = state[1];
        if (m == 0) break;
        mask |= 255u << shift;
    }
    if (m == 0) {
        if (tid == 0) out[blockIdx.x] = NAN;
        return;
    }
    const double pos = levels[level] * (double) (m - 1);
    lo = (long long) floor(pos);
    frac = pos - (double) lo;
    const long long hi = lo + 1 < m ? lo + 1 : m - 1;
    const unsigned key_lo = prefix[0];
    const long long rank_in_run = state[0], run = state[2];
    unsigned key_hi = key_lo;
    if (hi != lo && rank_in_run + 1 >= run) {
        // x_hi is the smallest value above x_lo
        unsigned best = 0xffffffffu;
        for (long long i = tid; i < c.count; i += blockDim.x) {
            const float v = base[i * c.stride];
            if (v != v) continue;
            const unsigned k = order_key(v);
            if (k > key_lo && k < best) best = k;
        }
        mins[tid] = best;
        __syncthreads();
        for (int w = blockDim.x / 2; w > 0; w >>= 1) {
            if (tid < w && mins[tid + w] < mins[tid]) mins[tid] = mins[tid + w];
            __syncthreads();
        }
        key_hi = mins[0];
    }
    if (tid == 0) {
        // Java's (float) (sorted[lo] + frac * (sorted[hi] - sorted[lo])): the difference of two floats is a float
        // subtraction, the rest double; _rn intrinsics so that nvcc does not contract the product and sum to an FMA
        const float xl = key_value(key_lo), xh = key_value(key_hi);
        const float diff = __fsub_rn(xh, xl);
        out[blockIdx.x] = (float) __dadd_rn((double) xl, __dmul_rn(frac, (double) diff));
    }
}

extern "C" __global__ void __launch_bounds__(engram::kQuantileThreads)
    engram_kernel_count_diverged(const int* __restrict__ flags, long long count, unsigned long long* out) {
    using namespace engram;
    ENGRAM_SHARED_ARRAY(unsigned, total, 1);
    if (threadIdx.x == 0) total[0] = 0;
    __syncthreads();
    unsigned mine = 0;
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < count; i += (long long) gridDim.x * blockDim.x)
        mine += flags[i] != -1;
    if (mine != 0) atomicAdd(&total[0], mine);
    __syncthreads();
    if (threadIdx.x == 0 && total[0] != 0) atomicAdd(out, (unsigned long long) total[0]);
}

namespace engram {

cudaError_t launch_count_diverged(const int* flags, long long count, unsigned long long* out, cudaStream_t stream) {
    const long long blocks = std::min<long long>((count + kQuantileThreads - 1) / kQuantileThreads, 1024);
    if (blocks == 0) return cudaSuccess;
    ENGRAM_LAUNCH_ON(engram_kernel_count_diverged, dim3((unsigned) blocks), dim3(kQuantileThreads), 0, stream)(flags, count, out);
    return cudaGetLastError();
}

cudaError_t launch_column_quantiles(const QuantileColumns& c, const double* levels, int level_count, float* out,
                                    cudaStream_t stream) {
    const long long blocks = (long long) c.columns * level_count;
    if (blocks == 0) return cudaSuccess;
    ENGRAM_LAUNCH_ON(engram_kernel_column_quantiles, dim3((unsigned) blocks), dim3(kQuantileThreads), 0, stream)
    (c, levels, level_count, out);
    return cudaGetLastError();
}

}  // namespace engram
