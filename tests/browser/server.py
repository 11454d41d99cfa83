"""A throw-away JupyterLab server for the browser test.

The server listens on 127.0.0.1 on a free port, requires a random token and uses fresh config,
runtime, data, settings and workspaces directories, so neither the student's own Jupyter setup nor
an earlier run can change what the test sees. The lab extensions for widgets are found through the
environment's ``share/jupyter`` (``sys.prefix``), which stays on the data path.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

#: User settings written before start. Without them JupyterLab asks whether to fetch news (a popup
#: that can cover the notebook), and autosave would write to the notebook copy while the test runs.
USER_SETTINGS: dict[str, dict[str, object]] = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
}


@dataclass(frozen=True)
class LabServer:
    """A running JupyterLab server started by :func:`start_lab`.

    Attributes
    ----------
    base_url : str
        ``http://127.0.0.1:<port>/`` (with the trailing slash).
    token : str
        The token every request must carry.
    root_dir : Path
        The directory the server serves; notebooks are opened relative to it.
    log_path : Path
        The server's combined stdout and stderr.
    process : subprocess.Popen
        The server process.
    """

    base_url: str
    token: str
    root_dir: Path
    log_path: Path
    process: subprocess.Popen

    def lab_url(self, notebook: str) -> str:
        """The address that opens ``notebook`` (relative to ``root_dir``) in a fresh layout.

        Examples
        --------
        >>> server.lab_url("lesson.ipynb")  # doctest: +SKIP
        'http://127.0.0.1:40123/lab/tree/lesson.ipynb?reset&token=...'
        """
        return f"{self.base_url}lab/tree/{notebook}?reset&token={self.token}"

    def log_text(self) -> str:
        """The server log so far (empty if unreadable)."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago.

    Examples
    --------
    >>> 1024 < free_port() < 65536
    True
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_logged(
    command: list[str], *, cwd: Path, env: dict[str, str], log_path: Path
) -> subprocess.Popen:
    """Start a server in a process group of its own (see :func:`stop_group`), its output to
    ``log_path``.

    Examples
    --------
    >>> process = start_logged(["jupyter", "lab"], cwd=root, env=env, log_path=log)  # doctest: +SKIP
    """
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def answers(url: str) -> bool:
    """Whether a GET of ``url`` answers 200 within 2 s (False while the server starts).

    Examples
    --------
    >>> answers("http://127.0.0.1:1/")
    False
    """
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def stop_group(process: subprocess.Popen, *, timeout: float = 15.0) -> None:
    """End a process started by :func:`start_logged`: SIGTERM, wait, then SIGKILL, and then its
    whole process group, so a child (a kernel) that outlived it ends too.

    Examples
    --------
    >>> stop_group(process)  # doctest: +SKIP
    """
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _write_user_settings(settings_dir: Path) -> None:
    for plugin, values in USER_SETTINGS.items():
        path = settings_dir / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def lab_environment(home: Path) -> dict[str, str]:
    """Environment for the server: the current one with the user-level Jupyter directories moved
    into ``home``.

    Only user-level locations are replaced; ``JUPYTER_PATH`` and the environment's own
    ``share/jupyter`` (where the widgets lab extension lives) are left alone.
    """
    env = dict(os.environ)
    for name, sub in (
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("JUPYTER_DATA_DIR", "data"),
        ("IPYTHONDIR", "ipython"),
    ):
        path = home / sub
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    # A student's stray setting must not switch the kernel's plotting backend.
    env.pop("MPLBACKEND", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_lab(root_dir: Path, home: Path, *, timeout: float = 60.0) -> LabServer:
    """Start JupyterLab serving ``root_dir``, with its private directories under ``home``.

    Parameters
    ----------
    root_dir : Path
        Directory the server serves (put copies of notebooks here, never the committed files).
    home : Path
        Empty directory for the server's config, runtime, data, settings, workspaces and log.
    timeout : float
        Seconds to wait for the server to answer before giving up.

    Returns
    -------
    LabServer

    Raises
    ------
    RuntimeError
        If the server exits or does not answer within ``timeout`` seconds; the message holds the
        end of its log.

    Examples
    --------
    >>> server = start_lab(tmp_path / "root", tmp_path / "home")  # doctest: +SKIP
    >>> stop_lab(server)  # doctest: +SKIP
    """
    env = lab_environment(home)
    settings_dir = home / "settings"
    workspaces_dir = home / "workspaces"
    _write_user_settings(settings_dir)
    workspaces_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root_dir}",
        f"--LabApp.user_settings_dir={settings_dir}",
        f"--LabApp.workspaces_dir={workspaces_dir}",
        "--LabApp.news_url=None",
        "--ServerApp.terminals_enabled=False",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log_path = home / "jupyterlab.log"
    process = start_logged(command, cwd=root_dir, env=env, log_path=log_path)
    server = LabServer(
        base_url=f"http://127.0.0.1:{port}/",
        token=token,
        root_dir=Path(root_dir),
        log_path=log_path,
        process=process,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"JupyterLab exited with code {process.returncode} before answering; "
                f"end of its log:\n{server.log_text()[-3000:]}"
            )
        if answers(f"{server.base_url}api/status?token={token}"):
            return server
        time.sleep(0.2)
    stop_lab(server)
    raise RuntimeError(
        f"JupyterLab did not answer within {timeout:.0f} s; end of its log:\n{server.log_text()[-3000:]}"
    )


def stop_lab(server: LabServer, *, timeout: float = 15.0) -> None:
    """Stop the server cleanly: SIGTERM (JupyterLab shuts its kernels down), wait, then SIGKILL.

    The server runs in its own process group, so a kernel left behind is ended with it.

    Examples
    --------
    >>> stop_lab(server)  # doctest: +SKIP
    """
    stop_group(server.process, timeout=timeout)


def copy_notebook(source: Path, root_dir: Path) -> Path:
    """Copy ``source`` into ``root_dir`` so the test never touches the committed file.

    Examples
    --------
    >>> copy_notebook(Path("course/02_x.ipynb"), tmp_path)  # doctest: +SKIP
    PosixPath('.../02_x.ipynb')
    """
    root_dir.mkdir(parents=True, exist_ok=True)
    target = root_dir / source.name
    shutil.copyfile(source, target)
    return target
