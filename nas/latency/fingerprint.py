"""Which device a table's rows were timed on.

Two machines can report the same CPU name and still time ops very differently: this
project's VMs all say "AMD EPYC", and a table profiled on one of them ran 2x slower, with
ops of different kinds slowing by different factors, on a first-generation EPYC (family
23 model 1). A table therefore records the timing device's fingerprint (CPU vendor,
family, model and stepping, its SIMD extensions, ARM core parts, the phone's SoC, the
GPU), and ``nas profile`` refuses to add rows to a table of another device, and
``nas latency validate`` refuses to score a table on one (the figures would measure the
difference between the machines, not the table).

The fingerprint is read from ``/proc/cpuinfo`` of the device that runs the programs:
this machine for the local transport, the phone or board through the command prefix
otherwise.
"""

from __future__ import annotations

import hashlib
import json
import platform
from pathlib import Path
from typing import Any

__all__ = ["IDENTITY", "parse_cpuinfo", "local_fingerprint", "differences", "device_name", "describe", "fingerprint_id"]

# fields that tell devices apart; others a fingerprint carries (e.g. ``cpus``) are recorded only
IDENTITY = ("vendor", "family", "model", "stepping", "model_name", "parts", "isa", "soc", "gpu")

# SIMD/matrix extensions that change which kernels XNNPACK or PyTorch pick
_X86_ISA = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx512_fp16", "avx_vnni", "amx_tile", "amx_bf16", "amx_int8")
_ARM_ISA = ("asimd", "asimdhp", "asimddp", "fphp", "i8mm", "bf16", "sve", "sve2", "sme")


def parse_cpuinfo(text: str) -> dict[str, Any]:
    """The fingerprint fields ``/proc/cpuinfo`` holds (x86 and ARM/Android layouts).

    Returns ``vendor``, ``family``, ``model``, ``stepping``, ``model_name`` (x86),
    ``parts`` (ARM: sorted distinct ``implementer:part:variant`` of the cores, which
    tells big.LITTLE clusters apart), ``isa`` (the listed extensions present on every
    core), ``hardware`` and ``cpus``; fields the text lacks are left out.
    """
    processors: list[dict[str, str]] = [{}]
    for line in text.splitlines():
        if not line.strip():
            if processors[-1]:
                processors.append({})
            continue
        key, sep, value = line.partition(":")
        if sep:
            processors[-1][key.strip().lower()] = value.strip()
    processors = [p for p in processors if p]
    if not processors:
        return {}
    cores = [p for p in processors if "processor" in p and ("vendor_id" in p or "cpu part" in p or "model name" in p)] or processors
    first = cores[0]
    out: dict[str, Any] = {}
    for field, key in (("vendor", "vendor_id"), ("family", "cpu family"), ("model", "model"), ("stepping", "stepping"), ("model_name", "model name")):
        if key in first:
            out[field] = first[key]
    if "cpu part" in first:  # ARM: "model" is not a field there; identify cores by part
        out.pop("model", None)
        out["parts"] = sorted({f"{p.get('cpu implementer', '?')}:{p['cpu part']}:{p.get('cpu variant', '?')}" for p in cores if "cpu part" in p})
    flag_sets = [set((p.get("flags") or p.get("features") or "").split()) for p in cores]
    if any(flag_sets):
        common = set.intersection(*flag_sets)
        known = _X86_ISA if "vendor_id" in first else _ARM_ISA
        out["isa"] = [f for f in known if f in common]
    hardware = next((p["hardware"] for p in processors if "hardware" in p), None)
    if hardware:
        out["hardware"] = hardware
    out["cpus"] = sum(1 for p in processors if "processor" in p and p["processor"].isdigit()) or len(cores)
    return out


def local_fingerprint(device: str = "cpu") -> dict[str, Any]:
    """This machine's fingerprint (plus the GPU's name and compute capability for ``cuda``)."""
    try:
        fingerprint = parse_cpuinfo(Path("/proc/cpuinfo").read_text())
    except OSError:
        fingerprint = {}
    if not fingerprint:  # macOS, Windows: what the platform says
        fingerprint = {"model_name": platform.processor() or platform.machine()}
    fingerprint["machine"] = platform.machine()
    if device == "cuda":
        import torch

        if torch.cuda.is_available():
            major, minor = torch.cuda.get_device_capability()
            fingerprint["gpu"] = f"{torch.cuda.get_device_name()} (sm_{major}{minor})"
    return fingerprint


def differences(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """``field: recorded vs current`` for every identity field both know and disagree on
    (a field one side could not read is not a difference)."""
    return [f"{f} {recorded[f]!r} vs {current[f]!r}" for f in IDENTITY if f in recorded and f in current and recorded[f] != current[f]]


def device_name(fingerprint: dict[str, Any]) -> str | None:
    """The device's human name: the SoC, else the CPU model name, else the ARM hardware line."""
    return fingerprint.get("soc") or fingerprint.get("model_name") or fingerprint.get("hardware")


def describe(fingerprint: dict[str, Any]) -> str:
    """One line: name, then vendor/family/model/stepping or ARM parts, then ISA extensions."""
    ident = " ".join(f"{f} {fingerprint[f]}" for f in ("family", "model", "stepping") if f in fingerprint)
    if "parts" in fingerprint:
        ident = "cores " + ",".join(fingerprint["parts"])
    maker = " ".join(part for part in (fingerprint.get("vendor", ""), ident) if part)
    isa = " ".join(fingerprint.get("isa", []))
    detail = "; ".join(part for part in (maker, isa) if part)
    gpu = f", GPU {fingerprint['gpu']}" if "gpu" in fingerprint else ""
    return f"{device_name(fingerprint) or 'unknown CPU'} ({detail}){gpu}"


def fingerprint_id(fingerprint: dict[str, Any]) -> str:
    """A short stable id of the identity fields (folder names of other-device reports)."""
    ident = {f: fingerprint[f] for f in IDENTITY if f in fingerprint}
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:10]
