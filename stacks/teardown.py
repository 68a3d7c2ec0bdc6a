"""Empty a non-production profile's buckets so that `cdk destroy` can delete them (`make destroy` runs this first).

Production keeps its data: its buckets are retained by the stacks, and this refuses to touch them."""

from __future__ import annotations

import argparse

from stacks.profiles import PROFILES


def empty_buckets(profile_name: str) -> list[str]:
    """Delete every object version and delete marker in `lakehouse-<profile>-*-<account>-<region>` buckets."""
    import boto3  # only needed when tearing down

    profile = PROFILES[profile_name]
    if profile.retain_data:
        print(f"profile {profile_name} retains its buckets and table: nothing emptied")
        return []
    session = boto3.session.Session()
    account = session.client("sts").get_caller_identity()["Account"]
    s3 = session.resource("s3")
    emptied = []
    for bucket in s3.buckets.all():
        if bucket.name.startswith(f"lakehouse-{profile_name}-") and bucket.name.endswith(
            f"-{account}-{session.region_name}"
        ):
            bucket.object_versions.delete()
            emptied.append(bucket.name)
    return emptied


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", required=True, choices=sorted(PROFILES), help="deployment profile to empty")
    for name in empty_buckets(parser.parse_args().profile):
        print(f"emptied s3://{name}")


if __name__ == "__main__":
    main()
