// Package specs holds the vendor OpenAPI descriptions opsconform ships and the
// behaviour model read from them.
//
// A Profile is everything the mock serves and the suites check for one vendor:
// its operations (from standard OpenAPI) and the behaviour OpenAPI cannot say
// (from a small set of x-opsconform-* extensions, documented in EXTENSIONS.md).
// Both the mock and the suites read Profiles; neither knows a vendor by name.
package specs

import (
	"sync"
	"time"

	"github.com/pb33f/libopenapi"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"go.yaml.in/yaml/v4"
)

// Profile is one vendor's documented API behaviour.
type Profile struct {
	Name   string // short identifier used on the command line, e.g. "opsmerge"
	Title  string // human name, e.g. "OpsMerge"
	Source string // the vendor document the description was written from
	// Citations are the passages of Source each group of requirements enforces.
	Citations map[string]string
	// Lifecycle lists the key lifecycle events the vendor documents.
	Lifecycle []string
	File      string // where the description was loaded from
	Version   string // info.version

	// BasePath is the path of the first server URL ("/api/v1"); every
	// Operation.Path starts with it.
	BasePath string

	// CaseInsensitivePaths says the vendor matches the literal text of its
	// paths in any case (Ivanti's business object names:
	// /businessobject/Incidents is /businessobject/incidents). Parameter
	// values keep the case they are sent in.
	CaseInsensitivePaths bool

	Auth       Auth
	Access     Access
	Envelope   Envelope
	Errors     Errors
	Pagination *Pagination // nil when the API does not paginate
	RateLimits RateLimits
	Query      *QueryOptions // nil when lists take no query options

	Operations []*Operation

	// Document and Model are the libopenapi views the model was read from,
	// kept for request and response validation. Document is nil for a big
	// JSON description, whose Model is built from a faster JSON parse.
	Document libopenapi.Document
	Model    *v3.Document

	// Extended is true when the document carries x-opsconform-* extensions:
	// a vendor's documented behaviour, checked by the vendor suites. A plain
	// OpenAPI file is checked by the generic requirements instead.
	Extended bool

	// Embedded is true for a profile LoadEmbedded modelled from a
	// description built into the binary, false for any file read from disk
	// (even one with the same name): what is known of the embedded
	// descriptions, such as that their data builds from the embedded
	// fixtures, holds for it.
	Embedded bool

	// Warnings are what the loader resolved rather than refused: overlapping
	// templates, keywords foreign to the document's dialect, unsupported
	// schemes. Each says where ("file:line:col: …").
	Warnings []string

	checked        sync.Map // CheckValue's compiled schemas: checkKey → *jsonschema.Schema, nil when it does not compile
	validatorsOnce sync.Once
	validators     *validatorCache // per-path request and response validators, built on first use
}

// LifecycleEvents are the key lifecycle events a profile may document: each
// must make the key unusable from the next request on, except shown-once,
// which says a new key's secret appears once and is redacted afterwards.
var LifecycleEvents = []string{"revoke", "expire", "disable", "regenerate", "delete", "deactivate-owner", "shown-once", "disable-api"}

// Documents reports whether the vendor documents a lifecycle event.
func (p *Profile) Documents(event string) bool { return slicesContain(p.Lifecycle, event) }

// CitationGroups are the requirement groups a profile may cite its documentation for.
var CitationGroups = []string{"auth", "lifecycle", "envelope", "pagination", "rate-limits", "schema", "stability", "data"}

// Cite is where group's requirements are written: the profile's citation,
// or its source document, or the spec itself.
func (p *Profile) Cite(group string) string {
	if c := p.Citations[group]; c != "" {
		return c
	}
	if p.Source != "" {
		return p.Source
	}
	return p.File
}

// Operation finds an operation by its operationId.
func (p *Profile) Operation(id string) *Operation {
	for _, op := range p.Operations {
		if op.ID == id {
			return op
		}
	}
	return nil
}

// ClosedCreate is a create operation whose JSON body schema refuses
// unknown fields (additionalProperties: false); nil when there is none.
func (p *Profile) ClosedCreate() *Operation {
	for _, op := range p.Operations {
		r := op.Resource
		if r == nil || r.Action != ActionCreate || op.Body == nil || op.Body.Schema == nil {
			continue
		}
		if ap := op.Body.Schema.AdditionalProperties; ap != nil && ap.IsB() && !ap.B {
			return op
		}
	}
	return nil
}

// AuthMode names how a profile's clients present their credentials.
type AuthMode string

// The auth modes. Each security scheme has one; a profile's Mode is its
// primary scheme's, which the vendor-specific checks read.
const (
	AuthNone      AuthMode = "none"      // no security scheme at all
	AuthAPIKey    AuthMode = "apikey"    // a key in a header, query parameter or cookie, possibly in a format
	AuthBearer    AuthMode = "bearer"    // Authorization: Bearer <token> (http bearer, oauth2, openIdConnect)
	AuthDigest    AuthMode = "digest"    // HTTP Digest, RFC 7616
	AuthBasic     AuthMode = "basic"     // HTTP Basic, RFC 7617: a user name and password
	AuthHTTP      AuthMode = "http"      // another HTTP scheme: Authorization: <scheme> <token>
	AuthMutualTLS AuthMode = "mutualTLS" // a client certificate; the mock cannot check it over plain HTTP
)

// Auth is how a profile authenticates requests: its security schemes, each
// with its own mode. Operations list alternatives of them (Operation.Security).
type Auth struct {
	// Mode is the primary scheme's mode (AuthNone without schemes).
	Mode AuthMode

	// Schemes are the profile's security schemes in declaration order.
	Schemes []*Scheme

	// TokenPrefix is the prefix the primary bearer scheme's tokens carry ("om_");
	// empty when any token will do. Each Scheme keeps its own.
	TokenPrefix string

	// Digest is the primary digest scheme's policy; nil without a digest scheme.
	// Each digest Scheme keeps its own.
	Digest *DigestPolicy

	// BindTenant and BindIP say a key is only valid on the host (tenant) it
	// was made for and, where it lists client IPs, from those IPs.
	BindTenant bool
	BindIP     bool
}

// Scheme is one security scheme from components.securitySchemes.
type Scheme struct {
	Name       string // the key in components.securitySchemes
	Type       string // apiKey, http, oauth2 or openIdConnect
	HTTPScheme string // bearer or digest, for Type http
	In         string // header or query, for Type apiKey
	Param      string // header or query parameter name, for Type apiKey

	// Format is how the key is written into the parameter, with {key}
	// standing for the key ("rest_api_key={key}"). "{key}" when unset.
	Format string

	// Mode is how a client presents credentials for this scheme.
	Mode AuthMode
	// TokenPrefix is the prefix this bearer scheme's tokens carry; empty when any token will do.
	TokenPrefix string
	// Digest is this digest scheme's policy; nil for other modes.
	Digest *DigestPolicy
	// Scopes are the scopes an oauth2 scheme declares across its flows, sorted.
	Scopes []string
}

// Primary is the scheme the vendor-specific checks use: the first declared
// scheme that some operation requires, else the first declared; nil without schemes.
func (a *Auth) Primary() *Scheme {
	for _, s := range a.Schemes {
		if s.Mode == a.Mode {
			return s
		}
	}
	return nil
}

// Mixed reports whether the profile's schemes use more than one mode.
func (a *Auth) Mixed() bool {
	for _, s := range a.Schemes {
		if s.Mode != a.Mode {
			return true
		}
	}
	return false
}

// Has reports whether any scheme uses mode.
func (a *Auth) Has(mode AuthMode) bool {
	for _, s := range a.Schemes {
		if s.Mode == mode {
			return true
		}
	}
	return false
}

// DigestPolicy is the HTTP Digest behaviour a profile documents.
type DigestPolicy struct {
	Realm         string
	Domain        string
	Algorithms    []string // in the server's order of preference; the first is challenged
	QOP           string
	NonceLifetime time.Duration
}

// Access is the permission model: what owners may do and what grants imply.
type Access struct {
	// Roles maps an owner role to the scope patterns it allows. A key can
	// never do more than its owner's role allows ("scopes narrow, never widen").
	Roles map[string][]string

	// Implies maps a grant name to the names it implies (ORG_OWNER → ORG_MEMBER).
	// A bound grant (ORG_OWNER@abc) implies the same names bound to the same entity.
	Implies map[string][]string

	// Bindings maps a grant-name prefix to the field that names the entity a
	// bound grant applies to (ORG_ → orgId), for rendering roles as objects.
	Bindings map[string]string

	// APIDisabledStatus is the status for a key whose owner has API access
	// turned off (OpManager's "REST API access" toggle); 401 unless the spec says otherwise.
	APIDisabledStatus int

	// KeyScopes says keys carry scopes of their own that narrow the owner's
	// role; false where the vendor's keys act with their role alone
	// (Ivanti's "on behalf of … in role").
	KeyScopes bool
}

// Envelope is how successful bodies are wrapped.
type Envelope struct {
	// Success is the field successful bodies are wrapped in ("data"); empty for bare bodies.
	Success string

	// EnvelopeParam names a query flag that wraps any response as
	// {status, content} with HTTP 200 (MongoDB's envelope=true); empty when unsupported.
	EnvelopeParam string

	// PrettyParam names a query flag that indents the body (MongoDB's pretty=true).
	PrettyParam string
}

// Pagination is how a profile's list operations page.
type Pagination struct {
	Style PageStyle

	Page Bound // page number, for StylePage
	Skip Bound // items to skip, for StyleOffset
	Size Bound // items per page

	// Count names a flag that turns the total off (MongoDB's includeCount); empty when unsupported.
	Count string

	Overflow  Policy // what a size above Size.Max gets
	Underflow Policy // what a page or size below its minimum gets

	Response PageFields
	Stop     StopRule
}

// PageStyle is page-number or offset pagination.
type PageStyle string

// The pagination styles.
const (
	StylePage   PageStyle = "page"   // page number and page size
	StyleOffset PageStyle = "offset" // items to skip and page size
)

// Policy is what a server does with an out-of-range paging value.
type Policy string

// The out-of-range policies.
const (
	Reject Policy = "reject" // answer 400 in the profile's error envelope
	Clamp  Policy = "clamp"  // serve the nearest allowed value
)

// StopRule is how a client knows it has the last page.
type StopRule string

// The stop rules.
const (
	StopTotalItems StopRule = "total-items" // collected as many items as the total says
	StopTotalPages StopRule = "total-pages" // page number reached the page count
	StopNextLink   StopRule = "next-link"   // no link with rel "next"
	StopShortPage  StopRule = "short-page"  // fewer items than the page size
)

// PageFields names where a list response keeps its parts. Names are top-level
// fields of the body inside the success envelope; empty when not present.
type PageFields struct {
	Items      string
	TotalItems string
	TotalPages string
	Page       string
	Links      string
}

// Bound is a paging parameter with its documented default and range, read
// from the parameter's schema.
type Bound struct {
	Param   string
	Default int
	Min     int
	Max     int // 0 when there is no maximum
}

// QueryOptions names the OData system query options a profile's lists take
// (Ivanti's $filter, $orderby, $select and $search); empty names are not supported.
type QueryOptions struct {
	Filter, OrderBy, Select, Search string
}

// RateLimits is a profile's rate-limit policy.
type RateLimits struct {
	// Per is what a budget belongs to; always "key" for the vendors modelled.
	Per string

	// Headers is which rate-limit headers every response carries.
	Headers HeaderStyle

	// Classes maps an operation class to its limit.
	Classes map[string]Limit
}

// HeaderStyle says which rate-limit headers a profile documents.
type HeaderStyle string

// The header styles.
const (
	HeadersNone       HeaderStyle = "none"        // only Retry-After on a 429
	HeadersXRateLimit HeaderStyle = "x-ratelimit" // X-RateLimit-Limit, -Remaining, -Reset on every response
)

// Limit is a number of requests per window.
type Limit struct {
	Limit  int
	Window time.Duration
}

// Operation is one API operation with what both the mock and the suites need.
type Operation struct {
	ID       string
	Method   string // upper case
	Path     string // the full path template, base path included: /api/v1/agents/{agentId}
	Template string // the key under paths in the spec: /agents/{agentId}
	Summary  string
	Tags     []string
	// Docs is where the vendor documents the operation: the operation's
	// externalDocs, else empty (the profile's Source then stands for it).
	Docs     ExternalDocs
	Params   []*Param // path-item and operation parameters, operation ones winning
	Body     *RequestBody
	Security []Alternative // any one alternative admits a request
	Public   bool          // the operation needs no credentials

	Responses map[int]*Response
	// Ranges are the documented status ranges ("2XX") by their first digit.
	Ranges map[int]*Response
	// Default is the documented default response; nil when there is none.
	Default *Response

	// Class is the rate-limit class the operation counts against; empty when
	// the profile's policy does not cover it.
	Class string

	Stability   string // x-stability: stable, beta or internal; empty when untiered
	Deprecated  bool
	Deprecation *Deprecation

	Resource  *Resource // what the operation does to which collection; nil when unmodelled
	Paginated bool      // the operation takes the profile's paging parameters
	// Search is a search whose query is the JSON request body (Ivanti's
	// POST /api/rest/search/fulltext); nil for other operations.
	Search *Search

	PathItem *v3.PathItem
	Op       *v3.Operation
}

// Search is a full-text search that takes its query in the request body:
// the text, which collection to search (by the vendor's type name) and the
// page, and answers the matching records in its own list shape.
type Search struct {
	Text, Type, Top, Skip string            // the body's fields; Top and Skip empty when it does not page
	Types                 map[string]string // the vendor's type name → the collection searched
	Items, Total, Echo    string            // the answer's fields: the records, their count, the text searched
	Key                   string            // the answer's field naming the records' id field; empty when none
}

// ExternalDocs is an operation's externalDocs: the page that documents it.
type ExternalDocs struct {
	URL         string
	Description string
}

// Param finds a parameter by location and name.
func (o *Operation) Param(in, name string) *Param {
	for _, p := range o.Params {
		if p.In == in && p.Name == name {
			return p
		}
	}
	return nil
}

// Alternative is one security requirement object: every scheme listed must be satisfied.
type Alternative []Requirement

// Requirement is one scheme with the scopes (or role names) it must carry.
// A scope may contain {param} placeholders bound to the request's path parameters.
type Requirement struct {
	Scheme *Scheme
	Scopes []string
}

// Param is one operation parameter.
type Param struct {
	Name     string
	In       string // path, query, header or cookie
	Required bool
	Schema   *base.Schema
}

// RequestBody is an operation's request body.
type RequestBody struct {
	Required bool
	Schema   *base.Schema // the preferred media type's schema; nil when it has none
	// ContentType is the preferred documented media type: JSON first, then
	// forms, then the first declared; empty when the body declares no content.
	ContentType string
	// ContentTypes are every documented media type, in declaration order.
	ContentTypes []string
	Media        *v3.MediaType // the preferred media type as the spec writes it
}

// Response is one documented response.
type Response struct {
	Status      int
	Description string
	Headers     []string     // header names as the spec writes them
	Schema      *base.Schema // the preferred media type's schema; nil when there is none
	// ContentType is the preferred documented media type (JSON first); empty
	// when the response has no content.
	ContentType string
	// ContentTypes are every documented media type, in declaration order.
	ContentTypes []string
	Media        *v3.MediaType // the preferred media type as the spec writes it
	Spec         *v3.Response  // the response as the spec writes it (headers, examples)
}

// Deprecation is when a deprecated operation was deprecated and goes away.
type Deprecation struct {
	Since  time.Time
	Sunset time.Time
	Link   string
}

// Resource says which collection an operation acts on and how.
type Resource struct {
	Collection string
	Action     Action
	ID         string // the parameter that names one item (path or query)
	Field      string // the item field the ID parameter matches; "id" when unset
	Parent     string // a path parameter the collection is nested under
	// ParentCollection is the collection the Parent parameter names an item
	// of (Ivanti's related objects: incidents('{RecId}')/IncidentContainsJournal
	// lists journals of an incident that must exist); empty when the parent
	// is not modelled as data.
	ParentCollection string
	// Key is the path parameter naming the API key whose access list the
	// items are (source access-list only).
	Key    string
	Items  string // for an unpaginated list: the field that holds the items
	Source Source // where the items live
	// BoundOnly limits a list to the items the caller's key holds a grant
	// bound to (MongoDB lists the organizations and projects a key has a role
	// in); on a get, another item is answered as absent.
	BoundOnly bool
	// Filters maps a list's query or path parameters to the item fields
	// they must equal (MongoDB's GET /orgs?name=…, OpManager's ?severity=1,
	// a related-objects list's parent RecId and the items' ParentLink_RecID;
	// a dotted field reaches into objects and arrays).
	Filters map[string]string
	// Comparisons are a list's comparing filters (OpManager's fromTime and
	// toTime), applied with Filters before paging.
	Comparisons []Comparison
	// Sort names the query parameters a list is sorted by; nil when it has none.
	Sort *Sort
	// Unsupported are parameters the vendor documents that the mock does not
	// apply: a request that carries one is refused with 400 naming it.
	Unsupported []string
	// Sets are what a create, update or action writes on its item, in the
	// order the spec declares them.
	Sets []Assignment
	// View maps fields of the operation's answer to the item fields they
	// show, where the answer calls them by other names.
	View map[string]string
	// Counts maps fields of a list's answer to the item field whose values
	// they count over the listed items (OpManager's listEvents
	// severityVsCount: {"Critical": 2, …}).
	Counts map[string]string
	// Item is the schema of one stored item of the collection: the one the
	// spec names with record, else the list's item schema, else the get's.
	// For collections inferred from REST conventions, inferResources sets it.
	Item *base.Schema

	node   *yaml.Node // the extension as written, for errors found after every operation is read
	record string     // the components schema the extension names as the collection's item
}

// Source is where a collection's items live.
type Source string

// The sources.
const (
	SourceData Source = ""     // the mock's data, seeded from fixtures and generated
	SourceKeys Source = "keys" // the API keys themselves (key management endpoints)
	// SourceAccessList: the items are the entries of one API key's access
	// list, the addresses it may be used from (MongoDB's
	// /orgs/{orgId}/apiKeys/{apiKeyId}/accessList).
	SourceAccessList Source = "access-list"
)

// Action is what an operation does to its collection.
type Action string

// The actions.
const (
	ActionList     Action = "list"
	ActionGet      Action = "get"
	ActionCreate   Action = "create"
	ActionUpdate   Action = "update"
	ActionDelete   Action = "delete"
	ActionDo       Action = "action"   // an action on one item (reboot, acknowledge)
	ActionAssign   Action = "assign"   // attach an item to the parent
	ActionUnassign Action = "unassign" // detach an item from the parent
	ActionWhoAmI   Action = "whoami"   // the caller's own key (OpsMerge's /auth/me)
)
