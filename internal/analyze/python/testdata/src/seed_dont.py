# The seed's "Don't" code, verbatim: every vulnerable line is reported.

# VULNERABLE: Load any model URI
model = mlflow.pyfunc.load_model(user_provided_uri)  # want: MLG103

# VULNERABLE: No stage validation
def deploy_model(model_name: str):
    model = mlflow.pyfunc.load_model(f"models:/{model_name}/latest")  # want: MLG104
    # Could be unapproved model

# VULNERABLE: Direct production deployment
client.transition_model_version_stage(  # want: MLG105
    model_name, version, "Production"
    # No approval process
)

# VULNERABLE: Pickle serialization
import pickle
with mlflow.start_run():
    pickle.dump(model, open("model.pkl", "wb"))  # want: MLG101
    mlflow.log_artifact("model.pkl")  # RCE risk

# VULNERABLE: Log sensitive parameters
mlflow.log_params({  # want: MLG201
    "api_key": os.environ["API_KEY"],  # Exposed in UI
    "password": "secret123"
})

# VULNERABLE: Log arbitrary files
mlflow.log_artifacts("/path/to/anything")  # Could include secrets  # want: MLG204

# VULNERABLE: Log unvalidated user input
mlflow.log_param("user_query", user_input)  # Injection risk  # want: MLG203

# VULNERABLE: Public artifact location
client.create_experiment(  # want: MLG205
    name="experiment",
    artifact_location="s3://public-bucket/"  # Publicly accessible
)

# VULNERABLE: Unencrypted artifact storage
"""
export MLFLOW_ARTIFACT_ROOT=s3://public-bucket/
# No encryption configured
"""

# VULNERABLE: Path traversal in downloads
def download_artifact(run_id: str, path: str):
    return client.download_artifacts(run_id, path, "/tmp")  # want: MLG301
    # User controls path


download_artifact(input("run: "), input("path: "))

# VULNERABLE: Execute downloaded artifacts
artifact_path = client.download_artifacts(run_id, "script.py")
exec(open(artifact_path).read())  # RCE  # want: MLG302

# VULNERABLE: Public artifact access
"""
mlflow server \
    --host 0.0.0.0 \
    # No authentication
"""

# VULNERABLE: Public server without auth
"""
mlflow server \
    --host 0.0.0.0 \
    --port 5000
    # No authentication
"""

# VULNERABLE: Hardcoded credentials
"""
mlflow server \
    --backend-store-uri postgresql://admin:password123@host/db
"""

# VULNERABLE: No TLS
"""
mlflow server \
    --host 0.0.0.0
    # Plain HTTP
"""

# VULNERABLE: SQLite in production
"""
mlflow server \
    --backend-store-uri sqlite:///mlflow.db
    # Not suitable for multi-user production
"""
