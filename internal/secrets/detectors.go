package secrets

import (
	"regexp"
	"strings"
)

// Kinds reported in Match.Kind.
const (
	KindAWSAccessKeyID  = "aws-access-key-id"
	KindAWSSecretKey    = "aws-secret-access-key"
	KindGitHubToken     = "github-token"
	KindGitLabToken     = "gitlab-token"
	KindSlackToken      = "slack-token"
	KindAnthropicKey    = "anthropic-api-key"
	KindOpenAIKey       = "openai-api-key"
	KindHuggingFace     = "huggingface-token"
	KindStripeKey       = "stripe-key"
	KindGoogleAPIKey    = "google-api-key"
	KindDatabricksToken = "databricks-token"
	KindNPMToken        = "npm-token"
	KindPyPIToken       = "pypi-token"
	KindAzureStorageKey = "azure-storage-key"
	KindSendGridKey     = "sendgrid-api-key"
	KindTwilioKey       = "twilio-api-key"
	KindPrivateKey      = "private-key"
	KindJWT             = "jwt"
	KindURLCredentials  = "url-credentials"
	KindBearerToken     = "bearer-token"
	KindBasicAuth       = "basic-auth"
	KindSlackWebhook    = "slack-webhook-url"
	KindDiscordWebhook  = "discord-webhook-url"
	KindTeamsWebhook    = "teams-webhook-url"
	KindHighEntropy     = "high-entropy"
	KindAssignment      = "secret-assignment"
)

// rule is one value detector. Keywords are a cheap prefilter (lower-case
// substrings, any of which must occur) run before the regex; group selects
// the capture that is the secret itself (0 = whole match), so a URL keeps its
// host when only its password is redacted. tp and fp are the rule's own known
// true and false positives, checked by TestRulesSelfValidate.
type rule struct {
	kind     string
	desc     string
	keywords []string
	re       *regexp.Regexp
	// scan replaces re where a regex would go quadratic (see pem.go); it
	// returns whole-secret spans.
	scan   func(s string) [][2]int
	group  int
	valid  func(secret, whole string) bool
	tp, fp []string
	// kwBytes[i] is the byte set of keywords[i] (see New).
	kwBytes []byteSet
}

// find appends the rule's matches in s; lower is s lower-cased and present
// the set of its bytes.
func (r *rule) find(s, lower string, present *byteSet, out []Match) []Match {
	if !containsAnyBytes(lower, present, r.keywords, r.kwBytes) {
		return out
	}
	if r.scan != nil {
		for _, sp := range r.scan(s) {
			if r.valid == nil || r.valid(s[sp[0]:sp[1]], s[sp[0]:sp[1]]) {
				out = append(out, Match{Kind: r.kind, Start: sp[0], End: sp[1]})
			}
		}
		return out
	}
	for _, loc := range r.re.FindAllStringSubmatchIndex(s, -1) {
		a, b := loc[2*r.group], loc[2*r.group+1]
		if a < 0 || a == b {
			continue
		}
		if r.valid != nil && !r.valid(s[a:b], s[loc[0]:loc[1]]) {
			continue
		}
		out = append(out, Match{Kind: r.kind, Start: a, End: b})
	}
	return out
}

// byteSet is the set of the bytes of a string. A keyword can occur in s
// only if all its bytes do: a test of four words that rejects most
// keywords before strings.Contains looks for them.
type byteSet [4]uint64

func bytesOf(s string) (b byteSet) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		b[c>>6] |= 1 << (c & 63)
	}
	return b
}

func (b *byteSet) hasAll(m *byteSet) bool {
	return b[0]&m[0] == m[0] && b[1]&m[1] == m[1] && b[2]&m[2] == m[2] && b[3]&m[3] == m[3]
}

func bytesOfEach(kws []string) []byteSet {
	out := make([]byteSet, len(kws))
	for i, k := range kws {
		out[i] = bytesOf(k)
	}
	return out
}

// containsAnyBytes is containsAny(s, kws) for s with byte set present and
// kws with byte sets sets (nil: not computed, plain containsAny).
func containsAnyBytes(s string, present *byteSet, kws []string, sets []byteSet) bool {
	if len(sets) != len(kws) {
		return containsAny(s, kws)
	}
	if len(kws) == 0 {
		return true
	}
	for i, k := range kws {
		if present.hasAll(&sets[i]) && strings.Contains(s, k) {
			return true
		}
	}
	return false
}

func containsAny(s string, kws []string) bool {
	if len(kws) == 0 {
		return true
	}
	for _, k := range kws {
		if strings.Contains(s, k) {
			return true
		}
	}
	return false
}

// tail: the character after a token must not continue it. RE2 has no
// lookahead, so rules end with this group and report capture 1.
const tail = `(?:[^A-Za-z0-9_\-]|$)`

// uuidRe is a lower-case UUID, as in Teams webhook URLs.
const uuidRe = `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`

// lastSegment is what follows the last "/" of a URL path.
func lastSegment(s string) string { return s[strings.LastIndexByte(s, '/')+1:] }

func buildRules() []*rule {
	return []*rule{
		{
			kind: KindAWSAccessKeyID, desc: "an AWS access key ID",
			keywords: []string{"akia", "asia", "abia", "acca"},
			re:       regexp.MustCompile(`\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b`),
			group:    1,
			valid:    func(s, _ string) bool { return !strings.HasSuffix(s, "EXAMPLE") },
			tp:       []string{"AKIA" + "UJZDEGXDNCF32EPF", `aws_access_key_id = "ASIA` + `UJZDEGXDNCF32EPF"`},
			fp:       []string{"AKIAIOSFODNN7EXAMPLE", "AKIA1234", "XAKIA" + "UJZDEGXDNCF32EPF", "AKIA" + "UJZDEGXDNCF32EPFQQ"},
		},
		{
			kind: KindAWSSecretKey, desc: "an AWS secret access key",
			keywords: []string{"aws"},
			re:       regexp.MustCompile(`(?i)aws[A-Za-z0-9_.\-]{0,30}(?:secret|sk|key)[A-Za-z0-9_.\-]{0,20}["']?\s*(?:=|:|=>|,)\s*["']?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)`),
			group:    1,
			valid:    func(s, _ string) bool { return !strings.Contains(s, "EXAMPLE") && highEntropy(s) },
			tp: []string{
				`AWS_SECRET_ACCESS_KEY=2hpChYgCfrL1spNx` + `nyVmihA+2O76UMFxFkM+R5Kj`,
				`"aws_secret_access_key": "2hpChYgCfrL1spNx` + `nyVmihA+2O76UMFxFkM+R5Kj"`,
			},
			fp: []string{
				`AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`,
				`aws_secret_access_key = "${AWS_SECRET_ACCESS_KEY}"`,
				`aws_region = "2hpChYgCfrL1spNx` + `nyVmihA+2O76UMFxFkM+R5Kj"`,
			},
		},
		{
			kind: KindGitHubToken, desc: "a GitHub token",
			keywords: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"},
			re:       regexp.MustCompile(`\b((?:gh[pousr]_[A-Za-z0-9]{36,255})|github_pat_[A-Za-z0-9_]{50,255})\b`),
			group:    1,
			valid:    func(s, _ string) bool { return mixed(s[4:]) },
			tp: []string{
				"ghp_" + "hGAkWvj7FAc9QeWJKY40uvSwMFLZDe1f8rES",
				"token=ghs_" + "hGAkWvj7FAc9QeWJKY40uvSwMFLZDe1f8rES&x=1",
				"github_pat_" + "QedUStPKR0CsTy4Qwb8Dwk_NhFdnXsiVpzz63FfkCzJr4i0B3JrTAwR4y9ojfljoQoaF1LlqsajAIxNKu8",
			},
			fp: []string{"ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "ghp_short1234", "github_pat_<your-token>"},
		},
		{
			kind: KindGitLabToken, desc: "a GitLab token",
			keywords: []string{"glpat-", "gldt-", "glptt-", "glrt-"},
			re:       regexp.MustCompile(`\b(gl(?:pat|dt|ptt|rt)-[A-Za-z0-9_\-]{20,})`),
			group:    1,
			valid:    func(s, _ string) bool { return mixed(s) },
			tp:       []string{"glpat-" + "iS2G8NPRVdD53X83RZJz"},
			fp:       []string{"glpat-xxxxxxxxxxxxxxxxxxxx", "glpat-123"},
		},
		{
			kind: KindSlackToken, desc: "a Slack token",
			keywords: []string{"xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"},
			re:       regexp.MustCompile(`\b(xox[baprs]-[A-Za-z0-9-]{10,})`),
			group:    1,
			valid:    func(s, _ string) bool { return hasDigit(s[5:]) && !allMask(s[5:]) },
			tp:       []string{"xoxb-" + "2048593021-4410192837466-iS2G8NPRVdD53X83RZJzQedU"},
			fp:       []string{"xoxb-xxxxxxxxxx-xxxxxxxx", "xoxb-your-token-here"},
		},
		{
			kind: KindAnthropicKey, desc: "an Anthropic API key",
			keywords: []string{"sk-ant-"},
			re:       regexp.MustCompile(`\b(sk-ant-[A-Za-z0-9_\-]{32,})`),
			group:    1,
			valid:    func(s, _ string) bool { return mixed(s[7:]) && shannon(s[7:]) > 3.5 },
			tp:       []string{"sk-ant-api03-" + "YZYn9ZhyiA4uoRgnatmUdjAWtGSU8po-799NksnRH9ucAUsdMlHUvTCQCyEZDz_TddJ8HyS5SUkCnD8zRA9a9SkpXz9w3"},
			fp:       []string{"sk-ant-api03-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "sk-ant-..."},
		},
		{
			kind: KindOpenAIKey, desc: "an OpenAI API key",
			keywords: []string{"sk-"},
			re:       regexp.MustCompile(`\b(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{32,})`),
			group:    1,
			valid: func(s, _ string) bool {
				return !strings.HasPrefix(s, "sk-ant-") && mixed(s[3:]) && hasUpper(s) && hasLower(s[3:])
			},
			tp: []string{
				"sk-" + "YOvfZ8UzDzV8fUkkibjL5DZPjN0MEQ7wjJJibaZUPgHV7iB3",
				`OPENAI_API_KEY="sk-proj-` + `yBdGBLEPH1qhT61qtc4xatws8phP9nhFyJfm5di4PzJ59FHz5r1pY4OjE2jB"`,
			},
			fp: []string{
				"sk-learn-is-a-library-for-machine-learning-in-python",
				"sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
				"sk-ant-api03-" + "YZYn9ZhyiA4uoRgnatmUdjAWtGSU8po-799NksnRH9ucAUsdMlHUvTCQCyEZDz_TddJ8HyS5SUkCnD8zRA9a9SkpXz9w3",
			},
		},
		{
			kind: KindHuggingFace, desc: "a Hugging Face token",
			keywords: []string{"hf_"},
			re:       regexp.MustCompile(`\b(hf_[A-Za-z0-9]{30,40})\b`),
			group:    1,
			valid:    func(s, _ string) bool { return hasUpper(s) && hasLower(s[3:]) && shannon(s) > 3.5 },
			tp:       []string{"hf_" + "QtYhXjTPQxjqiDoVgzFkQokTBGzvAmwufU"},
			fp:       []string{"hf_hub_download_and_cache_the_model_files", "hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "hf_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAaa"},
		},
		{
			kind: KindStripeKey, desc: "a Stripe secret key",
			keywords: []string{"sk_live_", "rk_live_", "sk_test_", "rk_test_"},
			re:       regexp.MustCompile(`\b((?:sk|rk)_(?:live|test)_[A-Za-z0-9]{20,99})\b`),
			group:    1,
			valid:    func(s, _ string) bool { return mixed(s[8:]) },
			tp:       []string{"sk_live_" + "xbvJDCTbyvHNsG9eh6Yo4gfq", "rk_test_" + "xbvJDCTbyvHNsG9eh6Yo4gfq"},
			fp:       []string{"sk_live_xxxxxxxxxxxxxxxxxxxxxxxx", "pk_live_" + "xbvJDCTbyvHNsG9eh6Yo4gfq"},
		},
		{
			kind: KindGoogleAPIKey, desc: "a Google API key",
			keywords: []string{"aiza"},
			re:       regexp.MustCompile(`\b(AIza[0-9A-Za-z_\-]{35})` + tail),
			group:    1,
			tp:       []string{"AIza" + "IfxIq2HZt_PlJhx2jIclHkCiHp6bR1IqfEo", `key="AIza` + `IfxIq2HZt_PlJhx2jIclHkCiHp6bR1IqfEo"`},
			fp:       []string{"AIza" + "IfxIq2HZt_PlJhx2jIclHkCiHp6bR1IqfEoTooLong", "AIzaShort"},
		},
		{
			kind: KindDatabricksToken, desc: "a Databricks token",
			keywords: []string{"dapi"},
			re:       regexp.MustCompile(`\b(dapi[a-f0-9]{32}(?:-\d)?)\b`),
			group:    1,
			valid:    func(s, _ string) bool { return shannon(s[4:]) > 3 },
			tp:       []string{"dapi" + "581569969e58b081006f7e3dfc967a64", "DATABRICKS_TOKEN=dapi" + "581569969e58b081006f7e3dfc967a64-2"},
			fp:       []string{"dapi00000000000000000000000000000000", "dapi_version"},
		},
		{
			kind: KindNPMToken, desc: "an npm token",
			keywords: []string{"npm_"},
			re:       regexp.MustCompile(`\b(npm_[A-Za-z0-9]{36})\b`),
			group:    1,
			valid:    func(s, _ string) bool { return mixed(s[4:]) },
			tp:       []string{"//registry.npmjs.org/:_authToken=npm_" + "zwd1iaeOV4qBkdfQ1y3GQsMpSscDlkrCaqx9"},
			fp:       []string{"npm_config_cache_directory_for_the_build", "npm_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
		},
		{
			kind: KindPyPIToken, desc: "a PyPI upload token",
			keywords: []string{"pypi-ag"},
			re:       regexp.MustCompile(`\b(pypi-Ag[A-Za-z0-9_\-]{50,})`),
			group:    1,
			tp:       []string{"password = pypi-AgEIcHlwaS5vcmc" + "QPFeNBTxaQWk8JzFalHlsZfYcMMDktXP_tKsf2rcDkdfrUnW5gcF-Ha6ili8GjHEAD6_Wj9KfzjsQGMr"},
			fp:       []string{"pypi-AgEIcHlwaS5vcmc", "pypi-token-goes-here"},
		},
		{
			kind: KindAzureStorageKey, desc: "an Azure storage account key",
			keywords: []string{"accountkey="},
			re:       regexp.MustCompile(`(?i)AccountKey=([A-Za-z0-9+/]{80,100}={0,2})`),
			group:    1,
			tp: []string{"DefaultEndpointsProtocol=https;AccountName=mlflow;AccountKey=" +
				"b9h+ImB+LK777pzNk8cL6j5IXAAjlsHUqJoUD/+Ydua+5ZMs1SWOpQaPRYpzbLGViYXjU2JgJngKtFI3OyV2dZ==;EndpointSuffix=core.windows.net"},
			fp: []string{"AccountName=mlflow;AccountKey=${AZURE_STORAGE_KEY};", "AccountKey=<key>"},
		},
		{
			kind: KindSendGridKey, desc: "a SendGrid API key",
			keywords: []string{"sg."},
			re:       regexp.MustCompile(`\b(SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})` + tail),
			group:    1,
			tp:       []string{"SG." + "Akg05rK-gqv81RKMGHZEM9.YpvujA_C5Q52ryFlwRlOEVHzc0X0AWIRh_JUqBlIFXZ"},
			fp:       []string{"SG.short.value", "msg.send_message_to_the_user.and_then_more_text_here_123456789"},
		},
		{
			kind: KindTwilioKey, desc: "a Twilio API key",
			keywords: []string{"sk"},
			re:       regexp.MustCompile(`\b(SK[0-9a-fA-F]{32})\b`),
			group:    1,
			valid:    func(s, _ string) bool { return shannon(s[2:]) > 3 },
			tp:       []string{"TWILIO_API_KEY=SK" + "ed9041dff02cee737443e210471948d3"},
			fp:       []string{"SK00000000000000000000000000000000", "SKU1234"},
		},
		{
			kind: KindPrivateKey, desc: "a private key",
			keywords: []string{"private key-----"},
			scan:     findPEM,
			valid:    func(_, whole string) bool { return base64Run(whole) >= 40 },
			tp: []string{
				"-----BEGIN RSA PRIVATE KEY-----\nmjMyXHCabM6JOF8EFd0Nhcy/1kGD2VD/" + "eR1UYzaLiA/zNyD7CHLn/xC+1hsYgBds\n-----END RSA PRIVATE KEY-----",
				`key = "-----BEGIN OPENSSH PRIVATE KEY-----\nmjMyXHCabM6JOF8EFd0Nhcy/1kGD2VD/` + `eR1UYzaLiA/zNyD7CHLn/xC+1hsYgBds\n`,
			},
			fp: []string{
				`if line.startswith("-----BEGIN RSA PRIVATE KEY-----"):`,
				"-----BEGIN PUBLIC KEY-----\nmjMyXHCabM6JOF8EFd0Nhcy/1kGD2VD/eR1UYzaLiA/zNyD7CHLn/xC+1hsYgBds\n-----END PUBLIC KEY-----",
			},
		},
		{
			kind: KindJWT, desc: "a JSON Web Token",
			keywords: []string{"eyj"},
			re:       regexp.MustCompile(`\b(eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*)`),
			group:    1,
			valid:    func(s, _ string) bool { return validJWT(s) },
			tp: []string{
				"Authorization: Bearer eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAiMTIzNDU2Nzg5MCIsICJuYW1lIjogIm1sZmxvdyJ9." + "1ghxY5OokvQyx7eNWVQ4vnakJkS1pAWTN3lg8zV5yPU",
			},
			fp: []string{
				"eyJ0eXAiOiAieCIsICJmb28iOiAiYmFyIn0.eyJzdWIiOiAiMTIzNDU2Nzg5MCIsICJuYW1lIjogIm1sZmxvdyJ9.V5EbOApZOXzcycDeZ6dq",
				"eyJhbGciOi.eyJzdWIiOi.broken",
			},
		},
		{
			kind: KindURLCredentials, desc: "a URL with an embedded password",
			keywords: []string{"://"},
			// starts at the literal "://" so the regex engine can skip ahead to it
			re:    regexp.MustCompile(`://([^\s:/?#@'"<>{}\[\]\\]*):([^\s/?#@'"<>\\]+)@[A-Za-z0-9\[_.%\-]`),
			group: 2,
			valid: validURLPassword,
			tp: []string{
				"postgresql://mlflow:" + "S3cr3tPw@db.internal:5432/mlflow",
				"mlflow server --backend-store-uri mysql+pymysql://root:" + "changeme@mysql/mlflow",
				"https://deploy:" + "Zx9pLm2Qw@github.com/org/repo.git",
			},
			fp: []string{
				"postgresql://mlflow:${DB_PASSWORD}@db:5432/mlflow",
				"postgresql://mlflow:$DB_PASSWORD@db/mlflow",
				"postgresql://mlflow:<password>@db/mlflow",
				"postgresql://mlflow:****@db/mlflow",
				"postgresql://{user}:{password}@{host}/db",
				"postgresql://%s:%s@%s/db",
				"http://localhost:5000/api/2.0/mlflow",
				"git@github.com:org/repo.git",
			},
		},
		// Incoming-webhook URLs carry their credential in the path: whoever
		// has the URL can post as the integration (the formats gitleaks
		// knows). The capture is the path, so the host stays readable.
		{
			kind: KindSlackWebhook, desc: "a Slack webhook URL",
			keywords: []string{"hooks.slack.com/"},
			re:       regexp.MustCompile(`hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9+/]{43,80})` + tail),
			group:    1,
			valid:    func(s, _ string) bool { return mixed(lastSegment(s)) },
			tp: []string{
				"https://hooks.slack.com/services/" + "T0ABCDEF1/B0ABCDEF2/Zq3Vb8Xn1Lw5Kd7Mf2Hs9Jt4",
				"SLACK_WEBHOOK_URL=https://hooks.slack.com/workflows/" + "T0ABCDEF1/A0ABCDEF2/412345678901234567/Zq3Vb8Xn1Lw5Kd7Mf2Hs9Jt4",
			},
			fp: []string{
				"https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
				"https://hooks.slack.com/services/${SLACK_PATH}",
				"hooks.slack.com/services/T0ABCDEF1/B0ABCDEF2",
			},
		},
		{
			kind: KindDiscordWebhook, desc: "a Discord webhook URL",
			keywords: []string{"/api/webhooks/"},
			re:       regexp.MustCompile(`discord(?:app)?\.com/api/webhooks/([0-9]{17,20}/[A-Za-z0-9_\-]{60,68})` + tail),
			group:    1,
			valid:    func(s, _ string) bool { return mixed(lastSegment(s)) },
			tp: []string{
				"https://discord.com/api/webhooks/" + "112233445566778899/" + "Zq3Vb8Xn1Lw5Kd7Mf2Hs9Jt4Pg6Rc0Ya1EeZq3Vb8Xn1Lw5Kd7Mf2Hs9Jt4Pg6Rc0Ya",
			},
			fp: []string{
				"https://discord.com/api/webhooks/{webhook.id}/{webhook.token}",
				"https://discord.com/api/webhooks/112233445566778899/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
			},
		},
		{
			kind: KindTeamsWebhook, desc: "a Microsoft Teams webhook URL",
			keywords: []string{"webhook.office.com/"},
			re: regexp.MustCompile(`[a-z0-9-]+\.webhook\.office\.com/webhookb2/(` + uuidRe + `@` + uuidRe +
				`/IncomingWebhook/[a-z0-9]{32}/` + uuidRe + `)` + tail),
			group: 1,
			valid: func(s, _ string) bool { return !allMask(strings.ReplaceAll(lastSegment(s), "-", "")) },
			tp: []string{
				"https://contoso.webhook.office.com/webhookb2/" + "3f2a9c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b@" +
					"7e8f9a0b-1c2d-4e3f-8a9b-0c1d2e3f4a5b/IncomingWebhook/" + "9f8e7d6c5b4a39281706f5e4d3c2b1a0/" +
					"0a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d",
			},
			fp: []string{"https://contoso.webhook.office.com/webhookb2/<group-id>@<tenant-id>/IncomingWebhook/<id>/<user-id>"},
		},
		{
			kind: KindBearerToken, desc: "a bearer token",
			keywords: []string{"bearer"},
			re:       regexp.MustCompile(`(?i)\bbearer\s+([A-Za-z0-9\-._~+/]{20,}=*)`),
			group:    1,
			valid:    func(s, _ string) bool { return highEntropy(s) },
			tp:       []string{"Authorization: Bearer " + "mVe5Mvxrv99NcqVTSu7rtaUWM6ZO88eb"},
			fp:       []string{"Authorization: Bearer ${MLFLOW_TRACKING_TOKEN}", "uses bearer authentication_for_all_requests"},
		},
		{
			kind: KindBasicAuth, desc: "HTTP basic credentials",
			keywords: []string{"basic"},
			re:       regexp.MustCompile(`(?i)\bauthorization["']?\s*[:=]\s*["']?basic\s+([A-Za-z0-9+/]{8,}={0,2})`),
			group:    1,
			valid:    func(s, _ string) bool { return validBasic(s) },
			tp:       []string{"Authorization: Basic " + "YWRtaW46czNjcjN0UGFzc3cwcmQ="},
			fp:       []string{"Authorization: Basic dXNlcm5hbWU=", "Authorization: Basic realm"},
		},
	}
}
