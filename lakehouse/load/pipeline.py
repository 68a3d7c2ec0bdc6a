"""Run a dlt source into `<lake>/silver` as Delta tables, with no local state.

Each run gets a fresh dlt working folder in a temporary directory and restores its state (incremental cursors,
schemas) from the destination first (`restore_from_destination`), so a Lambda or a Step Functions task can run
it anywhere. The steps run one by one (restore, extract, normalize, load) so the report says where the time went.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lakehouse.aws import AwsConfig, is_s3_uri
from lakehouse.load.quarantine import Quarantine
from lakehouse.load.report import LoadReport
from lakehouse.settings import SILVER

if TYPE_CHECKING:
    from collections.abc import Iterator

    from dlt import Pipeline

FILES_PIPELINE = "landing_files_to_silver"
API_PIPELINE = "shop_api_to_silver"
STEPS = ("restore", "extract", "normalize", "load")

StepCallback = Callable[[str], None]  # called with the name of the step about to run


@dataclass(frozen=True)
class LoadTarget:
    """Where a load writes: the lake root (silver lands under <lake>/silver) and the quarantine root."""

    lake_uri: str
    quarantine_uri: str
    aws: AwsConfig = field(default_factory=AwsConfig.from_env)

    @property
    def silver_uri(self) -> str:
        return f"{self.lake_uri.rstrip('/')}/{SILVER}"


def dlt_aws_credentials(aws: AwsConfig) -> Any:
    """dlt credentials for S3 or the emulator, from boto3's default chain (env vars, the Lambda role)."""
    import boto3
    from dlt.common.configuration.specs import AwsCredentials

    frozen = boto3.session.Session().get_credentials()
    if frozen is None:
        raise RuntimeError("no AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or run with a role")
    keys = frozen.get_frozen_credentials()
    credentials: Any = AwsCredentials()
    credentials.aws_access_key_id = keys.access_key
    credentials.aws_secret_access_key = keys.secret_key
    credentials.aws_session_token = keys.token
    credentials.region_name = aws.region
    credentials.endpoint_url = aws.endpoint_url
    return credentials


def bucket_credentials(uri: str, aws: AwsConfig) -> Any:
    """dlt credentials for an S3 URI; for a local folder, an explicit local fsspec filesystem."""
    if is_s3_uri(uri):
        return dlt_aws_credentials(aws)
    import fsspec

    return fsspec.filesystem("file")


def new_batch_id() -> str:
    return f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{uuid.uuid4().hex[:8]}"


@contextmanager
def stateless_pipeline(name: str, target: LoadTarget) -> Iterator[Pipeline]:
    """A dlt pipeline in a throwaway working folder whose state lives in the destination."""
    import os

    # No anonymous usage pings from Lambda or CI unless someone asks for them.
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    # Extract/normalize files live in the throwaway working folder: gzipping them only costs time (halves extract).
    os.environ.setdefault("DATA_WRITER__DISABLE_COMPRESSION", "true")
    import dlt

    destination = dlt.destinations.filesystem(
        bucket_url=target.lake_uri,
        credentials=dlt_aws_credentials(target.aws) if is_s3_uri(target.lake_uri) else None,
    )
    if not is_s3_uri(target.lake_uri):
        adopt_local_dataset_folder(target.silver_uri)
    with tempfile.TemporaryDirectory(prefix=f"dlt-{name}-") as pipelines_dir:
        yield dlt.pipeline(  # type: ignore[call-overload]
            pipeline_name=name,
            pipelines_dir=pipelines_dir,
            destination=destination,
            dataset_name=SILVER,
            restore_from_destination=True,
        )


def adopt_local_dataset_folder(dataset_path: str) -> None:
    """Let dlt share a local `<lake>/silver` folder that silver apply created first.

    dlt 1.31's filesystem destination creates the dataset folder with `makedirs(exist_ok=False)` unless its `init`
    marker is there, so on a local lake it fails when the folder already holds other writers' tables (object
    stores have no folders, so S3 is unaffected). Writing the marker dlt would write lets it proceed.
    """
    import json
    from pathlib import Path

    from dlt.destinations.impl.filesystem.filesystem import CURRENT_VERSION, INIT_FILE_NAME

    folder = Path(dataset_path)
    marker = folder / INIT_FILE_NAME
    if folder.is_dir() and not marker.exists():
        marker.write_text(json.dumps({"initial_version": CURRENT_VERSION, "current_version": CURRENT_VERSION}))


def run_source(
    pipeline_name: str,
    source: Any,
    target: LoadTarget,
    quarantine: Quarantine | None = None,
    on_step: StepCallback | None = None,
    files: dict[str, int] | None = None,
) -> LoadReport:
    """Restore state, extract, normalize, flush the quarantine, load; report rows, quarantine and step times."""
    report = LoadReport(pipeline=pipeline_name, destination=target.silver_uri)
    with stateless_pipeline(pipeline_name, target) as pipeline:

        def step(name: str, action: Callable[[], Any]) -> Any:
            if on_step:
                on_step(name)
            started = time.perf_counter()
            result = action()
            report.seconds[name] = round(time.perf_counter() - started, 3)
            return result

        step("restore", pipeline.sync_destination)
        step("extract", lambda: pipeline.extract(source))
        normalize_info = step("normalize", pipeline.normalize)
        # Written before the load: a failed load is retried from the same files and may quarantine an item
        # twice, which is harmless, while writing after the load could lose items when the process dies between.
        if quarantine:
            report.quarantined = quarantine.counts()
            report.quarantine_files = quarantine.flush()
        load_info = step("load", pipeline.load)
        load_info.raise_on_failed_jobs()
        report.rows = {
            table: count
            for table, count in normalize_info.row_counts.items()
            if not table.startswith("_dlt") and count > 0
        }
        report.load_ids = list(load_info.loads_ids)
    report.files = dict(files or {})
    return report


def table_exists(target: LoadTarget, table: str) -> bool:
    from deltalake import DeltaTable

    options = target.aws.delta_storage_options() if is_s3_uri(target.lake_uri) else None
    return DeltaTable.is_deltatable(f"{target.silver_uri}/{table}", options)


def create_missing_tables(
    pipeline_name: str,
    tables: Sequence[str],
    empty_source: Callable[[Sequence[str]], Any],
    target: LoadTarget,
    on_step: StepCallback | None = None,
) -> LoadReport | None:
    """Create each of `tables` that silver does not hold yet (nothing was ever loaded into it) as an empty Delta
    table, so readers such as dbt's staging views find every contract table. Runs `empty_source(missing)`
    (lakehouse.sources.empty_tables) through the same pipeline as the loads, so dlt creates the tables and its
    schema and state know them; the next load merges into them as usual. Costs one existence check per table when
    nothing is missing. Returns the creation run's report (None when nothing was missing)."""
    missing = [table for table in tables if not table_exists(target, table)]
    if not missing:
        return None
    if on_step:
        on_step("create empty tables")
    created = run_source(pipeline_name, empty_source(missing), target)
    created.created_empty = missing
    return created


def create_missing_landing_tables(target: LoadTarget, on_step: StepCallback | None = None) -> LoadReport | None:
    """Every landing-file table of the contract that silver lacks, created empty (see `create_missing_tables`)."""
    from lakehouse.sources.landing_files import empty_landing_tables, landing_tables

    return create_missing_tables(FILES_PIPELINE, landing_tables(), empty_landing_tables, target, on_step)


def create_missing_api_tables(target: LoadTarget, on_step: StepCallback | None = None) -> LoadReport | None:
    """Every API table of the contract that silver lacks, created empty (see `create_missing_tables`)."""
    from lakehouse.sources.shop_api import api_entities, empty_api_tables

    return create_missing_tables(API_PIPELINE, api_entities(), empty_api_tables, target, on_step)


def load_files(
    landing_uri: str,
    target: LoadTarget,
    tables: Sequence[str] | None = None,
    on_step: StepCallback | None = None,
    on_file: Callable[[str, str], None] | None = None,
) -> LoadReport:
    """Load new landing files of `tables` (default: every landing-file table) into silver."""
    from lakehouse.sources.landing_files import landing_files

    quarantine = Quarantine(target.quarantine_uri, new_batch_id(), target.aws)
    files: dict[str, int] = {}

    def count_file(table: str, file_url: str) -> None:
        files[table] = files.get(table, 0) + 1
        if on_file:
            on_file(table, file_url)

    source = landing_files(
        landing_uri.rstrip("/"),
        quarantine,
        tables=list(tables) if tables else None,
        credentials=bucket_credentials(landing_uri, target.aws),
        on_file=count_file,
    )
    report = run_source(FILES_PIPELINE, source, target, quarantine, on_step, files)
    # Every landing table, not only those of this run: silver holds every contract table (dbt reads them all).
    report.add_creation(create_missing_landing_tables(target, on_step))
    return report


def load_api(
    api_url: str,
    target: LoadTarget,
    entities: Sequence[str] | None = None,
    on_step: StepCallback | None = None,
    page_size: int = 500,
) -> LoadReport:
    """Pull records updated since the last run from the shop's REST API into silver."""
    from lakehouse.sources.shop_api import shop_api

    source = shop_api(api_url, entities=list(entities) if entities else None, page_size=page_size)
    report = run_source(API_PIPELINE, source, target, on_step=on_step)
    report.add_creation(create_missing_api_tables(target, on_step))
    return report
