// The host emulator's launcher: runs a kernel compiled from kernels/*.cu by g++ over a grid, one
// block after another, each thread of a block as a fiber (a stack of its own and a hand-written
// context switch), so __syncthreads() and warp shuffles work as on the GPU: a fiber that reaches one
// waits until every live thread of its block (or warp) has too. Linked into every family's library.
#include <sys/mman.h>

#include <cstdio>
#include <cstring>
#include <mutex>
#include <vector>

#include "cuda_emu.h"

#if !defined(__x86_64__)
#error "the CUDA emulator's context switch and argument passing are written for x86-64 (System V ABI)"
#endif

sdj_uint3 threadIdx, blockIdx, blockDim, gridDim;

namespace {

constexpr int MAX_THREADS = 1024;
constexpr size_t STACK_BYTES = 256 * 1024;
constexpr size_t GUARD_BYTES = 4096;  // an overflowing fiber faults instead of corrupting its neighbour

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

char* stacks = nullptr;
Fiber fibers[MAX_THREADS];
Warp warps[MAX_THREADS / 32];
Barrier block_barrier;
Fiber* current = nullptr;
int block_threads = 0;
void* scheduler_sp = nullptr;
const Launch* active = nullptr;
std::vector<unsigned char> dynamic_shared;
char launch_error[256];  // the first undefined behaviour a kernel showed, reported after the launch
std::mutex one_launch_at_a_time;

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
    Fiber* self = current;
    int me = (int)(self - fibers);
    for (int step = 1; step <= block_threads; step++) {
        int t = (me + step) % block_threads;
        Fiber& f = fibers[t];
        if (&f != self && runnable(f)) {
            f.wait_generation = nullptr;
            threadIdx = sdj_uint3{(unsigned)t, 0, 0};
            current = &f;
            sdj_emu_switch(&self->sp, f.sp);
            return;
        }
    }
    sdj_emu_switch(&self->sp, scheduler_sp);
}

// Every fiber starts here (reached by the `ret` of its first switch) and never returns.
void fiber_main() {
    call_kernel(*active);
    Fiber* self = current;
    self->done = true;
    block_barrier.leave();
    warps[threadIdx.x / 32].barrier.leave();
    switch_away();
    __builtin_unreachable();
}

// A stack whose first switch pops six zero registers and "returns" into fiber_main with the
// alignment of a normal call (rsp = 8 mod 16 at entry).
void* fresh_stack(int t) {
    char* top = stacks + (size_t)(t + 1) * (STACK_BYTES + GUARD_BYTES);
    auto* slot = reinterpret_cast<void**>(top - 16);
    slot[0] = reinterpret_cast<void*>(&fiber_main);
    slot[1] = nullptr;
    void** sp = slot - 6;
    for (int r = 0; r < 6; r++) sp[r] = nullptr;
    return sp;
}

bool ensure_stacks(char* err, int errlen) {
    if (stacks) return true;
    size_t each = STACK_BYTES + GUARD_BYTES;
    void* m = mmap(nullptr, each * MAX_THREADS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (m == MAP_FAILED) {
        snprintf(err, errlen, "the CUDA emulator could not reserve its fiber stacks (%zu bytes)", each * MAX_THREADS);
        return false;
    }
    stacks = static_cast<char*>(m);
    for (int t = 0; t < MAX_THREADS; t++) mprotect(stacks + t * each, GUARD_BYTES, PROT_NONE);
    return true;
}

void wait_on(Barrier& b) {
    current->wait_generation = &b.generation;
    current->wait_value = b.generation;
    switch_away();
    // resumed: whoever switched here has set threadIdx and current for this fiber
}

// Runs one block to completion; false (with a message) when its threads deadlock.
bool run_block(int threads, char* err, int errlen) {
    block_barrier = Barrier{threads, 0, 0};
    block_threads = threads;
    for (int w = 0; w * 32 < threads; w++) {
        int lanes = threads - w * 32 < 32 ? threads - w * 32 : 32;
        warps[w].barrier = Barrier{lanes, 0, 0};
        warps[w].lanes = lanes;
    }
    for (int t = 0; t < threads; t++) fibers[t] = Fiber{fresh_stack(t), nullptr, 0, false};
    // Fibers pass control among themselves; it comes back here when none can run any more.
    threadIdx = sdj_uint3{0, 0, 0};
    current = &fibers[0];
    sdj_emu_switch(&scheduler_sp, fibers[0].sp);
    int waiting = 0;
    for (int t = 0; t < threads; t++) waiting += fibers[t].done ? 0 : 1;
    if (waiting > 0) {
        snprintf(err, errlen,
                 "block (%u, %u, %u) deadlocked: %d of its %d threads wait at barriers that can never complete",
                 blockIdx.x, blockIdx.y, blockIdx.z, waiting, threads);
        return false;
    }
    return true;
}

}  // namespace

void __syncthreads() {
    if (!block_barrier.arrive()) wait_on(block_barrier);
}

void __syncwarp(unsigned) {
    Warp& w = warps[threadIdx.x / 32];
    if (!w.barrier.arrive()) wait_on(w.barrier);
}

void sdj_emu_fail(const char* what) {
    if (!launch_error[0])
        snprintf(launch_error, sizeof launch_error, "thread %u of block (%u, %u, %u): %s", threadIdx.x, blockIdx.x,
                 blockIdx.y, blockIdx.z, what);
}

// A lane can only overwrite the slot set of shuffle n at shuffle n+2, after passing the barrier of
// shuffle n+1, which every lane reaches only after reading its value of shuffle n.
static uint32_t exchange(uint32_t bits, int src_lane) {
    Warp& w = warps[threadIdx.x / 32];
    uint32_t* slot = w.slot[w.barrier.generation & 1];
    slot[threadIdx.x & 31] = bits;
    if (!w.barrier.arrive()) wait_on(w.barrier);  // every lane has written
    // (w.lanes, not barrier.live: lanes that got their value first may have finished meanwhile)
    if (src_lane >= 0 && src_lane < w.lanes) return slot[src_lane];
    // A lane outside a partial warp: undefined on a GPU, so the launch fails instead of guessing.
    if (!launch_error[0])
        snprintf(launch_error, sizeof launch_error,
                 "thread %u of block (%u, %u, %u) shuffled from lane %d, but its warp has only %d threads",
                 threadIdx.x, blockIdx.x, blockIdx.y, blockIdx.z, src_lane, w.lanes);
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
    Warp& w = warps[threadIdx.x / 32];
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
    auto base = reinterpret_cast<uintptr_t>(dynamic_shared.data());
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
    if (!ensure_stacks(err, errlen)) return 1;
    // 0xFF bytes (NaN as floats, as in "device memory"): a kernel reading shared memory it never wrote
    // shows up in its results instead of seeing zeros a GPU would not give it.
    dynamic_shared.assign((size_t)shared_bytes + 512, 0xFF);
    active = &l;
    launch_error[0] = 0;
    gridDim = sdj_uint3{gx, gy, gz};
    blockDim = sdj_uint3{block, 1, 1};
    for (unsigned z = 0; z < gz; z++)
        for (unsigned y = 0; y < gy; y++)
            for (unsigned x = 0; x < gx; x++) {
                blockIdx = sdj_uint3{x, y, z};
                if (!run_block((int)block, err, errlen)) return 1;
                if (launch_error[0]) {
                    snprintf(err, errlen, "%s", launch_error);
                    return 1;
                }
            }
    active = nullptr;
    return 0;
}
