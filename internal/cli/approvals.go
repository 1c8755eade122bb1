package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/approval"
	"github.com/mlflow-guard/mlflow-guard/internal/gateway"
	"github.com/mlflow-guard/mlflow-guard/internal/safeio"
	"github.com/mlflow-guard/mlflow-guard/internal/store"
)

const approvalsDesc = `Four-eyes approvals through the gateway's API: the gateway checks permissions,
re-reads the version's digest and verdict, and signs the record. The gateway
URL and credentials come from MLflow's variables: MLFLOW_TRACKING_URI, and
MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD.
Exit codes: 0 done, 1 refused by the gateway, 2 usage, 3 gateway unreachable.`

func approvalsCommands() []subcommand {
	return []subcommand{
		{verb: "request", usage: "MODEL [VERSION] (--alias NAME | --stage STAGE | --target TARGET) [--ttl DURATION]", min: 1, max: 2,
			desc: "Asks for a second person's approval of a change to a protected alias or stage (or of renaming or deleting what holds one).",
			flags: func(fs *flag.FlagSet) func(context.Context, Env, []string) int {
				alias := fs.String("alias", "", "protected alias to set on VERSION")
				stage := fs.String("stage", "", "protected stage to move VERSION into")
				tgt := fs.String("target", "", "other targets: delete-alias:NAME, delete-version, delete-model, rename:NEW_NAME")
				ttl := fs.Duration("ttl", 0, "shorter approval window than the gateway's (default: the gateway's --approval-ttl)")
				asJSON := fs.Bool("json", false, "print the gateway's JSON answer")
				return func(ctx context.Context, env Env, args []string) int {
					n := 0
					t := *tgt
					for _, v := range []string{*alias, *stage, *tgt} {
						if v != "" {
							n++
						}
					}
					if n != 1 {
						return apprUsage(env, "request: give exactly one of --alias, --stage or --target")
					}
					if *alias != "" {
						t = "alias:" + *alias
					} else if *stage != "" {
						t = "stage:" + *stage
					}
					body := map[string]any{"name": args[0], "target": t}
					if len(args) == 2 {
						body["version"] = args[1]
					}
					if *ttl > 0 {
						body["ttl_seconds"] = int64(ttl.Seconds())
					}
					return apprCall(ctx, env, http.MethodPost, "", body, *asJSON)
				}
			}},
		{verb: "approve", usage: "ID [--reason TEXT]", min: 1, max: 1,
			desc:  "Approves a pending request. You must not be its requester and need MANAGE on the model.",
			flags: decideFlags("approve")},
		{verb: "reject", usage: "ID [--reason TEXT]", min: 1, max: 1,
			desc:  "Rejects a pending request (its requester may withdraw it this way).",
			flags: decideFlags("reject")},
		{verb: "list", usage: "[--status pending|approved|rejected|consumed|all]", min: 0, max: 0,
			desc: "Lists requests on models you may read (default: pending and approved).",
			flags: func(fs *flag.FlagSet) func(context.Context, Env, []string) int {
				status := fs.String("status", "", "only requests in this status, or all")
				asJSON := fs.Bool("json", false, "print the gateway's JSON answer")
				return func(ctx context.Context, env Env, _ []string) int {
					q := ""
					if *status != "" {
						q = "?status=" + url.QueryEscape(*status)
					}
					return apprCall(ctx, env, http.MethodGet, q, nil, *asJSON)
				}
			}},
	}
}

func decideFlags(verb string) func(fs *flag.FlagSet) func(context.Context, Env, []string) int {
	return func(fs *flag.FlagSet) func(context.Context, Env, []string) int {
		reason := fs.String("reason", "", "why (recorded with the decision)")
		asJSON := fs.Bool("json", false, "print the gateway's JSON answer")
		return func(ctx context.Context, env Env, args []string) int {
			return apprCall(ctx, env, http.MethodPost, "/"+url.PathEscape(args[0])+"/"+verb, map[string]any{"reason": *reason}, *asJSON)
		}
	}
}

func apprUsage(env Env, msg string) int {
	fmt.Fprintln(env.Stderr, "mlflow-guard approvals", msg)
	return ExitUsage
}

// apprCall sends one API call to the gateway named by MLFLOW_TRACKING_URI.
func apprCall(ctx context.Context, env Env, method, suffix string, body any, asJSON bool) int {
	base := strings.TrimRight(env.Getenv("MLFLOW_TRACKING_URI"), "/")
	u, err := url.Parse(base)
	if base == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return apprUsage(env, ": set MLFLOW_TRACKING_URI to the gateway's http(s):// URL")
	}
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+"/mlflow-guard/api/approvals"+suffix, rd)
	if err != nil {
		return apprUsage(env, ": "+err.Error())
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok := env.Getenv("MLFLOW_TRACKING_TOKEN"); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	} else if user := env.Getenv("MLFLOW_TRACKING_USERNAME"); user != "" {
		req.SetBasicAuth(user, env.Getenv("MLFLOW_TRACKING_PASSWORD"))
	} else {
		return apprUsage(env, ": set MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD")
	}
	if u.Scheme == "http" && !gateway.IsLoopback(u.Host) && !gateway.IsLoopback(u.Host+":80") {
		fmt.Fprintln(env.Stderr, "mlflow-guard approvals: refusing to send credentials over plain http to a non-loopback host (MLG407)")
		return ExitUsage
	}
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		fmt.Fprintln(env.Stderr, "mlflow-guard approvals:", err)
		return ExitFailed
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		fmt.Fprintln(env.Stderr, "mlflow-guard approvals:", err)
		return ExitFailed
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Code, Message, Rule string
		}
		var raw map[string]string
		if json.Unmarshal(b, &raw) == nil {
			e.Code, e.Message, e.Rule = raw["error_code"], raw["message"], raw["rule_id"]
		}
		if e.Message == "" {
			e.Message = strings.TrimSpace(string(b))
		}
		fmt.Fprintf(env.Stderr, "mlflow-guard approvals: refused (%d %s %s): %s\n", resp.StatusCode, e.Rule, e.Code, e.Message)
		if resp.StatusCode >= 500 {
			return ExitFailed
		}
		return ExitFindings
	}
	if asJSON {
		_, _ = env.Stdout.Write(b)
		return ExitOK
	}
	var out struct {
		Approval  *store.Approval   `json:"approval"`
		Approvals []*store.Approval `json:"approvals"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		fmt.Fprintln(env.Stderr, "mlflow-guard approvals: unreadable answer:", err)
		return ExitFailed
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	if out.Approval != nil {
		out.Approvals = []*store.Approval{out.Approval}
	}
	fmt.Fprintln(tw, "ID\tMODEL\tVERSION\tTARGET\tSTATUS\tREQUESTER\tAPPROVER\tEXPIRES\tDIGEST")
	for _, a := range out.Approvals {
		exp := ""
		if !a.ExpiresAt.IsZero() {
			exp = a.ExpiresAt.Format(time.RFC3339)
		}
		ver := a.Version
		if ver == "" {
			ver = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Model, ver, a.Target, a.Status, a.Requester, dash(a.Approver), dash(exp), dash(a.Digest))
	}
	_ = tw.Flush()
	return ExitOK
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

const keysDesc = `The gateway's approval signing key. 'public' writes the public keys (current
first, then retired ones still trusted) for verifiers such as audit and pull;
the same PEM is served at /.well-known/mlflow-guard/approval-key.pem.
'rotate' retires the key in --data-dir and generates a new one.`

func keysCommands() []subcommand {
	return []subcommand{
		{verb: "public", usage: "(--data-dir DIR | --signing-key FILE) [--signing-key-ring FILE] [-o FILE]", max: 0,
			desc: "Writes the approval public keys as PEM.",
			flags: func(fs *flag.FlagSet) func(context.Context, Env, []string) int {
				dir := fs.String("data-dir", "", "serve's `DIR` (approval-key.pem, approval-keyring.pem)")
				keyFile := fs.String("signing-key", "", "signing key `FILE` given to serve")
				ring := fs.String("signing-key-ring", "", "retired public keys `FILE` given to serve")
				out := fs.String("o", "", "write to `FILE` instead of stdout")
				return func(_ context.Context, env Env, _ []string) int {
					if (*dir == "") == (*keyFile == "") {
						return keysUsage(env, "public: give --data-dir or --signing-key")
					}
					if *dir != "" {
						if _, err := os.Stat(*dir + "/" + gateway.SigningKeyFile); err != nil {
							fmt.Fprintln(env.Stderr, "mlflow-guard keys public:", err, "(serve creates the key on first start)")
							return ExitFailed
						}
					}
					k, err := gateway.LoadSigningKeys(*keyFile, *ring, *dir, nil)
					if err != nil {
						fmt.Fprintln(env.Stderr, "mlflow-guard keys public:", err)
						return ExitFailed
					}
					pemBytes, err := k.PublicPEM()
					if err != nil {
						fmt.Fprintln(env.Stderr, "mlflow-guard keys public:", err)
						return ExitFailed
					}
					if *out == "" {
						_, _ = env.Stdout.Write(pemBytes)
					} else if err := safeio.WriteFile(*out, func(w io.Writer) error { _, err := w.Write(pemBytes); return err }); err != nil {
						fmt.Fprintln(env.Stderr, "mlflow-guard keys public:", err)
						return ExitFailed
					}
					fmt.Fprintln(env.Stderr, "fingerprint:", approval.Fingerprint(k.Public()), "retired keys:", len(k.Ring))
					return ExitOK
				}
			}},
		{verb: "rotate", usage: "--data-dir DIR", max: 0,
			desc: "Moves the current public key into approval-keyring.pem, deletes the old private key and generates a new one. Restart serve afterwards.",
			flags: func(fs *flag.FlagSet) func(context.Context, Env, []string) int {
				dir := fs.String("data-dir", "", "serve's `DIR`")
				return func(_ context.Context, env Env, _ []string) int {
					if *dir == "" {
						return keysUsage(env, "rotate: give --data-dir")
					}
					old, cur, err := gateway.RotateSigningKey(*dir)
					if err != nil {
						fmt.Fprintln(env.Stderr, "mlflow-guard keys rotate:", err)
						return ExitFailed
					}
					fmt.Fprintf(env.Stdout, "retired %s\nnew     %s\nrestart serve to sign with the new key\n", old, cur)
					return ExitOK
				}
			}},
	}
}

func keysUsage(env Env, msg string) int {
	fmt.Fprintln(env.Stderr, "mlflow-guard keys", msg)
	return ExitUsage
}
