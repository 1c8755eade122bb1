package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/store"
)

// storeFlags are the two ways to name the gateway's state, shared by serve
// and every admin command.
type storeFlags struct {
	dataDir, databaseURL string
	syncFull             bool // serve --sqlite-sync full
}

func (s *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.dataDir, "data-dir", "", "`DIR` of the embedded SQLite store (gateway.db)")
	fs.StringVar(&s.databaseURL, "database-url", "", "PostgreSQL `URL` (postgres://...) shared by several gateways; default $MLFLOW_GUARD_DATABASE_URL")
}

func (s *storeFlags) open(ctx context.Context, env Env) (*store.Store, error) {
	o := store.Options{DataDir: s.dataDir, DatabaseURL: s.databaseURL, SQLiteSyncFull: s.syncFull}
	if o.DataDir == "" && o.DatabaseURL == "" {
		o.DatabaseURL = env.Getenv("MLFLOW_GUARD_DATABASE_URL")
	}
	return store.Open(ctx, o)
}

// adminCommand is one "GROUP VERB" admin command.
type adminCommand struct {
	verb, usage string
	min, max    int // positional argument count
	flags       func(fs *flag.FlagSet) func(ctx context.Context, env Env, st *store.Store, actor string, args []string) error
}

func adminActor(env Env) string {
	u := env.Getenv("USER")
	if u == "" {
		u = "unknown"
	}
	return "cli:" + u
}

// runAdmin dispatches "GROUP VERB ARGS..." for users, tokens, groups,
// grants and auditlog: every verb takes the store flags and runs on the
// store they name, opened once the command line is known to be good.
func runAdmin(group string, cmds []adminCommand) func(ctx context.Context, env Env, args []string) int {
	subs := make([]subcommand, len(cmds))
	for i, c := range cmds {
		subs[i] = subcommand{verb: c.verb, usage: c.usage, min: c.min, max: c.max, flags: storeVerb(group, c)}
	}
	return commandGroup{
		name: group,
		// The group's help shows the store flags every subcommand takes.
		helpFlags:   func(fs *flag.FlagSet) { new(storeFlags).register(fs) },
		usageSuffix: " (--data-dir DIR | --database-url URL)",
		cmds:        subs,
	}.run
}

// storeVerb registers the store flags before the verb's own, then opens
// the store, runs the verb and maps its error to an exit code.
func storeVerb(group string, c adminCommand) func(fs *flag.FlagSet) func(context.Context, Env, []string) int {
	return func(fs *flag.FlagSet) func(context.Context, Env, []string) int {
		var sf storeFlags
		sf.register(fs)
		run := c.flags(fs)
		return func(ctx context.Context, env Env, pos []string) int {
			st, err := sf.open(ctx, env)
			if err != nil {
				fmt.Fprintf(env.Stderr, "mlflow-guard %s %s: %v\n", group, c.verb, err)
				if errors.Is(err, store.ErrInvalid) {
					return ExitUsage
				}
				return ExitFailed
			}
			defer st.Close()
			if err := run(ctx, env, st, adminActor(env), pos); err != nil {
				fmt.Fprintf(env.Stderr, "mlflow-guard %s %s: %v\n", group, c.verb, err)
				switch {
				case errors.Is(err, store.ErrInvalid), errors.Is(err, errUsage):
					return ExitUsage
				case errors.Is(err, errVerifyFailed):
					return ExitFindings
				}
				return ExitFailed
			}
			return ExitOK
		}
	}
}

var (
	errUsage        = errors.New("usage")
	errVerifyFailed = errors.New("audit chain broken")
)

// readPassword reads one line from stdin (scripts pipe it in); the
// password is never a flag, so it stays out of ps and shell history.
func readPassword(env Env, fromStdin bool) (string, error) {
	if !fromStdin {
		return "", fmt.Errorf("%w: give the password on stdin with --password-stdin", errUsage)
	}
	if env.Stdin == nil {
		return "", fmt.Errorf("%w: no stdin", errUsage)
	}
	line, err := bufio.NewReader(io.LimitReader(env.Stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", fmt.Errorf("%w: empty password on stdin", errUsage)
	}
	return pw, nil
}

func usersCommands() []adminCommand {
	return []adminCommand{
		{"create", "NAME [--admin] --password-stdin", 1, 1, func(fs *flag.FlagSet) func(context.Context, Env, *store.Store, string, []string) error {
			admin := fs.Bool("admin", false, "the user is an administrator (every permission, admin routes)")
			stdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin")
			return func(ctx context.Context, env Env, st *store.Store, actor string, a []string) error {
				pw, err := readPassword(env, *stdin)
				if err != nil {
					return err
				}
				return st.CreateUser(ctx, actor, a[0], pw, *admin)
			}
		}},
		{"passwd", "NAME --password-stdin", 1, 1, func(fs *flag.FlagSet) func(context.Context, Env, *store.Store, string, []string) error {
			stdin := fs.Bool("password-stdin", false, "read the new password from the first line of stdin")
			return func(ctx context.Context, env Env, st *store.Store, actor string, a []string) error {
				pw, err := readPassword(env, *stdin)
				if err != nil {
					return err
				}
				return st.SetPassword(ctx, actor, a[0], pw)
			}
		}},
		{"disable", "NAME [--enable]", 1, 1, func(fs *flag.FlagSet) func(context.Context, Env, *store.Store, string, []string) error {
			enable := fs.Bool("enable", false, "re-enable the user instead")
			return func(ctx context.Context, env Env, st *store.Store, actor string, a []string) error {
				return st.SetDisabled(ctx, actor, a[0], !*enable)
			}
		}},
		{"list", "[--json]", 0, 0, func(fs *flag.FlagSet) func(context.Context, Env, *store.Store, string, []string) error {
			asJSON := fs.Bool("json", false, "one JSON object per line")
			return func(ctx context.Context, env Env, st *store.Store, actor string, a []string) error {
				us, err := st.ListUsers(ctx)
				if err != nil {
					return err
				}
				if *asJSON {
					enc := json.NewEncoder(env.Stdout)
					for _, u := range us {
						if err := enc.Encode(map[string]any{"name": u.Name, "admin": u.Admin, "disabled": u.Disabled,
							"created_at": u.CreatedAt.Format(time.RFC3339), "groups": nonNil(u.Groups)}); err != nil {
							return err
						}
					}
					return nil
				}
				tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tADMIN\tDISABLED\tGROUPS\tCREATED")
				for _, u := range us {
					fmt.Fprintf(tw, "%s\t%t\t%t\t%s\t%s\n", u.Name, u.Admin, u.Disabled, strings.Join(u.Groups, ","), u.CreatedAt.Format(time.RFC3339))
				}
				return tw.Flush()
			}
		}},
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(time.RFC3339)
}

func tokensCommands() []adminCommand {
	return []adminCommand{
		{"create", "USER [--expires DURATION] [--description TEXT]", 1, 1, func(fs *flag.FlagSet) func(context.Context, Env, *store.Store, string, []string) error {
			exp := fs.Duration("expires", 90*24*time.Hour, "lifetime of the token (0: never expires)")
			desc := fs.String("description", "", "what the token is for")
			return func(ctx context.Context, env Env, st *store.Store, actor string, a []string) error {
				if *exp < 0 {
					return fmt.Errorf("%w: --expires must not be negative", errUsage)
				}
				tok, meta, err := st.CreateToken(ctx, actor, a[0], *desc, *exp)
				if err != nil {
					return err
				}
				// Only the token on stdout, so $(mlflow-guard tokens create ...) works.
				fmt.Fprintln(env.Stdout, tok)
				fmt.Fprintf(env.Stderr, "token %s for %s, expires %s; it is shown only once\n", meta.ID, meta.User, fmtTime(meta.ExpiresAt))
				return nil
			}
		}},
		{"list", "[--user NAME]", 0, 0, func(fs *flag.FlagSet) func(context.Context, Env, *store.Store, string, []string) error {
			user := fs.String("user", "", "only this user's tokens")
			return func(ctx context.Context, env Env, st *store.Store, actor string, a []string) error {
				ts, err := st.ListTokens(ctx, *user)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tUSER\tREVOKED\tEXPIRES\tLAST USED\tDESCRIPTION")
				for _, t := range ts {
					fmt.Fprintf(tw, "%s\t%s\t%t\t%s\t%s\t%s\n", t.ID, t.User, t.Revoked, fmtTime(t.ExpiresAt), fmtTime(t.LastUsed), t.Description)
				}
				return tw.Flush()
			}
		}},
		{"revoke", "ID", 1, 1, func(fs *flag.FlagSet) func(context.Context, Env, *store.Store, string, []string) error {
			return func(ctx context.Context, env Env, st *store.Store, actor string, a []string) error {
				return st.RevokeToken(ctx, actor, a[0])
			}
		}},
	}
}

func groupsCommands() []adminCommand {
	member := func(in bool) func(fs *flag.FlagSet) func(context.Context, Env, *store.Store, string, []string) error {
		return func(fs *flag.FlagSet) func(context.Context, Env, *store.Store, string, []string) error {
			return func(ctx context.Context, env Env, st *store.Store, actor string, a []string) error {
				return st.SetMember(ctx, actor, a[0], a[1], in)
			}
		}
	}
	return []adminCommand{
		{"create", "NAME", 1, 1, func(fs *flag.FlagSet) func(context.Context, Env, *store.Store, string, []string) error {
			return func(ctx context.Context, env Env, st *store.Store, actor string, a []string) error {
				return st.CreateGroup(ctx, actor, a[0])
			}
		}},
		{"add", "GROUP USER", 2, 2, member(true)},
		{"remove", "GROUP USER", 2, 2, member(false)},
		{"list", "", 0, 0, func(fs *flag.FlagSet) func(context.Context, Env, *store.Store, string, []string) error {
			return func(ctx context.Context, env Env, st *store.Store, actor string, a []string) error {
				m, order, err := st.GroupMembers(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "GROUP\tMEMBERS")
				for _, g := range order {
					fmt.Fprintf(tw, "%s\t%s\n", g, strings.Join(m[g], ","))
				}
				return tw.Flush()
			}
		}},
	}
}

func grantsCommands() []adminCommand {
	kinds := strings.Join(store.ResourceKinds, "|")
	return []adminCommand{
		{"add", "user:NAME|group:NAME " + kinds + " ID READ|USE|EDIT|MANAGE", 4, 4, func(fs *flag.FlagSet) func(context.Context, Env, *store.Store, string, []string) error {
			return func(ctx context.Context, env Env, st *store.Store, actor string, a []string) error {
				p, err := store.ParsePrincipal(a[0])
				if err != nil {
					return err
				}
				perm, err := store.ParsePermission(a[3])
				if err != nil {
					return err
				}
				return st.AddGrant(ctx, actor, store.Grant{Principal: p, ResourceKind: a[1], ResourceID: a[2], Permission: perm}, nil)
			}
		}},
		{"remove", "user:NAME|group:NAME KIND ID", 3, 3, func(fs *flag.FlagSet) func(context.Context, Env, *store.Store, string, []string) error {
			return func(ctx context.Context, env Env, st *store.Store, actor string, a []string) error {
				p, err := store.ParsePrincipal(a[0])
				if err != nil {
					return err
				}
				return st.RemoveGrant(ctx, actor, p, a[1], a[2])
			}
		}},
		{"list", "[--principal user:NAME|group:NAME]", 0, 0, func(fs *flag.FlagSet) func(context.Context, Env, *store.Store, string, []string) error {
			pr := fs.String("principal", "", "only this principal's grants")
			return func(ctx context.Context, env Env, st *store.Store, actor string, a []string) error {
				var p *store.Principal
				if *pr != "" {
					pp, err := store.ParsePrincipal(*pr)
					if err != nil {
						return err
					}
					p = &pp
				}
				gs, err := st.ListGrants(ctx, p)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "PRINCIPAL\tKIND\tID\tPERMISSION")
				for _, g := range gs {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", g.Principal, g.ResourceKind, g.ResourceID, g.Permission)
				}
				return tw.Flush()
			}
		}},
	}
}

func auditlogCommands() []adminCommand {
	return []adminCommand{
		{"verify", "", 0, 0, func(fs *flag.FlagSet) func(context.Context, Env, *store.Store, string, []string) error {
			return func(ctx context.Context, env Env, st *store.Store, actor string, a []string) error {
				n, probs, err := st.VerifyAudit(ctx)
				if err != nil {
					return err
				}
				for _, p := range probs {
					fmt.Fprintln(env.Stdout, p)
				}
				if len(probs) > 0 {
					return fmt.Errorf("%w: %d problem(s) in %d rows", errVerifyFailed, len(probs), n)
				}
				fmt.Fprintf(env.Stdout, "audit log intact: %d rows\n", n)
				return nil
			}
		}},
		{"export", "[--output FILE]", 0, 0, func(fs *flag.FlagSet) func(context.Context, Env, *store.Store, string, []string) error {
			out := fs.String("output", "", "write to FILE instead of stdout")
			return func(ctx context.Context, env Env, st *store.Store, actor string, a []string) error {
				w := env.Stdout
				if *out != "" {
					f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
					if err != nil {
						return err
					}
					defer f.Close()
					w = f
				}
				return st.ExportAudit(ctx, w)
			}
		}},
	}
}
