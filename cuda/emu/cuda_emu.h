// cuda_emu.h: the CUDA execution model on the host, so the very same .cu kernels compile with g++.
//
// What is emulated, and how:
//  - A launch runs its grid block by block; blocks are independent, so one OS worker per core takes blocks in turn.
//  - Every CUDA thread of a block is its own host thread of control, with its own stack and registers. By default
//    (cuda_emu_fibers.cpp) these are fibers (ucontext) that take turns on the worker and switch only at barriers,
//    shuffles and ballots; with ENGRAM_EMU_MODE=threads (cuda_emu.cpp) they are OS threads (std::thread, one per
//    CUDA thread, created per launch and reused for its blocks) meeting at mutex/condition-variable barriers. Both
//    enforce the same rules; fibers are about a thousand times cheaper per barrier on a small machine.
//  - threadIdx, blockIdx, blockDim and gridDim are thread_local variables, set for the running CUDA thread.
//  - __syncthreads() is a barrier over the block; __syncwarp(), the shuffles and __ballot_sync are barriers over the
//    32 lanes of a warp, with a per-warp exchange buffer. The emulator sees the whole block, so it FAILS LOUDLY
//    instead of hanging:
//      * a barrier that some threads reach after others have exited the kernel (divergent __syncthreads),
//      * every live thread waiting at barriers that cannot complete (e.g. lanes split between __syncwarp and
//        __syncthreads),
//    abort the launch: waiting threads unwind, the launch records the fault, and cudaGetLastError() returns
//    cudaErrorLaunchFailure with cudaGetErrorString() naming the block, the barrier and the counts.
//  - Shared memory is per block: dynamic (ENGRAM_DYNAMIC_SHARED) and static (ENGRAM_SHARED_ARRAY) arrays are
//    allocated per block and filled with 0xFF bytes (NaN as float) before each block, so a read before a write shows.
//  - Atomics are real host atomics on the same addresses. Warp-level calls must name the full warp in their mask
//    (partial masks are reported as a fault, not guessed at).
//  - The runtime API the library uses (cudaMalloc, cudaMemcpy, ... ) is host memory.
// Not emulated: memory-model subtleties (the emulator is sequentially consistent at barriers), streams (all work is
// synchronous), timing. Emulation is for correctness, never for speed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <cmath>
#include <string>
#include <tuple>

#include "../half_bits.h"

#define ENGRAM_EMULATION 1

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __grid_constant__
#define __align__(n) alignas(n)

struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
struct uint3 {
    unsigned x, y, z;
};
struct alignas(8) float2 {
    float x, y;
};
struct alignas(16) float4 {
    float x, y, z, w;
};
struct alignas(8) uint2 {
    unsigned x, y;
};
struct alignas(16) uint4 {
    unsigned x, y, z, w;
};

inline thread_local uint3 threadIdx;
inline thread_local uint3 blockIdx;
inline thread_local dim3 blockDim;
inline thread_local dim3 gridDim;
constexpr int warpSize = 32;

// ---- half precision types: bit containers with software conversion (round to nearest even) ----
struct __half {
    unsigned short x;
};
struct __nv_bfloat16 {
    unsigned short x;
};
inline __half __ushort_as_half(unsigned short v) { return __half{v}; }
inline __nv_bfloat16 __ushort_as_bfloat16(unsigned short v) { return __nv_bfloat16{v}; }
// widening shares engram.cu's host conversions (half_bits.h), so uploads and kernels agree bit for bit
inline float __half2float(__half h) { return engram::half_bits::f16_value(h.x); }
inline float __bfloat162float(__nv_bfloat16 h) { return engram::half_bits::bf16_value(h.x); }

// ---- device math the kernels use ----
// expf, logf, sqrtf, fmaxf, fminf, tanhf, fmaf come from <cmath> (the C library's float functions); the
// classification functions are global in CUDA device code, std:: here
using std::isfinite;
using std::isnan;
inline float __expf(float x) { return std::exp(x); }
inline float __uint_as_float(unsigned v) {
    float f;
    std::memcpy(&f, &v, 4);
    return f;
}
/** Arithmetic that nvcc never contracts into an FMA; plain operations here (the host build does not contract them). */
inline float __fsub_rn(float a, float b) { return a - b; }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline unsigned __float_as_uint(float f) {
    unsigned v;
    std::memcpy(&v, &f, 4);
    return v;
}
inline int __ffs(unsigned v) { return v == 0 ? 0 : __builtin_ctz(v) + 1; }
inline int __popc(unsigned v) { return __builtin_popcount(v); }

namespace emu {

[[noreturn]] void fault(const std::string& message);

/** Dynamic shared memory of the calling thread's block. */
void* dynamic_shared();
/** The block's static shared array identified by key (the address of a per-call-site static), n bytes. */
void* static_shared(const void* key, size_t bytes, size_t align);

void syncthreads();
void syncwarp(unsigned mask);
/** Exchanges 8 bytes per lane within the warp: writes mine, waits for the warp, returns lane src's. */
uint64_t exchange(unsigned mask, uint64_t mine, int src_lane);
unsigned ballot(unsigned mask, bool predicate);
/** Most bytes one lane contributes to exchange_all. */
constexpr size_t kExchangeAllBytes = 64;
/**
 * Warp-wide gather: every lane writes `bytes` (at most kExchangeAllBytes) from mine, waits for the warp, and receives
 * all lanes' contributions in lane order into all (32·bytes; lanes missing from a partial last warp read as zero).
 */
void exchange_all(unsigned mask, const void* mine, size_t bytes, void* all);
int lane_id();
/**
 * mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 d, a, b, c for the calling lane, with the PTX ISA's fragment
 * layouts (groupID g = lane/4, t = lane%4; elements low half first):
 *   A 16×16 a0..a7 in a[0..3]: row g (a0, a1, a4, a5) or g + 8 (a2, a3, a6, a7), col 2t + (i&1), +8 for i >= 4
 *   B 16×8  b0..b3 in b[0..1]: row (k) 2t + (i&1), +8 for i >= 2; col (n) g
 *   C, D 16×8 c0..c3:          row g (c0, c1) or g + 8 (c2, c3); col 2t + (i&1)
 * The products of bf16 values are exact in float; the sum of the 16 products and c is formed in double and rounded
 * once to float (at least as accurate as the hardware, whose order of accumulation is unspecified).
 */
void mma_m16n8k16_bf16(float d[4], const uint32_t a[4], const uint32_t b[2], const float c[4]);
/**
 * ldmatrix.sync.aligned.m8n8.x{count}{.trans}.shared.b16: lanes 8j..8j+7 give the row addresses of 8×8 matrix j
 * (16 bytes each); register j of lane l receives matrix j's elements (l/4, 2(l%4)) and (l/4, 2(l%4) + 1), or with
 * trans (2(l%4), l/4) and (2(l%4) + 1, l/4).
 */
void ldmatrix(uint32_t* r, int count, bool trans, const void* row);
/**
 * tanh.approx.f32 as the emulator models it: tanhf truncated toward zero to 11 significant bits, so the relative
 * error is below 2⁻¹⁰ — the size of the device instruction's documented maximum (about 2⁻¹¹), never smaller, so a
 * tolerance that passes here is not one that only an exact tanh would meet.
 */
float tanh_approx(float x);
/**
 * cp.async.{ca,cg}.shared.global [dst], [src], bytes, src_bytes (bytes 4, 8 or 16; the rest of dst zero-filled):
 * recorded for the calling thread and performed at the cp_async_wait that completes its group, as the hardware may
 * perform it at any time before then; meanwhile dst holds 0xff bytes (NaN as float, f16 and bf16), so a read before
 * the wait fails the cross-checks instead of passing by luck.
 */
void cp_async(void* dst, const void* src, int bytes, int src_bytes);
/** cp.async.commit_group: the copies issued since the last commit form one group. */
void cp_async_commit();
/** cp.async.wait_group n: waits until at most n of the calling thread's committed groups are outstanding. */
void cp_async_wait(int pending_groups);
/** Caps emulated device memory (cudaMalloc fails beyond it), so out-of-memory paths can be tested. */
void set_memory_limit(size_t bytes);
/** Bytes of emulated device memory currently allocated. */
size_t allocated();

template <typename T>
inline T shfl_impl(unsigned mask, T v, int src) {
    static_assert(sizeof(T) <= 8, "shuffles move at most 8 bytes");
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof(T));
    uint64_t got = exchange(mask, bits, src);
    T out;
    std::memcpy(&out, &got, sizeof(T));
    return out;
}

using KernelBody = void (*)(void*);
/** Runs body(args) as a grid; records a fault for cudaGetLastError(). */
void launch(dim3 grid, dim3 block, size_t shared_bytes, const char* name, void (*trampoline)(void*), void* args);

template <typename... P>
struct Launcher {
    void (*kernel)(P...);
    dim3 grid, block;
    size_t shared;
    const char* name;
    template <typename... A>
    void operator()(A&&... args) {
        struct Pack {
            void (*kernel)(P...);
            std::tuple<P...> values;
        } pack{kernel, std::tuple<P...>(static_cast<P>(args)...)};
        launch(grid, block, shared, name, [](void* p) {
            Pack* k = static_cast<Pack*>(p);
            std::apply(k->kernel, k->values);
        }, &pack);
    }
};
template <typename... P>
Launcher<P...> launcher(void (*kernel)(P...), dim3 grid, dim3 block, size_t shared, const char* name) {
    return Launcher<P...>{kernel, grid, block, shared, name};
}

}  // namespace emu

inline void __syncthreads() { emu::syncthreads(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) { emu::syncwarp(mask); }
template <typename T>
inline T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
    (void) width;
    return emu::shfl_impl(mask, v, src & 31);
}
template <typename T>
inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
    (void) width;
    return emu::shfl_impl(mask, v, (emu::lane_id() ^ lane_mask) & 31);
}
template <typename T>
inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    (void) width;
    int src = emu::lane_id() + (int) delta;
    return emu::shfl_impl(mask, v, src > 31 ? emu::lane_id() : src);  // out of range: own value, as on the GPU
}
inline unsigned __ballot_sync(unsigned mask, int predicate) { return emu::ballot(mask, predicate != 0); }
inline int __any_sync(unsigned mask, int predicate) { return emu::ballot(mask, predicate != 0) != 0; }
inline int __all_sync(unsigned mask, int predicate) { return emu::ballot(mask, predicate != 0) == mask; }

inline float atomicAdd(float* p, float v) {
    float old;
    unsigned expected = __atomic_load_n(reinterpret_cast<unsigned*>(p), __ATOMIC_RELAXED);
    for (;;) {
        std::memcpy(&old, &expected, 4);
        float nv = old + v;
        unsigned desired;
        std::memcpy(&desired, &nv, 4);
        if (__atomic_compare_exchange_n(reinterpret_cast<unsigned*>(p), &expected, desired, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST)) {
            return old;
        }
    }
}
inline int atomicAdd(int* p, int v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
inline unsigned atomicAdd(unsigned* p, unsigned v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) {
    return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}
inline int atomicMax(int* p, int v) {
    int old = __atomic_load_n(p, __ATOMIC_RELAXED);
    while (old < v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    }
    return old;
}
inline int atomicMin(int* p, int v) {
    int old = __atomic_load_n(p, __ATOMIC_RELAXED);
    while (old > v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    }
    return old;
}
inline int atomicExch(int* p, int v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
inline int atomicCAS(int* p, int compare, int v) {
    __atomic_compare_exchange_n(p, &compare, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return compare;
}
inline unsigned long long atomicCAS(unsigned long long* p, unsigned long long compare, unsigned long long v) {
    __atomic_compare_exchange_n(p, &compare, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return compare;
}
inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

// ---- the slice of the runtime API the library uses; "device" memory is host memory ----
enum cudaError_t {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInvalidConfiguration = 9,
    cudaErrorNoDevice = 100,
    cudaErrorLaunchFailure = 719,
};
enum cudaMemcpyKind {
    cudaMemcpyHostToHost = 0,
    cudaMemcpyHostToDevice = 1,
    cudaMemcpyDeviceToHost = 2,
    cudaMemcpyDeviceToDevice = 3,
};
enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize = 8 };
struct cudaDeviceProp {
    char name[256];
    int multiProcessorCount;
    size_t sharedMemPerBlock;
    size_t sharedMemPerBlockOptin;
    size_t totalGlobalMem;
    int major, minor;
    int maxThreadsPerBlock;
};

cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device);
cudaError_t cudaMalloc(void** p, size_t bytes);
cudaError_t cudaFree(void* p);
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpy2D(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height,
                         cudaMemcpyKind kind);
cudaError_t cudaMemset(void* p, int value, size_t bytes);
cudaError_t cudaDeviceSynchronize();
cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();
const char* cudaGetErrorString(cudaError_t e);
template <typename F>
inline cudaError_t cudaFuncSetAttribute(F, cudaFuncAttribute, int) {
    return cudaSuccess;
}

// Streams: every call is synchronous here, so a stream is only a non-null token and the async calls are the plain ones.
typedef struct emu_stream_token* cudaStream_t;
constexpr unsigned cudaStreamNonBlocking = 1;
inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned) {
    static char token;
    *s = reinterpret_cast<cudaStream_t>(&token);
    return cudaSuccess;
}
inline cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
inline cudaError_t cudaStreamDestroy(cudaStream_t) { return cudaSuccess; }
inline cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
    return cudaMemcpy(dst, src, bytes, kind);
}
inline cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t) { return cudaMemset(p, value, bytes); }
/** Pinned host memory is ordinary host memory here (not counted by engram_emu_memory_limit: it is not device memory). */
inline cudaError_t cudaMallocHost(void** p, size_t bytes) {
    *p = std::malloc(bytes == 0 ? 1 : bytes);
    return *p == nullptr ? cudaErrorMemoryAllocation : cudaSuccess;
}
inline cudaError_t cudaFreeHost(void* p) {
    std::free(p);
    return cudaSuccess;
}

#define ENGRAM_LAUNCH(kernel, grid, block, shared) ::emu::launcher(kernel, grid, block, shared, #kernel)
#define ENGRAM_LAUNCH_ON(kernel, grid, block, shared, stream) ::emu::launcher(kernel, grid, block, shared, #kernel)
#define ENGRAM_DYNAMIC_SHARED(T, name) T* name = static_cast<T*>(::emu::dynamic_shared())
#define ENGRAM_SHARED_ARRAY(T, name, n) \
    static const char name##_emu_key = 0; \
    T* name = static_cast<T*>(::emu::static_shared(&name##_emu_key, sizeof(T) * (n), alignof(T)))

