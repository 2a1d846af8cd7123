// engram_cuda.cuh: what every .cu file includes first. On nvcc it pulls in the CUDA runtime and half types; in the
// emulation build (ENGRAM_EMULATION_BUILD, g++) the host emulation of the execution model. Kernels declare shared
// memory and launch through the macros below so the same source compiles both ways.
#pragma once

#if defined(ENGRAM_EMULATION_BUILD)
#include "emu/cuda_emu.h"
#else
#include <cuda_runtime.h>
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#define ENGRAM_LAUNCH(kernel, grid, block, shared) kernel<<<grid, block, shared>>>
#define ENGRAM_LAUNCH_ON(kernel, grid, block, shared, stream) kernel<<<grid, block, shared, stream>>>
#define ENGRAM_DYNAMIC_SHARED(T, name) \
    extern __shared__ __align__(16) unsigned char name##_raw[]; \
    T* name = reinterpret_cast<T*>(name##_raw)
#define ENGRAM_SHARED_ARRAY(T, name, n) __shared__ T name[n]
#endif

#include <cstdint>

#include "engram.h"

namespace engram {

constexpr unsigned kFullMask = 0xffffffffu;
constexpr int kTile = 32;          // patterns per sub-tile: one per lane in the softmax and top-k step
constexpr int kMaxPairs = 8;       // (query, pattern) dot products one thread accumulates per sub-tile
constexpr int kMaxDimTile = 128;   // columns of X (or V) staged in shared memory per pass
constexpr int kMaxBlockThreads = ENGRAM_MAX_BLOCK_THREADS;

/** Device pointers of per-(chunk, query) partial state; chunk-major: element (c, b) at c·B + b. */
struct PartialOut {
    float* m;              // [chunks][B]
    float* l;              // [chunks][B]
    float* t;              // [chunks][B], relative to m
    float* o;              // [chunks][B][dv]
    float* top_score;      // [chunks][B][k], descending, padding −inf
    long long* top_index;  // [chunks][B][k], padding −1
};

/** Device pointers the merge kernel writes: finished results (finish = 1) or one merged partial (finish = 0). */
struct MergeOut {
    float* a;              // finish: entropy B        partial: m B
    float* b;              // finish: confidence B     partial: l B
    float* c;              //                          partial: t B
    float* o;              // finish: output B×dv      partial: o B×dv
    float* top_score;      // B×k
    long long* top_index;  // B×k
};

/** Byte offsets of one block's dynamic shared memory in the partial kernel; the host sizes launches with it. */
struct SharedPlan {
    int top_index;  // long long [qtile][k]  (first: 8-byte alignment)
    int top_score;  // float [qtile][k]
    int top_count;  // int [qtile]
    int queries;    // float [qtile][d]
    int qnorm;      // float [qtile]
    int xs;         // float [kTile][dt + 1]      staged patterns (+1 column: no bank conflicts)
    int vs;         // float [kTile][dvt + 1]     staged values (= xs when V = X fits one tile)
    int scores;     // float [qtile][kTile]       dots, then softmax weights
    int cosines;    // float [qtile][kTile]       this sub-tile's cosines, read by the lane that inserts into top-k
    int state;      // float [4][qtile]           m, l, t, rescale factor
    int out;        // float [qtile][dv]          output accumulator
    int bytes;
};

__host__ __device__ inline int align16(int n) { return (n + 15) & ~15; }

__host__ __device__ inline SharedPlan shared_plan(int d, int dv, int k, int qtile, bool values_in_xs) {
    const int dt = d < kMaxDimTile ? d : kMaxDimTile;
    const int dvt = dv < kMaxDimTile ? dv : kMaxDimTile;
    SharedPlan p{};
    int at = 0;
    p.top_index = at;
    at = align16(at + qtile * k * 8);
    p.top_score = at;
    at = align16(at + qtile * k * 4);
    p.top_count = at;
    at = align16(at + qtile * 4);
    p.queries = at;
    at = align16(at + qtile * d * 4);
    p.qnorm = at;
    at = align16(at + qtile * 4);
    p.xs = at;
    at = align16(at + kTile * (dt + 1) * 4);
    if (values_in_xs) {
        p.vs = p.xs;
    } else {
        p.vs = at;
        at = align16(at + kTile * (dvt + 1) * 4);
    }
    p.scores = at;
    at = align16(at + qtile * kTile * 4);
    p.cosines = at;
    at = align16(at + qtile * kTile * 4);
    p.state = at;
    at = align16(at + 4 * qtile * 4);
    p.out = at;
    at = align16(at + qtile * dv * 4);
    p.bytes = at;
    return p;
}

/** The order of top-k: higher score first, ties to the smaller index (as dev.engram.engine.TopK). */
__host__ __device__ inline bool better(float s1, long long i1, float s2, long long i2) {
    return s1 > s2 || (s1 == s2 && i1 < i2);
}

// Launchers (defined next to their kernels); return the launch's cudaError_t.
cudaError_t launch_retrieve_partial(int storage, const void* x, const void* v, const float* norms, long long from,
                                    long long to, int d, int dv, const float* queries, int batch, float beta, int k,
                                    int threads, int chunk, int qtile, PartialOut out);
// Version 2 of pass 1 (retrieve_partial_v2.cu): tensor cores, cp.async pipeline, one partial per warp.
bool retrieve_v2_supports(int d, int dv);
int retrieve_v2_shared_bytes(int storage, int d, bool separate_v, int k);
int retrieve_v2_chunk_multiple();    // chunk must be a multiple of this (patterns per block step)
int retrieve_v2_parts_per_chunk();   // partials written per (chunk, query): one per warp
int retrieve_v2_query_tile();        // queries per block (grid x = ceil(B / this))
int retrieve_v2_default_chunk(long long count, int batch, int sms);  // patterns per block, the grid fits CUDA's limits
cudaError_t launch_retrieve_partial_v2(int storage, const void* x, const void* v, const float* norms, long long from,
                                       long long to, int d, const float* queries, int batch, float beta, int k,
                                       int chunk, PartialOut out);
cudaError_t launch_retrieve_merge(PartialOut in, int chunks, int batch, int dv, int k, long long count, int finish,
                                  double* weights, int* heads, MergeOut out);

}  // namespace engram

// The kernels under C names (defined in retrieve_partial.cu and retrieve_merge.cu): what driver-API callers (the
// JCuda engine, through the fatbins) and the harnesses in cuda/dev/ launch. Parameters as in those files.
extern "C" {
__global__ void engram_kernel_retrieve_partial_f32(const void* x, const void* v, const float* norms, long long from,
                                                   long long to, int d, int dv, const float* queries, int batch,
                                                   float beta, int k, int chunk, int qtile, float* m, float* l,
                                                   float* t, float* o, float* top_score, long long* top_index);
__global__ void engram_kernel_retrieve_partial_f16(const void* x, const void* v, const float* norms, long long from,
                                                   long long to, int d, int dv, const float* queries, int batch,
                                                   float beta, int k, int chunk, int qtile, float* m, float* l,
                                                   float* t, float* o, float* top_score, long long* top_index);
__global__ void engram_kernel_retrieve_partial_bf16(const void* x, const void* v, const float* norms, long long from,
                                                    long long to, int d, int dv, const float* queries, int batch,
                                                    float beta, int k, int chunk, int qtile, float* m, float* l,
                                                    float* t, float* o, float* top_score, long long* top_index);
__global__ void engram_kernel_retrieve_merge(float* in_m, float* in_l, float* in_t, float* in_o, float* in_top_score,
                                             long long* in_top_index, int chunks, int batch, int dv, int k,
                                             long long count, int finish, double* weights, int* heads, float* out_a,
                                             float* out_b, float* out_c, float* out_o, float* out_top_score,
                                             long long* out_top_index);
// version 2 of pass 1 (retrieve_partial_v2.cu), per storage and d = dv
#define ENGRAM_DECLARE_PARTIAL_V2(NAME)                                                                                \
    __global__ void NAME(const void* x, const void* v, const float* norms, long long from, long long to,               \
                         const float* queries, int batch, float beta, int k, int chunk, float* m, float* l, float* t,  \
                         float* o, float* top_score, long long* top_index);
ENGRAM_DECLARE_PARTIAL_V2(engram_kernel_retrieve_partial_v2_f32_d32)
ENGRAM_DECLARE_PARTIAL_V2(engram_kernel_retrieve_partial_v2_f32_d64)
ENGRAM_DECLARE_PARTIAL_V2(engram_kernel_retrieve_partial_v2_f32_d128)
ENGRAM_DECLARE_PARTIAL_V2(engram_kernel_retrieve_partial_v2_f16_d32)
ENGRAM_DECLARE_PARTIAL_V2(engram_kernel_retrieve_partial_v2_f16_d64)
ENGRAM_DECLARE_PARTIAL_V2(engram_kernel_retrieve_partial_v2_f16_d128)
ENGRAM_DECLARE_PARTIAL_V2(engram_kernel_retrieve_partial_v2_bf16_d32)
ENGRAM_DECLARE_PARTIAL_V2(engram_kernel_retrieve_partial_v2_bf16_d64)
ENGRAM_DECLARE_PARTIAL_V2(engram_kernel_retrieve_partial_v2_bf16_d128)
#undef ENGRAM_DECLARE_PARTIAL_V2
}
