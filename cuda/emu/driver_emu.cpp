// driver_emu.cpp: an emulated CUDA driver, libengram_cudadrv_emu.so (SONAME libcuda.so.1), so that driver-API callers
// (the JCuda engine, through JCuda's JNI library, which has NEEDED libcuda.so.1) run our kernels on the host CPU
// emulator (cuda_emu.h) with no GPU. The kernels are the .cu files compiled for the host exactly as libengram_emu
// compiles them; the driver finds them by name in kKernels below.
//
// What it implements: the calls the JCuda engine makes (cuInit, devices and attributes, contexts and their
// per-thread stack, memory, synchronous copies, streams, modules, functions, cuLaunchKernel) under the exported names
// the real libcuda has (the _v2 names where cuda.h maps them). JCuda binds lazily, so the other ~240 functions its JNI
// library names need not exist here until called (then the JVM dies with "symbol lookup error": add the function).
//
// Faithful where it catches bugs, stricter than the real driver where that is cheap:
//  - device memory comes from an allocation table; a fresh allocation is filled with 0xFF bytes (NaN floats), so a
//    read before a write shows; a copy or free on an address outside a live allocation, or running past its end, is
//    CUDA_ERROR_INVALID_VALUE (as the real driver); each allocation is its own mapping ending at a guard page and
//    unmapped when freed, so a kernel reading or writing past an allocation or after its cuMemFree faults at once
//    (the process dies with SIGSEGV in the kernel, where a GPU would report CUDA_ERROR_ILLEGAL_ADDRESS) instead of
//    silently touching other memory;
//  - every pointer argument of a launch must be null or inside a live allocation (one past its end allowed), else
//    CUDA_ERROR_ILLEGAL_ADDRESS without running (a GPU would fault on use; the host emulator would crash the process);
//  - handles are never reused: a destroyed context, unloaded module (and its functions) or destroyed stream is an
//    error (CUDA_ERROR_INVALID_CONTEXT / CONTEXT_IS_DESTROYED / INVALID_HANDLE), never another object;
//  - cuModuleLoadData wants a fatbin (magic 0xBA55ED50); cuModuleGetFunction finds a kernel only when its name appears
//    in that module's image (as a whole word) and it is compiled in here (CUDA_ERROR_NOT_FOUND otherwise);
//  - cuLaunchKernel unpacks kernelParams with the host kernel's own parameter types, refuses `extra`
//    (CUDA_ERROR_NOT_SUPPORTED), blocks over 1024 threads or over the kernel's __launch_bounds__, dynamic shared memory
//    over 48 KiB unless cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES) raised it (at most the 227 KiB opt-in limit
//    reported, as an H100); a fault the emulator finds (divergent barrier, partial warp mask, ...) is
//    CUDA_ERROR_LAUNCH_FAILED, printed to stderr with the emulator's message, and sticky: the context then answers
//    every call with it, as a GPU context does after a kernel fault;
//  - streams run synchronously (each call completes before it returns).
// The device: "Engram emulated device (host CPU)", compute capability 9.0, 132 multiprocessors, the limits of an
// H100. Every call but cuInit, cuDriverGetVersion and cuGetError* is CUDA_ERROR_NOT_INITIALIZED before cuInit.
//
// To add a kernel: its .cu file in ENGRAM_KERNEL_SOURCES (CMakeLists.txt; every kernel file but engram.cu is linked
// in already), its extern "C" declaration in a header included below, and one line in kKernels (module stem = the .cu
// file's name, the kernel, its __launch_bounds__ thread limit). `driver_emu_test fatbins DIR` (run by build.sh) then
// writes engram_<stem>.fatbin naming it with its parameter types.
#include "driver_emu.h"

#include "../engram_cuda.cuh"
#include "../integrate.cuh"
#include "../quantiles.cuh"
#include "../scores_partials.cuh"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <tuple>
#include <type_traits>
#include <utility>

#define EXPORT extern "C" __attribute__((visibility("default")))

namespace {

constexpr int kDefaultDynamicShared = 48 * 1024;
constexpr int kOptinShared = 227 * 1024;  // 232448, as an H100
constexpr int kMultiprocessors = 132;
constexpr const char* kDeviceName = "Engram emulated device (host CPU)";

struct Kernel;
/** Checks a launch's arguments (under the driver lock) and returns the call to run; empty with *why on refusal. */
using Prepare = CUresult (*)(const Kernel& k, dim3 grid, dim3 block, size_t shared, void** params,
                             std::function<void()>* run, std::string* why);

struct Kernel {
    const char* stem;  // module: cuda/<stem>.cu, image engram_<stem>.fatbin
    const char* name;  // extern "C" name
    int max_threads;   // __launch_bounds__
    Prepare prepare;
    const char* (*params)();  // the parameter types as the host compiler sees them, e.g. "ptr,i32,i64,f32"
};

bool pointer_ok(const void* p);  // under the lock: null or inside a live allocation (one past the end allowed)

template <class... A, std::size_t... I>
CUresult prepare_impl(void (*fn)(A...), const Kernel& k, dim3 grid, dim3 block, size_t shared, void** params,
                      std::function<void()>* run, std::string* why, std::index_sequence<I...>) {
    if (sizeof...(A) > 0 && params == nullptr) {
        *why = std::string(k.name) + " takes " + std::to_string(sizeof...(A)) + " parameters; kernelParams is null";
        return CUDA_ERROR_INVALID_VALUE;
    }
    // each params[i] points at the value of parameter i, of the kernel's own type
    std::tuple<std::decay_t<A>...> args{*static_cast<std::decay_t<A>*>(params[I])...};
    int bad = -1;
    auto check = [&](auto value, int index) {
        if constexpr (std::is_pointer_v<decltype(value)>) {
            if (bad < 0 && !pointer_ok(static_cast<const void*>(value))) bad = index;
        }
    };
    (check(std::get<I>(args), (int) I), ...);
    if (bad >= 0) {
        char at[32];
        std::snprintf(at, sizeof at, "%p", *static_cast<void**>(params[bad]));
        *why = std::string(k.name) + " parameter " + std::to_string(bad) + " is pointer " + at
               + ", which is not in a live allocation";
        return CUDA_ERROR_ILLEGAL_ADDRESS;
    }
    const char* name = k.name;
    *run = [fn, args, grid, block, shared, name]() {
        std::apply([&](auto... a) { emu::launcher(fn, grid, block, shared, name)(a...); }, args);
    };
    return CUDA_SUCCESS;
}

template <auto K>
CUresult prepare(const Kernel& k, dim3 grid, dim3 block, size_t shared, void** params, std::function<void()>* run,
                 std::string* why) {
    return [&]<class... A>(void (*fn)(A...)) {
        return prepare_impl(fn, k, grid, block, shared, params, run, why, std::index_sequence_for<A...>{});
    }(K);
}

template <class T>
const char* type_code() {
    if constexpr (std::is_pointer_v<T>) return "ptr";
    else if constexpr (std::is_same_v<T, int>) return "i32";
    else if constexpr (std::is_same_v<T, long long>) return "i64";
    else if constexpr (std::is_same_v<T, float>) return "f32";
    else if constexpr (std::is_same_v<T, double>) return "f64";
    else if constexpr (std::is_class_v<T> && std::is_trivially_copyable_v<T>) {
        // a struct passed by value (the integration kernels' IntegrateArgs): its size, which the caller's image must have
        static const std::string code = "struct" + std::to_string(sizeof(T));
        return code.c_str();
    }
    else return "other";
}

template <auto K>
const char* params() {
    static const std::string text = []<class... A>(void (*)(A...)) {
        std::string out;
        ((out += (out.empty() ? "" : ","), out += type_code<std::decay_t<A>>()), ...);
        return out;
    }(K);
    return text.c_str();
}

#define ENGRAM_EMU_KERNEL(stem, kernel, max_threads) \
    Kernel { stem, #kernel, max_threads, &prepare<kernel>, &params<kernel> }

// The kernels this driver runs, by module. One line per kernel (see the header comment).
const Kernel kKernels[] = {
    ENGRAM_EMU_KERNEL("retrieve_partial", engram_kernel_retrieve_partial_f32, engram::kMaxBlockThreads),
    ENGRAM_EMU_KERNEL("retrieve_partial", engram_kernel_retrieve_partial_f16, engram::kMaxBlockThreads),
    ENGRAM_EMU_KERNEL("retrieve_partial", engram_kernel_retrieve_partial_bf16, engram::kMaxBlockThreads),
    ENGRAM_EMU_KERNEL("retrieve_merge", engram_kernel_retrieve_merge, 256),
    ENGRAM_EMU_KERNEL("scores_partials", engram_kernel_scores_partials, 256),
    ENGRAM_EMU_KERNEL("retrieve_partial_v2", engram_kernel_retrieve_partial_v2_f32_d32, 128),
    ENGRAM_EMU_KERNEL("retrieve_partial_v2", engram_kernel_retrieve_partial_v2_f32_d64, 128),
    ENGRAM_EMU_KERNEL("retrieve_partial_v2", engram_kernel_retrieve_partial_v2_f32_d128, 128),
    ENGRAM_EMU_KERNEL("retrieve_partial_v2", engram_kernel_retrieve_partial_v2_f16_d32, 128),
    ENGRAM_EMU_KERNEL("retrieve_partial_v2", engram_kernel_retrieve_partial_v2_f16_d64, 128),
    ENGRAM_EMU_KERNEL("retrieve_partial_v2", engram_kernel_retrieve_partial_v2_f16_d128, 128),
    ENGRAM_EMU_KERNEL("retrieve_partial_v2", engram_kernel_retrieve_partial_v2_bf16_d32, 128),
    ENGRAM_EMU_KERNEL("retrieve_partial_v2", engram_kernel_retrieve_partial_v2_bf16_d64, 128),
    ENGRAM_EMU_KERNEL("retrieve_partial_v2", engram_kernel_retrieve_partial_v2_bf16_d128, 128),
    ENGRAM_EMU_KERNEL("integrate", engram_kernel_integrate_fp32, 256),
    ENGRAM_EMU_KERNEL("integrate_tc", engram_kernel_integrate_tc_h16, 128),
    ENGRAM_EMU_KERNEL("integrate_tc", engram_kernel_integrate_tc_h32, 128),
    ENGRAM_EMU_KERNEL("integrate_tc", engram_kernel_integrate_tc_h64, 128),
    ENGRAM_EMU_KERNEL("integrate_tc", engram_kernel_integrate_tc_h128, 128),
    ENGRAM_EMU_KERNEL("integrate_tc", engram_kernel_integrate_tc_h16_tile32, 128),
    ENGRAM_EMU_KERNEL("integrate_tc", engram_kernel_integrate_tc_h32_tile32, 128),
    ENGRAM_EMU_KERNEL("quantiles", engram_kernel_column_quantiles, 256),
    ENGRAM_EMU_KERNEL("quantiles", engram_kernel_count_diverged, 256),
};

// ---- state: one mutex over the tables; handles are never reused ----
std::mutex mu;
bool initialized = false;
uintptr_t next_handle = 0x1000;
size_t total_memory = 0;
size_t allocated_bytes = 0;

struct Allocation {
    size_t bytes;
    uintptr_t ctx;
    void* map;  // the mapping holding it, and its length (with the guard page)
    size_t map_bytes;
};
struct Context {
    CUresult sticky = CUDA_SUCCESS;  // a kernel fault poisons the context, as on a GPU
};
struct Module {
    uintptr_t ctx;
    std::vector<unsigned char> image;
};
struct Function {
    uintptr_t ctx, module;
    const Kernel* kernel;
    int max_dynamic_shared = kDefaultDynamicShared;
};
std::map<uintptr_t, Allocation> allocations;  // by base address
std::map<uintptr_t, Context> contexts;
std::map<uintptr_t, Module> modules;
std::map<uintptr_t, Function> functions;
std::map<uintptr_t, uintptr_t> streams;  // stream → context
thread_local std::vector<uintptr_t> ctx_stack;

uintptr_t new_handle() {
    next_handle += 16;
    return next_handle;
}

void say(const std::string& message) { std::fprintf(stderr, "libengram_cudadrv_emu: %s\n", message.c_str()); }

/** The current context of this thread, or the error a call needing one returns. Under the lock. */
CUresult current(uintptr_t* ctx) {
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (ctx_stack.empty()) return CUDA_ERROR_INVALID_CONTEXT;
    auto it = contexts.find(ctx_stack.back());
    if (it == contexts.end()) return CUDA_ERROR_CONTEXT_IS_DESTROYED;
    if (it->second.sticky != CUDA_SUCCESS) return it->second.sticky;
    *ctx = it->first;
    return CUDA_SUCCESS;
}

/** The live allocation holding [p, p + bytes) (bytes 0: p may be one past its end), else allocations.end(). */
std::map<uintptr_t, Allocation>::iterator find_range(uintptr_t p, size_t bytes) {
    auto it = allocations.upper_bound(p);
    if (it == allocations.begin()) return allocations.end();
    --it;
    uintptr_t base = it->first;
    size_t size = it->second.bytes;
    if (p - base > size || bytes > size - (p - base)) return allocations.end();
    return it;
}

bool pointer_ok(const void* p) {
    return p == nullptr || find_range(reinterpret_cast<uintptr_t>(p), 0) != allocations.end();
}

CUresult check_stream(CUstream stream, uintptr_t ctx) {
    uintptr_t s = reinterpret_cast<uintptr_t>(stream);
    if (s <= 2) return CUDA_SUCCESS;  // the NULL stream, CU_STREAM_LEGACY, CU_STREAM_PER_THREAD
    auto it = streams.find(s);
    return it != streams.end() && it->second == ctx ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

bool is_word_char(unsigned char c) { return std::isalnum(c) || c == '_' || c == '$'; }

/** True when name appears in image as a whole word (a kernel's name in an ELF string table, PTX or our list). */
bool image_names(const std::vector<unsigned char>& image, const char* name) {
    size_t n = std::strlen(name);
    if (n == 0 || n > image.size()) return false;
    auto at = image.begin();
    while (true) {
        at = std::search(at, image.end(), name, name + n);
        if (at == image.end()) return false;
        bool start = at == image.begin() || !is_word_char(*(at - 1));
        bool end = at + n == image.end() || !is_word_char(*(at + n));
        if (start && end) return true;
        ++at;
    }
}

CUresult copy(uintptr_t dst, bool dst_device, uintptr_t src, bool src_device, size_t bytes, CUstream stream) {
    std::lock_guard<std::mutex> lk(mu);
    uintptr_t ctx;
    if (CUresult r = current(&ctx)) return r;
    if (CUresult r = check_stream(stream, ctx)) return r;
    if (bytes == 0) return CUDA_SUCCESS;
    if (dst_device && find_range(dst, bytes) == allocations.end()) return CUDA_ERROR_INVALID_VALUE;
    if (src_device && find_range(src, bytes) == allocations.end()) return CUDA_ERROR_INVALID_VALUE;
    if ((!dst_device && dst == 0) || (!src_device && src == 0)) return CUDA_ERROR_INVALID_VALUE;
    std::memmove(reinterpret_cast<void*>(dst), reinterpret_cast<const void*>(src), bytes);
    return CUDA_SUCCESS;
}

/**
 * A device allocation: its own mapping, the bytes placed (256-byte aligned, as cudaMalloc's) so that they end as near
 * as alignment allows to an inaccessible guard page, and filled with 0xFF. A kernel running past the end (by more than
 * the alignment padding) faults at once instead of corrupting the host process's memory; after cuMemFree the whole
 * mapping is gone, so a kernel using freed memory faults too. (A fault crashes the process: on a GPU it would be
 * CUDA_ERROR_ILLEGAL_ADDRESS.)
 */
bool map_allocation(size_t bytes, Allocation* a, uintptr_t* base) {
    size_t page = (size_t) sysconf(_SC_PAGE_SIZE);
    size_t padded = (bytes + 255) / 256 * 256;
    size_t body = (padded + page - 1) / page * page;
    void* m = mmap(nullptr, body + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return false;
    char* start = static_cast<char*>(m);
    if (mprotect(start + body, page, PROT_NONE) != 0) {
        munmap(m, body + page);
        return false;
    }
    a->map = m;
    a->map_bytes = body + page;
    *base = reinterpret_cast<uintptr_t>(start + body - padded);
    return true;
}

void release(std::map<uintptr_t, Allocation>::iterator it) {
    munmap(it->second.map, it->second.map_bytes);
    allocated_bytes -= it->second.bytes;
    allocations.erase(it);
}

struct ErrorText {
    CUresult code;
    const char* name;
    const char* text;
};
const ErrorText kErrors[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
    {CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {CUDA_ERROR_INVALID_IMAGE, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
    {CUDA_ERROR_INVALID_CONTEXT, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
    {CUDA_ERROR_INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {CUDA_ERROR_ILLEGAL_ADDRESS, "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"},
    {CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",
     "too many resources requested for launch"},
    {CUDA_ERROR_CONTEXT_IS_DESTROYED, "CUDA_ERROR_CONTEXT_IS_DESTROYED", "context is destroyed"},
    {CUDA_ERROR_LAUNCH_FAILED, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
    {CUDA_ERROR_NOT_SUPPORTED, "CUDA_ERROR_NOT_SUPPORTED", "operation not supported"},
};

}  // namespace

// ---- initialisation, version, errors ----
EXPORT CUresult cuInit(unsigned flags) {
    if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
    std::lock_guard<std::mutex> lk(mu);
    if (!initialized) {
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
        size_t ram = pages > 0 && page > 0 ? (size_t) pages * (size_t) page : ((size_t) 8 << 30);
        total_memory = std::min(ram / 2, (size_t) 80 << 30);  // host memory stands in: at most half of it
        initialized = true;
    }
    return CUDA_SUCCESS;
}

EXPORT CUresult cuDriverGetVersion(int* version) {
    if (version == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *version = 12060;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuGetErrorName(CUresult error, const char** name) {
    if (name == nullptr) return CUDA_ERROR_INVALID_VALUE;
    for (const ErrorText& e : kErrors) {
        if (e.code == error) {
            *name = e.name;
            return CUDA_SUCCESS;
        }
    }
    *name = nullptr;
    return CUDA_ERROR_INVALID_VALUE;
}

EXPORT CUresult cuGetErrorString(CUresult error, const char** text) {
    if (text == nullptr) return CUDA_ERROR_INVALID_VALUE;
    for (const ErrorText& e : kErrors) {
        if (e.code == error) {
            *text = e.text;
            return CUDA_SUCCESS;
        }
    }
    *text = nullptr;
    return CUDA_ERROR_INVALID_VALUE;
}

// ---- the device ----
EXPORT CUresult cuDeviceGetCount(int* count) {
    if (count == nullptr) return CUDA_ERROR_INVALID_VALUE;
    std::lock_guard<std::mutex> lk(mu);
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    *count = 1;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuDeviceGet(CUdevice* device, int ordinal) {
    if (device == nullptr) return CUDA_ERROR_INVALID_VALUE;
    std::lock_guard<std::mutex> lk(mu);
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (ordinal != 0) return CUDA_ERROR_INVALID_DEVICE;
    *device = 0;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuDeviceGetName(char* name, int len, CUdevice device) {
    std::lock_guard<std::mutex> lk(mu);
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (device != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (name == nullptr || len <= 0) return CUDA_ERROR_INVALID_VALUE;
    std::snprintf(name, (size_t) len, "%s", kDeviceName);
    return CUDA_SUCCESS;
}

EXPORT CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice device) {
    std::lock_guard<std::mutex> lk(mu);
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (device != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (bytes == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *bytes = total_memory;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuDeviceGetAttribute(int* value, int attribute, CUdevice device) {
    std::lock_guard<std::mutex> lk(mu);
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (device != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (value == nullptr) return CUDA_ERROR_INVALID_VALUE;
    int v;
    switch (attribute) {
        case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK: v = 1024; break;
        case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X: v = 1024; break;
        case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y: v = 1024; break;
        case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z: v = 64; break;
        case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X: v = 2147483647; break;
        case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y: v = 65535; break;
        case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z: v = 65535; break;
        case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK: v = kDefaultDynamicShared; break;
        case CU_DEVICE_ATTRIBUTE_TOTAL_CONSTANT_MEMORY: v = 65536; break;
        case CU_DEVICE_ATTRIBUTE_WARP_SIZE: v = 32; break;
        case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK: v = 65536; break;
        case CU_DEVICE_ATTRIBUTE_CLOCK_RATE: v = 1980000; break;
        case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: v = kMultiprocessors; break;
        case CU_DEVICE_ATTRIBUTE_INTEGRATED: v = 0; break;
        case CU_DEVICE_ATTRIBUTE_CONCURRENT_KERNELS: v = 1; break;
        case CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE: v = 2619000; break;
        case CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH: v = 5120; break;
        case CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE: v = 50 * 1024 * 1024; break;
        case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR: v = 2048; break;
        case CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING: v = 1; break;
        case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: v = 9; break;
        case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: v = 0; break;
        case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR: v = 228 * 1024; break;
        case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR: v = 65536; break;
        case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: v = kOptinShared; break;
        case CU_DEVICE_ATTRIBUTE_MAX_BLOCKS_PER_MULTIPROCESSOR: v = 32; break;
        default: return CUDA_ERROR_INVALID_VALUE;
    }
    *value = v;
    return CUDA_SUCCESS;
}

// ---- contexts: a stack per thread ----
EXPORT CUresult cuCtxCreate_v2(CUcontext* context, unsigned flags, CUdevice device) {
    std::lock_guard<std::mutex> lk(mu);
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (device != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (context == nullptr) return CUDA_ERROR_INVALID_VALUE;
    uintptr_t h = new_handle();
    contexts[h] = Context{};
    ctx_stack.push_back(h);
    *context = reinterpret_cast<CUcontext>(h);
    return CUDA_SUCCESS;
}

EXPORT CUresult cuCtxDestroy_v2(CUcontext context) {
    std::lock_guard<std::mutex> lk(mu);
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    uintptr_t h = reinterpret_cast<uintptr_t>(context);
    if (contexts.erase(h) == 0) return CUDA_ERROR_INVALID_CONTEXT;
    for (auto it = allocations.begin(); it != allocations.end();) {
        auto next = std::next(it);
        if (it->second.ctx == h) release(it);
        it = next;
    }
    std::erase_if(modules, [h](const auto& m) { return m.second.ctx == h; });
    std::erase_if(functions, [h](const auto& f) { return f.second.ctx == h; });
    std::erase_if(streams, [h](const auto& s) { return s.second == h; });
    std::erase(ctx_stack, h);
    return CUDA_SUCCESS;
}

EXPORT CUresult cuCtxPushCurrent_v2(CUcontext context) {
    std::lock_guard<std::mutex> lk(mu);
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    uintptr_t h = reinterpret_cast<uintptr_t>(context);
    if (contexts.count(h) == 0) return CUDA_ERROR_INVALID_CONTEXT;
    ctx_stack.push_back(h);
    return CUDA_SUCCESS;
}

EXPORT CUresult cuCtxPopCurrent_v2(CUcontext* context) {
    std::lock_guard<std::mutex> lk(mu);
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (ctx_stack.empty()) return CUDA_ERROR_INVALID_CONTEXT;
    if (context != nullptr) *context = reinterpret_cast<CUcontext>(ctx_stack.back());
    ctx_stack.pop_back();
    return CUDA_SUCCESS;
}

EXPORT CUresult cuCtxGetCurrent(CUcontext* context) {
    std::lock_guard<std::mutex> lk(mu);
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (context == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *context = ctx_stack.empty() ? nullptr : reinterpret_cast<CUcontext>(ctx_stack.back());
    return CUDA_SUCCESS;
}

EXPORT CUresult cuCtxSetCurrent(CUcontext context) {
    std::lock_guard<std::mutex> lk(mu);
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    uintptr_t h = reinterpret_cast<uintptr_t>(context);
    if (h == 0) {
        if (!ctx_stack.empty()) ctx_stack.pop_back();
        return CUDA_SUCCESS;
    }
    if (contexts.count(h) == 0) return CUDA_ERROR_INVALID_CONTEXT;
    if (ctx_stack.empty()) {
        ctx_stack.push_back(h);
    } else {
        ctx_stack.back() = h;
    }
    return CUDA_SUCCESS;
}

EXPORT CUresult cuCtxGetDevice(CUdevice* device) {
    std::lock_guard<std::mutex> lk(mu);
    uintptr_t ctx;
    if (CUresult r = current(&ctx)) return r;
    if (device == nullptr) return CUDA_ERROR_INVALID_VALUE;
    *device = 0;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuCtxSynchronize() {
    std::lock_guard<std::mutex> lk(mu);
    uintptr_t ctx;
    return current(&ctx);
}

// ---- memory ----
EXPORT CUresult cuMemAlloc_v2(CUdeviceptr* pointer, size_t bytes) {
    std::lock_guard<std::mutex> lk(mu);
    uintptr_t ctx;
    if (CUresult r = current(&ctx)) return r;
    if (pointer == nullptr || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
    if (bytes > total_memory - allocated_bytes) return CUDA_ERROR_OUT_OF_MEMORY;
    Allocation a{bytes, ctx, nullptr, 0};
    uintptr_t base;
    if (!map_allocation(bytes, &a, &base)) return CUDA_ERROR_OUT_OF_MEMORY;
    std::memset(reinterpret_cast<void*>(base), 0xff, bytes);  // NaN in every float format: a read before a write shows
    allocations[base] = a;
    allocated_bytes += bytes;
    *pointer = base;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuMemFree_v2(CUdeviceptr pointer) {
    std::lock_guard<std::mutex> lk(mu);
    uintptr_t ctx;
    if (CUresult r = current(&ctx)) return r;
    if (pointer == 0) return CUDA_SUCCESS;
    auto it = allocations.find((uintptr_t) pointer);
    if (it == allocations.end()) return CUDA_ERROR_INVALID_VALUE;  // not a base address, freed already, or never ours
    release(it);
    return CUDA_SUCCESS;
}

EXPORT CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t bytes) {
    return copy(dst, true, reinterpret_cast<uintptr_t>(src), false, bytes, nullptr);
}
EXPORT CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t bytes) {
    return copy(reinterpret_cast<uintptr_t>(dst), false, src, true, bytes, nullptr);
}
EXPORT CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes) {
    return copy(dst, true, src, true, bytes, nullptr);
}
EXPORT CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t bytes, CUstream stream) {
    return copy(dst, true, reinterpret_cast<uintptr_t>(src), false, bytes, stream);
}
EXPORT CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t bytes, CUstream stream) {
    return copy(reinterpret_cast<uintptr_t>(dst), false, src, true, bytes, stream);
}
EXPORT CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream stream) {
    return copy(dst, true, src, true, bytes, stream);
}

EXPORT CUresult cuMemsetD8_v2(CUdeviceptr dst, unsigned char value, size_t count) {
    std::lock_guard<std::mutex> lk(mu);
    uintptr_t ctx;
    if (CUresult r = current(&ctx)) return r;
    if (count == 0) return CUDA_SUCCESS;
    if (find_range(dst, count) == allocations.end()) return CUDA_ERROR_INVALID_VALUE;
    std::memset(reinterpret_cast<void*>(dst), value, count);
    return CUDA_SUCCESS;
}

// ---- streams: synchronous, so a stream is a checked token ----
EXPORT CUresult cuStreamCreate(CUstream* stream, unsigned flags) {
    std::lock_guard<std::mutex> lk(mu);
    uintptr_t ctx;
    if (CUresult r = current(&ctx)) return r;
    if (stream == nullptr || flags > 1) return CUDA_ERROR_INVALID_VALUE;
    uintptr_t h = new_handle();
    streams[h] = ctx;
    *stream = reinterpret_cast<CUstream>(h);
    return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamDestroy_v2(CUstream stream) {
    std::lock_guard<std::mutex> lk(mu);
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    return streams.erase(reinterpret_cast<uintptr_t>(stream)) == 1 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

EXPORT CUresult cuStreamSynchronize(CUstream stream) {
    std::lock_guard<std::mutex> lk(mu);
    uintptr_t ctx;
    if (CUresult r = current(&ctx)) return r;
    return check_stream(stream, ctx);
}

// ---- modules and functions ----
EXPORT CUresult cuModuleLoadData(CUmodule* module, const void* image) {
    std::lock_guard<std::mutex> lk(mu);
    uintptr_t ctx;
    if (CUresult r = current(&ctx)) return r;
    if (module == nullptr || image == nullptr) return CUDA_ERROR_INVALID_VALUE;
    const unsigned char* b = static_cast<const unsigned char*>(image);
    uint32_t magic;
    uint16_t version, header;
    uint64_t size;
    std::memcpy(&magic, b, 4);
    std::memcpy(&version, b + 4, 2);
    std::memcpy(&header, b + 6, 2);
    std::memcpy(&size, b + 8, 8);
    if (magic != engram_driver_emu::kFatbinMagic || version != 1 || header != 16 || size > ((uint64_t) 1 << 30)) {
        return CUDA_ERROR_INVALID_IMAGE;
    }
    uintptr_t h = new_handle();
    modules[h] = Module{ctx, std::vector<unsigned char>(b, b + 16 + size)};
    *module = reinterpret_cast<CUmodule>(h);
    return CUDA_SUCCESS;
}

EXPORT CUresult cuModuleUnload(CUmodule module) {
    std::lock_guard<std::mutex> lk(mu);
    uintptr_t ctx;
    if (CUresult r = current(&ctx)) return r;
    uintptr_t h = reinterpret_cast<uintptr_t>(module);
    if (modules.erase(h) == 0) return CUDA_ERROR_INVALID_HANDLE;
    std::erase_if(functions, [h](const auto& f) { return f.second.module == h; });
    return CUDA_SUCCESS;
}

EXPORT CUresult cuModuleGetFunction(CUfunction* function, CUmodule module, const char* name) {
    std::lock_guard<std::mutex> lk(mu);
    uintptr_t ctx;
    if (CUresult r = current(&ctx)) return r;
    if (function == nullptr || name == nullptr) return CUDA_ERROR_INVALID_VALUE;
    auto m = modules.find(reinterpret_cast<uintptr_t>(module));
    if (m == modules.end()) return CUDA_ERROR_INVALID_HANDLE;
    if (!image_names(m->second.image, name)) return CUDA_ERROR_NOT_FOUND;
    for (const Kernel& k : kKernels) {
        if (std::strcmp(k.name, name) == 0) {
            uintptr_t h = new_handle();
            functions[h] = Function{m->second.ctx, m->first, &k};
            *function = reinterpret_cast<CUfunction>(h);
            return CUDA_SUCCESS;
        }
    }
    say(std::string("kernel ") + name + " is in the module image but not compiled into the emulated driver (add it "
        "to kKernels in cuda/emu/driver_emu.cpp)");
    return CUDA_ERROR_NOT_FOUND;
}

EXPORT CUresult cuFuncSetAttribute(CUfunction function, int attribute, int value) {
    std::lock_guard<std::mutex> lk(mu);
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    auto f = functions.find(reinterpret_cast<uintptr_t>(function));
    if (f == functions.end()) return CUDA_ERROR_INVALID_HANDLE;
    switch (attribute) {
        case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES:
            if (value < 0 || value > kOptinShared) return CUDA_ERROR_INVALID_VALUE;
            f->second.max_dynamic_shared = value;
            return CUDA_SUCCESS;
        case CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT:
            return value >= -1 && value <= 100 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
        default:
            return CUDA_ERROR_INVALID_VALUE;
    }
}

EXPORT CUresult cuFuncGetAttribute(int* value, int attribute, CUfunction function) {
    std::lock_guard<std::mutex> lk(mu);
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (value == nullptr) return CUDA_ERROR_INVALID_VALUE;
    auto f = functions.find(reinterpret_cast<uintptr_t>(function));
    if (f == functions.end()) return CUDA_ERROR_INVALID_HANDLE;
    switch (attribute) {
        case CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *value = f->second.kernel->max_threads; return CUDA_SUCCESS;
        case CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES:
        case CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES:
        case CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES:
        case CU_FUNC_ATTRIBUTE_NUM_REGS: *value = 0; return CUDA_SUCCESS;  // unknown on the host
        case CU_FUNC_ATTRIBUTE_PTX_VERSION:
        case CU_FUNC_ATTRIBUTE_BINARY_VERSION: *value = 90; return CUDA_SUCCESS;
        case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES: *value = f->second.max_dynamic_shared; return CUDA_SUCCESS;
        default: return CUDA_ERROR_INVALID_VALUE;
    }
}

EXPORT CUresult cuLaunchKernel(CUfunction function, unsigned gridX, unsigned gridY, unsigned gridZ, unsigned blockX,
                               unsigned blockY, unsigned blockZ, unsigned sharedBytes, CUstream stream,
                               void** kernelParams, void** extra) {
    std::function<void()> run;
    const Kernel* kernel;
    uintptr_t ctx;
    {
        std::lock_guard<std::mutex> lk(mu);
        if (CUresult r = current(&ctx)) return r;
        auto f = functions.find(reinterpret_cast<uintptr_t>(function));
        if (f == functions.end() || f->second.ctx != ctx) return CUDA_ERROR_INVALID_HANDLE;
        if (CUresult r = check_stream(stream, ctx)) return r;
        kernel = f->second.kernel;
        if (extra != nullptr) {
            say(std::string("cuLaunchKernel(") + kernel->name + "): the `extra` parameter buffer is not supported by "
                "the emulated driver; pass kernelParams");
            return CUDA_ERROR_NOT_SUPPORTED;
        }
        unsigned long long threads = (unsigned long long) blockX * blockY * blockZ;
        if (gridX == 0 || gridY == 0 || gridZ == 0 || threads == 0 || gridX > 2147483647u || gridY > 65535
            || gridZ > 65535 || blockX > 1024 || blockY > 1024 || blockZ > 64 || threads > 1024) {
            return CUDA_ERROR_INVALID_VALUE;
        }
        if (threads > (unsigned long long) kernel->max_threads) return CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES;
        if (sharedBytes > (unsigned) f->second.max_dynamic_shared) return CUDA_ERROR_INVALID_VALUE;
        std::string why;
        if (CUresult r = kernel->prepare(*kernel, dim3(gridX, gridY, gridZ), dim3(blockX, blockY, blockZ), sharedBytes,
                                         kernelParams, &run, &why)) {
            say("cuLaunchKernel: " + why);
            if (r == CUDA_ERROR_ILLEGAL_ADDRESS) contexts[ctx].sticky = r;
            return r;
        }
    }
    (void) cudaGetLastError();  // this thread's emulator state starts clean
    run();
    cudaError_t e = cudaGetLastError();
    if (e == cudaSuccess) return CUDA_SUCCESS;
    say(std::string("kernel ") + kernel->name + " failed: " + cudaGetErrorString(e));
    std::lock_guard<std::mutex> lk(mu);
    auto c = contexts.find(ctx);
    if (c != contexts.end()) c->second.sticky = CUDA_ERROR_LAUNCH_FAILED;
    return CUDA_ERROR_LAUNCH_FAILED;
}

// ---- for driver_emu_fatbins and the self-test: the kernel table ----
EXPORT int engram_cudadrv_emu_kernel(int i, const char** stem, const char** name, const char** params) {
    int n = (int) (sizeof kKernels / sizeof kKernels[0]);
    if (i < 0 || i >= n) return 0;
    *stem = kKernels[i].stem;
    *name = kKernels[i].name;
    *params = kKernels[i].params();
    return 1;
}
