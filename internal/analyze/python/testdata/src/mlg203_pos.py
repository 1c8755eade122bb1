import sys
import mlflow
from flask import Flask, request

app = Flask(__name__)


@app.route("/train", methods=["POST"])
def train():
    query = request.form["query"]
    mlflow.log_param("user_query", query)  # want: MLG203
    mlflow.set_tag("note", f"asked: {request.args.get('note')}")  # want: MLG203
    return "ok"


def django_view(request):
    mlflow.log_params({"q": request.GET.get("q"), "n": 3})  # want: MLG203


def from_input():
    name = input("run name? ")
    mlflow.set_tag("owner", name)  # want: MLG203


