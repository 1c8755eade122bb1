package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestApprovals(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			ctx := context.Background()
			now := time.Now().UTC().Truncate(time.Second)
			a := &Approval{Model: "m", Version: "1", Target: "alias:champion", Digest: "sha256:" + strings.Repeat("a", 64),
				Verdict: "pass", Requester: "alice", TTL: time.Hour}
			if err := s.CreateApproval(ctx, a, Event{Actor: "alice", Action: "approvals.request"}); err != nil {
				t.Fatal(err)
			}
			if found, err := s.FindApproved(ctx, "m", "1", "alias:champion", now); err != nil || found != nil {
				t.Fatalf("pending found as approved: %v %v", found, err)
			}
			a.Status, a.Approver, a.DecidedAt, a.ExpiresAt, a.Record = ApprovalApproved, "bob", now, now.Add(time.Hour), "rec"
			if err := s.DecideApproval(ctx, a, Event{Actor: "bob", Action: "approvals.approve"}); err != nil {
				t.Fatal(err)
			}
			if err := s.DecideApproval(ctx, a, Event{Actor: "bob"}); !errors.Is(err, ErrConflict) {
				t.Errorf("second decision: %v", err)
			}
			found, err := s.FindApproved(ctx, "m", "1", "alias:champion", now)
			if err != nil || found == nil || found.ID != a.ID || found.Approver != "bob" || found.TTL != time.Hour || !found.ExpiresAt.Equal(now.Add(time.Hour)) {
				t.Fatalf("find: %+v %v", found, err)
			}
			if f, _ := s.FindApproved(ctx, "m", "1", "alias:CHAMPION", now); f != nil {
				t.Error("target matched case-insensitively")
			}
			if f, _ := s.FindApproved(ctx, "m", "1", "alias:champion", now.Add(2*time.Hour)); f != nil {
				t.Error("expired approval found")
			}
			if err := s.ClaimApproval(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
			if err := s.ClaimApproval(ctx, a.ID); !errors.Is(err, ErrConflict) {
				t.Errorf("double claim: %v", err)
			}
			if err := s.ReleaseApproval(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
			if err := s.ClaimApproval(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
			a.PromotedBy, a.PromotedAt, a.Record = "alice", now, "rec2"
			if err := s.ConsumeApproval(ctx, a, Event{Actor: "alice", Action: "approvals.consume"}); err != nil {
				t.Fatal(err)
			}
			got, err := s.GetApproval(ctx, a.ID)
			if err != nil || got.Status != ApprovalConsumed || got.Record != "rec2" || got.PromotedBy != "alice" {
				t.Fatalf("get: %+v %v", got, err)
			}
			if l, _ := s.LatestApproval(ctx, "m", "1", "alias:champion"); l == nil || l.Status != ApprovalConsumed {
				t.Errorf("latest: %+v", l)
			}
			if list, err := s.ListApprovals(ctx, []string{ApprovalPending}, 10); err != nil || len(list) != 0 {
				t.Errorf("pending list: %v %v", list, err)
			}
			if list, err := s.ListApprovals(ctx, nil, 10); err != nil || len(list) != 1 {
				t.Errorf("all: %v %v", list, err)
			}
			if _, err := s.GetApproval(ctx, "nope"); !errors.Is(err, ErrNotFound) {
				t.Errorf("missing: %v", err)
			}
			if _, probs, err := s.VerifyAudit(ctx); err != nil || len(probs) != 0 {
				t.Errorf("audit: %v %v", probs, err)
			}
		})
	}
}
