#!/usr/bin/env bash
# Compiles every kernels/*.cu a second time, with g++ as plain C++ against emu/cuda_emu.h, into one
# shared library per family (<family>.so) plus the fiber launcher emu/runtime.cpp. The engine's tests
# run the CUDA backend on these libraries when no GPU is present (see emu/README.md), so the kernels'
# arithmetic, indexing and launch shapes are tested on every CI run, not only on GPU machines.
# Without g++ or CUDA's fp16 headers it writes a BUILD marker saying so and exits 0.
# Usage: build-emu.sh <kernels dir> <output dir> [work dir]   (run by Maven in generate-resources)
set -euo pipefail
src=$(cd "$1" && pwd)
out=$2
work=${3:-$out}    # where runtime.o goes (kept out of the packaged output dir)
mkdir -p "$out" "$work"
marker="$out/BUILD"

missing() {
    echo "[sdj emulator] $1: CUDA emulator not built (GPU tests will skip without a GPU)"
    printf 'status=missing\nreason=%s\n' "$1" > "$marker"
    exit 0
}
command -v g++ >/dev/null 2>&1 || missing "g++ not on PATH"
cuda_include=""
for dir in ${CUDA_HOME:+"$CUDA_HOME/include"} \
           "$(dirname "$(readlink -f "$(command -v nvcc 2>/dev/null || echo /nonexistent)")")/../include" \
           /usr/local/cuda/include; do
    if [[ -f "$dir/cuda_fp16.h" ]]; then cuda_include=$(cd "$dir" && pwd); break; fi
done
[[ -n "$cuda_include" ]] || missing "cuda_fp16.h not found (set CUDA_HOME)"

flags=(-std=c++17 -O2 -fPIC -mtls-dialect=gnu2 -fvisibility=hidden -w -include "$src/emu/cuda_emu.h" -I "$src/emu" -I "$src" -I "$cuda_include")
start=$(date +%s%N)
newer() { [[ -f "$1" && "$1" -nt "$2" && "$1" -nt "$src/common.cuh" && "$1" -nt "$src/emu/cuda_emu.h" \
           && "$1" -nt "$src/emu/mma.h" && "$1" -nt "$src/emu/runtime.cpp" && "$1" -nt "$src/build-emu.sh" ]]; }
if ! newer "$work/runtime.o" "$src/emu/runtime.cpp"; then
    g++ "${flags[@]}" -c "$src/emu/runtime.cpp" -o "$work/runtime.o"
fi
build_one() {
    local cu=$1 out=$2 work=$3; shift 3
    local name lib
    name=$(basename "$cu" .cu)
    lib="$out/$name.so"
    if newer "$lib" "$cu"; then return 0; fi
    g++ "$@" -shared -x c++ "$cu" -x none "$work/runtime.o" -o "$lib.tmp" \
        || { echo "[sdj emulator] g++ failed on $name.cu"; return 1; }
    mv "$lib.tmp" "$lib"
}
export -f build_one newer
export src
# A library is rebuilt when its .cu or any shared source (header, runtime, this script) is newer.
ls "$src"/*.cu "$src"/emu/*.cu | xargs -P "$(nproc)" -I{} bash -c 'build_one "$@"' _ {} "$out" "$work" "${flags[@]}"
{
    echo "status=built"
    echo "compiler=$(g++ --version | head -1)"
    echo "cuda_include=$cuda_include"
} > "$marker"
echo "[sdj emulator] $(ls "$out"/*.so | wc -l) kernel libraries in $(( ($(date +%s%N) - start) / 1000000 )) ms"
