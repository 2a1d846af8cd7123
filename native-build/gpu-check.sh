#!/usr/bin/env bash
# gpu-check.sh: everything worth knowing about the kernels from a few minutes on a lent GPU machine (nvcc, PyTorch,
# compute-sanitizer; no Java, no network), in about 4 minutes, as JSON lines appended to one file as it goes, so an
# interrupted run still leaves every result so far.
#
#   1. environment   GPU, driver, nvcc, PyTorch, compute-sanitizer versions
#   2. build         each harness in cuda/dev/ with nvcc in one step (or --prebuilt DIR with the binaries)
#   3. validate      every harness at every launch shape against its C reference (all storage kinds)
#   4. sanitize      compute-sanitizer memcheck, racecheck, synccheck on the small (--quick) problems; a tool that
#                    refuses (missing, unsupported GPU) is recorded as skipped, an error it finds as failed, racecheck
#                    hazards that are only warnings (0 errors) as "warning" (does not fail the run); each tool's log
#                    (first 200 lines) is kept next to --out as <out>.sanitize-<tool>-<harness>.log
#   5. time          the retrieval kernels at the sizes of cuda/PERFORMANCE.md, f32/f16/bf16; the integration
#                    kernels (FP32 and bf16 tensor cores) at N = --sizes trajectories, n = 1, h = 64, 100 leapfrog
#                    steps (CUDA events)
#   6. java          the Java engines on the GPU with a carried Java runtime (the machine has none; made by
#                    native-build/java-runtime.sh into target/gpu-java): `engram gpu-check` cross-checks the FFM cuda
#                    engine (both retrieval kernels, every storage, integration), the jcuda engine and the JCublas
#                    baseline against the reference engine and times retrieval, appending its JSON lines to --out
#                    ("check": "java-gpu-check"); its output is kept as <out>.java.log. No runtime: one line
#                    "java: skipped (no runtime carried)". At most 110 s of what is left of --budget.
#   7. torch         PyTorch on the same GPU at the same sizes: matmul+softmax+topk, SDPA, the cuBLAS GEMM alone
#                    (bench/peers/torch_gpu_retrieval.py); leapfrog with autograd / a hand-written gradient, float32
#                    and bfloat16, eager and as a CUDA graph (bench/peers/torch_gpu_leapfrog.py)
# Each step runs under `timeout` with what is left of --budget; a step that runs out is recorded as "timeout".
#
# usage: native-build/gpu-check.sh [--out FILE.jsonl] [--budget SECONDS] [--arch SM] [--prebuilt DIR]
#                                  [--cases BxMxd,...] [--reps N] [--sizes N,...] [--skip-torch] [--quick]
#                                  [--emulated BUILD_DIR] [--java DIR | --skip-java]
#   --out       results file (default: gpu-check-<date>.jsonl in the current folder); lines are appended
#   --budget    seconds for the whole run (default 230)
#   --arch      nvcc target, e.g. sm_90 for H100/H200 (default), sm_80 for A100
#   --sizes     trajectory counts the integration kernels and their PyTorch peer are timed at (default
#               100000,1000000,10000000; a size predicted to take over 8 s per run is skipped and says so)
#   --emulated  CI mode: no GPU; run the emulated harness binaries from BUILD_DIR (native-build/build.sh's folder),
#               validation only (build, sanitizer and timing are recorded as skipped); the Java step checks the
#               emulated engine (emu) at small sizes, and jcuda where the emulated CUDA driver was built
#   --java      the folder native-build/java-runtime.sh made (default: target/gpu-java when it is there)
#   --skip-java no Java step (recorded as skipped)
# Exit status: 0 when every step that ran passed (skipped steps do not fail the run), 1 when one failed, 64 on a
# bad argument.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="gpu-check-$(date +%Y%m%d-%H%M%S).jsonl"
budget=230
arch=sm_90
prebuilt=""
emulated=""
cases="1x10000000x64,64x10000000x64"
reps=20
skip_torch=0
quick=0
sizes="100000,1000000,10000000"
java_dir=""
java_given=0
skip_java=0
harnesses=(retrieve integrate)
declare -A harness_kernels=([retrieve]="cuda/retrieve_partial.cu cuda/retrieve_partial_v2.cu cuda/retrieve_merge.cu"
                            [integrate]="cuda/integrate.cu cuda/integrate_tc.cu cuda/quantiles.cu")
# what compute-sanitizer runs of each harness (besides --validate-only --quick)
declare -A harness_sanitize_args=([retrieve]="--storage f32" [integrate]="--storage all")

die() { echo "gpu-check: $*" >&2; exit 64; }
need_value() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --out) need_value "$@"; out="$2"; shift 2 ;;
    --budget) need_value "$@"; budget="$2"; shift 2 ;;
    --arch) need_value "$@"; arch="$2"; shift 2 ;;
    --prebuilt) need_value "$@"; prebuilt="$2"; shift 2 ;;
    --emulated) need_value "$@"; emulated="$2"; shift 2 ;;
    --cases) need_value "$@"; cases="$2"; shift 2 ;;
    --reps) need_value "$@"; reps="$2"; shift 2 ;;
    --sizes) need_value "$@"; sizes="$2"; shift 2 ;;
    --skip-torch) skip_torch=1; shift ;;
    --java) need_value "$@"; java_dir="$2"; java_given=1; shift 2 ;;
    --skip-java) skip_java=1; shift ;;
    --quick) quick=1; shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ "$budget" =~ ^[0-9]+$ ]] && [ "$budget" -ge 10 ] || die "--budget must be an integer number of seconds >= 10, got '$budget'"
[[ "$reps" =~ ^[0-9]+$ ]] && [ "$reps" -ge 1 ] || die "--reps must be a positive integer, got '$reps'"
[[ "$arch" =~ ^sm_[0-9]+a?$ ]] || die "--arch must look like sm_90, got '$arch'"
[[ "$cases" =~ ^[0-9]+x[0-9]+x[0-9]+(,[0-9]+x[0-9]+x[0-9]+)*$ ]] || die "--cases must be BxMxd[,BxMxd...], got '$cases'"
[[ "$sizes" =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || die "--sizes must be N[,N...] with positive integers, got '$sizes'"
[ -z "$prebuilt" ] || [ -d "$prebuilt" ] || die "--prebuilt folder '$prebuilt' does not exist"
[ -z "$emulated" ] || [ -d "$emulated" ] || die "--emulated folder '$emulated' does not exist"
mkdir -p "$(dirname "$out")" 2>/dev/null || die "cannot create the folder of --out '$out'"
: >>"$out" 2>/dev/null || die "cannot append to --out '$out'"

start=$(date +%s)
failed=0
# scratch beside the results (not /tmp), removed on exit
work="$(mktemp -d "$(dirname "$out")/.gpu-check-XXXXXX")" || die "cannot make a scratch folder next to '$out'"
trap 'rm -rf "$work"' EXIT

# JSON string escaping: backslash, quote, control characters (tabs/newlines become spaces)
json_str() {
  local s="${1//\\/\\\\}"
  s="${s//\"/\\\"}"
  s="$(printf '%s' "$s" | tr '\000-\037' ' ')"
  printf '"%s"' "$s"
}
# record STEP STATUS SECONDS [key value]...: one line {"step": ..., "status": ..., "seconds": ..., key: "value"...}
record() {
  local line="{\"check\": \"gpu-check\", \"step\": $(json_str "$1"), \"status\": $(json_str "$2"), \"seconds\": $3"
  shift 3
  while [ $# -ge 2 ]; do line+=", $(json_str "$1"): $(json_str "$2")"; shift 2; done
  echo "$line}" | tee -a "$out"
}
left() { echo $(( budget - ($(date +%s) - start) )); }
# run STEP CAP CMD...: runs CMD under timeout min(CAP, budget left); records ok / failed / timeout with its last line
run_step() {
  local step="$1" cap="$2"; shift 2
  local t; t=$(left)
  if [ "$t" -le 5 ]; then record "$step" skipped 0 reason "budget spent"; return 0; fi
  [ "$cap" -lt "$t" ] && t="$cap"
  local t0; t0=$(date +%s)
  timeout --kill-after=5 "$t" "$@" >"$work/step.log" 2>&1
  local rc=$?
  local secs=$(( $(date +%s) - t0 ))
  local last; last="$(grep -v '^\s*$' "$work/step.log" | tail -n 1 | cut -c1-300)"
  if [ $rc -eq 0 ]; then record "$step" ok "$secs"
  elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then record "$step" timeout "$secs" limit_s "$t" last "$last"; failed=1
  else record "$step" failed "$secs" exit "$rc" last "$last"; failed=1
  fi
  return $rc
}

# 1. environment
gpu="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -n 1)"
nvcc_bin="$(command -v nvcc || ls /usr/local/cuda*/bin/nvcc 2>/dev/null | head -n 1 || true)"
nvcc_v="$([ -n "$nvcc_bin" ] && "$nvcc_bin" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p' | head -n 1)"
torch_v="$(python3 -c 'import torch; print(torch.__version__, torch.version.cuda)' 2>/dev/null || echo none)"
san="$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -n 1 || true)"
record environment ok 0 gpu "${gpu:-none}" nvcc "${nvcc_v:-none}" torch "$torch_v" \
  compute_sanitizer "${san:-none}" mode "$([ -n "$emulated" ] && echo emulated || echo gpu)" budget_s "$budget"

# 2. build: one nvcc per source file, all at once (the tensor-core kernel alone takes ~20 s of ptxas), then one link
#    per harness
declare -A bin
to_build=()
for h in "${harnesses[@]}"; do
  if [ -n "$emulated" ]; then
    bin[$h]="$emulated/harness_${h}_emu"
    if [ -x "${bin[$h]}" ]; then record "build-$h" skipped 0 reason "emulated: using ${bin[$h]}"
    else record "build-$h" failed 0 reason "${bin[$h]} not found (run native-build/build.sh)"; failed=1; unset "bin[$h]"; fi
  elif [ -n "$prebuilt" ] && [ -x "$prebuilt/$h" ]; then
    bin[$h]="$prebuilt/$h"; record "build-$h" skipped 0 reason "prebuilt: $prebuilt/$h"
  elif [ -z "$nvcc_bin" ]; then
    record "build-$h" failed 0 reason "nvcc not found (PATH, /usr/local/cuda*/bin) and no --prebuilt"; failed=1
  else
    to_build+=("$h")
  fi
done
if [ ${#to_build[@]} -gt 0 ]; then
  t=$(left); [ "$t" -gt 150 ] && t=150
  mkdir -p "$work/obj"
  t0=$(date +%s)
  declare -A obj_pid
  for h in "${to_build[@]}"; do
    for src in "cuda/dev/$h.cu" ${harness_kernels[$h]}; do
      o="$work/obj/$h-${src//\//_}.o"  # cuda/dev/integrate.cu and cuda/integrate.cu differ
      timeout --kill-after=5 "$t" "$nvcc_bin" -O3 -std=c++17 -arch="$arch" --expt-relaxed-constexpr -lineinfo \
        -I"$here/cuda" -c "$here/$src" -o "$o" >"$o.log" 2>&1 &
      obj_pid[$o]=$!
    done
  done
  declare -A obj_rc
  for o in "${!obj_pid[@]}"; do wait "${obj_pid[$o]}"; obj_rc[$o]=$?; done
  for h in "${to_build[@]}"; do
    objs=(); status=ok; why=""
    for src in "cuda/dev/$h.cu" ${harness_kernels[$h]}; do
      o="$work/obj/$h-${src//\//_}.o"  # cuda/dev/integrate.cu and cuda/integrate.cu differ
      objs+=("$o")
      rc=${obj_rc[$o]}
      if [ "$status" = ok ] && [ "$rc" -ne 0 ]; then
        if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then status=timeout; why="$src: over ${t}s"
        else status=failed; why="$src: $(grep -v '^\s*$' "$o.log" | grep -m1 -i 'error' | cut -c1-300)"; fi
      fi
    done
    if [ "$status" = ok ] && ! "$nvcc_bin" -arch="$arch" "${objs[@]}" -o "$work/$h" >"$work/link-$h.log" 2>&1; then
      status=failed; why="link: $(grep -v '^\s*$' "$work/link-$h.log" | tail -n 1 | cut -c1-300)"
    fi
    secs=$(( $(date +%s) - t0 ))
    if [ "$status" = ok ]; then bin[$h]="$work/$h"; record "build-$h" ok "$secs"
    else record "build-$h" "$status" "$secs" last "$why"; failed=1
    fi
  done
fi

# 3. validate (the harness writes one line per failing launch and a summary line into $out)
qflag=(); [ $quick -eq 1 ] && qflag=(--quick)
for h in "${harnesses[@]}"; do
  [ -n "${bin[$h]:-}" ] || continue
  run_step "validate-$h" 90 "${bin[$h]}" --validate-only "${qflag[@]}" --json "$out"
done

# 4. compute-sanitizer at small sizes; each log (first 200 lines) kept next to --out, written atomically
for tool in memcheck racecheck synccheck; do
  for h in "${harnesses[@]}"; do
    [ -n "${bin[$h]:-}" ] || continue
    if [ -n "$emulated" ]; then record "sanitize-$tool-$h" skipped 0 reason "emulated build"; continue; fi
    if [ -z "$san" ]; then record "sanitize-$tool-$h" skipped 0 reason "compute-sanitizer not found"; continue; fi
    t=$(left); [ "$t" -gt 30 ] && t=30
    if [ "$t" -le 5 ]; then record "sanitize-$tool-$h" skipped 0 reason "budget spent"; continue; fi
    t0=$(date +%s)
    # shellcheck disable=SC2086
    timeout --kill-after=5 "$t" "$san" --tool "$tool" --error-exitcode 3 "${bin[$h]}" --validate-only --quick \
      ${harness_sanitize_args[$h]} >"$work/san.log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - t0 ))
    log="$out.sanitize-$tool-$h.log"
    { head -n 200 "$work/san.log"
      total=$(wc -l <"$work/san.log")
      if [ "$total" -gt 200 ]; then echo "... ($(( total - 200 )) more lines; the last 5:)"; tail -n 5 "$work/san.log"; fi
    } >"$work/san.head" && mv -f "$work/san.head" "$log"
    summary="$(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY|not supported|Error:' "$work/san.log" | tail -n 1 | cut -c1-300)"
    if [ $rc -eq 0 ]; then record "sanitize-$tool-$h" ok "$secs" summary "$summary" log "$log"
    elif [ $rc -eq 3 ] && [ "$tool" = racecheck ] && [[ "$summary" =~ \(0\ errors, ]]; then
      # hazards reported as warnings only (e.g. shared memory reads racing identical writes): kept, not a failure
      record "sanitize-$tool-$h" warning "$secs" summary "$summary" log "$log" \
        first_warning "$(grep -m1 -E '^=+ +(Warning|Race|Potential)' "$work/san.log" | cut -c1-300)"
    elif [ $rc -eq 3 ]; then record "sanitize-$tool-$h" failed "$secs" summary "$summary" log "$log" \
      first_error "$(grep -m1 -E '^=+ +(Invalid|Race|Barrier|Error|Uninitialized)' "$work/san.log" | cut -c1-300)"; failed=1
    elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then record "sanitize-$tool-$h" skipped "$secs" reason "timeout after ${t}s" log "$log"
    else record "sanitize-$tool-$h" skipped "$secs" reason "compute-sanitizer refused (exit $rc): $summary" log "$log"
    fi
  done
done

# 5. time the kernels (the harness validates again first: seconds on a GPU)
declare -A harness_time_args=([retrieve]="--cases $cases --reps $reps"
                              [integrate]="--sizes $sizes --reps 5 --max-seconds 8")
for h in "${harnesses[@]}"; do
  [ -n "${bin[$h]:-}" ] || continue
  if [ -n "$emulated" ]; then record "time-$h" skipped 0 reason "emulated build: timing needs a GPU"; continue; fi
  # shellcheck disable=SC2086
  run_step "time-$h" 90 "${bin[$h]}" ${harness_time_args[$h]} --json "$out"
done

# 6. the Java engines with the carried runtime (see the header); JCublas 12.6 links libcublas.so.12, which the
#    machine may have only inside PyTorch's wheel (nvidia/cublas/lib): that folder goes on LD_LIBRARY_PATH
[ $java_given -eq 1 ] || java_dir="$here/target/gpu-java"
# a copy that lost its execute bits (carried by a tool that does not keep them) gets them back
if [ -f "$java_dir/gpu-check" ] && [ -f "$java_dir/runtime/bin/java" ] && [ ! -x "$java_dir/runtime/bin/java" ]; then
  chmod u+x "$java_dir/gpu-check" "$java_dir/runtime/bin/"* "$java_dir/runtime/lib/jspawnhelper" 2>/dev/null
fi
if [ $skip_java -eq 1 ]; then record java skipped 0 reason "--skip-java"
elif [ ! -x "$java_dir/gpu-check" ] || [ ! -x "$java_dir/runtime/bin/java" ]; then
  record java skipped 0 reason "no runtime carried ($java_dir has no gpu-check and runtime/bin/java; make them with native-build/java-runtime.sh and carry target/gpu-java)"
else
  cublas12=""
  for d in $(python3 -c 'import site; print(" ".join(site.getsitepackages()))' 2>/dev/null) /usr/local/cuda*/lib64 \
           /usr/lib/x86_64-linux-gnu; do
    for f in "$d/nvidia/cublas/lib/libcublas.so.12" "$d/libcublas.so.12"; do
      if [ -e "$f" ]; then cublas12="$(dirname "$f")"; break 2; fi
    done
  done
  t=$(left); [ "$t" -gt 110 ] && t=110
  if [ "$t" -le 30 ]; then record java skipped 0 reason "budget spent"
  else
    java_args=(--out "$out" --budget $(( t - 15 )))
    java_opts=""
    jcuda_driver=system
    if [ -n "$emulated" ]; then
      java_args+=(--engines emu,jcuda,jcublas --required none --quick --time-cases 2x3000x32)
      # the emulated CUDA driver for JCuda, where the native build made one (java/target/jcuda-emu/); jcublas needs
      # libcublas.so.12 as well, else it is recorded as unavailable
      drv="$here/java/target/jcuda-emu/libengram_cudadrv_emu.so"
      if [ -f "$drv" ]; then java_opts="-Dengram.jcuda.driver=$drv"; jcuda_driver="$drv"; fi
    fi
    glibc="$(ldd --version 2>/dev/null | head -1 | sed 's/.* //')"  # libengram_cuda.so from here needs 2.34
    record java-environment ok 0 runtime "$java_dir" libcublas_so_12 "${cublas12:-none found}" \
      jcuda_driver "$jcuda_driver" glibc "${glibc:-unknown}" budget_s "$(( t - 15 ))"
    run_step java "$t" env LD_LIBRARY_PATH="${cublas12:+$cublas12:}${LD_LIBRARY_PATH:-}" \
      ENGRAM_JAVA_OPTS="$java_opts ${ENGRAM_JAVA_OPTS:-}" "$java_dir/gpu-check" "${java_args[@]}"
    cp "$work/step.log" "$work/java.log" && mv -f "$work/java.log" "$out.java.log"
  fi
fi

# 7. PyTorch on the same GPU, same shapes
if [ $skip_torch -eq 1 ]; then record torch skipped 0 reason "--skip-torch"; record torch-leapfrog skipped 0 reason "--skip-torch"
elif [ "$torch_v" = none ]; then
  record torch skipped 0 reason "python3 cannot import torch"; record torch-leapfrog skipped 0 reason "python3 cannot import torch"
else
  run_step torch 90 python3 "$here/bench/peers/torch_gpu_retrieval.py" --cases "$cases" --reps "$reps" --json "$out"
  run_step torch-leapfrog 90 python3 "$here/bench/peers/torch_gpu_leapfrog.py" --sizes "$sizes" --reps 3 \
    --max-seconds 3 --json "$out"
fi

record summary "$([ $failed -eq 0 ] && echo ok || echo failed)" $(( $(date +%s) - start )) out "$out"
exit $failed
