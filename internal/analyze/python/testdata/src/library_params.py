# Parameters of an ordinary library function are the caller's to choose
# (an export tool handing through the URI and output directory its operator
# picked): not untrusted input by themselves.
import sys

import mlflow
from mlflow.artifacts import download_artifacts


def download(download_uri, dst_path=None):
    return download_artifacts(artifact_uri=download_uri, dst_path=dst_path)


def export_model(model_uri, output_dir):
    return mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=output_dir)


def predict(model_uri, data):
    model = mlflow.pyfunc.load_model(model_uri)  # want: MLG103
    return model.predict(data)


def main_fixed():
    # the file's own callers pass fixed values: still nothing untrusted
    export_model("models:/churn@champion", "out")
    predict(f"runs:/{'abc'}/model", [[1]])


def main_cli():
    # ... but the command line reaching predict through this call is
    predict(sys.argv[1], [[1]])  # the finding is at the sink inside predict


def chain(uri):
    return predict(uri, [[1]])


if __name__ == "__main__":
    chain(sys.argv[2])


import click


@click.command()
@click.option("--output-dir")
@click.option("--run-id")
def export_cli(output_dir, run_id):
    # the operator's own output directory is where an export tool writes: not MLG301
    download(f"runs:/{run_id}/model", dst_path=output_dir)
    export_model(f"runs:/{run_id}/model", output_dir)


def onnx_predict(model_uri, data):
    return mlflow.onnx.load_model(model_uri)  # want: MLG103


def sklearn_predict(model_uri, data):
    return mlflow.sklearn.load_model(model_uri)  # want: MLG103


predict_methods = {"onnx": onnx_predict, "sklearn": sklearn_predict}


@click.command()
@click.option("--model-uri")
@click.option("--flavor")
def predict_cli(model_uri, flavor):
    # a dispatch table of the file's own functions is followed too
    method = predict_methods.get(flavor, None)
    if not method:
        print("unknown flavor")
    else:
        method(model_uri, None)
