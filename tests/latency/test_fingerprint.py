"""Device fingerprints: parsed from /proc/cpuinfo text, compared on identity fields, and
guarding tables against rows or validations from another device."""

from __future__ import annotations

import json

from nas.latency.fingerprint import IDENTITY, describe, differences, fingerprint_id, local_fingerprint, parse_cpuinfo
from nas.latency.runtimes import get_runtime
from nas.latency.transports import CommandTransport

from .conftest import TINY_SPACE, run_nas

X86 = """\
processor	: 0
vendor_id	: AuthenticAMD
cpu family	: 23
model		: 1
model name	: AMD EPYC
stepping	: 2
flags		: fpu sse4_2 avx avx2 fma f16c avx512f

processor	: 1
vendor_id	: AuthenticAMD
cpu family	: 23
model		: 1
model name	: AMD EPYC
stepping	: 2
flags		: fpu sse4_2 avx avx2 fma f16c

"""

# a 4+4 big.LITTLE phone: Cortex-A55 (0xd05) and Cortex-A76 (0xd0b), SoC line at the end
ARM = "".join(
    f"processor\t: {i}\nBogoMIPS\t: 38.40\nFeatures\t: fp asimd asimdhp asimddp{' i8mm' if i >= 4 else ''}\n"
    f"CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: {'0x1' if i >= 4 else '0x2'}\nCPU part\t: {'0xd0b' if i >= 4 else '0xd05'}\nCPU revision\t: 0\n\n"
    for i in range(8)
) + "Hardware\t: Qualcomm Technologies, Inc SM8150\n"


def test_parse_x86_cpuinfo() -> None:
    fp = parse_cpuinfo(X86)
    assert fp == {
        "vendor": "AuthenticAMD", "family": "23", "model": "1", "stepping": "2", "model_name": "AMD EPYC",
        "isa": ["sse4_2", "avx", "avx2", "fma", "f16c"],  # avx512f is on one core only: not usable
        "cpus": 2,
    }
    assert describe(fp) == "AMD EPYC (AuthenticAMD family 23 model 1 stepping 2; sse4_2 avx avx2 fma f16c)"


def test_parse_arm_big_little_cpuinfo() -> None:
    fp = parse_cpuinfo(ARM)
    assert fp["parts"] == ["0x41:0xd05:0x2", "0x41:0xd0b:0x1"]  # both clusters, each once
    assert fp["isa"] == ["asimd", "asimdhp", "asimddp"]  # i8mm only on the big cores
    assert fp["hardware"] == "Qualcomm Technologies, Inc SM8150" and fp["cpus"] == 8
    assert "model" not in fp and "vendor" not in fp


def test_differences_compare_identity_fields_both_know() -> None:
    a = parse_cpuinfo(X86)
    newer = {**a, "family": "25", "model": "17", "isa": [*a["isa"], "avx512f"]}
    assert differences(a, newer) == ["family '23' vs '25'", "model '1' vs '17'", f"isa {a['isa']!r} vs {newer['isa']!r}"]
    assert differences(a, {**a, "cpus": 64}) == []  # core count is recorded, not identity
    assert differences(a, {"model_name": "AMD EPYC"}) == []  # what one side cannot read is no difference
    assert fingerprint_id(a) == fingerprint_id({**a, "cpus": 64}) != fingerprint_id(newer)
    assert set(IDENTITY) >= {"family", "model", "isa", "parts", "soc", "gpu"}


def test_loopback_device_reads_the_same_machine() -> None:
    """The command transport reads the device's own /proc/cpuinfo: over a loopback shell
    that is this machine, so the identity matches the local reading."""
    runtime = get_runtime("torch", device="cpu", threads=1)
    remote = CommandTransport("sh -c").fingerprint(runtime)
    local = local_fingerprint("cpu")
    assert differences(local, remote) == [] and remote.get("machine") == local["machine"]
    assert {f: remote[f] for f in IDENTITY if f in remote} == {f: local[f] for f in IDENTITY if f in local}


def test_profile_records_and_enforces_the_device(tmp_path) -> None:
    out = tmp_path / "table"
    args = ("profile", "--baseline", "none", "--space", str(TINY_SPACE), "--runtime", "torch", "--out", str(out), "--rounds", "3", "--warmup", "1")
    first = run_nas(*args, "--limit", "2")
    assert first.returncode == 0, first.stderr
    meta = json.loads((out / "meta.json").read_text())
    here = local_fingerprint("cpu")
    assert differences(meta["device_fingerprint"], here) == [] and meta["device_fingerprint"]["machine"] == here["machine"]
    # the same folder, rows from a (pretended) other machine: resuming here is refused
    meta["device_fingerprint"] = {**meta["device_fingerprint"], "family": "99", "model": "7"}
    (out / "meta.json").write_text(json.dumps(meta))
    before = (out / "table.csv").read_bytes()
    done = run_nas(*args)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "rows timed on another device" in done.stderr and "family '99' vs" in done.stderr and "another --out" in done.stderr
    assert (out / "table.csv").read_bytes() == before  # nothing added
    # a table from before fingerprints resumes, and is not stamped with this device
    del meta["device_fingerprint"]
    (out / "meta.json").write_text(json.dumps(meta))
    done = run_nas(*args, "--limit", "2")
    assert done.returncode == 0, done.stderr
    assert "device_fingerprint" not in json.loads((out / "meta.json").read_text())
