"""The decode-head loss (upsample 2 x 150 x 64 x 64 logits to 512 x 512, cross-entropy ignoring 255, backward) over
NCHW maps (mmseg's) and over a channels-last map viewed as (pixels, classes) (SwiftSeg's segmentationLoss).
Run it with the allocator settings of bench-cpu.sh's *-alloc configurations to compare like with like."""
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(2)
torch.manual_seed(0)
logits = torch.randn(2, 150, 64, 64)
labels = torch.randint(0, 150, (2, 512, 512))
labels[:, :20] = 255


def nchw():
    x = logits.clone().requires_grad_()
    loss = F.cross_entropy(F.interpolate(x, (512, 512), mode="bilinear", align_corners=False), labels, ignore_index=255)
    loss.backward()
    return loss, x.grad


def channels_last_rows():
    x = logits.clone().contiguous(memory_format=torch.channels_last).requires_grad_()
    up = F.interpolate(x, (512, 512), mode="bilinear", align_corners=False)
    loss = F.cross_entropy(up.permute(0, 2, 3, 1).reshape(-1, 150), labels.reshape(-1), ignore_index=255)
    loss.backward()
    return loss, x.grad


def median_ms(f, warmup=3, repeats=9):
    for _ in range(warmup):
        f()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(1000 * (time.perf_counter() - start))
    return sorted(times)[repeats // 2]


(la, ga), (lb, gb) = nchw(), channels_last_rows()
print(f"loss {la.item():.6f} vs {lb.item():.6f}; max |grad difference| {(ga - gb).abs().max().item():.1e}")
for name, f in (("NCHW", nchw), ("channels-last rows", channels_last_rows), ("NCHW", nchw), ("channels-last rows", channels_last_rows)):
    print(f"{name}: {median_ms(f):.0f} ms")
