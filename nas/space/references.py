"""Named reference architectures, addressable wherever a spec is accepted.

Classification references reproduce the published networks (their sizes are checked
against the papers with an ImageNet classifier at 224x224); the DensePose baselines
are the mobile DensePose R-CNN models users compare a search against. Each entry is
plain data: a list of tokens in the :mod:`nas.space.codec` grammar.

Notes on fidelity: convs carry batch norm instead of a bias (SqueezeNet's original
convs have biases), MixNet's squeeze-excite widths are rounded to multiples of 8 like
MobileNetV3's, and fire modules use an identity residual where shapes allow. MixNet-S's
two 24-channel blocks use ungrouped 1x1 convs: with timm's grouped ones (``a1.1_p1.1``)
the network counts 240M MACs, 6% under the paper's 256M; ungrouped it counts 4.14M
parameters and 259M MACs, within 1.2% of both published figures.

SPNASNet-100 (Stamoulis et al. 2019, the Pixel-1 network of Single-Path NAS) counts
4,421,616 parameters with its 1280-wide head conv and an ImageNet classifier (published:
4.42M), 333M fvcore MACs at 224x224. ``fnl_mobile`` is the best mobile model of "Making
DensePose fast and light" (Rakhimov et al. 2021): SPNASNet-100 without its head conv,
one BiFPN layer of 64 channels over P2-P5 with depthwise-separable convs, and the light
head of the other mobile baselines. What the grammar cannot say (their backbone taps
the expanded features inside the blocks, their P6, their BiFPN's ReLU and strided-conv
downsampling, their DeepLab head) is listed in docs/space.md.
"""

from __future__ import annotations

import difflib

from nas.errors import SpecError
from nas.io import excerpt, read_text
from nas.space.codec import SEP
from nas.space.spec import ArchSpec, decode

__all__ = ["REFERENCES", "reference", "reference_names", "resolve_arch"]

_MOBILENET_V2_STAGES = [
    # MobileNetV2-1.0 (Sandler et al. 2018): t, c, n, s rows of Table 2
    "dw_k3_c16_n1_s1_relu6",
    "ir_k3_e6_c24_n2_s2_relu6",
    "ir_k3_e6_c32_n3_s2_relu6",
    "ir_k3_e6_c64_n4_s2_relu6",
    "ir_k3_e6_c96_n3_s1_relu6",
    "ir_k3_e6_c160_n3_s2_relu6",
    "ir_k3_e6_c320_n1_s1_relu6",
]
_SPNASNET_100_STAGES = [
    # SPNASNet-100 (Stamoulis et al. 2019, searched for the Pixel 1): ReLU throughout; a
    # group whose first block differs from the rest (k5 e6, then k3 e3) is two tokens
    "dw_k3_c16_n1_s1_relu",
    "ir_k3_e3_c24_n3_s2_relu",
    "ir_k5_e6_c40_n1_s2_relu",
    "ir_k3_e3_c40_n3_s1_relu",
    "ir_k5_e6_c80_n1_s2_relu",
    "ir_k3_e3_c80_n3_s1_relu",
    "ir_k5_e6_c96_n1_s1_relu",
    "ir_k5_e3_c96_n3_s1_relu",
    "ir_k5_e6_c192_n4_s2_relu",
    "ir_k3_e6_c320_n1_s1_relu",
]
_RESNET50 = [
    # ResNet-50 v1.5 (stride on the 3x3 conv, as torchvision)
    "stem_k7_c64_s2_relu_pool",
    "res_k3_e0.25_c256_n3_s1_relu",
    "res_k3_e0.25_c512_n4_s2_relu",
    "res_k3_e0.25_c1024_n6_s2_relu",
    "res_k3_e0.25_c2048_n3_s2_relu",
]
# DensePose R-CNN R50-FPN (detectron2 model zoo): FPN-256 P2-P6, 8 x 512 head convs,
# RoIAlign 28 -> 56 output, 1024-wide box head
_R50_FPN_TAIL = ["fpn_c256_l2.6", "head_n8_c512_k3_r28_o56_b1024"]
# An arch.json is a few KB; a much larger file is not one (and would be slow to check).
MAX_ARCH_FILE_BYTES = 1 << 20
_DENSEPOSE_HEAD = "head_n4_c128_k3_r14_o56_b256"  # light head of the mobile baselines
_DEPLOY = "in512x384"

REFERENCES: dict[str, list[str]] = {
    "mobilenet_v2": [
        "stem_k3_c32_s2_relu6",
        *_MOBILENET_V2_STAGES,
        "conv_k1_c1280_n1_s1_relu6",
        "fpn_c64_l2.5", _DENSEPOSE_HEAD, _DEPLOY,
    ],
    "mobilenet_v3_large": [
        # MobileNetV3-Large (Howard et al. 2019), Table 1; expansions are exp size / input width
        "stem_k3_c16_s2_hs",
        "ir_k3_e1_c16_n1_s1_relu",
        "ir_k3_e4_c24_n1_s2_relu",
        "ir_k3_e3_c24_n1_s1_relu",
        "ir_k5_e3_c40_n3_s2_se0.25_relu",
        "ir_k3_e6_c80_n1_s2_hs",
        "ir_k3_e2.5_c80_n1_s1_hs",
        "ir_k3_e2.3_c80_n2_s1_hs",
        "ir_k3_e6_c112_n2_s1_se0.25_hs",
        "ir_k5_e6_c160_n3_s2_se0.25_hs",
        "conv_k1_c960_n1_s1_hs",
        "fpn_c64_l2.5", _DENSEPOSE_HEAD, _DEPLOY,
        "cls_h1280_hs",
    ],
    "squeezenet1_1": [
        # SqueezeNet 1.1: 3x3/2 conv (no padding) + max-pool, max-pools before fire4 and fire6
        "stem_k3_c64_s2_relu_pool_pad0",
        "fire_sq16_c128_n2_s1_relu",
        "fire_sq32_c256_n2_s2_relu",
        "fire_sq48_c384_n2_s2_relu",
        "fire_sq64_c512_n2_s1_relu",
        "fpn_c64_l2.4", _DENSEPOSE_HEAD, _DEPLOY,
        "cls_conv",
    ],
    "mixnet_s": [
        # MixNet-S (Tan & Le 2019); SE widths of the inner width: 0.5 (or 0.25) x input / expansion
        "stem_k3_c16_s2_relu",
        "dw_k3_c16_n1_s1_relu",
        "ir_k3_e6_c24_n1_s2_relu",
        "ir_k3_e3_c24_n1_s1_relu",
        "mix_k3.5.7_e6_c40_n1_s2_se0.0833_sw",
        "mix_k3.5_e6_c40_n3_s1_se0.0833_a2_p2_sw",
        "mix_k3.5.7_e6_c80_n1_s2_se0.0417_p2_sw",
        "mix_k3.5_e6_c80_n2_s1_se0.0417_p2_sw",
        "mix_k3.5.7.9_e6_c120_n1_s1_se0.0833_a2_p2_sw",
        "mix_k3.5.7.9_e3_c120_n2_s1_se0.1667_a2_p2_sw",
        "mix_k3.5.7.9.11_e6_c200_n1_s2_se0.0833_sw",
        "mix_k3.5.7.9_e6_c200_n2_s1_se0.0833_p2_sw",
        "conv_k1_c1536_n1_s1_relu",
        "fpn_c64_l2.5", _DENSEPOSE_HEAD, _DEPLOY,
    ],
    "spnasnet_100": [
        "stem_k3_c32_s2_relu",
        *_SPNASNET_100_STAGES,
        "conv_k1_c1280_n1_s1_relu",
        "fpn_c64_l2.5", _DENSEPOSE_HEAD, _DEPLOY,
    ],
    "resnet50": [*_RESNET50, *_R50_FPN_TAIL, _DEPLOY],
    # -- DensePose baselines ------------------------------------------------------------
    "densemobile": [
        # DenseMobile R-CNN: MobileNetV2-1.0 features (no 1280 conv) + FPN P2-P5 + light head
        "stem_k3_c32_s2_relu6",
        *_MOBILENET_V2_STAGES,
        "fpn_c128_l2.5", _DENSEPOSE_HEAD, _DEPLOY,
    ],
    "densesqueeze": [
        # DenseSqueeze R-CNN: SqueezeNet 1.1 layout with depthwise 3x3 expand branches,
        # one more fire stage to reach stride 32, FPN P2-P5 + light head
        "stem_k3_c64_s2_relu_pool",
        "fire_sq16_c128_n2_s1_dw_relu",
        "fire_sq32_c256_n2_s2_dw_relu",
        "fire_sq48_c384_n2_s2_dw_relu",
        "fire_sq64_c512_n2_s1_dw_relu",
        "fire_sq64_c512_n2_s2_dw_relu",
        "fpn_c128_l2.5", _DENSEPOSE_HEAD, _DEPLOY,
    ],
    "fnl_mobile": [
        # "Making DensePose fast and light" (Rakhimov et al. 2021), best mobile model:
        # SPNASNet-100 features (no 1280 conv) + one 64-channel BiFPN layer over P2-P5 with
        # depthwise-separable convs + the light head (departures: docs/space.md)
        "stem_k3_c32_s2_relu",
        *_SPNASNET_100_STAGES,
        "bifpn_c64_l2.5_dw", _DENSEPOSE_HEAD, _DEPLOY,
    ],
    "r50_fpn": [*_RESNET50, *_R50_FPN_TAIL, _DEPLOY],
}

# The baselines every search trains beside its candidates (and `nas profile` times).
DENSEPOSE_BASELINES = ("densemobile", "densesqueeze", "fnl_mobile", "r50_fpn")


def reference_names() -> list[str]:
    return list(REFERENCES)


def reference(name: str) -> ArchSpec:
    """The named reference architecture; unknown names list the known ones."""
    try:
        tokens = REFERENCES[name]
    except KeyError:
        raise _unknown_name(name) from None
    return decode(SEP.join(tokens))


def resolve_arch(text: str) -> ArchSpec:
    """A spec string, a reference name, a JSON spec or a path to an ``arch.json`` file."""
    from pathlib import Path

    text = text.strip()
    if text in REFERENCES:
        return reference(text)
    if text.startswith("{"):
        return ArchSpec.from_json(text)
    if text.endswith(".json"):
        path = Path(text)
        if not path.is_file():
            raise SpecError(f"architecture file {excerpt(text, 200)} does not exist")
        return ArchSpec.from_json(read_text(path, SpecError, "spec file (arch.json)", MAX_ARCH_FILE_BYTES))
    if SEP not in text and not text.startswith("stem_"):
        raise _unknown_name(text, " (or give a spec string)")
    # A spec string, or one that starts like a spec: the codec names the bad or missing token.
    return decode(text)


def _unknown_name(name: str, tail: str = "") -> SpecError:
    """The error for a name that is no reference: the closest known name, then all of them."""
    close = difflib.get_close_matches(name, REFERENCES, n=1, cutoff=0.75)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return SpecError(f"unknown architecture name {excerpt(name)}{hint}; known names: {', '.join(REFERENCES)}{tail}")
