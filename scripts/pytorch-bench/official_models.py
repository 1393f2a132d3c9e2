"""The official models, built in PyTorch for side-by-side timings with SwiftSeg.

LRFormer: the official backbone and LRHead files (github.com/yuhuan-wu/LRFormer, mmseg/models/backbones/lrformer.py and
mmseg/models/decode_heads/lr_head.py), loaded unmodified from a checkout; the few mmcv/mmengine/mmseg names they import
are replaced by small stand-ins defined here (registries that only return the class, BaseModule, build_norm_layer,
ConvModule, BaseDecodeHead, resize), with mmcv's module names, so state_dict keys equal the official ones.
EncoderDecoder's inference is decode_head(backbone(x)): logits at 1/8, no final resize (as flops.md and the
reference timings). SegFormer: Hugging Face `SegformerForSemanticSegmentation` (eager attention), logits at 1/4.
"""
import importlib.util
import sys
import types

import torch
import torch.nn as nn
import torch.nn.functional as F

# Official configs (configs_local/lrformer/lrformer-{t,s}-160k_ade20k.py); LRHead's num_heads 8, mlp_ratio 4 and
# q_pooled_size 32 are its constructor defaults.
LRFORMER = {
    "lrformer-t": dict(embed_dims=[48, 96, 240, 384], depths=[2, 2, 6, 3], drop_path_rate=0.1, head_channels=256),
    "lrformer-s": dict(embed_dims=[64, 128, 320, 512], depths=[3, 3, 12, 3], drop_path_rate=0.2, head_channels=384),
}
SEGFORMER = {
    "segformer-b0": dict(hidden_sizes=[32, 64, 160, 256], depths=[2, 2, 2, 2], decoder_hidden_size=256),
    "segformer-b2": dict(hidden_sizes=[64, 128, 320, 512], depths=[3, 4, 6, 3], decoder_hidden_size=768),
}
MODELS = sorted(LRFORMER) + sorted(SEGFORMER)


def _module(name, **attrs):
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module
    return module


class _Registry:
    def register_module(self, *args, **kwargs):
        return lambda cls: cls


class BaseModule(nn.Module):
    def __init__(self, init_cfg=None):
        super().__init__()
        self.init_cfg = init_cfg


def build_norm_layer(cfg, num_features, postfix=""):
    kind = cfg["type"]
    if kind in ("BN", "BN2d", "SyncBN"):
        return "bn" + str(postfix), nn.BatchNorm2d(num_features, eps=cfg.get("eps", 1e-5), momentum=cfg.get("momentum", 0.1))
    if kind == "LN":
        return "ln" + str(postfix), nn.LayerNorm(num_features, eps=cfg.get("eps", 1e-5))
    raise ValueError(f"norm {kind} has no stand-in")


class ConvModule(nn.Module):
    """mmcv's conv -> norm -> activation, with its attribute names (conv, bn, activate)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, conv_cfg=None, norm_cfg=None,
                 act_cfg=dict(type="ReLU")):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=norm_cfg is None)
        self.norm_name = None
        if norm_cfg is not None:
            self.norm_name, norm = build_norm_layer(norm_cfg, out_channels)
            self.add_module(self.norm_name, norm)
        self.activate = nn.ReLU() if act_cfg is not None else None

    def forward(self, x):
        x = self.conv(x)
        if self.norm_name:
            x = getattr(self, self.norm_name)(x)
        return self.activate(x) if self.activate is not None else x


def resize(input, size=None, scale_factor=None, mode="nearest", align_corners=None, warning=True):
    return F.interpolate(input, size, scale_factor, mode, align_corners)


class BaseDecodeHead(BaseModule):
    """The parts of mmseg's BaseDecodeHead that LRHead uses: input selection, dropout, conv_seg."""

    def __init__(self, in_channels, channels, *, num_classes, dropout_ratio=0.1, conv_cfg=None, norm_cfg=None,
                 act_cfg=dict(type="ReLU"), in_index=-1, input_transform=None, align_corners=False, init_cfg=None, **_):
        super().__init__(init_cfg)
        self.in_channels, self.channels, self.num_classes = in_channels, channels, num_classes
        self.conv_cfg, self.norm_cfg, self.act_cfg = conv_cfg, norm_cfg, act_cfg
        self.in_index, self.input_transform, self.align_corners = in_index, input_transform, align_corners
        self.conv_seg = nn.Conv2d(channels, num_classes, kernel_size=1)
        self.dropout = nn.Dropout2d(dropout_ratio) if dropout_ratio > 0 else None

    def _transform_inputs(self, inputs):
        return [inputs[i] for i in self.in_index] if self.input_transform == "multiple_select" else inputs[self.in_index]

    def cls_seg(self, feat):
        return self.conv_seg(self.dropout(feat) if self.dropout is not None else feat)


def trunc_normal_init(module, mean=0.0, std=1.0, a=-2.0, b=2.0, bias=0.0):
    """mmengine's: acts on a module's weight and bias when it has them (the official code also passes tensors)."""
    if getattr(module, "weight", None) is not None:
        nn.init.trunc_normal_(module.weight, mean, std, a, b)
    if getattr(module, "bias", None) is not None:
        nn.init.constant_(module.bias, bias)


def constant_init(module, val, bias=0.0):
    if getattr(module, "weight", None) is not None:
        nn.init.constant_(module.weight, val)
    if getattr(module, "bias", None) is not None:
        nn.init.constant_(module.bias, bias)


def _drop_path(x, drop_prob=0.0, training=False, scale_by_keep=True):
    if drop_prob == 0.0 or not training:
        return x
    keep = 1 - drop_prob
    mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
    return x * (mask / keep if scale_by_keep else mask)


class DropPath(nn.Module):
    def __init__(self, drop_prob=0.0):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x):
        return _drop_path(x, self.drop_prob, self.training)


def _install_stand_ins():
    if "mmseg.models.builder" in sys.modules:
        return
    for name in ("mmcv", "mmcv.cnn.bricks", "mmengine", "mmengine.model", "mmseg", "mmseg.models",
                 "mmseg.models.decode_heads", "timm", "timm.models"):
        _module(name)
    _module("mmcv.cnn", build_norm_layer=build_norm_layer, ConvModule=ConvModule, get_model_complexity_info=None)
    _module("mmcv.cnn.bricks.norm", build_norm_layer=build_norm_layer)
    _module("mmengine.model", BaseModule=BaseModule, ModuleList=nn.ModuleList)
    _module("mmengine.model.weight_init", constant_init=constant_init, trunc_normal_=nn.init.trunc_normal_,
            trunc_normal_init=trunc_normal_init)
    _module("mmengine.runner", CheckpointLoader=None)
    _module("mmengine.logging", print_log=print)
    _module("mmseg.models.builder", BACKBONES=_Registry(), HEADS=_Registry())
    _module("mmseg.models.utils", resize=resize)
    _module("mmseg.models.decode_heads.decode_head", BaseDecodeHead=BaseDecodeHead)
    _module("timm.models.layers", DropPath=DropPath, to_2tuple=lambda v: (v, v), trunc_normal_=nn.init.trunc_normal_)


def _load(official_dir, relative_path, name):
    spec = importlib.util.spec_from_file_location(name, f"{official_dir}/{relative_path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # torch.compile re-imports the model's module by name
    spec.loader.exec_module(module)
    return module


class EncoderDecoder(nn.Module):
    def __init__(self, backbone, decode_head):
        super().__init__()
        self.backbone, self.decode_head = backbone, decode_head

    def forward(self, x):
        return self.decode_head(self.backbone(x))


def build(name, official_dir=None, num_classes=150):
    if name in SEGFORMER:
        from transformers import SegformerConfig, SegformerForSemanticSegmentation

        config = SegformerConfig(num_labels=num_classes, attn_implementation="eager", **SEGFORMER[name])
        model = SegformerForSemanticSegmentation(config)

        class Logits(nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, x):
                return self.inner(pixel_values=x, return_dict=False)[0]

        return Logits(model)
    if official_dir is None:
        raise SystemExit("LRFormer needs --official DIR: a checkout of github.com/yuhuan-wu/LRFormer")
    _install_stand_ins()
    backbone_code = _load(official_dir, "mmseg/models/backbones/lrformer.py", "official_lrformer")
    head_code = _load(official_dir, "mmseg/models/decode_heads/lr_head.py", "official_lr_head")
    c = LRFORMER[name]
    backbone = backbone_code.LRFormer(q_conv=False, use_ls=True, extra_act=False, q_pooled_sizes=[16] * 4,
                                      embed_dims=c["embed_dims"], depths=c["depths"], drop_path_rate=c["drop_path_rate"])
    head = head_code.LRHead(in_channels=c["embed_dims"][1:], channels=c["head_channels"], in_index=[1, 2, 3],
                            dropout_ratio=0.1, num_classes=num_classes, norm_cfg=dict(type="SyncBN", requires_grad=True),
                            align_corners=False)
    return EncoderDecoder(backbone, head)
