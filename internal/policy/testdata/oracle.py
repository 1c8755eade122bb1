# Differential oracle: MLflow's own validators judge every input the Go
# tests generate. One JSON object per line in, one per line out:
# {"kind": "path"|"source"|"location", "value": "..."} -> {"rejected": bool}
import json
import sys
import urllib.parse

from mlflow.server.handlers import (
    _validate_non_local_source_contains_relative_paths,
    _validate_storage_location_uri,
)
from mlflow.utils.uri import is_local_uri, validate_path_is_safe


def rejected(kind, value):
    try:
        if kind == "path":
            validate_path_is_safe(value)
        elif kind == "location":
            _validate_storage_location_uri(value, "artifact_location")
        elif kind == "source":
            # _validate_source_run without a run: a local source is refused
            # unless it lies in the given run's directory (we have none).
            if is_local_uri(value):
                return True
            _validate_non_local_source_contains_relative_paths(value)
            p = urllib.parse.urlparse(value)
            if p.scheme in ("runs", "models") and p.netloc:
                return True
        else:
            raise ValueError(kind)
    except ValueError:
        raise
    except Exception:
        return True
    return False


for line in sys.stdin:
    q = json.loads(line)
    print(json.dumps({"rejected": rejected(q["kind"], q["value"])}), flush=False)
