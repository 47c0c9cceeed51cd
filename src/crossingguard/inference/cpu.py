"""What this CPU can run: instruction-set flags that decide which int8 ONNX files are safe.

An int8 file exported "for avx512_vnni" runs on any x86 CPU, but on CPUs without VNNI ONNX
Runtime falls back to u8 x s8 kernels that can saturate and give wrong answers. So a file's ISA
tag must be backed by the CPU's real flags, not by its name alone.
"""

from __future__ import annotations

import functools
import platform
from pathlib import Path

# ISA tags that export tools put in int8 file names, and the cpuinfo flags each one needs.
ISA_TAGS: dict[str, frozenset[str]] = {
    "avx512_vnni": frozenset({"avx512_vnni"}),
    "avx_vnni": frozenset({"avx_vnni"}),
    "avx512": frozenset({"avx512f", "avx512bw"}),
    "avx2": frozenset({"avx2"}),
    "arm64": frozenset({"arm64"}),
}


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (``/proc/cpuinfo`` on Linux; ``arm64`` on ARM machines)."""
    flags: set[str] = set()
    if platform.machine().lower() in {"arm64", "aarch64"}:
        flags.add("arm64")
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset(flags)
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in {"flags", "Features"}:
            flags.update(value.split())
            break
    return frozenset(flags)


def cpu_model_name() -> str:
    """The CPU's marketing name from ``/proc/cpuinfo``, else what ``platform`` reports."""
    try:
        for line in (
            Path("/proc/cpuinfo")
            .read_text(encoding="utf-8", errors="replace")
            .splitlines()
        ):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def isa_tag(file_name: str) -> str | None:
    """The ISA tag in an ONNX file name (``model_qint8_avx512_vnni.onnx`` -> ``avx512_vnni``)."""
    stem = file_name.rsplit(".", 1)[0]
    for tag in ISA_TAGS:  # longest, most specific tags first
        if stem.endswith("_" + tag) or f"_{tag}_" in stem:
            return tag
    return None


def supports(tag: str | None, flags: frozenset[str] | None = None) -> bool:
    """Whether this CPU has every flag the tag needs (an untagged file is always allowed)."""
    if tag is None:
        return True
    have = cpu_flags() if flags is None else flags
    return ISA_TAGS[tag] <= have


def cpu_isa_tags(flags: frozenset[str] | None = None) -> set[str]:
    """The ISA tags this CPU supports (``{"avx2", "avx512", "avx512_vnni"}`` on a recent Xeon)."""
    return {tag for tag in ISA_TAGS if supports(tag, flags)}
