package specs

import (
	"bytes"
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
	lowbase "github.com/pb33f/libopenapi/datamodel/low/base"
	v3low "github.com/pb33f/libopenapi/datamodel/low/v3"
	"github.com/pb33f/libopenapi/index"
	"github.com/pb33f/libopenapi/utils"
	"go.yaml.in/yaml/v4"
)

// LoadFile reads and models the OpenAPI description at path. Relative
// $refs to other files are resolved from the file's directory.
func LoadFile(path string) (*Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("specs: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("specs: %s: %w", path, err)
	}
	return load(path, data, filepath.Dir(abs))
}

// Load models an OpenAPI 3.x description. file names it in errors and in
// Profile.File. References to other files are refused: use LoadFile for a
// description split over several files.
//
// Errors say where and what: "specs: opsmerge.yaml:42:3: x-opsconform-pagination.overflow: …".
// A circular reference in a model libopenapi could still build is not an
// error: the circular schemas simply stay references.
func Load(file string, data []byte) (*Profile, error) {
	return load(file, data, "")
}

func load(file string, data []byte, dir string) (*Profile, error) {
	l := &loader{file: file, dir: dir, marked: bytes.Contains(data, []byte("x-opsconform-"))}
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil, l.errorf(nil, "the file is empty")
	}
	cfg := datamodel.NewDocumentConfiguration()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.AllowRemoteReferences = false
	cfg.AllowFileReferences = dir != ""
	// What the index collects for linters (descriptions, enums, paths of
	// inline refs) costs big specs time and memory and nothing here reads it.
	cfg.SkipMetadataCollection = true
	if dir != "" {
		cfg.BasePath = dir
		cfg.SpecFilePath = filepath.Base(file)
	}
	if trimmed := bytes.TrimSpace(data); len(trimmed) > jsonFastPath && trimmed[0] == '{' {
		// A big JSON description: parsed as JSON, not as flow-style YAML.
		if p, err, ok := l.loadJSON(data, cfg); ok {
			return p, err
		}
	}
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
	l.info, l.version = doc.GetSpecInfo(), doc.GetVersion()
	model, err := doc.BuildV3Model()
	if err != nil {
		if fatal := nonCircular(err); fatal != nil || model == nil {
			if fatal == nil {
				fatal = err
			}
			return nil, l.refError(doc.GetRolodex(), data, fatal)
		}
	}
	p, err := l.profile(&model.Model)
	if p != nil {
		p.Document = doc
	}
	return p, err
}

// loadJSON models a JSON description parsed by jsonNode, building
// libopenapi's model from that node tree as BuildV3Model would. ok is false
// when the document is not one it takes (then the YAML path reports why).
func (l *loader) loadJSON(data []byte, cfg *datamodel.DocumentConfiguration) (*Profile, error, bool) {
	root, err := jsonNode(data)
	if err != nil || len(root.Content) == 0 {
		return nil, nil, false
	}
	ver := value(root.Content[0], "openapi")
	if ver == nil || !strings.HasPrefix(ver.Value, "3.") {
		return nil, nil, false
	}
	info := &datamodel.SpecInfo{SpecType: utils.OpenApi3, Version: ver.Value, SpecFormat: datamodel.OAS3, SpecFileType: datamodel.JSONFileType,
		SpecBytes: &data, RootNode: root, NumLines: bytes.Count(data, []byte{'\n'}) + 1, VersionNumeric: 3.0, APISchema: datamodel.OpenAPI3SchemaData}
	switch {
	case strings.HasPrefix(ver.Value, "3.1"):
		info.SpecFormat, info.VersionNumeric, info.APISchema = datamodel.OAS31, 3.1, datamodel.OpenAPI31SchemaData
	case strings.HasPrefix(ver.Value, "3.2"):
		info.SpecFormat, info.VersionNumeric, info.APISchema = datamodel.OAS32, 3.2, datamodel.OpenAPI32SchemaData
	}
	l.info, l.version = info, ver.Value
	lowDoc, docErr := v3low.CreateDocumentFromConfig(info, cfg)
	if lowDoc == nil {
		return nil, l.errorf(nil, "not an OpenAPI document: %v", docErr), true
	}
	if docErr != nil {
		if fatal := nonCircular(docErr); fatal != nil {
			return nil, l.refError(lowDoc.Index.GetRolodex(), data, fatal), true
		}
	}
	high := v3.NewDocument(lowDoc)
	high.Rolodex = lowDoc.Index.GetRolodex()
	lowbase.SchemaQuickHashMap.Clear()
	p, err := l.profile(high)
	return p, err, true
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
	if len(lines) > 3 {
		lines = append(lines[:3], fmt.Sprintf("and %d more", len(lines)-3))
	}
	return strings.Join(lines, "; ")
}

// yamlPos finds the position in the YAML parser's errors ("at L2.C7-L3.C1").
var yamlPos = regexp.MustCompile(`at L(\d+)\.C(\d+)`)

// refQuoted finds the reference libopenapi could not resolve ("component `#/x` does not exist").
var refQuoted = regexp.MustCompile("`(#/[^`]+)`")

// refError turns a fatal build error into the loader's one-line form. A
// reference that cannot be resolved is reported in the file that holds it
// (one of a multi-file description), at its line; libopenapi names neither.
func (l *loader) refError(rolo *index.Rolodex, data []byte, err error) error {
	for _, e := range utils.UnwrapErrors(err) {
		var re *index.ResolvingError
		if !errors.As(e, &re) || re.Node == nil {
			continue
		}
		if file := l.fileOf(rolo, re.Node); file != "" {
			return fmt.Errorf("specs: %s:%d:%d: cannot resolve reference %q: %v", file, re.Node.Line, re.Node.Column, re.Path, re.ErrorRef)
		}
	}
	return l.errorf(refNode(data, err), "%s", describeBuildError(err))
}

// fileOf names the file of a multi-file description whose tree holds n,
// relative to the root file's directory; "" when n is in the root file.
func (l *loader) fileOf(rolo *index.Rolodex, n *yaml.Node) string {
	if rolo == nil || l.dir == "" {
		return ""
	}
	root := rolo.GetRootIndex()
	for _, idx := range rolo.GetIndexes() {
		if idx == nil || idx == root || !holds(idx.GetRootNode(), n, 0) {
			continue
		}
		path := idx.GetSpecAbsolutePath()
		if rel, err := filepath.Rel(l.dir, path); err == nil {
			return filepath.Join(filepath.Dir(l.file), rel)
		}
		return path
	}
	return ""
}

// holds reports whether the tree under root contains n.
func holds(root, n *yaml.Node, depth int) bool {
	if root == nil || depth > 10_000 {
		return false
	}
	if root == n {
		return true
	}
	for _, c := range root.Content {
		if holds(c, n, depth+1) {
			return true
		}
	}
	return false
}

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

// loader carries the file name so every error can say where it is, and
// collects the warnings for what it resolved rather than refused.
type loader struct {
	info     *datamodel.SpecInfo // the parsed document
	version  string              // its openapi version
	file     string
	dir      string // the directory relative file references resolve from; "" when they are refused
	warnings []string
	marked   bool // the file mentions x-opsconform- at all
}

// warnf records a warning at n's position.
func (l *loader) warnf(n *yaml.Node, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if n != nil && n.Line > 0 {
		l.warnings = append(l.warnings, fmt.Sprintf("%s:%d:%d: %s", l.file, n.Line, n.Column, msg))
		return
	}
	l.warnings = append(l.warnings, fmt.Sprintf("%s: %s", l.file, msg))
}

func (l *loader) errorf(n *yaml.Node, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if n != nil && n.Line > 0 {
		return fmt.Errorf("specs: %s:%d:%d: %s", l.file, n.Line, n.Column, msg)
	}
	return fmt.Errorf("specs: %s: %s", l.file, msg)
}

func (l *loader) profile(m *v3.Document) (*Profile, error) {
	p := &Profile{
		File:   l.file,
		Model:  m,
		Errors: defaultErrors(),
		Access: Access{APIDisabledStatus: http.StatusUnauthorized, KeyScopes: true},
		RateLimits: RateLimits{
			Headers: HeadersNone,
		},
	}
	if m.Info != nil {
		p.Title, p.Version = m.Info.Title, m.Info.Version
	}
	p.Name = nameFromFile(l.file)
	if m.Extensions != nil {
		for name := range m.Extensions.KeysFromOldest() {
			if strings.HasPrefix(name, "x-opsconform-") {
				p.Extended = true
			}
		}
	}
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
	p.choosePrimary()
	if !p.Extended {
		inferResources(p)
	}
	if err := l.resolveResources(p, m); err != nil {
		return nil, err
	}
	if p.Extended || l.marked {
		// Only descriptions written for opsconform carry x-opsconform-* on
		// schemas; walking every schema of a plain 13 MB spec would build
		// what otherwise stays lazy.
		if err := l.schemaExtensions(p, m); err != nil {
			return nil, err
		}
	}
	if err := l.parentCollections(p); err != nil {
		return nil, err
	}
	l.dialectWarnings(p)
	p.Warnings = l.warnings
	return p, nil
}

// nameFromFile is the default profile name: the file's base name without its
// extension, lower-cased, with anything but letters, digits and dashes made a
// dash ("api.github.com.json" → "api-github-com"), so that --profile accepts it.
func nameFromFile(file string) string {
	base := strings.ToLower(strings.TrimSuffix(filepath.Base(file), filepath.Ext(file)))
	var sb strings.Builder
	for _, r := range base {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			sb.WriteRune(r)
		} else {
			sb.WriteByte('-')
		}
	}
	name := strings.Trim(sb.String(), "-")
	if name == "" {
		return "spec"
	}
	return name
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

// schemes reads components.securitySchemes. Every scheme OpenAPI defines is
// served: apiKey in a header, query parameter or cookie; http basic, bearer,
// digest and any other http scheme as "Authorization: <scheme> <token>";
// oauth2 and openIdConnect as bearer tokens whose scopes are checked;
// mutualTLS with a warning, since a plain-HTTP mock cannot see certificates.
// The profile's Mode is its primary scheme's (see choosePrimary).
func (l *loader) schemes(p *Profile, m *v3.Document) error {
	p.Auth.Mode = AuthNone
	if m.Components == nil || m.Components.SecuritySchemes == nil {
		return nil
	}
	for name, ss := range m.Components.SecuritySchemes.FromOldest() {
		node := lowNode(ss.GoLow())
		s := &Scheme{Name: name, Type: ss.Type, HTTPScheme: strings.ToLower(ss.Scheme), In: ss.In, Param: ss.Name, Format: "{key}"}
		switch ss.Type {
		case "apiKey":
			if s.In != "header" && s.In != "query" && s.In != "cookie" {
				return l.errorf(node, "securitySchemes.%s: apiKey in %q is not what OpenAPI allows (want header, query or cookie)", name, s.In)
			}
			if s.Param == "" {
				return l.errorf(node, "securitySchemes.%s: apiKey needs a name (the %s parameter that carries the key)", name, s.In)
			}
			s.Mode = AuthAPIKey
		case "http":
			switch s.HTTPScheme {
			case "bearer":
				s.Mode = AuthBearer
			case "digest":
				s.Mode = AuthDigest
			case "basic":
				s.Mode = AuthBasic
			case "":
				return l.errorf(node, "securitySchemes.%s: an http scheme needs scheme (basic, bearer, digest, …)", name)
			default:
				s.Mode = AuthHTTP
				l.warnf(node, "securitySchemes.%s: http scheme %q is served as \"Authorization: %s <token>\"", name, ss.Scheme, ss.Scheme)
			}
		case "oauth2", "openIdConnect":
			// Their access tokens arrive as bearer tokens; scopes are checked against the key's.
			s.HTTPScheme = "bearer"
			s.Mode = AuthBearer
			s.Scopes = oauthScopes(ss)
		case "mutualTLS":
			s.Mode = AuthMutualTLS
			l.warnf(node, "securitySchemes.%s: mutualTLS cannot be checked over plain HTTP; the mock treats it as satisfied", name)
		default:
			return l.errorf(node, "securitySchemes.%s: type %q is not an OpenAPI security scheme type (want apiKey, http, oauth2, openIdConnect or mutualTLS)", name, ss.Type)
		}
		if err := l.schemeExtensions(p, s, ss.Extensions); err != nil {
			return err
		}
		if s.Mode == AuthDigest && s.Digest == nil {
			s.Digest = &DigestPolicy{Realm: p.Title, Algorithms: []string{"MD5"}, QOP: "auth", NonceLifetime: defaultNonceLifetime}
		}
		p.Auth.Schemes = append(p.Auth.Schemes, s)
	}
	return nil
}

// oauthScopes lists the scopes an oauth2 scheme's flows declare, sorted.
func oauthScopes(ss *v3.SecurityScheme) []string {
	seen := map[string]bool{}
	if f := ss.Flows; f != nil {
		for _, flow := range []*v3.OAuthFlow{f.Implicit, f.Password, f.ClientCredentials, f.AuthorizationCode} {
			if flow == nil || flow.Scopes == nil {
				continue
			}
			for sc := range flow.Scopes.KeysFromOldest() {
				seen[sc] = true
			}
		}
	}
	return sortedKeys(seen)
}

// choosePrimary picks the scheme the vendor-specific checks use: the first
// declared scheme some operation requires, else the first declared. The
// profile's Mode, TokenPrefix and Digest are that scheme's (TokenPrefix and
// Digest fall back to the first scheme that has one).
func (p *Profile) choosePrimary() {
	if len(p.Auth.Schemes) == 0 {
		p.Auth.Mode = AuthNone
		return
	}
	used := map[*Scheme]bool{}
	for _, op := range p.Operations {
		for _, alt := range op.Security {
			for _, r := range alt {
				used[r.Scheme] = true
			}
		}
	}
	primary := p.Auth.Schemes[0]
	for _, s := range p.Auth.Schemes {
		if used[s] {
			primary = s
			break
		}
	}
	p.Auth.Mode = primary.Mode
	p.Auth.TokenPrefix, p.Auth.Digest = primary.TokenPrefix, primary.Digest
	for _, s := range p.Auth.Schemes {
		if p.Auth.TokenPrefix == "" && s.Mode == AuthBearer {
			p.Auth.TokenPrefix = s.TokenPrefix
		}
		if p.Auth.Digest == nil && s.Digest != nil {
			p.Auth.Digest = s.Digest
		}
	}
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
				id := o.ID
				for n := 2; seen[o.ID] != ""; n++ {
					o.ID = fmt.Sprintf("%s-%d", id, n)
				}
				l.warnf(lowNode(op.GoLow()), "operationId %q is used by %s and %s %s; the second is called %q here", id, prev, method, tmpl, o.ID)
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
	if d := op.ExternalDocs; d != nil {
		o.Docs = ExternalDocs{URL: d.URL, Description: d.Description}
	}

	// Path-item parameters first, operation parameters override by (in, name).
	for _, prm := range append(append([]*v3.Parameter{}, item.Parameters...), op.Parameters...) {
		if prm == nil {
			continue
		}
		np := &Param{Name: prm.Name, In: prm.In, Required: prm.Required != nil && *prm.Required}
		if prm.Schema != nil {
			s := SchemaOf(prm.Schema)
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
			for ct := range op.RequestBody.Content.KeysFromOldest() {
				rb.ContentTypes = append(rb.ContentTypes, ct)
			}
			if ct := PreferredMediaType(rb.ContentTypes); ct != "" {
				rb.ContentType = ct
				rb.Media, _ = op.RequestBody.Content.Get(ct)
				if rb.Media != nil && rb.Media.Schema != nil {
					if rb.Schema = SchemaOf(rb.Media.Schema); rb.Schema == nil {
						return nil, l.errorf(node, "%s: requestBody: schema: %v", where, rb.Media.Schema.GetBuildError())
					}
				}
			}
		}
		o.Body = rb
	}

	o.Responses = map[int]*Response{}
	o.Ranges = map[int]*Response{}
	if op.Responses != nil {
		if op.Responses.Codes != nil {
			for code, r := range op.Responses.Codes.FromOldest() {
				resp, err := l.response(r, where, code, node)
				if err != nil {
					return nil, err
				}
				if status, err := strconv.Atoi(code); err == nil {
					resp.Status = status
					o.Responses[status] = resp
				} else if len(code) == 3 && code[0] >= '1' && code[0] <= '5' && strings.EqualFold(code[1:], "XX") {
					resp.Status = int(code[0]-'0') * 100
					o.Ranges[int(code[0]-'0')] = resp
				} else {
					l.warnf(lowNode(r.GoLow()), "%s: response %q is neither a status code nor a range like 2XX; it is ignored", where, code)
				}
			}
		}
		if op.Responses.Default != nil {
			resp, err := l.response(op.Responses.Default, where, "default", node)
			if err != nil {
				return nil, err
			}
			o.Default = resp
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

// response models one documented response with its preferred media type.
func (l *loader) response(r *v3.Response, where, code string, node *yaml.Node) (*Response, error) {
	resp := &Response{Description: r.Description, Spec: r}
	if r.Headers != nil {
		for h := range r.Headers.KeysFromOldest() {
			resp.Headers = append(resp.Headers, h)
		}
	}
	if r.Content != nil {
		for ct := range r.Content.KeysFromOldest() {
			resp.ContentTypes = append(resp.ContentTypes, ct)
		}
		if ct := PreferredMediaType(resp.ContentTypes); ct != "" {
			resp.ContentType = ct
			resp.Media, _ = r.Content.Get(ct)
			if resp.Media != nil && resp.Media.Schema != nil {
				if resp.Schema = SchemaOf(resp.Media.Schema); resp.Schema == nil {
					return nil, l.errorf(node, "%s: response %s: schema: %v", where, code, resp.Media.Schema.GetBuildError())
				}
			}
		}
	}
	return resp, nil
}

// PreferredMediaType picks the media type a mock answers with and a client
// sends: application/json, then any JSON (+json), then forms, then text, then
// the first declared. Wildcards ("*/*", "application/*") come last.
func PreferredMediaType(types []string) string {
	rank := func(ct string) int {
		mt := strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
		switch {
		case mt == "application/json":
			return 0
		case strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "/json"):
			return 1
		case strings.Contains(mt, "*"):
			return 6
		case mt == "application/x-www-form-urlencoded":
			return 2
		case mt == "multipart/form-data":
			return 3
		case strings.HasPrefix(mt, "text/"):
			return 4
		}
		return 5
	}
	best, bestRank := "", 99
	for _, ct := range types {
		if r := rank(ct); r < bestRank {
			best, bestRank = ct, r
		}
	}
	return best
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
