"""Oracle for QuoteFilterValue: parses search filters with MLflow's own
model-version search grammar. argv[1]: JSON list of filter strings; prints a
JSON list with, per filter, {"value": parsed name} or {"error": message}."""
import json
import sys
import warnings

warnings.filterwarnings("ignore")
from mlflow.utils.search_utils import SearchModelVersionUtils

out = []
for f in json.load(open(sys.argv[1], encoding="utf-8")):
    try:
        parsed = SearchModelVersionUtils.parse_search_filter(f)
        if len(parsed) != 1 or parsed[0]["key"] != "name" or parsed[0]["comparator"] != "=":
            out.append({"error": "parsed as %r" % (parsed,)})
        else:
            out.append({"value": parsed[0]["value"]})
    except Exception as e:  # the grammar's rejection is the answer
        out.append({"error": str(e)[:200]})
json.dump(out, sys.stdout, ensure_ascii=False)
