// mma_bf16.cuh: the warp-level tensor-core operations the integration kernel uses, one definition for both builds:
// inline PTX on the device, the emulator's implementations of the same instructions on the host (cuda/emu:
// emu::mma_m16n8k16_bf16, emu::ldmatrix, emu::tanh_approx; emu_selftest checks them against plain matrix products
// and the PTX ISA's per-lane tables).
//   mma_16816   mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32: D (16×8 f32) = A (16×16 bf16) · B (16×8) + C
//   ldsm_x4     ldmatrix.sync.aligned.m8n8.x4.shared.b16      four 8×8 bf16 matrices from shared memory
//   ldsm_x4_t   ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 the same, each transposed
//   ldsm_x2(_t) the .x2 forms (two matrices; lanes 0–15 give the row addresses)
//   bf16x2      cvt.rn.bf16x2.f32: two floats → one register of two bf16 (first argument in the low half)
//   tanh_fast   tanh.approx.f32 (relative error about 2⁻¹¹ on sm_75+; emulated with < 2⁻¹⁰)
#pragma once

#include "engram_cuda.cuh"

#include <cstdint>

namespace engram {

__device__ __forceinline__ void mma_16816(float d[4], const uint32_t a[4], const uint32_t b[2], const float c[4]) {
#if defined(ENGRAM_EMULATION)
    emu::mma_m16n8k16_bf16(d, a, b, c);
#else
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%10, %11, %12, %13};\n"
        : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]),
          "f"(c[3]));
#endif
}

__device__ __forceinline__ void ldsm_x4(uint32_t r[4], const void* row) {
#if defined(ENGRAM_EMULATION)
    emu::ldmatrix(r, 4, false, row);
#else
    const unsigned s = (unsigned) __cvta_generic_to_shared(row);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(s));
#endif
}

__device__ __forceinline__ void ldsm_x4_t(uint32_t r[4], const void* row) {
#if defined(ENGRAM_EMULATION)
    emu::ldmatrix(r, 4, true, row);
#else
    const unsigned s = (unsigned) __cvta_generic_to_shared(row);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(s));
#endif
}

__device__ __forceinline__ void ldsm_x2(uint32_t r[2], const void* row) {
#if defined(ENGRAM_EMULATION)
    emu::ldmatrix(r, 2, false, row);
#else
    const unsigned s = (unsigned) __cvta_generic_to_shared(row);
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];\n" : "=r"(r[0]), "=r"(r[1]) : "r"(s));
#endif
}

__device__ __forceinline__ void ldsm_x2_t(uint32_t r[2], const void* row) {
#if defined(ENGRAM_EMULATION)
    emu::ldmatrix(r, 2, true, row);
#else
    const unsigned s = (unsigned) __cvta_generic_to_shared(row);
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0, %1}, [%2];\n" : "=r"(r[0]), "=r"(r[1]) : "r"(s));
#endif
}

/** Two floats rounded to nearest-even bf16 in one register: lo in bits 0–15, hi in 16–31. */
__device__ __forceinline__ uint32_t bf16x2(float lo, float hi) {
#if defined(ENGRAM_EMULATION)
    return (uint32_t) half_bits::bf16_of(lo) | ((uint32_t) half_bits::bf16_of(hi) << 16);
#else
    uint32_t r;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;\n" : "=r"(r) : "f"(hi), "f"(lo));
    return r;
#endif
}

/** The bf16 value of one half of a bf16x2 register, widened (exact). */
__device__ __forceinline__ float bf16_lo(uint32_t v) { return __uint_as_float(v << 16); }
__device__ __forceinline__ float bf16_hi(uint32_t v) { return __uint_as_float(v & 0xffff0000u); }

__device__ __forceinline__ float tanh_fast(float x) {
#if defined(ENGRAM_EMULATION)
    return emu::tanh_approx(x);
#else
    float y;
    asm("tanh.approx.f32 %0, %1;\n" : "=f"(y) : "f"(x));
    return y;
#endif
}

}  // namespace engram
