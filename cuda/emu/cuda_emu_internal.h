// cuda_emu_internal.h: the two schedulers behind cuda_emu.h (not for kernels). cuda_emu.cpp holds the public entry
// points and the OS-thread scheduler; cuda_emu_fibers.cpp the fiber scheduler (the default).
#pragma once

#include "cuda_emu.h"

#include <string>

namespace emu {
namespace fibers {
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
