# Differential oracle for request reading: each line is
# {"message": "<proto class>", "body": "<base64 body bytes>"}; the answer is
# the message as MLflow's _get_request_message leaves it, or an error.
# Body decoding follows Flask's get_json(force=True, silent=True) (json.loads
# of the raw bytes, None on failure) and _get_normalized_request_json.
import base64
import json
import sys

from google.protobuf.json_format import MessageToDict, ParseError
from mlflow.protos import model_registry_pb2 as mr
from mlflow.protos import service_pb2 as sp
from mlflow.protos import webhooks_pb2 as wh
from mlflow.server.handlers import _reject_conflicting_field_aliases
from mlflow.utils.proto_json_utils import parse_dict

MODULES = [sp, mr, wh]


def cls(name):
    for m in MODULES:
        if hasattr(m, name):
            return getattr(m, name)
    raise KeyError(name)


def read(name, body):
    try:
        js = json.loads(body)
    except Exception:
        js = None
    if isinstance(js, str):
        js = json.loads(js)  # MLflow does not catch this one
    if js is None:
        js = {}
    msg = cls(name)()
    _reject_conflicting_field_aliases(js, msg.DESCRIPTOR)
    try:
        parse_dict(js, msg)
    except ParseError:
        # MLflow goes on with what ParseDict filled in before it failed
        # (proto_parsing_succeeded=False); only the route's schema may stop it.
        return MessageToDict(msg, preserving_proto_field_name=True), True
    return MessageToDict(msg, preserving_proto_field_name=True), False


for line in sys.stdin:
    q = json.loads(line)
    try:
        msg, partial = read(q["message"], base64.b64decode(q["body"]))
        out = {"ok": msg, "partial": partial}
    except Exception as e:  # noqa: BLE001 - any failure is "MLflow does not store this"
        out = {"error": type(e).__name__}
    print(json.dumps(out))
