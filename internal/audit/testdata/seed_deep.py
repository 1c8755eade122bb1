"""Registers two model versions with the real MLflow client for the deep
audit test: a models-from-code pyfunc (MLG108, no MLG109 for its recorded
save-time model_code_path) and a pyfunc that ships a .env and a
credentials.json with fake credentials in its artifacts (MLG204)."""
import json
import os
import sys
import tempfile

import mlflow

uri = sys.argv[1]
mlflow.set_tracking_uri(uri)
mlflow.set_experiment("deep-audit")
work = tempfile.mkdtemp()
# Given, so the client does not start a subprocess to infer them.
REQS = ["mlflow==" + mlflow.__version__]

code = os.path.join(work, "fc_model.py")
with open(code, "w") as f:
    f.write(
        "import mlflow\n"
        "class Echo(mlflow.pyfunc.PythonModel):\n"
        "    def predict(self, context, model_input, params=None):\n"
        "        return model_input\n"
        "mlflow.models.set_model(Echo())\n"
    )

# Fake credentials in realistic shapes (not the documentation examples,
# which the detectors leave alone on purpose).
env_file = os.path.join(work, ".env")
with open(env_file, "w") as f:
    f.write("AWS_ACCESS_KEY_ID=AKIA4QZR7TXMB2KWLN6D\n")
    f.write("AWS_SECRET_ACCESS_KEY=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\n")
    f.write("GITHUB_TOKEN=ghp_R7kd2Lq9XwZ4mN8pT3vB6cY1hJ5sF0aGe2Ku\n")
    f.write("LOG_LEVEL=info\n")
creds = os.path.join(work, "credentials.json")
with open(creds, "w") as f:
    json.dump({"type": "service_account", "client_email": "x@example.iam.gserviceaccount.com",
               "github_token": "ghp_Wm3Xq8Zr1Tb6Vn9Lk2Jh5Gf4Dc7Sa0Pe3Yu8I"}, f)


class Plain(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input


with mlflow.start_run():
    mlflow.pyfunc.log_model(name="fc", python_model=code, registered_model_name="from-code",
                            pip_requirements=REQS)
with mlflow.start_run():
    mlflow.pyfunc.log_model(name="leaky", python_model=Plain(),
                            artifacts={"env": env_file, "creds": creds},
                            registered_model_name="leaky", pip_requirements=REQS)
# A hand-written model whose MLmodel names a file outside the model
# directory (MLG109): reported once, at the version's MLmodel, although
# --deep downloads that MLmodel again with the version's files.
hand = os.path.join(work, "handmade")
os.makedirs(hand)
with open(os.path.join(hand, "MLmodel"), "w") as f:
    f.write("flavors:\n  onnx:\n    data: ../../etc/model.onnx\n    onnx_version: 1.17.0\n"
            "  python_function:\n    loader_module: mlflow.onnx\n    code: code\n")
with open(os.path.join(hand, "requirements.txt"), "w") as f:
    f.write("mlflow==3.17.2\nonnx==1.17.0\n")
# The AWS documentation example key is not a credential.
with open(os.path.join(hand, "README.md"), "w") as f:
    f.write("Set AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE for the demo.\n")
with mlflow.start_run() as run:
    mlflow.log_artifacts(hand, artifact_path="handmade")
mlflow.register_model(f"runs:/{run.info.run_id}/handmade", "handmade")
print("ok")
