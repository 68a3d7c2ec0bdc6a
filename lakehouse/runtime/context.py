"""A Lambda context object for in-process invocations (the attributes Powertools and handlers read)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from lakehouse.aws import DEFAULT_REGION

LOCAL_ACCOUNT = "123456789012"


@dataclass
class LocalLambdaContext:
    function_name: str
    region: str = DEFAULT_REGION
    memory_limit_in_mb: int = 1024
    timeout_s: float = 300.0
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{LOCAL_ACCOUNT}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[{self.function_version}]{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self._started)) * 1000))
