"""Differential oracle: yaml.safe_load (what MLflow's Model.load uses) on
each MLmodel variant read as JSON lines {"id", "doc"} from stdin; prints one
JSON line per variant with the flavor fields MLflow acts on."""
import datetime
import json
import sys

import yaml

FIELDS = ("loader_module", "python_model", "code", "code_paths", "model_code_path",
          "data", "serialization_format", "pickled_model")


def typed(v):
    if v is None:
        return ["NoneType", None]
    if isinstance(v, bool):
        return ["bool", None]
    if isinstance(v, str):
        return ["str", v]
    if isinstance(v, list):
        return ["list", [typed(x) for x in v]]
    if isinstance(v, (datetime.date, datetime.datetime)):
        return ["datetime", None]
    return [type(v).__name__, None]


def name(k):
    return k if isinstance(k, str) else "<%s>" % typed(k)[0]


def view(doc):
    d = yaml.safe_load(doc)
    if not isinstance(d, dict):
        return {"root": typed(d)[0]}
    fl = d.get("flavors")
    if not isinstance(fl, dict):
        return {"flavors_type": typed(fl)[0]}
    out = []
    for k, conf in fl.items():
        if not isinstance(conf, dict):
            out.append([name(k), typed(conf)[0]])
            continue
        out.append([name(k), {f: typed(conf[f]) for f in FIELDS if f in conf}])
    return {"flavors": out}


for line in sys.stdin:
    req = json.loads(line)
    try:
        res = view(req["doc"])
    except RecursionError:
        res = {"error": "RecursionError"}
    except Exception as e:  # every loader error means MLflow cannot load it
        res = {"error": type(e).__name__}
    res["id"] = req["id"]
    print(json.dumps(res, sort_keys=True))
