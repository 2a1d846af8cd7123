#!/usr/bin/env bash
# java-runtime.sh: a Java runtime and jar small enough to carry to a lent GPU machine (which has no Java), so that
# native-build/gpu-check.sh can run `engram gpu-check` there: the FFM cuda engine, the jcuda engine and the JCublas
# baseline cross-checked against the reference engine and timed.
#
#   OUT/runtime/        jlink image of JDK 25 with java.base, java.logging and jdk.incubator.vector only
#                       (--strip-debug --no-man-pages --no-header-files --compress zip-9)
#   OUT/engram-gpu.jar  the engram jar (./engram's, java/target/engram-*-all.jar) without what gpu-check does not
#                       load: the chart and PDF libraries (their java.desktop is not in the runtime), the terminal
#                       progress bar, JCublas's v1 binding; natives for linux-x86_64 only: libengram_cuda.so,
#                       libengram_emu.so (the CI run), the seven fatbins, JCuda's driver and runtime and JCublas2's JNI
#                       libraries (never libJNvPTXCompiler or libJNvrtc: the kernels come as fatbins)
#   OUT/gpu-check       the launcher: OUT/gpu-check [engram gpu-check options]
#   OUT/CONTENTS.txt    what is in it, with sizes
#
# The jar is built first when it is missing or older than the sources (as ./engram does); without nvcc at build time
# it has no libengram_cuda.so and the cuda engine will say so on the GPU machine (a warning here).
# Prints the total size; fails (exit 1) when it is over --max-mb (default 60), since the device tool carries at most
# 64 MiB of ignored paths.
#
# usage: native-build/java-runtime.sh [--out DIR] [--jar FILE] [--max-mb N]
#   --out     output folder, replaced as a whole (default: target/gpu-java, ignored by git)
#   --jar     the engram all-in-one jar (default: java/target/engram-0.1.0-SNAPSHOT-all.jar, built when stale)
#   --max-mb  size limit in MiB for the whole folder (default 60)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$here/target/gpu-java"
jar=""
max_mb=60
modules="java.base,java.logging,jdk.incubator.vector"

die() { echo "java-runtime: $*" >&2; exit 64; }
need_value() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --out) need_value "$@"; out="$2"; shift 2 ;;
    --jar) need_value "$@"; jar="$2"; shift 2 ;;
    --max-mb) need_value "$@"; max_mb="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ "$max_mb" =~ ^[1-9][0-9]*$ ]] || die "--max-mb must be a positive integer, got '$max_mb'"
[ -z "$jar" ] || [ -f "$jar" ] || die "--jar '$jar' does not exist"

# A JDK >= 25 with jlink and jar: JAVA_HOME when new enough, else the newest under /usr/lib/jvm (as ./engram looks).
java_major() {
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}
jdk=""; best=0
for c in ${JAVA_HOME:+"$JAVA_HOME"} /usr/lib/jvm/*/; do
  c="${c%/}"
  [ -x "$c/bin/jlink" ] && [ -x "$c/bin/jar" ] || continue
  v="$(java_major "$c/bin/java")"
  [ -n "$v" ] && [ "$v" -ge 25 ] || continue
  if [ -n "${JAVA_HOME:-}" ] && [ "$c" = "${JAVA_HOME%/}" ]; then jdk="$c"; break; fi
  if [ "$v" -gt "$best" ]; then jdk="$c"; best="$v"; fi
done
[ -n "$jdk" ] || { echo "java-runtime: no JDK >= 25 with jlink found (JAVA_HOME=${JAVA_HOME:-<unset>}, /usr/lib/jvm/*); install one (see README, Building)" >&2; exit 3; }

if [ -z "$jar" ]; then
  jar="$here/java/target/engram-0.1.0-SNAPSHOT-all.jar"
  if [ ! -f "$jar" ] || [ -n "$(find "$here/java/src/main" "$here/java/pom.xml" "$here/pom.xml" "$here/cuda" "$here/CMakeLists.txt" -newer "$jar" -type f 2>/dev/null | head -n 1)" ]; then
    echo "java-runtime: building the jar (missing or older than the sources) ..." >&2
    JAVA_HOME="$jdk" "$here/mvnw" -B -q -f "$here/pom.xml" -DskipTests -pl java -am package >&2
  fi
fi

parent="$(dirname "$out")"
mkdir -p "$parent"
stage="$(mktemp -d "$parent/.gpu-java-XXXXXX")"
trap 'rm -rf "$stage"' EXIT

# 1. the runtime
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files --compress zip-9 \
  --output "$stage/out/runtime" 2> >(grep -v 'Using incubator modules' >&2)

# 2. the jar, trimmed
mkdir -p "$stage/classes"
(cd "$stage/classes" && "$jdk/bin/jar" xf "$jar")
c="$stage/classes"
rm -rf "$c/org/knowm" "$c/org/apache/pdfbox" "$c/org/apache/fontbox" "$c/de/rototor" "$c/de/erichseifert" \
  "$c/com/madgag" "$c/org/jline" "$c/me/tongfei" "$c/META-INF/maven" "$c/jcuda/nvrtc" "$c/jcuda/nvptxcompiler"
# JCuda's JNI libraries: the driver (jcuda engine), the runtime and JCublas2 (the baseline); nothing else
find "$c/lib" -type f ! -name 'libJCudaDriver-*-linux-x86_64.so' ! -name 'libJCudaRuntime-*-linux-x86_64.so' \
  ! -name 'libJCublas2-*-linux-x86_64.so' -delete 2>/dev/null || true
for f in libJCudaDriver libJCudaRuntime libJCublas2; do
  ls "$c/lib/$f"-*-linux-x86_64.so >/dev/null 2>&1 || { echo "java-runtime: $jar has no lib/$f-*-linux-x86_64.so (JCuda's natives); rebuild the jar" >&2; exit 1; }
done
native="$c/native/linux-x86_64"
[ -f "$native/libengram_emu.so" ] || echo "java-runtime: warning: $jar has no libengram_emu.so (cmake or a C++ compiler missing at build time): the emulated engine will be unavailable" >&2
[ -f "$native/libengram_cuda.so" ] || echo "java-runtime: warning: $jar has no libengram_cuda.so (no nvcc at build time): the cuda engine will be unavailable on the GPU machine; build where nvcc is" >&2
missing_fatbins=""
for m in retrieve_partial retrieve_partial_v2 retrieve_merge scores_partials integrate integrate_tc quantiles; do
  [ -f "$native/engram_$m.fatbin" ] || missing_fatbins="$missing_fatbins engram_$m.fatbin"
done
[ -z "$missing_fatbins" ] || echo "java-runtime: warning: $jar lacks$missing_fatbins (no nvcc at build time, or an older jar): the jcuda engine and the JCublas baseline will be unavailable" >&2
mv "$c/META-INF/MANIFEST.MF" "$stage/MANIFEST.MF"
"$jdk/bin/jar" --create --file "$stage/out/engram-gpu.jar" --manifest "$stage/MANIFEST.MF" -C "$c" .

# 3. the launcher (the JVM flags of ./engram)
cat >"$stage/out/gpu-check" <<'SH'
#!/usr/bin/env bash
# Made by native-build/java-runtime.sh: `engram gpu-check` on the runtime beside this file (engram gpu-check --help).
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$here/runtime/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  -XX:+UseParallelGC ${ENGRAM_JAVA_OPTS:-} -cp "$here/engram-gpu.jar" dev.engram.cli.GpuCheckCommand "$@"
SH
chmod +x "$stage/out/gpu-check"

# 4. contents and size
{
  echo "made by native-build/java-runtime.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ) from $jdk ($("$jdk/bin/java" -version 2>&1 | head -n 1))"
  echo "modules: $modules"
  echo "jar: $jar ($(wc -c <"$jar") bytes) trimmed to engram-gpu.jar ($(wc -c <"$stage/out/engram-gpu.jar") bytes); natives:"
  (cd "$c" && find lib native -type f -printf '  %p %s bytes\n' | sort)
  echo "sizes (KiB):"
  du -sk "$stage/out/runtime" "$stage/out/engram-gpu.jar" | sed "s|$stage/out/|  |"
} >"$stage/out/CONTENTS.txt"
kib="$(du -sk "$stage/out" | cut -f1)"
mib="$(awk -v k="$kib" 'BEGIN { printf "%.1f", k / 1024 }')"
echo "total: $mib MiB" >>"$stage/out/CONTENTS.txt"

cat "$stage/out/CONTENTS.txt"
if [ "$kib" -gt $(( max_mb * 1024 )) ]; then
  echo "java-runtime: the runtime and jar come to $mib MiB, over the limit of $max_mb MiB (--max-mb; the device tool carries at most 64 MiB); $out left as it was" >&2
  exit 1
fi
rm -rf "$out"
mv "$stage/out" "$out"
echo "java-runtime: $out: $mib MiB (limit $max_mb MiB); run it with $out/gpu-check --help"
