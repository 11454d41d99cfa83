"""The grading sandbox: bubblewrap, resource limits, and the grader's scratch folders.

Every notebook runs in a ``bwrap`` sandbox (the tool Flatpak uses; each job keeps one and
resets it between notebooks, see ``_pool``):

- the system folders, the Python environment and the two course packages are mounted read-only,
  and nothing else of the host is visible (not the submissions, not the output folder, not the
  instructor's home, not the grader's HMAC key);
- the answer keys (``multilevel/exercises/keys``) are hidden under an empty folder;
- the kernel's working folder, ``/tmp``, ``/dev/shm``, its home and its Jupyter sockets
  (:data:`SOCKETS`) are private, size-limited tmpfs mounts; everything else, bwrap's own root
  folder included, is read-only, and no host folder is writable;
- no kernel keyrings and no POSIX message queues (a seccomp filter, :func:`seccomp_program`);
- no capabilities (``--cap-drop ALL``): a grader run as root would otherwise hand the notebook
  every capability, enough to unmount the hidden keys or remount the course read-write;
- no network (``--unshare-net``), its own PID namespace (``--unshare-pid``: every process it
  starts dies with it) whose pid 1 is the fork server (``--as-pid-1``), ``--die-with-parent``
  and ``--new-session``; ``/proc/sys`` read-only;
- ``RLIMIT_AS`` (memory), ``RLIMIT_CPU`` (CPU seconds per process), ``RLIMIT_FSIZE`` (largest
  file) and no core dumps.

Scratch folders live under ``<tmp>/multilevel-grade-<uid>/run-<pid>-*``; a run removes its own
on exit, and the next run removes those of runs whose process is gone (a grader killed with
SIGKILL leaves nothing for longer than that).
"""

from __future__ import annotations

import json
import os
import resource
import select
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ._zygote import process_exists

#: Default memory (address space) limit of a sandbox, in MB.
DEFAULT_MEMORY_MB = 3072
#: Default CPU seconds per process in the sandbox.
DEFAULT_CPU_SECONDS = 300
#: Default largest file a notebook may write (and size of each private tmpfs), in MB.
DEFAULT_OUTPUT_MB = 64
#: Default largest message the grader accepts from a kernel, in MB.
DEFAULT_REPLY_MB = 8

_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt")


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox.

    Attributes
    ----------
    memory_mb : int
        Memory of the sandbox, in MB: what its processes use together (their proportional
        set sizes, watched by the fork server: ``_zygote``), and each one's address space
        (``RLIMIT_AS``).
    cpu_seconds : int
        CPU seconds each process may use (``RLIMIT_CPU``).
    output_mb : int
        Largest file a process may write (``RLIMIT_FSIZE``) and size of each private tmpfs.
    reply_mb : int
        Largest Jupyter message the grader reads from the kernel; larger ones are dropped.
    """

    memory_mb: int = DEFAULT_MEMORY_MB
    cpu_seconds: int = DEFAULT_CPU_SECONDS
    output_mb: int = DEFAULT_OUTPUT_MB
    reply_mb: int = DEFAULT_REPLY_MB

    def apply(self) -> None:
        """Set the limits on the calling process (run in the child before ``exec``)."""
        mb = 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (self.memory_mb * mb, self.memory_mb * mb))
        resource.setrlimit(resource.RLIMIT_CPU, (self.cpu_seconds, self.cpu_seconds + 5))
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.output_mb * mb, self.output_mb * mb))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        # The grader's worker, which starts the sandbox, has a lower data limit of its own.
        _, data_hard = resource.getrlimit(resource.RLIMIT_DATA)
        resource.setrlimit(resource.RLIMIT_DATA, (data_hard, data_hard))


def find_bwrap() -> str | None:
    """Path of the ``bwrap`` program, or None."""
    return shutil.which("bwrap")


def keys_folder() -> Path:
    """The folder of the private answer-key modules (hidden inside the sandbox)."""
    from multilevel.exercises import keys

    return Path(keys.__file__).resolve().parent


#: Where :func:`root_only_entries` looks: the system folders but ``/usr``, which holds read-only
#: shared data (and 200,000 files, a few seconds to look through).
_ROOT_ONLY_SEARCHED = tuple(d for d in _SYSTEM_DIRS if d != "/usr")


def root_only_entries(roots: tuple[str, ...] = _ROOT_ONLY_SEARCHED) -> tuple[Path, ...]:
    """Files and folders under ``roots`` that only their owner or group may read.

    Run as root, a notebook keeps uid 0 without capabilities: enough to read root's own files
    (``/etc/shadow``, private keys under ``/etc/ssl/private``), which a sandbox of an ordinary
    user could not. The sandbox hides them: a folder is empty, a file refuses to open (the
    host's ``/dev/null`` on a ``nodev`` mount stands in its place). Looked for only when the
    grader runs as root; a root that is a symbolic link (into ``/usr``) is skipped.

    Examples
    --------
    >>> Path("/etc/shadow") in root_only_entries() or os.geteuid() != 0
    True
    """
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return ()
    found: list[Path] = []
    for root in roots:
        if os.path.islink(root) or not os.path.isdir(root):
            continue
        for folder, dirs, files in os.walk(root):
            for name in [*dirs, *files]:
                path = os.path.join(folder, name)
                try:
                    mode = os.lstat(path).st_mode
                except OSError:
                    continue
                readable = stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(mode) else 0)
                if (stat.S_ISDIR(mode) or stat.S_ISREG(mode)) and mode & readable != readable:
                    found.append(Path(path))
            dirs[:] = [d for d in dirs if Path(folder, d) not in found]  # hidden whole
    return tuple(found)


def _package_dirs() -> list[Path]:
    import multilevel
    import simdata

    return [Path(m.__file__).resolve().parent for m in (multilevel, simdata)]


def _python_dirs() -> list[Path]:
    """The interpreter's own folders and the folders on ``sys.path`` it imports from.

    Never a folder that holds the scratch folders, the home folder or the working folder as a
    whole (``/tmp`` on the path of a script started from there would show every sandbox's
    scratch): those are left out, and the course packages are mounted one by one instead.
    """
    found = [Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).parent]
    found += [Path(p) for p in sys.path if p and Path(p).is_dir()]
    too_wide = {Path("/"), Path.home().resolve(), Path.cwd().resolve()}
    scratch = scratch_base().resolve()
    return [
        p
        for p in (f.resolve() for f in found)
        if p not in too_wide and p != scratch and p not in scratch.parents
    ]


def _is_source_tree(path: Path) -> bool:
    """A checkout (e.g. on the path through an editable install): shown only package by package."""
    return any((path / marker).exists() for marker in ("pyproject.toml", "setup.py", ".git"))


def _readonly_roots(lib: Path) -> list[Path]:
    """Folders mounted read-only: system, Python, course packages, the grader's helpers.

    A folder inside another listed one is dropped (the outer mount already shows it). The
    working folder the grader was started in is never listed as a whole: with an editable
    install only its ``multilevel/`` and ``simdata/`` folders are shown, not ``solutions/``.
    """
    candidates = [Path(d) for d in _SYSTEM_DIRS if Path(d).exists()]
    candidates += [p for p in _python_dirs() if not _is_source_tree(p)]
    candidates += [*_package_dirs(), lib]
    roots: list[Path] = []
    for path in sorted(set(candidates), key=lambda p: len(p.parts)):
        if path == Path("/") or any(r in path.parents for r in roots):
            continue
        roots.append(path)
    return roots


#: The kernels' connection file and sockets, inside a sandbox (a private tmpfs); the grader
#: reaches them through the sandbox's first process (``/proc/PID/root``), so that no host
#: folder is writable from a sandbox.
SOCKETS = Path("/run/multilevel-grade")


def bwrap_command(
    bwrap: str,
    *,
    work: Path,
    lib: Path,
    limits: Limits,
    hide: list[Path],
    seccomp: int | None = None,
    info: int | None = None,
) -> list[str]:
    """The ``bwrap`` arguments (up to ``--``) for one submission's sandbox.

    Parameters
    ----------
    work : Path
        Path of the kernel's working folder inside the sandbox (a private tmpfs).
    lib : Path
        Host folder of the grader's kernel helpers (read-only).
    hide : list of Path
        Folders replaced by an empty read-only tmpfs (the answer keys), and files that then
        refuse to open (:func:`root_only_entries`).
    seccomp : int, optional
        File descriptor of a :func:`seccomp_program` (passed on to bwrap by the caller).
    info : int, optional
        File descriptor bwrap writes its JSON information to (see :func:`sandbox_pid`).
    """
    size = str(limits.output_mb * 1024 * 1024)
    # Run as root, bwrap keeps every capability unless told otherwise: a notebook could then
    # unmount the hidden keys or remount the course read-write. Unprivileged, this is a no-op.
    args = [bwrap, "--cap-drop", "ALL", "--dev", "/dev", "--size", size, "--tmpfs", "/dev/shm"]
    # Writing /proc/sys needs only uid 0, not a capability: as root, a notebook could set
    # kernel.core_pattern and have the host run a command (shown by a hostile review).
    args += ["--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys"]
    args += ["--ro-bind-try", "/proc/sysrq-trigger", "/proc/sysrq-trigger"]
    # /proc/keys lists the descriptions of the host user's keyrings (the seccomp filter stops
    # their use, not this list); /dev/null on a nodev mount refuses to open.
    args += ["--ro-bind-try", "/dev/null", "/proc/keys"]
    args += ["--size", size, "--tmpfs", "/tmp"]
    for root in _readonly_roots(lib):
        if root.is_symlink():
            args += ["--symlink", os.readlink(root), str(root)]
        else:
            args += ["--ro-bind", str(root), str(root)]
    args += ["--size", size, "--tmpfs", str(work), "--size", size, "--tmpfs", str(SOCKETS)]
    for hidden in hide:
        if hidden.is_dir():
            args += ["--tmpfs", str(hidden), "--remount-ro", str(hidden)]
        else:
            args += ["--ro-bind", "/dev/null", str(hidden)]
    args += ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]
    args += ["--hostname", "sandbox"]  # not the grading machine's name
    # The fork server is the sandbox's pid 1 (no bwrap init beside it, which a kernel of the
    # same user could trace and take over): it reaps orphans, and signals from inside the
    # sandbox cannot kill or stop it.
    args += ["--as-pid-1", "--die-with-parent", "--new-session", "--chdir", str(work)]
    # Only the tmpfs folders above stay writable, not bwrap's own root: no host folder is.
    args += ["--remount-ro", "/dev", "--remount-ro", "/"]
    for option, fd in (("--seccomp", seccomp), ("--info-fd", info)):
        if fd is not None:
            args += [option, str(fd)]
    return [*args, "--"]


def sandbox_pid(info: int, timeout: float = 60.0) -> int:
    """The host process id of a sandbox's first process, read from bwrap's ``--info-fd``.

    Reads until bwrap's JSON object is complete (bwrap writes it once the sandbox is set up);
    raises ``OSError`` if it does not come within ``timeout`` seconds.
    """
    text, deadline = b"", time.monotonic() + timeout
    while True:
        ready, _, _ = select.select([info], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(info, 4096) if ready else b""
        text += chunk
        try:
            return int(json.loads(text)["child-pid"])
        except (ValueError, KeyError, TypeError):
            if not chunk:
                raise OSError(f"bwrap gave no sandbox process id ({text[:200]!r})") from None


# --------------------------------------------------------------------------------------------
# System calls no notebook needs
# --------------------------------------------------------------------------------------------
#: Kernel keyrings are shared with the host user, whoever runs bwrap (a notebook could read,
#: add or delete the instructor's keys, and leave one for the next notebook); POSIX message
#: queues outlive the processes of a sandbox. Per architecture (``AUDIT_ARCH_*``): the numbers
#: of ``add_key``, ``request_key``, ``keyctl`` and ``mq_open``. A 64-bit x86 process can also
#: make i386 and x32 calls (x32 numbers carry bit 30), so those are listed too.
BLOCKED_SYSCALLS = {
    "x86_64": {
        0xC000003E: (248, 249, 250, 240, *(0x40000000 | n for n in (248, 249, 250, 240))),
        0x40000003: (286, 287, 288, 277),  # i386
    },
    "aarch64": {0xC00000B7: (217, 218, 219, 180)},
}


def seccomp_program(machine: str | None = None) -> bytes | None:
    """The classic BPF program (``bwrap --seccomp``) that makes :data:`BLOCKED_SYSCALLS` fail
    with ``EPERM``; None on an architecture not listed (no filter, as before).

    Examples
    --------
    >>> len(seccomp_program("x86_64")) // 8  # instructions of 8 bytes
    23
    >>> seccomp_program("riscv64") is None
    True
    """
    table = BLOCKED_SYSCALLS.get(machine or os.uname().machine)
    if table is None:
        return None
    load, jump_equal, ret = 0x20, 0x15, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_RET|K
    allow, refuse = 0x7FFF0000, 0x00050000 | 1  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | EPERM
    program: list[tuple[int, int, int, int]] = []
    for arch, numbers in table.items():
        program.append((load, 0, 0, 4))  # seccomp_data.arch
        program.append((jump_equal, 0, len(numbers) + 3, arch))  # another arch: next block
        program.append((load, 0, 0, 0))  # seccomp_data.nr
        for i, number in enumerate(numbers):
            program.append((jump_equal, len(numbers) - i, 0, number))  # to the refusal below
        program.append((ret, 0, 0, allow))
        program.append((ret, 0, 0, refuse))
    program.append((ret, 0, 0, allow))
    return b"".join(struct.pack("=HBBI", *instruction) for instruction in program)


def seccomp_fd() -> int | None:
    """A file descriptor holding :func:`seccomp_program`, for ``bwrap --seccomp FD``."""
    program = seccomp_program()
    if program is None:
        return None
    fd = os.memfd_create("multilevel-grade-seccomp")
    os.write(fd, program)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def preexec(limits: Limits | None) -> Callable[[], None] | None:
    """The function to run in a sandbox's process before ``exec`` (None without limits)."""
    return None if limits is None else limits.apply


# --------------------------------------------------------------------------------------------
# Scratch folders
# --------------------------------------------------------------------------------------------
def scratch_base() -> Path:
    """``<tmp>/multilevel-grade-<uid>``: every run's scratch folder lives here."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"multilevel-grade-{uid}"


def remove_tree(path: Path) -> bool:
    """Delete a folder whatever a notebook did to it; never raises. True when it is gone.

    A notebook can make parts of its folders read-only or nest thousands of folders, deeper
    than Python's recursion limit (``shutil.rmtree`` and ``Path.rglob`` are recursive before
    Python 3.12). ``chmod -R`` and ``rm -rf`` walk any depth without following links; where
    they are missing (Windows, where the grader runs only with ``--no-sandbox``) the standard
    library does what it can.
    """
    if not os.path.lexists(path):
        return True
    try:
        if shutil.which("rm") and shutil.which("chmod") and not path.is_symlink():
            for command in (["chmod", "-R", "u+rwX"], ["rm", "-rf"]):
                subprocess.run([*command, "--", str(path)], capture_output=True, timeout=600)
        else:
            shutil.rmtree(path, ignore_errors=True)
    except Exception:  # a failed clean-up must never cost the gradebook
        pass
    return not os.path.lexists(path)


def clean_stale_runs(base: Path) -> int:
    """Remove scratch folders of runs whose grader process is gone; returns how many."""
    removed = 0
    for run in base.glob("run-*") if base.is_dir() else []:
        try:
            pid = int(run.name.split("-")[1])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not process_exists(pid):
            remove_tree(run)
            removed += 1
    return removed


def new_run_dir() -> Path:
    """A fresh scratch folder for this run (stale ones of dead runs are removed first)."""
    base = scratch_base()
    base.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = base.lstat()
    if base.is_symlink() or info.st_uid != os.getuid() or info.st_mode & 0o077:
        # Someone else made it (a shared /tmp): use a private folder of our own instead.
        return Path(tempfile.mkdtemp(prefix=f"multilevel-grade-run-{os.getpid()}-"))
    clean_stale_runs(base)
    return Path(tempfile.mkdtemp(prefix=f"run-{os.getpid()}-", dir=base))
