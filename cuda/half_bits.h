// half_bits.h: float32 <-> IEEE binary16 / bfloat16 bit patterns on the host, round to nearest even (what the
// device's __float2half_rn / __float2bfloat16_rn do). The one copy of these conversions: engram.cu uses them to
// convert uploads and compute the norms of the stored (rounded) patterns, and the host emulation (emu/cuda_emu.h)
// builds its __half2float / __bfloat162float on them, so both builds widen the same way.
#pragma once

#include <cstdint>
#include <cstring>

namespace engram::half_bits {

/** float32 → binary16 bits, round to nearest even; finite values that round to >= 65520 become infinity. */
inline uint16_t f16_of(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    const uint32_t sign = (x >> 16) & 0x8000u;
    const uint32_t a = x & 0x7fffffffu;
    if (a >= 0x7f800000u) return (uint16_t) (sign | 0x7c00u | (a > 0x7f800000u ? 0x200u : 0));
    if (a >= 0x477ff000u) return (uint16_t) (sign | 0x7c00u);  // rounds to >= 65520: overflow to infinity
    if (a < 0x38800000u) {                                      // below the smallest normal half: subnormal or 0
        if (a < 0x33000000u) return (uint16_t) sign;           // < 2^-25 rounds to 0
        const uint32_t e = a >> 23, m = (a & 0x7fffffu) | 0x800000u;
        const uint32_t shift = 126 - e;                        // so that the result has 10 fraction bits at 2^-24
        uint32_t q = m >> shift;
        const uint32_t rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1))) q++;
        return (uint16_t) (sign | q);
    }
    uint32_t q = (a >> 13) - (112u << 10);
    const uint32_t rem = a & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (q & 1))) q++;
    return (uint16_t) (sign | q);
}

/** float32 → bfloat16 bits, round to nearest even; NaN stays a (quiet) NaN. */
inline uint16_t bf16_of(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t) ((x >> 16) | 0x40u);
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t) (x >> 16);
}

/** binary16 bits → float32 (exact: every half is a float). */
inline float f16_value(uint16_t h) {
    const uint32_t sign = (uint32_t) (h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13);
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    } else if (man == 0) {
        bits = sign;
    } else {  // subnormal: normalise
        int e = -1;
        do {
            man <<= 1;
            e++;
        } while ((man & 0x400u) == 0);
        bits = sign | ((uint32_t) (112 - e) << 23) | ((man & 0x3ffu) << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

/** bfloat16 bits → float32 (exact: a 16-bit shift). */
inline float bf16_value(uint16_t h) {
    const uint32_t bits = (uint32_t) h << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

}  // namespace engram::half_bits
