#!/usr/bin/env bash
# Runs on the GPU machine of the `device` tool, from the repository root, with the kit that
# bench/gpu/pack.sh made carried along (.device in call 1, .device-data in call 2). Steps:
#   device.sh stage              unpack the runtime, test classes and data into /tmp/sdj (every call)
#   device.sh tests [--sd-tiny]  the CUDA test classes on the real GPU (JUnit); --sd-tiny runs only
#                                CudaSdTinyParityTest, which needs the joined model (call 2)
#   device.sh verify             sdj verify --device cuda on sd-tiny in fp32, fp16 and bf16
#   device.sh bench              GEMM, attention, conv, SD v1 UNet and whole-txt2img benches
# Output goes to the terminal and to $OUT/<step>.log ($OUT is the device tool's return folder).
set -uo pipefail
root=$(pwd)
home=/tmp/sdj
out=${OUT:-$home/out}
mkdir -p "$home" "$out"
# jvm.flags (the repository's, carried with the working tree): the flags every sdj JVM runs with.
java_flags=("@$root/jvm.flags" -XX:+UseParallelGC -Xmx64g -Xss4m
            -Dsdj.cuda.emulator="${SDJ_CUDA_EMULATOR:-off}" -Dsdj.shared="$home/shared")  # "on": a dry run here

stage() {
    if [ -f .device/jre.tgz ] && [ ! -x "$home/jre/bin/java" ]; then
        tar xzf .device/jre.tgz -C "$home"
        cp -r .device/app .device/test "$home/"
        tar xzf "$home/test/test-classes.tgz" -C "$home"
    fi
    mkdir -p "$home/shared/testdata/sd-tiny" "$home/shared/data/clip"
    local tiny=$home/shared/testdata/sd-tiny
    [ -f .device/model.ckpt.part1 ] && cp .device/model.ckpt.part1 "$tiny/"
    if [ -d .device-data ]; then
        cp .device-data/model.ckpt.part2 .device-data/model.ckpt.sha256 .device-data/reference.safetensors \
           .device-data/prompts.json "$tiny/"
        cp .device-data/bpe_simple_vocab_16e6.txt.gz "$home/shared/data/clip/"
        [ -f .device-data/torch-randn.json ] && cp .device-data/torch-randn.json "$home/shared/testdata/"
    fi
    if [ -f "$tiny/model.ckpt.part1" ] && [ -f "$tiny/model.ckpt.part2" ] && [ ! -f "$tiny/model.ckpt" ]; then
        cat "$tiny/model.ckpt.part1" "$tiny/model.ckpt.part2" > "$tiny/model.ckpt"
        if [ "$(sha256sum "$tiny/model.ckpt" | cut -d' ' -f1)" != "$(cat "$tiny/model.ckpt.sha256")" ]; then
            echo "stage: the joined sd-tiny model.ckpt does not match its sha256; pack again" >&2
            rm -f "$tiny/model.ckpt"
            return 1
        fi
    fi
    [ -x "$home/jre/bin/java" ] || { echo "stage: no runtime in /tmp/sdj: carry .device in this call" >&2; return 1; }
    echo "staged in $home: $(ls "$tiny" | tr '\n' ' ')"
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader || true
    # cuBLASLt for the GEMM path: the loader's path, else the CUDA toolkit or pip wheels anywhere.
    lt=$(ldconfig -p 2>/dev/null | grep -o '/[^ ]*libcublasLt\.so\.1[23]$' | head -1)
    [ -n "$lt" ] || lt=$(timeout 60 find /usr/local /opt /usr/lib -name 'libcublasLt.so.1[23]' 2>/dev/null | head -1)
    echo "${lt:-none}" > "$home/cublaslt"
    echo "cuBLASLt: ${lt:-not found (own GEMM kernels)}"
}

sdj() {
    local lt
    lt=$(cat "$home/cublaslt" 2>/dev/null || echo none)
    local extra=()
    [ "$lt" != none ] && extra=(-Dsdj.cublaslt="$lt")
    "$home/jre/bin/java" "${java_flags[@]}" "${extra[@]}" -jar "$home/app/sdj.jar" "$@"
}

tests() {
    local cp select
    cp="$home/test-classes:$(ls "$home"/app/lib/*.jar "$home"/test/lib/*.jar | tr '\n' ':')"
    if [ "${1:-}" = --sd-tiny ]; then
        select=(--select-class sdj.backend.cuda.CudaSdTinyParityTest)
    else
        select=(--select-package sdj.backend.cuda --exclude-classname '.*SdTinyParity.*')
    fi
    "$home/jre/bin/java" "${java_flags[@]}" -jar "$home"/test/junit-platform-console-standalone-*.jar execute \
        --class-path "$cp" "${select[@]}" --details tree --disable-banner --disable-ansi-colors
}

verify() {
    local tiny=$home/shared/testdata/sd-tiny status=0
    for p in fp32 fp16 bf16; do
        echo "== sdj verify --device cuda --precision $p"
        sdj verify --ckpt "$tiny/model.ckpt" --reference "$tiny/reference.safetensors" --device cuda --precision $p \
            || status=1
    done
    return $status
}

bench() {
    sdj bench gemm --device cuda --precision fp16 --m 8192 --n 8192 --k 8192
    sdj bench gemm --device cuda --precision bf16 --m 8192 --n 8192 --k 8192
    sdj bench gemm --device cuda --precision fp32 --m 4096 --n 4096 --k 4096
    sdj bench gemm --device cuda --precision fp16 --m 4096 --n 320 --k 2880   # a 64x64-latent conv's GEMM
    sdj bench attention --device cuda --precision fp16 --batch 2 --heads 8 --tokens 4096 --head-dim 40
    sdj bench attention --device cuda --precision fp16 --batch 2 --heads 8 --tokens 1024 --head-dim 80
    sdj bench conv --device cuda --precision fp16 --batch 2 --channels 320 --size 64
    sdj bench unet --device cuda --precision fp16 --latent 64 --batch 1 --runs 5
    sdj bench unet --device cuda --precision fp16 --latent 64 --batch 2 --runs 5   # one CFG step
    sdj bench unet --device cuda --precision bf16 --latent 64 --batch 2 --runs 5
    # prompt to pixels at 512², 50 steps: the number the peers publish
    sdj bench txt2img --device cuda --precision fp16 --steps 50 --runs 3 \
        --vocab "$home/shared/data/clip/bpe_simple_vocab_16e6.txt.gz"
}

step=${1:?usage: device.sh stage|tests|verify|bench}
shift
case $step in stage|tests|verify|bench) ;; *) echo "device.sh: unknown step '$step'" >&2; exit 2 ;; esac
log=$out/$step${1:+-${1#--}}.log
"$step" "$@" 2>&1 | grep -v -E "^WARNING: Using incubator modules" | tee "$log"
exit "${PIPESTATUS[0]}"
