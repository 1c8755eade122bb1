package secrets

import (
	"slices"
	"testing"
)

func TestSensitiveKey(t *testing.T) {
	d := New()
	yes := []string{
		"password", "PASSWORD", "db_password", "dbPassword", "DB_PASSWD", "pwd", "mysql-pwd", "passphrase",
		"secret", "client_secret", "clientSecret", "AWS_SECRET_ACCESS_KEY", "token", "access_token",
		"refreshToken", "id_token", "HF_TOKEN", "GITHUB_TOKEN", "api_key", "apiKey", "APIKey", "apikey",
		"OPENAI_API_KEY", "x-api-key", "access_key", "secret_key", "private_key", "privateKey",
		"credential", "credentials", "gcp.credentials", "Authorization", "bearer", "session_key",
		"signing key", "signing_key", "dsn", "SENTRY_DSN", "connection_string", "AZURE_STORAGE_CONNECTION_STRING",
		"DB_PASS", "smtp-pass", "password2", "mlflow.tracking.password", "MLFLOW_TRACKING_TOKEN", "auth_token",
		"storage_account_key", "ssh-key", "cookie",
	}
	no := []string{
		"", "key", "key_metric", "keyMetric", "max_tokens", "tokenizer", "token_count", "num_tokens", "monkey",
		"keyboard", "primary_key", "sort_key", "author", "authority", "authors", "passage", "bypass", "compass",
		"pass", "PWD", "OLDPWD", "learning_rate", "n_estimators", "password_file", "token_url", "secret_name",
		"auth_type", "api_key_env", "access_key_id", "AWS_ACCESS_KEY_ID", "max_new_tokens", "pad_token",
		"eos_token", "token_ids", "token_id", "input_tokens", "tokens", "prompt_tokens", "total_tokens",
		"keystore_type", "pkey", "auth", "runtime_auth", "docker_auth", "next_page_token", "DEFAULT_AUTHORIZATION_FUNCTION", "turkey", "whiskey", "secretary", "tokenize", "authentication_enabled",
	}
	for _, k := range yes {
		if !d.SensitiveKey(k) {
			t.Errorf("SensitiveKey(%q) = false, want true", k)
		}
	}
	for _, k := range no {
		if d.SensitiveKey(k) {
			t.Errorf("SensitiveKey(%q) = true, want false", k)
		}
	}
}

func TestSplitWords(t *testing.T) {
	cases := map[string][]string{
		"dbPassword":        {"db", "password"},
		"APIKey":            {"api", "key"},
		"OPENAI_API_KEY":    {"openai", "api", "key"},
		"password2":         {"password", "2"},
		"x-api.key value":   {"x", "api", "key", "value"},
		"HTTPServerToken":   {"http", "server", "token"},
		"s3Secret":          {"s", "3", "secret"},
		"":                  nil,
		"__":                nil,
		"clé_secrète":       {"clé", "secrète"},
		"AWS_SECRET_ACCESS": {"aws", "secret", "access"},
	}
	for in, want := range cases {
		if got := splitWords(in, nil); !slices.Equal(got, want) {
			t.Errorf("splitWords(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsPlaceholder(t *testing.T) {
	yes := []string{
		"", " ", "None", "null", "${DB_PASSWORD}", "${DB_PASSWORD:-x}", "$DB_PASSWORD", "{{ .Values.db.password }}",
		"{{ secrets.TOKEN }}", "<from-secrets-manager>", "<password>", "xxx", "XXXXXXXX", "***", "********",
		"[REDACTED]", "REDACTED", "%(password)s", "{password}", "os.environ['X']", "vault:secret/data/db#password",
		"arn:aws:secretsmanager:us-east-1:123:secret:db", "your-api-key", "your_token_here", "true", "42",
		"mock_key_secret", "bench-secret-key-not-a-credential", "thisisnotasecret", "fake-token",
		"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"YOUR_API_KEY", "sk-xxx", "sk-proj-XXXXXXXX", "ghp_xxxxxxxxxxxx", "sk_live_****",
	}
	no := []string{"changeme", "admin", "password", "hunter2", "s3cr3t", "mlflow123", "secret", "enterprise", "1234",
		"mockingbird-Pa55", "notable-pw-2024",
		"sk-proj-4f9Qa8Zr2Lw0Xv7Tb3Nc", "sk-x", "ab-000", "max-xxx1"}
	for _, v := range yes {
		if !IsPlaceholder(v) {
			t.Errorf("IsPlaceholder(%q) = false, want true", v)
		}
	}
	for _, v := range no {
		if IsPlaceholder(v) {
			t.Errorf("IsPlaceholder(%q) = true, want false", v)
		}
	}
}

// TestKeyKinds: Check's one-split key judgement agrees with SensitiveKey and
// weakSecretKey.
func TestKeyKinds(t *testing.T) {
	d := New()
	keys := []string{"", "PWD", "OLDPWD", "pwd", "key", "cache_key", "api_key", "APIKey", "signature", "salt",
		"auth", "runtime_auth", "password_file", "private", "private_key", "sort_key", "max_tokens", "token",
		"a_b_c_d_e_f_g_h_i_j_k_l_m_n_o_p_q_r_key", "a_b_c_d_e_f_g_h_i_j_k_l_m_n_o_p_q_r_password", "mlflow.runName",
		"param_1", "license_key", "licenseKey", "pass", "DB_PASS", "nonce_value", "x-signature", "PIN", "otpSecret"}
	for _, k := range keys {
		s, w := d.keyKinds(k)
		ws := d.SensitiveKey(k)
		ww := !ws && weakSecretKey(k)
		if s != ws || w != ww {
			t.Errorf("keyKinds(%q) = %v, %v; want %v, %v", k, s, w, ws, ww)
		}
	}
}
