package secrets

// Key names are judged word by word so that "key_metric", "max_tokens",
// "tokenizer", "monkey" or "author" never match while "OPENAI_API_KEY",
// "dbPassword" and "client-secret" do.

// strongWords name a secret on their own.
var strongWords = map[string]bool{
	"password": true, "passwords": true, "passwd": true, "pwd": true, "passphrase": true,
	"secret": true, "secrets": true, "token": true,
	"apikey": true, "accesskey": true, "secretkey": true, "privatekey": true, "privkey": true,
	"sessionkey": true, "signingkey": true, "authtoken": true, "accesstoken": true,
	"credential": true, "credentials": true, "creds": true, "cred": true,
	"authorization": true, "bearer": true, "cookie": true, "sessionid": true,
	"dsn": true, "connectionstring": true, "connstr": true,
}

// keyQualifiers turn the neutral word "key" into a secret when they precede
// it: api_key, private-key, signingKey. "primary_key" or "sort_key" stay
// neutral.
var keyQualifiers = map[string]bool{
	"api": true, "access": true, "secret": true, "private": true, "signing": true,
	"encryption": true, "master": true, "ssh": true, "client": true, "account": true,
	"storage": true, "auth": true, "license": true, "subscription": true, "session": true,
	"shared": true, "hmac": true, "jwt": true, "app": true, "consumer": true, "service": true,
	"admin": true, "deploy": true, "webhook": true, "pgp": true, "gpg": true, "decryption": true,
}

// pairs of adjacent words that together name a secret.
var secretPairs = map[[2]string]bool{
	{"connection", "string"}: true, {"conn", "string"}: true, {"conn", "str"}: true,
	{"private", "key"}: true, {"sas", "url"}: true,
}

// neutralLast ends a key that describes a secret without holding it:
// password_file, token_url, secret_name, auth_type, api_key_env.
var neutralLast = map[string]bool{
	"type": true, "types": true, "method": true, "methods": true, "mode": true, "provider": true,
	"enabled": true, "enable": true, "disabled": true, "required": true, "url": true, "uri": true,
	"endpoint": true, "host": true, "path": true, "file": true, "dir": true, "name": true,
	"names": true, "ref": true, "env": true, "var": true, "length": true, "len": true, "count": true,
	"expiry": true, "expires": true, "ttl": true, "timeout": true, "policy": true, "rotation": true,
	"version": true, "field": true, "header": true, "prefix": true, "regex": true, "pattern": true,
	"scope": true, "scopes": true, "backend": true, "plugin": true, "config": true, "class": true,
	"id": true, "arn": true, "location": true, "manager": true, "store": true, "mount": true,
	"rule": true, "rules": true, "check": true, "strength": true, "hash": true, "hashes": true,
	"hasher": true, "algorithm": true, "algo": true, "format": true, "function": true,
	"func": true, "fn": true, "callback": true, "handler": true, "module": true, "label": true,
}

// A stored hash (password_hash) is what one should keep, so "hash" is neutral
// above; a leaked hash value is left to the value detectors.

// tokenNLP marks "token" as the NLP unit (max_tokens, token_count,
// num_tokens, token_ids, pad_token, eos_token, token_embeddings) or as a
// pagination cursor (next_page_token).
var tokenNLP = map[string]bool{
	"count": true, "counts": true, "num": true, "number": true, "max": true, "min": true,
	"length": true, "len": true, "limit": true, "limits": true, "size": true, "budget": true,
	"usage": true, "total": true, "per": true, "vocab": true, "embedding": true, "embeddings": true,
	"position": true, "positions": true, "type": true, "ids": true, "id": true, "index": true,
	"idx": true, "pad": true, "bos": true, "eos": true, "unk": true, "sep": true, "cls": true,
	"mask": true, "special": true, "prompt": true, "completion": true, "input": true,
	"output": true, "generated": true, "new": true, "batch": true, "stride": true,
	"overlap": true, "window": true, "rate": true, "logprob": true, "logprobs": true,
	"probs": true, "classification": true, "level": true, "dropout": true, "start": true,
	"end": true, "decoder": true, "encoder": true, "image": true, "text": true, "cached": true,
	"reasoning": true, "accuracy": true, "loss": true, "f1": true, "throughput": true,
	"page": true, "continuation": true, "pagination": true, "cursor": true,
}

// weakWords make a key secret-like but not a secret by themselves; the value
// must look random too (see Check).
//
// "auth" is weak on purpose: in real code it names a method or mode at least
// as often as a credential ("runtime_auth": "azure_service_principal").
var weakWords = map[string]bool{
	"key": true, "keys": true, "sig": true, "signature": true, "salt": true, "nonce": true,
	"auth": true, "hmac": true, "license": true, "pin": true, "otp": true, "pass": true,
	"private": true, "cert": true,
}

// SensitiveKey reports whether a name (param, tag, env var, dict key, CLI
// flag) denotes a secret.
func (d *Detector) SensitiveKey(key string) bool {
	if key == "PWD" || key == "OLDPWD" {
		return false // the shell's working directory, not a password
	}
	var buf [16]string
	return sensitiveWords(splitWords(key, buf[:0]))
}

// keyKinds is SensitiveKey(key) and, when that is false, weakSecretKey(key),
// from one split of the key.
func (d *Detector) keyKinds(key string) (sensitive, weak bool) {
	var buf [16]string
	ws := splitWords(key, buf[:0])
	if key != "PWD" && key != "OLDPWD" && sensitiveWords(ws) {
		return true, false
	}
	for _, w := range ws {
		if weakWords[w] {
			return false, true
		}
	}
	return false, false
}

// sensitiveWords is SensitiveKey on a key split by splitWords.
func sensitiveWords(ws []string) bool {
	if len(ws) == 0 || neutralLast[ws[len(ws)-1]] && len(ws) > 1 {
		return false
	}
	for i, w := range ws {
		switch {
		case w == "token" || w == "tokens":
			if w == "token" && !nlpToken(ws, i) {
				return true
			}
		case strongWords[w]:
			return true
		case w == "key" && i > 0 && keyQualifiers[ws[i-1]]:
			return true
		case w == "pass" && i > 0 && i == len(ws)-1:
			return true // DB_PASS, smtp-pass
		case i > 0 && secretPairs[[2]string{ws[i-1], w}]:
			return true
		}
	}
	return false
}

// nlpToken reports whether "token" at ws[i] is the NLP unit. "token_id" is
// NLP but "id_token" is an OpenID Connect credential.
func nlpToken(ws []string, i int) bool {
	for j, w := range ws {
		if j == i {
			continue
		}
		if w == "id" && j < i {
			continue
		}
		if tokenNLP[w] {
			return true
		}
	}
	return false
}

// weakSecretKey reports whether a key is secret-like enough that a random
// looking value under it should be treated as a secret.
func weakSecretKey(key string) bool {
	var buf [16]string
	for _, w := range splitWords(key, buf[:0]) {
		if weakWords[w] {
			return true
		}
	}
	return false
}

// splitWords lower-cases an identifier and splits it on punctuation, spaces,
// camelCase humps ("dbPassword", "APIKey") and letter/digit boundaries
// ("password2"). Letters are ASCII-folded; non-ASCII runes act as letters.
func splitWords(s string, out []string) []string {
	start := -1
	cls := func(c byte) int { // 0 sep, 1 lower, 2 upper, 3 digit
		switch {
		case c >= 'a' && c <= 'z' || c >= 0x80:
			return 1
		case c >= 'A' && c <= 'Z':
			return 2
		case c >= '0' && c <= '9':
			return 3
		}
		return 0
	}
	emit := func(a, b int) {
		if a >= 0 && b > a {
			out = append(out, asciiLower(s[a:b]))
		}
	}
	for i := 0; i < len(s); i++ {
		c := cls(s[i])
		if c == 0 {
			emit(start, i)
			start = -1
			continue
		}
		if start < 0 {
			start = i
			continue
		}
		p := cls(s[i-1])
		split := false
		switch {
		case c == 3 && p != 3, c != 3 && p == 3:
			split = true
		case c == 2 && p == 1: // dbPassword
			split = true
		case c == 1 && p == 2 && i-1 > start && cls(s[i-2]) == 2: // APIKey -> API Key
			emit(start, i-1)
			start = i - 1
		}
		if split {
			emit(start, i)
			start = i
		}
	}
	emit(start, len(s))
	return out
}

// asciiLower lower-cases ASCII letters only, so byte offsets stay valid.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
