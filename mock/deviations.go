package mock

import (
	"encoding/json"

	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/icholy/digest"

	"github.com/opsconform/opsconform/specs"
)

// A deviation makes the mock break exactly one documented rule the way a
// real implementation gets it wrong: a page size ignored, X-RateLimit-Reset
// in milliseconds, a route that forgot its scope check. The suites must fail
// for each; the mutation matrix in package suites proves they do.
//
// Deviations are faults of kind "deviation": they are switched on with
// --deviate NAME, --fault kind=deviation,deviation=NAME or the control API,
// and can be scoped to a profile or an operation like any fault.
type deviation uint8

// Deviation describes one deviation for --list-deviations and the control API.
type Deviation struct {
	Name    string `json:"name"`
	Summary string `json:"summary"`
	// Breaks are the requirements it must make fail, as ID suffixes
	// ("PAGE-007"); the profile's prefix completes them. A trailing "*"
	// means every requirement with that prefix (every SCHEMA check).
	Breaks []string `json:"breaks"`
	// Profiles are the profiles it applies to, among those loaded.
	Profiles []string `json:"profiles"`
}

type deviationSpec struct {
	id      deviation
	name    string
	summary string
	breaks  []string
	applies func(p *specs.Profile) bool
}

func (d deviationSpec) appliesTo(p *specs.Profile) bool { return d.applies == nil || d.applies(p) }

// The deviations. Their order is their id; append only.
const (
	devNone deviation = iota

	// Pagination.
	devPageSizeIgnored
	devShortPages
	devPageZeroBased
	devSkipIgnored
	devNonNumericAccepted
	devUnderflowAccepted
	devMaxSizeNotEnforced
	devTotalIsPageCount
	devTotalPagesIsRecords
	devPageNumberStuck
	devIncludeCountIgnored
	devNextLinkMissing
	devNextLinkOnLastPage
	devRelativeLinks
	devSelfLinkStuck
	devPreviousLinkMissing
	devUnpagedListTruncated

	// Envelopes and errors.
	devSuccessEnvelopeMissing
	devEnvelopeParamIgnored
	devEnvelopeErrorsKeepStatus
	devErrorEnvelopeFlat
	devErrorCodeWrong
	devNotFoundNotJSON
	devRateLimitedNotJSON
	devDocumentedHeadersMissing
	devDeprecationHeadersMissing
	devSchemaExtraField
	devRequestValidationSkipped
	devSuccessNotJSON
	devDefaultPageSizeWrong
	devPastLastPageError

	// Authentication and authorization.
	devChallengeMissing
	devForbiddenAs401
	devUnauthenticatedAs403
	devScopesUncheckedOnWrites
	devRoleUnchecked
	devBoundRolesUnchecked
	devAPIAccessIgnored
	devTenantUnchecked
	devIPUnchecked
	devQueryKeyEverywhere
	devWrongSchemeAccepted
	devMalformedCredentials400
	devValidKeyRefused
	devUnauthenticatedItemRoutes
	devFormatOnlyValidation
	devQueryKeyRefused
	devUnknownPathHTML
	devRequiredParamUnchecked

	// Key lifecycle and secrets.
	devRevokedKeyAdmitted
	devExpiredKeyAdmitted
	devDisabledKeyAdmitted
	devOwnerDeactivationIgnored
	devDeleteKeepsKey
	devRegenerateKeepsOld
	devCreatedSecretRedacted
	devPrivateKeyOnGet
	devPrivateKeyInList
	devWhoAmIShowsSecret

	// HTTP Digest.
	devDigestReplayAccepted
	devDigestStaleFalse
	devDigestExtraChallengeParam
	devDigestLowercaseAlgorithm
	devDigestSHA256Only
	devDigestUnsigned403
	devDigestURIUnchecked
	devDigestPasswordUnchecked

	// Rate limits.
	devRateLimitDoubled
	devRateLimitFifth
	devRateLimitShared
	devResetInMillis
	devResetAsDelta
	devRetryAfterHuge
	devRetryAfterMissing
	devRemainingConstant
	devRateLimitHeadersOnlyOn429
	devRateLimitOutlivesRetryAfter

	// Paths, related records and search (Ivanti's business objects).
	devPathCaseSensitive
	devRelatedUnfiltered
	devSearchIgnored
	devUpdateNotStored
	// API key access lists.
	devAccessListIPEntriesIgnored
	devAccessListDeleteIgnored
	devAccessListUsageUnrecorded
	// State that follows writes, and lists that narrow.
	devActionEffectLost
	devFilterIgnored

	devCount
)

// Predicates on the behaviour model: a deviation applies where the profile
// documents the rule it breaks.
func paged(p *specs.Profile) bool { return p.Pagination != nil }
func pageStyle(p *specs.Profile) bool {
	return p.Pagination != nil && p.Pagination.Style == specs.StylePage
}
func offsetStyle(p *specs.Profile) bool {
	return p.Pagination != nil && p.Pagination.Style == specs.StyleOffset
}
func hasLinks(p *specs.Profile) bool { return p.Pagination != nil && p.Pagination.Response.Links != "" }
func hasTotalItems(p *specs.Profile) bool {
	return p.Pagination != nil && p.Pagination.Response.TotalItems != ""
}
func hasTotalPages(p *specs.Profile) bool {
	return p.Pagination != nil && p.Pagination.Response.TotalPages != ""
}
func hasPageField(p *specs.Profile) bool {
	return pageStyle(p) && p.Pagination.Response.Page != ""
}
func hasCountFlag(p *specs.Profile) bool { return p.Pagination != nil && p.Pagination.Count != "" }
func underflowRejected(p *specs.Profile) bool {
	return p.Pagination != nil && p.Pagination.Underflow == specs.Reject
}
func hasMaxSize(p *specs.Profile) bool { return p.Pagination != nil && p.Pagination.Size.Max > 0 }
func hasUnpagedTwin(p *specs.Profile) bool {
	for _, op := range p.Operations {
		if r := op.Resource; r != nil && r.Action == specs.ActionList && !op.Paginated && r.Source == specs.SourceData {
			for _, other := range p.Operations {
				if o := other.Resource; o != nil && other.Paginated && o.Collection == r.Collection {
					return true
				}
			}
		}
	}
	return false
}
func hasSuccessEnvelope(p *specs.Profile) bool { return p.Envelope.Success != "" }
func hasEnvelopeParam(p *specs.Profile) bool   { return p.Envelope.EnvelopeParam != "" }
func hasCode(p *specs.Profile) bool {
	b, _ := json.Marshal(p.Errors.Template)
	return strings.Contains(string(b), `"$code"`) || strings.Contains(string(b), `"$status"`)
}
func hasRequiredHeaders(p *specs.Profile) bool {
	for _, op := range p.Operations {
		if len(specs.RequiredHeaders(op)) > 0 {
			return true
		}
	}
	return false
}
func hasDeprecated(p *specs.Profile) bool {
	return slices.ContainsFunc(p.Operations, func(op *specs.Operation) bool { return op.Deprecated })
}
func authenticated(p *specs.Profile) bool { return p.Auth.Mode != specs.AuthNone }
func challenged(p *specs.Profile) bool {
	return p.Auth.Mode == specs.AuthBearer || p.Auth.Mode == specs.AuthDigest
}
func digestAuth(p *specs.Profile) bool { return p.Auth.Mode == specs.AuthDigest }

// hasAccessList: keys bound to addresses whose access lists the API manages.
func hasAccessList(p *specs.Profile) bool {
	if !p.Auth.BindIP {
		return false
	}
	for _, op := range p.Operations {
		if r := op.Resource; r != nil && r.Source == specs.SourceAccessList {
			return true
		}
	}
	return false
}
func hasRoles(p *specs.Profile) bool { return len(p.Access.Roles) > 0 }
func hasBindings(p *specs.Profile) bool {
	return len(p.Access.Bindings) > 0
}
func hasWrites(p *specs.Profile) bool {
	return slices.ContainsFunc(p.Operations, func(op *specs.Operation) bool {
		return op.Method != http.MethodGet && !op.Public && hasScopes(op)
	})
}
func hasScopes(op *specs.Operation) bool {
	return slices.ContainsFunc(op.Security, func(alt specs.Alternative) bool {
		return slices.ContainsFunc(alt, func(r specs.Requirement) bool { return len(r.Scopes) > 0 })
	})
}
func headerOnlyEndpoints(p *specs.Profile) bool {
	if len(p.Auth.Schemes) < 2 {
		return false
	}
	for _, op := range p.Operations {
		accepted := 0
		for _, alt := range op.Security {
			accepted += len(alt)
		}
		if accepted > 0 && accepted < len(p.Auth.Schemes) {
			return true
		}
	}
	return false
}
func documents(ev string) func(*specs.Profile) bool {
	return func(p *specs.Profile) bool { return p.Documents(ev) }
}
func keyManagement(p *specs.Profile) bool {
	return slices.ContainsFunc(p.Operations, func(op *specs.Operation) bool {
		return op.Resource != nil && op.Resource.Source == specs.SourceKeys && op.Resource.Action == specs.ActionGet
	})
}
func hasWhoAmI(p *specs.Profile) bool {
	return slices.ContainsFunc(p.Operations, func(op *specs.Operation) bool {
		return op.Resource != nil && op.Resource.Action == specs.ActionWhoAmI
	})
}
func hasRequiredQuery(p *specs.Profile) bool {
	return slices.ContainsFunc(p.Operations, func(op *specs.Operation) bool {
		return op.Method == http.MethodGet && slices.ContainsFunc(op.Params, func(prm *specs.Param) bool { return prm.In == "query" && prm.Required })
	})
}
func hasItemRoutes(p *specs.Profile) bool {
	return slices.ContainsFunc(p.Operations, func(op *specs.Operation) bool {
		return !op.Public && op.Resource != nil && op.Resource.Action == specs.ActionGet && op.Resource.ID != ""
	})
}
func rateLimited(p *specs.Profile) bool          { return len(p.RateLimits.Classes) > 0 }
func caseInsensitivePaths(p *specs.Profile) bool { return p.CaseInsensitivePaths }

// hasDataUpdates: some update of a data record has a body and a get of
// the same collection to read the record back.
func hasDataUpdates(p *specs.Profile) bool {
	return slices.ContainsFunc(p.Operations, func(op *specs.Operation) bool {
		r := op.Resource
		if r == nil || r.Action != specs.ActionUpdate || r.Source != specs.SourceData || op.Body == nil || op.Body.Schema == nil {
			return false
		}
		return slices.ContainsFunc(p.Operations, func(g *specs.Operation) bool {
			gr := g.Resource
			return gr != nil && gr.Action == specs.ActionGet && gr.Collection == r.Collection && gr.Source == r.Source && g.Method == http.MethodGet
		})
	})
}
func hasRelatedLists(p *specs.Profile) bool {
	return slices.ContainsFunc(p.Operations, func(op *specs.Operation) bool {
		return op.Resource != nil && op.Resource.ParentCollection != ""
	})
}
func hasSearch(p *specs.Profile) bool {
	return slices.ContainsFunc(p.Operations, func(op *specs.Operation) bool {
		return op.Search != nil || p.Pagination != nil && p.Query != nil && p.Query.Search != "" && op.Param("query", p.Query.Search) != nil
	})
}
func xRateLimit(p *specs.Profile) bool { return p.RateLimits.Headers == specs.HeadersXRateLimit }
func all(preds ...func(*specs.Profile) bool) func(*specs.Profile) bool {
	return func(p *specs.Profile) bool {
		for _, pr := range preds {
			if !pr(p) {
				return false
			}
		}
		return true
	}
}

// deviations is the catalogue, indexed by id.
var deviations = func() []deviationSpec {
	list := []deviationSpec{
		// Pagination.
		{devPageSizeIgnored, "page-size-ignored", "ignores the page-size parameter: every page has the default size", []string{"PAGE-007"}, paged},
		{devShortPages, "short-pages", "silently caps pages at a quarter of the documented maximum", []string{"PAGE-002"}, all(hasMaxSize)},
		{devPageZeroBased, "page-zero-based", "counts pages from 0: page=1 answers the second page", []string{"PAGE-006"}, pageStyle},
		{devSkipIgnored, "skip-ignored", "ignores the skip parameter: every page is the first", []string{"PAGE-006"}, offsetStyle},
		{devNonNumericAccepted, "non-numeric-accepted", "serves the default page for a non-numeric page size instead of 400", []string{"PAGE-003"}, paged},
		{devUnderflowAccepted, "underflow-accepted", "serves a page or size below the minimum instead of refusing it", []string{"PAGE-004"}, underflowRejected},
		{devMaxSizeNotEnforced, "max-size-not-enforced", "serves any page size, above the documented maximum too", []string{"PAGE-002"}, hasMaxSize},
		{devTotalIsPageCount, "total-is-page-count", "reports the number of items on the page as the total", []string{"PAGE-006"}, hasTotalItems},
		{devTotalPagesIsRecords, "total-pages-is-records", "reports the number of items where the number of pages is documented", []string{"PAGE-006"}, hasTotalPages},
		{devPageNumberStuck, "page-number-stuck", "reports page 1 on every page", []string{"PAGE-006"}, hasPageField},
		{devIncludeCountIgnored, "include-count-ignored", "sends the total even when the count is turned off", []string{"PAGE-009"}, hasCountFlag},
		{devNextLinkMissing, "next-link-missing", "omits the next link although more pages remain", []string{"PAGE-006", "PAGE-008"}, hasLinks},
		{devNextLinkOnLastPage, "next-link-on-last-page", "sends a next link on the last page", []string{"PAGE-006", "PAGE-008"}, hasLinks},
		{devRelativeLinks, "relative-links", "writes paging links as relative URLs", []string{"PAGE-008"}, hasLinks},
		{devSelfLinkStuck, "self-link-stuck", "points the self link at page 1 on every page", []string{"PAGE-008"}, hasLinks},
		{devPreviousLinkMissing, "previous-link-missing", "omits the previous link after page 1", []string{"PAGE-008"}, hasLinks},
		{devUnpagedListTruncated, "unpaged-list-truncated", "truncates an unpaginated list to its first 50 items", []string{"PAGE-011"}, hasUnpagedTwin},

		// Envelopes and errors.
		{devSuccessEnvelopeMissing, "success-envelope-missing", "answers successes bare, without the documented envelope", []string{"ENV-001"}, hasSuccessEnvelope},
		{devEnvelopeParamIgnored, "envelope-param-ignored", "ignores envelope=true", []string{"ENV-003"}, hasEnvelopeParam},
		{devEnvelopeErrorsKeepStatus, "envelope-errors-keep-status", "keeps an error's HTTP status under envelope=true", []string{"ENV-004"}, hasEnvelopeParam},
		{devErrorEnvelopeFlat, "error-envelope-flat", `answers errors as {"message": …} instead of the documented envelope`, []string{"ENV-002", "AUTH-001"}, authenticated},
		{devErrorCodeWrong, "error-code-wrong", "puts a different machine-readable code in error bodies", []string{"ENV-002", "AUTH-001"}, all(authenticated, hasCode)},
		{devNotFoundNotJSON, "not-found-not-json", "answers 404 with the framework's plain-text page", []string{"ENV-002"}, nil},
		{devRateLimitedNotJSON, "rate-limited-not-json", "answers 429 with a plain-text body from the proxy in front", []string{"RATE-002"}, rateLimited},
		{devDocumentedHeadersMissing, "documented-headers-missing", "leaves out the response headers the spec marks required", []string{"ENV-005"}, hasRequiredHeaders},
		{devDeprecationHeadersMissing, "deprecation-headers-missing", "sends no Deprecation or Sunset header on deprecated operations", []string{"STAB-*"}, hasDeprecated},
		{devSchemaExtraField, "schema-extra-field", "adds an undocumented field to every successful body", []string{"SCHEMA-*"}, nil},
		{devRequestValidationSkipped, "request-validation-skipped", "accepts request bodies the schema refuses, unknown fields included", []string{"ENV-006"}, func(p *specs.Profile) bool { return p.ClosedCreate() != nil }},
		{devSuccessNotJSON, "success-not-json", "labels successful answers text/plain", []string{"ENV-001"}, nil},
		{devDefaultPageSizeWrong, "default-page-size-wrong", "serves a different default page size than documented", []string{"PAGE-001"}, paged},
		{devPastLastPageError, "past-last-page-error", "answers a page past the last with 404 instead of an empty page", []string{"PAGE-005"}, paged},

		// Authentication and authorization.
		{devChallengeMissing, "challenge-missing", "sends 401 without WWW-Authenticate", []string{"AUTH-001"}, challenged},
		{devForbiddenAs401, "forbidden-as-401", "answers a key without permission with 401 instead of 403", []string{"AUTH-006"}, authenticated},
		{devUnauthenticatedAs403, "unauthenticated-as-403", "answers an unknown key with 403 instead of 401", []string{"AUTH-003"}, authenticated},
		{devScopesUncheckedOnWrites, "scopes-unchecked-on-writes", "checks scopes on reads only: every write is allowed to any valid key", []string{"AUTH-012", "AUTH-013"}, hasWrites},
		{devRoleUnchecked, "role-unchecked", "lets a key's scopes exceed its owner's role", []string{"AUTH-007", "AUTH-013"}, hasRoles},
		{devBoundRolesUnchecked, "bound-roles-unchecked", "lets a key read organizations and projects it has no role in", []string{"AUTH-014", "AUTH-015"}, hasBindings},
		{devAPIAccessIgnored, "api-access-ignored", "keeps serving a user whose REST API access is off", []string{"LIFE-008"}, documents("disable-api")},
		{devTenantUnchecked, "tenant-unchecked", "accepts a key on any tenant", []string{"AUTH-010"}, func(p *specs.Profile) bool { return p.Auth.BindTenant }},
		{devIPUnchecked, "ip-unchecked", "accepts a key from any client IP", []string{"AUTH-011", "AUTH-023"}, func(p *specs.Profile) bool { return p.Auth.BindIP }},
		{devQueryKeyEverywhere, "query-key-everywhere", "accepts the legacy query-parameter key on header-only endpoints", []string{"AUTH-009"}, headerOnlyEndpoints},
		{devWrongSchemeAccepted, "wrong-scheme-accepted", "accepts the key under another Authorization scheme (Basic, Bearer)", []string{"AUTH-004"}, authenticated},
		{devMalformedCredentials400, "malformed-credentials-400", "answers malformed credentials with 400 instead of 401", []string{"AUTH-002"}, authenticated},
		{devUnauthenticatedItemRoutes, "unauthenticated-item-routes", "serves the operations on one item without asking for credentials", []string{"AUTH-020"}, hasItemRoutes},
		{devFormatOnlyValidation, "format-only-validation", "admits any key in the issued form, known or not", []string{"AUTH-021"}, func(p *specs.Profile) bool { return p.Auth.Mode == specs.AuthBearer || p.Auth.Mode == specs.AuthAPIKey }},
		{devQueryKeyRefused, "query-key-refused", "dropped the legacy query-parameter key its documentation still accepts", []string{"AUTH-022"}, headerOnlyEndpoints},
		{devUnknownPathHTML, "unknown-path-html", "answers paths no operation serves with the web client's HTML page and 200", []string{"ENV-007"}, nil},
		{devRequiredParamUnchecked, "required-param-unchecked", "answers a request that lacks a required parameter as if it had an empty one", []string{"ENV-008"}, hasRequiredQuery},
		{devValidKeyRefused, "valid-key-refused", "looks for the key where the documentation does not put it, refusing documented requests", []string{"AUTH-005"}, authenticated},

		// Key lifecycle and secrets.
		{devRevokedKeyAdmitted, "revoked-key-admitted", "keeps accepting a revoked key", []string{"LIFE-001"}, documents("revoke")},
		{devExpiredKeyAdmitted, "expired-key-admitted", "keeps accepting a key past its expiry", []string{"LIFE-002"}, documents("expire")},
		{devDisabledKeyAdmitted, "disabled-key-admitted", "keeps accepting a disabled (deactivated) key", []string{"LIFE-003"}, documents("disable")},
		{devRegenerateKeepsOld, "regenerate-keeps-old", "keeps accepting a regenerated key's old secret", []string{"LIFE-004"}, documents("regenerate")},
		{devDeleteKeepsKey, "delete-keeps-key", "answers a key's deletion but keeps accepting it", []string{"LIFE-005"}, documents("delete")},
		{devOwnerDeactivationIgnored, "owner-deactivation-ignored", "keeps accepting the keys of a deactivated owner", []string{"LIFE-006"}, documents("deactivate-owner")},
		{devCreatedSecretRedacted, "created-secret-redacted", "redacts the secret in the response that creates the key", []string{"LIFE-007"}, all(documents("shown-once"), keyManagement)},
		{devPrivateKeyOnGet, "private-key-on-get", "shows the private key in clear when one key is read", []string{"LIFE-009"}, all(documents("shown-once"), keyManagement)},
		{devPrivateKeyInList, "private-key-in-list", "shows private keys in clear in key lists", []string{"LIFE-007", "LIFE-009"}, all(documents("shown-once"), keyManagement)},
		{devWhoAmIShowsSecret, "whoami-shows-secret", "echoes the presented key in the who-am-I answer", []string{"LIFE-009"}, all(documents("shown-once"), hasWhoAmI)},

		// HTTP Digest.
		{devDigestReplayAccepted, "digest-replay-accepted", "accepts a replayed Authorization (same nonce and count)", []string{"AUTH-016"}, digestAuth},
		{devDigestStaleFalse, "digest-stale-false", "answers a right response on an unknown or expired nonce with stale=false", []string{"AUTH-017"}, digestAuth},
		{devDigestExtraChallengeParam, "digest-extra-challenge-param", `adds charset="UTF-8" to the challenge, which mongodb-forks/digest rejects`, []string{"AUTH-008"}, digestAuth},
		{devDigestLowercaseAlgorithm, "digest-lowercase-algorithm", "writes the challenge's algorithm in lower case", []string{"AUTH-008"}, digestAuth},
		{devDigestSHA256Only, "digest-sha256-only", "challenges with SHA-256 only, not the documented MD5", []string{"AUTH-008"}, digestAuth},
		{devDigestUnsigned403, "digest-unsigned-403", "answers an unsigned request with 403 and no challenge", []string{"AUTH-001", "AUTH-008"}, digestAuth},
		{devDigestURIUnchecked, "digest-uri-unchecked", "accepts a signature made for another URI", []string{"AUTH-018"}, digestAuth},
		{devDigestPasswordUnchecked, "digest-password-unchecked", "checks that the public key exists but not the response computed from the private key", []string{"AUTH-019"}, digestAuth},

		// Rate limits.
		{devRateLimitDoubled, "rate-limit-doubled", "admits twice the documented limit", []string{"RATE-002"}, rateLimited},
		{devRateLimitFifth, "rate-limit-fifth", "admits a fifth of the documented limit", []string{"RATE-002"}, rateLimited},
		{devRateLimitShared, "rate-limit-shared", "counts every key against one shared budget", []string{"RATE-003"}, rateLimited},
		{devResetInMillis, "reset-in-millis", "sends X-RateLimit-Reset in milliseconds", []string{"RATE-001"}, xRateLimit},
		{devResetAsDelta, "reset-as-delta", "sends X-RateLimit-Reset as seconds until the reset", []string{"RATE-001"}, xRateLimit},
		{devRetryAfterHuge, "retry-after-huge", "sends a Retry-After a thousand times too long", []string{"RATE-005"}, rateLimited},
		{devRetryAfterMissing, "retry-after-missing", "sends 429 without Retry-After", []string{"RATE-002"}, rateLimited},
		{devRemainingConstant, "remaining-constant", "never decreases X-RateLimit-Remaining", []string{"RATE-001"}, xRateLimit},
		{devRateLimitHeadersOnlyOn429, "rate-limit-headers-only-on-429", "sends the X-RateLimit-* headers only on the 429", []string{"RATE-001"}, xRateLimit},
		{devRateLimitOutlivesRetryAfter, "rate-limit-outlives-retry-after", "keeps refusing after the Retry-After it sent", []string{"RATE-004"}, rateLimited},

		// Paths, related records and search.
		{devPathCaseSensitive, "path-case-sensitive", "matches paths only as the spec spells them: /businessobject/Incidents is 404", []string{"ENV-020"}, caseInsensitivePaths},
		{devRelatedUnfiltered, "related-unfiltered", "lists every related record of the type under any parent record, known or not", []string{"ENV-021"}, hasRelatedLists},
		{devSearchIgnored, "search-ignored", "accepts a search's text ($search, a full-text search body) and ignores it", []string{"ENV-022"}, hasSearch},
		{devUpdateNotStored, "update-not-stored", "answers an update with the changed record but does not keep the change", []string{"ENV-023"}, hasDataUpdates},
		// API key access lists.
		{devAccessListIPEntriesIgnored, "access-list-ip-entries-ignored", "honours only the CIDR blocks of a key's access list: a key listing the client's own address is still refused", []string{"AUTH-023"}, hasAccessList},
		{devAccessListDeleteIgnored, "access-list-delete-ignored", "answers the deletion of an access-list entry but keeps the entry", []string{"AUTH-024"}, hasAccessList},
		{devAccessListUsageUnrecorded, "access-list-usage-unrecorded", "shows every access-list entry unused: count 0, no lastUsed or lastUsedAddress, whatever it admitted", []string{"AUTH-025"}, hasAccessList},
		// State that follows writes, and lists that narrow.
		{devActionEffectLost, "action-effect-lost", "answers an action (acknowledge, clear, reboot) with success but changes nothing", []string{"DATA-001"}, func(p *specs.Profile) bool { return len(p.UndoableActions()) > 0 }},
		{devFilterIgnored, "filter-ignored", "accepts a list's documented filters and ignores them, answering every item", []string{"DATA-002"}, func(p *specs.Profile) bool { return len(p.FilteredLists()) > 0 }},
	}
	out := make([]deviationSpec, devCount)
	for _, d := range list {
		if out[d.id].name != "" || d.id == devNone {
			panic(fmt.Sprintf("mock: deviation %d (%s) listed twice", d.id, d.name))
		}
		out[d.id] = d
	}
	for id, d := range out[1:] {
		if d.name == "" {
			panic(fmt.Sprintf("mock: deviation %d has no catalogue entry", id+1))
		}
	}
	return out
}()

func deviationNamed(name string) (deviationSpec, bool) {
	for _, d := range deviations[1:] {
		if d.name == name {
			return d, true
		}
	}
	return deviationSpec{}, false
}

// Deviations lists every deviation that applies to at least one of profiles,
// with the profiles it applies to, in catalogue order.
func Deviations(profiles []*specs.Profile) []Deviation {
	var out []Deviation
	for _, d := range deviations[1:] {
		dv := Deviation{Name: d.name, Summary: d.summary, Breaks: slices.Clone(d.breaks)}
		for _, p := range profiles {
			if d.appliesTo(p) {
				dv.Profiles = append(dv.Profiles, p.Name)
			}
		}
		if len(dv.Profiles) > 0 {
			out = append(out, dv)
		}
	}
	return out
}

// The hooks below are where the pipeline asks whether to get a rule wrong.

// deviateError changes an error on its way out.
func (s *Server) deviateError(x *exchange, f *failure, status int, body []byte) (int, []byte) {
	a := x.faults
	if a == nil {
		return status, body
	}
	h := x.w.Header()
	switch {
	case a.has(devNotFoundNotJSON) && f.kind == specs.NotFound:
		h.Set("Content-Type", "text/plain; charset=utf-8")
		return status, []byte("404 page not found\n")
	case a.has(devRateLimitedNotJSON) && f.kind == specs.RateLimited:
		h.Set("Content-Type", "text/html")
		return status, []byte("<html><body><h1>429 Too Many Requests</h1></body></html>\n")
	case a.has(devErrorEnvelopeFlat):
		msg := f.message
		if msg == "" {
			msg = x.profile.Errors.Spec(f.kind).Message
		}
		b, _ := json.Marshal(map[string]string{"message": msg})
		return status, b
	case a.has(devErrorCodeWrong):
		errs := x.profile.Errors
		kinds := make(map[specs.ErrorKind]specs.ErrorSpec, len(errs.Kinds))
		for k, v := range errs.Kinds {
			v.Code = "ERROR"
			v.Status += 1000 // where the template carries the status as the code (OpManager)
			kinds[k] = v
		}
		errs.Kinds = kinds
		_, b := errs.Render(f.kind, f.message, f.params...)
		return status, b
	}
	return status, body
}

// deviateAuth changes an authentication failure: its status or challenge.
func (s *Server) deviateAuth(x *exchange, f *failure) *failure {
	a := x.faults
	if a == nil || f.kind != specs.Unauthenticated {
		return f
	}
	if a.has(devMalformedCredentials400) && malformedCredentials(x.profile, x.r) {
		return &failure{kind: specs.InvalidParameter, message: "Bad Authorization header.", reason: f.reason, why: f.why, key: f.key}
	}
	if a.has(devDigestUnsigned403) && x.r.Header.Get("Authorization") == "" {
		return &failure{kind: specs.Forbidden, message: "Anonymous access is not allowed.", reason: f.reason, why: f.why, key: f.key}
	}
	if a.has(devUnauthenticatedAs403) {
		f.status = http.StatusForbidden
	}
	if a.has(devChallengeMissing) {
		f.challenges = nil
	}
	if a.has(devDigestSHA256Only) && len(f.challenges) > 0 {
		f.challenges = []string{strings.Replace(f.challenges[0], "algorithm=MD5", "algorithm=SHA-256", 1)}
	}
	for i, c := range f.challenges {
		if a.has(devDigestExtraChallengeParam) {
			c += `, charset="UTF-8"`
		}
		if a.has(devDigestLowercaseAlgorithm) {
			c = strings.Replace(c, "algorithm=MD5", "algorithm=md5", 1)
		}
		f.challenges[i] = c
	}
	return f
}

// malformedCredentials reports whether the request presents credentials in
// the profile's place that are not in its documented form.
func malformedCredentials(p *specs.Profile, r *http.Request) bool {
	h := r.Header.Get("Authorization")
	switch p.Auth.Mode {
	case specs.AuthBearer:
		scheme, token, _ := strings.Cut(h, " ")
		return strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(token) == ""
	case specs.AuthDigest:
		if !digest.IsDigest(h) {
			return false
		}
		c, err := digest.ParseCredentials(h)
		return err != nil || c.Username == "" || c.Response == ""
	case specs.AuthAPIKey:
		for _, sc := range p.Auth.Schemes {
			v := r.Header.Get(sc.Param)
			if sc.In == "query" {
				v = r.URL.Query().Get(sc.Param)
			}
			if _, ok := r.Header[http.CanonicalHeaderKey(sc.Param)]; ok || sc.In == "query" && r.URL.Query().Has(sc.Param) {
				if _, ok := cutFormat(sc.Format, v); !ok {
					return true
				}
			}
		}
	}
	return false
}

// skipAuthentication reports whether a deviation serves the operation
// without asking for credentials.
func (s *Server) skipAuthentication(x *exchange) bool {
	r := x.op.Resource
	return x.faults.has(devUnauthenticatedItemRoutes) && r != nil && r.Action == specs.ActionGet && r.ID != ""
}

// issuedForm reports whether token looks like the keys the profile issues
// (om_ and 40 base62 characters; 32 hex digits), whoever it belongs to.
func issuedForm(p *specs.Profile, token string) bool {
	probe := newSecret(p)
	if len(token) != len(probe) || !strings.HasPrefix(token, p.Auth.TokenPrefix) {
		return false
	}
	for i := len(p.Auth.TokenPrefix); i < len(token); i++ {
		c := token[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// skipAuthorization reports whether the deviations leave out the access
// check altogether, or replace it with a laxer one that still passes.
func (s *Server) skipAuthorization(x *exchange) bool {
	a := x.faults
	if a == nil {
		return false
	}
	if a.has(devScopesUncheckedOnWrites) && x.r.Method != http.MethodGet && x.r.Method != http.MethodHead {
		return true
	}
	if a.has(devRoleUnchecked) || a.has(devBoundRolesUnchecked) {
		lax := *x.auth
		if a.has(devRoleUnchecked) {
			lax.Key.Role, lax.Owner = "", nil
		}
		if a.has(devBoundRolesUnchecked) {
			lax.Key.Scopes, lax.Key.granted = specs.Unbound(lax.Key.Scopes), nil
		}
		for _, alt := range x.op.Security {
			if authorize(x.profile, x.op, &lax, alt, x.params) == nil {
				return true
			}
		}
	}
	return false
}

// deviatePageSize changes the page size a request asked for.
func (s *Server) deviatePageSize(x *exchange, pg *specs.Pagination, size int) int {
	switch {
	case x.faults.has(devPageSizeIgnored):
		return pg.Size.Default
	case x.faults.has(devShortPages) && pg.Size.Max > 0:
		return min(size, max(pg.Size.Max/4, 1))
	}
	return size
}

// deviateTotal changes the total a list reports.
func (s *Server) deviateTotal(x *exchange, total, onPage int) int {
	if x.faults.has(devTotalIsPageCount) {
		return onPage
	}
	return total
}

// deviateLimit changes the limit a request is counted against, or the budget it is counted in.
func (s *Server) deviateLimit(x *exchange, bk *budgetKey, lim specs.Limit) specs.Limit {
	a := x.faults
	if a == nil {
		return lim
	}
	switch {
	case a.has(devRateLimitDoubled):
		lim.Limit *= 2
	case a.has(devRateLimitFifth):
		lim.Limit = max(lim.Limit/5, 1)
	}
	if a.has(devRateLimitShared) {
		bk.key = "*"
	}
	if a.has(devRateLimitOutlivesRetryAfter) {
		lim.Window *= 10
	}
	return lim
}

func (s *Server) deviateRemaining(x *exchange, d decision) int {
	if x.faults.has(devRemainingConstant) {
		return d.limit
	}
	return d.remaining
}

func (s *Server) deviateReset(x *exchange, reset time.Time, untilReset time.Duration) string {
	switch {
	case x.faults.has(devResetInMillis):
		return strconv.FormatInt(reset.UnixMilli(), 10)
	case x.faults.has(devResetAsDelta):
		return strconv.FormatInt(ceilSeconds(untilReset), 10)
	}
	return resetSeconds(reset)
}

// deviateRetryAfter changes Retry-After, or leaves it out (ok false).
func (s *Server) deviateRetryAfter(x *exchange, secs int64) (int64, bool) {
	switch {
	case x.faults.has(devRetryAfterMissing):
		return 0, false
	case x.faults.has(devRetryAfterHuge):
		return secs * 1000, true
	case x.faults.has(devRateLimitOutlivesRetryAfter):
		return max(int64(math.Ceil(float64(secs)/10)), 1), true
	}
	return secs, true
}

// leakedSecret is the key's secret in clear where a deviation shows it.
func (s *Server) leakedSecret(x *exchange, k Key) (string, bool) {
	action := x.op.Resource.Action
	if !(x.faults.has(devPrivateKeyOnGet) && action == specs.ActionGet || x.faults.has(devPrivateKeyInList) && action == specs.ActionList) {
		return "", false
	}
	if k.PublicKey == "" {
		return "", false
	}
	_, private, ok := s.keys.DigestKey(x.profile.Name, k.PublicKey)
	return private, ok
}
