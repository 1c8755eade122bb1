"""Churn prediction service: training, serving and promotion around MLflow."""
