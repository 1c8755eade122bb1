package cli

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/gateway"
)

// oidcSecretEnv carries the client secret when no file is given; there is
// no flag for the secret itself (it would show in ps and shell history).
const oidcSecretEnv = "MLFLOW_GUARD_OIDC_CLIENT_SECRET"

type oidcFlags struct {
	issuer, clientID, secretFile, redirect, userClaim, groupsClaim, postLogout *string
	scopes, admins                                                             listFlag
	ttl, logoutMaxAge                                                          *time.Duration
}

func registerOIDCFlags(fs *flag.FlagSet) *oidcFlags {
	f := &oidcFlags{}
	f.issuer = fs.String("oidc-issuer", "", "OIDC provider `URL` for UI login (discovery at URL/.well-known/openid-configuration); off when empty")
	f.clientID = fs.String("oidc-client-id", "", "OIDC client `ID` registered at the provider")
	f.secretFile = fs.String("oidc-client-secret-file", "", "`FILE` holding the OIDC client secret (default $"+oidcSecretEnv+"; never printed)")
	f.redirect = fs.String("oidc-redirect-url", "", "this gateway's callback `URL` as browsers reach it, https://HOST/mlflow-guard/oidc/callback")
	fs.Var(&f.scopes, "oidc-scopes", "`SCOPES` to request, comma-separated (default openid,email,profile)")
	f.userClaim = fs.String("oidc-username-claim", "email", "`CLAIM` naming the store user; email must be verified by the provider")
	f.groupsClaim = fs.String("oidc-groups-claim", "groups", "`CLAIM` listing the user's groups, matched to group grants ('-': none)")
	fs.Var(&f.admins, "oidc-admin-group", "claim `GROUP` whose members are admins (repeatable; default: none)")
	f.ttl = fs.Duration("oidc-session-ttl", 8*time.Hour, "lifetime of a UI login session")
	f.postLogout = fs.String("oidc-post-logout-redirect-url", "", "`URL` the provider sends the browser to after logout (registered there); default: the provider's page")
	f.logoutMaxAge = fs.Duration("oidc-logout-token-max-age", 5*time.Minute, "refuse back-channel logout tokens issued longer ago than this")
	return f
}

// config builds the OIDC configuration, or nil when --oidc-issuer is off.
func (f *oidcFlags) config(env Env) (*gateway.OIDCConfig, []string) {
	if *f.issuer == "" {
		if *f.clientID != "" || *f.redirect != "" || *f.secretFile != "" {
			return nil, []string{"--oidc-client-id, --oidc-redirect-url and --oidc-client-secret-file need --oidc-issuer"}
		}
		return nil, nil
	}
	c := &gateway.OIDCConfig{Issuer: *f.issuer, ClientID: *f.clientID, RedirectURL: *f.redirect, Scopes: f.scopes,
		UsernameClaim: *f.userClaim, GroupsClaim: *f.groupsClaim, AdminGroups: f.admins, SessionTTL: *f.ttl,
		PostLogoutRedirectURL: *f.postLogout, LogoutTokenMaxAge: *f.logoutMaxAge}
	var problems []string
	if *f.secretFile != "" {
		b, err := os.ReadFile(*f.secretFile)
		if err != nil {
			problems = append(problems, fmt.Sprintf("--oidc-client-secret-file: %v", err))
		}
		c.ClientSecret = strings.TrimSpace(string(b))
		if err == nil && c.ClientSecret == "" {
			problems = append(problems, fmt.Sprintf("--oidc-client-secret-file %s is empty", *f.secretFile))
		}
	} else {
		c.ClientSecret = env.Getenv(oidcSecretEnv)
	}
	return c, problems
}
