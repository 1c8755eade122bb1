# A name assigned only in commented-out lines is the reader's pick among
# them (uncomment one): judged as those values, not as snippet input, when
# every one is a plain string literal.
import mlflow

# By alias
# new_model = "models:/housing@production"
# By version
# new_model = 'models:/housing/1'
# By run id
# new_model = "runs:/<<RUN ID>>/model"
loaded = mlflow.pyfunc.load_model(new_model, suppress_warnings=True)

# one of the commented values is not a literal: still free input
# other_model = sys.argv[1]
# other_model = "models:/housing/2"
mlflow.pyfunc.load_model(other_model)  # want: MLG103

# an f-string is not a plain literal
# f_model = f"models:/{name}/1"
mlflow.pyfunc.load_model(f_model)  # want: MLG103

# prose and comparisons are not assignments
# prose_model == "models:/housing/1"
# the prose_model = any URI you like
mlflow.pyfunc.load_model(prose_model)  # want: MLG103

# never assigned at all
mlflow.pyfunc.load_model(free_model)  # want: MLG103
