package specs

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/pb33f/libopenapi"
	"github.com/pb33f/libopenapi/datamodel"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"github.com/pb33f/libopenapi/index"
	"github.com/pb33f/libopenapi/utils"
	"go.yaml.in/yaml/v4"
)

// LoadFile reads and models the OpenAPI description at path.
func LoadFile(path string) (*Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("specs: %w", err)
	}
	return Load(path, data)
}

// Load models an OpenAPI 3.x description. file names it in errors and in Profile.File.
//
// Errors say where and what: "specs: opsmerge.yaml:42:3: x-opsconform-pagination.overflow: …".
// A circular reference in a model libopenapi could still build is not an
// error: the circular schemas simply stay references.
func Load(file string, data []byte) (*Profile, error) {
	l := &loader{file: file}
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil, l.errorf(nil, "the file is empty")
	}
	cfg := datamodel.NewDocumentConfiguration()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.AllowFileReferences = false
	cfg.AllowRemoteReferences = false
	doc, err := libopenapi.NewDocumentWithConfiguration(data, cfg)
	if err != nil {
		msg := err.Error()
		if m := yamlPos.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			col, _ := strconv.Atoi(m[2])
			return nil, l.errorf(&yaml.Node{Line: line, Column: col}, "not valid YAML: %s", strings.TrimSpace(msg[strings.LastIndex(msg, ":")+1:]))
		}
		return nil, l.errorf(nil, "not an OpenAPI document: %v", err)
	}
	if info := doc.GetSpecInfo(); info == nil || (info.SpecFormat != datamodel.OAS3 && info.SpecFormat != datamodel.OAS31 && info.SpecFormat != datamodel.OAS32) {
		return nil, l.errorf(nil, "not an OpenAPI 3 document (version %q); opsconform reads OpenAPI 3.0, 3.1 and 3.2", doc.GetVersion())
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		if fatal := nonCircular(err); fatal != nil || model == nil {
			if fatal == nil {
				fatal = err
			}
			return nil, l.errorf(refNode(data, fatal), "%s", describeBuildError(fatal))
		}
	}
	return l.profile(doc, &model.Model)
}

// nonCircular drops libopenapi's circular-reference reports, which come with a
// usable model, and joins whatever else went wrong.
func nonCircular(err error) error {
	var rest []error
	for _, e := range utils.UnwrapErrors(err) {
		var re *index.ResolvingError
		if errors.As(e, &re) && re.CircularReference != nil {
			continue
		}
		rest = append(rest, e)
	}
	return errors.Join(rest...)
}

// describeBuildError rewrites libopenapi's errors into one line per problem,
// leading with the location when it has one.
func describeBuildError(err error) string {
	var lines []string
	for _, e := range utils.UnwrapErrors(err) {
		var re *index.ResolvingError
		if errors.As(e, &re) && re.Node != nil {
			lines = append(lines, fmt.Sprintf("line %d:%d: cannot resolve reference %q: %v", re.Node.Line, re.Node.Column, re.Path, re.ErrorRef))
			continue
		}
		lines = append(lines, e.Error())
	}
	return strings.Join(lines, "; ")
}

// yamlPos finds the position in the YAML parser's errors ("at L2.C7-L3.C1").
var yamlPos = regexp.MustCompile(`at L(\d+)\.C(\d+)`)

// refQuoted finds the reference libopenapi could not resolve ("component `#/x` does not exist").
var refQuoted = regexp.MustCompile("`(#/[^`]+)`")

// refNode locates the first $ref to an unresolvable component, because
// libopenapi reports those without a position.
func refNode(data []byte, err error) *yaml.Node {
	m := refQuoted.FindStringSubmatch(err.Error())
	if m == nil {
		return nil
	}
	for i, line := range strings.Split(string(data), "\n") {
		if c := strings.Index(line, m[1]); c >= 0 && strings.Contains(line, "$ref") {
			return &yaml.Node{Line: i + 1, Column: strings.Index(line, "$ref") + 1}
		}
	}
	return nil
}

// loader carries the file name so every error can say where it is.
type loader struct {
	file string
}

func (l *loader) errorf(n *yaml.Node, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if n != nil && n.Line > 0 {
		return fmt.Errorf("specs: %s:%d:%d: %s", l.file, n.Line, n.Column, msg)
	}
	return fmt.Errorf("specs: %s: %s", l.file, msg)
}

func (l *loader) profile(doc libopenapi.Document, m *v3.Document) (*Profile, error) {
	p := &Profile{
		File:     l.file,
		Document: doc,
		Model:    m,
		Errors:   defaultErrors(),
		Access:   Access{APIDisabledStatus: http.StatusUnauthorized, KeyScopes: true},
		RateLimits: RateLimits{
			Headers: HeadersNone,
		},
	}
	if m.Info != nil {
		p.Title, p.Version = m.Info.Title, m.Info.Version
	}
	p.Name = strings.TrimSuffix(filepath.Base(l.file), filepath.Ext(l.file))
	base, err := basePath(m)
	if err != nil {
		return nil, l.errorf(nil, "servers[0]: %v", err)
	}
	p.BasePath = base

	if err := l.rootExtensions(p, m.Extensions); err != nil {
		return nil, err
	}
	if err := l.schemes(p, m); err != nil {
		return nil, err
	}
	if err := l.operations(p, m); err != nil {
		return nil, err
	}
	if err := l.paginationBounds(p); err != nil {
		return nil, err
	}
	if err := l.schemaExtensions(p, m); err != nil {
		return nil, err
	}
	return p, nil
}

// basePath is the path of the first server URL, with server variables at their defaults.
func basePath(m *v3.Document) (string, error) {
	if len(m.Servers) == 0 {
		return "", nil
	}
	s := m.Servers[0]
	raw := s.URL
	if s.Variables != nil {
		for name, v := range s.Variables.FromOldest() {
			raw = strings.ReplaceAll(raw, "{"+name+"}", v.Default)
		}
	}
	if strings.Contains(raw, "{") {
		return "", fmt.Errorf("url %q has a variable without a default", s.URL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("url %q: %v", s.URL, err)
	}
	return strings.TrimSuffix(u.Path, "/"), nil
}

// schemes reads components.securitySchemes and decides the profile's auth mode.
func (l *loader) schemes(p *Profile, m *v3.Document) error {
	p.Auth.Mode = AuthNone
	if m.Components == nil || m.Components.SecuritySchemes == nil {
		return nil
	}
	for name, ss := range m.Components.SecuritySchemes.FromOldest() {
		node := lowNode(ss.GoLow())
		s := &Scheme{Name: name, Type: ss.Type, HTTPScheme: strings.ToLower(ss.Scheme), In: ss.In, Param: ss.Name, Format: "{key}"}
		var mode AuthMode
		switch ss.Type {
		case "apiKey":
			if s.In != "header" && s.In != "query" {
				return l.errorf(node, "securitySchemes.%s: apiKey in %q is not supported (want header or query)", name, s.In)
			}
			if s.Param == "" {
				return l.errorf(node, "securitySchemes.%s: apiKey needs a name", name)
			}
			mode = AuthAPIKey
		case "http":
			switch s.HTTPScheme {
			case "bearer":
				mode = AuthBearer
			case "digest":
				mode = AuthDigest
			default:
				return l.errorf(node, "securitySchemes.%s: http scheme %q is not supported (want bearer or digest)", name, ss.Scheme)
			}
		case "oauth2", "openIdConnect":
			// Their tokens arrive as bearer tokens; the mock treats them so.
			s.HTTPScheme = "bearer"
			mode = AuthBearer
		default:
			return l.errorf(node, "securitySchemes.%s: type %q is not supported", name, ss.Type)
		}
		if p.Auth.Mode != AuthNone && p.Auth.Mode != mode {
			return l.errorf(node, "securitySchemes.%s: a profile has one auth mode, but this scheme is %s and %s is %s",
				name, mode, p.Auth.Schemes[0].Name, p.Auth.Mode)
		}
		p.Auth.Mode = mode
		if err := l.schemeExtensions(p, s, ss.Extensions); err != nil {
			return err
		}
		p.Auth.Schemes = append(p.Auth.Schemes, s)
	}
	if p.Auth.Mode == AuthDigest && p.Auth.Digest == nil {
		p.Auth.Digest = &DigestPolicy{Realm: p.Title, Algorithms: []string{"MD5"}, QOP: "auth", NonceLifetime: defaultNonceLifetime}
	}
	return nil
}

func (p *Profile) scheme(name string) *Scheme {
	for _, s := range p.Auth.Schemes {
		if s.Name == name {
			return s
		}
	}
	return nil
}

var methods = []string{http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete, http.MethodOptions, http.MethodHead, http.MethodPatch, http.MethodTrace}

func (l *loader) operations(p *Profile, m *v3.Document) error {
	rootSecurity, err := l.security(p, m.Security, nil)
	if err != nil {
		return err
	}
	if m.Paths == nil || m.Paths.PathItems == nil {
		return nil
	}
	seen := map[string]string{}
	for tmpl, item := range m.Paths.PathItems.FromOldest() {
		if err := l.knownExtensions(item.Extensions, "path "+tmpl, nil); err != nil {
			return err
		}
		ops := item.GetOperations()
		for _, method := range methods {
			op, ok := ops.Get(strings.ToLower(method))
			if !ok || op == nil {
				continue
			}
			o, err := l.operation(p, tmpl, method, item, op, rootSecurity)
			if err != nil {
				return err
			}
			if prev, dup := seen[o.ID]; dup {
				return l.errorf(lowNode(op.GoLow()), "operationId %q is used by %s and %s %s", o.ID, prev, method, tmpl)
			}
			seen[o.ID] = method + " " + tmpl
			p.Operations = append(p.Operations, o)
		}
	}
	return nil
}

func (l *loader) operation(p *Profile, tmpl, method string, item *v3.PathItem, op *v3.Operation, root []Alternative) (*Operation, error) {
	node := lowNode(op.GoLow())
	where := fmt.Sprintf("%s %s", method, tmpl)
	o := &Operation{
		ID:       op.OperationId,
		Method:   method,
		Path:     p.BasePath + tmpl,
		Template: tmpl,
		Summary:  op.Summary,
		Tags:     op.Tags,
		PathItem: item,
		Op:       op,
	}
	if o.ID == "" {
		// Generated ids keep unnamed operations addressable (--only, Specific API grants).
		o.ID = strings.ToLower(method) + strings.NewReplacer("/", "_", "{", "", "}", "", "'", "", "(", "", ")", "").Replace(tmpl)
	}
	if op.Deprecated != nil {
		o.Deprecated = *op.Deprecated
	}

	// Path-item parameters first, operation parameters override by (in, name).
	for _, prm := range append(append([]*v3.Parameter{}, item.Parameters...), op.Parameters...) {
		if prm == nil {
			continue
		}
		np := &Param{Name: prm.Name, In: prm.In, Required: prm.Required != nil && *prm.Required}
		if prm.Schema != nil {
			s := prm.Schema.Schema()
			if s == nil {
				return nil, l.errorf(node, "%s: parameter %q: schema: %v", where, prm.Name, prm.Schema.GetBuildError())
			}
			np.Schema = s
		}
		if old := o.Param(np.In, np.Name); old != nil {
			*old = *np
		} else {
			o.Params = append(o.Params, np)
		}
	}
	for _, name := range pathParams(tmpl) {
		if o.Param("path", name) == nil {
			return nil, l.errorf(node, "%s: path parameter {%s} is not declared", where, name)
		}
	}

	if op.RequestBody != nil {
		rb := &RequestBody{Required: op.RequestBody.Required != nil && *op.RequestBody.Required}
		if op.RequestBody.Content != nil {
			if mt, ok := op.RequestBody.Content.Get("application/json"); ok && mt.Schema != nil {
				if rb.Schema = mt.Schema.Schema(); rb.Schema == nil {
					return nil, l.errorf(node, "%s: requestBody: schema: %v", where, mt.Schema.GetBuildError())
				}
			}
		}
		o.Body = rb
	}

	o.Responses = map[int]*Response{}
	if op.Responses != nil && op.Responses.Codes != nil {
		for code, r := range op.Responses.Codes.FromOldest() {
			status, err := strconv.Atoi(code)
			if err != nil {
				continue // 2XX-style ranges describe nothing the mock can answer with
			}
			resp := &Response{Status: status, Description: r.Description}
			if r.Headers != nil {
				for h := range r.Headers.KeysFromOldest() {
					resp.Headers = append(resp.Headers, h)
				}
			}
			if r.Content != nil {
				if mt, ok := r.Content.Get("application/json"); ok && mt.Schema != nil {
					if resp.Schema = mt.Schema.Schema(); resp.Schema == nil {
						return nil, l.errorf(node, "%s: response %s: schema: %v", where, code, mt.Schema.GetBuildError())
					}
				}
			}
			o.Responses[status] = resp
		}
	}

	sec := root
	if op.Security != nil {
		var err error
		if sec, err = l.security(p, op.Security, node); err != nil {
			return nil, err
		}
	}
	o.Security = sec
	o.Public = len(sec) == 0
	for _, alt := range sec {
		if len(alt) == 0 {
			o.Public = true // an empty requirement makes credentials optional
		}
	}

	if err := l.operationExtensions(p, o, op.Extensions); err != nil {
		return nil, err
	}
	if o.Class == "" {
		o.Class = p.RateLimits.classFor(o.Method)
	}
	return o, nil
}

// security turns security requirement objects into alternatives, checking every scheme exists.
func (l *loader) security(p *Profile, reqs []*base.SecurityRequirement, node *yaml.Node) ([]Alternative, error) {
	var out []Alternative
	for _, r := range reqs {
		alt := Alternative{}
		if r.Requirements != nil {
			for name, scopes := range r.Requirements.FromOldest() {
				s := p.scheme(name)
				if s == nil {
					return nil, l.errorf(node, "security names scheme %q, which components.securitySchemes does not define", name)
				}
				alt = append(alt, Requirement{Scheme: s, Scopes: scopes})
			}
		}
		out = append(out, alt)
	}
	return out, nil
}

// pathParams lists the {names} in a path template.
func pathParams(tmpl string) []string {
	var out []string
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			return out
		}
		out = append(out, tmpl[i+1:i+j])
		tmpl = tmpl[i+j+1:]
	}
}

// paginationBounds reads each paging parameter's default and range from the
// schemas of the operations that take it; they must all agree.
func (l *loader) paginationBounds(p *Profile) error {
	pg := p.Pagination
	if pg == nil {
		return nil
	}
	bounds := []*Bound{&pg.Size}
	if pg.Style == StylePage {
		bounds = append(bounds, &pg.Page)
	} else {
		bounds = append(bounds, &pg.Skip)
	}
	for _, b := range bounds {
		var from string
		for _, o := range p.Operations {
			prm := o.Param("query", b.Param)
			if prm == nil {
				continue
			}
			got, err := boundOf(prm)
			if err != nil {
				return l.errorf(lowNode(o.Op.GoLow()), "%s: parameter %s: %v", o.ID, b.Param, err)
			}
			if from == "" {
				*b, from = got, o.ID
			} else if got != *b {
				return l.errorf(lowNode(o.Op.GoLow()), "x-opsconform-pagination: parameter %s of %s (%+v) differs from %s's (%+v)", b.Param, o.ID, got, from, *b)
			}
			if b == &pg.Size {
				o.Paginated = true
			}
		}
		if from == "" {
			return l.errorf(nil, "x-opsconform-pagination: no operation takes the query parameter %q", b.Param)
		}
	}
	if pg.Overflow == Clamp && pg.Size.Max == 0 {
		return l.errorf(nil, "x-opsconform-pagination: overflow is clamp, but %s has no maximum to clamp to", pg.Size.Param)
	}
	return nil
}

func boundOf(p *Param) (Bound, error) {
	b := Bound{Param: p.Name}
	s := p.Schema
	if s == nil {
		return b, errors.New("has no schema")
	}
	if !slicesContain(s.Type, "integer") {
		return b, fmt.Errorf("type is %v, want integer", s.Type)
	}
	if s.Minimum != nil {
		b.Min = int(*s.Minimum)
	}
	if s.Maximum != nil {
		b.Max = int(*s.Maximum)
	}
	if s.Default == nil {
		return b, errors.New("has no default")
	}
	d, err := strconv.Atoi(s.Default.Value)
	if err != nil {
		return b, fmt.Errorf("default %q is not an integer", s.Default.Value)
	}
	b.Default = d
	if d < b.Min || (b.Max > 0 && d > b.Max) {
		return b, fmt.Errorf("default %d is outside [%d, %d]", d, b.Min, b.Max)
	}
	return b, nil
}

func slicesContain(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// lowNode finds the YAML node behind a high-level object, for error positions.
func lowNode(low any) *yaml.Node {
	type rooted interface{ GetRootNode() *yaml.Node }
	if r, ok := low.(rooted); ok && r != nil {
		return r.GetRootNode()
	}
	return nil
}

// sortedKeys returns a map's keys in order, so errors are deterministic.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
