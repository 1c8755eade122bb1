import re
import mlflow
from flask import Flask, request

app = Flask(__name__)
SAFE = re.compile(r"[a-z0-9_-]{1,64}")


@app.route("/train", methods=["POST"])
def train():
    query = request.form["query"]
    mlflow.log_param("user_query", str(query)[:250])
    tag = request.args.get("tag", "")
    if not SAFE.fullmatch(tag):
        return "bad tag", 400
    mlflow.set_tag("tag", tag)
    return "ok"


def helper(value):
    # ordinary parameters are not user input for MLG203
    mlflow.log_param("value", value)
