#!/usr/bin/env bash
# CPU latency in fresh processes, configurations interleaved: the protocol behind docs/benchmarks.md.
#
# Each round runs every (model, configuration) once, in a new `swiftseg bench` process (order reversed on even
# rounds, so slow drifts of a shared machine hit all configurations alike), and records that process's median.
# The summary gives, per model and configuration, the per-process medians, their median and their spread
# (max/min - 1: the per-process agreement the issue asks to be within 10%), and the ratio to the first configuration.
#
#   scripts/bench-cpu.sh [-n rounds] [-m models] [-c configs] [-r repeats] [-t seconds] [-s size] [-b swiftseg] [-o results.tsv]
#
# Each process times at least `repeats` calls and more until `seconds` of calls are timed (default 10, both tools'
# default: a longer window keeps one slow stretch of a shared machine from moving a process's median).
#
# Configurations (comma-separated):
#   opt          inference, optimized for the CPU (the default of `swiftseg bench`)
#   plain        inference, plain forward (--plain)
#   opt-free     opt with SWIFTSEG_KEEP_FREED_MEMORY=0 (glibc's default allocator behaviour)
#   plain-free   plain with SWIFTSEG_KEEP_FREED_MEMORY=0
#   train        one training step, batch 2 (--train --batch 2)
#   train-free   train with SWIFTSEG_KEEP_FREED_MEMORY=0
#   bin=PATH     inference with another swiftseg binary, default flags (e.g. a build of the previous commit)
# PyTorch, the official models (scripts/pytorch-bench/README.md: TORCH_PYTHON is a Python with torch 2.11 and
# transformers, LRFORMER_OFFICIAL a checkout of github.com/yuhuan-wu/LRFormer):
#   torch-eager           eager fp32, NCHW, glibc's default allocator behaviour
#   torch-eager-alloc     eager with glibc set as SwiftSeg sets it (the issue's "same allocator")
#   torch-cl-alloc        eager channels_last, same allocator
#   torch-compile-freeze  torch.compile with inductor freezing (compilation in the warm-up, not timed)
#   torch-train, torch-train-alloc   one training step, batch 2, AdamW (glibc default / same allocator)
# Threads: libtorch's default (all cores); OMP_NUM_THREADS=1 in the environment pins one thread.
# Example (the issue's table): scripts/bench-cpu.sh -n 5 -m lrformer-t,lrformer-s,segformer-b0,segformer-b2 -c opt,plain
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=5
MODELS=lrformer-t,lrformer-s,segformer-b0,segformer-b2
CONFIGS=opt,plain
REPEATS=10
MIN_TIME=10
SIZE=512
BIN=.build/release/swiftseg
OUT=""
while getopts "n:m:c:r:t:s:b:o:h" opt; do
    case $opt in
        n) ROUNDS=$OPTARG ;;
        m) MODELS=$OPTARG ;;
        c) CONFIGS=$OPTARG ;;
        r) REPEATS=$OPTARG ;;
        t) MIN_TIME=$OPTARG ;;
        s) SIZE=$OPTARG ;;
        b) BIN=$OPTARG ;;
        o) OUT=$OPTARG ;;
        *) sed -n '2,30p' "$0"; exit 1 ;;
    esac
done
[ -x "$BIN" ] || { echo "no swiftseg binary at $BIN (swift build -c release --product swiftseg)" >&2; exit 1; }
RESULTS=${OUT:-$(mktemp /tmp/bench-cpu.XXXXXX.tsv)}
: > "$RESULTS"

IFS=, read -r -a models <<< "$MODELS"
IFS=, read -r -a configs <<< "$CONFIGS"

# glibc configured as SwiftSeg configures it at start-up (Torch.keepFreedMemory), for PyTorch processes.
SAME_ALLOCATOR=(MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=2147483647 MALLOC_TOP_PAD_=67108864)

# One PyTorch process; prints "median_ms cpu_ms".
run_torch() {
    local model=$1 config=$2 env=() mode=eager warmup=3
    case $config in
        torch-eager) ;;
        torch-eager-alloc) env=("${SAME_ALLOCATOR[@]}") ;;
        torch-cl-alloc) env=("${SAME_ALLOCATOR[@]}"); mode=channels-last ;;
        torch-compile-freeze) mode=compile-freeze ;;
        torch-train) mode=train; warmup=2 ;;
        torch-train-alloc) env=("${SAME_ALLOCATOR[@]}"); mode=train; warmup=2 ;;
        *) echo "unknown configuration '$config'" >&2; exit 1 ;;
    esac
    local text
    text=$(env "${env[@]}" "${TORCH_PYTHON:-python3}" scripts/pytorch-bench/bench.py --model "$model" --mode "$mode" \
        --size "$SIZE" --warmup "$warmup" --repeats "$REPEATS" --min-time "$MIN_TIME" ${LRFORMER_OFFICIAL:+--official "$LRFORMER_OFFICIAL"} 2>&1) || {
        echo "failed: PyTorch $model $config" >&2; echo "$text" | tail -5 >&2; exit 1; }
    echo "$text" | awk '/^RESULT/ { print $2, $3 }'
}

# One process; prints "median_ms cpu_ms".
run_one() {
    local model=$1 config=$2 bin=$BIN env=() flags=()
    case $config in
        torch-*) run_torch "$model" "$config"; return ;;
        opt) ;;
        plain) flags=(--plain) ;;
        opt-free) env=(SWIFTSEG_KEEP_FREED_MEMORY=0) ;;
        plain-free) env=(SWIFTSEG_KEEP_FREED_MEMORY=0); flags=(--plain) ;;
        train) flags=(--train --batch 2) ;;
        train-free) env=(SWIFTSEG_KEEP_FREED_MEMORY=0); flags=(--train --batch 2) ;;
        bin=*) bin=${config#bin=} ;;
        *) echo "unknown configuration '$config'" >&2; exit 1 ;;
    esac
    local warmup=3
    [[ $config == train* ]] && warmup=2
    # A build from before --min-time existed (bin=PATH) times exactly --repeats calls.
    if "$bin" bench --help 2>/dev/null | grep -q -- --min-time; then flags+=(--min-time "$MIN_TIME"); fi
    local text
    text=$(env "${env[@]}" "$bin" bench --models "$model" --sizes "$SIZE" --repeats "$REPEATS" --warmup "$warmup" "${flags[@]}" 2>&1) || {
        echo "failed: $bin bench --models $model ${flags[*]}" >&2; echo "$text" | tail -5 >&2; exit 1; }
    # The result row: | model | input | batch | device | dtype | mode | median ms | ...
    local median cpu
    median=$(echo "$text" | awk -F'|' -v m="$model" '$2 ~ m && $3 ~ /x/ { gsub(/ /, "", $8); print $8; exit }')
    cpu=$(echo "$text" | awk '/median process CPU time/ { print $(NF-3); exit }')
    echo "$median ${cpu:--}"
}

echo "# $(date -u +%FT%TZ) $(uname -n), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), ${OMP_NUM_THREADS:+OMP_NUM_THREADS=$OMP_NUM_THREADS, }binary $BIN" | tee -a "$RESULTS"
for ((round = 1; round <= ROUNDS; round++)); do
    order=("${configs[@]}")
    if ((round % 2 == 0)); then
        order=(); for ((i = ${#configs[@]} - 1; i >= 0; i--)); do order+=("${configs[i]}"); done
    fi
    for model in "${models[@]}"; do
        for config in "${order[@]}"; do
            read -r median cpu < <(run_one "$model" "$config")
            printf "%s\t%s\t%d\t%s\t%s\t%s\n" "$model" "$config" "$round" "$median" "$cpu" "$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$RESULTS"
        done
    done
done

echo
echo "| model | configuration | per-process medians ms | median ms | spread (max/min - 1) | vs ${configs[0]} | median CPU ms | load during |"
echo "|---|---|---|---|---|---|---|---|"
awk -F'\t' -v first="${configs[0]}" '
    !/^#/ { key = $1 SUBSEP $2; v[key] = v[key] (v[key] == "" ? "" : " ") $4; c[key] = c[key] " " $5; l[key] = l[key] " " $6
            if (!(key in seen)) { seen[key] = 1; order[++n] = key } }
    function med(s,   a, k, i, j, t) { if (s ~ /-/) return "-"; k = split(s, a, " "); for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
                                       return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }
    function lo(s,   a, k, i, m) { k = split(s, a, " "); m = a[1]; for (i = 2; i <= k; i++) if (a[i] + 0 < m + 0) m = a[i]; return m }
    function hi(s,   a, k, i, m) { k = split(s, a, " "); m = a[1]; for (i = 2; i <= k; i++) if (a[i] + 0 > m + 0) m = a[i]; return m }
    END {
        for (i = 1; i <= n; i++) { split(order[i], p, SUBSEP); m[order[i]] = med(v[order[i]]) }
        for (i = 1; i <= n; i++) {
            split(order[i], p, SUBSEP); base = p[1] SUBSEP first
            printf "| %s | %s | %s | %.0f | %.0f%% | %.2fx | %s | %s |\n", p[1], p[2], v[order[i]], m[order[i]],
                100 * (hi(v[order[i]]) / lo(v[order[i]]) - 1), m[order[i]] / m[base], med(c[order[i]]), l[order[i]]
        }
    }' "$RESULTS"
echo
echo "raw results: $RESULTS"
