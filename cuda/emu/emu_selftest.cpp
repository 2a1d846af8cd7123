// emu_selftest.cpp: checks the host emulation of the CUDA execution model itself (run by native-build/build.sh).
// Each case launches a tiny kernel and compares with what a GPU must produce; the fault cases check that a
// barrier reached by only part of a block fails loudly (an error from cudaGetLastError naming the barrier)
// instead of hanging.
#include "engram_cuda.cuh"

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

static int failures = 0;

#define CHECK(cond, ...)                                  \
    do {                                                  \
        if (!(cond)) {                                    \
            std::fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            std::fprintf(stderr, __VA_ARGS__);            \
            std::fprintf(stderr, "\n");                   \
            failures++;                                   \
        }                                                 \
    } while (0)

// Block-wide sum through shared memory and __syncthreads, warp sums by __shfl_xor_sync / __shfl_down_sync.
__global__ void reduce_kernel(const int* in, int n, int* block_sums, int* warp_xor, int* warp_down) {
    ENGRAM_SHARED_ARRAY(int, part, 1024);
    const int tid = threadIdx.x;
    const int i = blockIdx.x * blockDim.x + tid;
    const int v = i < n ? in[i] : 0;
    part[tid] = v;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (tid < s) part[tid] += part[tid + s];
        __syncthreads();
    }
    if (tid == 0) block_sums[blockIdx.x] = part[0];
    int x = v, d = v;
    for (int o = 16; o > 0; o >>= 1) {
        x += __shfl_xor_sync(0xffffffffu, x, o);
        d += __shfl_down_sync(0xffffffffu, d, o);
    }
    if ((tid & 31) == 0) {
        warp_xor[i / 32] = x;
        warp_down[i / 32] = d;
    }
}

// Ballot, __shfl_sync broadcast, atomics on global memory, dynamic shared memory.
__global__ void misc_kernel(int* counter, float* fsum, unsigned* ballots, long long* bcast) {
    ENGRAM_DYNAMIC_SHARED(float, dyn);
    const int tid = threadIdx.x, lane = tid & 31;
    dyn[tid] = (float) tid;
    __syncthreads();
    atomicAdd(counter, 1);
    atomicAdd(fsum, dyn[blockDim.x - 1 - tid]);
    const unsigned b = __ballot_sync(0xffffffffu, (lane % 3) == 0);
    if (lane == 0) ballots[tid / 32] = b;
    const long long big = (long long) tid << 40;
    const long long got = __shfl_sync(0xffffffffu, big, 7);
    if (lane == 0) bcast[tid / 32] = got;
}

// A __syncthreads inside a branch only half the block takes: must fail loudly.
__global__ void divergent_kernel(int* out) {
    if (threadIdx.x < blockDim.x / 2) {
        __syncthreads();
        out[threadIdx.x] = 1;
    }
}

// Half of warp 0 waits at __syncwarp while everyone else waits at __syncthreads: neither can complete, a deadlock
// the emulator must report rather than wait out.
__global__ void deadlock_kernel(int* out) {
    if (threadIdx.x < 16) {
        __syncwarp();
    } else {
        __syncthreads();
    }
    out[threadIdx.x] = 1;
}

static void test_reduce() {
    const int threads = 128, blocks = 3, n = threads * blocks - 5;
    std::vector<int> in(n);
    for (int i = 0; i < n; i++) in[i] = (i * 37) % 101 - 50;
    std::vector<int> sums(blocks), wx(threads * blocks / 32), wd(threads * blocks / 32);
    ENGRAM_LAUNCH(reduce_kernel, dim3(blocks), dim3(threads), 0)(in.data(), n, sums.data(), wx.data(), wd.data());
    CHECK(cudaGetLastError() == cudaSuccess, "reduce launch failed");
    for (int b = 0; b < blocks; b++) {
        int expect = 0;
        for (int i = b * threads; i < std::min(n, (b + 1) * threads); i++) expect += in[i];
        CHECK(sums[b] == expect, "block %d sum %d, expected %d", b, sums[b], expect);
    }
    for (size_t w = 0; w < wx.size(); w++) {
        int expect = 0;
        for (int i = (int) w * 32; i < std::min(n, (int) w * 32 + 32); i++) expect += in[i];
        CHECK(wx[w] == expect, "warp %zu xor-sum %d, expected %d", w, wx[w], expect);
        CHECK(wd[w] == expect, "warp %zu down-sum %d, expected %d", w, wd[w], expect);
    }
}

static void test_misc() {
    const int threads = 96;
    int counter = 0;
    float fsum = 0;
    unsigned ballots[3];
    long long bcast[3];
    ENGRAM_LAUNCH(misc_kernel, dim3(4), dim3(threads), threads * sizeof(float))(&counter, &fsum, ballots, bcast);
    CHECK(cudaGetLastError() == cudaSuccess, "misc launch failed");
    CHECK(counter == 4 * threads, "atomic counter %d, expected %d", counter, 4 * threads);
    CHECK(fsum == 4.f * (threads * (threads - 1) / 2), "atomic float sum %g", (double) fsum);
    unsigned expect = 0;
    for (int l = 0; l < 32; l += 3) expect |= 1u << l;
    for (int w = 0; w < 3; w++) {
        CHECK(ballots[w] == expect, "ballot of warp %d: %08x, expected %08x", w, ballots[w], expect);
        CHECK(bcast[w] == ((long long) (w * 32 + 7) << 40), "64-bit broadcast of warp %d: %lld", w, bcast[w]);
    }
}

static void test_fault(void (*kernel)(int*), const char* name, const char* must_mention) {
    std::vector<int> out(64, 0);
    ENGRAM_LAUNCH(kernel, dim3(2), dim3(64), 0)(out.data());
    cudaError_t e = cudaGetLastError();
    CHECK(e == cudaErrorLaunchFailure, "%s: expected a launch failure, got %d", name, (int) e);
    const char* msg = cudaGetErrorString(e);
    CHECK(std::strstr(msg, must_mention) != nullptr, "%s: message '%s' should mention '%s'", name, msg, must_mention);
    std::printf("  %s fails loudly: %s\n", name, msg);
    CHECK(cudaGetLastError() == cudaSuccess, "%s: error not cleared", name);
}

int main() {
    test_reduce();
    test_misc();
    test_fault(divergent_kernel, "divergent __syncthreads", "__syncthreads");
    test_fault(deadlock_kernel, "__syncwarp/__syncthreads split", "deadlock");
    test_reduce();  // the emulator still works after faults
    if (failures == 0) std::printf("emu_selftest: all checks passed\n");
    return failures == 0 ? 0 : 1;
}
