// cuda_emu_internal.h: the two schedulers behind cuda_emu.h (not for kernels). cuda_emu.cpp holds the public entry
// points and the OS-thread scheduler; cuda_emu_fibers.cpp the fiber scheduler (the default).
#pragma once

#include "cuda_emu.h"

#include <string>
#include <vector>

namespace emu {
/** One CUDA thread's outstanding cp.async copies (see emu::cp_async): performed at the cp.async.wait_group that
 * completes their group; until then the destination holds 0xff bytes (NaN in every float format). */
struct AsyncCopy {
    void* dst;
    const void* src;
    int bytes, src_bytes;
    long long group;
};
struct AsyncState {
    std::vector<AsyncCopy> pending;
    long long committed = 0;
    void clear() {
        pending.clear();
        committed = 0;
    }
};
namespace fibers {
/** The calling CUDA thread's cp.async state under the fiber scheduler. */
AsyncState& async_state();
/** True while the calling OS thread runs a block under the fiber scheduler. */
bool active();
void* dynamic_shared();
void* static_shared(const void* key, size_t bytes, size_t align);
[[noreturn]] void fault(const std::string& message);
void syncthreads();
void syncwarp(unsigned mask);
int lane_id();
uint64_t exchange(unsigned mask, uint64_t mine, int src_lane);
unsigned ballot(unsigned mask, bool predicate);
void exchange_all(unsigned mask, const void* mine, size_t bytes, void* all);
/** Runs the grid; false (with the message) when a block faulted. */
bool launch(dim3 grid, dim3 block, size_t shared_bytes, const char* name, void (*trampoline)(void*), void* args,
            std::string* fault_message);
}  // namespace fibers
}  // namespace emu
