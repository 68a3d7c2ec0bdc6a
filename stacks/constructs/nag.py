"""cdk-nag acknowledgements: one rule, or one finding (`Rule[finding]`), on one construct, always with a reason."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


def acknowledge_wildcard_resource(scope: IConstruct, resource: str, reason: str) -> None:
    """Acknowledge exactly one `AwsSolutions-IAM5[Resource::...]` finding: the one for `resource` (an ARN that
    ends in a wildcard), so that any other wildcard granted to `scope` later is still reported."""
    rendered = _render(cdk.Stack.of(scope).resolve(resource))
    acknowledge(scope, f"AwsSolutions-IAM5[Resource::{rendered}]", reason)


def _render(node: Any) -> str:
    """cdk-nag's spelling of a resolved CloudFormation value: `<AWS::Region>`, `<Logical.Arn>`, joins inlined."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and len(node) == 1:
        ((function, argument),) = node.items()
        if function == "Ref":
            return f"<{argument}>"
        if function == "Fn::GetAtt":
            return f"<{'.'.join(argument)}>"
        if function == "Fn::Join":
            separator, parts = argument
            return str(separator).join(_render(part) for part in parts)
    raise ValueError(f"cannot spell {node!r} the way cdk-nag does; acknowledge this finding by its literal id")
