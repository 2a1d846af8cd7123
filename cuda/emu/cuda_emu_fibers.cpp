// cuda_emu_fibers.cpp: the default scheduler of the emulator. Every CUDA thread of a block is a host thread of
// control with its own stack and registers (a ucontext fiber); the fibers of one block take turns on one OS
// thread and switch only at barriers, warp shuffles and ballots, exactly where a GPU's threads must meet. Blocks are
// independent, so different blocks run in parallel on one OS worker per core.
//
// Why not one OS thread per CUDA thread (the other mode, ENGRAM_EMU_MODE=threads, kept in cuda_emu.cpp)? Every warp
// shuffle is a 32-thread barrier; with OS threads each costs tens of futex wake-ups and context switches (about a
// millisecond on two cores), which made a 1000×64 retrieval take 9 s. A fiber switch costs well under a
// microsecond (fibers start with makecontext/setcontext, then switch with _setjmp/_longjmp, which skip the
// signal-mask system calls of swapcontext), and the semantics checked are the same: a barrier completes only when
// every expected thread of the block (or warp) has arrived, a barrier some thread can no longer reach (it exited)
// is a fault, and a state where every live thread waits at a barrier that cannot complete is a reported deadlock,
// never a hang.
//
// _longjmp between fiber stacks is what fortified builds forbid (__longjmp_chk), so keep it plain here.
#undef _FORTIFY_SOURCE
#include "cuda_emu.h"
#include "cuda_emu_internal.h"

#include <csetjmp>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <sys/mman.h>
#include <thread>
#include <ucontext.h>
#include <unistd.h>
#include <vector>

namespace emu {
namespace fibers {
namespace {

constexpr size_t kStackBytes = 256 * 1024;

struct Unwind {};

enum class State { Ready, Waiting, Exited };

struct Barrier {
    int expected = 0;
    int arrived = 0;
    unsigned gen = 0;
};

struct Block;

struct Fiber {
    ucontext_t ctx;  // first entry only
    jmp_buf jb;      // every later resumption
    bool started = false;
    void* stack = nullptr;
    int tid = 0;
    uint3 idx{0, 0, 0};
    State state = State::Ready;
    Barrier* waiting_on = nullptr;
    Block* block = nullptr;
    AsyncState async;
};

/** One block being run by one worker: its fibers, barriers, shared memory and fault state. */
struct Block {
    ucontext_t scheduler;  // uc_link of the fibers (never used: fibers never return)
    jmp_buf scheduler_jb;
    std::vector<Fiber> fibers;
    int nthreads = 0;
    int current = 0;
    int exited = 0;
    std::vector<int> warp_exited;
    Barrier block_bar;
    std::vector<Barrier> warp_bars;
    std::vector<std::array<uint64_t, 32>> exchange[2];
    std::vector<std::array<unsigned char, 32 * kExchangeAllBytes>> wide[2];  // exchange_all, as exchange
    bool fault = false;
    std::string fault_message;
    void* dynamic = nullptr;
    size_t dynamic_bytes = 0;
    std::map<const void*, std::pair<void*, size_t>> statics;
    const char* kernel = "";
    uint3 index{0, 0, 0};
    void (*trampoline)(void*) = nullptr;
    void* args = nullptr;
    uint64_t rng = 1;

    int next_random(int n) {  // xorshift64*
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        return (int) (((rng * 0x2545F4914F6CDD1DULL) >> 33) % (uint64_t) n);
    }

    std::string where() const {
        char buf[200];
        std::snprintf(buf, sizeof buf, "block (%u,%u,%u) of kernel %s", index.x, index.y, index.z, kernel);
        return buf;
    }
    void set_fault(const std::string& m) {
        if (!fault) {
            fault = true;
            fault_message = m;
        }
    }
};

thread_local Block* tl_block = nullptr;

/** Saves the caller into `save` and continues `target` where it stopped (or at its entry). */
void jump(jmp_buf& save, Fiber& target) {
    if (_setjmp(save) == 0) {
        if (target.started) _longjmp(target.jb, 1);
        target.started = true;
        setcontext(&target.ctx);
    }
}

void jump_to_scheduler(jmp_buf& save, Block& b) {
    if (_setjmp(save) == 0) _longjmp(b.scheduler_jb, 1);
}

Block& cur() {
    if (tl_block == nullptr) {
        std::fprintf(stderr, "cuda_emu: a device function was called outside a kernel launch\n");
        std::abort();
    }
    return *tl_block;
}

Fiber& me() {
    Block& b = cur();
    return b.fibers[b.current];
}

/** Switches from the calling fiber to the next ready one (round robin), or back to the scheduler if none. */
void yield_from(Block& b) {
    Fiber& self = b.fibers[b.current];
    const int n = b.nthreads;
    // Start the search at a pseudo-random fiber: the order in which threads run between barriers varies from
    // block to block (reproducibly: the seed is the block index), so code that relies on an order no barrier
    // guarantees gives wrong answers here too instead of passing by luck of a fixed round robin.
    const int start = b.next_random(n);
    for (int step = 0; step < n; step++) {
        int j = (start + step) % n;
        if (b.fibers[j].state == State::Ready) {
            if (j == b.current) return;
            b.current = j;
            threadIdx = b.fibers[j].idx;
            jump(self.jb, b.fibers[j]);
            return;  // resumed: b.current is this fiber again (set by whoever switched back)
        }
    }
    jump_to_scheduler(self.jb, b);  // nobody ready: the scheduler decides (all exited, or a deadlock)
}

void wait_at(Barrier& bar, bool block_barrier, const char* what) {
    Block& b = cur();
    Fiber& self = b.fibers[b.current];
    if (b.fault) throw Unwind{};
    const int gone = block_barrier ? b.exited : b.warp_exited[self.tid / 32];
    if (gone > 0) {
        b.set_fault(std::string(what) + " reached by " + std::to_string(bar.arrived + 1) + " of "
                    + std::to_string(bar.expected) + " threads in " + b.where() + " (thread "
                    + std::to_string(self.tid) + "), but " + std::to_string(gone)
                    + " of them already exited the kernel: a barrier inside divergent code");
        throw Unwind{};
    }
    bar.arrived++;
    if (bar.arrived == bar.expected) {
        bar.arrived = 0;
        bar.gen++;
        for (Fiber& f : b.fibers) {
            if (f.state == State::Waiting && f.waiting_on == &bar) {
                f.state = State::Ready;
                f.waiting_on = nullptr;
            }
        }
        return;
    }
    self.state = State::Waiting;
    self.waiting_on = &bar;
    yield_from(b);
    Block& b2 = cur();
    threadIdx = b2.fibers[b2.current].idx;
    if (b2.fault) throw Unwind{};
}

void check_mask(Block& b, unsigned mask, const char* what) {
    const int w = b.fibers[b.current].tid / 32;
    const int lanes = std::min(32, b.nthreads - w * 32);
    const unsigned full = lanes == 32 ? 0xffffffffu : ((1u << lanes) - 1);
    if (mask != full) {
        char buf[120];
        std::snprintf(buf, sizeof buf, " with mask 0x%08x (the emulator supports whole-warp masks only: 0x%08x)", mask,
                      full);
        b.set_fault(std::string(what) + buf + " in " + b.where());
        throw Unwind{};
    }
}

void fiber_entry() {
    Block& b = cur();
    Fiber& self = b.fibers[b.current];
    try {
        b.trampoline(b.args);
    } catch (const Unwind&) {
        // the block faulted; this thread leaves the kernel
    }
    Block& bb = cur();
    Fiber& f = bb.fibers[bb.current];
    (void) self;
    f.state = State::Exited;
    bb.exited++;
    bb.warp_exited[f.tid / 32]++;
    if (!bb.fault) {
        if (bb.block_bar.arrived > 0) {
            bb.set_fault("__syncthreads reached by " + std::to_string(bb.block_bar.arrived) + " of "
                         + std::to_string(bb.nthreads) + " threads in " + bb.where() + ", but thread "
                         + std::to_string(f.tid) + " exited the kernel without reaching it: a barrier inside "
                           "divergent code");
        } else if (bb.warp_bars[f.tid / 32].arrived > 0) {
            bb.set_fault("a warp-level call (__syncwarp, shuffle or ballot) reached by "
                         + std::to_string(bb.warp_bars[f.tid / 32].arrived) + " lanes of warp "
                         + std::to_string(f.tid / 32) + " in " + bb.where() + ", but lane " + std::to_string(f.tid % 32)
                         + " exited the kernel without reaching it");
        }
    }
    yield_from(bb);  // never resumed: an exited fiber is never Ready again
    std::abort();
}

/** Runs one block to completion on the calling OS thread. */
void run_block(Block& b) {
    b.exited = 0;
    b.fault = false;
    std::fill(b.warp_exited.begin(), b.warp_exited.end(), 0);
    b.block_bar.arrived = 0;
    for (Barrier& w : b.warp_bars) w.arrived = 0;
    std::memset(b.dynamic, 0xff, b.dynamic_bytes == 0 ? 64 : b.dynamic_bytes);
    for (auto& kv : b.statics) ::operator delete(kv.second.first, std::align_val_t(64));
    b.statics.clear();
    for (Fiber& f : b.fibers) {
        f.state = State::Ready;
        f.waiting_on = nullptr;
        f.started = false;
        getcontext(&f.ctx);
        f.ctx.uc_stack.ss_sp = f.stack;
        f.ctx.uc_stack.ss_size = kStackBytes;
        f.ctx.uc_link = &b.scheduler;
        makecontext(&f.ctx, fiber_entry, 0);
    }
    tl_block = &b;
    for (;;) {
        int next = -1;
        const int start = b.next_random(b.nthreads);
        for (int step = 0; step < b.nthreads; step++) {
            const int j = (start + step) % b.nthreads;
            if (b.fibers[j].state == State::Ready) {
                next = j;
                break;
            }
        }
        if (next < 0) {
            if (b.exited == b.nthreads) break;
            // live threads remain but none can run: every one waits at a barrier that cannot complete
            int waiting = b.nthreads - b.exited;
            b.set_fault("deadlock in " + b.where() + ": all " + std::to_string(waiting)
                        + " live threads wait at barriers that cannot complete (threads split between different "
                          "__syncthreads/__syncwarp/shuffle calls, or some exited)");
            for (Fiber& f : b.fibers) {
                if (f.state == State::Waiting) f.state = State::Ready;  // they resume, see the fault and unwind
            }
            continue;
        }
        b.current = next;
        threadIdx = b.fibers[next].idx;
        jump(b.scheduler_jb, b.fibers[next]);
    }
    tl_block = nullptr;
}

}  // namespace

bool active() { return tl_block != nullptr; }

void* dynamic_shared() { return cur().dynamic; }

void* static_shared(const void* key, size_t bytes, size_t align) {
    Block& b = cur();
    auto it = b.statics.find(key);
    if (it == b.statics.end()) {
        if (align > 64) {
            b.set_fault("static shared array aligned to " + std::to_string(align) + " bytes (at most 64 emulated)");
            throw Unwind{};
        }
        void* p = ::operator new(bytes == 0 ? 64 : bytes, std::align_val_t(64));
        std::memset(p, 0xff, bytes == 0 ? 64 : bytes);
        it = b.statics.emplace(key, std::make_pair(p, bytes)).first;
    } else if (it->second.second != bytes) {
        b.set_fault("a static shared array changed size between threads");
        throw Unwind{};
    }
    return it->second.first;
}

void fault(const std::string& message) {
    Block& b = cur();
    b.set_fault(message + " in " + b.where());
    throw Unwind{};
}

void syncthreads() { wait_at(cur().block_bar, true, "__syncthreads"); }

void syncwarp(unsigned mask) {
    Block& b = cur();
    check_mask(b, mask, "__syncwarp");
    wait_at(b.warp_bars[b.fibers[b.current].tid / 32], false, "__syncwarp");
}

int lane_id() { return me().tid % 32; }

AsyncState& async_state() { return me().async; }

uint64_t exchange(unsigned mask, uint64_t mine, int src_lane) {
    Block& b = cur();
    check_mask(b, mask, "a warp shuffle");
    const int tid = b.fibers[b.current].tid, w = tid / 32;
    const unsigned parity = b.warp_bars[w].gen & 1;
    b.exchange[parity][w][tid % 32] = mine;
    wait_at(b.warp_bars[w], false, "a warp shuffle");
    const int lanes = std::min(32, b.nthreads - w * 32);
    return b.exchange[parity][w][src_lane < lanes ? src_lane : tid % 32];
}

unsigned ballot(unsigned mask, bool predicate) {
    Block& b = cur();
    check_mask(b, mask, "__ballot_sync");
    const int tid = b.fibers[b.current].tid, w = tid / 32;
    const unsigned parity = b.warp_bars[w].gen & 1;
    b.exchange[parity][w][tid % 32] = predicate ? 1 : 0;
    wait_at(b.warp_bars[w], false, "__ballot_sync");
    const int lanes = std::min(32, b.nthreads - w * 32);
    unsigned out = 0;
    for (int l = 0; l < lanes; l++)
        if (b.exchange[parity][w][l]) out |= 1u << l;
    return out & mask;
}

void exchange_all(unsigned mask, const void* mine, size_t bytes, void* all) {
    Block& b = cur();
    check_mask(b, mask, "a warp-wide exchange (mma.sync/ldmatrix)");
    const int tid = b.fibers[b.current].tid, w = tid / 32;
    const unsigned parity = b.warp_bars[w].gen & 1;
    std::memcpy(b.wide[parity][w].data() + (size_t) (tid % 32) * bytes, mine, bytes);
    wait_at(b.warp_bars[w], false, "a warp-wide exchange (mma.sync/ldmatrix)");
    const int lanes = std::min(32, b.nthreads - w * 32);
    std::memcpy(all, b.wide[parity][w].data(), (size_t) lanes * bytes);
    std::memset(static_cast<unsigned char*>(all) + (size_t) lanes * bytes, 0, (size_t) (32 - lanes) * bytes);
}

bool launch(dim3 grid, dim3 block, size_t shared_bytes, const char* name, void (*trampoline)(void*), void* args,
            std::string* fault_message) {
    const int nthreads = (int) (block.x * block.y * block.z);
    const int nwarps = (nthreads + 31) / 32;
    const unsigned long long blocks = (unsigned long long) grid.x * grid.y * grid.z;
    const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    const int workers = (int) std::min<unsigned long long>(blocks, hw);
    std::atomic<unsigned long long> next{0};
    std::atomic<bool> faulted{false};
    std::mutex fault_mu;

    auto work = [&]() {
        Block b;
        b.nthreads = nthreads;
        b.kernel = name;
        b.trampoline = trampoline;
        b.args = args;
        b.fibers.resize(nthreads);
        b.warp_exited.assign(nwarps, 0);
        b.block_bar.expected = nthreads;
        b.warp_bars.resize(nwarps);
        for (int w = 0; w < nwarps; w++) b.warp_bars[w].expected = std::min(32, nthreads - w * 32);
        b.exchange[0].resize(nwarps);
        b.exchange[1].resize(nwarps);
        b.wide[0].resize(nwarps);
        b.wide[1].resize(nwarps);
        b.dynamic_bytes = shared_bytes;
        b.dynamic = ::operator new(shared_bytes == 0 ? 64 : shared_bytes, std::align_val_t(64));
        const long page = sysconf(_SC_PAGESIZE);
        bool stacks_ok = true;
        for (int t = 0; t < nthreads; t++) {
            void* s = mmap(nullptr, kStackBytes + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                           -1, 0);
            if (s == MAP_FAILED) {
                stacks_ok = false;
                break;
            }
            mprotect(s, page, PROT_NONE);  // guard page: a stack overflow faults instead of corrupting memory
            b.fibers[t].stack = static_cast<char*>(s) + page;
            b.fibers[t].tid = t;
            b.fibers[t].idx = uint3{(unsigned) t % block.x, (unsigned) (t / block.x) % block.y,
                                    (unsigned) (t / (block.x * block.y))};
            b.fibers[t].block = &b;
        }
        blockDim = block;
        gridDim = grid;
        if (!stacks_ok) {
            std::lock_guard<std::mutex> lk(fault_mu);
            if (!faulted.exchange(true)) *fault_message = "cannot map fiber stacks for the emulated threads";
        }
        while (stacks_ok && !faulted.load()) {
            const unsigned long long i = next.fetch_add(1);
            if (i >= blocks) break;
            b.index = uint3{(unsigned) (i % grid.x), (unsigned) ((i / grid.x) % grid.y),
                            (unsigned) (i / ((unsigned long long) grid.x * grid.y))};
            blockIdx = b.index;
            for (Fiber& f : b.fibers) f.async.clear();
            b.rng = 0x9E3779B97F4A7C15ULL * (i + 1);
            run_block(b);
            if (b.fault) {
                std::lock_guard<std::mutex> lk(fault_mu);
                if (!faulted.exchange(true)) *fault_message = b.fault_message;
            }
        }
        for (Fiber& f : b.fibers) {
            if (f.stack != nullptr) munmap(static_cast<char*>(f.stack) - page, kStackBytes + page);
        }
        for (auto& kv : b.statics) ::operator delete(kv.second.first, std::align_val_t(64));
        ::operator delete(b.dynamic, std::align_val_t(64));
    };
    uint3 saved_t = threadIdx, saved_b = blockIdx;
    dim3 saved_bd = blockDim, saved_gd = gridDim;
    std::vector<std::thread> pool;
    for (int w = 1; w < workers; w++) pool.emplace_back(work);
    work();
    for (std::thread& t : pool) t.join();
    threadIdx = saved_t;
    blockIdx = saved_b;
    blockDim = saved_bd;
    gridDim = saved_gd;
    return !faulted.load();
}

}  // namespace fibers
}  // namespace emu
