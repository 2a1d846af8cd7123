// quantiles.cuh: the device-side quantiles of ensemble samples (quantiles.cu), launched by engram.cu and the
// integration harness (cuda/dev/integrate.cu).
#pragma once

#include "engram_cuda.cuh"

namespace engram {

/**
 * Columns of floats on the device: column j = s·coords + c holds the `count` values
 * data[s·slab + i·stride + c] for i < count (samples: stride 2n + 1, slab count·(2n + 1), coords 2n + 1;
 * final states: stride 2n, coords 2n, one slab).
 */
struct QuantileColumns {
    const float* data;
    long long count, stride, slab;
    int coords, columns;
};

/**
 * out[j·L + l] = the level-l quantile of column j (dev.engram.engine.EnsembleRecorder.quantile: NaN left out,
 * linear interpolation between order statistics, NaN for an all-NaN column); levels (L doubles in [0, 1]) and out
 * on the device. One block per (column, level) on `stream`.
 */
cudaError_t launch_column_quantiles(const QuantileColumns& c, const double* levels, int level_count, float* out,
                                    cudaStream_t stream);

/** *out += the number of flags[0..count) that are not −1 (diverged trajectories); out zeroed by the caller. */
cudaError_t launch_count_diverged(const int* flags, long long count, unsigned long long* out, cudaStream_t stream);

}  // namespace engram

// The kernels under C names (quantiles.cu), for driver-API callers (the JCuda engine, through the fatbin): one block of
// 256 threads per (column, level), and the diverged count (at most 1024 blocks of 256).
extern "C" {
__global__ void engram_kernel_column_quantiles(const engram::QuantileColumns c, const double* levels, int level_count,
                                               float* out);
__global__ void engram_kernel_count_diverged(const int* flags, long long count, unsigned long long* out);
}
