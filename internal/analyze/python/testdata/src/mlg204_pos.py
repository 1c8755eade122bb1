import os
from pathlib import Path
import mlflow
from flask import request


def upload_secrets():
    mlflow.log_artifact(".env")  # want: MLG204
    mlflow.log_artifacts(os.path.expanduser("~/.aws"))  # want: MLG204
    mlflow.log_artifact("/home/deploy/.ssh/id_rsa")  # want: MLG204
    mlflow.log_artifact("certs/server.pem")  # want: MLG204
    mlflow.log_artifacts(str(Path.home()))  # want: MLG204
    mlflow.log_artifacts("/")  # want: MLG204
    mlflow.log_artifacts("/etc")  # want: MLG204
    mlflow.log_artifact(os.path.join(os.path.expanduser("~"), ".kube", "config"))  # want: MLG204


def upload_user_dir():
    folder = request.args["folder"]
    mlflow.log_artifacts(folder)  # want: MLG204


def upload_working_directory():
    mlflow.log_artifacts(".")  # want: MLG204
    mlflow.log_artifacts("./")  # want: MLG204
    mlflow.log_artifacts(os.getcwd())  # want: MLG204
    mlflow.log_artifacts(Path.cwd())  # want: MLG204
    mlflow.log_artifact(".")  # want: MLG204
    mlflow.log_artifact(os.path.join(os.getcwd(), ".env"))  # want: MLG204
    client = mlflow.MlflowClient()
    client.log_artifacts("run-1", os.getcwd())  # want: MLG204
