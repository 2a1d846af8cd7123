// integrate_tc.cu: batched integration on tensor cores — the general Hamiltonian H = [2n, h, h, 1] (tanh hidden
// layers) with the seed's leapfrog (½p, q, ½p; three ∇H per step), h ∈ {16, 32, 64, 128}, n ≤ 8.
//
// Version 2 (version 1, the FP32 reference for every kind and scheme, is integrate.cu). Ownership:
//   - a warp owns a tile of 16·MT trajectories (MT = 1 or 2 m-tiles of 16; tile = 16 or 32), a block of W warps
//     owns W tiles at a time and loops over tiles with a grid stride; there is no __syncthreads after the weights
//     are staged, so warps run independently.
//   - lane l = 4g + t of a warp holds, for each m-tile, trajectories g and g + 8 and the coordinate pairs
//     (q_j, p_j) for j = t and j = t + 4: the state lives in registers in the accumulator layout of a 16×16 matrix
//     whose columns are the interleaved inputs (q_0, p_0, q_1, p_1, ...). That is also the layout of the A operand
//     of the first layer (so the state becomes an A fragment by converting registers, no shuffles) and of the
//     gradient ∇ₓH coming out of the last backward product (so the leapfrog kicks and drifts are in-lane FMAs).
//   - every layer product is mma.sync m16n8k16 (bf16 in, FP32 accumulate). The FP32 accumulator fragments of two
//     adjacent 8-column n-tiles are exactly the A fragment of the next product's 16-wide k-tile (rows g, g + 8;
//     columns 2t, 2t + 1, and + 8), so activations go from one layer to the next as converted registers:
//       forward   Z1 = X·W1ᵀ + b1 (X split into bf16 hi + lo: two mma, so the state is not rounded to bf16),
//                 A1 = tanh Z1;  Z2 = A1·W2ᵀ + b2,  A2 = tanh Z2
//       backward  Δ2 = w3 ⊙ (1 − A2²);  G1 = Δ2·W2;  Δ1 = G1 ⊙ (1 − A1²);  ∇ₓH = Δ1·W1
//     (that reuse is what bf16 m16n8k16 offers; the TF32 m16n8k8 A and C layouts differ.)
// Shared memory (per block, the packed image the host prepares, copied with 16-byte loads):
//   W1 [h][24] bf16 (columns interleaved q/p, zero-padded to 16, +8 bf16 of padding), W2 [h][h + 8] bf16, then
//   b1, b2, w3 [h] f32 and b3. The +8 padding makes the 8 rows an ldmatrix reads fall in 8 different 16-byte bank
//   groups (row strides of 48 and 2h + 16 bytes), so the B-fragment loads are free of bank conflicts. The forward
//   products read W as stored (ldmatrix), the backward products read it transposed (ldmatrix.trans): one copy.
//   h = 64: 3.1 KB + 9.2 KB + 0.8 KB ≈ 13 KB; h = 128: ≈ 42 KB.
// tanh: tanh.approx.f32 (one MUFU op, relative error about 2⁻¹¹); the emulator models it with < 2⁻¹⁰
// (cuda/emu). Noise: Philox4x32-10 exactly as integrate.cu and dev.engram.engine.Philox (same bits for the same
// (seed, trajectory, step)), turned into normals by Box–Muller in float (error ~1e-6) rather than double.
//
// Cost per trajectory-step at h = 64, n <= 4 (three ∇H; per ∇H and 16 trajectories: layer 1 forward 2·h/8 = 16
// mma (hi + lo), layer 2 forward h²/128 = 32, layer 2 backward 32, layer 1 backward h/16 = 4; 84 mma of
// 16·8·16·2 = 4096 FLOP):
//   tensor FLOPs  3·84·4096/16 = 64.5 k per trajectory-step (useful: 3·(4h² + 8nh) = 50.7 k at n = 1; the rest is
//                 the padding of 2n to 16 and the lo half of the state)
//   tanh          3·2·h = 384 (MUFU)
//   other issue   per warp and ∇H: 38 ldmatrix.x4, ~6 FMA/convert/select per hidden element of each layer
//                 (2 layers · 32 elements per lane · 6 = 384), the leapfrog update: ≈ 510 warp instructions per
//                 16 trajectories, i.e. ~96 per trajectory-step
//   bytes         none from DRAM inside the loop (weights in shared memory, state in registers); a sample writes
//                 (2n + 1)·4 bytes per trajectory.
// Registers (ptxas, CUDA 13.0, sm_90): tile 16: h = 16: 79, 32: 104, 64: 188, 128: 255 with ~370 B of spills;
// tile 32: h = 16: 122, 32: 140 (tile 32 at h = 64 spills, so the host admits it for h <= 32 only).
// Expected H100 SXM (132 SMs, 1.755 GHz boost): tensor (mma.sync bf16, ~500 TFLOP/s sustainable of the 989 peak)
// 500e12 / 64.5e3 = 7.8e9 trajectory-steps/s; MUFU (16 per SM per clock = 3.7e12 tanh/s) / 384 = 9.7e9; issue
// (4 warp-instructions per SM per clock = 9.3e11/s) / 96 = 9.7e9. The three limits are within 25% of each other,
// and at 188 registers only 8 warps fit on an SM (2 per scheduler), so latency is hidden by the independent n-tile
// chains of one warp rather than by other warps: expected ~3–5e9 trajectory-steps/s (40–50% of the MUFU limit)
// against the goal of 2e9. Not measured (no GPU here); cuda/PERFORMANCE.md has the derivation.
#include "half_bits.h"
#include "integrate.cuh"
#include "mma_bf16.cuh"

#include <cmath>
#include <cstdio>
#include <cstring>

namespace engram {
namespace {

constexpr int kS1 = 24;  // W1 row stride in bf16: 16 inputs + 8 padding

/** Byte offsets of the packed weight image (global) = the shared-memory layout. */
struct TcLayout {
    int w1, w2, b1, b2, w3, b3, bytes;
};

__host__ __device__ inline TcLayout tc_layout(int h) {
    TcLayout l{};
    l.w1 = 0;
    l.w2 = l.w1 + h * kS1 * 2;
    l.b1 = l.w2 + h * (h + 8) * 2;
    l.b2 = l.b1 + h * 4;
    l.w3 = l.b2 + h * 4;
    l.b3 = l.w3 + h * 4;
    l.bytes = l.b3 + 16;
    return l;
}

/** One standard normal, element e (0..3) of Philox block (seed, stream, step, group), Box–Muller in float. */
__device__ __forceinline__ float philox_normal_f(unsigned long long seed, long long stream, int step, int group, int e) {
    uint32_t c[4] = {(uint32_t) stream, (uint32_t) ((unsigned long long) stream >> 32), (uint32_t) step,
                     (uint32_t) group};
    philox4x32_10(c, (uint32_t) seed, (uint32_t) (seed >> 32));
    const uint32_t b1 = e < 2 ? c[0] : c[2], b2 = e < 2 ? c[1] : c[3];  // selects: no local-memory array
    const float u1 = ((float) b1 + 0.5f) * 2.3283064365386963e-10f;
    const float v1 = ((float) (~b1) + 0.5f) * 2.3283064365386963e-10f;  // 1 − u1, exact where u1 rounds near 1
    const float lg = u1 < 0.5f ? logf(u1) : log1pf(-v1);
    const float r = sqrtf(-2.f * lg);
    const float u2 = ((float) b2 + 0.5f) * 2.3283064365386963e-10f;
    const float ang = 6.283185307179586f * u2;
    return (e & 1) ? r * sinf(ang) : r * cosf(ang);
}

/** The backward half of one ∇H: from Δ2 (and A1 for the tanh derivative) to ∇ₓH, see mlp. */
template <int KT, int MT>
__device__ __forceinline__ void backward(const uint16_t* w1, const uint16_t* w2, bool two_state_tiles,
                                         const uint32_t (&a1p)[MT][KT][4], const uint32_t (&d2p)[MT][KT][4],
                                         float (&gx)[MT][2][4]) {
    constexpr int NT = 2 * KT, S2 = 16 * KT + 8;
    const int lane = threadIdx.x & 31;
    const int r8 = lane & 7, m1 = (lane >> 3) & 1, m2 = lane >> 4;
    // ---- layer 2 backward: G1 = Δ2·W2 (B[k = i][n = j] = W2[i][j]: W2 read transposed), Δ1 = G1 ⊙ (1 − A1²)
    uint32_t d1p[MT][KT][4];
#pragma unroll
    for (int j = 0; j < NT; j += 2) {
        float g[MT][2][4];
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int h2 = 0; h2 < 2; h2++)
#pragma unroll
                for (int i = 0; i < 4; i++) g[mt][h2][i] = 0.f;
#pragma unroll
        for (int kt = 0; kt < KT; kt++) {
            uint32_t b[4];  // W2 rows 16kt.. / 16kt+8.. (k), columns 8j.. / 8j+8.. (n), transposed on load
            ldsm_x4_t(b, w2 + (16 * kt + r8 + 8 * m1) * S2 + 8 * j + 8 * m2);
#pragma unroll
            for (int h2 = 0; h2 < 2; h2++) {
                const uint32_t bb[2] = {b[2 * h2], b[2 * h2 + 1]};
#pragma unroll
                for (int mt = 0; mt < MT; mt++) mma_16816(g[mt][h2], d2p[mt][kt], bb, g[mt][h2]);
            }
        }
#pragma unroll
        for (int mt = 0; mt < MT; mt++) {
#pragma unroll
            for (int h2 = 0; h2 < 2; h2++) {
#pragma unroll
                for (int r = 0; r < 2; r++) {  // r = 0: row g (elements 0, 1); r = 1: row g + 8 (2, 3)
                    const uint32_t ap = a1p[mt][j / 2][2 * h2 + r];
                    const float a0 = bf16_lo(ap), a1 = bf16_hi(ap);
                    const float g0 = g[mt][h2][2 * r], g1 = g[mt][h2][2 * r + 1];
                    d1p[mt][j / 2][2 * h2 + r] = bf16x2(g0 - g0 * a0 * a0, g1 - g1 * a1 * a1);
                }
            }
        }
    }
    // ---- layer 1 backward: ∇ₓH = Δ1·W1 (W1 transposed on load), n-tile 0 always, n-tile 1 when n > 4
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int nt = 0; nt < 2; nt++)
#pragma unroll
            for (int i = 0; i < 4; i++) gx[mt][nt][i] = 0.f;
#pragma unroll
    for (int kt = 0; kt < KT; kt++) {
        uint32_t b[4];  // W1 rows 16kt.. / 16kt+8.. (k), columns 0–7 / 8–15 (n)
        ldsm_x4_t(b, w1 + (16 * kt + r8 + 8 * m1) * kS1 + 8 * m2);
        const uint32_t b0[2] = {b[0], b[1]}, b1v[2] = {b[2], b[3]};
#pragma unroll
        for (int mt = 0; mt < MT; mt++) {
            mma_16816(gx[mt][0], d1p[mt][kt], b0, gx[mt][0]);
            if (two_state_tiles) mma_16816(gx[mt][1], d1p[mt][kt], b1v, gx[mt][1]);
        }
    }
}

/**
 * The warp's MLP over its MT m-tiles. x[mt][nt][i] is the state (accumulator layout of the interleaved inputs,
 * n-tile nt covers (q_j, p_j) for j = 4nt + t); with kGrad the gradient lands in gx in the same layout, else the
 * energies of rows g and g + 8 land in energy[mt][0..1] (every lane of the quad gets them).
 */
template <int KT, int MT, bool kGrad>
__device__ __forceinline__ void mlp(const unsigned char* smem, const TcLayout& L, bool two_state_tiles,
                                    const float (&x)[MT][2][4], float (&gx)[MT][2][4], float (&energy)[MT][2]) {
    constexpr int H = 16 * KT, NT = H / 8, S2 = H + 8;
    const int lane = threadIdx.x & 31, t = lane & 3;
    const uint16_t* w1 = reinterpret_cast<const uint16_t*>(smem + L.w1);
    const uint16_t* w2 = reinterpret_cast<const uint16_t*>(smem + L.w2);
    const float* b1 = reinterpret_cast<const float*>(smem + L.b1);
    const float* b2 = reinterpret_cast<const float*>(smem + L.b2);
    const float* w3 = reinterpret_cast<const float*>(smem + L.w3);
    // ldmatrix row addresses: lane l gives row (l & 7) of matrix l >> 3
    const int r8 = lane & 7, m1 = (lane >> 3) & 1, m2 = lane >> 4;

    // ---- layer 1 forward: Z1 = (X_hi + X_lo)·W1ᵀ + b1, A1 = tanh(Z1) packed as layer 2's A operand
    uint32_t a1p[MT][KT][4];
    {
        uint32_t xh[MT][4], xl[MT][4];
#pragma unroll
        for (int mt = 0; mt < MT; mt++) {
#pragma unroll
            for (int r = 0; r < 4; r++) {
                // a0a1: row g, n-tile 0; a2a3: row g+8, n-tile 0; a4a5 / a6a7: n-tile 1 (zero when n <= 4)
                const int nt = r >> 1, i0 = (r & 1) * 2;
                const float v0 = x[mt][nt][i0], v1 = x[mt][nt][i0 + 1];
                xh[mt][r] = bf16x2(v0, v1);
                xl[mt][r] = bf16x2(v0 - bf16_lo(xh[mt][r]), v1 - bf16_hi(xh[mt][r]));
            }
        }
#pragma unroll
        for (int j = 0; j < NT; j += 2) {
            uint32_t b[4];  // n-tiles j, j+1 of W1ᵀ: rows 8j.. of W1, columns 0–7 and 8–15
            ldsm_x4(b, w1 + (8 * j + r8 + 8 * m2) * kS1 + 8 * m1);
#pragma unroll
            for (int h2 = 0; h2 < 2; h2++) {
                const uint32_t bb[2] = {b[2 * h2], b[2 * h2 + 1]};
                const int col = 8 * (j + h2) + 2 * t;
                const float c[4] = {b1[col], b1[col + 1], b1[col], b1[col + 1]};
#pragma unroll
                for (int mt = 0; mt < MT; mt++) {
                    float z[4];
                    mma_16816(z, xh[mt], bb, c);
                    mma_16816(z, xl[mt], bb, z);
                    a1p[mt][j / 2][2 * h2] = bf16x2(tanh_fast(z[0]), tanh_fast(z[1]));
                    a1p[mt][j / 2][2 * h2 + 1] = bf16x2(tanh_fast(z[2]), tanh_fast(z[3]));
                }
            }
        }
    }
    // ---- layer 2 forward: Z2 = A1·W2ᵀ + b2; then either the energy w3·tanh(Z2) + b3 or Δ2 = w3 ⊙ (1 − A2²)
    uint32_t d2p[MT][KT][4];
    float e_part[MT][2];
#pragma unroll
    for (int mt = 0; mt < MT; mt++) e_part[mt][0] = e_part[mt][1] = 0.f;
#pragma unroll
    for (int j = 0; j < NT; j += 2) {
        float z[MT][2][4];
#pragma unroll
        for (int h2 = 0; h2 < 2; h2++) {
            const int col = 8 * (j + h2) + 2 * t;
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
                z[mt][h2][0] = z[mt][h2][2] = b2[col];
                z[mt][h2][1] = z[mt][h2][3] = b2[col + 1];
            }
        }
#pragma unroll
        for (int kt = 0; kt < KT; kt++) {
            uint32_t b[4];  // rows 8j.. and 8j+8.. of W2 (the n index), columns 16kt.. and 16kt+8.. (the k index)
            ldsm_x4(b, w2 + (8 * j + r8 + 8 * m2) * S2 + 16 * kt + 8 * m1);
#pragma unroll
            for (int h2 = 0; h2 < 2; h2++) {
                const uint32_t bb[2] = {b[2 * h2], b[2 * h2 + 1]};
#pragma unroll
                for (int mt = 0; mt < MT; mt++) mma_16816(z[mt][h2], a1p[mt][kt], bb, z[mt][h2]);
            }
        }
#pragma unroll
        for (int h2 = 0; h2 < 2; h2++) {
            const int col = 8 * (j + h2) + 2 * t;
            const float wa = w3[col], wb = w3[col + 1];
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
                float a[4];
#pragma unroll
                for (int i = 0; i < 4; i++) a[i] = tanh_fast(z[mt][h2][i]);
                if constexpr (kGrad) {
                    d2p[mt][j / 2][2 * h2] = bf16x2(wa - wa * a[0] * a[0], wb - wb * a[1] * a[1]);
                    d2p[mt][j / 2][2 * h2 + 1] = bf16x2(wa - wa * a[2] * a[2], wb - wb * a[3] * a[3]);
                } else {
                    e_part[mt][0] = fmaf(wa, a[0], fmaf(wb, a[1], e_part[mt][0]));
                    e_part[mt][1] = fmaf(wa, a[2], fmaf(wb, a[3], e_part[mt][1]));
                }
            }
        }
    }
    if constexpr (kGrad) {
        backward<KT, MT>(w1, w2, two_state_tiles, a1p, d2p, gx);
    } else {
        const float b3 = *reinterpret_cast<const float*>(smem + L.b3);
#pragma unroll
        for (int mt = 0; mt < MT; mt++) {
#pragma unroll
            for (int r = 0; r < 2; r++) {
                float s = e_part[mt][r];
                s += __shfl_xor_sync(kFullMask, s, 1);
                s += __shfl_xor_sync(kFullMask, s, 2);
                energy[mt][r] = s + b3;
            }
        }
    }
}

/** The kernel's body for hidden width 16·KT and tiles of 16·MT trajectories (the extern "C" kernels below). */
template <int KT, int MT>
__device__ __forceinline__ void integrate_tc_block(const IntegrateArgs& a, const unsigned char* __restrict__ packed) {
    constexpr int H = 16 * KT;
    const TcLayout L = tc_layout(H);
    ENGRAM_DYNAMIC_SHARED(unsigned char, smem);
    for (int k = threadIdx.x; k < L.bytes / 16; k += blockDim.x)
        reinterpret_cast<uint4*>(smem)[k] = reinterpret_cast<const uint4*>(packed)[k];
    __syncthreads();

    const int n = a.n, dim = 2 * n, coords = dim + 1;
    const bool two = n > 4;
    const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const int warps = blockDim.x >> 5;
    const long long tiles = (a.count + 16 * MT - 1) / (16 * MT);
    const float h = a.dt;
    for (long long tile = (long long) blockIdx.x * warps + (threadIdx.x >> 5); tile < tiles;
         tile += (long long) gridDim.x * warps) {
        // rows of this lane: trajectory index (within the range) of m-tile mt, row r (g or g + 8)
        long long row[MT][2];
        bool alive[MT][2], valid[MT][2];
        float x[MT][2][4], prev[MT][2][4], gx[MT][2][4], en[MT][2];
        int diverged[MT][2];
#pragma unroll
        for (int mt = 0; mt < MT; mt++) {
#pragma unroll
            for (int r = 0; r < 2; r++) {
                row[mt][r] = tile * 16 * MT + mt * 16 + g + 8 * r;
                valid[mt][r] = row[mt][r] < a.count;
                alive[mt][r] = valid[mt][r];
                diverged[mt][r] = -1;
            }
#pragma unroll
            for (int nt = 0; nt < 2; nt++) {
                const int j = 4 * nt + t;
#pragma unroll
                for (int i = 0; i < 4; i++) {
                    const int r = i >> 1;
                    float v = 0.f;
                    if (valid[mt][r] && j < n) {
                        const int col = (i & 1) ? n + j : j;  // q_j or p_j
                        if (a.init != nullptr) {
                            v = a.init[row[mt][r] * dim + col];
                        } else {
                            const double z = philox_gaussian(a.seed, a.first + row[mt][r], -1, col / 4, col % 4);
                            const double base = (i & 1) ? a.p0[j] : a.q0[j];
                            const double sigma = (i & 1) ? a.sigma_p : a.sigma_q;
                            v = (float) (base + sigma * z);
                        }
                    }
                    x[mt][nt][i] = v;
                }
            }
        }
        auto record = [&](int s) {
            mlp<KT, MT, false>(smem, L, two, x, gx, en);
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
#pragma unroll
                for (int r = 0; r < 2; r++) {
                    if (!alive[mt][r]) continue;
                    float* out = a.samples + ((long long) s * a.count + row[mt][r]) * coords;
#pragma unroll
                    for (int nt = 0; nt < 2; nt++) {
                        const int j = 4 * nt + t;
                        if (j < n) {
                            out[j] = x[mt][nt][2 * r];
                            out[n + j] = x[mt][nt][2 * r + 1];
                        }
                    }
                    if (t == 0) out[dim] = en[mt][r];
                }
            }
        };
        record(0);
        int next = 1;
        int next_step = sample_step(1, a.sample_count, a.sample_every, a.steps);
        for (int step = 1; step <= a.steps; step++) {
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int nt = 0; nt < 2; nt++)
#pragma unroll
                    for (int i = 0; i < 4; i++) prev[mt][nt][i] = x[mt][nt][i];
            // p ← p − h/2·∂H/∂q; q ← q + h·∂H/∂p; p ← p − h/2·∂H/∂q (elements 0, 2: q of rows g, g+8; 1, 3: p)
            mlp<KT, MT, true>(smem, L, two, x, gx, en);
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int nt = 0; nt < 2; nt++)
#pragma unroll
                    for (int r = 0; r < 2; r++)
                        x[mt][nt][2 * r + 1] = fmaf(gx[mt][nt][2 * r], -0.5f * h, x[mt][nt][2 * r + 1]);
            mlp<KT, MT, true>(smem, L, two, x, gx, en);
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int nt = 0; nt < 2; nt++)
#pragma unroll
                    for (int r = 0; r < 2; r++)
                        x[mt][nt][2 * r] = fmaf(gx[mt][nt][2 * r + 1], h, x[mt][nt][2 * r]);
            mlp<KT, MT, true>(smem, L, two, x, gx, en);
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int nt = 0; nt < 2; nt++)
#pragma unroll
                    for (int r = 0; r < 2; r++)
                        x[mt][nt][2 * r + 1] = fmaf(gx[mt][nt][2 * r], -0.5f * h, x[mt][nt][2 * r + 1]);
            if (a.noise > 0.f) {
#pragma unroll
                for (int mt = 0; mt < MT; mt++)
#pragma unroll
                    for (int nt = 0; nt < 2; nt++)
#pragma unroll
                        for (int r = 0; r < 2; r++) {
                            const int j = 4 * nt + t;
                            if (alive[mt][r] && j < n) {
                                const float z = philox_normal_f(a.seed, a.first + row[mt][r], step, j / 4, j % 4);
                                x[mt][nt][2 * r + 1] = (float) (x[mt][nt][2 * r + 1] + a.amp * z);
                            }
                        }
            }
            // divergence: a row whose state is not finite stops at its last finite state (quad-wide AND)
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
#pragma unroll
                for (int r = 0; r < 2; r++) {
                    int ok = 1;
#pragma unroll
                    for (int nt = 0; nt < 2; nt++)
                        ok &= (int) (isfinite(x[mt][nt][2 * r]) && isfinite(x[mt][nt][2 * r + 1]));
                    ok &= __shfl_xor_sync(kFullMask, ok, 1);
                    ok &= __shfl_xor_sync(kFullMask, ok, 2);
                    if (alive[mt][r] && !ok) {
                        alive[mt][r] = false;
                        diverged[mt][r] = step;
                        float* base = a.samples + row[mt][r] * coords;
                        for (int s = next; s < a.sample_count; s++) {
                            float* out = base + (long long) s * a.count * coords;
#pragma unroll
                            for (int nt = 0; nt < 2; nt++) {
                                const int j = 4 * nt + t;
                                if (j < n) out[j] = out[n + j] = NAN;
                            }
                            if (t == 0) out[dim] = NAN;
                        }
                    }
                    if (!alive[mt][r]) {
#pragma unroll
                        for (int nt = 0; nt < 2; nt++) {
                            x[mt][nt][2 * r] = prev[mt][nt][2 * r];
                            x[mt][nt][2 * r + 1] = prev[mt][nt][2 * r + 1];
                        }
                    }
                }
            }
            if (step == next_step) {
                record(next);
                next++;
                if (next < a.sample_count) next_step = sample_step(next, a.sample_count, a.sample_every, a.steps);
            }
        }
#pragma unroll
        for (int mt = 0; mt < MT; mt++) {
#pragma unroll
            for (int r = 0; r < 2; r++) {
                if (!valid[mt][r]) continue;
#pragma unroll
                for (int nt = 0; nt < 2; nt++) {
                    const int j = 4 * nt + t;
                    if (j < n) {
                        a.finals[row[mt][r] * dim + j] = x[mt][nt][2 * r];
                        a.finals[row[mt][r] * dim + n + j] = x[mt][nt][2 * r + 1];
                    }
                }
                if (t == 0) a.diverged[row[mt][r]] = diverged[mt][r];
            }
        }
    }
}

}  // namespace
}  // namespace engram

// The kernels with C names (found by name in their fatbin by driver-API callers: the JCuda engine): per hidden width
// h = 16·KT and tile (16, or 32 trajectories per warp for h <= 32), parameters the IntegrateArgs struct by value and
// the packed weight image (pack_tensor_weights) in global memory. Block: 32·warps threads (at most 128); dynamic
// shared memory tc_layout(h).bytes.
#define ENGRAM_INTEGRATE_TC(NAME, KT, MT)                                                                              \
    extern "C" __global__ void __launch_bounds__(128)                                                                  \
        NAME(const __grid_constant__ engram::IntegrateArgs a, const unsigned char* __restrict__ packed) {              \
        engram::integrate_tc_block<KT, MT>(a, packed);                                                                 \
    }
ENGRAM_INTEGRATE_TC(engram_kernel_integrate_tc_h16, 1, 1)
ENGRAM_INTEGRATE_TC(engram_kernel_integrate_tc_h32, 2, 1)
ENGRAM_INTEGRATE_TC(engram_kernel_integrate_tc_h64, 4, 1)
ENGRAM_INTEGRATE_TC(engram_kernel_integrate_tc_h128, 8, 1)
ENGRAM_INTEGRATE_TC(engram_kernel_integrate_tc_h16_tile32, 1, 2)
ENGRAM_INTEGRATE_TC(engram_kernel_integrate_tc_h32_tile32, 2, 2)
#undef ENGRAM_INTEGRATE_TC

namespace engram {
namespace {

using TcKernel = void (*)(const IntegrateArgs, const unsigned char*);

template <int KT, int MT>
TcKernel tc_kernel() {
    if constexpr (MT == 2) {
        static_assert(KT <= 2, "tile 32 is built for h <= 32 only");
        return KT == 1 ? engram_kernel_integrate_tc_h16_tile32 : engram_kernel_integrate_tc_h32_tile32;
    } else {
        return KT == 1 ? engram_kernel_integrate_tc_h16 : KT == 2 ? engram_kernel_integrate_tc_h32
                                                        : KT == 4 ? engram_kernel_integrate_tc_h64
                                                                  : engram_kernel_integrate_tc_h128;
    }
}

template <int KT, int MT>
cudaError_t launch_tc(const IntegrateArgs& a, const void* packed, int blocks, int warps, cudaStream_t stream) {
    const int bytes = tc_layout(16 * KT).bytes;
    if (bytes > 48 * 1024) {
        const cudaError_t e = cudaFuncSetAttribute(tc_kernel<KT, MT>(), cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                   bytes);
        if (e != cudaSuccess) return e;
    }
    const TcKernel kernel = tc_kernel<KT, MT>();
    ENGRAM_LAUNCH_ON(kernel, dim3((unsigned) blocks), dim3((unsigned) (32 * warps)), bytes, stream)
    (a, static_cast<const unsigned char*>(packed));
    return cudaGetLastError();
}

int hidden_width(const IntegrateArgs& a) { return a.nets[0].widths[1]; }

}  // namespace

bool tensor_kernel_supports(const IntegrateArgs& a, char* why, int cap) {
    const NetDesc& net = a.nets[0];
    const char* reason = nullptr;
    if (a.kind != ENGRAM_MODEL_HAMILTONIAN) {
        reason = "the tensor-core kernel integrates the general Hamiltonian (kind hamiltonian) only";
    } else if (a.scheme != ENGRAM_SCHEME_LEAPFROG) {
        reason = "the tensor-core kernel runs the LEAPFROG scheme only";
    } else if (net.layers != 3 || net.widths[1] != net.widths[2]) {
        reason = "the tensor-core kernel needs H = [2n, h, h, 1] (two tanh hidden layers of equal width)";
    } else if (net.widths[1] != 16 && net.widths[1] != 32 && net.widths[1] != 64 && net.widths[1] != 128) {
        reason = "the tensor-core kernel needs a hidden width h of 16, 32, 64 or 128";
    } else if (a.n > 8) {
        reason = "the tensor-core kernel needs n <= 8 degrees of freedom";
    }
    if (reason != nullptr && why != nullptr && cap > 0) std::snprintf(why, (size_t) cap, "%s; use the FP32 kernel", reason);
    return reason == nullptr;
}

int tensor_kernel_shared_bytes(const IntegrateArgs& a, int warps, int tile) {
    (void) warps;
    (void) tile;
    return tc_layout(hidden_width(a)).bytes;
}

void tensor_weights_layout(int h, int out[7]) {
    const TcLayout l = tc_layout(h);
    const int v[7] = {l.w1, l.w2, l.b1, l.b2, l.w3, l.b3, l.bytes};
    for (int i = 0; i < 7; i++) out[i] = v[i];
}

long long tensor_kernel_weight_bytes(const IntegrateArgs& a) { return tc_layout(hidden_width(a)).bytes; }

void pack_tensor_weights(const IntegrateArgs& a, const float* host_params, void* dst) {
    const NetDesc& net = a.nets[0];
    const int h = net.widths[1], n = a.n, in = 2 * n, s2 = h + 8;
    const TcLayout L = tc_layout(h);
    unsigned char* out = static_cast<unsigned char*>(dst);
    std::memset(out, 0, (size_t) L.bytes);
    uint16_t* w1 = reinterpret_cast<uint16_t*>(out + L.w1);
    uint16_t* w2 = reinterpret_cast<uint16_t*>(out + L.w2);
    const float* W1 = host_params + net.w_off[0];
    const float* W2 = host_params + net.w_off[1];
    for (int i = 0; i < h; i++) {
        for (int j = 0; j < n; j++) {
            w1[i * kS1 + 2 * j] = half_bits::bf16_of(W1[i * in + j]);          // q_j
            w1[i * kS1 + 2 * j + 1] = half_bits::bf16_of(W1[i * in + n + j]);  // p_j
        }
        for (int k = 0; k < h; k++) w2[i * s2 + k] = half_bits::bf16_of(W2[i * h + k]);
    }
    std::memcpy(out + L.b1, host_params + net.b_off[0], (size_t) h * 4);
    std::memcpy(out + L.b2, host_params + net.b_off[1], (size_t) h * 4);
    std::memcpy(out + L.w3, host_params + net.w_off[2], (size_t) h * 4);
    std::memcpy(out + L.b3, host_params + net.b_off[2], 4);
}

cudaError_t launch_integrate_tensor(const IntegrateArgs& a, const void* packed, int blocks, int warps, int tile,
                                    cudaStream_t stream) {
    const int h = hidden_width(a);
    if (tile == 32) {
        // the host admits tile 32 for h <= 32 only: at h = 64 two m-tiles need more than 255 registers (spills)
        return h == 16 ? launch_tc<1, 2>(a, packed, blocks, warps, stream)
                       : launch_tc<2, 2>(a, packed, blocks, warps, stream);
    }
    switch (h) {
        case 16: return launch_tc<1, 1>(a, packed, blocks, warps, stream);
        case 32: return launch_tc<2, 1>(a, packed, blocks, warps, stream);
        case 64: return launch_tc<4, 1>(a, packed, blocks, warps, stream);
        default: return launch_tc<8, 1>(a, packed, blocks, warps, stream);
    }
}

}  // namespace engram
