package gateway

import (
	"fmt"
	"strings"
)

// The gateway writes a run's mlflow.user tag at runs/create so the UI
// shows who really logged the run. set-tag, log-batch and delete-tag could
// change or remove it afterwards, so a run logged by bob showed "root".
// Only the caller's own name may be written there.

const userTag = "mlflow.user"

// guardUserTag refuses a change of a run's mlflow.user tag to anything but
// the caller's name, and its deletion.
func guardUserTag(rt *compiled, msg *Message, user string) *Denial {
	if rt == nil || msg == nil {
		return nil
	}
	route := strings.TrimPrefix(strings.TrimPrefix(rt.Pattern, "/api/2.0/mlflow/"), "/ajax-api/2.0/mlflow/")
	if route == rt.Pattern {
		return nil
	}
	forged := func(key, value string) *Denial {
		return denyForbidden("identity-tag", fmt.Sprintf("%s: the %s tag names the run's author; the gateway sets it (to %q) and it may not be set to %q or removed", rt.Pattern, userTag, user, value))
	}
	switch route {
	case "runs/set-tag":
		k, _, err := msg.Value([]string{"key"})
		if err != nil {
			return denyForbidden("ambiguous-request", err.Error())
		}
		if k == userTag {
			v, _, err := msg.Value([]string{"value"})
			if err != nil || v != user {
				return forged(k, v)
			}
		}
	case "runs/delete-tag":
		if k, _, err := msg.Value([]string{"key"}); err != nil || k == userTag {
			return forged(userTag, "")
		}
	case "runs/log-batch":
		if msg.FromQuery {
			return nil
		}
		raw, err := msg.field(msg.Body, "tags")
		if err != nil {
			return denyForbidden("ambiguous-request", err.Error())
		}
		list, _ := raw.([]any)
		for _, t := range list {
			obj, ok := t.(map[string]any)
			if !ok {
				continue // MLflow refuses it; the policies deny it
			}
			if k, _ := obj["key"].(string); k == userTag {
				if v, _ := obj["value"].(string); v != user {
					return forged(k, v)
				}
			}
		}
	}
	return nil
}
