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


def cli_args():
    # the operator's own command line is not untrusted input for tracking data
    import argparse
    import sys
    parser = argparse.ArgumentParser()
    parser.add_argument("--experiment")
    args = parser.parse_args()
    mlflow.set_tag("experiment", args.experiment)
    mlflow.log_param("argv", sys.argv[1])


@app.route("/note", methods=["POST"])
def note():
    import textwrap
    text = request.form["text"]
    if len(text) > 250:
        return "too long", 413
    mlflow.set_tag("note", text)
    mlflow.set_tag("summary", textwrap.shorten(request.form["summary"], 250))
    return "ok"
