import os
from enum import Enum
from typing import Annotated, Literal, Optional

import mlflow
from fastapi import FastAPI, Query
from flask import Flask, request
from pydantic import BaseModel, Field, StringConstraints, constr, field_validator, validator
from werkzeug.utils import secure_filename

app = FastAPI()
flask_app = Flask(__name__)
UPLOAD_DIR = "/srv/uploads"


class Stage(str, Enum):
    staging = "Staging"
    prod = "Production"


class Req(BaseModel):
    kind: Literal["a", "b"]
    stage: Stage
    maybe_stage: Optional[Stage] = None
    count: int
    tag: constr(max_length=64, pattern=r"^[a-z]+$")
    short: constr(max_length=64)
    note: str = Field(..., max_length=100)
    slug: str = Field(..., pattern=r"^[a-z0-9-]+$")
    code: Annotated[str, StringConstraints(max_length=10)]
    checked: str
    old_style: str
    free: str
    run_dir: str

    @field_validator("checked")
    @classmethod
    def check(cls, v):
        if not v.isalnum():
            raise ValueError("bad")
        return v

    @validator("old_style")
    def check_old(cls, v):
        return v


class Extended(Req):
    extra: str


@app.post("/log")
def log(req: Req):
    mlflow.log_param("kind", req.kind)
    mlflow.log_param("stage", req.stage)
    mlflow.log_param("maybe_stage", req.maybe_stage)
    mlflow.log_param("count", req.count)
    mlflow.log_param("tag", req.tag)
    mlflow.log_param("short", req.short)
    mlflow.log_param("note", req.note)
    mlflow.log_param("slug", req.slug)
    mlflow.log_param("code", req.code)
    mlflow.log_param("checked", req.checked)
    mlflow.log_param("old_style", req.old_style)
    mlflow.log_param("free", req.free)  # want: MLG203
    # a length bound is no path check; a pattern is
    mlflow.log_artifact("report.html", artifact_path=req.note)  # want: MLG301
    mlflow.log_artifact("report.html", artifact_path=req.slug)
    mlflow.log_artifacts(req.run_dir)  # want: MLG204


@app.post("/log2")
def log_extended(req: Extended):
    mlflow.set_tag("kind", req.kind)
    mlflow.set_tag("extra", req.extra)  # want: MLG203


@app.get("/query")
def query(name: Literal["x", "y"], label: str = Query(..., max_length=40), other: str = Query(None)):
    mlflow.log_param("name", name)
    mlflow.log_param("label", label)
    mlflow.log_param("other", other)  # want: MLG203


@flask_app.post("/upload")
def upload():
    f = request.files["file"]
    path = os.path.join(UPLOAD_DIR, secure_filename(f.filename))
    f.save(path)
    mlflow.log_artifact(path, artifact_path=secure_filename(request.form["dir"]))
    raw = os.path.join(UPLOAD_DIR, f.filename)
    mlflow.log_artifact(raw, artifact_path=request.form["dir"])  # want: MLG204 MLG301
