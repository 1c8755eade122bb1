import os
import sys
import argparse
import mlflow
import mlflow.pyfunc as mp
from mlflow.sklearn import load_model as load_sk
from mlflow.artifacts import download_artifacts
from fastapi import FastAPI
from flask import request

app = FastAPI()


@app.get("/models/{uri}")
async def serve(uri: str):
    return mp.load_model(uri)  # want: MLG103


def from_env():
    return load_sk(os.environ["MODEL_URI"])  # want: MLG103


def from_cli():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model")
    args = parser.parse_args()
    return mlflow.pyfunc.load_model(args.model)  # want: MLG103


def from_flask():
    uri = request.args.get("model")
    local = download_artifacts(artifact_uri=uri)  # want: MLG103
    return local


def spark(spark_session, model_uri):
    return mlflow.pyfunc.spark_udf(spark_session, model_uri)  # want: MLG103


def weak_check(model_uri):
    if model_uri is None:
        raise ValueError("missing")
    return mlflow.pyfunc.load_model(model_uri)  # want: MLG103


model = mlflow.pyfunc.load_model(sys.argv[1])  # want: MLG103


@app.get("/len")
async def length_is_not_validation(uri: str):
    if len(uri) > 200:
        raise ValueError("too long")
    return mlflow.pyfunc.load_model(uri)  # want: MLG103


def cli():
    args = argparse.ArgumentParser().parse_args()
    spark(None, args.model_uri)
    weak_check(model_uri=args.model_uri)
