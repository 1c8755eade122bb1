import mlflow
from flask import Flask, request
from marshmallow import Schema, fields, validate, validates

app = Flask(__name__)


class RunSchema(Schema):
    stage = fields.Str(validate=validate.OneOf(["Staging", "Production"]))
    tag = fields.Str(validate=validate.Length(max=64))
    slug = fields.Str(validate=validate.Regexp(r"^[a-z-]+$"))
    n = fields.Int()
    checked = fields.Str()
    free = fields.Str()

    @validates("checked")
    def check(self, value, **kwargs):
        pass


schema = RunSchema()


@app.post("/runs")
def runs():
    data = schema.load(request.get_json())
    mlflow.log_param("stage", data["stage"])
    mlflow.log_param("tag", data["tag"])
    mlflow.log_param("slug", data.get("slug"))
    mlflow.log_param("n", data["n"])
    mlflow.log_param("checked", data["checked"])
    mlflow.log_param("free", data["free"])  # want: MLG203
    other = RunSchema().load(request.json)
    mlflow.log_param("free2", other["free"])  # want: MLG203
    mlflow.log_param("stage2", other["stage"])


class LooseSchema(Schema):
    name = fields.Str(validate=validate.Length(min=1))


@app.post("/loose")
def loose():
    data = LooseSchema().load(request.json)
    mlflow.log_param("name", data["name"])  # want: MLG203
