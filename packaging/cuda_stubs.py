"""A CPU-only bundle from a CUDA build of PyTorch on Linux: leave out the NVIDIA libraries and
torch's own CUDA libraries, and put tiny *stub* libraries in their place.

Measured with torch 2.14.1+cu130 (the wheel PyPI gives Linux):

- Removed outright, ``import torch`` fails ("cannot open shared object file"): the CPU
  libraries name CUDA ones as load-time dependencies (``DT_NEEDED``). ``libtorch.so`` needs
  ``libtorch_cuda.so`` (480 MB), which needs cuBLAS(Lt), cuFFT, cuSPARSE(Lt), cuRAND, cuDNN,
  NCCL, NVRTC, cuFile and NVSHMEM; ``libtorch_cpu.so`` needs ``libcudart`` and ``libcupti``;
  ``libtorch_python.so`` needs ``libtorch_cuda``, ``libc10_cuda``, cuDNN, cuFile and NCCL;
  torchvision's operators need ``libc10_cuda``/``libtorch_cuda``. The smallest set of *real*
  files that imports is that whole chain: ~1.9 GB of NVIDIA libraries besides torch's 1.0 GB.
- A stub has the real file's ``SONAME`` and symbol versions and exports exactly the symbols the
  kept libraries use (and names its fellow stubs as ``DT_NEEDED`` where the real file did).
  Functions return the address of a zeroed scratch area whose low 16 bits are 0 (so
  ``c10::cuda::device_count()`` says 0 and a returned reference is writable); constructors give
  the object a vtable with a real ``type_info`` (``torch._C``'s initialisation builds NCCL
  option objects and pybind11 reads their dynamic type); data is zero-filled storage of the
  real size; ``type_info`` objects are real ones. No CUDA backend registers itself, so torch
  behaves as its CPU build ("Cannot initialize CUDA without ATen_cuda library" on a CUDA tensor).
- Kept real: the CUDA runtime (``libcudart``, 1 MB) and cuDNN's 0.1 MB loader.
- The bundle's runtime hook (packaging/rthook_cpu_only.py) hides every CUDA device and drops the
  Python-level CUDA kernels that ``torch._native`` registers at import over CUDA kernels that
  are not there. The bundle's self-test checks that CUDA is absent and trains, samples and
  exports on the CPU.

Build-time only: needs a C compiler (``cc``; or ``CC``) and pyelftools. build.spec uses it when
``STUDIO_BUNDLE_CPU=1`` on Linux with a CUDA torch (packaging/platforms.py). By hand::

    python packaging/cuda_stubs.py SITE_PACKAGES OUT_DIR   # prints the plan, builds the stubs
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

# the files left out of a CPU bundle, as paths relative to site-packages (fnmatch patterns):
# every NVIDIA library and torch's own CUDA libraries
CUDA_FILES = ("nvidia/*", "torch/lib/libtorch_cuda.so", "torch/lib/libtorch_cuda_linalg.so", "torch/lib/libc10_cuda.so",
              "torch/lib/libtorch_nvshmem.so", "torch/lib/libcaffe2_nvrtc.so")
# ...except the CUDA runtime (1 MB) and cuDNN's loader (0.1 MB): real, they answer "no device"
CUDA_KEPT = ("nvidia/cu13/lib/libcudart.so.*", "nvidia/cu12/lib/libcudart.so.*", "nvidia/cuda_runtime/lib/*",
             "nvidia/cudnn/lib/libcudnn.so.*")
STUB_PREFIX = "studio_cuda_stub"


@dataclass
class Stub:
    """One stub library: its SONAME, the real file it replaces, and the symbols it exports."""
    soname: str
    real: Path
    functions: list[tuple[str, str | None]] = field(default_factory=list)  # (name, version)
    objects: list[tuple[str, str | None, int, bool]] = field(default_factory=list)  # (+ size, tls)
    needed: list[str] = field(default_factory=list)  # the fellow stubs it names as DT_NEEDED

    @property
    def versions(self) -> list[str]:
        return sorted({v for _, v in self.functions if v} | {v for _, v, _, _ in self.objects if v})


def is_cuda_file(relative: str) -> bool:
    """Whether a path under site-packages (``/`` separated) is one of the CUDA files left out."""
    return (any(fnmatch.fnmatch(relative, pattern) for pattern in CUDA_FILES)
            and not any(fnmatch.fnmatch(relative, pattern) for pattern in CUDA_KEPT))


def _elf(path: Path):
    from elftools.elf.elffile import ELFFile

    handle = open(path, "rb")
    try:
        return handle, ELFFile(handle)
    except Exception:
        handle.close()
        raise


def _needed(elf) -> list[str]:
    dynamic = elf.get_section_by_name(".dynamic")
    return [tag.needed for tag in dynamic.iter_tags() if tag.entry.d_tag == "DT_NEEDED"] if dynamic else []


def _soname(elf) -> str | None:
    dynamic = elf.get_section_by_name(".dynamic")
    for tag in dynamic.iter_tags() if dynamic else ():
        if tag.entry.d_tag == "DT_SONAME":
            return tag.soname
    return None


def _symbols(elf) -> tuple[dict[str, tuple[str | None, str, int]], dict[str, str | None]]:
    """The dynamic symbols of ``elf``: defined ones as name -> (version, type, size), and
    undefined ones as name -> the file their version ties them to (None when unversioned)."""
    dynsym = elf.get_section_by_name(".dynsym")
    versym = elf.get_section_by_name(".gnu.version")
    versions: dict[int, tuple[str, str | None]] = {}  # index -> (version, file needed for it)
    verdef, verneed = elf.get_section_by_name(".gnu.version_d"), elf.get_section_by_name(".gnu.version_r")
    for entry, auxes in verdef.iter_versions() if verdef else ():
        versions[entry.entry.vd_ndx] = (next(auxes).name, None)
    for entry, auxes in verneed.iter_versions() if verneed else ():
        for aux in auxes:
            versions[aux.entry.vna_other] = (aux.name, entry.name)
    defined, undefined = {}, {}
    for index, symbol in enumerate(dynsym.iter_symbols() if dynsym else ()):
        if not symbol.name:
            continue
        version = file = None
        if versym is not None:
            ndx = versym.get_symbol(index).entry.ndx
            if isinstance(ndx, int) and (ndx & 0x7FFF) in versions:
                version, file = versions[ndx & 0x7FFF]
        if symbol.entry.st_shndx == "SHN_UNDEF":
            undefined[symbol.name] = file
        elif symbol.entry.st_info.bind != "STB_LOCAL":
            defined[symbol.name] = (version, symbol.entry.st_info.type, symbol.entry.st_size)
    return defined, undefined


def system_symbols(sonames) -> set[str]:
    """The symbols the system's libraries of these names define (libc, libstdc++, libgcc_s...),
    found where the dynamic loader finds them: each is loaded into this process (harmless for
    system runtime libraries) and its file read from /proc/self/maps."""
    import ctypes

    for soname in sonames:
        try:
            ctypes.CDLL(soname)
        except OSError:  # not on this system (then nothing can interpose on it either)
            continue
    wanted, paths = set(sonames), set()
    try:
        maps = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        return set()
    for line in maps:
        path = line.split(maxsplit=5)[-1] if len(line.split()) >= 6 else ""
        # the file may carry a longer name than its SONAME (libstdc++.so.6 -> libstdc++.so.6.0.30)
        if path.startswith("/") and any(Path(path).name.startswith(name) for name in wanted):
            paths.add(path)
    symbols: set[str] = set()
    for path in sorted(paths):
        handle, elf = _elf(Path(path))
        with handle:
            symbols |= set(_symbols(elf)[0])
    return symbols


def plan(libraries: dict[str, Path]) -> list[Stub]:
    """The stubs a set of libraries needs once the CUDA files are gone, dependencies first.

    ``libraries`` maps each library's path relative to site-packages (``/`` separated; the
    bundle's kept files *and* the CUDA files, which must still be installed) to its file. A stub
    stands in for every CUDA file that a kept library needs (``DT_NEEDED``), and for the CUDA
    files those need in turn when they define a symbol the kept libraries use (the loader finds
    such a symbol anywhere in the load chain: ``libtorch_python.so`` uses NVSHMEM's, which only
    ``libtorch_cuda.so`` names). Each exports the symbols the kept libraries leave undefined and
    the real file defines, and names its fellow stubs as ``DT_NEEDED`` like the real file."""
    kept, by_soname, needs = [], {}, {}
    for relative, path in libraries.items():
        handle, elf = _elf(path)
        with handle:
            if is_cuda_file(relative):
                soname = _soname(elf) or path.name
                by_soname.setdefault(soname, path)
                needs[soname] = _needed(elf)
            else:
                kept.append((path, _needed(elf), *_symbols(elf)))
    kept_names = {path.name for path, *_ in kept}
    # what the kept libraries use and neither they nor the system's libraries provide: a stub
    # must never interpose on a symbol the real owner defines (a stub ``operator delete``, which
    # libtorch_cuda exports too, once turned every free into a no-op: a leak and 25% slower steps)
    provided = set().union(*(defined for _, _, defined, _ in kept))
    system = {name for _, needed, _, _ in kept for name in needed} - set(by_soname) - kept_names
    provided |= system_symbols(system)
    undefined: set[str] = set()
    roots = []
    for _, needed, _, symbols in kept:
        roots += [name for name in needed if name in by_soname and name not in kept_names]
        undefined |= {name for name, file in symbols.items()
                      if file in by_soname or (file is None and name not in provided)}
    # breadth first from the kept libraries' needs: a symbol goes to the first stub that defines it
    order, queue, seen_symbols, stubs = [], list(dict.fromkeys(roots)), set(), {}
    while queue:
        soname = queue.pop(0)
        if soname in stubs:
            continue
        stub = stubs[soname] = Stub(soname, by_soname[soname])
        order.append(soname)
        handle, elf = _elf(stub.real)
        with handle:
            for name, (version, kind, size) in _symbols(elf)[0].items():
                if name not in undefined or name in seen_symbols:
                    continue
                seen_symbols.add(name)
                if kind in ("STT_FUNC", "STT_GNU_IFUNC"):
                    stub.functions.append((name, version))
                else:
                    stub.objects.append((name, version, max(int(size), 1), kind == "STT_TLS"))
        queue += [name for name in needs[soname] if name in by_soname and name not in kept_names]
    # keep the stubs the kept libraries name, and those that define something (or lead to one that does)
    useful = set(roots)
    changed = True
    while changed:
        changed = False
        for soname, stub in stubs.items():
            if soname not in useful and (stub.functions or stub.objects or
                                         any(n in useful for n in needs[soname] if n in stubs)):
                useful.add(soname)
                changed = True
    for soname, stub in stubs.items():
        stub.needed = [n for n in needs[soname] if n in useful and n != soname]
    ordered: list[Stub] = []  # dependencies before the stubs that need them (they link against them)
    def visit(soname, path=()):
        if soname in path or any(s.soname == soname for s in ordered):
            return
        for child in stubs[soname].needed:
            visit(child, (*path, soname))
        ordered.append(stubs[soname])
    for soname in order:
        if soname in useful:
            visit(soname)
    return ordered


def is_constructor(name: str) -> bool:
    """Whether a mangled C++ name is a complete/base object constructor (``...C1E...``/``C2E``)."""
    return name.startswith("_ZN") and re.search(r"[0-9A-Za-z_]C[12]E", name) is not None


def stub_source(stub: Stub) -> tuple[str, str]:
    """The C source and the linker version script of one stub."""
    p = STUB_PREFIX
    lines = ["/* generated by packaging/cuda_stubs.py: a stand-in for " + stub.soname + " */",
             "#include <stdint.h>",
             f"static char {p}_scratch[1 << 17];",
             "/* every function: the address of a zeroed scratch area whose low 16 bits are 0 (a bool, char",
             "   or short result reads 0: c10::cuda::device_count() says no device; a pointer is usable) */",
             f"void *{p}_zero(void) {{ return (void *)(((uintptr_t){p}_scratch + 0xFFFF) & ~(uintptr_t)0xFFFF); }}",
             "/* constructors (C1/C2): give the object a vtable whose type_info is real and whose slots all",
             "   call the function above, so code that inspects the object's dynamic type (pybind11) works */",
             "/* libstdc++'s (torch loads it before any stub; weak, so a stub alone loads too) */",
             'extern char class_type_info_vtable[] __asm__("_ZTVN10__cxxabiv117__class_type_infoE")'
             ' __attribute__((weak));',
             f'static const void *{p}_typeinfo[2] = {{class_type_info_vtable + 2 * sizeof(void *), "{p}"}};',
             f"static const void *{p}_vtable[2 + 1024];",
             f"__attribute__((constructor)) static void {p}_init(void) {{",
             f"    {p}_vtable[1] = {p}_typeinfo;",
             f"    for (int i = 2; i < 2 + 1024; i++) {p}_vtable[i] = (const void *){p}_zero;",
             "}",
             f"void *{p}_ctor(void *self) {{ *(const void **)self = {p}_vtable + 2; return self; }}"]
    for index, (name, _) in enumerate(stub.functions):
        target = f"{p}_ctor" if is_constructor(name) else f"{p}_zero"
        lines.append(f'extern void *f{index}(void) __asm__("{name}") __attribute__((alias("{target}")));')
    type_infos = [name for name, _, size, tls in stub.objects if name.startswith("_ZTI") and size >= 16 and not tls]
    for index, (name, _, size, tls) in enumerate(stub.objects):
        if name in type_infos:  # a std::type_info: its vtable pointer (two slots in) and its name
            lines.append(f'static const char n{index}[] = "{name[4:]}";')
            lines.append(f'const void *o{index}[{(size + 7) // 8}] __asm__("{name}") = '
                         f'{{class_type_info_vtable + 2 * sizeof(void *), n{index}}};')
        elif name.startswith("_ZTS") and not tls:  # a type_info's name string
            lines.append(f'const char o{index}[{max(size, len(name) - 3)}] __asm__("{name}") = "{name[4:]}";')
        else:  # anything else: zero-filled storage of the real size
            storage = "__thread " if tls else ""
            lines.append(f'{storage}char o{index}[{size}] __asm__("{name}") __attribute__((aligned(16))) = {{0}};')
    by_version: dict[str | None, list[str]] = {}
    for name, version in stub.functions:
        by_version.setdefault(version, []).append(name)
    for name, version, _, _ in stub.objects:
        by_version.setdefault(version, []).append(name)
    # one node per version of the real file; symbols it left unversioned join the first node
    # (a reference without a version binds to any); the stub's own helper stays local
    versions = stub.versions or [None]
    script = []
    for position, version in enumerate(versions):
        names = by_version.get(version, []) + (by_version.get(None, []) if position == 0 and version else [])
        body = "global:" + "".join(f' "{n}";' for n in names) if names else ""
        if position == 0:
            body += f" local: {STUB_PREFIX}_*;"
        script.append(f"{version + ' ' if version else ''}{{ {body.strip()} }};")
    return "\n".join(lines) + "\n", "\n".join(script) + "\n"


def build(stubs: list[Stub], out_dir: Path, cc: str | None = None) -> list[Path]:
    """Compile each stub into ``out_dir/<soname>``; returns the files. Raises RuntimeError
    (naming the compiler to install) when no C compiler is found or one fails."""
    cc = cc or os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not cc:
        raise RuntimeError("a CPU bundle from a CUDA torch needs a C compiler to make its stub libraries "
                           "(Debian/Ubuntu: apt-get install gcc), or install a CPU build of torch")
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for stub in stubs:
        source, script = stub_source(stub)
        c_file, map_file = out_dir / f"{stub.soname}.c", out_dir / f"{stub.soname}.map"
        c_file.write_text(source, encoding="utf-8")
        map_file.write_text(script, encoding="utf-8")
        target = out_dir / stub.soname
        # found beside it at run time ($ORIGIN), linked even though no symbol of theirs is used
        command = [cc, "-shared", "-fPIC", "-O1", "-o", str(target), str(c_file), f"-Wl,-soname,{stub.soname}",
                   f"-Wl,--version-script,{map_file}", "-Wl,-rpath,$ORIGIN", "-Wl,--no-as-needed",
                   *[str(out_dir / name) for name in stub.needed]]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{cc} could not build the stub {stub.soname}: {done.stderr.strip()[-2000:]}")
        c_file.unlink()
        map_file.unlink()
        files.append(target)
    return files


def site_libraries(site_packages: Path, packages=("torch", "torchvision", "torchvision.libs", "nvidia")) -> dict[str, Path]:
    """The shared libraries of the given packages under site-packages, by relative path."""
    found = {}
    for package in packages:
        for path in sorted((site_packages / package).rglob("*.so*")) if (site_packages / package).is_dir() else ():
            if path.is_file() and not path.is_symlink() and ".so" in path.name:
                found[path.relative_to(site_packages).as_posix()] = path
    return found


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    site, out = Path(args[0]), Path(args[1])
    stubs = plan(site_libraries(site))
    for stub in stubs:
        print(f"{stub.soname:<24} {len(stub.functions):5d} functions {len(stub.objects):4d} objects "
              f"versions {stub.versions or '-'} needs {stub.needed or '-'} (for {stub.real.relative_to(site)})")
    for path in build(stubs, out):
        print(f"built {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
