// scores_partials.cuh: the launcher of engram_kernel_scores_partials (scores_partials.cu), the cuBLAS baseline's
// scores → partials pass; cuda/dev/scores.cu uses it (the JCublas baseline launches the kernel by name).
#pragma once

#include "engram_cuda.cuh"

extern "C" __global__ void engram_kernel_scores_partials(const float* scores, long long lds, const float* v, int dv,
                                                         const float* norms, long long from, long long to,
                                                         const float* qnorms, int batch, float beta, int k, int chunk,
                                                         float* m, float* l, float* t, float* o, float* top_score,
                                                         long long* top_index);

namespace engram {

/** One block of 256 threads per (chunk of [from, to), query); see scores_partials.cu. */
cudaError_t launch_scores_partials(const float* scores, long long lds, const float* v, int dv, const float* norms,
                                   long long from, long long to, const float* qnorms, int batch, float beta, int k,
                                   int chunk, PartialOut out, cudaStream_t stream);

}  // namespace engram
