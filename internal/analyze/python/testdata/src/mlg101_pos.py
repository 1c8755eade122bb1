import pickle as pkl
import joblib
import cloudpickle
import mlflow
import mlflow.sklearn
from mlflow.pyfunc import PythonModel


class Wrapper(PythonModel):
    def predict(self, context, model_input):
        return model_input


def train_and_log(model):
    joblib.dump(model, "artifacts/model.joblib")  # want: MLG101
    mlflow.log_artifacts("artifacts")


def save_with_open(model):
    with open("model.pkl", "wb") as fh:
        pkl.dump(model, fh)  # want: MLG101
    mlflow.log_artifact("model.pkl")


with mlflow.start_run():
    blob = cloudpickle.dumps(Wrapper())  # want: MLG101

mlflow.sklearn.log_model(object(), name="m", serialization_format="cloudpickle")  # want: MLG101
mlflow.sklearn.log_model(object(), name="m", serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_PICKLE)  # want: MLG101
mlflow.pyfunc.log_model(name="wrapped", python_model=Wrapper())  # want: MLG101
mlflow.statsmodels.log_model(object(), name="arima")  # want: MLG101
