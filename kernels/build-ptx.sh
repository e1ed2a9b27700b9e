#!/usr/bin/env bash
# Compiles every kernels/*.cu to PTX (compute_80: the driver JIT-compiles it for Ampere and Hopper)
# into the engine's resources, then assembles each PTX with ptxas for sm_80 and sm_90 so a kernel
# that does not assemble fails the build even on a machine without a GPU.
# Without nvcc it writes a BUILD marker saying so and exits 0: the engine still builds, and the
# CUDA backend reports that its kernels were not built.
# Usage: build-ptx.sh <kernels dir> <output dir>   (run by Maven in generate-resources)
set -euo pipefail
src=$(cd "$1" && pwd)
out=$2
mkdir -p "$out"
marker="$out/BUILD"

if ! command -v nvcc >/dev/null 2>&1; then
    echo "[sdj kernels] nvcc not on PATH: CUDA kernels not built (the CPU backend is unaffected)"
    echo "status=missing" > "$marker"
    echo "reason=nvcc missing at build time" >> "$marker"
    exit 0
fi

start=$(date +%s%N)
# One job per family, in parallel; a family is rebuilt only when it or common.cuh changed.
build_one() {
    local cu=$1 out=$2 src=$3
    local name ptx
    name=$(basename "$cu" .cu)
    ptx="$out/$name.ptx"
    if [[ -f "$ptx" && "$ptx" -nt "$cu" && "$ptx" -nt "$src/common.cuh" && "$ptx" -nt "$src/build-ptx.sh" ]]; then
        return 0
    fi
    nvcc -ptx -arch=compute_80 -std=c++17 -O3 -I "$src" "$cu" -o "$ptx.tmp" || { echo "[sdj kernels] nvcc failed on $name.cu"; return 1; }
    for arch in sm_80 sm_90; do
        ptxas -arch=$arch "$ptx.tmp" -o /dev/null || { echo "[sdj kernels] ptxas -arch=$arch rejected $name.ptx"; return 1; }
    done
    mv "$ptx.tmp" "$ptx"
    echo "[sdj kernels] $name.ptx ($(wc -c < "$ptx") bytes, assembles for sm_80 and sm_90)"
}
export -f build_one
ls "$src"/*.cu | xargs -P "$(nproc)" -I{} bash -c 'build_one "$@"' _ {} "$out" "$src"

{
    echo "status=built"
    echo "nvcc=$(nvcc --version | tail -1)"
    echo "arch=compute_80 (checked with ptxas sm_80 and sm_90)"
} > "$marker"
echo "[sdj kernels] done in $(( ($(date +%s%N) - start) / 1000000 )) ms"
