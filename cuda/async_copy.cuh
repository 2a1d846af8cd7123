// async_copy.cuh: cp.async (sm_80+) for the load pipelines, one definition for both builds: inline PTX on the device,
// the emulator's deferred copies on the host (emu::cp_async: the destination reads as NaN until the wait that
// completes its group, so a missing or too-weak wait fails the cross-checks).
//   cp_async16(dst, src, valid)  16 bytes global → shared, .cg (L2 only); valid = false zero-fills dst (src unread)
//   cp_async4(dst, src, valid)   4 bytes, .ca
//   cp_async_commit()            closes the group of copies issued since the last commit
//   cp_async_wait<N>()           waits until at most N committed groups of this thread are outstanding
// A wait covers the calling thread's copies only: a warp that reads what other lanes copied adds __syncwarp().
#pragma once

#include "engram_cuda.cuh"

namespace engram {

__device__ __forceinline__ void cp_async16(void* dst, const void* src, bool valid) {
#if defined(ENGRAM_EMULATION)
    emu::cp_async(dst, src, 16, valid ? 16 : 0);
#else
    const unsigned s = (unsigned) __cvta_generic_to_shared(dst);
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(src), "r"(valid ? 16 : 0));
#endif
}

__device__ __forceinline__ void cp_async4(void* dst, const void* src, bool valid) {
#if defined(ENGRAM_EMULATION)
    emu::cp_async(dst, src, 4, valid ? 4 : 0);
#else
    const unsigned s = (unsigned) __cvta_generic_to_shared(dst);
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(s), "l"(src), "r"(valid ? 4 : 0));
#endif
}

__device__ __forceinline__ void cp_async_commit() {
#if defined(ENGRAM_EMULATION)
    emu::cp_async_commit();
#else
    asm volatile("cp.async.commit_group;\n" ::);
#endif
}

template <int N>
__device__ __forceinline__ void cp_async_wait() {
#if defined(ENGRAM_EMULATION)
    emu::cp_async_wait(N);
#else
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
#endif
}

}  // namespace engram
