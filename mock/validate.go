package mock

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/opsconform/opsconform/specs"
	verrors "github.com/pb33f/libopenapi-validator/errors"
)

// validateRequest checks parameters and body against the spec. Paging
// parameters are left to the paging code, which knows whether the vendor
// clamps or rejects.
func (s *Server) validateRequest(x *exchange) *failure {
	// URL.Query drops malformed pairs silently; a client should hear about them.
	if x.queryValues(); x.queryErr != nil {
		return fail(specs.InvalidParameter, "The query string is malformed: %v.", x.queryErr)
	}
	if x.faults.has(devRequestValidationSkipped) {
		return nil
	}
	if x.info.simpleParams {
		return s.checkParams(x, x.info.params)
	}
	v := x.profile.Validator(x.op) // built for the operation's path on first use, cached per profile
	_, errs := v.ValidateHttpRequestSyncWithPathItem(specSpelled(x), x.op.PathItem, x.op.Template)
	for _, e := range errs {
		if s.pagingParam(x, e.ParameterName) {
			continue
		}
		if x.faults.has(devRequiredParamUnchecked) && strings.Contains(strings.ToLower(e.Message), "missing") {
			continue
		}
		kind, params := specs.InvalidParameter, []string{}
		if e.ValidationType == "requestBody" || e.ValidationType == "request" && strings.Contains(strings.ToLower(e.Message), "body") {
			kind = specs.InvalidBody
		}
		if e.ParameterName != "" {
			params = append(params, e.ParameterName)
		}
		return &failure{kind: kind, message: describeValidation(e), params: params}
	}
	return nil
}

// specSpelled is the request as the validator must see it: the validator
// reads path parameters by lining the path up with the template letter for
// letter (and panics when they do not line up), so a path the router
// matched in another case (Ivanti's .../Incidents('…')) or with a trailing
// slash is given the spec's spelling, the parameter values unchanged.
func specSpelled(x *exchange) *http.Request {
	path := x.op.Path
	for name, v := range x.params {
		path = strings.ReplaceAll(path, "{"+name+"}", url.PathEscape(v))
	}
	if path == x.r.URL.EscapedPath() {
		return x.r
	}
	r := x.r.Clone(x.r.Context())
	r.URL.Path, r.URL.RawPath = "", ""
	if u, err := url.Parse(path); err == nil {
		r.URL.Path, r.URL.RawPath = u.Path, u.RawPath
	}
	r.Body = x.r.Body // the buffered body, which the validator reads again
	return r
}

func (s *Server) pagingParam(x *exchange, name string) bool {
	pg := x.profile.Pagination
	if name == "" || pg == nil || !x.op.Paginated {
		return false
	}
	return name == pg.Size.Param || name == pg.Page.Param || name == pg.Skip.Param
}

// describeValidation makes one readable sentence of a validation error:
// what was wrong and, for a body, where.
func describeValidation(e *verrors.ValidationError) string {
	msg := e.Message
	if len(e.SchemaValidationErrors) > 0 {
		f := e.SchemaValidationErrors[0]
		// A body error's field path says where; a parameter's keyword location
		// is a pointer into the spec that means nothing to the client.
		loc := f.FieldPath
		if loc != "" && loc != "$" && loc != "/" {
			return fmt.Sprintf("%s: %s: %s", msg, loc, f.Reason)
		}
		return fmt.Sprintf("%s: %s", msg, f.Reason)
	}
	if e.Reason != "" && !strings.Contains(msg, e.Reason) {
		msg += ": " + e.Reason
	}
	return msg
}

// methodsWithBody lists the methods whose body the validator reads; it
// needs the body again afterwards, so the mock buffers it.
var methodsWithBody = map[string]bool{http.MethodPost: true, http.MethodPut: true, http.MethodPatch: true}
