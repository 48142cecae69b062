package specs

import (
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pb33f/libopenapi/orderedmap"
	"go.yaml.in/yaml/v4"
)

// The x-opsconform-* extensions, by where they may stand. EXTENSIONS.md documents each.
var (
	rootExtensions      = []string{"x-opsconform-profile", "x-opsconform-access", "x-opsconform-envelope", "x-opsconform-errors", "x-opsconform-pagination", "x-opsconform-rate-limits", "x-opsconform-query"}
	schemeExtensions    = []string{"x-opsconform-token-prefix", "x-opsconform-digest", "x-opsconform-format", "x-opsconform-binding"}
	operationExtensions = []string{"x-opsconform-class", "x-opsconform-resource", "x-opsconform-deprecation", "x-opsconform-search"}
)

const defaultNonceLifetime = 5 * time.Minute

type xProfile struct {
	Name         string            `yaml:"name"`
	Title        string            `yaml:"title"`
	Source       string            `yaml:"source"`
	Citations    map[string]string `yaml:"citations"`
	Lifecycle    []string          `yaml:"lifecycle"`
	PathMatching string            `yaml:"pathMatching"`
}

type xAccess struct {
	Roles             map[string][]string `yaml:"roles"`
	Implies           map[string][]string `yaml:"implies"`
	Bindings          map[string]string   `yaml:"bindings"`
	APIDisabledStatus int                 `yaml:"apiDisabledStatus"`
	KeyScopes         *bool               `yaml:"keyScopes"`
}

type xEnvelope struct {
	Success string `yaml:"success"`
	Query   struct {
		Envelope string `yaml:"envelope"`
		Pretty   string `yaml:"pretty"`
	} `yaml:"query"`
}

type xErrors struct {
	Body        any    `yaml:"body"`
	ContentType string `yaml:"contentType"`
	Kinds       map[string]struct {
		Status  int    `yaml:"status"`
		Code    string `yaml:"code"`
		Message string `yaml:"message"`
	} `yaml:"kinds"`
}

type xPagination struct {
	Style     string `yaml:"style"`
	Page      string `yaml:"page"`
	Skip      string `yaml:"skip"`
	Size      string `yaml:"size"`
	Count     string `yaml:"count"`
	Overflow  string `yaml:"overflow"`
	Underflow string `yaml:"underflow"`
	Stop      string `yaml:"stop"`
	Response  struct {
		Items      string `yaml:"items"`
		TotalItems string `yaml:"totalItems"`
		TotalPages string `yaml:"totalPages"`
		Page       string `yaml:"page"`
		Links      string `yaml:"links"`
	} `yaml:"response"`
}

type xRateLimits struct {
	Per     string `yaml:"per"`
	Headers string `yaml:"headers"`
	Classes map[string]struct {
		Limit  int    `yaml:"limit"`
		Window string `yaml:"window"`
	} `yaml:"classes"`
}

type xDigest struct {
	Realm         string   `yaml:"realm"`
	Domain        string   `yaml:"domain"`
	Algorithms    []string `yaml:"algorithms"`
	QOP           string   `yaml:"qop"`
	NonceLifetime string   `yaml:"nonceLifetime"`
}

type xResource struct {
	Collection string `yaml:"collection"`
	Action     string `yaml:"action"`
	ID         string `yaml:"id"`
	Field      string `yaml:"field"`
	Parent     string `yaml:"parent"`
	// ParentCollection and Key: see Resource.
	ParentCollection string    `yaml:"parentCollection"`
	Key              string    `yaml:"key"`
	Items            string    `yaml:"items"`
	Source           string    `yaml:"source"`
	Visible          string    `yaml:"visible"`
	Filters          yaml.Node `yaml:"filters"`
	Sets             yaml.Node `yaml:"sets"`
	Sort             *struct {
		By    string `yaml:"by"`
		Order string `yaml:"order"`
	} `yaml:"sort"`
	Unsupported []string          `yaml:"unsupported"`
	View        map[string]string `yaml:"view"`
	Record      string            `yaml:"record"`
	Counts      map[string]string `yaml:"counts"`
}

type xQuery struct {
	Style   string `yaml:"style"`
	Filter  string `yaml:"filter"`
	OrderBy string `yaml:"orderby"`
	Select  string `yaml:"select"`
	Search  string `yaml:"search"`
}

type xSearch struct {
	Text     string            `yaml:"text"`
	Type     string            `yaml:"type"`
	Top      string            `yaml:"top"`
	Skip     string            `yaml:"skip"`
	Types    map[string]string `yaml:"types"`
	Response struct {
		Items string `yaml:"items"`
		Total string `yaml:"total"`
		Text  string `yaml:"text"`
		Key   string `yaml:"key"`
	} `yaml:"response"`
}

type xDeprecation struct {
	Since  string `yaml:"since"`
	Sunset string `yaml:"sunset"`
	Link   string `yaml:"link"`
}

// The decoder's messages, rewritten into the loader's "file:line:col: what" form.
var (
	unknownField = regexp.MustCompile(`line (\d+): field (\S+) not found`)
	wrongType    = regexp.MustCompile(`line (\d+): (cannot (?:unmarshal|construct|decode) .*)`)
)

// decode strictly decodes an extension: an unknown field is an error with its position.
func (l *loader) decode(name string, n *yaml.Node, v any) error {
	if err := n.Load(v, yaml.WithKnownFields()); err != nil {
		msg := err.Error()
		if m := unknownField.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			return l.errorf(&yaml.Node{Line: line, Column: 1}, "%s: unknown field %q", name, m[2])
		}
		if m := wrongType.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			return l.errorf(&yaml.Node{Line: line, Column: 1}, "%s: %s", name, m[2])
		}
		return l.errorf(n, "%s: %s", name, msg)
	}
	return nil
}

// knownExtensions rejects x-opsconform-* names that do not belong at this level,
// so a typo is an error rather than silently ignored behaviour.
func (l *loader) knownExtensions(ext *orderedmap.Map[string, *yaml.Node], where string, allowed []string) error {
	if ext == nil {
		return nil
	}
	for name, n := range ext.FromOldest() {
		if !strings.HasPrefix(name, "x-opsconform-") || slicesContain(allowed, name) {
			continue
		}
		return l.unknownExtension(n, where, name, allowed)
	}
	return nil
}

// unknownExtension is the error for an x-opsconform-* extension that is not
// among those allowed where it stands; n is its value.
func (l *loader) unknownExtension(n *yaml.Node, where, name string, allowed []string) error {
	if len(allowed) == 0 {
		return l.errorf(n, "%s: %s is not allowed here", where, name)
	}
	return l.errorf(n, "%s: unknown extension %s (known here: %s)", where, name, strings.Join(allowed, ", "))
}

// child finds the value node of key in a mapping node, or returns n, so that
// errors about a field point at the field when it exists.
func child(n *yaml.Node, path ...string) *yaml.Node {
	cur := n
	for _, key := range path {
		if cur == nil || cur.Kind != yaml.MappingNode {
			return n
		}
		found := false
		for i := 0; i+1 < len(cur.Content); i += 2 {
			if cur.Content[i].Value == key {
				cur, found = cur.Content[i+1], true
				break
			}
		}
		if !found {
			return n
		}
	}
	return cur
}

func oneOf(v string, allowed ...string) bool { return slicesContain(allowed, v) }

func (l *loader) rootExtensions(p *Profile, ext *orderedmap.Map[string, *yaml.Node]) error {
	if err := l.knownExtensions(ext, "document", rootExtensions); err != nil {
		return err
	}
	if ext == nil {
		return nil
	}
	if n, ok := ext.Get("x-opsconform-profile"); ok {
		var x xProfile
		if err := l.decode("x-opsconform-profile", n, &x); err != nil {
			return err
		}
		if x.Name != "" {
			if !validName(x.Name) {
				return l.errorf(child(n, "name"), "x-opsconform-profile.name: %q must be lower-case letters, digits and dashes", x.Name)
			}
			p.Name = x.Name
		}
		if x.Title != "" {
			p.Title = x.Title
		}
		p.Source = x.Source
		for _, group := range sortedKeys(x.Citations) {
			if !slicesContain(CitationGroups, group) {
				return l.errorf(child(n, "citations", group), "x-opsconform-profile.citations: unknown group %q (want one of %s)", group, strings.Join(CitationGroups, ", "))
			}
		}
		p.Citations = x.Citations
		for _, ev := range x.Lifecycle {
			if !slicesContain(LifecycleEvents, ev) {
				return l.errorf(child(n, "lifecycle"), "x-opsconform-profile.lifecycle: unknown event %q (want some of %s)", ev, strings.Join(LifecycleEvents, ", "))
			}
		}
		p.Lifecycle = x.Lifecycle
		switch x.PathMatching {
		case "", "exact":
		case "case-insensitive":
			p.CaseInsensitivePaths = true
		default:
			return l.errorf(child(n, "pathMatching"), "x-opsconform-profile.pathMatching: unknown value %q (want exact or case-insensitive)", x.PathMatching)
		}
	}
	if n, ok := ext.Get("x-opsconform-access"); ok {
		var x xAccess
		if err := l.decode("x-opsconform-access", n, &x); err != nil {
			return err
		}
		p.Access.Roles, p.Access.Implies, p.Access.Bindings = x.Roles, x.Implies, x.Bindings
		p.Access.KeyScopes = x.KeyScopes == nil || *x.KeyScopes
		if x.APIDisabledStatus != 0 {
			if x.APIDisabledStatus != http.StatusUnauthorized && x.APIDisabledStatus != http.StatusForbidden {
				return l.errorf(child(n, "apiDisabledStatus"), "x-opsconform-access.apiDisabledStatus: %d (want 401 or 403)", x.APIDisabledStatus)
			}
			p.Access.APIDisabledStatus = x.APIDisabledStatus
		}
	}
	if n, ok := ext.Get("x-opsconform-envelope"); ok {
		var x xEnvelope
		if err := l.decode("x-opsconform-envelope", n, &x); err != nil {
			return err
		}
		p.Envelope = Envelope{Success: x.Success, EnvelopeParam: x.Query.Envelope, PrettyParam: x.Query.Pretty}
	}
	if n, ok := ext.Get("x-opsconform-errors"); ok {
		if err := l.errorsExtension(p, n); err != nil {
			return err
		}
	}
	if n, ok := ext.Get("x-opsconform-query"); ok {
		var x xQuery
		if err := l.decode("x-opsconform-query", n, &x); err != nil {
			return err
		}
		if x.Style != "odata" {
			return l.errorf(child(n, "style"), "x-opsconform-query.style: unknown value %q (want odata)", x.Style)
		}
		if x.Filter == "" && x.OrderBy == "" && x.Select == "" && x.Search == "" {
			return l.errorf(n, "x-opsconform-query: name at least one of filter, orderby, select, search")
		}
		p.Query = &QueryOptions{Filter: x.Filter, OrderBy: x.OrderBy, Select: x.Select, Search: x.Search}
	}
	if n, ok := ext.Get("x-opsconform-rate-limits"); ok {
		if err := l.rateLimitsExtension(p, n); err != nil {
			return err
		}
	}
	if n, ok := ext.Get("x-opsconform-pagination"); ok {
		if err := l.paginationExtension(p, n); err != nil {
			return err
		}
	}
	return nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func (l *loader) errorsExtension(p *Profile, n *yaml.Node) error {
	var x xErrors
	if err := l.decode("x-opsconform-errors", n, &x); err != nil {
		return err
	}
	if x.Body == nil {
		return l.errorf(n, "x-opsconform-errors.body: missing (the error body template)")
	}
	if err := checkTemplate(x.Body, "x-opsconform-errors.body"); err != nil {
		return l.errorf(child(n, "body"), "%v", err)
	}
	p.Errors.Template = x.Body
	p.Errors.ContentType = "application/json"
	if x.ContentType != "" {
		p.Errors.ContentType = x.ContentType
	}
	for _, name := range sortedKeys(x.Kinds) {
		k := x.Kinds[name]
		kind := ErrorKind(name)
		if _, known := defaultErrorStatus[kind]; !known {
			return l.errorf(child(n, "kinds", name), "x-opsconform-errors.kinds: unknown kind %q (want one of %s)", name, kindList())
		}
		if k.Status == 0 {
			k.Status = defaultErrorStatus[kind]
		}
		if k.Status < 400 || k.Status > 599 {
			return l.errorf(child(n, "kinds", name), "x-opsconform-errors.kinds.%s.status: %d is not an error status", name, k.Status)
		}
		if k.Message == "" {
			k.Message = http.StatusText(k.Status)
		}
		p.Errors.Kinds[kind] = ErrorSpec{Status: k.Status, Code: k.Code, Message: k.Message}
	}
	return nil
}

func kindList() string {
	s := make([]string, 0, len(ErrorKinds)+len(optionalKinds))
	for _, k := range ErrorKinds {
		s = append(s, string(k))
	}
	for _, k := range slices.Sorted(maps.Keys(optionalKinds)) {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

func (l *loader) rateLimitsExtension(p *Profile, n *yaml.Node) error {
	var x xRateLimits
	if err := l.decode("x-opsconform-rate-limits", n, &x); err != nil {
		return err
	}
	rl := RateLimits{Per: "key", Headers: HeadersNone, Classes: map[string]Limit{}}
	if x.Per != "" {
		if x.Per != "key" {
			return l.errorf(child(n, "per"), "x-opsconform-rate-limits.per: unknown value %q (want key)", x.Per)
		}
	}
	if x.Headers != "" {
		if !oneOf(x.Headers, string(HeadersNone), string(HeadersXRateLimit)) {
			return l.errorf(child(n, "headers"), "x-opsconform-rate-limits.headers: unknown value %q (want none or x-ratelimit)", x.Headers)
		}
		rl.Headers = HeaderStyle(x.Headers)
	}
	if len(x.Classes) == 0 {
		return l.errorf(n, "x-opsconform-rate-limits.classes: at least one class is needed")
	}
	for _, name := range sortedKeys(x.Classes) {
		c := x.Classes[name]
		at := child(n, "classes", name)
		if c.Limit <= 0 {
			return l.errorf(at, "x-opsconform-rate-limits.classes.%s.limit: %d (want a positive number of requests)", name, c.Limit)
		}
		w, err := time.ParseDuration(c.Window)
		if err != nil || w <= 0 {
			return l.errorf(at, "x-opsconform-rate-limits.classes.%s.window: %q is not a positive duration like 1m", name, c.Window)
		}
		rl.Classes[name] = Limit{Limit: c.Limit, Window: w}
	}
	p.RateLimits = rl
	return nil
}

// classFor is the class an operation without x-opsconform-class counts against:
// read for safe methods and write otherwise, falling back to "default".
func (r *RateLimits) classFor(method string) string {
	c := "write"
	if method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions {
		c = "read"
	}
	if _, ok := r.Classes[c]; ok {
		return c
	}
	if _, ok := r.Classes["default"]; ok {
		return "default"
	}
	return ""
}

func (l *loader) paginationExtension(p *Profile, n *yaml.Node) error {
	var x xPagination
	if err := l.decode("x-opsconform-pagination", n, &x); err != nil {
		return err
	}
	pg := &Pagination{Style: PageStyle(x.Style), Count: x.Count, Overflow: Reject, Underflow: Reject}
	switch pg.Style {
	case StylePage:
		if x.Page == "" {
			return l.errorf(n, "x-opsconform-pagination.page: style page needs the page-number parameter's name")
		}
		if x.Skip != "" {
			return l.errorf(child(n, "skip"), "x-opsconform-pagination.skip: only for style offset")
		}
	case StyleOffset:
		if x.Skip == "" {
			return l.errorf(n, "x-opsconform-pagination.skip: style offset needs the skip parameter's name")
		}
		if x.Page != "" {
			return l.errorf(child(n, "page"), "x-opsconform-pagination.page: only for style page")
		}
	default:
		return l.errorf(child(n, "style"), "x-opsconform-pagination.style: unknown value %q (want page or offset)", x.Style)
	}
	if x.Size == "" {
		return l.errorf(n, "x-opsconform-pagination.size: the page-size parameter's name is needed")
	}
	pg.Page.Param, pg.Skip.Param, pg.Size.Param = x.Page, x.Skip, x.Size
	for _, f := range []struct {
		name string
		val  string
		dst  *Policy
	}{{"overflow", x.Overflow, &pg.Overflow}, {"underflow", x.Underflow, &pg.Underflow}} {
		if f.val == "" {
			continue
		}
		if !oneOf(f.val, string(Reject), string(Clamp)) {
			return l.errorf(child(n, f.name), "x-opsconform-pagination.%s: unknown value %q (want reject or clamp)", f.name, f.val)
		}
		*f.dst = Policy(f.val)
	}
	pg.Response = PageFields{Items: x.Response.Items, TotalItems: x.Response.TotalItems, TotalPages: x.Response.TotalPages, Page: x.Response.Page, Links: x.Response.Links}
	if pg.Response.Items == "" {
		return l.errorf(n, "x-opsconform-pagination.response.items: the field that holds a page's items is needed")
	}
	pg.Stop = StopRule(x.Stop)
	need := map[StopRule]string{StopTotalItems: pg.Response.TotalItems, StopTotalPages: pg.Response.TotalPages, StopNextLink: pg.Response.Links, StopShortPage: pg.Response.Items}
	field, known := need[pg.Stop]
	if !known {
		return l.errorf(child(n, "stop"), "x-opsconform-pagination.stop: unknown value %q (want total-items, total-pages, next-link or short-page)", x.Stop)
	}
	if field == "" {
		return l.errorf(child(n, "stop"), "x-opsconform-pagination.stop: %s needs the matching response field", x.Stop)
	}
	p.Pagination = pg
	return nil
}

func (l *loader) schemeExtensions(p *Profile, s *Scheme, ext *orderedmap.Map[string, *yaml.Node]) error {
	where := "securitySchemes." + s.Name
	if err := l.knownExtensions(ext, where, schemeExtensions); err != nil {
		return err
	}
	if ext == nil {
		return nil
	}
	if n, ok := ext.Get("x-opsconform-token-prefix"); ok {
		if s.HTTPScheme != "bearer" {
			return l.errorf(n, "%s: x-opsconform-token-prefix is only for bearer schemes", where)
		}
		if err := l.decode(where+".x-opsconform-token-prefix", n, &s.TokenPrefix); err != nil {
			return err
		}
	}
	if n, ok := ext.Get("x-opsconform-format"); ok {
		if s.Type != "apiKey" {
			return l.errorf(n, "%s: x-opsconform-format is only for apiKey schemes", where)
		}
		if err := l.decode(where+".x-opsconform-format", n, &s.Format); err != nil {
			return err
		}
		if strings.Count(s.Format, "{key}") != 1 {
			return l.errorf(n, "%s.x-opsconform-format: %q must contain {key} exactly once", where, s.Format)
		}
	}
	if n, ok := ext.Get("x-opsconform-binding"); ok {
		var binds []string
		if err := l.decode(where+".x-opsconform-binding", n, &binds); err != nil {
			return err
		}
		for _, b := range binds {
			switch b {
			case "tenant":
				p.Auth.BindTenant = true
			case "ip":
				p.Auth.BindIP = true
			default:
				return l.errorf(n, "%s.x-opsconform-binding: unknown value %q (want tenant or ip)", where, b)
			}
		}
	}
	if n, ok := ext.Get("x-opsconform-digest"); ok {
		if s.HTTPScheme != "digest" {
			return l.errorf(n, "%s: x-opsconform-digest is only for http digest schemes", where)
		}
		var x xDigest
		if err := l.decode(where+".x-opsconform-digest", n, &x); err != nil {
			return err
		}
		d := &DigestPolicy{Realm: x.Realm, Domain: x.Domain, Algorithms: x.Algorithms, QOP: x.QOP, NonceLifetime: defaultNonceLifetime}
		if d.Realm == "" {
			return l.errorf(n, "%s.x-opsconform-digest.realm: missing", where)
		}
		if len(d.Algorithms) == 0 {
			d.Algorithms = []string{"MD5"}
		}
		for _, a := range d.Algorithms {
			if !oneOf(a, "MD5", "SHA-256") {
				return l.errorf(child(n, "algorithms"), "%s.x-opsconform-digest.algorithms: unknown value %q (want MD5 or SHA-256, upper case as clients expect)", where, a)
			}
		}
		if d.QOP == "" {
			d.QOP = "auth"
		}
		if d.QOP != "auth" {
			return l.errorf(child(n, "qop"), "%s.x-opsconform-digest.qop: unknown value %q (want auth)", where, d.QOP)
		}
		if x.NonceLifetime != "" {
			lt, err := time.ParseDuration(x.NonceLifetime)
			if err != nil || lt <= 0 {
				return l.errorf(child(n, "nonceLifetime"), "%s.x-opsconform-digest.nonceLifetime: %q is not a positive duration like 5m", where, x.NonceLifetime)
			}
			d.NonceLifetime = lt
		}
		s.Digest = d
	}
	return nil
}

func (l *loader) operationExtensions(p *Profile, o *Operation, ext *orderedmap.Map[string, *yaml.Node]) error {
	where := o.Method + " " + strings.TrimPrefix(o.Path, p.BasePath)
	if err := l.knownExtensions(ext, where, operationExtensions); err != nil {
		return err
	}
	if ext == nil {
		return nil
	}
	if n, ok := ext.Get("x-stability"); ok {
		if err := l.decode(where+".x-stability", n, &o.Stability); err != nil {
			return err
		}
		if !oneOf(o.Stability, "stable", "beta", "internal") {
			return l.errorf(n, "%s.x-stability: unknown value %q (want stable, beta or internal)", where, o.Stability)
		}
	}
	if n, ok := ext.Get("x-opsconform-class"); ok {
		if err := l.decode(where+".x-opsconform-class", n, &o.Class); err != nil {
			return err
		}
		if _, ok := p.RateLimits.Classes[o.Class]; !ok {
			return l.errorf(n, "%s.x-opsconform-class: %q is not a class of x-opsconform-rate-limits (have: %s)",
				where, o.Class, strings.Join(sortedKeys(p.RateLimits.Classes), ", "))
		}
	}
	if n, ok := ext.Get("x-opsconform-deprecation"); ok {
		if !o.Deprecated {
			return l.errorf(n, "%s.x-opsconform-deprecation: only for operations marked deprecated: true", where)
		}
		var x xDeprecation
		if err := l.decode(where+".x-opsconform-deprecation", n, &x); err != nil {
			return err
		}
		d := &Deprecation{Link: x.Link}
		for _, f := range []struct {
			name, val string
			dst       *time.Time
		}{{"since", x.Since, &d.Since}, {"sunset", x.Sunset, &d.Sunset}} {
			if f.val == "" {
				return l.errorf(n, "%s.x-opsconform-deprecation.%s: missing (a date like 2026-05-01)", where, f.name)
			}
			t, err := time.Parse(time.DateOnly, f.val)
			if err != nil {
				return l.errorf(child(n, f.name), "%s.x-opsconform-deprecation.%s: %q is not a date like 2026-05-01", where, f.name, f.val)
			}
			*f.dst = t
		}
		if d.Sunset.Before(d.Since) {
			return l.errorf(n, "%s.x-opsconform-deprecation: sunset %s is before since %s", where, x.Sunset, x.Since)
		}
		o.Deprecation = d
	}
	if n, ok := ext.Get("x-opsconform-search"); ok {
		var x xSearch
		if err := l.decode(where+".x-opsconform-search", n, &x); err != nil {
			return err
		}
		for field, v := range map[string]string{"text": x.Text, "type": x.Type, "response.items": x.Response.Items} {
			if v == "" {
				return l.errorf(n, "%s.x-opsconform-search.%s: missing", where, field)
			}
		}
		if len(x.Types) == 0 {
			return l.errorf(n, "%s.x-opsconform-search.types: name at least one type and the collection it searches", where)
		}
		if (x.Top == "") != (x.Skip == "") {
			return l.errorf(n, "%s.x-opsconform-search: top and skip go together", where)
		}
		if o.Body == nil || o.Body.ContentType != "application/json" {
			return l.errorf(n, "%s.x-opsconform-search: the query is a JSON request body, which the operation does not declare", where)
		}
		o.Search = &Search{Text: x.Text, Type: x.Type, Top: x.Top, Skip: x.Skip, Types: x.Types,
			Items: x.Response.Items, Total: x.Response.Total, Echo: x.Response.Text, Key: x.Response.Key}
	}
	if n, ok := ext.Get("x-opsconform-resource"); ok {
		var x xResource
		if err := l.decode(where+".x-opsconform-resource", n, &x); err != nil {
			return err
		}
		r := &Resource{Collection: x.Collection, Action: Action(x.Action), ID: x.ID, Field: x.Field, Parent: x.Parent,
			ParentCollection: x.ParentCollection, Key: x.Key, Items: x.Items, Source: Source(x.Source), node: n, record: x.Record}
		if r.ParentCollection != "" && (r.Parent == "" || r.Action != ActionList || r.Source != SourceData) {
			return l.errorf(child(n, "parentCollection"), "%s.x-opsconform-resource.parentCollection: only for a list of data with a parent parameter", where)
		}
		if r.Source != SourceData && r.Source != SourceKeys && r.Source != SourceAccessList {
			return l.errorf(child(n, "source"), "%s.x-opsconform-resource.source: unknown value %q (want keys or access-list, or leave it out for data)", where, x.Source)
		}
		switch {
		case r.Source == SourceAccessList && r.Key == "":
			return l.errorf(n, "%s.x-opsconform-resource.key: missing (the path parameter naming the API key whose access list this is)", where)
		case r.Source != SourceAccessList && r.Key != "":
			return l.errorf(child(n, "key"), "%s.x-opsconform-resource.key: only for source: access-list", where)
		case r.Key != "" && o.Param("path", r.Key) == nil:
			return l.errorf(child(n, "key"), "%s.x-opsconform-resource.key: the operation has no path parameter %q", where, r.Key)
		case r.Source == SourceAccessList && r.Action != ActionList && r.Action != ActionCreate && r.Action != ActionGet && r.Action != ActionDelete:
			return l.errorf(child(n, "action"), "%s.x-opsconform-resource.action: an access list is listed, added to, read and deleted from, not %q", where, x.Action)
		}
		switch x.Visible {
		case "", "all":
		case "bound":
			if r.Action != ActionList && r.Action != ActionGet || r.Source != SourceData {
				return l.errorf(child(n, "visible"), "%s.x-opsconform-resource.visible: only for a list or get of data", where)
			}
			r.BoundOnly = true
		default:
			return l.errorf(child(n, "visible"), "%s.x-opsconform-resource.visible: unknown value %q (want all or bound)", where, x.Visible)
		}
		if r.Action == ActionWhoAmI && r.Source != SourceKeys {
			return l.errorf(child(n, "action"), "%s.x-opsconform-resource: whoami needs source: keys", where)
		}
		if r.Collection == "" {
			return l.errorf(n, "%s.x-opsconform-resource.collection: missing", where)
		}
		switch r.Action {
		case ActionList, ActionCreate, ActionWhoAmI:
			if r.ID != "" {
				return l.errorf(child(n, "id"), "%s.x-opsconform-resource.id: a %s acts on the whole collection", where, r.Action)
			}
		case ActionGet, ActionUpdate, ActionDelete, ActionDo, ActionAssign, ActionUnassign:
			if r.ID == "" {
				return l.errorf(n, "%s.x-opsconform-resource.id: a %s needs the parameter that names the item", where, r.Action)
			}
		default:
			return l.errorf(child(n, "action"), "%s.x-opsconform-resource.action: unknown value %q (want list, get, create, update, delete, action, assign, unassign or whoami)", where, x.Action)
		}
		if r.Items != "" && r.Action != ActionList {
			return l.errorf(child(n, "items"), "%s.x-opsconform-resource.items: only for list", where)
		}
		if r.ID != "" && o.Param("path", r.ID) == nil && o.Param("query", r.ID) == nil {
			return l.errorf(child(n, "id"), "%s.x-opsconform-resource.id: the operation has no path or query parameter %q", where, r.ID)
		}
		if r.Parent != "" && o.Param("path", r.Parent) == nil {
			return l.errorf(child(n, "parent"), "%s.x-opsconform-resource.parent: the operation has no path parameter %q", where, r.Parent)
		}
		if err := l.resourceState(where+".x-opsconform-resource", n, &x, r, o); err != nil {
			return err
		}
		if x.Record != "" && r.Source != SourceData {
			return l.errorf(child(n, "record"), "%s.x-opsconform-resource.record: only on the mock's data, not source: %s", where, r.Source)
		}
		if r.Field == "" {
			r.Field = "id"
		}
		o.Resource = r
	}
	return nil
}
