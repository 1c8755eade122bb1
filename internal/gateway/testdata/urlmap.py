"""Print every route the pinned MLflow server serves, one "METHOD RULE" a
line: the Flask URL map and the FastAPI routers mounted in front of it,
with FastAPI's {x} and {x:path} written the Flask way."""
import re
import warnings

warnings.simplefilter("ignore")

from mlflow.server import app as flask_app
from mlflow.server.fastapi_app import create_fastapi_app

seen = set()


def emit(methods, rule):
    for m in methods:
        if m in ("HEAD", "OPTIONS"):
            continue
        seen.add(f"{m} {rule}")


for r in flask_app.url_map.iter_rules():
    emit(r.methods, r.rule)


def flaskify(path):
    path = re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*):path\}", r"<path:\1>", path)
    return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", r"<\1>", path)


def walk(routes, prefix=""):
    for r in routes:
        if type(r).__name__ == "_IncludedRouter":
            ctx = r.include_context
            p = ctx.get("prefix", "") if isinstance(ctx, dict) else getattr(ctx, "prefix", "")
            walk(r.original_router.routes, prefix + (p or ""))
        elif getattr(r, "methods", None):
            emit(r.methods, flaskify(prefix + r.path))


walk(create_fastapi_app(flask_app).routes)
for line in sorted(seen):
    print(line)
