#!/usr/bin/env bash
# GPU check in one go. Two halves:
#
#   scripts/device-check.sh build   (here, with the Swift toolchain and libtorch)
#       Builds a release `swiftseg` with the Swift runtime linked in (--static-swift-stdlib) and puts it, the
#       non-system libraries it needs (libjpeg, libpng) and the parity fixtures into .device/ (git-ignored).
#
#   scripts/device-check.sh run     (on the GPU machine; carry .device)
#       Needs only a stock PyTorch install: LIBTORCH = its torch folder (default: the first
#       /opt/torch/.venv/lib/python3.*/site-packages/torch) and that venv's python for the comparisons.
#       Writes Markdown, JSON and SVG into $OUT (default ./device-check-out): info, CUDA parity (fp32 with TF32 off,
#       bf16), one LRFormer-T training step on CUDA against the CPU, inference and training benchmarks, and
#       LRFormer-S training memory at 1536x1536 against the paper's 15.3 GB. Aims to finish within 8 minutes on an
#       H200: each step has a time limit and later steps are skipped (and say so) once the budget is spent.
#
# The run half uses CLI flags that the engine provides: `--device cuda`, `--precision fp32|bf16|fp16` (bench and
# forward), `--cuda-graphs` (bench). A step whose command fails is recorded as failed with its log; the script goes on.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEVICE_DIR="$ROOT/.device"
MODE="${1:-}"

build() {
    : "${LIBTORCH:?set LIBTORCH to the libtorch folder (lib/ and include/), e.g. /work/main/libtorch/torch}"
    cd "$ROOT"
    echo "== swift build -c release --static-swift-stdlib --product swiftseg" >&2
    swift build -c release --static-swift-stdlib --product swiftseg || exit 1
    local bin
    bin="$(swift build -c release --static-swift-stdlib --show-bin-path)/swiftseg"
    rm -rf "$DEVICE_DIR" && mkdir -p "$DEVICE_DIR/lib" "$DEVICE_DIR/fixtures"
    # The carry limit is 64 MiB: strip (90 -> 63 MB) and compress (-> 16 MB); `run` unpacks it.
    strip --strip-all -o "$DEVICE_DIR/swiftseg" "$bin"
    # Libraries that neither libtorch nor a base system provides.
    ldd "$bin" | awk '/=> \// {print $3}' | grep -E 'lib(jpeg|png|turbojpeg)' | while read -r lib; do
        cp -L "$lib" "$DEVICE_DIR/lib/"
    done
    # The libtorch the binary was built against: the device machine's must match (C++ ABI).
    grep -E "^__version__" "$LIBTORCH/version.py" | sed -E "s/.*'(.*)'/\1/" > "$DEVICE_DIR/torch-version"
    git -C "$ROOT" rev-parse --short HEAD > "$DEVICE_DIR/commit" 2>/dev/null || echo unknown > "$DEVICE_DIR/commit"
    # Parity fixtures beyond the small one in the repository (Tests/SegModelsTests/Resources/lrformer/parity-tiny).
    local ref="${SWIFTSEG_REFERENCE:-/work/shared/reference}"
    for f in lrformer/parity-t segformer/parity-b0; do
        [ -d "$ref/$f" ] && mkdir -p "$DEVICE_DIR/fixtures/$f" && cp "$ref/$f"/*.safetensors "$DEVICE_DIR/fixtures/$f/"
    done
    ldd "$bin" > "$DEVICE_DIR/ldd.txt"
    du -sh "$DEVICE_DIR"/* >&2
    echo "== .device: $(du -sm "$DEVICE_DIR" | cut -f1) MiB (carry limit 64 MiB)" >&2
    # A smoke test of the binary here: it must start and answer `info` on the CPU.
    "$DEVICE_DIR/swiftseg" info || exit 1
    xz -T0 -6 -f "$DEVICE_DIR/swiftseg"
    echo "== .device: $(du -sm "$DEVICE_DIR" | cut -f1) MiB after compression (carry limit 64 MiB)" >&2
}

run() {
    local start=$SECONDS budget="${SWIFTSEG_CHECK_BUDGET_S:-450}"
    OUT="${OUT:-$ROOT/device-check-out}"
    mkdir -p "$OUT/logs"
    if [ -z "${LIBTORCH:-}" ]; then
        LIBTORCH="$(ls -d /opt/torch/.venv/lib/python3.*/site-packages/torch 2>/dev/null | head -1)"
    fi
    [ -d "${LIBTORCH:-}/lib" ] || { echo "no libtorch: set LIBTORCH to a torch folder with lib/" >&2; exit 1; }
    local venv_python
    venv_python="$(cd "$LIBTORCH/../../../.." 2>/dev/null && pwd)/bin/python"
    PY="${PYTHON:-$venv_python}"
    [ -x "$PY" ] || PY=python3
    export LD_LIBRARY_PATH="$LIBTORCH/lib:$DEVICE_DIR/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    local WORK="$OUT/work"
    mkdir -p "$WORK"
    local S="$WORK/swiftseg"
    if [ -f "$DEVICE_DIR/swiftseg.xz" ]; then  # python's lzma, in case the machine has no xz
        "$PY" -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' \
            "$DEVICE_DIR/swiftseg.xz" "$S" && chmod +x "$S"
    else
        S="$DEVICE_DIR/swiftseg"
    fi
    : > "$OUT/steps.jsonl"

    # step NAME LIMIT_S COMMAND...: runs with a time limit, logs to logs/NAME.log, records the outcome.
    step() {
        local name="$1" limit="$2"
        shift 2
        local left=$((budget - (SECONDS - start)))
        if [ "$left" -le 20 ]; then
            echo "{\"step\":\"$name\",\"status\":\"skipped\",\"reason\":\"time budget spent\"}" >> "$OUT/steps.jsonl"
            echo "-- $name: skipped (budget)" >&2
            return 1
        fi
        [ "$limit" -gt "$left" ] && limit="$left"
        local t0=$SECONDS
        echo "-- $name (limit ${limit}s)" >&2
        timeout "$limit" "$@" > "$OUT/logs/$name.log" 2>&1
        local rc=$?
        local status=ok
        [ $rc -ne 0 ] && status=failed && [ $rc -eq 124 ] && status=timeout
        echo "{\"step\":\"$name\",\"status\":\"$status\",\"rc\":$rc,\"seconds\":$((SECONDS - t0))}" >> "$OUT/steps.jsonl"
        echo "   $status in $((SECONDS - t0))s" >&2
        return $rc
    }

    # 1. Where we are.
    {
        echo "commit $(cat "$DEVICE_DIR/commit" 2>/dev/null)"
        echo "built against torch $(cat "$DEVICE_DIR/torch-version" 2>/dev/null)"
        echo "running on torch $(grep -E "^__version__" "$LIBTORCH/version.py" | sed -E "s/.*'(.*)'/\1/") at $LIBTORCH"
        nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null
    } > "$OUT/environment.txt"
    cmp -s <(cat "$DEVICE_DIR/torch-version") <(grep -E "^__version__" "$LIBTORCH/version.py" | sed -E "s/.*'(.*)'/\1/") \
        || echo "WARNING: torch version differs from the build's; the C++ ABI may not match" >> "$OUT/environment.txt"
    step info 30 "$S" info

    # 2. Parity on CUDA against the float64-computed fixtures: fp32 (TF32 off), then bf16 autocast.
    local F="$DEVICE_DIR/fixtures"
    for spec in "lrformer-t:$F/lrformer/parity-t" "segformer-b0:$F/segformer/parity-b0"; do
        local model="${spec%%:*}" dir="${spec#*:}"
        [ -f "$dir/weights.safetensors" ] || continue
        for precision in fp32 bf16; do
            step "parity-$model-$precision" 60 "$S" forward --model "$model" --weights "$dir/weights.safetensors" \
                --input "$dir/input.safetensors" --output "$WORK/parity-$model-$precision.safetensors" \
                --device cuda --precision "$precision"
        done
    done

    # 3. One LRFormer-T training step on CUDA against the same step on the CPU (same seed, data and weights).
    step synth 60 "$S" synth --out "$WORK/synth" --train 8 --val 2 --size 256x256 --seed 0
    echo '{"schedule": {"warmupIters": 0}}' > "$WORK/one-step.json"  # the recipe's warm-up is longer than one step
    for dev in cpu cuda; do
        step "train-step-$dev" 120 "$S" train --model lrformer-t --dataset synth --data "$WORK/synth" --iters 1 --batch 2 \
            --crop 256 --seed 0 --eval-interval 1000 --config "$WORK/one-step.json" --device "$dev" --work-dir "$WORK/train-$dev"
    done

    # 4. Benchmarks: inference at batch 1 and 16 in fp32, bf16 and bf16 with CUDA graphs; training steps; memory.
    local models="lrformer-t,lrformer-s,segformer-b0,segformer-b2"
    for batch in 1 16; do
        for mode in fp32 bf16 bf16-graphs; do
            local precision="${mode%%-*}" extra=()
            [ "$mode" = bf16-graphs ] && extra=(--cuda-graphs)
            step "bench-infer-b$batch-$mode" 150 "$S" bench --models "$models" --sizes 512,1024,2048 --batch "$batch" \
                --device cuda --precision "$precision" ${extra[@]+"${extra[@]}"} --warmup 2 --repeats 5 --min-time 0 --out "$OUT/bench-infer-b$batch-$mode"
        done
    done
    for precision in fp32 bf16; do
        step "bench-train-$precision" 120 "$S" bench --models lrformer-t,lrformer-s --sizes 512 --batch 8 --train \
            --device cuda --precision "$precision" --warmup 2 --repeats 5 --min-time 0 --out "$OUT/bench-train-$precision"
        step "memory-lrformer-s-1536-$precision" 90 "$S" bench --models lrformer-s --sizes 1536 --batch 2 --train \
            --device cuda --precision "$precision" --warmup 1 --repeats 2 --min-time 0 --out "$OUT/memory-lrformer-s-1536-$precision"
    done

    # 5. The report.
    "$PY" - "$OUT" "$WORK" "$F" <<'PYTHON'
import glob, json, os, re, struct, sys
import torch  # the stock install's; no numpy needed

out, work, fixtures = sys.argv[1:4]

def read_safetensors(path):
    """The safetensors format by hand: 8-byte header length, JSON header, raw little-endian data."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = bytearray(f.read())
    kinds = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
             "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8, "BOOL": torch.bool}
    tensors = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        a, b = info["data_offsets"]
        t = torch.frombuffer(data[a:b], dtype=kinds[info["dtype"]]) if b > a else torch.empty(0, dtype=kinds[info["dtype"]])
        tensors[key] = t.reshape(info["shape"])
    return tensors

steps = [json.loads(l) for l in open(os.path.join(out, "steps.jsonl"))]
status = {s["step"]: s for s in steps}
report = {"steps": steps, "parity": [], "train_step": None, "benchmarks": {}, "memory": []}
md = ["# Device check", "", "```", open(os.path.join(out, "environment.txt")).read().strip(), "```", ""]

# Parity. Tolerances: fp32 with TF32 off, max abs error <= 1e-4 (the fixtures' own fp32-vs-fp64 error is <2e-5);
# bf16 autocast, relative L2 error <= 3e-2 and max abs error <= 5e-2 of the reference's max abs value (bf16 autocast on the
# CPU measured 1.6e-2 and 1.9e-2 on LRFormer-T's logits).
md += ["## Parity on CUDA (reference: float64 official code)", "", "| model | precision | tensor | max abs err | rel L2 err | tolerance | ok |", "|---|---|---|---|---|---|---|"]
for model, sub in [("lrformer-t", "lrformer/parity-t"), ("segformer-b0", "segformer/parity-b0")]:
    expected_path = os.path.join(fixtures, sub, "expected.safetensors")
    if not os.path.exists(expected_path):
        continue
    expected = read_safetensors(expected_path)
    for precision in ["fp32", "bf16"]:
        path = os.path.join(work, f"parity-{model}-{precision}.safetensors")
        if not os.path.exists(path):
            md.append(f"| {model} | {precision} | (no output: {status.get(f'parity-{model}-{precision}', {}).get('status', 'not run')}) | | | | no |")
            report["parity"].append({"model": model, "precision": precision, "ok": False})
            continue
        got = read_safetensors(path)
        for key in sorted(set(expected) & set(got)):
            e, g = expected[key].double(), got[key].double()
            if e.shape != g.shape:
                md.append(f"| {model} | {precision} | {key} | shape {list(g.shape)} vs {list(e.shape)} | | | no |")
                continue
            err = float((e - g).abs().max())
            rel = float((e - g).norm()) / max(float(e.norm()), 1e-30)
            if precision == "fp32":
                ok, tol = err <= 1e-4, "max abs 1e-4"
            else:
                ok, tol = rel <= 3e-2 and err <= 5e-2 * float(e.abs().max()), "rel L2 3e-2, max abs 5e-2 x ref max"
            md.append(f"| {model} | {precision} | {key} | {err:.2e} | {rel:.2e} | {tol} | {'yes' if ok else 'NO'} |")
            report["parity"].append({"model": model, "precision": precision, "tensor": key, "max_abs": err, "rel_l2": rel, "ok": ok})
md.append("")

# Training step: weights after one AdamW step on CUDA vs CPU (difference in units of the update the step made).
def newest_model(d):
    files = sorted(glob.glob(os.path.join(d, "**", "iter_*", "model.safetensors"), recursive=True))
    return files[-1] if files else None
cpu, cuda = newest_model(os.path.join(work, "train-cpu")), newest_model(os.path.join(work, "train-cuda"))
md += ["## One LRFormer-T training step: CUDA vs CPU", ""]
if cpu and cuda:
    a, b = read_safetensors(cpu), read_safetensors(cuda)
    diffs = {k: float((a[k].double() - b[k].double()).abs().max()) for k in a
             if k in b and a[k].is_floating_point() and a[k].numel() > 0}
    worst = sorted(diffs.items(), key=lambda kv: -kv[1])[:5]
    report["train_step"] = {"max_abs_diff": max(diffs.values()), "worst": worst}
    md += [f"Weights after the step: max abs difference {max(diffs.values()):.3e} over {len(diffs)} tensors "
           "(AdamW's first update is +-lr per weight, so differences of 2 lr mark weights whose gradient sign differs; "
           "stochastic depth and dropout draw different random numbers on the two devices).", "",
           "| tensor | max abs diff |", "|---|---|"] + [f"| {k} | {v:.3e} |" for k, v in worst] + [""]
else:
    md += [f"(missing checkpoint: cpu {status.get('train-step-cpu', {}).get('status')}, cuda {status.get('train-step-cuda', {}).get('status')})", ""]

# Benchmarks: copy each bench.md in, keep the JSON.
md += ["## Benchmarks", ""]
for d in sorted(glob.glob(os.path.join(out, "bench-*")) + sorted(glob.glob(os.path.join(out, "memory-*")))):
    name = os.path.basename(d)
    js = os.path.join(d, "bench.json")
    if os.path.exists(js):
        report["benchmarks"][name] = json.load(open(js))
    bm = os.path.join(d, "bench.md")
    md += [f"### {name}", ""] + ([open(bm).read().strip()] if os.path.exists(bm) else [f"(no result: {status.get(name, {}).get('status', 'not run')})"]) + [""]
    if name.startswith("memory-") and os.path.exists(js):
        text = json.dumps(report["benchmarks"][name])
        peaks = [int(x) for x in re.findall(r'"peakMemoryBytes":\s*(\d+)', text)]
        if peaks:
            gb = max(peaks) / 1e9
            report["memory"].append({"run": name, "peak_gb": gb, "paper_gb": 15.3})
            md += [f"Peak CUDA memory {gb:.1f} GB vs the paper's 15.3 GB (LRFormer-S, 1536x1536, batch 2).", ""]

md += ["## Steps", "", "| step | status | seconds |", "|---|---|---|"] + [f"| {s['step']} | {s['status']} | {s.get('seconds', '')} |" for s in steps]
open(os.path.join(out, "device-check.md"), "w").write("\n".join(md) + "\n")
json.dump(report, open(os.path.join(out, "device-check.json"), "w"), indent=1)
print("\n".join(md))
PYTHON
    echo "== done in $((SECONDS - start))s; results in $OUT" >&2
}

case "$MODE" in
    build) build ;;
    run) run ;;
    *) echo "usage: $0 build|run" >&2; exit 2 ;;
esac
