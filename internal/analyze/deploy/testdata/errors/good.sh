#!/bin/sh
mlflow server --host 0.0.0.0 --app-name basic-auth
