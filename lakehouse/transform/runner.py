"""Run the dbt project (dbt/) in-process with its profile, paths and environment set.

`DbtProject` holds where silver lives (local folder or s3://), where the DuckDB marts file goes and which target
to use; `invoke(...)` runs any dbt command and returns a `DbtRun` summary. The CLI, the demo stage, the benchmark
and the tests all go through here, so the environment dbt sees is built in one place.
"""

from __future__ import annotations

import gc
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from lakehouse.aws import AwsConfig, is_s3_uri
from lakehouse.envvars import temporary_environment
from lakehouse.settings import LAKE_URI_ENV

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt"
TARGETS = ("duckdb", "athena")
# Environment variables read by dbt/profiles.yml.
TARGET_ENV = "LAKEHOUSE_DBT_TARGET"
DUCKDB_PATH_ENV = "LAKEHOUSE_DUCKDB_PATH"
EXTENSION_DIR_ENV = "LAKEHOUSE_DUCKDB_EXTENSION_DIR"
S3_ENDPOINT_ENV = "LAKEHOUSE_DUCKDB_S3_ENDPOINT"
S3_URL_STYLE_ENV = "LAKEHOUSE_DUCKDB_S3_URL_STYLE"
S3_USE_SSL_ENV = "LAKEHOUSE_DUCKDB_S3_USE_SSL"
SILVER_DATABASE_ENV = "LAKEHOUSE_SILVER_DATABASE"
ATHENA_DATABASE_ENV = "LAKEHOUSE_ATHENA_DATABASE"
ATHENA_WORKGROUP_ENV = "LAKEHOUSE_ATHENA_WORKGROUP"
ATHENA_STAGING_DIR_ENV = "LAKEHOUSE_ATHENA_STAGING_DIR"
ATHENA_DATA_DIR_ENV = "LAKEHOUSE_ATHENA_DATA_DIR"
MARTS_SCHEMA = "marts"  # the duckdb target's schema (profiles.yml)


def duckdb_extension_dir() -> str:
    """Where the pip packages duckdb-ext-delta / duckdb-ext-httpfs put their extensions (no download needed)."""
    import duckdb_ext  # a namespace package installed by duckdb-ext-*

    return str(Path(next(iter(duckdb_ext.__path__))) / "extensions")


def duckdb_s3_env(aws: AwsConfig) -> dict[str, str]:
    """Settings for DuckDB's S3 secret (profiles.yml) from the AWS endpoint: the emulator or real AWS."""
    if not aws.endpoint_url:
        return {}
    endpoint = urlparse(aws.endpoint_url)
    return {
        S3_ENDPOINT_ENV: endpoint.netloc,
        S3_URL_STYLE_ENV: "path",
        S3_USE_SSL_ENV: "true" if endpoint.scheme == "https" else "false",
    }


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    name: str
    resource_type: str  # model | test | snapshot | unit_test | seed ...
    status: str  # success | error | pass | fail | warn | skipped ...
    seconds: float
    failures: int | None
    message: str | None

    @property
    def ok(self) -> bool:
        return self.status in ("success", "pass", "warn")


@dataclass(frozen=True)
class DbtRun:
    command: tuple[str, ...]
    success: bool
    seconds: float
    nodes: list[NodeResult] = field(default_factory=list)
    error: str | None = None

    def counts(self) -> Counter[tuple[str, str]]:
        """(resource type, status) -> number of nodes."""
        return Counter((n.resource_type, n.status) for n in self.nodes)

    @property
    def failed(self) -> list[NodeResult]:
        return [n for n in self.nodes if not n.ok]

    def summary(self) -> str:
        by_type: dict[str, Counter[str]] = {}
        for (resource_type, status), count in sorted(self.counts().items()):
            by_type.setdefault(resource_type, Counter())[status] += count
        parts = [
            f"{resource_type}s: " + ", ".join(f"{count} {status}" for status, count in statuses.items())
            for resource_type, statuses in by_type.items()
        ]
        return f"dbt {' '.join(self.command)}: {'OK' if self.success else 'FAILED'} in {self.seconds:.1f}s; " + (
            "; ".join(parts) or (self.error or "no nodes")
        )


@dataclass(frozen=True)
class DbtProject:
    """One dbt environment: silver location, DuckDB file, target and the folder for dbt's target/ and logs/."""

    lake_uri: str
    duckdb_path: Path
    target: str = "duckdb"
    work_dir: Path | None = None  # default: dbt/target and dbt/logs inside the project
    project_dir: Path = DBT_PROJECT_DIR
    aws: AwsConfig = field(default_factory=AwsConfig.from_env)

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise ValueError(f"unknown dbt target {self.target!r}; use one of {', '.join(TARGETS)}")

    @property
    def target_path(self) -> Path:
        # absolute: dbt resolves a relative --target-path against the project folder, not the working directory
        return ((self.work_dir / "target") if self.work_dir else self.project_dir / "target").resolve()

    @property
    def log_path(self) -> Path:
        return ((self.work_dir / "logs") if self.work_dir else self.project_dir / "logs").resolve()

    def env(self) -> dict[str, str]:
        lake = self.lake_uri if is_s3_uri(self.lake_uri) else str(Path(self.lake_uri).resolve())
        env = {
            LAKE_URI_ENV: lake,
            TARGET_ENV: self.target,
            DUCKDB_PATH_ENV: str(self.duckdb_path.resolve()),
            EXTENSION_DIR_ENV: duckdb_extension_dir(),
            "DBT_PROFILES_DIR": str(self.project_dir),
            "DBT_PROJECT_DIR": str(self.project_dir),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            # The file log (logs/dbt.log) at info: each node's start, end and timing, warnings and errors. dbt's
            # default, debug, adds every SQL statement (~3,600 lines per build); formatting them cost ~0.2 s of a
            # 9.5 s incremental build at scale 4. DBT_LOG_LEVEL_FILE=debug brings them back.
            "DBT_LOG_LEVEL_FILE": os.environ.get("DBT_LOG_LEVEL_FILE", "info"),
            "AWS_REGION": self.aws.region,
        }
        if is_s3_uri(self.lake_uri) or self.target == "athena":
            env.update(duckdb_s3_env(self.aws))
        return env

    def invoke(self, *args: str, callbacks: Sequence[Callable[[Any], None]] = ()) -> DbtRun:
        """Run `dbt <args>` in-process (e.g. invoke("build", "--select", "fct_orders+")); callbacks get dbt's
        structured events (for progress bars)."""
        from dbt.cli.main import dbtRunner

        self.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        command = tuple(args)
        cli_args = [
            *command,
            "--project-dir",
            str(self.project_dir),
            "--profiles-dir",
            str(self.project_dir),
            "--target-path",
            str(self.target_path),
            "--log-path",
            str(self.log_path),
            "--target",
            self.target,
        ]
        started = time.perf_counter()
        with temporary_environment(self.env()), _fewer_collections():
            try:
                outcome = dbtRunner(callbacks=list(callbacks)).invoke(cli_args)
            finally:
                _release_duckdb()
        seconds = time.perf_counter() - started
        return DbtRun(
            command=command,
            success=bool(outcome.success),
            seconds=seconds,
            nodes=_node_results(outcome.result),
            error=str(outcome.exception) if outcome.exception else None,
        )

    def connect(self, read_only: bool = True) -> Any:
        """A DuckDB connection to the marts file that can also read silver (staging views call delta_scan)."""
        import duckdb

        con = duckdb.connect(
            str(self.duckdb_path),
            read_only=read_only,
            config={"extension_directory": duckdb_extension_dir(), "autoinstall_known_extensions": False},
        )
        con.execute("SET TimeZone = 'UTC'")
        if is_s3_uri(self.lake_uri):
            settings = duckdb_s3_env(self.aws)
            options = [
                "TYPE s3",
                f"REGION '{self.aws.region}'",
                f"KEY_ID '{os.environ.get('AWS_ACCESS_KEY_ID', '')}'",
                f"SECRET '{os.environ.get('AWS_SECRET_ACCESS_KEY', '')}'",
            ]
            if settings:
                options += [
                    f"ENDPOINT '{settings[S3_ENDPOINT_ENV]}'",
                    f"URL_STYLE '{settings[S3_URL_STYLE_ENV]}'",
                    f"USE_SSL {settings[S3_USE_SSL_ENV]}",
                ]
            con.execute(f"CREATE SECRET lake_s3 ({', '.join(options)})")
        con.execute(f"SET search_path = '{MARTS_SCHEMA},main'")
        return con


def _node_results(result: Any) -> list[NodeResult]:
    nodes = []
    for item in getattr(result, "results", None) or []:
        node = getattr(item, "node", None)
        if node is None:
            continue
        nodes.append(
            NodeResult(
                unique_id=node.unique_id,
                name=node.name,
                resource_type=str(node.resource_type),
                status=str(item.status),
                seconds=float(getattr(item, "execution_time", 0.0) or 0.0),
                failures=getattr(item, "failures", None),
                message=getattr(item, "message", None),
            )
        )
    return nodes


@contextmanager
def _fewer_collections(first_generation_threshold: int = 20_000) -> Iterator[None]:
    """Python's cyclic garbage collector runs less often while dbt runs. dbt allocates many short-lived objects over
    a large heap (the manifest): with the default threshold (700 allocations) an incremental build at scale 1 ran
    ~460 collections, 0.4 s of its 6 s; with 20,000 about a dozen, 0.1 s. Memory is freed all the same: reference
    counting frees acyclic garbage at once, and cycles are collected a little later."""
    previous = gc.get_threshold()
    gc.set_threshold(first_generation_threshold, *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def _release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open per process, so the marts file can be opened again (with
    another configuration, or read-only) after the run. dbt-duckdb holds it in a class attribute."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover - dbt-duckdb is a pinned dependency
        return
    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()
        DuckDBConnectionManager._ENV = None


@contextmanager
def progress_bar(description: str, console: Any = None) -> Iterator[Callable[[Any], None]]:
    """A rich progress bar fed by dbt's structured events: yields the callback to pass to `invoke`."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("[dim]{task.fields[node]}"),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=None, node="parsing")

        def on_event(event: Any) -> None:
            total = getattr(event.data, "total", 0)
            if total and progress.tasks[0].total != total:
                progress.update(task, total=total)  # log lines of running nodes carry "index of total"
            if event.info.name == "NodeFinished":
                progress.update(task, advance=1, node=event.data.node_info.node_name)

        yield on_event
