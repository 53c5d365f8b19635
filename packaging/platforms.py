"""Every decision of the app bundle that depends on the system, in one importable place, so a
test can take each branch with the system faked (tests/core/test_build_spec.py): build.spec and
scripts/build_bundle.sh (through ``python packaging/platforms.py ...``) read them from here.

``system`` is ``sys.platform`` ("linux", "win32", "darwin"); ``machine`` is
``platform.machine()``; ``env`` is the environment the build runs in.
"""

from __future__ import annotations

import os
import platform as _platform
import sys
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

NAME = "GenerativeStudio"
DISPLAY_NAME = "Generative Studio"
BUNDLE_ID = "io.github.generative-studio"
# Windows' classic path limit (MAX_PATH, 260 including the drive and the final NUL): a folder
# unpacked under a deeper parent than this leaves the deepest file of the bundle past it
WINDOWS_MAX_PATH = 260
# size budgets of the bundle folder (or .app) in MB; a bundle over its budget fails the build
BUDGET_MB = {"cuda": 5000, "cpu": 1200, "cpu-from-cuda": 1200}


@dataclass(frozen=True)
class Target:
    """What the bundle looks like on one system."""
    system: str  # "linux", "windows", "macos"
    machine: str  # "x86_64", "arm64", ...
    executable: str  # relative to the dist folder
    bundle: str  # the folder (or .app) that is the whole app, relative to the dist folder
    icon: str | None  # relative to resources/icons, or None
    console: bool  # False: a windowed app (no console window on Windows, no Terminal on macOS)
    app_bundle: bool  # macOS: wrap the folder into a .app with an Info.plist
    codesign_identity: str | None  # macOS: "Developer ID Application: ..." signs every binary
    entitlements: str | None  # macOS: relative to the repository root
    archive: str  # the file a user downloads

    @property
    def is_windows(self) -> bool:
        return self.system == "windows"


def system_name(system: str) -> str:
    """"linux" / "windows" / "macos" from a ``sys.platform`` value; ValueError for others."""
    if system.startswith("linux"):
        return "linux"
    if system in ("win32", "cygwin", "msys") or system.startswith(("mingw", "msys", "cygwin")):
        return "windows"
    if system == "darwin":
        return "macos"
    raise ValueError(f"no app bundle is defined for the platform {system!r} (Linux, Windows and macOS are)")


def machine_name(machine: str) -> str:
    """The architecture as the downloads name it: x86_64 (Linux), x64 (Windows), arm64."""
    machine = machine.lower()
    if machine in ("amd64", "x86_64", "x64"):
        return "x86_64"
    if machine in ("arm64", "aarch64"):
        return "arm64"
    return machine


def target(system: str | None = None, machine: str | None = None, env: dict | None = None,
           cuda: bool = False) -> Target:
    """The bundle's layout on ``system`` (default: this one). ``cuda``: the bundle keeps the
    NVIDIA libraries (its archive name says ``-cuda``)."""
    env = os.environ if env is None else env
    kind = system_name(system or sys.platform)
    arch = machine_name(machine or _platform.machine())
    suffix = "-cuda" if cuda else ""
    if kind == "windows":
        return Target(kind, arch, f"{NAME}/{NAME}.exe", NAME, "studio.ico", console=False, app_bundle=False,
                      codesign_identity=None, entitlements=None,
                      archive=f"{NAME}-windows-{'x64' if arch == 'x86_64' else arch}{suffix}.zip")
    if kind == "macos":
        return Target(kind, arch, f"{NAME}.app/Contents/MacOS/{NAME}", f"{NAME}.app", "studio.icns",
                      console=False, app_bundle=True,
                      codesign_identity=env.get("STUDIO_CODESIGN_IDENTITY") or None,
                      entitlements="packaging/entitlements.plist",
                      archive=f"{NAME}-macos-{arch}{suffix}.zip")
    return Target(kind, arch, f"{NAME}/{NAME}", NAME, None, console=True, app_bundle=False,
                  codesign_identity=None, entitlements=None, archive=f"{NAME}-linux-{arch}{suffix}.tar.gz")


def cpu_only(system: str | None = None, env: dict | None = None, torch_cuda: str | None = None) -> bool:
    """Whether build.spec leaves the NVIDIA libraries out (packaging/cuda_stubs.py): asked with
    ``STUDIO_BUNDLE_CPU=1``, and only meaningful on Linux with a CUDA build of torch (elsewhere
    PyPI's torch has no NVIDIA libraries to leave out). ValueError for a value that is not 0/1."""
    env = os.environ if env is None else env
    value = env.get("STUDIO_BUNDLE_CPU", "0").strip().lower()
    if value not in ("0", "1", "", "false", "true", "no", "yes"):
        raise ValueError(f"STUDIO_BUNDLE_CPU={env['STUDIO_BUNDLE_CPU']!r}: use 1 (leave CUDA out) or 0")
    asked = value in ("1", "true", "yes")
    return asked and system_name(system or sys.platform) == "linux" and bool(torch_cuda)


def budget_mb(torch_cuda: str | None, cpu_only_build: bool, env: dict | None = None) -> int:
    """The size budget: ``STUDIO_BUNDLE_BUDGET_MB`` when set (a positive integer), else by kind."""
    env = os.environ if env is None else env
    override = env.get("STUDIO_BUNDLE_BUDGET_MB")
    if override:
        if not override.isdigit() or int(override) <= 0:
            raise ValueError(f"STUDIO_BUNDLE_BUDGET_MB={override!r}: give a whole number of MB")
        return int(override)
    if not torch_cuda:
        return BUDGET_MB["cpu"]
    return BUDGET_MB["cpu-from-cuda"] if cpu_only_build else BUDGET_MB["cuda"]


def longest_path(root: str, relative_paths, windows: bool = True) -> tuple[int, str]:
    """(length, path) of the longest file path once the bundle's files sit under ``root``."""
    joiner = PureWindowsPath if windows else PurePosixPath
    best = (0, "")
    for rel in relative_paths:
        full = str(joiner(root) / rel)
        if len(full) > best[0]:
            best = (len(full), full)
    return best


def windows_path_room(relative_paths, bundle: str = NAME) -> int:
    """How many characters a Windows parent folder may have (``C:\\Apps`` is 7) before some file
    of the bundle crosses MAX_PATH: 260, less the NUL, less the separator, less the longest path
    inside the bundle folder."""
    longest, _ = longest_path(bundle, relative_paths, windows=True)
    return WINDOWS_MAX_PATH - 1 - 1 - longest


WINDOWS_MIN_ROOM = 20  # a parent such as C:\Users\name\Apps (20) must fit, or the build fails


def bundle_files(bundle_dir) -> list[str]:
    """The bundle's files relative to its folder (``/`` separated)."""
    from pathlib import Path

    root = Path(bundle_dir)
    return [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]


def main(argv: list[str] | None = None) -> int:
    """``python packaging/platforms.py FIELD [--cuda]``: print one field of this system's target
    (executable, bundle, archive) for scripts/build_bundle.sh; ``budget TORCH_CUDA CPU_ONLY``
    prints the size budget; ``cpu-only TORCH_CUDA`` prints 1 or 0; ``room BUNDLE_DIR`` prints how
    long a Windows parent folder may be (exit 1 under WINDOWS_MIN_ROOM)."""
    args = sys.argv[1:] if argv is None else argv
    try:
        if args[:1] == ["budget"]:
            print(budget_mb(args[1] or None, args[2] == "1"))
        elif args[:1] == ["room"]:  # room BUNDLE_DIR: Windows parent-folder room, exit 1 when too little
            from pathlib import Path

            room = windows_path_room(bundle_files(args[1]), Path(args[1]).name)
            _, longest = longest_path(Path(args[1]).name, bundle_files(args[1]))
            print(f"{room} characters of parent folder fit before MAX_PATH (longest: {longest})")
            return 0 if room >= WINDOWS_MIN_ROOM else 1
        elif args[:1] == ["cpu-only"]:
            print(int(cpu_only(torch_cuda=args[1] or None)))
        else:
            print(getattr(target(cuda="--cuda" in args), args[0]))
    except (IndexError, AttributeError):
        print("usage: platforms.py executable|bundle|archive [--cuda] | budget CUDA CPU_ONLY | cpu-only CUDA"
              " | room BUNDLE_DIR",
              file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"platforms.py: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
