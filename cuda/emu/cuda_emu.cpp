// cuda_emu.cpp: the host side of cuda_emu.h (see there for what is emulated and how): the device-call entry
// points (which hand over to the fiber scheduler in cuda_emu_fibers.cpp, the default), the OS-thread scheduler used
// with ENGRAM_EMU_MODE=threads (one std::thread per CUDA thread, mutex/condition-variable barriers), and the slice
// of the CUDA runtime API the library calls, over host memory.
#include "cuda_emu.h"
#include "cuda_emu_internal.h"

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <thread>
#include <unordered_map>
#include <vector>

namespace emu {
namespace {

/** Thrown inside an emulated thread to unwind it once the block has faulted. */
struct Unwind {};

struct Barrier {
    int expected = 0;
    int arrived = 0;
    unsigned gen = 0;
    std::condition_variable cv;  // only this barrier's waiters wake when it completes
};

struct AlignedBuffer {
    void* p = nullptr;
    size_t bytes = 0;
    AlignedBuffer() = default;
    explicit AlignedBuffer(size_t n) { allocate(n); }
    void allocate(size_t n) {
        p = ::operator new(n == 0 ? 64 : n, std::align_val_t(64));
        bytes = n;
        std::memset(p, 0xff, n == 0 ? 64 : n);
    }
    AlignedBuffer(const AlignedBuffer&) = delete;
    AlignedBuffer& operator=(const AlignedBuffer&) = delete;
    ~AlignedBuffer() {
        if (p) ::operator delete(p, std::align_val_t(64));
    }
};

/** One block in flight: all of its barriers share one mutex, so faults and deadlocks are seen, never waited out. */
struct Block {
    std::mutex mu;
    std::condition_variable cv;
    int nthreads = 0;
    int nwarps = 0;
    int exited = 0;
    int blocked = 0;  // threads waiting at a barrier that has not completed
    std::vector<int> warp_exited;
    Barrier block_bar;
    std::vector<Barrier> warp_bars;
    std::vector<std::array<uint64_t, 32>> exchange[2];  // per warp, double-buffered by barrier generation
    std::vector<std::array<unsigned char, 32 * kExchangeAllBytes>> wide[2];  // exchange_all, the same way
    bool fault = false;
    std::string fault_message;
    unsigned block_gen = 0;
    AlignedBuffer dynamic;
    size_t dynamic_bytes = 0;
    std::map<const void*, std::unique_ptr<AlignedBuffer>> statics;
    const char* kernel = "";
    dim3 grid;
    unsigned long long linear_index = 0;  // of the block in flight

    std::string where() const {
        char buf[200];
        unsigned long long i = linear_index;
        std::snprintf(buf, sizeof buf, "block (%llu,%llu,%llu) of kernel %s", i % grid.x, (i / grid.x) % grid.y,
                      i / ((unsigned long long) grid.x * grid.y), kernel);
        return buf;
    }

    void set_fault(const std::string& message) {  // caller holds mu
        if (!fault) {
            fault = true;
            fault_message = message;
        }
        cv.notify_all();
        block_bar.cv.notify_all();
        for (Barrier& b : warp_bars) b.cv.notify_all();
    }

    void check_deadlock() {  // caller holds mu
        if (!fault && blocked > 0 && blocked + exited == nthreads) {
            set_fault("deadlock in " + where() + ": all " + std::to_string(blocked)
                      + " live threads wait at barriers that cannot complete (threads split between different "
                        "__syncthreads/__syncwarp/shuffle calls)");
        }
    }

    void reset_for_next_block() {  // caller holds mu
        exited = 0;
        blocked = 0;
        std::fill(warp_exited.begin(), warp_exited.end(), 0);
        block_bar.arrived = 0;
        for (Barrier& b : warp_bars) b.arrived = 0;
        std::memset(dynamic.p, 0xff, dynamic_bytes == 0 ? 64 : dynamic_bytes);
        statics.clear();
        linear_index++;
    }
};

thread_local Block* tl_block = nullptr;
thread_local int tl_tid = 0;

inline int tl_warp() { return tl_tid / 32; }

Block& current() {
    if (tl_block == nullptr) {
        std::fprintf(stderr, "cuda_emu: a device function was called outside a kernel launch\n");
        std::abort();
    }
    return *tl_block;
}

unsigned full_mask_of_warp(const Block& b, int warp) {
    int lanes = std::min(32, b.nthreads - warp * 32);
    return lanes == 32 ? 0xffffffffu : ((1u << lanes) - 1);
}

/** Waits at bar with every thread it expects; what names it in fault messages. */
void wait_at(Block& b, Barrier& bar, bool is_block_barrier, const char* what, std::unique_lock<std::mutex>& lk) {
    if (b.fault) throw Unwind{};
    int gone = is_block_barrier ? b.exited : b.warp_exited[tl_warp()];
    if (gone > 0) {
        b.set_fault(std::string(what) + " reached by " + std::to_string(bar.arrived + 1) + " of "
                    + std::to_string(bar.expected) + " threads in " + b.where() + " (thread " + std::to_string(tl_tid)
                    + "), but " + std::to_string(gone) + " of them already exited the kernel: a barrier inside "
                      "divergent code");
        throw Unwind{};
    }
    bar.arrived++;
    if (bar.arrived == bar.expected) {
        bar.arrived = 0;
        bar.gen++;
        b.blocked -= bar.expected - 1;
        bar.cv.notify_all();
        return;
    }
    unsigned g = bar.gen;
    b.blocked++;
    b.check_deadlock();
    bar.cv.wait(lk, [&] { return bar.gen != g || b.fault; });
    if (bar.gen == g) throw Unwind{};
}

void check_mask(Block& b, unsigned mask, const char* what, std::unique_lock<std::mutex>& lk) {
    (void) lk;
    unsigned full = full_mask_of_warp(b, tl_warp());
    if (mask != full) {
        char buf[96];
        std::snprintf(buf, sizeof buf, " with mask 0x%08x (the emulator supports whole-warp masks only: 0x%08x)",
                      mask, full);
        b.set_fault(std::string(what) + buf + " in " + b.where());
        throw Unwind{};
    }
}

/** Marks the calling thread exited, detects barriers left waiting for it, and waits until the block is done. */
bool exit_block(Block& b) {
    std::unique_lock<std::mutex> lk(b.mu);
    b.exited++;
    b.warp_exited[tl_warp()]++;
    if (!b.fault) {
        if (b.block_bar.arrived > 0) {
            b.set_fault("__syncthreads reached by " + std::to_string(b.block_bar.arrived) + " of "
                        + std::to_string(b.nthreads) + " threads in " + b.where() + ", but thread "
                        + std::to_string(tl_tid) + " exited the kernel without reaching it: a barrier inside "
                          "divergent code");
        } else if (b.warp_bars[tl_warp()].arrived > 0) {
            b.set_fault("a warp-level call (__syncwarp, shuffle or ballot) reached by "
                        + std::to_string(b.warp_bars[tl_warp()].arrived) + " lanes of warp "
                        + std::to_string(tl_warp()) + " in " + b.where() + ", but lane " + std::to_string(tl_tid % 32)
                        + " exited the kernel without reaching it");
        } else {
            b.check_deadlock();
        }
    }
    if (b.exited == b.nthreads) {
        bool faulted = b.fault;
        b.reset_for_next_block();
        b.block_gen++;
        b.cv.notify_all();
        return faulted;
    }
    unsigned g = b.block_gen;
    b.cv.wait(lk, [&] { return b.block_gen != g; });
    return b.fault;
}

thread_local cudaError_t tl_last_error = cudaSuccess;
thread_local cudaError_t tl_message_code = cudaSuccess;
thread_local std::string tl_last_message;

void record_error(cudaError_t e, const std::string& message) {
    if (tl_last_error == cudaSuccess) tl_last_error = e;
    tl_message_code = e;
    tl_last_message = message;
}

std::mutex alloc_mu;
std::unordered_map<void*, size_t> allocations;
size_t allocated_bytes = 0;
size_t memory_limit = SIZE_MAX;

}  // namespace

void fault(const std::string& message) {
    if (fibers::active()) fibers::fault(message);
    Block& b = current();
    std::unique_lock<std::mutex> lk(b.mu);
    b.set_fault(message + " in " + b.where());
    throw Unwind{};
}

void* dynamic_shared() { return fibers::active() ? fibers::dynamic_shared() : current().dynamic.p; }

void* static_shared(const void* key, size_t bytes, size_t align) {
    if (fibers::active()) return fibers::static_shared(key, bytes, align);
    Block& b = current();
    std::unique_lock<std::mutex> lk(b.mu);
    auto it = b.statics.find(key);
    if (it == b.statics.end()) {
        if (align > 64) {
            b.set_fault("static shared array aligned to " + std::to_string(align) + " bytes (at most 64 emulated)");
            throw Unwind{};
        }
        it = b.statics.emplace(key, std::make_unique<AlignedBuffer>(bytes)).first;
    } else if (it->second->bytes != bytes) {
        b.set_fault("a static shared array changed size between threads");
        throw Unwind{};
    }
    return it->second->p;
}

void syncthreads() {
    if (fibers::active()) return fibers::syncthreads();
    Block& b = current();
    std::unique_lock<std::mutex> lk(b.mu);
    wait_at(b, b.block_bar, true, "__syncthreads", lk);
}

void syncwarp(unsigned mask) {
    if (fibers::active()) return fibers::syncwarp(mask);
    Block& b = current();
    std::unique_lock<std::mutex> lk(b.mu);
    check_mask(b, mask, "__syncwarp", lk);
    wait_at(b, b.warp_bars[tl_warp()], false, "__syncwarp", lk);
}

int lane_id() { return fibers::active() ? fibers::lane_id() : tl_tid % 32; }

namespace {
thread_local AsyncState tl_async;  // the OS-thread scheduler: one OS thread per CUDA thread of the block
AsyncState& async_state() { return fibers::active() ? fibers::async_state() : tl_async; }
}  // namespace

void cp_async(void* dst, const void* src, int bytes, int src_bytes) {
    if (bytes != 4 && bytes != 8 && bytes != 16) fault("cp.async of " + std::to_string(bytes) + " bytes (4, 8 or 16)");
    if (src_bytes < 0 || src_bytes > bytes)
        fault("cp.async src-size " + std::to_string(src_bytes) + " outside [0, " + std::to_string(bytes) + "]");
    if ((reinterpret_cast<uintptr_t>(dst) % (uintptr_t) bytes) != 0
        || (src_bytes > 0 && (reinterpret_cast<uintptr_t>(src) % (uintptr_t) bytes) != 0))
        fault("cp.async of " + std::to_string(bytes) + " bytes with a misaligned address");
    AsyncState& st = async_state();
    std::memset(dst, 0xff, (size_t) bytes);  // NaN until the wait: a missing wait shows in every cross-check
    st.pending.push_back(AsyncCopy{dst, src, bytes, src_bytes, st.committed});
}

void cp_async_commit() { async_state().committed++; }

void cp_async_wait(int pending_groups) {
    AsyncState& st = async_state();
    const long long done_below = st.committed - pending_groups;  // groups [0, done_below) complete
    std::vector<AsyncCopy> keep;
    for (const AsyncCopy& c : st.pending) {
        if (c.group < done_below) {
            if (c.src_bytes > 0) std::memcpy(c.dst, c.src, (size_t) c.src_bytes);
            std::memset(static_cast<unsigned char*>(c.dst) + c.src_bytes, 0, (size_t) (c.bytes - c.src_bytes));
        } else {
            keep.push_back(c);
        }
    }
    st.pending.swap(keep);
}

uint64_t exchange(unsigned mask, uint64_t mine, int src_lane) {
    if (fibers::active()) return fibers::exchange(mask, mine, src_lane);
    Block& b = current();
    int w = tl_warp();
    std::unique_lock<std::mutex> lk(b.mu);
    check_mask(b, mask, "a warp shuffle", lk);
    unsigned parity = b.warp_bars[w].gen & 1;
    b.exchange[parity][w][tl_tid % 32] = mine;
    wait_at(b, b.warp_bars[w], false, "a warp shuffle", lk);
    int lanes = std::min(32, b.nthreads - w * 32);
    return b.exchange[parity][w][src_lane < lanes ? src_lane : tl_tid % 32];
}

unsigned ballot(unsigned mask, bool predicate) {
    if (fibers::active()) return fibers::ballot(mask, predicate);
    Block& b = current();
    int w = tl_warp();
    std::unique_lock<std::mutex> lk(b.mu);
    check_mask(b, mask, "__ballot_sync", lk);
    unsigned parity = b.warp_bars[w].gen & 1;
    b.exchange[parity][w][tl_tid % 32] = predicate ? 1 : 0;
    wait_at(b, b.warp_bars[w], false, "__ballot_sync", lk);
    int lanes = std::min(32, b.nthreads - w * 32);
    unsigned out = 0;
    for (int l = 0; l < lanes; l++) {
        if (b.exchange[parity][w][l]) out |= 1u << l;
    }
    return out & mask;
}

void exchange_all(unsigned mask, const void* mine, size_t bytes, void* all) {
    if (bytes > kExchangeAllBytes) fault("exchange_all of " + std::to_string(bytes) + " bytes per lane (at most 64)");
    if (fibers::active()) return fibers::exchange_all(mask, mine, bytes, all);
    Block& b = current();
    int w = tl_warp();
    std::unique_lock<std::mutex> lk(b.mu);
    check_mask(b, mask, "a warp-wide exchange (mma.sync/ldmatrix)", lk);
    unsigned parity = b.warp_bars[w].gen & 1;
    std::memcpy(b.wide[parity][w].data() + (size_t) (tl_tid % 32) * bytes, mine, bytes);
    wait_at(b, b.warp_bars[w], false, "a warp-wide exchange (mma.sync/ldmatrix)", lk);
    int lanes = std::min(32, b.nthreads - w * 32);
    std::memcpy(all, b.wide[parity][w].data(), (size_t) lanes * bytes);
    std::memset(static_cast<unsigned char*>(all) + (size_t) lanes * bytes, 0, (size_t) (32 - lanes) * bytes);
}

namespace {
float bf16_low(uint32_t v) { return engram::half_bits::bf16_value((uint16_t) (v & 0xffffu)); }
float bf16_high(uint32_t v) { return engram::half_bits::bf16_value((uint16_t) (v >> 16)); }
}  // namespace

void mma_m16n8k16_bf16(float d[4], const uint32_t a[4], const uint32_t b[2], const float c[4]) {
    struct Frag {
        uint32_t a[4], b[2];
        float c[4];
    } mine, all[32];
    std::memcpy(mine.a, a, sizeof mine.a);
    std::memcpy(mine.b, b, sizeof mine.b);
    std::memcpy(mine.c, c, sizeof mine.c);
    exchange_all(0xffffffffu, &mine, sizeof mine, all);
    // Rebuild the whole A (16×16), B (16×8) and C (16×8) from the lanes' fragments, as the PTX ISA lays them out.
    float A[16][16], B[16][8], C[16][8];
    for (int lane = 0; lane < 32; lane++) {
        const int g = lane >> 2, t = lane & 3;
        for (int i = 0; i < 8; i++) {
            const uint32_t reg = all[lane].a[i / 2];
            const float v = (i & 1) ? bf16_high(reg) : bf16_low(reg);
            const int row = (i < 2 || (i >= 4 && i < 6)) ? g : g + 8;
            const int col = t * 2 + (i & 1) + (i >= 4 ? 8 : 0);
            A[row][col] = v;
        }
        for (int i = 0; i < 4; i++) {
            const uint32_t reg = all[lane].b[i / 2];
            const float v = (i & 1) ? bf16_high(reg) : bf16_low(reg);
            B[t * 2 + (i & 1) + (i >= 2 ? 8 : 0)][g] = v;
        }
        for (int i = 0; i < 4; i++) C[i < 2 ? g : g + 8][t * 2 + (i & 1)] = all[lane].c[i];
    }
    const int lane = lane_id(), g = lane >> 2, t = lane & 3;
    for (int i = 0; i < 4; i++) {
        const int row = i < 2 ? g : g + 8, col = t * 2 + (i & 1);
        double s = C[row][col];
        for (int k = 0; k < 16; k++) s += (double) A[row][k] * B[k][col];
        d[i] = (float) s;
    }
}

void ldmatrix(uint32_t* r, int count, bool trans, const void* row) {
    if (count != 1 && count != 2 && count != 4) fault("ldmatrix with .x" + std::to_string(count));
    const void* rows[32];
    exchange_all(0xffffffffu, &row, sizeof row, rows);
    const int lane = lane_id(), g = lane >> 2, t = lane & 3;
    for (int j = 0; j < count; j++) {
        uint16_t e[2];
        for (int h = 0; h < 2; h++) {
            // element (g, 2t + h) of matrix j, or (2t + h, g) transposed; row addresses from lanes 8j..8j+7
            const int mr = trans ? 2 * t + h : g, mc = trans ? g : 2 * t + h;
            const unsigned char* base = static_cast<const unsigned char*>(rows[8 * j + mr]);
            if (base == nullptr || (reinterpret_cast<uintptr_t>(base) & 15) != 0)
                fault("ldmatrix row address of lane " + std::to_string(8 * j + mr) + " is not 16-byte aligned");
            std::memcpy(&e[h], base + 2 * mc, 2);
        }
        r[j] = (uint32_t) e[0] | ((uint32_t) e[1] << 16);
    }
}

float tanh_approx(float x) {
    float y = std::tanh(x);
    uint32_t bits;
    std::memcpy(&bits, &y, 4);
    bits &= 0xffffe000u;  // keep 1 + 10 fraction bits: truncation toward zero, relative error < 2^-10
    std::memcpy(&y, &bits, 4);
    return y;
}

void launch(dim3 grid, dim3 block, size_t shared_bytes, const char* name, void (*trampoline)(void*), void* args) {
    unsigned long long nthreads = (unsigned long long) block.x * block.y * block.z;
    if (nthreads == 0 || nthreads > 1024 || grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.y > 65535
        || grid.z > 65535) {
        record_error(cudaErrorInvalidConfiguration,
                     std::string("invalid launch configuration for kernel ") + name + ": grid (" + std::to_string(grid.x)
                         + "," + std::to_string(grid.y) + "," + std::to_string(grid.z) + "), block ("
                         + std::to_string(block.x) + "," + std::to_string(block.y) + "," + std::to_string(block.z) + ")");
        return;
    }
    if (shared_bytes > 227 * 1024) {
        record_error(cudaErrorInvalidValue, std::string("kernel ") + name + " asks for " + std::to_string(shared_bytes)
                                                + " bytes of dynamic shared memory (at most 232448)");
        return;
    }
    const char* mode = std::getenv("ENGRAM_EMU_MODE");
    if (mode == nullptr || std::strcmp(mode, "threads") != 0) {
        std::string message;
        if (!fibers::launch(grid, block, shared_bytes, name, trampoline, args, &message))
            record_error(cudaErrorLaunchFailure, "kernel fault (emulator): " + message);
        return;
    }
    Block b;
    b.nthreads = (int) nthreads;
    b.nwarps = (b.nthreads + 31) / 32;
    b.warp_exited.assign(b.nwarps, 0);
    b.block_bar.expected = b.nthreads;
    b.warp_bars = std::vector<Barrier>(b.nwarps);
    for (int w = 0; w < b.nwarps; w++) b.warp_bars[w].expected = std::min(32, b.nthreads - w * 32);
    b.exchange[0].resize(b.nwarps);
    b.exchange[1].resize(b.nwarps);
    b.wide[0].resize(b.nwarps);
    b.wide[1].resize(b.nwarps);
    b.dynamic_bytes = shared_bytes;
    b.dynamic.allocate(shared_bytes);
    b.kernel = name;
    b.grid = grid;
    unsigned long long blocks = (unsigned long long) grid.x * grid.y * grid.z;

    auto worker = [&](int tid) {
        tl_block = &b;
        tl_tid = tid;
        threadIdx = uint3{(unsigned) tid % block.x, (unsigned) (tid / block.x) % block.y,
                          (unsigned) (tid / (block.x * block.y))};
        blockDim = block;
        gridDim = grid;
        for (unsigned long long i = 0; i < blocks; i++) {
            blockIdx = uint3{(unsigned) (i % grid.x), (unsigned) ((i / grid.x) % grid.y),
                             (unsigned) (i / ((unsigned long long) grid.x * grid.y))};
            tl_async.clear();
            try {
                trampoline(args);
            } catch (const Unwind&) {
                // the block faulted; this thread leaves the kernel and meets the others at the block's end
            }
            if (exit_block(b)) break;
        }
        tl_block = nullptr;
    };
    std::vector<std::thread> threads;
    threads.reserve(b.nthreads);
    for (int t = 1; t < b.nthreads; t++) threads.emplace_back(worker, t);
    // the launching thread is thread 0; restore its own context afterwards
    uint3 saved_t = threadIdx, saved_b = blockIdx;
    dim3 saved_bd = blockDim, saved_gd = gridDim;
    worker(0);
    for (std::thread& t : threads) t.join();
    threadIdx = saved_t;
    blockIdx = saved_b;
    blockDim = saved_bd;
    gridDim = saved_gd;
    if (b.fault) record_error(cudaErrorLaunchFailure, "kernel fault (emulator): " + b.fault_message);
}

}  // namespace emu

using namespace emu;

cudaError_t cudaGetDeviceCount(int* count) {
    *count = 1;
    return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) { return device == 0 ? cudaSuccess : cudaErrorInvalidValue; }
cudaError_t cudaGetDevice(int* device) {
    *device = 0;
    return cudaSuccess;
}
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
    if (device != 0) return cudaErrorInvalidValue;
    std::memset(prop, 0, sizeof *prop);
    std::snprintf(prop->name, sizeof prop->name, "host emulation of the CUDA execution model (cuda_emu)");
    prop->multiProcessorCount = (int) std::max(1u, std::thread::hardware_concurrency());
    prop->sharedMemPerBlock = 48 * 1024;
    prop->sharedMemPerBlockOptin = 227 * 1024;
    prop->totalGlobalMem = memory_limit == SIZE_MAX ? ((size_t) 1 << 40) : memory_limit;
    prop->major = 9;
    prop->minor = 0;
    prop->maxThreadsPerBlock = 1024;
    return cudaSuccess;
}
cudaError_t cudaMalloc(void** p, size_t bytes) {
    std::lock_guard<std::mutex> lk(alloc_mu);
    if (bytes > memory_limit || allocated_bytes + bytes > memory_limit) {
        *p = nullptr;
        record_error(cudaErrorMemoryAllocation, "out of memory");
        return cudaErrorMemoryAllocation;
    }
    void* q = ::operator new(bytes == 0 ? 256 : bytes, std::align_val_t(256), std::nothrow);
    if (q == nullptr) {
        *p = nullptr;
        record_error(cudaErrorMemoryAllocation, "out of memory");
        return cudaErrorMemoryAllocation;
    }
    allocations[q] = bytes;
    allocated_bytes += bytes;
    *p = q;
    return cudaSuccess;
}
cudaError_t cudaFree(void* p) {
    if (p == nullptr) return cudaSuccess;
    std::lock_guard<std::mutex> lk(alloc_mu);
    auto it = allocations.find(p);
    if (it == allocations.end()) {
        record_error(cudaErrorInvalidValue, "cudaFree of a pointer that cudaMalloc did not return");
        return cudaErrorInvalidValue;
    }
    allocated_bytes -= it->second;
    allocations.erase(it);
    ::operator delete(p, std::align_val_t(256));
    return cudaSuccess;
}
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind) {
    if (bytes > 0) std::memmove(dst, src, bytes);
    return cudaSuccess;
}
cudaError_t cudaMemcpy2D(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height,
                         cudaMemcpyKind) {
    if (width > dpitch || width > spitch) {
        record_error(cudaErrorInvalidValue, "cudaMemcpy2D: width exceeds a pitch");
        return cudaErrorInvalidValue;
    }
    for (size_t r = 0; r < height; r++)
        std::memmove(static_cast<char*>(dst) + r * dpitch, static_cast<const char*>(src) + r * spitch, width);
    return cudaSuccess;
}
cudaError_t cudaMemset(void* p, int value, size_t bytes) {
    std::memset(p, value, bytes);
    return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize() { return tl_last_error; }
cudaError_t cudaGetLastError() {
    cudaError_t e = tl_last_error;
    tl_last_error = cudaSuccess;
    return e;
}
cudaError_t cudaPeekAtLastError() { return tl_last_error; }
const char* cudaGetErrorString(cudaError_t e) {
    if (e != cudaSuccess && e == tl_message_code) return tl_last_message.c_str();
    switch (e) {
        case cudaSuccess: return "no error";
        case cudaErrorInvalidValue: return "invalid argument";
        case cudaErrorMemoryAllocation: return "out of memory";
        case cudaErrorInvalidConfiguration: return "invalid configuration argument";
        case cudaErrorNoDevice: return "no CUDA-capable device is detected";
        case cudaErrorLaunchFailure: return "unspecified launch failure";
    }
    return "unknown error";
}

namespace emu {
void set_memory_limit(size_t bytes) {
    std::lock_guard<std::mutex> lk(alloc_mu);
    memory_limit = bytes;
}
size_t allocated() {
    std::lock_guard<std::mutex> lk(alloc_mu);
    return allocated_bytes;
}
}  // namespace emu
