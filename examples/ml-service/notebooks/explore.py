# %% [markdown]
# Exploration notebook (jupytext export). Not deployed; see .mlflow-guard.yaml
# for why its use of the newest model version is accepted until the review.

# %%
import mlflow
import pandas as pd

mlflow.set_tracking_uri("http://mlflow.acme.example:5000")

# %%
latest = mlflow.pyfunc.load_model("models:/churn-classifier/latest")
sample = pd.read_csv("../data/sample.csv")
sample.assign(score=latest.predict(sample)).describe()
