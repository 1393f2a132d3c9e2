#!/usr/bin/env python3
"""Writes the PyTorch reference numbers that Tests/TorchTests compare the Swift Torch layer against.

Run once, from any folder, with PyTorch 2.11 (CPU is enough):

    /root/.pyenv/versions/3.12.1/bin/python3 -m venv /tmp/torchenv
    /tmp/torchenv/bin/pip install torch==2.11.0 numpy safetensors
    /tmp/torchenv/bin/python Tests/TorchTests/Resources/pytorch/make_fixtures.py

It rewrites the .safetensors files beside it (inputs and expected outputs, keys "<case>.<role>"):
  tensor_ops.safetensors  arithmetic/broadcasting, unary ops, reductions, matmul/bmm/einsum
  functional.safetensors  conv2d, linear, norms, activations, pooling, interpolate, attention, cross-entropy
  dtypes.safetensors      float32 -> float16/bfloat16/int64/int32/uint8/bool conversions
  optim.safetensors       AdamW and SGD trajectories with two parameter groups and gradient clipping
  modules.safetensors     a small nested model's state_dict, input and eval output; its metadata lists
                          named_parameters() and state_dict() keys in PyTorch's order and the parameter count
Everything is seeded, so a rerun gives the same numbers. Keep the files small (all under 1 MB together).
"""
import os

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
torch.set_num_threads(1)  # a fixed reduction order


def save(name, tensors, metadata=None):
    tensors = {k: v.detach().contiguous() for k, v in tensors.items()}
    save_file(tensors, os.path.join(HERE, name), metadata={"torch": torch.__version__, **(metadata or {})})
    print(f"{name}: {len(tensors)} tensors, {os.path.getsize(os.path.join(HERE, name))} bytes")


def tensor_ops():
    g = torch.Generator().manual_seed(1)
    r = lambda *s: torch.randn(*s, generator=g)
    t = {}
    a, b = r(3, 1, 4), r(2, 4)
    t.update({"arith.a": a, "arith.b": b, "arith.add": a + b, "arith.sub": a - b, "arith.mul": a * b, "arith.div": a / b,
              "arith.scalar": (a * 2.5 + 1) / 4 - 0.5, "arith.rsub": 3 - a, "arith.neg": -a,
              "arith.pow_scalar": a.abs().pow(1.7), "arith.pow_tensor": a.abs().pow(b.abs()),
              "arith.clamp": a.clamp(-0.5, 0.7), "arith.clamp_min": a.clamp(min=0.1),
              "arith.maximum": torch.maximum(a, b), "arith.minimum": torch.minimum(a, b)})
    # Comparisons with broadcasting (bool results).
    t.update({"cmp.lt": a < b, "cmp.ge": a >= b, "cmp.eq_scalar": (a * 2).round() == 1.0})
    x = r(4, 5)
    pos = x.abs() + 0.1
    t.update({"unary.x": x, "unary.abs": x.abs(), "unary.exp": x.exp(), "unary.log": pos.log(), "unary.sqrt": pos.sqrt(),
              "unary.tanh": x.tanh(), "unary.sigmoid": x.sigmoid()})
    # The same ops on a transposed (non-contiguous) view: inputs stored transposed.
    t.update({"unary.xt": x.t().contiguous(), "unary.exp_t": x.t().exp()})
    x = r(3, 4, 5)
    mx = x.max(dim=2)
    mn = x.min(dim=0)
    t.update({"red.x": x, "red.sum_all": x.sum(), "red.sum_1": x.sum(1), "red.sum_02_keep": x.sum((0, 2), keepdim=True),
              "red.mean_last_keep": x.mean(-1, keepdim=True), "red.mean_all": x.mean(),
              "red.amax_1": x.amax(1), "red.amin_02": x.amin((0, 2)),
              "red.max2_values": mx.values, "red.max2_indices": mx.indices,
              "red.min0_values": mn.values, "red.min0_indices": mn.indices,
              "red.argmax_1": x.argmax(1), "red.argmax_1_keep": x.argmax(1, keepdim=True),
              "red.sum_1_of_transpose": x.transpose(0, 2).sum(1)})
    ma, mb, ba, bb = r(3, 4), r(4, 5), r(2, 3, 4), r(2, 4, 5)
    q, k = r(2, 3, 6, 8), r(2, 3, 5, 8)
    t.update({"mm.a": ma, "mm.b": mb, "mm.ab": ma @ mb, "mm.at": ma.t().contiguous(),
              "mm.batched_a": ba, "mm.batched_b": bb, "mm.bmm": torch.bmm(ba, bb), "mm.broadcast": ba @ mb,
              "mm.q": q, "mm.k": k, "mm.einsum_qk": torch.einsum("bhqd,bhkd->bhqk", q, k),
              "mm.einsum_t": torch.einsum("ij->ji", ma)})
    save("tensor_ops.safetensors", t)


def functional():
    g = torch.Generator().manual_seed(2)
    r = lambda *s: torch.randn(*s, generator=g)
    t = {}
    # conv2d: groups, stride, padding, dilation, bias; a depth-wise conv; input also stored NHWC.
    x, w, b = r(2, 4, 7, 6), r(6, 2, 3, 3), r(6)
    w2, wd = r(3, 4, 2, 2), r(4, 1, 3, 3)
    t.update({"conv.x": x, "conv.x_nhwc": x.permute(0, 2, 3, 1), "conv.w": w, "conv.b": b, "conv.w2": w2, "conv.wd": wd,
              "conv.out": F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2),
              "conv.out_plain": F.conv2d(x, w2),
              "conv.out_depthwise": F.conv2d(x, wd, None, padding=1, groups=4)})
    x, w, b = r(3, 5, 4), r(6, 4), r(6)
    t.update({"linear.x": x, "linear.w": w, "linear.b": b, "linear.out": F.linear(x, w, b),
              "linear.out_nobias": F.linear(x, w), "linear.xt": x.transpose(1, 2)})
    x, w, b = r(2, 3, 8), r(8), r(8)
    t.update({"ln.x": x, "ln.w": w, "ln.b": b, "ln.out": F.layer_norm(x, [8], w, b, 1e-5),
              "ln.out_noaffine": F.layer_norm(x, [8]), "ln.out_2d": F.layer_norm(x, [3, 8], eps=1e-6)})
    x, w, b = r(4, 3, 5, 5), r(3), r(3)
    rm, rv = r(3), r(3).abs() + 0.5
    rm1, rv1 = rm.clone(), rv.clone()
    out_train = F.batch_norm(x, rm1, rv1, w, b, training=True, momentum=0.1, eps=1e-5)
    x2 = r(4, 3, 5, 5) * 2 + 1
    t.update({"bn.x": x, "bn.w": w, "bn.b": b, "bn.rm0": rm, "bn.rv0": rv, "bn.out_train": out_train,
              "bn.rm1": rm1, "bn.rv1": rv1, "bn.x2": x2,
              "bn.out_eval": F.batch_norm(x2, rm1, rv1, w, b, training=False, eps=1e-5)})
    x, w, b = r(2, 6, 4, 3), r(6), r(6)
    t.update({"gn.x": x, "gn.w": w, "gn.b": b, "gn.out": F.group_norm(x, 3, w, b, 1e-5)})
    x = r(60) * 3
    t.update({"act.x": x, "act.gelu": F.gelu(x), "act.gelu_tanh": F.gelu(x, approximate="tanh"),
              "act.relu": F.relu(x), "act.sigmoid": torch.sigmoid(x)})
    x = r(3, 4, 5)
    t.update({"softmax.x": x, "softmax.dim1": F.softmax(x, 1), "softmax.log_last": F.log_softmax(x, -1),
              "softmax.t_dim0": F.softmax(x.transpose(0, 2), 0)})
    x = r(2, 3, 7, 5)
    t.update({"pool.x": x, "pool.adaptive": F.adaptive_avg_pool2d(x, (3, 2)),
              "pool.adaptive_big": F.adaptive_avg_pool2d(x, (9, 11)),
              "pool.avg": F.avg_pool2d(x, 3, 2, 1), "pool.avg_nopad": F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
              "pool.avg_ceil": F.avg_pool2d(x, 2, 2, 0, ceil_mode=True),
              "pool.max": F.max_pool2d(x, 3, 2, 1), "pool.max_dil": F.max_pool2d(x, 2, 1, 0, dilation=2),
              "pool.max_ceil": F.max_pool2d(x, 2, 2, 0, ceil_mode=True)})
    x = r(1, 2, 5, 4)
    t.update({"interp.x": x,
              "interp.bilinear": F.interpolate(x, (8, 7), mode="bilinear", align_corners=False),
              "interp.bilinear_ac": F.interpolate(x, (8, 7), mode="bilinear", align_corners=True),
              "interp.bilinear_down": F.interpolate(x, (3, 2), mode="bilinear", align_corners=False),
              "interp.nearest": F.interpolate(x, (8, 7), mode="nearest"),
              "interp.nearest_down": F.interpolate(x, (3, 3), mode="nearest")})
    q, k, v = r(2, 3, 6, 8), r(2, 3, 5, 8), r(2, 3, 5, 4)
    bool_mask = torch.rand(6, 5, generator=g) > 0.3
    bool_mask[:, 0] = True  # every query sees at least one key
    float_mask = r(1, 3, 6, 5)
    t.update({"sdpa.q": q, "sdpa.k": k, "sdpa.v": v, "sdpa.bool_mask": bool_mask, "sdpa.float_mask": float_mask,
              "sdpa.out": F.scaled_dot_product_attention(q, k, v),
              "sdpa.out_bool": F.scaled_dot_product_attention(q, k, v, attn_mask=bool_mask),
              "sdpa.out_float": F.scaled_dot_product_attention(q, k, v, attn_mask=float_mask),
              "sdpa.out_scale": F.scaled_dot_product_attention(q, k, v, scale=0.3)})
    logits = r(2, 5, 4, 3)
    target = torch.randint(0, 5, (2, 4, 3), generator=g)
    target[0, 0, :] = 255
    target[1, 2, 1] = 255
    weight = torch.rand(5, generator=g) + 0.5
    t.update({"ce.logits": logits, "ce.target": target, "ce.weight": weight,
              "ce.mean": F.cross_entropy(logits, target, ignore_index=255),
              "ce.sum": F.cross_entropy(logits, target, ignore_index=255, reduction="sum"),
              "ce.none": F.cross_entropy(logits, target, ignore_index=255, reduction="none"),
              "ce.weighted": F.cross_entropy(logits, target, weight=weight, ignore_index=255),
              "ce.smoothing": F.cross_entropy(logits, target, ignore_index=255, label_smoothing=0.1)})
    save("functional.safetensors", t)


def dtypes():
    x = torch.tensor([0.0, 1.0, -1.5, 2.75, 3.14159265, -7.9, 65504.0, 1e-3, 1.0 / 3.0, 123456.789, -0.49, 255.0])
    save("dtypes.safetensors", {
        "x": x, "f16": x.half(), "bf16": x.bfloat16(), "i64": x.long(), "i32": x.int(), "bool": x.bool(),
        "u8_src": torch.tensor([0.0, 1.9, 127.5, 200.2, 255.0]), "u8": torch.tensor([0.0, 1.9, 127.5, 200.2, 255.0]).to(torch.uint8),
        "f16_back": x.half().float(), "bf16_back": x.bfloat16().float()})


# ---- optimizers ----
# Gradients are fixed per step (the loss at step k is sum(p * G_k), whose gradient is exactly G_k), so the
# trajectory tests the optimizer alone. "frozen" never gets a gradient and must stay untouched.
SHAPES = {"w1": (4, 3), "b1": (4,), "w2": (2, 4), "frozen": (3,)}
STEPS = 6
MAX_NORM = 1.5
LR_SCALE = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5]  # a scheduler's factor per step
SAVE_AFTER = 3


def optim_runs(t):
    g = torch.Generator().manual_seed(3)
    init = {n: torch.randn(*s, generator=g) for n, s in SHAPES.items()}
    grads = [{n: torch.randn(*SHAPES[n], generator=g) * (0.3 + 0.5 * k) for n in ("w1", "b1", "w2")} for k in range(STEPS)]
    for n, v in init.items():
        t[f"init.{n}"] = v
    for k, gk in enumerate(grads):
        for n, v in gk.items():
            t[f"grad.{k}.{n}"] = v

    def run(prefix, make):
        params = {n: v.clone().requires_grad_(True) for n, v in init.items()}
        opt = make(params)
        base = [group["lr"] for group in opt.param_groups]
        for k in range(STEPS):
            opt.zero_grad()
            loss = sum((params[n] * grads[k][n]).sum() for n in ("w1", "b1", "w2"))
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_([params[n] for n in SHAPES], MAX_NORM)
            t[f"{prefix}.norm.{k}"] = norm
            for group, lr in zip(opt.param_groups, base):
                group["lr"] = lr * LR_SCALE[k]
            opt.step()
            for n in SHAPES:
                t[f"{prefix}.step{k}.{n}"] = params[n].detach().clone()
            if k + 1 == SAVE_AFTER:
                for i, s in opt.state_dict()["state"].items():
                    for key, value in s.items():
                        t[f"{prefix}.saved.state.{i}.{key}"] = torch.as_tensor(value).clone()

    # Group 0: w1, b1, frozen; group 1: w2 — different lr, weight decay and hyper-parameters.
    run("adamw", lambda p: torch.optim.AdamW([
        {"params": [p["w1"], p["b1"], p["frozen"]], "lr": 1e-2, "weight_decay": 0.05},
        {"params": [p["w2"]], "lr": 3e-3, "weight_decay": 0.2, "betas": (0.8, 0.99), "eps": 1e-6},
    ], foreach=False))
    run("sgd", lambda p: torch.optim.SGD([
        {"params": [p["w1"], p["b1"], p["frozen"]], "lr": 0.05, "weight_decay": 1e-3, "momentum": 0.9, "nesterov": True},
        {"params": [p["w2"]], "lr": 0.02, "weight_decay": 0.0, "momentum": 0.5, "dampening": 0.1},
    ], foreach=False))
    run("sgd_plain", lambda p: torch.optim.SGD([
        {"params": [p["w1"], p["b1"], p["frozen"]], "lr": 0.1, "weight_decay": 0.01},
        {"params": [p["w2"]], "lr": 0.03},
    ], foreach=False))


def optim():
    t = {}
    optim_runs(t)
    save("optim.safetensors", t)


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.rand(4) + 0.5)
        self.norm = torch.nn.LayerNorm(4)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.GELU(), torch.nn.Linear(8, 4))

    def forward(self, x):
        return x + self.mlp(self.norm(x)) * self.scale


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, bias=False), torch.nn.BatchNorm2d(4), torch.nn.ReLU())
        self.blocks = torch.nn.ModuleList([Block(), Block()])
        self.head = torch.nn.Linear(4, 2)

    def forward(self, x):
        h = self.stem(x).mean((2, 3))
        for block in self.blocks:
            h = block(h)
        return self.head(h)


def modules():
    torch.manual_seed(4)
    m = Model()
    m.train()(torch.randn(4, 3, 6, 6))  # move the BatchNorm statistics away from their defaults
    m.eval()
    x = torch.randn(2, 3, 6, 6)
    with torch.no_grad():
        y = m(x)
    sd = m.state_dict()
    t = {f"state.{k}": v for k, v in sd.items()}
    t.update({"input": x, "output": y})
    save("modules.safetensors", t, {
        "named_parameters": ",".join(n for n, _ in m.named_parameters()),
        "state_dict": ",".join(sd.keys()),
        "named_modules": ",".join(n for n, _ in m.named_modules()),
        "parameter_count": str(sum(p.numel() for p in m.parameters())),
    })


if __name__ == "__main__":
    tensor_ops()
    functional()
    dtypes()
    optim()
    modules()
