"""Build the firmware C: the host library the simulator and fuzz test load, and the AVR image.

`python -m ventriloquist.firmware_bridge.build avr [--pca9685] [--out DIR]` builds for an ATmega328P and
prints flash/RAM use; `python -m ventriloquist.firmware_bridge.build host --out DIR` builds the host library.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ventriloquist.device.errors import VentriloquistError

FIRMWARE_DIR = Path(__file__).resolve().parent / "firmware"
C_FLAGS = ("-std=c99", "-Wall", "-Wextra", "-Werror")
HOST_LIBRARY = "libvqprotocol.so"
AVR_MCU = "atmega328p"
AVR_F_CPU_HZ = 16_000_000
AVR_FLASH_BYTES = 32_768 - 512  # minus the Optiboot bootloader
AVR_RAM_BYTES = 2_048


@dataclass(frozen=True)
class AvrBuild:
    """An AVR firmware image and what it uses of the chip."""

    elf: Path
    hex: Path
    flash_bytes: int
    """.text + .data: what goes into flash."""
    ram_bytes: int
    """.data + .bss: static RAM, before the stack."""


def _run(cmd: list[str]) -> str:
    if shutil.which(cmd[0]) is None:
        raise VentriloquistError(f"{cmd[0]} not found: install it (Debian: gcc for the host, gcc-avr + avr-libc)")
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise VentriloquistError(f"{cmd[0]} failed: {done.stderr.strip().splitlines()[0] if done.stderr else ''}")
    return done.stdout


def build_host_library(out_dir: str | Path, sanitize: bool = False) -> Path:
    """Compile protocol.c into a shared library for ctypes; `sanitize` adds UBSan with bounds checks."""
    out = Path(out_dir) / HOST_LIBRARY
    extra = ["-fsanitize=undefined,bounds", "-fno-sanitize-recover=all", "-g"] if sanitize else ["-O2"]
    _run(["gcc", *C_FLAGS, *extra, "-shared", "-fPIC", str(FIRMWARE_DIR / "protocol.c"), "-o", str(out)])
    return out


def avr_available() -> bool:
    """Whether avr-gcc and avr-libc are installed."""
    return shutil.which("avr-gcc") is not None and Path("/usr/lib/avr/include/avr/io.h").exists()


def build_avr(out_dir: str | Path, pca9685: bool = False) -> AvrBuild:
    """Compile main.c + protocol.c for an ATmega328P; report flash and RAM from avr-size."""
    out = Path(out_dir)
    elf, hex_ = out / "ventriloquist_servo.elf", out / "ventriloquist_servo.hex"
    _run([
        "avr-gcc", f"-mmcu={AVR_MCU}", f"-DF_CPU={AVR_F_CPU_HZ}UL", "-Os", *C_FLAGS,
        *(["-DVQ_PCA9685"] if pca9685 else []),
        "-ffunction-sections", "-fdata-sections", "-Wl,--gc-sections",
        str(FIRMWARE_DIR / "main.c"), str(FIRMWARE_DIR / "protocol.c"), "-o", str(elf),
    ])  # fmt: skip
    _run(["avr-objcopy", "-O", "ihex", "-R", ".eeprom", str(elf), str(hex_)])
    text, data, bss = (int(v) for v in _run(["avr-size", str(elf)]).splitlines()[1].split()[:3])
    return AvrBuild(elf, hex_, text + data, data + bss)


def bench_firmware() -> list[dict]:
    """Flash and static RAM of the AVR firmware (both servo back-ends); empty without avr-gcc."""
    if not avr_available():
        return []
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend, pca in (("direct", False), ("pca9685", True)):
            b = build_avr(tmp, pca9685=pca)
            for what, used, size in (("flash", b.flash_bytes, AVR_FLASH_BYTES), ("ram", b.ram_bytes, AVR_RAM_BYTES)):
                figures.append(
                    {
                        "name": f"firmware_{what}_{backend}",
                        "value": float(used),
                        "unit": "bytes",
                        "of": size,
                        "mcu": AVR_MCU,
                    }
                )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ventriloquist.firmware_bridge.build",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=("avr", "host"))
    parser.add_argument("--out", default=".", help="output folder (default: current)")
    parser.add_argument("--pca9685", action="store_true", help="AVR: drive servos through a PCA9685 on I2C")
    args = parser.parse_args(argv)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    if args.target == "host":
        print(build_host_library(args.out))
        return 0
    b = build_avr(args.out, pca9685=args.pca9685)
    print(f"{b.hex}: flash {b.flash_bytes}/{AVR_FLASH_BYTES} bytes, RAM {b.ram_bytes}/{AVR_RAM_BYTES} bytes (static)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
