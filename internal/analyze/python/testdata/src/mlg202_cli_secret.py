# The parser defines a secret option: logging all options logs it.
import argparse

import mlflow

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--db-password", help="database password")
args = parser.parse_args()
mlflow.log_params(vars(args))  # want: MLG202
for key, value in vars(args).items():
    mlflow.log_param(key, value)  # want: MLG202
