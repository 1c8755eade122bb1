"""Flow cases: branches, reassignment, loops, walrus, closures, dict()."""
import mlflow
from flask import Flask, request

app = Flask(__name__)
ALLOWED = {"models:/fraud@champion"}


@app.get("/a")
def joined():
    if request.args.get("beta"):
        uri = request.args["model"]
    else:
        uri = "models:/fraud@champion"
    return mlflow.pyfunc.load_model(uri)  # want: MLG103


@app.get("/b")
def reassigned_after_guard():
    uri = request.args["model"]
    if uri not in ALLOWED:
        return "no", 403
    uri = request.args["other"]
    return mlflow.pyfunc.load_model(uri)  # want: MLG103


@app.get("/c")
def check_without_exit():
    uri = request.args["model"]
    if uri in ALLOWED:
        print("known model")
    return mlflow.pyfunc.load_model(uri)  # want: MLG103


@app.get("/d")
def loop_guard():
    out = []
    for uri in request.args.getlist("m"):
        if uri not in ALLOWED:
            continue
        out.append(mlflow.pyfunc.load_model(uri))
    return out


@app.get("/e")
def walrus():
    if (uri := request.args.get("m")) is not None:
        return mlflow.pyfunc.load_model(uri)  # want: MLG103
    return None


def outer(model_uri):
    def inner(u):
        # a nested helper's parameter is not caller-controlled input
        return mlflow.pyfunc.load_model(u)
    return inner(model_uri)


@app.post("/f")
def dict_call():
    key = request.headers.get("X-Api-Key")
    mlflow.log_params(dict(lr=0.1, api_key=key))  # want: MLG201
    mlflow.log_params(dict(user=request.form["user"]))  # want: MLG203


@app.get("/g")
def elif_chain():
    uri = request.args["m"]
    if uri == "a":
        uri = "models:/a@champion"
    elif uri == "b":
        uri = "models:/b@champion"
    else:
        raise ValueError("unknown")
    return mlflow.pyfunc.load_model(uri)
