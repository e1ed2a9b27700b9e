#!/usr/bin/env bash
# Packs what the GPU run needs for the `device` tool's machine, which has no JDK, no Maven and no
# ../shared. The sd-tiny fp32 checkpoint (69 MB) alone exceeds one call's 64 MiB, so the kit is two
# carries for two back-to-back calls on the same warm machine:
#   .device/       Java 25 runtime, the sdj CLI, the engine's test classes and JUnit, and the first
#                  part of sd-tiny/model.ckpt                                         (call 1)
#   .device-data/  the rest of model.ckpt, reference.safetensors, the CLIP vocabulary  (call 2)
# Both folders are git-ignored. bench/gpu/README.md gives the two calls.
# Usage: bench/gpu/pack.sh   (from the repository root; needs Maven Central once for JUnit's launcher)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
shared=${SDJ_SHARED:-$root/../shared}
tiny=$shared/testdata/sd-tiny
[ -f "$tiny/model.ckpt" ] || { echo "pack.sh: no $tiny/model.ckpt (set SDJ_SHARED to the shared folder)" >&2; exit 2; }

rm -rf .device .device-data
mkdir -p .device/app .device/test .device-data

echo "building jars and test classes..."
mvn -B -ntp -q install -DskipTests
mvn -B -ntp -q -pl engine test-compile
mvn -B -ntp -q -pl engine dependency:copy-dependencies -DincludeScope=test -DoutputDirectory="$root/.device/test/lib"
mvn -B -ntp -q dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.11.3 \
    -DoutputDirectory="$root/.device/test"
# app/lib holds the jars sdj.jar's manifest names: the engine, the bench module (sdj.bench, what
# `sdj bench` runs), JCuda and commons-cli.
cp tools/target/sdj.jar .device/app/ && cp -r tools/target/lib .device/app/lib
# The tests' classpath is app/lib plus test/lib: keep one copy of each jar (jcuda-natives is 9.5 MB).
for jar in .device/app/lib/*.jar; do rm -f ".device/test/lib/$(basename "$jar")"; done
(cd engine/target && tar czf "$root/.device/test/test-classes.tgz" test-classes)

echo "packing the Java runtime..."
# The modules jdeps lists for the CLI, the engine and JUnit's launcher, plus jdk.zipfs (jar resources);
# not java.desktop (images: 14 MB that the CUDA tests, verify and bench never load).
JRE_MODULES=java.base,java.logging,java.management,jdk.management,jdk.unsupported,jdk.incubator.vector,jdk.zipfs,java.sql \
    bash "$shared/tools/device-jre.sh" .device >/dev/null

cp "$tiny/reference.safetensors" "$tiny/prompts.json" .device-data/
cp "$shared/data/clip/bpe_simple_vocab_16e6.txt.gz" .device-data/
cp "$shared/testdata/torch-randn.json" .device-data/ 2>/dev/null || true
# model.ckpt is split so that both calls carry about the same; the join is checked against sha256.
model=$(stat -c %s "$tiny/model.ckpt")
first=$(( (model + $(du -sb .device-data | cut -f1) - $(du -sb .device | cut -f1)) / 2 ))
first=$(( first < 0 ? 0 : first ))
head -c "$first" "$tiny/model.ckpt" > .device/model.ckpt.part1
tail -c +$((first + 1)) "$tiny/model.ckpt" > .device-data/model.ckpt.part2
sha256sum "$tiny/model.ckpt" | cut -d' ' -f1 > .device-data/model.ckpt.sha256

tree=$(git ls-files -z --cached --others --exclude-standard | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
status=0
for d in .device .device-data; do
    total=$(( $(du -sb $d | cut -f1) + tree ))
    echo "$d: $((total / 1048576)) MiB with the working tree (one call carries at most 64 MiB)"
    [ "$total" -le $((64 * 1048576)) ] || status=1
done
exit $status
