#!/usr/bin/env bash
# Builds the native libraries (CMakeLists.txt at the repository root) and places them where the jar loads them
# from: java/target/classes/native/<os>-<arch>/ (the Maven build calls this in generate-resources), or a folder
# given as $1. Always builds libengram_emu.so with the host compiler and runs the emulator's self-test; builds
# libengram_cuda.so when nvcc is found (PATH, CUDACXX, /usr/local/cuda*/bin), else says so and skips it.
# Always builds the emulated CUDA driver (libengram_cudadrv_emu.so, SONAME libcuda.so.1: the kernels on the host
# emulator behind the driver API, for the JCuda engine's tests), runs its self-test, and places it with its module
# images (engram_<stem>.fatbin listing its kernels) in java/target/jcuda-emu/, or a folder given as $2: never in the
# jar (system property engram.jcuda.driver names it; see README "JCuda engine").
# Incremental: CMake rebuilds only what changed, so a second run takes a second or two.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-$here/java/target/classes/native/linux-x86_64}"
emu_driver_dest="${2:-$here/java/target/jcuda-emu}"
build="${ENGRAM_NATIVE_BUILD_DIR:-$here/target/native-build}"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) echo "native-build: $(uname -s)-$(uname -m) is not a supported platform (linux-x86_64 only); skipping" >&2; exit 0 ;;
esac
for tool in cmake c++; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "native-build: '$tool' not found; skipping the native build (the emu/cuda engines will be unavailable and their tests skipped)" >&2
    exit 0
  fi
done

cmake_version="$(cmake --version | sed -n 's/^cmake version \([0-9]*\.[0-9]*\).*/\1/p')"
if ! printf '3.20\n%s\n' "$cmake_version" | sort -V -C; then
  echo "native-build: cmake $cmake_version is older than 3.20; skipping the native build (the emu/cuda engines will be unavailable and their tests skipped)" >&2
  exit 0
fi

if [ -z "${CUDACXX:-}" ]; then
  for c in "$(command -v nvcc 2>/dev/null || true)" /usr/local/cuda/bin/nvcc /usr/local/cuda-*/bin/nvcc; do
    if [ -n "$c" ] && [ -x "$c" ]; then export CUDACXX="$c"; break; fi
  done
fi
cuda_flag=ON
if [ -z "${CUDACXX:-}" ]; then
  echo "native-build: nvcc not found (looked at PATH, CUDACXX, /usr/local/cuda*/bin): building only libengram_emu.so" >&2
  cuda_flag=OFF
fi

generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
if [ -f "$build/CMakeCache.txt" ]; then
  # a build folder configured for another checkout path or generator cannot be reused: start it afresh
  cached_home="$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt")"
  cached_gen="$(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$build/CMakeCache.txt")"
  want_gen="$([ ${#generator[@]} -gt 0 ] && echo Ninja || echo "Unix Makefiles")"
  if [ "$cached_home" != "$here" ] || [ "$cached_gen" != "$want_gen" ]; then rm -rf "$build"; fi
fi
if [ "$cuda_flag" = ON ]; then
  echo "native-build: building libengram_emu.so and libengram_cuda.so (nvcc: $CUDACXX) in $build" >&2
else
  echo "native-build: building libengram_emu.so in $build" >&2
fi
# Configuring again is cheap when nothing changed, and picks up an nvcc that appeared (or vanished) since.
cmake -S "$here" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DENGRAM_CUDA="$cuda_flag" >/dev/null
cmake --build "$build" --parallel "$(nproc 2>/dev/null || echo 2)" >&2
"$build/emu_selftest" >&2                          # fibers (the default scheduler)
ENGRAM_EMU_MODE=threads "$build/emu_selftest" >&2  # one OS thread per CUDA thread
"$build/driver_emu_test" >&2                       # the emulated CUDA driver against the real one's behaviour
# The kernel harnesses (cuda/dev/), emulated: every launch shape against the C reference. Version 1 float32 and
# version 2 bf16 at full size and every version and storage at the small (--quick) size keep this to about a minute of
# CPU; cuda/dev/README.md runs the rest (the Java tests cover every storage of version 2 through libengram_emu).
for h in "$build"/harness_*_emu; do
  [ -x "$h" ] || continue
  log="$h.log"
  runs=("--validate-only --storage f32" "--validate-only --quick --storage all")
  if [ "$(basename "$h")" = harness_retrieve_emu ]; then
    runs=("--validate-only --version 1 --storage f32" "--validate-only --version 2 --storage bf16"
          "--validate-only --quick --storage all")
  fi
  for args in "${runs[@]}"; do
    # shellcheck disable=SC2086
    if ! "$h" $args >"$log"; then
      echo "native-build: $(basename "$h") $args FAILED:" >&2
      grep -v '"ok": true' "$log" >&2 || true
      exit 1
    fi
    tail -n 1 "$log" >&2
  done
done

mkdir -p "$dest"
for lib in libengram_emu.so libengram_cuda.so engram_retrieve_partial.fatbin engram_retrieve_partial_v2.fatbin \
           engram_retrieve_merge.fatbin engram_scores_partials.fatbin engram_integrate.fatbin \
           engram_integrate_tc.fatbin engram_quantiles.fatbin; do
  if [ -f "$build/$lib" ]; then
    cmp -s "$build/$lib" "$dest/$lib" 2>/dev/null || cp "$build/$lib" "$dest/$lib"
  fi
done
echo "native-build: libraries in $dest: $(cd "$dest" && ls | tr '\n' ' ')" >&2

# the emulated CUDA driver and its module images; replaced by rename, never rewritten in place (a JVM may have it mapped)
mkdir -p "$emu_driver_dest"
if ! cmp -s "$build/libengram_cudadrv_emu.so" "$emu_driver_dest/libengram_cudadrv_emu.so" 2>/dev/null; then
  cp "$build/libengram_cudadrv_emu.so" "$emu_driver_dest/.libengram_cudadrv_emu.so.tmp"
  mv -f "$emu_driver_dest/.libengram_cudadrv_emu.so.tmp" "$emu_driver_dest/libengram_cudadrv_emu.so"
fi
"$build/driver_emu_test" fatbins "$emu_driver_dest"
echo "native-build: emulated CUDA driver in $emu_driver_dest: $(cd "$emu_driver_dest" && ls | tr '\n' ' ')" >&2
