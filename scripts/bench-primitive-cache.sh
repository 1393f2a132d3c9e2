#!/usr/bin/env bash
# Peak resident memory of `swiftseg predict` over many image sizes, and its speed and memory at one size, for
# several capacities of oneDNN's primitive cache. Figures for docs/benchmarks.md.
#
#   scripts/bench-primitive-cache.sh BINARY MODEL COUNT CAPACITY...
#   e.g. scripts/bench-primitive-cache.sh .build/release/swiftseg lrformer-t 400 default 1024 0
#
# CAPACITY is a value for ONEDNN_PRIMITIVE_CACHE_CAPACITY, or `default` (unset: SwiftSeg's own bound).
# PREDICT_ARGS adds predict options (e.g. PREDICT_ARGS="--short-side 256" for smaller, faster inputs).
# Needs python3 (writes the PNGs) and GNU time (/usr/bin/time, for the peak resident set).
set -euo pipefail
BIN=$(realpath "$1"); MODEL=$2; COUNT=$3; shift 3
WORK=$(mktemp -d /tmp/swiftseg-primcache-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# COUNT images of seeded random sizes (256...1024 a side: as many model input sizes after the test resize),
# and 30 images of one size.
python3 - "$WORK" "$COUNT" <<'EOF'
import os, random, struct, sys, zlib
work, count = sys.argv[1], int(sys.argv[2])
def png(path, w, h, seed):
    row = b"\0" + bytes((x * 255 // w + seed) % 256 for x in range(w) for _ in range(3))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(row * h, 6)) + chunk(b"IEND", b""))
rng = random.Random(0)
os.makedirs(f"{work}/mixed"); os.makedirs(f"{work}/same")
for i in range(count):
    png(f"{work}/mixed/{i:04d}.png", rng.randint(256, 1024), rng.randint(256, 1024), i)
for i in range(30):
    png(f"{work}/same/{i:04d}.png", 1024, 768, i)
EOF

# A checkpoint of the model's own layout (random weights: the figures do not depend on the values), from one
# training step on a tiny synthetic set.
"$BIN" synth --out "$WORK/synth" --train 2 --val 1 --size 64 >/dev/null
"$BIN" train --model "$MODEL" --data "$WORK/synth" --iters 1 --batch 1 --crop 64 --eval-interval 0 --workers 1 \
  --device cpu --work-dir "$WORK/run" >/dev/null 2>&1
CKPT="$WORK/run/checkpoints/iter_1"

echo "| capacity | $COUNT mixed-size images: peak RSS, s | 30 images of one size: peak RSS | images/s at one size |"
echo "|---|---|---|---|"
for cap in "$@"; do
  if [ "$cap" = default ]; then ENV=(env -u ONEDNN_PRIMITIVE_CACHE_CAPACITY); else ENV=(env ONEDNN_PRIMITIVE_CACHE_CAPACITY="$cap"); fi
  PREDICT=("$BIN" predict --model "$MODEL" --checkpoint "$CKPT" --dataset ade20k ${PREDICT_ARGS:-})
  "${ENV[@]}" /usr/bin/time -o "$WORK/mixed.time" -f "%M %e" "${PREDICT[@]}" --input "$WORK/mixed" --out "$WORK/out-mixed" >/dev/null
  "${ENV[@]}" /usr/bin/time -o "$WORK/same.time" -f "%M" "${PREDICT[@]}" --input "$WORK/same" --out "$WORK/out-same" --profile \
    > "$WORK/same.out"
  read -r mixed seconds < "$WORK/mixed.time"
  speed=$(sed -nE 's/.*: ([0-9.]+) images\/s.*/\1/p' "$WORK/same.out")
  printf "| %s | %d MiB, %.0f s | %d MiB | %s |\n" "$cap" $((mixed / 1024)) "$seconds" $(($(cat "$WORK/same.time") / 1024)) "$speed"
done
