# A command-line tool of the package: what it downloads is the registry's
# record returned by local_utils.get_version, not the name it was given.
import sys

import mlflow

from . import local_utils
from . import local_utils as lu

client = mlflow.MlflowClient()


def check():
    vr = local_utils.get_version(client, sys.argv[1], sys.argv[2])
    return mlflow.artifacts.download_artifacts(artifact_uri=vr.source, dst_path="/tmp/check")


def check_aliased():
    return mlflow.pyfunc.load_model(lu.get_version(client, sys.argv[1], sys.argv[2]).source)


def not_a_lookup():
    return mlflow.pyfunc.load_model(local_utils.get_uri(client, sys.argv[3]))  # want: MLG103


def may_return_none():
    return mlflow.pyfunc.load_model(local_utils.maybe_version(client, sys.argv[1], sys.argv[2]).source)  # want: MLG103


def client_not_named():
    return mlflow.pyfunc.load_model(local_utils.source_of(sys.argv[1], sys.argv[2]).source)  # want: MLG103


def no_such_helper():
    return mlflow.pyfunc.load_model(local_utils.missing(client, sys.argv[1]).source)  # want: MLG103


if __name__ == "__main__":
    check()
    check_aliased()
    not_a_lookup()
    may_return_none()
    client_not_named()
    no_such_helper()
