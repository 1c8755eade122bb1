package secrets

import "testing"

// typical strings: run params, tags and log lines, mostly clean.
var benchInputs = []string{
	"0.001",
	"RandomForestClassifier",
	"s3://mlflow-artifacts/12/3f2a9c/artifacts/model",
	"accuracy_score computed on the validation split with 5 folds",
	`{"n_estimators": 200, "max_depth": 12, "criterion": "gini"}`,
	"postgresql://mlflow:" + "S3cr3tPw@db.internal:5432/mlflow",
	"Authorization: Bearer " + "mVe5Mvxrv99NcqVTSu7rtaUWM6ZO88eb",
	"models:/fraud-detector/Production",
}

func BenchmarkFindInValue(b *testing.B) {
	d := New()
	n := 0
	for _, s := range benchInputs {
		n += len(s)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range benchInputs {
			d.FindInValue(s)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	d := New()
	b.ReportAllocs()
	for b.Loop() {
		d.Check("learning_rate", "0.001")
		d.Check("db_password", "changeme")
		d.Check("tokenizer", "bert-base-uncased")
	}
}
