import os
import mlflow

db_uri = (
    f"postgresql://{os.environ['DB_USER']}:{os.environ['DB_PASS']}"
    f"@{os.environ['DB_HOST']}/{os.environ['DB_NAME']}"
    f"?sslmode=require"
)
mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
mlflow.set_tracking_uri("https://mlflow.example.com")
os.environ["MLFLOW_TRACKING_USERNAME"] = "ci-bot"
os.environ["MLFLOW_TRACKING_PASSWORD"] = os.environ["CI_MLFLOW_PASSWORD"]
os.environ["MLFLOW_TRACKING_TOKEN"] = "<from-secrets-manager>"
mlflow.set_tracking_uri("postgresql://user:${DB_PASSWORD}@db/mlflow")


def bench_env():
    os.environ["SECRET_KEY"] = "bench-secret-key-not-a-credential"
    os.environ["PAYMENT_KEY_SECRET"] = "mock_key_secret"


def template_values():
    # stand-ins a notebook or template asks the reader to replace
    os.environ["OPENAI_API_KEY"] = "YOUR_API_KEY"
    os.environ["OPENAI_API_KEY"] = "your-openai-key-here"
    os.environ["OPENAI_API_KEY"] = "sk-xxx"
    os.environ["GITHUB_TOKEN"] = "ghp_XXXXXXXXXXXX"
