// integrate.cuh: what the integration kernels (integrate.cu: FP32, one thread per trajectory; integrate_tc.cu:
// tensor cores, warp tiles) and the C ABI (engram.cu) share: the network descriptors, the kernel arguments, Philox
// and the launchers.
#pragma once

#include "engram_cuda.cuh"

#include <cstdint>

namespace engram {

constexpr int kMaxNetLayers = ENGRAM_MAX_NET_LAYERS;
constexpr int kMaxNets = 3;

/** One tanh MLP inside the packed parameter buffer (IntegrateArgs::params). */
struct NetDesc {
    int layers;                        // affine layers; 0 = unused slot
    int widths[kMaxNetLayers + 1];
    int w_off[kMaxNetLayers];          // W_l: widths[l+1] x widths[l], row-major, at params + w_off[l]
    int b_off[kMaxNetLayers];          // b_l at params + b_off[l]
    int act_off[kMaxNetLayers];        // workspace offset (floats) of hidden activation l (l < layers - 1)
};

/** Offsets (in floats, per thread) of the FP32 kernel's per-trajectory buffers in its workspace. */
struct Scratch {
    int x, prev, grad, field, tmp, ksum, copy, force, aux, inforce, delta, g;
    int floats;  // per thread
};

/** Everything a launch needs; passed by value (__grid_constant__ on the device: no copy to local memory). */
struct IntegrateArgs {
    const float* params;  // every network's W and b, packed as NetDesc says
    NetDesc nets[kMaxNets];
    int kind, scheme, n, m, steps, sample_every, sample_count;
    float dt, sigma_q, sigma_p, noise;
    float tao_c, tao_s;  // cos(2ωh), sin(2ωh), rounded to float as the cpu engine does
    double amp;          // noise·√h in double, as the Java engines
    unsigned long long seed;
    long long first, count;
    const float* inputs;  // steps×m or null
    const float* init;    // count×2n (this range's rows) or null
    const float* q0;
    const float* p0;
    float* samples;       // sample_count × count × (2n+1)
    float* finals;        // count × 2n
    int* diverged;        // count
    float* ws;            // FP32 kernel: threads × Scratch::floats, element k of thread t at ws[k·threads + t]
    Scratch scratch;
};

/** The step of sample s: s·e for s < S − 1, and always `steps` for the last (EnsembleSpec.sampleSteps). */
__host__ __device__ inline int sample_step(int s, int count, int every, int steps) {
    return s == count - 1 ? steps : s * (every == 0 ? steps : every);
}

/** Number of samples (EnsembleSpec.sampleCount): 2 when every is 0 or >= steps, else ceil(steps/every) + 1. */
__host__ __device__ inline long long sample_count(int steps, int every) {
    if (every == 0 || every >= steps) return 2;
    return ((long long) steps + every - 1) / every + 1;
}

/** Philox4x32-10 (dev.engram.engine.Philox.block): counter c, key (k0, k1). */
__host__ __device__ inline void philox4x32_10(uint32_t c[4], uint32_t k0, uint32_t k1) {
    for (int round = 0; round < 10; round++) {
        const uint64_t p0 = (uint64_t) 0xD2511F53u * c[0];
        const uint64_t p1 = (uint64_t) 0xCD9E8D57u * c[2];
        const uint32_t hi0 = (uint32_t) (p0 >> 32), lo0 = (uint32_t) p0;
        const uint32_t hi1 = (uint32_t) (p1 >> 32), lo1 = (uint32_t) p1;
        const uint32_t n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
        c[0] = n0;
        c[1] = lo1;
        c[2] = n2;
        c[3] = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
}

/**
 * Four standard normals for (seed, stream, step, group), as dev.engram.engine.Philox.gaussians: Box–Muller in
 * double on the uniforms (b + 0.5)·2⁻³², pairs (0, 1) and (2, 3): r·cos(2πu₂), r·sin(2πu₂), r = √(−2 ln u₁).
 */
__host__ __device__ inline void philox_gaussians(unsigned long long seed, long long stream, int step, int group,
                                                 double out[4]) {
    uint32_t c[4] = {(uint32_t) stream, (uint32_t) ((unsigned long long) stream >> 32), (uint32_t) step,
                     (uint32_t) group};
    philox4x32_10(c, (uint32_t) seed, (uint32_t) (seed >> 32));
    const double inv = 1.0 / 4294967296.0;
    const double two_pi = 2 * 3.141592653589793;
    for (int i = 0; i < 4; i += 2) {
        const double u1 = ((double) c[i] + 0.5) * inv, u2 = ((double) c[i + 1] + 0.5) * inv;
        const double r = sqrt(-2 * log(u1));
        out[i] = r * cos(two_pi * u2);
        out[i + 1] = r * sin(two_pi * u2);
    }
}

/**
 * Element e (0..3) of philox_gaussians(seed, stream, step, group), computing only its Box–Muller pair; the counter
 * words are chosen by selects, not by a run-time array index (which would put them in local memory on the device).
 */
__host__ __device__ inline double philox_gaussian(unsigned long long seed, long long stream, int step, int group,
                                                  int e) {
    uint32_t c[4] = {(uint32_t) stream, (uint32_t) ((unsigned long long) stream >> 32), (uint32_t) step,
                     (uint32_t) group};
    philox4x32_10(c, (uint32_t) seed, (uint32_t) (seed >> 32));
    const uint32_t b1 = e < 2 ? c[0] : c[2], b2 = e < 2 ? c[1] : c[3];
    const double inv = 1.0 / 4294967296.0;
    const double u1 = ((double) b1 + 0.5) * inv, u2 = ((double) b2 + 0.5) * inv;
    const double r = sqrt(-2 * log(u1));
    return (e & 1) ? r * sin(2 * 3.141592653589793 * u2) : r * cos(2 * 3.141592653589793 * u2);
}

/** The FP32 kernel (integrate.cu): `threads` per block, `blocks` blocks looping over the range's trajectories. */
cudaError_t launch_integrate_fp32(const IntegrateArgs& a, int blocks, int threads, cudaStream_t stream = 0);

/** Whether the tensor-core kernel (integrate_tc.cu) serves this model; else why not, into why[0..cap). */
bool tensor_kernel_supports(const IntegrateArgs& a, char* why, int cap);
/** Dynamic shared memory of one tensor-kernel block with `warps` warps of `tile` trajectories. */
int tensor_kernel_shared_bytes(const IntegrateArgs& a, int warps, int tile);
/** Bytes of packed bf16 weights the tensor kernel reads (the host packs them with pack_tensor_weights). */
long long tensor_kernel_weight_bytes(const IntegrateArgs& a);
/** Packs the Hamiltonian's weights (from host params) into the tensor kernel's layout at dst (host memory). */
void pack_tensor_weights(const IntegrateArgs& a, const float* host_params, void* dst);
/** Byte offsets of the tensor kernel's weight image for hidden width h: W1, W2, b1, b2, w3, b3, and its size. */
void tensor_weights_layout(int h, int out[7]);
/** The tensor kernel: `warps` warps per block, `tile` (16 or 32) trajectories per warp, packed weights on device. */
cudaError_t launch_integrate_tensor(const IntegrateArgs& a, const void* packed, int blocks, int warps, int tile,
                                    cudaStream_t stream = 0);

}  // namespace engram

// The kernels under C names (integrate.cu, integrate_tc.cu), for driver-API callers (the JCuda engine, through the
// fatbins): the FP32 kernel, and the tensor kernel per hidden width h (tile 16, or 32 for h <= 32).
extern "C" {
__global__ void engram_kernel_integrate_fp32(const __grid_constant__ engram::IntegrateArgs a);
__global__ void engram_kernel_integrate_tc_h16(const __grid_constant__ engram::IntegrateArgs a, const unsigned char* packed);
__global__ void engram_kernel_integrate_tc_h32(const __grid_constant__ engram::IntegrateArgs a, const unsigned char* packed);
__global__ void engram_kernel_integrate_tc_h64(const __grid_constant__ engram::IntegrateArgs a, const unsigned char* packed);
__global__ void engram_kernel_integrate_tc_h128(const __grid_constant__ engram::IntegrateArgs a, const unsigned char* packed);
__global__ void engram_kernel_integrate_tc_h16_tile32(const __grid_constant__ engram::IntegrateArgs a,
                                                      const unsigned char* packed);
__global__ void engram_kernel_integrate_tc_h32_tile32(const __grid_constant__ engram::IntegrateArgs a,
                                                      const unsigned char* packed);
}
