package mock

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/opsconform/opsconform/specs"
)

// Reason is why the mock refused a request or answered it otherwise than
// its operation documents, as the journal and the log record it: a short,
// stable, machine-readable code. The words that go with it (the entry's
// reason) name the particulars: which key, which scope, how long to wait.
type Reason string

// The reasons, by the stage that gives them.
const (
	// Routing and size limits.
	ReasonNoRoute          Reason = "no-route"           // no operation is served at the path
	ReasonMethodNotAllowed Reason = "method-not-allowed" // the path is served, not with this method
	ReasonURITooLong       Reason = "uri-too-long"
	ReasonHeadersTooLarge  Reason = "headers-too-large"
	ReasonBodyTooLarge     Reason = "body-too-large"

	// Authentication: every one of these is a 401 (api-access-disabled aside).
	ReasonCredentialsMissing   Reason = "credentials-missing"   // no key sent where the operation looks
	ReasonCredentialsMalformed Reason = "credentials-malformed" // sent, but not in the documented form
	ReasonCredentialsMisplaced Reason = "credentials-misplaced" // sent where this operation does not accept it
	ReasonKeyUnknown           Reason = "key-unknown"
	ReasonKeyRevoked           Reason = "key-revoked"
	ReasonKeyDisabled          Reason = "key-disabled"
	ReasonKeyExpired           Reason = "key-expired"
	ReasonOwnerDeactivated     Reason = "owner-deactivated"
	ReasonAPIAccessDisabled    Reason = "api-access-disabled" // the owner's REST API access is off
	ReasonTenantMismatch       Reason = "tenant-mismatch"     // the key belongs to another host
	ReasonIPMismatch           Reason = "ip-mismatch"         // the key is bound to other client addresses
	ReasonDigestInvalid        Reason = "digest-invalid"      // Digest credentials malformed or for another realm, qop, algorithm or URI
	ReasonDigestWrongResponse  Reason = "digest-wrong-response"
	ReasonNonceUnknown         Reason = "nonce-unknown" // a right response on a nonce this mock did not issue
	ReasonNonceStale           Reason = "nonce-stale"   // expired, or older than the key's window of nonces
	ReasonNonceReplayed        Reason = "nonce-replayed"

	// Authorization: 403.
	ReasonScopeMissing     Reason = "scope-missing"
	ReasonRoleInsufficient Reason = "role-insufficient" // the key has the scope, its owner's role does not

	// Budgets, requests and answers.
	ReasonRateLimited      Reason = "rate-limited"
	ReasonParameterInvalid Reason = "parameter-invalid"
	ReasonBodyInvalid      Reason = "body-invalid"
	ReasonPreferInvalid    Reason = "prefer-invalid" // a Prefer the operation cannot honour
	ReasonPreferred        Reason = "preferred"      // an answer picked with Prefer, not the operation's own
	ReasonNotFound         Reason = "not-found"      // routed, but no such item or page
	ReasonInternal         Reason = "internal"       // a bug in the mock: please report it

	// Injected faults (see Fault).
	ReasonFaultStatus    Reason = "fault-status"
	ReasonFaultReset     Reason = "fault-reset"
	ReasonFaultEmpty     Reason = "fault-empty"
	ReasonFaultMalformed Reason = "fault-malformed"
	ReasonFaultTruncate  Reason = "fault-truncate"
	ReasonFaultLatency   Reason = "fault-latency" // a request aborted while an injected delay held it
)

// Reasons lists every reason, in the order above: what the journal's reason
// filter accepts and the README documents.
var Reasons = []Reason{
	ReasonNoRoute, ReasonMethodNotAllowed, ReasonURITooLong, ReasonHeadersTooLarge, ReasonBodyTooLarge,
	ReasonCredentialsMissing, ReasonCredentialsMalformed, ReasonCredentialsMisplaced, ReasonKeyUnknown,
	ReasonKeyRevoked, ReasonKeyDisabled, ReasonKeyExpired, ReasonOwnerDeactivated, ReasonAPIAccessDisabled,
	ReasonTenantMismatch, ReasonIPMismatch, ReasonDigestInvalid, ReasonDigestWrongResponse,
	ReasonNonceUnknown, ReasonNonceStale, ReasonNonceReplayed,
	ReasonScopeMissing, ReasonRoleInsufficient,
	ReasonRateLimited, ReasonParameterInvalid, ReasonBodyInvalid, ReasonPreferInvalid, ReasonPreferred,
	ReasonNotFound, ReasonInternal,
	ReasonFaultStatus, ReasonFaultReset, ReasonFaultEmpty, ReasonFaultMalformed, ReasonFaultTruncate, ReasonFaultLatency,
}

// because records why f happened, for the journal: a code and words (the
// failure's message when format is empty). The
// words may name key ids, scopes and times, never a secret; they pass
// through the redactor with the rest of the entry anyway.
func (f *failure) because(r Reason, format string, args ...any) *failure {
	f.reason = r
	if format == "" {
		f.why = f.message // the client's message says it already
	} else if len(args) == 0 {
		f.why = format
	} else {
		f.why = fmt.Sprintf(format, args...)
	}
	return f
}

// explain fills in the reason of a failure that no stage gave one, from its
// kind and message: a missing item, a bad parameter, a body that breaks the
// schema are told apart by their kind alone.
func (f *failure) explain() (Reason, string) {
	if f.reason != "" {
		return f.reason, f.why
	}
	switch f.kind {
	case specs.NotFound:
		return ReasonNotFound, wordsOr(f.message, "not found")
	case specs.MethodNotAllowed:
		return ReasonMethodNotAllowed, wordsOr(f.message, "method not allowed")
	case specs.InvalidBody:
		if f.status == http.StatusRequestEntityTooLarge {
			return ReasonBodyTooLarge, wordsOr(f.message, "body too large")
		}
		return ReasonBodyInvalid, "body invalid: " + wordsOr(f.message, "see the answer")
	case specs.InvalidParameter:
		return ReasonParameterInvalid, wordsOr(f.message, "invalid parameter")
	case specs.Unauthenticated:
		return ReasonCredentialsMalformed, wordsOr(f.message, "credentials refused")
	case specs.Forbidden:
		return ReasonScopeMissing, wordsOr(f.message, "forbidden")
	case specs.RateLimited:
		return ReasonRateLimited, wordsOr(f.message, "rate limited")
	}
	return ReasonInternal, wordsOr(f.message, "internal error")
}

func wordsOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// perWindow writes a rate limit's window as people say it: 300/min, 10/s, 5000/h.
func perWindow(limit int, window time.Duration) string {
	switch window {
	case time.Second:
		return strconv.Itoa(limit) + "/s"
	case time.Minute:
		return strconv.Itoa(limit) + "/min"
	case time.Hour:
		return strconv.Itoa(limit) + "/h"
	case 24 * time.Hour:
		return strconv.Itoa(limit) + "/day"
	}
	return fmt.Sprintf("%d per %s", limit, window)
}

// stamp writes a time in the journal's words: UTC, to the second.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
