package pull_test

import (
	"context"
	"os"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/cli"
)

// asCLI makes the test binary act as the mlflow-guard command: the Python
// tests run it as MLFLOW_GUARD_BIN, so no second binary has to be built.
const asCLI = "MLFLOW_GUARD_PULL_TEST_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(asCLI) == "1" {
		os.Exit(cli.Run(context.Background(), os.Args[1:], cli.Env{
			Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}))
	}
	os.Exit(m.Run())
}
