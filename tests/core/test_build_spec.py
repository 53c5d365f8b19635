"""build.spec's system-dependent decisions (packaging/platforms.py), each branch taken with the
system faked; build.spec really reads them from there; and the CUDA stub planner
(packaging/cuda_stubs.py) on tiny libraries compiled here (skipped without a C compiler)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging"))
import cuda_stubs  # noqa: E402
import platforms  # noqa: E402


@pytest.mark.parametrize("system, machine, executable, bundle, icon, console, archive", [
    ("linux", "x86_64", "GenerativeStudio/GenerativeStudio", "GenerativeStudio", None, True,
     "GenerativeStudio-linux-x86_64.tar.gz"),
    ("linux", "aarch64", "GenerativeStudio/GenerativeStudio", "GenerativeStudio", None, True,
     "GenerativeStudio-linux-arm64.tar.gz"),
    ("win32", "AMD64", "GenerativeStudio/GenerativeStudio.exe", "GenerativeStudio", "studio.ico", False,
     "GenerativeStudio-windows-x64.zip"),
    ("darwin", "arm64", "GenerativeStudio.app/Contents/MacOS/GenerativeStudio", "GenerativeStudio.app",
     "studio.icns", False, "GenerativeStudio-macos-arm64.zip"),
])
def test_each_system_gets_its_layout_icon_and_archive(system, machine, executable, bundle, icon, console, archive):
    target = platforms.target(system, machine, env={})
    assert (target.executable, target.bundle, target.icon, target.console, target.archive) == \
        (executable, bundle, icon, console, archive)
    assert target.app_bundle is (system == "darwin")
    if icon:
        assert (ROOT / "resources" / "icons" / icon).is_file()


def test_codesigning_and_entitlements_only_on_macos():
    identity = {"STUDIO_CODESIGN_IDENTITY": "Developer ID Application: A (TEAM)"}
    mac = platforms.target("darwin", "arm64", env=identity)
    assert mac.codesign_identity == identity["STUDIO_CODESIGN_IDENTITY"]
    assert (ROOT / mac.entitlements).is_file()
    assert platforms.target("darwin", "arm64", env={}).codesign_identity is None  # unsigned without one
    for system in ("linux", "win32"):
        other = platforms.target(system, "x86_64", env=identity)
        assert other.codesign_identity is None and other.entitlements is None


def test_the_cuda_bundle_says_so_in_its_name():
    assert platforms.target("linux", "x86_64", env={}, cuda=True).archive == "GenerativeStudio-linux-x86_64-cuda.tar.gz"


def test_an_unknown_system_is_refused_by_name():
    with pytest.raises(ValueError, match="'sunos5'"):
        platforms.target("sunos5", "sparc", env={})


@pytest.mark.parametrize("system, value, torch_cuda, expected", [
    ("linux", "1", "13.0", True),
    ("linux", "0", "13.0", False),
    ("linux", None, "13.0", False),  # the CUDA bundle unless asked
    ("linux", "1", None, False),  # a CPU torch: nothing to leave out
    ("win32", "1", "13.0", False),  # only the Linux wheels carry NVIDIA libraries to stub
    ("darwin", "1", None, False),
])
def test_cpu_only_needs_the_flag_linux_and_a_cuda_torch(system, value, torch_cuda, expected):
    env = {} if value is None else {"STUDIO_BUNDLE_CPU": value}
    assert platforms.cpu_only(system, env, torch_cuda) is expected


def test_bad_flag_and_budget_values_name_the_variable():
    with pytest.raises(ValueError, match="STUDIO_BUNDLE_CPU='maybe'"):
        platforms.cpu_only("linux", {"STUDIO_BUNDLE_CPU": "maybe"}, "13.0")
    with pytest.raises(ValueError, match="STUDIO_BUNDLE_BUDGET_MB='1.5G'"):
        platforms.budget_mb(None, False, {"STUDIO_BUNDLE_BUDGET_MB": "1.5G"})


def test_budgets_by_kind_and_override():
    assert platforms.budget_mb("13.0", False, {}) == 5000
    assert platforms.budget_mb("13.0", True, {}) == 1200
    assert platforms.budget_mb(None, False, {}) == 1200
    assert platforms.budget_mb("13.0", True, {"STUDIO_BUNDLE_BUDGET_MB": "900"}) == 900


def test_windows_long_paths_leave_room_for_the_parent_folder():
    files = ["_internal/torch/lib/libtorch_cpu.dll", "_internal/" + "x" * 180 + "/a.pyd"]
    length, longest = platforms.longest_path("GenerativeStudio", files)
    assert longest == "GenerativeStudio\\_internal\\" + "x" * 180 + "\\a.pyd" and length == len(longest)
    # 260 - NUL - separator - that path: what a parent like C:\Apps may take
    assert platforms.windows_path_room(files) == 258 - length
    assert platforms.windows_path_room(files) < len("C:\\Users\\someone\\Downloads\\GenerativeStudio-x64")


def test_the_scripts_read_the_decisions_from_platforms_py(capsys):
    assert platforms.main(["budget", "13.0", "0"]) == 0 and capsys.readouterr().out.strip() == "5000"
    assert platforms.main(["nonsense"]) == 2
    spec = (ROOT / "build.spec").read_text(encoding="utf-8")
    names = {node.attr for node in ast.walk(ast.parse(spec)) if isinstance(node, ast.Attribute)}
    # every system-dependent EXE/BUNDLE argument comes from the tested target
    assert {"console", "icon", "codesign_identity", "entitlements", "app_bundle", "bundle"} <= names
    assert "sys.platform" not in spec and "IS_MAC" not in spec
    script = (ROOT / "scripts" / "build_bundle.sh").read_text(encoding="utf-8")
    for field in ("bundle)", "executable)", "archive $CUDA_FLAG)", "budget \"$TORCH_CUDA\"", "cpu-only"):
        assert f"packaging/platforms.py {field}" in script, field


def test_cuda_files_are_the_nvidia_and_torch_cuda_libraries_but_the_runtime():
    for name in ("nvidia/cu13/lib/libcublasLt.so.13", "torch/lib/libtorch_cuda.so", "torch/lib/libc10_cuda.so",
                 "torch/lib/libtorch_cuda_linalg.so", "nvidia/cudnn/lib/libcudnn_engines_precompiled.so.9"):
        assert cuda_stubs.is_cuda_file(name), name
    assert not cuda_stubs.is_cuda_file("nvidia/cu13/lib/libcudart.so.13")  # real: answers "no device"
    assert not cuda_stubs.is_cuda_file("nvidia/cudnn/lib/libcudnn.so.9")  # cuDNN's 0.1 MB loader
    assert not cuda_stubs.is_cuda_file("torch/lib/libtorch_cpu.so")


def test_constructors_are_told_apart_by_their_mangled_names():
    assert cuda_stubs.is_constructor("_ZN4c10d16ProcessGroupNCCL7OptionsC1Eb")
    assert cuda_stubs.is_constructor("_ZN5torch4cuda22CUDAPluggableAllocator22CUDAPluggableAllocatorC2ERKS1_")
    assert not cuda_stubs.is_constructor("_ZN3c104cuda12device_countEv")
    assert not cuda_stubs.is_constructor("cudaGetDeviceCount")


CC = shutil.which("cc") or shutil.which("gcc")


def _library(path: Path, source: str, *link: str, soname: str | None = None) -> Path:
    c = path.with_suffix(".c")
    c.write_text(source)
    subprocess.run([CC, "-shared", "-fPIC", "-o", str(path), str(c), f"-Wl,-soname,{soname or path.name}",
                    "-Wl,--no-as-needed", *link], check=True, capture_output=True)
    return path


@pytest.mark.skipif(CC is None, reason="needs a C compiler")
def test_stubs_replace_a_cuda_chain_and_the_kept_library_still_loads(tmp_path):
    """kept libapp.so needs nvidia's libbig.so (which needs libdeep.so); libapp uses big_fn,
    big_table and deep_fn (found through libbig's chain), not big_unused. The stubs keep that
    shape, export exactly those, and the kept library loads and runs with them."""
    import ctypes

    site = tmp_path / "site"
    lib = site / "nvidia" / "big" / "lib"
    lib.mkdir(parents=True)
    (site / "app").mkdir()
    deep = _library(lib / "libdeep.so", "int deep_fn(void) { return 7; }")
    big = _library(lib / "libbig.so", "int big_fn(void) { return 5; } int big_unused(void) { return 1; }\n"
                                      "long big_table[4] = {1, 2, 3, 4};\n"
                                      'void big_ctor(void *self) __asm__("_ZN3BigC1Ev");\n'
                                      "void big_ctor(void *self) { *(long *)self = 1; }\n"
                                      # like CUDA libraries that link a C/C++ runtime in statically
                                      'unsigned long big_strlen(const char *s) __asm__("strlen");\n'
                                      "unsigned long big_strlen(const char *s) { return 99; }", str(deep))
    app = _library(site / "app" / "libapp.so",
                   "extern int big_fn(void); extern int deep_fn(void); extern long big_table[4];\n"
                   "int app_fn(void) { return 100 + (int)sizeof big_table; }\n"
                   "int app_calls(void) { return big_fn() + deep_fn() + (int)big_table[3]; }\n"
                   'unsigned long app_strlen(const char *s) __asm__("strlen");\n'
                   'int app_len(void) { return (int)app_strlen("abc"); }\n'
                   'void big_ctor(void *self) __asm__("_ZN3BigC1Ev");\n'
                   "const char *app_new(void) { void *object[2] = {0, 0}; big_ctor(object);\n"
                   "  void **vtable = object[0]; void **type_info = vtable[-1]; return type_info[1]; }",
                   str(big), f"-Wl,-rpath-link,{lib}", "-Wl,-rpath,$ORIGIN")
    libraries = {p.relative_to(site).as_posix(): p for p in (deep, big, app)}
    stubs = {s.soname: s for s in cuda_stubs.plan(libraries)}
    assert set(stubs) == {"libbig.so", "libdeep.so"}
    assert sorted(n for n, _ in stubs["libbig.so"].functions) == ["_ZN3BigC1Ev", "big_fn"]
    assert [(n, size) for n, _, size, _ in stubs["libbig.so"].objects] == [("big_table", 32)]
    assert [n for n, _ in stubs["libdeep.so"].functions] == ["deep_fn"]
    assert stubs["libbig.so"].needed == ["libdeep.so"]
    out = site / "app"  # beside the kept library, as build.spec puts them beside torch's
    built = cuda_stubs.build(list(stubs.values()), out)
    assert [p.name for p in built] == ["libdeep.so", "libbig.so"]  # dependencies first
    shutil.rmtree(site / "nvidia")  # the real ones are gone
    loaded = ctypes.CDLL(str(app))
    assert loaded.app_fn() == 132  # the kept code runs
    # the stubs answer without crashing: functions give an address whose low 16 bits are 0
    # (so a bool, char or short result reads 0), data is zero-filled
    assert loaded.app_calls() & 0xFFFF == 0
    # a stub constructor gives the object a vtable with a real type_info (pybind11 reads its name)
    loaded.app_new.restype = ctypes.c_char_p
    assert loaded.app_new() == cuda_stubs.STUB_PREFIX.encode()
    # a symbol the system's libraries define (here libc's strlen, which libbig also exports) is
    # never stubbed: the stub would interpose on it (a stub operator delete once leaked every free)
    assert all("strlen" not in n for stub in stubs.values() for n, _ in stub.functions)
    assert loaded.app_len() == 3


def test_room_fails_a_bundle_too_deep_for_windows(tmp_path, capsys):
    bundle = tmp_path / "GenerativeStudio"
    shallow = bundle / "_internal" / "torch" / "lib"
    shallow.mkdir(parents=True)
    (shallow / "torch_cpu.dll").write_bytes(b"x")
    assert platforms.main(["room", str(bundle)]) == 0
    assert capsys.readouterr().out.startswith(f"{258 - len('GenerativeStudio/_internal/torch/lib/torch_cpu.dll')} ")
    deep = bundle / "_internal" / ("d" * 120) / ("e" * 110)
    deep.mkdir(parents=True)
    (deep / "x.pyd").write_bytes(b"x")
    assert platforms.main(["room", str(bundle)]) == 1  # under WINDOWS_MIN_ROOM characters left
    assert "x.pyd" in capsys.readouterr().out
