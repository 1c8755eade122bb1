# Databricks notebook source
# MAGIC %md ## Batch scoring: runtime names, widgets and escapes
!pip install -U mlflow-skinny
%pip install tabulate

# COMMAND ----------

# MAGIC %run ./Common

# COMMAND ----------

import mlflow

dbutils.widgets.text("Model URI", "")
dbutils.widgets.text("max_depth", "3")
model_uri = dbutils.widgets.get("Model URI")
max_depth = int(dbutils.widgets.get("max_depth"))
data_path = dbutils.widgets.get("Data path")

with mlflow.start_run(run_name=f"{now} - {mlflow.__version__}") as run:
    mlflow.set_tag("spark_version", spark.version)
    mlflow.set_tag("timestamp", now)
    mlflow.log_param("max_depth", max_depth)
    mlflow.set_tag("data_path", data_path)

model = mlflow.pyfunc.load_model(model_uri)  # want: MLG103
registered = f"models:/{model_name}/production"
model = mlflow.sklearn.load_model(registered)
display(spark.read.parquet(data_path))
