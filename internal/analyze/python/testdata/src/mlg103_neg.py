import re
import mlflow
import mlflow.pyfunc

ALLOWED = {"models:/fraud@champion", "models:/churn/7"}
URI_RE = re.compile(r"models:/[a-z0-9_-]+@[a-z]+")


def allowlisted(model_uri):
    if model_uri not in ALLOWED:
        raise ValueError("model not allowed")
    return mlflow.pyfunc.load_model(model_uri)


def in_branch(model_uri):
    if model_uri in ALLOWED:
        return mlflow.pyfunc.load_model(model_uri)
    return None


def regex_checked(model_uri):
    if not URI_RE.fullmatch(model_uri):
        raise ValueError("bad uri")
    return mlflow.pyfunc.load_model(model_uri)


def validated(model_uri):
    validate_model_uri(model_uri)
    return mlflow.pyfunc.load_model(model_uri)


def validate_model_uri(uri):
    if not uri.startswith(("models:/", "runs:/")):
        raise ValueError(uri)


def by_name(name):
    # the scheme is fixed by the code
    return mlflow.pyfunc.load_model(f"models:/{name}@champion")


def _private_helper(uri):
    return mlflow.pyfunc.load_model(uri)


def pinned():
    return mlflow.pyfunc.load_model("models:/fraud/3")
