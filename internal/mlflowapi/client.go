package mlflowapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrAuth is a 401 or 403 answer.
	ErrAuth = errors.New("not authorized")
	// ErrNotFound is a 404 for a resource (RESOURCE_DOES_NOT_EXIST).
	ErrNotFound = errors.New("not found")
	// ErrUnsupported is a route the server does not have (404 without an
	// MLflow error body, or ENDPOINT_NOT_FOUND): an older or different
	// server version.
	ErrUnsupported = errors.New("route not supported by this server")
	// ErrMalformed is a body that is not the JSON the route promises.
	ErrMalformed = errors.New("malformed response")
	// ErrServer is a 5xx answer that persisted through the retries.
	ErrServer = errors.New("server error")
	// ErrLimit is a cap reached: too many pages or listing entries. The
	// answer so far is partial.
	ErrLimit = errors.New("limit reached")
)

// APIError is a non-2xx answer from the server.
type APIError struct {
	Method, URL string
	Status      int
	Code        string // MLflow error_code, if the body had one
	Message     string
	kind        error
}

func (e *APIError) Error() string {
	msg := clipWords(e.Message, 300)
	s := fmt.Sprintf("%s %s: HTTP %d", e.Method, e.URL, e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if msg != "" {
		s += ": " + msg
	}
	if e.kind != nil {
		s += " (" + e.kind.Error() + ")"
	}
	return s
}

// Unwrap lets errors.Is match the sentinel for the status.
func (e *APIError) Unwrap() error { return e.kind }

// Credentials are what MLflow's own client reads from the environment.
type Credentials struct {
	Username, Password string
	Token              string
	// InsecureTLS skips certificate verification (MLFLOW_TRACKING_INSECURE_TLS).
	InsecureTLS bool
	// ServerCertPath is a CA bundle to trust (MLFLOW_TRACKING_SERVER_CERT_PATH).
	ServerCertPath string
}

// CredentialsFromEnv reads the MLFLOW_TRACKING_* variables through getenv.
func CredentialsFromEnv(getenv func(string) string) Credentials {
	insecure, _ := strconv.ParseBool(strings.TrimSpace(getenv("MLFLOW_TRACKING_INSECURE_TLS")))
	return Credentials{
		Username:       getenv("MLFLOW_TRACKING_USERNAME"),
		Password:       getenv("MLFLOW_TRACKING_PASSWORD"),
		Token:          getenv("MLFLOW_TRACKING_TOKEN"),
		InsecureTLS:    insecure,
		ServerCertPath: getenv("MLFLOW_TRACKING_SERVER_CERT_PATH"),
	}
}

// HasAuth reports whether any credential is set.
func (c Credentials) HasAuth() bool { return c.Token != "" || c.Username != "" }

// Options configure a Client.
type Options struct {
	Credentials Credentials
	// Timeout bounds one HTTP attempt, body included (default 60s).
	Timeout time.Duration
	// ConnectTimeout bounds the TCP connect and the TLS handshake (default
	// 10s, at most Timeout).
	ConnectTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for the response headers once
	// the request is sent (default Timeout): a server that accepts and
	// never answers fails here.
	ResponseHeaderTimeout time.Duration
	// MaxPages caps the pages of one paged search or listing (default
	// 100000); more is ErrLimit.
	MaxPages int
	// Retries is how many times a failed idempotent request is retried on
	// network errors, 429 and 5xx (default 3; negative means none).
	Retries int
	// Backoff is the first retry delay, doubled each time with jitter
	// (default 250ms).
	Backoff time.Duration
	// PageSize is max_results for paged searches (default 1000).
	PageSize int
	Logger   *slog.Logger
	// Transport overrides the HTTP transport (nil: one built from the
	// credentials' TLS settings).
	Transport http.RoundTripper
}

// Client talks to one MLflow tracking server. It is safe for concurrent use.
type Client struct {
	base     *url.URL
	http     *http.Client
	creds    Credentials
	retries  int
	backoff  time.Duration
	page     int
	maxPages int
	log      *slog.Logger
}

// New builds a client for the tracking URI (http or https).
func New(trackingURI string, opts Options) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(trackingURI, "/"))
	if err != nil {
		return nil, fmt.Errorf("tracking URI %q: %w", trackingURI, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("tracking URI %q: want http://host[:port] or https://host[:port]", trackingURI)
	}
	if u.User != nil {
		return nil, fmt.Errorf("tracking URI: credentials in the URL are not accepted; use MLFLOW_TRACKING_USERNAME/PASSWORD")
	}
	c := &Client{base: u, creds: opts.Credentials, retries: opts.Retries, backoff: opts.Backoff, page: opts.PageSize, log: opts.Logger}
	if c.retries == 0 {
		c.retries = 3
	} else if c.retries < 0 {
		c.retries = 0
	}
	if c.backoff <= 0 {
		c.backoff = 250 * time.Millisecond
	}
	if c.page <= 0 {
		c.page = 1000
	}
	c.maxPages = opts.MaxPages
	if c.maxPages <= 0 {
		c.maxPages = 100000
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	connect := opts.ConnectTimeout
	if connect <= 0 {
		connect = 10 * time.Second
	}
	connect = min(connect, timeout)
	header := opts.ResponseHeaderTimeout
	if header <= 0 || header > timeout {
		header = timeout
	}
	rt := opts.Transport
	if rt == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 16
		tr.DialContext = (&net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}).DialContext
		tr.TLSHandshakeTimeout = connect
		tr.ResponseHeaderTimeout = header
		tr.ExpectContinueTimeout = time.Second
		tcfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if opts.Credentials.InsecureTLS {
			tcfg.InsecureSkipVerify = true //nolint:gosec // the user asked for it; audit reports it as MLG407
		}
		if p := opts.Credentials.ServerCertPath; p != "" {
			pem, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("MLFLOW_TRACKING_SERVER_CERT_PATH %s: %w", p, err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("MLFLOW_TRACKING_SERVER_CERT_PATH %s: no PEM certificate found", p)
			}
			tcfg.RootCAs = pool
		}
		tr.TLSClientConfig = tcfg
		rt = tr
	}
	c.http = &http.Client{Timeout: timeout, Transport: rt,
		// Never follow redirects: credentials must not leak to another host,
		// and the audit wants to see what the server itself answers.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return c, nil
}

// BaseURL is the tracking URI the client talks to.
func (c *Client) BaseURL() *url.URL { u := *c.base; return &u }

// Credentials are the credentials the client sends.
func (c *Client) Credentials() Credentials { return c.creds }

// URL resolves a server path ("/api/2.0/mlflow/...") against the base URL.
func (c *Client) URL(p string, q url.Values) string {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + p
	u.RawQuery = q.Encode()
	return u.String()
}

func (c *Client) authorize(req *http.Request) {
	switch {
	case c.creds.Token != "":
		req.Header.Set("Authorization", "Bearer "+c.creds.Token)
	case c.creds.Username != "":
		req.SetBasicAuth(c.creds.Username, c.creds.Password)
	}
}

// Raw sends one request exactly once, without credentials unless auth is
// true and without retries: the audit's server probes use it. The caller
// closes the body.
func (c *Client) Raw(ctx context.Context, method, path string, q url.Values, header http.Header, body []byte, auth bool) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL(path, q), rd)
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if h := header.Get("Host"); h != "" {
		req.Host = h
	}
	if auth {
		c.authorize(req)
	}
	return c.http.Do(req)
}

// do sends a request with retries and returns the body of a 2xx answer.
// limit caps the body size.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body any, limit int64) ([]byte, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	full := c.URL(path, q)
	delay := c.backoff
	var lastErr error
	for attempt := 0; attempt <= c.retries; attempt++ {
		if attempt > 0 {
			// Full jitter keeps concurrent workers from retrying in lockstep.
			d := delay/2 + rand.N(delay/2+1)
			c.log.Debug("retrying MLflow request", "url", full, "attempt", attempt, "delay", d, "err", lastErr)
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(d):
			}
			delay *= 2
		}
		out, retry, err := c.once(ctx, method, full, payload, limit)
		if err == nil {
			return out, nil
		}
		lastErr = err
		if !retry || ctx.Err() != nil {
			return nil, err
		}
	}
	return nil, lastErr
}

func (c *Client) once(ctx context.Context, method, full string, payload []byte, limit int64) ([]byte, bool, error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, full, rd)
	if err != nil {
		return nil, false, err
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "mlflow-guard")
	c.authorize(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, true, fmt.Errorf("%s %s: %w", method, full, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, true, fmt.Errorf("%s %s: reading body: %w", method, full, err)
	}
	if int64(len(b)) > limit {
		return nil, false, fmt.Errorf("%s %s: body larger than %d bytes", method, full, limit)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return b, false, nil
	}
	ae := &APIError{Method: method, URL: full, Status: resp.StatusCode}
	var eb apiErrorBody
	if json.Unmarshal(b, &eb) == nil && (eb.ErrorCode != "" || eb.Message != "") {
		ae.Code, ae.Message = eb.ErrorCode, eb.Message
	} else {
		ae.Message = strings.TrimSpace(string(bytes.ToValidUTF8(b, nil)))
	}
	switch {
	case resp.StatusCode == 401 || resp.StatusCode == 403:
		ae.kind = ErrAuth
	case resp.StatusCode == 404 && (ae.Code == "RESOURCE_DOES_NOT_EXIST"):
		ae.kind = ErrNotFound
	case resp.StatusCode == 404 || resp.StatusCode == 405 || ae.Code == "ENDPOINT_NOT_FOUND":
		ae.kind = ErrUnsupported
	case resp.StatusCode == 429:
		ae.kind = ErrServer
		return nil, true, ae
	case resp.StatusCode >= 500:
		ae.kind = ErrServer
		return nil, true, ae
	}
	return nil, false, ae
}

// clipWords shortens a server-supplied text to about n bytes without ever
// keeping part of a word: a token cut in half would no longer look like a
// secret to the redactor downstream, yet half of it would be printed.
func clipWords(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := s[:n]
	if !isSpaceByte(s[n]) {
		i := strings.LastIndexFunc(cut, func(r rune) bool { return r < utf8.RuneSelf && isSpaceByte(byte(r)) })
		cut = cut[:max(i, 0)]
	}
	return cut + "..."
}

// isSpaceByte: word separators for clipWords: white space and the
// punctuation around values in JSON, HTML, query strings and assignments,
// none of which occur inside a credential token.
func isSpaceByte(c byte) bool { return strings.IndexByte(" \t\r\n\"',{}[]<>=;&()", c) >= 0 }

// maxJSON bounds one JSON page.
const maxJSON = 256 << 20

// getJSON and postJSON decode a 2xx JSON answer into out.
func (c *Client) getJSON(ctx context.Context, path string, q url.Values, out any) error {
	b, err := c.do(ctx, http.MethodGet, path, q, nil, maxJSON)
	if err != nil {
		return err
	}
	return decode(path, b, out)
}

func (c *Client) postJSON(ctx context.Context, path string, body, out any) error {
	b, err := c.do(ctx, http.MethodPost, path, nil, body, maxJSON)
	if err != nil {
		return err
	}
	return decode(path, b, out)
}

func decode(path string, b []byte, out any) error {
	if err := json.Unmarshal(b, out); err != nil {
		snippet := clipWords(string(bytes.ToValidUTF8(b[:min(len(b), 4096)], nil)), 80)
		return fmt.Errorf("%s: %w: %v (body starts %q)", path, ErrMalformed, err, snippet)
	}
	return nil
}
