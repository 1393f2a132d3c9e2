"""Times an official model in PyTorch with the protocol of `swiftseg bench` (see README.md here).

  python bench.py --model lrformer-t --official ~/LRFormer --mode eager|channels-last|compile-freeze|train
  python bench.py --model lrformer-t --official ~/LRFormer --verify ../shared/reference/lrformer/parity-t

Prints `RESULT <median ms> <process CPU ms per call>` (the line scripts/bench-cpu.sh reads) after the per-call times.
Inference: batch 1, eval mode, torch.inference_mode(), `--warmup` calls (compilation happens in the first), then
`--repeats` timed calls, more until `--min-time` seconds are timed. Train: batch 2, train mode, zero_grad + forward + bilinear upsampling to the labels +
cross-entropy (ignore 255) + backward + AdamW(lr 6e-5, weight decay 0.01), as the official recipe's step.
The allocator is glibc's unless the environment sets it (bench-cpu.sh's torch-*-same-alloc configurations).
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F

import official_models


def timed(step, warmup, repeats, min_time):
    """At least `repeats` timed calls, and more until `min_time` seconds are timed (as `swiftseg bench --min-time`)."""
    for _ in range(warmup):
        step()
    wall, cpu = [], []
    while len(wall) < repeats or (sum(wall) < 1000 * min_time and len(wall) < 10000):
        w, c = time.perf_counter(), time.process_time()
        step()
        wall.append(1000 * (time.perf_counter() - w))
        cpu.append(1000 * (time.process_time() - c))
    return wall, cpu


def inference(model, mode, size):
    model.eval()
    x = torch.randn(1, 3, size, size)
    if mode == "channels-last":
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    if mode == "compile-freeze":
        import torch._inductor.config as inductor_config

        inductor_config.freezing = True
        model = torch.compile(model)

    def step():
        with torch.inference_mode():
            model(x)

    return step


def training(model, size):
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=6e-5, betas=(0.9, 0.999), weight_decay=0.01)
    x = torch.randn(2, 3, size, size)
    labels = torch.randint(0, 150, (2, size, size))

    def step():
        optimizer.zero_grad()
        logits = model(x)
        up = F.interpolate(logits, size=(size, size), mode="bilinear", align_corners=False)
        F.cross_entropy(up, labels, ignore_index=255).backward()
        optimizer.step()

    return step


def verify(model, fixture):
    """Loads a parity fixture's weights and checks the logits: proves the stand-ins build the official model."""
    from safetensors.torch import load_file

    weights = {k: v.float() if v.is_floating_point() else v for k, v in load_file(f"{fixture}/weights.safetensors").items()}
    model.load_state_dict(weights, strict=True)
    model.eval()
    with torch.no_grad():
        logits = model(load_file(f"{fixture}/input.safetensors")["input"])
    expected = load_file(f"{fixture}/expected.safetensors")["logits"]
    error = (logits - expected).abs().max().item()
    print(f"{len(weights)} weights loaded; max |logits - expected| = {error:.2e} (max |expected| {expected.abs().max():.3f})")
    raise SystemExit(0 if error < 2e-4 else 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=official_models.MODELS, required=True)
    parser.add_argument("--official", help="checkout of github.com/yuhuan-wu/LRFormer (LRFormer models)")
    parser.add_argument("--mode", choices=["eager", "channels-last", "compile-freeze", "train"], default="eager")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--min-time", type=float, default=10, help="seconds of timed calls, at least (0: exactly --repeats)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--verify", metavar="FIXTURE", help="check the model against a parity fixture and exit")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)
    model = official_models.build(args.model, args.official)
    if args.verify:
        verify(model, args.verify)
    step = training(model, args.size) if args.mode == "train" else inference(model, args.mode, args.size)
    wall, cpu = timed(step, args.warmup, args.repeats, args.min_time)
    print(args.model, args.mode, "ms per call:", " ".join(f"{t:.0f}" for t in wall))
    print(f"RESULT {statistics.median(wall):.0f} {statistics.median(cpu):.0f}")


if __name__ == "__main__":
    main()
