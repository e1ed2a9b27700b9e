// The host emulator's launcher: runs a kernel compiled from kernels/*.cu by g++ over a grid, each
// thread of a block as a fiber (a stack of its own and a hand-written context switch), so
// __syncthreads() and warp shuffles work as on the GPU: a fiber that reaches one waits until every
// live thread of its block (or warp) has too. Blocks are independent, as on a GPU, so the grid is
// shared out to one worker per core (the caller and a pool; SDJ_EMU_THREADS sets the count); each
// worker runs its blocks one after another with fibers of its own. Linked into every family's library.
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "cuda_emu.h"

#if !defined(__x86_64__)
#error "the CUDA emulator's context switch and argument passing are written for x86-64 (System V ABI)"
#endif

thread_local sdj_uint3 threadIdx, blockIdx;  // of the fiber running on this worker
sdj_uint3 blockDim, gridDim;                 // the same for every block of a launch

namespace {

constexpr int MAX_THREADS = 1024;
constexpr size_t STACK_BYTES = 256 * 1024;
// The lowest bytes of each stack hold a known pattern, checked after every block: a fiber that used up
// its stack fails the launch. (Guard pages would fault instead, but each splits the mapping in two,
// and 1024 stacks per worker per family library ran into the kernel's limit on mappings.)
constexpr size_t CANARY_WORDS = 8;
constexpr uint64_t CANARY = 0x5d1e5d1e5d1e5d1eull;

// Saves the callee-saved registers on the current stack, stores the stack pointer in *save and
// continues on `next` (a stack saved the same way, or a fresh one made by fresh_stack).
extern "C" void sdj_emu_switch(void** save, void* next);
asm(R"(
    .text
    .p2align 4
    .type sdj_emu_switch, @function
sdj_emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size sdj_emu_switch, .-sdj_emu_switch
)");

// A barrier among `live` participants; generation counts completed rounds.
struct Barrier {
    int live = 0, arrived = 0;
    unsigned long generation = 0;

    // True when this arrival completes the round (the caller then goes on without waiting).
    bool arrive() {
        if (++arrived < live) return false;
        arrived = 0;
        generation++;
        return true;
    }
    // A participant finished: a round may now be complete without it.
    void leave() {
        live--;
        if (arrived > 0 && arrived >= live) {
            arrived = 0;
            generation++;
        }
    }
};

struct Warp {
    Barrier barrier;
    int lanes;             // threads of the block in this warp (32 but for a partial last warp)
    uint32_t slot[2][32];  // shuffles alternate between two sets, so one barrier per shuffle suffices
    float tile[256];  // for sdj_emu_warp_gather (the WMMA emulation)
};

struct Fiber {
    void* sp = nullptr;
    const unsigned long* wait_generation = nullptr;  // blocked while *wait_generation == wait_value
    unsigned long wait_value = 0;
    bool done = false;
};

using KernelFn = void (*)();

struct Launch {
    KernelFn fn;
    long long ints[32];
    int n_ints;
    float floats[8];
    int n_floats;
};

// What one worker thread needs to run blocks: its fibers (stacks and states), the running block's
// barriers, and its copy of the launch's dynamic shared memory.
struct Worker {
    char* stacks = nullptr;
    int canaried = 0;  // stacks whose canary is written
    Fiber fibers[MAX_THREADS];
    Warp warps[MAX_THREADS / 32];
    Barrier block_barrier;
    Fiber* current = nullptr;
    int block_threads = 0;
    void* scheduler_sp = nullptr;
    std::vector<unsigned char> dynamic_shared;
};

thread_local Worker* this_worker = nullptr;

Worker& me() {
    if (!this_worker) this_worker = new Worker();  // kept for the thread's life
    return *this_worker;
}

const Launch* active = nullptr;
std::mutex error_mutex;
char launch_error[256];  // the first undefined behaviour or deadlock of a launch, reported after it
std::atomic<bool> launch_failed{false};
std::mutex one_launch_at_a_time;

// Records the launch's first error; the workers then stop taking blocks.
void fail(const char* format, ...) {
    std::lock_guard<std::mutex> guard(error_mutex);
    if (launch_failed.load()) return;
    va_list args;
    va_start(args, format);
    vsnprintf(launch_error, sizeof launch_error, format, args);
    va_end(args);
    launch_failed.store(true);
}

// Calls the kernel with the launch's arguments. Under the System V x86-64 ABI the integer-class
// arguments (pointers, int, long long) go to six registers and then to 8-byte stack slots in order,
// and float arguments to xmm0-7, independently of how the two kinds interleave. So any kernel with at
// most 8 float and 30 integer arguments receives its parameters correctly from this fixed prototype:
// an int parameter reads the low half of its register or slot.
void call_kernel(const Launch& l) {
    using Wide = void (*)(long long, long long, long long, long long, long long, long long, float, float, float,
                          float, float, float, float, float, long long, long long, long long, long long, long long,
                          long long, long long, long long, long long, long long, long long, long long, long long,
                          long long, long long, long long, long long, long long, long long, long long, long long,
                          long long, long long, long long, long long, long long);
    const long long* i = l.ints;
    const float* f = l.floats;
    reinterpret_cast<Wide>(l.fn)(i[0], i[1], i[2], i[3], i[4], i[5], f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7],
                                 i[6], i[7], i[8], i[9], i[10], i[11], i[12], i[13], i[14], i[15], i[16], i[17],
                                 i[18], i[19], i[20], i[21], i[22], i[23], i[24], i[25], i[26], i[27], i[28], i[29],
                                 i[30], i[31]);
}

bool runnable(const Fiber& f) {
    return !f.done && !(f.wait_generation && *f.wait_generation == f.wait_value);
}

// Switches from the current fiber straight to the next runnable one (cheaper than a round trip
// through the scheduler); to the scheduler when none is left, which then ends or reports a deadlock.
void switch_away() {
    Worker& w = me();
    Fiber* self = w.current;
    int index = (int)(self - w.fibers);
    for (int step = 1; step <= w.block_threads; step++) {
        int t = (index + step) % w.block_threads;
        Fiber& f = w.fibers[t];
        if (&f != self && runnable(f)) {
            f.wait_generation = nullptr;
            threadIdx = sdj_uint3{(unsigned)t, 0, 0};
            w.current = &f;
            sdj_emu_switch(&self->sp, f.sp);
            return;
        }
    }
    sdj_emu_switch(&self->sp, w.scheduler_sp);
}

// Every fiber starts here (reached by the `ret` of its first switch) and never returns.
void fiber_main() {
    call_kernel(*active);
    Worker& w = me();
    w.current->done = true;
    w.block_barrier.leave();
    w.warps[threadIdx.x / 32].barrier.leave();
    switch_away();
    __builtin_unreachable();
}

// A stack whose first switch pops six zero registers and "returns" into fiber_main with the
// alignment of a normal call (rsp = 8 mod 16 at entry).
void* fresh_stack(char* stacks, int t) {
    char* top = stacks + (size_t)(t + 1) * STACK_BYTES;
    auto* slot = reinterpret_cast<void**>(top - 16);
    slot[0] = reinterpret_cast<void*>(&fiber_main);
    slot[1] = nullptr;
    void** sp = slot - 6;
    for (int r = 0; r < 6; r++) sp[r] = nullptr;
    return sp;
}

bool ensure_stacks(Worker& w) {
    if (w.stacks) return true;
    void* m = mmap(nullptr, STACK_BYTES * MAX_THREADS, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
        fail("the CUDA emulator could not reserve its fiber stacks (%zu bytes)", STACK_BYTES * MAX_THREADS);
        return false;
    }
    w.stacks = static_cast<char*>(m);
    return true;
}

uint64_t* canary(Worker& w, int t) {
    return reinterpret_cast<uint64_t*>(w.stacks + (size_t)t * STACK_BYTES);
}

// Writes the canaries of stacks [w.canaried, threads) (the pages of stacks never used stay untouched).
void mark_stacks(Worker& w, int threads) {
    for (; w.canaried < threads; w.canaried++)
        for (size_t i = 0; i < CANARY_WORDS; i++) canary(w, w.canaried)[i] = CANARY;
}

bool stack_intact(Worker& w, int t) {
    for (size_t i = 0; i < CANARY_WORDS; i++)
        if (canary(w, t)[i] != CANARY) return false;
    return true;
}

void wait_on(Barrier& b) {
    Fiber* self = me().current;
    self->wait_generation = &b.generation;
    self->wait_value = b.generation;
    switch_away();
    // resumed: whoever switched here has set threadIdx and current for this fiber
}

// Runs one block to completion on this worker; a deadlock fails the launch.
void run_block(Worker& w, int threads) {
    w.block_barrier = Barrier{threads, 0, 0};
    w.block_threads = threads;
    for (int i = 0; i * 32 < threads; i++) {
        int lanes = threads - i * 32 < 32 ? threads - i * 32 : 32;
        w.warps[i].barrier = Barrier{lanes, 0, 0};
        w.warps[i].lanes = lanes;
    }
    mark_stacks(w, threads);
    for (int t = 0; t < threads; t++) w.fibers[t] = Fiber{fresh_stack(w.stacks, t), nullptr, 0, false};
    // Fibers pass control among themselves; it comes back here when none can run any more.
    threadIdx = sdj_uint3{0, 0, 0};
    w.current = &w.fibers[0];
    sdj_emu_switch(&w.scheduler_sp, w.fibers[0].sp);
    int waiting = 0;
    for (int t = 0; t < threads; t++) waiting += w.fibers[t].done ? 0 : 1;
    if (waiting > 0)
        fail("block (%u, %u, %u) deadlocked: %d of its %d threads wait at barriers that can never complete",
             blockIdx.x, blockIdx.y, blockIdx.z, waiting, threads);
    for (int t = 0; t < threads; t++)
        if (!stack_intact(w, t))
            fail("thread %d of block (%u, %u, %u) overflowed its %zu KB emulator stack", t, blockIdx.x, blockIdx.y,
                 blockIdx.z, STACK_BYTES / 1024);
}

// A launch's grid, handed out block by block to whichever worker asks next.
struct Grid {
    unsigned gx, gy, block;
    size_t shared_bytes;
    long long total;
    std::atomic<long long> next{0};
};

// Runs blocks of the grid until none is left or the launch has failed.
void run_blocks(Grid& g) {
    Worker& w = me();
    if (!ensure_stacks(w)) return;
    // 0xFF bytes (NaN as floats, as in "device memory"): a kernel reading shared memory it never wrote
    // shows up in its results instead of seeing zeros a GPU would not give it.
    w.dynamic_shared.assign(g.shared_bytes + 512, 0xFF);
    for (long long b; !launch_failed.load(std::memory_order_relaxed) && (b = g.next.fetch_add(1)) < g.total;) {
        blockIdx = sdj_uint3{(unsigned)(b % g.gx), (unsigned)(b / g.gx % g.gy), (unsigned)(b / ((long long)g.gx * g.gy))};
        run_block(w, (int)g.block);
    }
}

// Worker threads beside the caller. Never destroyed (a condition variable must not be destroyed while
// idle workers wait on it at process exit).
class Pool {
public:
    explicit Pool(int helpers) {
        for (int i = 0; i < helpers; i++) std::thread([this] { serve(); }).detach();
        count_ = helpers;
    }

    // Runs the grid on the caller and every pool thread; returns when all are done with it.
    void run(Grid& g) {
        if (count_ == 0 || g.total < 2) {
            run_blocks(g);
            return;
        }
        {
            std::lock_guard<std::mutex> guard(mutex_);
            grid_ = &g;
            busy_ = count_;
            round_++;
        }
        start_.notify_all();
        run_blocks(g);
        std::unique_lock<std::mutex> lock(mutex_);
        done_.wait(lock, [this] { return busy_ == 0; });
    }

private:
    void serve() {
        unsigned long seen = 0;
        for (;;) {
            Grid* g;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                start_.wait(lock, [&] { return round_ != seen; });
                seen = round_;
                g = grid_;
            }
            run_blocks(*g);
            std::lock_guard<std::mutex> guard(mutex_);
            if (--busy_ == 0) done_.notify_one();
        }
    }

    std::mutex mutex_;
    std::condition_variable start_, done_;
    Grid* grid_ = nullptr;
    unsigned long round_ = 0;
    int busy_ = 0;
    int count_ = 0;
};

Pool& pool() {
    static Pool* p = [] {
        const char* env = getenv("SDJ_EMU_THREADS");
        // Every family's library has its own pool, so the default stays modest on big machines.
        int threads = env ? atoi(env) : std::min(8, (int)std::thread::hardware_concurrency());
        return new Pool(threads > 1 ? threads - 1 : 0);
    }();
    return *p;
}

}  // namespace

void __syncthreads() {
    Barrier& b = me().block_barrier;
    if (!b.arrive()) wait_on(b);
}

void __syncwarp(unsigned) {
    Warp& w = me().warps[threadIdx.x / 32];
    if (!w.barrier.arrive()) wait_on(w.barrier);
}

void sdj_emu_fail(const char* what) {
    fail("thread %u of block (%u, %u, %u): %s", threadIdx.x, blockIdx.x, blockIdx.y, blockIdx.z, what);
}

// A lane can only overwrite the slot set of shuffle n at shuffle n+2, after passing the barrier of
// shuffle n+1, which every lane reaches only after reading its value of shuffle n.
static uint32_t exchange(uint32_t bits, int src_lane) {
    Warp& w = me().warps[threadIdx.x / 32];
    uint32_t* slot = w.slot[w.barrier.generation & 1];
    slot[threadIdx.x & 31] = bits;
    if (!w.barrier.arrive()) wait_on(w.barrier);  // every lane has written
    // (w.lanes, not barrier.live: lanes that got their value first may have finished meanwhile)
    if (src_lane >= 0 && src_lane < w.lanes) return slot[src_lane];
    // A lane outside a partial warp: undefined on a GPU, so the launch fails instead of guessing.
    fail("thread %u of block (%u, %u, %u) shuffled from lane %d, but its warp has only %d threads", threadIdx.x,
         blockIdx.x, blockIdx.y, blockIdx.z, src_lane, w.lanes);
    return 0x7fc00000u;  // NaN as a float
}

float sdj_emu_shfl(float v, int src_lane) {
    uint32_t bits;
    memcpy(&bits, &v, 4);
    bits = exchange(bits, src_lane);
    memcpy(&v, &bits, 4);
    return v;
}

int sdj_emu_shfl(int v, int src_lane) {
    return (int)exchange((uint32_t)v, src_lane);
}

void sdj_emu_warp_gather(const float* part, int per_lane, float* all) {
    Warp& w = me().warps[threadIdx.x / 32];
    int lanes = w.lanes;
    memcpy(w.tile + (threadIdx.x & 31) * per_lane, part, per_lane * sizeof(float));
    if (!w.barrier.arrive()) wait_on(w.barrier);
    memcpy(all, w.tile, (size_t)lanes * per_lane * sizeof(float));
    if (!w.barrier.arrive()) wait_on(w.barrier);
}

void* sdj_emu_dynamic_shared(int align) {
    if (align < 16 || align > 256 || (align & (align - 1)))
        sdj_emu_fail("dynamic shared memory alignment must be a power of two in [16, 256]");
    // The buffer has 512 spare bytes (align <= 256): skip to a multiple of 2*align, then add align.
    auto base = reinterpret_cast<uintptr_t>(me().dynamic_shared.data());
    uintptr_t twice = 2 * (uintptr_t)align;
    return reinterpret_cast<void*>((base + twice - 1) / twice * twice + (uintptr_t)align);
}

// Argument kinds: 'I' int, 'L' long long or pointer, 'F' float (its bits in the low 32 of the value).
// Returns 0, or 1 with one sentence in err.
extern "C" __attribute__((visibility("default"))) int sdj_emu_launch(void* fn, unsigned gx, unsigned gy, unsigned gz,
                                                                    unsigned block, long long shared_bytes, int nargs,
                                                                    const char* kinds, const long long* values,
                                                                    char* err, int errlen) {
    std::lock_guard<std::mutex> guard(one_launch_at_a_time);
    if (block == 0 || block > MAX_THREADS || gx == 0 || gy == 0 || gz == 0) {
        snprintf(err, errlen, "invalid launch shape: grid (%u, %u, %u), block %u", gx, gy, gz, block);
        return 1;
    }
    Launch l{};
    l.fn = reinterpret_cast<KernelFn>(fn);
    for (int a = 0; a < nargs; a++) {
        if (kinds[a] == 'F') {
            if (l.n_floats == 8) {
                snprintf(err, errlen, "the emulator passes at most 8 float arguments");
                return 1;
            }
            uint32_t bits = (uint32_t)values[a];
            memcpy(&l.floats[l.n_floats++], &bits, 4);
        } else {
            if (l.n_ints == 32) {
                snprintf(err, errlen, "the emulator passes at most 32 integer or pointer arguments");
                return 1;
            }
            l.ints[l.n_ints++] = kinds[a] == 'I' ? (long long)(int)values[a] : values[a];
        }
    }
    active = &l;
    launch_error[0] = 0;
    launch_failed.store(false);
    gridDim = sdj_uint3{gx, gy, gz};
    blockDim = sdj_uint3{block, 1, 1};
    Grid g;
    g.gx = gx;
    g.gy = gy;
    g.block = block;
    g.shared_bytes = (size_t)shared_bytes;
    g.total = (long long)gx * gy * gz;
    pool().run(g);
    active = nullptr;
    if (launch_failed.load()) {
        snprintf(err, errlen, "%s", launch_error);
        return 1;
    }
    return 0;
}
