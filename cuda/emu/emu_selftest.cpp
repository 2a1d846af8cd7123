// emu_selftest.cpp: checks the host emulation of the CUDA execution model itself (run by native-build/build.sh).
// Each case launches a tiny kernel and compares with what a GPU must produce; the fault cases check that a
// barrier reached by only part of a block fails loudly (an error from cudaGetLastError naming the barrier)
// instead of hanging.
#include "engram_cuda.cuh"
#include "mma_bf16.cuh"

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

// Tensor-core fragments: A (16×16), B (16×16: two n-tiles of 8) and C (16×16) from global memory; D = A·B + C through
// (1) fragments built from the PTX ISA's layout formulas, (2) ldmatrix.x4 of A and B stored n-major ([n][k]),
// (3) ldmatrix.x4.trans of B stored k-major ([k][n]), plus ldmatrix.x2 and .x2.trans for one n-tile. Each lane also
// reports its A registers from ldmatrix.x4 so that they can be checked against the per-lane table of the ISA.
__global__ void mma_kernel(const float* A, const float* B, const float* C, float* d_formula, float* d_ldsm,
                           float* d_ldsm_t, float* d_x2, uint32_t* a_regs) {
    constexpr int S = 24;  // row stride in bf16 (48 bytes: rows 16-byte aligned, as the kernels pad theirs)
    ENGRAM_SHARED_ARRAY(uint16_t, as, 16 * S);
    ENGRAM_SHARED_ARRAY(uint16_t, bn, 16 * S);  // bn[n][k] = B[k][n]
    ENGRAM_SHARED_ARRAY(uint16_t, bk, 16 * S);  // bk[k][n] = B[k][n]
    const int lane = threadIdx.x, g = lane >> 2, t = lane & 3;
    if (lane == 0) {
        for (int r = 0; r < 16; r++) {
            for (int c = 0; c < 16; c++) {
                as[r * S + c] = engram::half_bits::bf16_of(A[r * 16 + c]);
                bn[c * S + r] = engram::half_bits::bf16_of(B[r * 16 + c]);
                bk[r * S + c] = engram::half_bits::bf16_of(B[r * 16 + c]);
            }
        }
    }
    __syncwarp();
    auto store = [&](float* out, int ntile, const float d[4]) {
        for (int i = 0; i < 4; i++) out[((i < 2) ? g : g + 8) * 16 + ntile * 8 + 2 * t + (i & 1)] = d[i];
    };
    float c[2][4];
    for (int nt = 0; nt < 2; nt++)
        for (int i = 0; i < 4; i++) c[nt][i] = C[((i < 2) ? g : g + 8) * 16 + nt * 8 + 2 * t + (i & 1)];
    // (1) the formulas
    uint32_t a[4], b[2][2];
    for (int r = 0; r < 4; r++) {
        float v[2];
        for (int h = 0; h < 2; h++) {
            const int i = 2 * r + h;
            const int row = (i < 2 || (i >= 4 && i < 6)) ? g : g + 8;
            const int col = 2 * t + (i & 1) + (i >= 4 ? 8 : 0);
            v[h] = A[row * 16 + col];
        }
        a[r] = engram::bf16x2(v[0], v[1]);
    }
    for (int nt = 0; nt < 2; nt++)
        for (int r = 0; r < 2; r++)
            b[nt][r] = engram::bf16x2(B[(2 * t + 8 * r) * 16 + nt * 8 + g], B[(2 * t + 1 + 8 * r) * 16 + nt * 8 + g]);
    float d[4];
    for (int nt = 0; nt < 2; nt++) {
        engram::mma_16816(d, a, b[nt], c[nt]);
        store(d_formula, nt, d);
    }
    // (2) ldmatrix: A's four 8×8 blocks (rows 0–7/8–15 × cols 0–7/8–15), then B n-major: for n-tile nt the blocks
    // (n rows nt·8.., k cols 0–7) and (k cols 8–15)
    uint32_t la[4], lb[4];
    engram::ldsm_x4(la, &as[((lane & 7) + 8 * ((lane >> 3) & 1)) * S + 8 * (lane >> 4)]);
    for (int r = 0; r < 4; r++) a_regs[lane * 4 + r] = la[r];
    engram::ldsm_x4(lb, &bn[((lane & 7) + 8 * (lane >> 4)) * S + 8 * ((lane >> 3) & 1)]);
    for (int nt = 0; nt < 2; nt++) {
        const uint32_t bb[2] = {lb[2 * nt], lb[2 * nt + 1]};
        engram::mma_16816(d, la, bb, c[nt]);
        store(d_ldsm, nt, d);
    }
    // (3) ldmatrix.trans of k-major B: blocks (k rows 0–7, n cols nt·8..), (k rows 8–15, ...)
    engram::ldsm_x4_t(lb, &bk[((lane & 7) + 8 * ((lane >> 3) & 1)) * S + 8 * (lane >> 4)]);
    for (int nt = 0; nt < 2; nt++) {
        const uint32_t bb[2] = {lb[2 * nt], lb[2 * nt + 1]};
        engram::mma_16816(d, la, bb, c[nt]);
        store(d_ldsm_t, nt, d);
    }
    // (4) the .x2 forms: n-tile 0 from n-major B, n-tile 1 from k-major B (lanes 16–31 give ignored addresses)
    uint32_t b2[2];
    engram::ldsm_x2(b2, &bn[(lane & 7) * S + 8 * ((lane >> 3) & 1)]);
    engram::mma_16816(d, la, b2, c[0]);
    store(d_x2, 0, d);
    engram::ldsm_x2_t(b2, &bk[((lane & 7) + 8 * ((lane >> 3) & 1)) * S + 8]);
    engram::mma_16816(d, la, b2, c[1]);
    store(d_x2, 1, d);
}

static float bf16_round(float f) { return engram::half_bits::bf16_value(engram::half_bits::bf16_of(f)); }

static void test_mma() {
    // A[r][c] = 16r + c (exact in bf16) so that registers can be compared with the ISA's tables by value; B and C
    // pseudo-random, B rounded to bf16 so the expected product is exact.
    std::vector<float> A(256), B(256), C(256);
    uint32_t x = 12345;
    auto rnd = [&]() {
        x = x * 1664525u + 1013904223u;
        return (float) ((x >> 8) & 0xffff) / 65536.f - 0.5f;
    };
    for (int i = 0; i < 256; i++) {
        A[i] = (float) i;
        B[i] = bf16_round(rnd());
        C[i] = rnd();
    }
    std::vector<float> df(256, -1), dl(256, -1), dt(256, -1), d2(256, -1);
    std::vector<uint32_t> regs(128);
    ENGRAM_LAUNCH(mma_kernel, dim3(1), dim3(32), 0)(A.data(), B.data(), C.data(), df.data(), dl.data(), dt.data(),
                                                   d2.data(), regs.data());
    CHECK(cudaGetLastError() == cudaSuccess, "mma launch failed");
    double worst = 0;
    for (int r = 0; r < 16; r++) {
        for (int c = 0; c < 16; c++) {
            double want = C[r * 16 + c];
            for (int k = 0; k < 16; k++) want += (double) A[r * 16 + k] * B[k * 16 + c];
            for (const std::vector<float>* got : {&df, &dl, &dt, &d2}) {
                const double e = std::fabs((*got)[r * 16 + c] - want) / (1 + std::fabs(want));
                worst = std::max(worst, e);
            }
        }
    }
    CHECK(worst <= 1e-6, "mma m16n8k16 (formula, ldmatrix x4/x4.trans/x2/x2.trans fragments) vs A·B + C: worst "
                         "relative error %g",
          worst);
    // The ISA's A table: lane l = 4g + t holds {A[g][2t], A[g][2t+1]}, {A[g+8][2t], ..}, {A[g][2t+8], ..},
    // {A[g+8][2t+8], ..}; written out for lanes 0, 5 and 31.
    const int lanes[3] = {0, 5, 31};
    const float table[3][8] = {{0, 1, 128, 129, 8, 9, 136, 137},
                               {18, 19, 146, 147, 26, 27, 154, 155},
                               {118, 119, 246, 247, 126, 127, 254, 255}};
    for (int i = 0; i < 3; i++) {
        for (int r = 0; r < 4; r++) {
            const uint32_t v = regs[lanes[i] * 4 + r];
            const float lo = engram::half_bits::bf16_value((uint16_t) (v & 0xffff));
            const float hi = engram::half_bits::bf16_value((uint16_t) (v >> 16));
            CHECK(lo == table[i][2 * r] && hi == table[i][2 * r + 1],
                  "ldmatrix.x4 lane %d register %d holds (%g, %g), the PTX table says (%g, %g)", lanes[i], r,
                  (double) lo, (double) hi, (double) table[i][2 * r], (double) table[i][2 * r + 1]);
        }
    }
    std::printf("  mma.m16n8k16 bf16 and ldmatrix x2/x4 (.trans): worst relative error %g\n", worst);
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
    test_mma();
    test_fault(divergent_kernel, "divergent __syncthreads", "__syncthreads");
    test_fault(deadlock_kernel, "__syncwarp/__syncthreads split", "deadlock");
    test_reduce();  // the emulator still works after faults
    if (failures == 0) std::printf("emu_selftest: all checks passed\n");
    return failures == 0 ? 0 : 1;
}
