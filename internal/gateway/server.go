package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// ServerOptions are the listeners.
type ServerOptions struct {
	Listen        string
	MetricsListen string
	CertFile      string
	KeyFile       string
	// CertCheckEvery is how often the certificate files are checked for
	// changes (default 5s).
	CertCheckEvery time.Duration
	// Ready, if set, receives the bound addresses once listening.
	Ready func(addr, metricsAddr string)
}

// IsLoopback says whether a listen address binds loopback only.
func IsLoopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// certReloader serves the certificate from disk, re-reading it when the
// files change (checked at most every few seconds).
type certReloader struct {
	certFile, keyFile string
	mu                sync.Mutex
	cert              *tls.Certificate
	mod               time.Time
	checked           time.Time
	every             time.Duration
	log               *slog.Logger
}

func (c *certReloader) load() error {
	cs, err1 := os.Stat(c.certFile)
	ks, err2 := os.Stat(c.keyFile)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	mod := cs.ModTime()
	if ks.ModTime().After(mod) {
		mod = ks.ModTime()
	}
	if c.cert != nil && !mod.After(c.mod) {
		return nil
	}
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("load %s / %s: %w", c.certFile, c.keyFile, err)
	}
	c.cert, c.mod = &cert, mod
	return nil
}

func (c *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.checked) >= c.every {
		c.checked = time.Now()
		if err := c.load(); err != nil {
			c.log.Error("certificate reload failed; keeping the previous one", "err", err)
		}
	}
	if c.cert == nil {
		return nil, errors.New("no certificate")
	}
	return c.cert, nil
}

// Serve runs the gateway until ctx ends, then shuts down gracefully.
// Plain HTTP is refused on anything but a loopback address.
func (g *Gateway) Serve(ctx context.Context, o ServerOptions) error {
	tlsOn := o.CertFile != "" || o.KeyFile != ""
	if tlsOn && (o.CertFile == "" || o.KeyFile == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if !tlsOn && !IsLoopback(o.Listen) {
		return fmt.Errorf("--listen %s is not loopback: plain HTTP would send passwords and tokens in clear (MLG407); give --tls-cert and --tls-key", o.Listen)
	}
	if tlsOn != g.cfg.TLS {
		return errors.New("gateway TLS setting disagrees with the listener")
	}
	if !tlsOn {
		g.log.Warn("serving plain HTTP on loopback; put a TLS-terminating proxy on this host in front (MLG407)", "listen", o.Listen)
	}
	srv := &http.Server{
		Handler: g,
		// Slow-loris: headers must arrive promptly; bodies may be long
		// (artifacts), so there is no overall read or write deadline.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", o.Listen, err)
	}
	if tlsOn {
		every := o.CertCheckEvery
		if every == 0 {
			every = 5 * time.Second
		}
		cr := &certReloader{certFile: o.CertFile, keyFile: o.KeyFile, log: g.log, every: every}
		if err := cr.load(); err != nil {
			ln.Close()
			return err
		}
		cr.checked = time.Now()
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: cr.get, NextProtos: []string{"h2", "http/1.1"}}
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	var msrv *http.Server
	var mln net.Listener
	if o.MetricsListen != "" {
		mln, err = net.Listen("tcp", o.MetricsListen)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen %s (metrics): %w", o.MetricsListen, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", g.Metrics)
		msrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = msrv.Serve(mln) }()
	}
	if o.Ready != nil {
		ma := ""
		if mln != nil {
			ma = mln.Addr().String()
		}
		o.Ready(ln.Addr().String(), ma)
	}
	g.log.Info("mlflow-guard serve listening", "listen", ln.Addr().String(), "upstream", g.cfg.Upstream.String(), "tls", tlsOn)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	g.log.Info("shutting down; waiting for requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if msrv != nil {
		_ = msrv.Shutdown(sctx)
	}
	return err
}
