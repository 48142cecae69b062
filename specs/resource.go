package specs

import (
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/pb33f/libopenapi/datamodel/high/base"
)

// Success is the response a server answers a valid request with: the lowest
// documented 2xx, else a documented 2XX range (as 200), else the default
// response (as 200), else the lowest documented status of any class. nil
// when the operation documents no response at all.
func (o *Operation) Success() *Response {
	var best *Response
	for st, r := range o.Responses {
		if st >= 200 && st < 300 && (best == nil || st < best.Status) {
			best = r
		}
	}
	if best != nil {
		return best
	}
	if r := o.Ranges[2]; r != nil {
		return r
	}
	if o.Default != nil {
		d := *o.Default
		d.Status = http.StatusOK
		return &d
	}
	for st, r := range o.Responses {
		if best == nil || st < best.Status {
			best = r
		}
	}
	if best == nil {
		for class := 1; class <= 5 && best == nil; class++ {
			best = o.Ranges[class]
		}
	}
	return best
}

// Documents reports whether status is a documented answer of the operation:
// the status itself, its range (4XX) or the default response.
func (o *Operation) Documents(status int) bool {
	if o.Responses[status] != nil || o.Ranges[status/100] != nil || o.Default != nil {
		return true
	}
	return len(o.Responses) == 0 && len(o.Ranges) == 0
}

// ResponseFor is the documented response for status: the status itself, its
// range, or the default; nil when none covers it.
func (o *Operation) ResponseFor(status int) *Response {
	if r := o.Responses[status]; r != nil {
		return r
	}
	if r := o.Ranges[status/100]; r != nil {
		return r
	}
	return o.Default
}

// inferResources gives a plain OpenAPI description (one without any
// x-opsconform-* extension) the collections REST conventions imply, so the
// mock serves them statefully and the suites can walk them:
//
//	GET    /things         list   (an array of objects, or an object with one such array)
//	POST   /things         create
//	GET    /things/{id}    get
//	PUT    /things/{id}    update (PATCH too)
//	DELETE /things/{id}    delete
//
// A collection needs a list and an item schema with properties; the id
// parameter is matched to the item's property of the same name, else "id".
// Anything that does not fit is left alone and answered from its schema.
func inferResources(p *Profile) {
	type coll struct {
		list, create *Operation
		items        string
		item         *base.Schema
		byID         []*Operation
	}
	colls := map[string]*coll{}
	get := func(key string) *coll {
		c := colls[key]
		if c == nil {
			c = &coll{}
			colls[key] = c
		}
		return c
	}
	for _, op := range p.Operations {
		if op.Resource != nil {
			continue
		}
		segs := strings.Split(strings.Trim(op.Template, "/"), "/")
		last := segs[len(segs)-1]
		if last == "" {
			continue
		}
		if !isParamSegment(last) {
			if strings.Contains(last, "{") {
				continue
			}
			key := collectionKey(segs)
			switch op.Method {
			case http.MethodGet:
				if item, field := listItems(op); item != nil {
					c := get(key)
					c.list, c.items, c.item = op, field, item
				}
			case http.MethodPost:
				if op.Body == nil || op.Body.Schema == nil || schemaKind(op.Body.Schema) == "object" {
					get(key).create = op
				}
			}
			continue
		}
		if len(segs) < 2 || strings.Contains(segs[len(segs)-2], "{") {
			continue
		}
		switch op.Method {
		case http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete:
			key := collectionKey(segs[:len(segs)-1])
			get(key).byID = append(get(key).byID, op)
		}
	}
	keys := make([]string, 0, len(colls))
	for k := range colls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		c := colls[key]
		if c.item == nil {
			c.item = itemOf(c.create, c.byID)
		}
		if c.item == nil || c.list == nil && c.create == nil {
			continue // without a list or a create, no client can learn an id
		}
		if c.list != nil {
			c.list.Resource = &Resource{Collection: key, Action: ActionList, Items: c.items, Field: "id"}
		}
		if c.create != nil {
			if r := c.create.Success(); r == nil || r.Schema == nil || schemaKind(r.Schema) == "object" {
				c.create.Resource = &Resource{Collection: key, Action: ActionCreate, Field: "id"}
			}
		}
		for _, op := range c.byID {
			segs := strings.Split(strings.Trim(op.Template, "/"), "/")
			param := strings.Trim(segs[len(segs)-1], "{}")
			field := ""
			switch {
			case hasProperty(c.item, param):
				field = param
			case hasProperty(c.item, "id"):
				field = "id"
			default:
				continue
			}
			action := map[string]Action{http.MethodGet: ActionGet, http.MethodPut: ActionUpdate, http.MethodPatch: ActionUpdate, http.MethodDelete: ActionDelete}[op.Method]
			if action == ActionGet {
				if r := op.Success(); r == nil || r.Schema == nil || schemaKind(r.Schema) != "object" {
					continue
				}
			}
			op.Resource = &Resource{Collection: key, Action: action, ID: param, Field: field}
		}
		for _, op := range append([]*Operation{c.list, c.create}, c.byID...) {
			if op != nil && op.Resource != nil {
				op.Resource.Item = c.item
				if op.Resource.ID == "" {
					op.Resource.Field = idFieldOf(c.item, c.byID)
				}
			}
		}
	}
}

// itemOf finds a collection's item schema where it has no list: the get
// answer, else the create answer, else the create body; nil unless it is an
// object with properties.
func itemOf(create *Operation, byID []*Operation) *base.Schema {
	var candidates []*base.Schema
	for _, op := range byID {
		if op.Method == http.MethodGet {
			if r := op.Success(); r != nil && isJSONMedia(r.ContentType) {
				candidates = append(candidates, r.Schema)
			}
		}
	}
	if create != nil {
		if r := create.Success(); r != nil && isJSONMedia(r.ContentType) {
			candidates = append(candidates, r.Schema)
		}
		if create.Body != nil {
			candidates = append(candidates, create.Body.Schema)
		}
	}
	for _, s := range candidates {
		if s != nil && schemaKind(s) == "object" && s.Properties != nil {
			return s
		}
	}
	return nil
}

// idFieldOf is the item field the collection's by-id operations match.
func idFieldOf(item *base.Schema, byID []*Operation) string {
	for _, op := range byID {
		if op.Resource != nil {
			return op.Resource.Field
		}
	}
	if hasProperty(item, "id") {
		return "id"
	}
	return "id"
}

// collectionKey names a collection by its path with parameter names left
// out, so /users/{userId}/pets and /users/{id}/pets are one collection.
func collectionKey(segs []string) string {
	out := make([]string, len(segs))
	for i, s := range segs {
		if strings.Contains(s, "{") {
			out[i] = "{}"
		} else {
			out[i] = s
		}
	}
	return "/" + strings.Join(out, "/")
}

// isParamSegment reports whether a segment is exactly one parameter: {id}.
func isParamSegment(s string) bool {
	return strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") && strings.Count(s, "{") == 1
}

// listItems finds the item schema of a list answer: an array of objects, or
// an object whose one array-of-objects property holds the items (field).
func listItems(op *Operation) (*base.Schema, string) {
	r := op.Success()
	if r == nil || r.Schema == nil || !isJSONMedia(r.ContentType) {
		return nil, ""
	}
	s := r.Schema
	if schemaKind(s) == "array" {
		if it := arrayItem(s); it != nil && schemaKind(it) == "object" && it.Properties != nil {
			return it, ""
		}
		return nil, ""
	}
	if schemaKind(s) != "object" || s.Properties == nil {
		return nil, ""
	}
	var found *base.Schema
	field := ""
	for name, proxy := range s.Properties.FromOldest() {
		ps := SchemaOf(proxy)
		if ps == nil || schemaKind(ps) != "array" {
			continue
		}
		if it := arrayItem(ps); it != nil && schemaKind(it) == "object" && it.Properties != nil {
			if found != nil {
				return nil, "" // two arrays: which one is the list is anyone's guess
			}
			found, field = it, name
		}
	}
	if found != nil && slices.Contains(s.Required, field) {
		return found, field
	}
	return nil, ""
}

func arrayItem(s *base.Schema) *base.Schema {
	if s.Items == nil || !s.Items.IsA() || s.Items.A == nil {
		return nil
	}
	return SchemaOf(s.Items.A)
}

func hasProperty(s *base.Schema, name string) bool {
	if s == nil || s.Properties == nil {
		return false
	}
	_, ok := s.Properties.Get(name)
	return ok
}

// schemaKind is the first non-null type, or the shape's: object for
// properties, array for items; "" when nothing says.
func schemaKind(s *base.Schema) string {
	if len(s.Type) == 0 && s.Properties == nil && len(s.AllOf) > 0 {
		// libopenapi's form of a $ref with siblings: allOf [siblings, target]
		for _, b := range s.AllOf {
			if bs := SchemaOf(b); bs != nil {
				if k := schemaKind(bs); k != "" {
					return k
				}
			}
		}
	}
	for _, t := range s.Type {
		if t != "null" {
			return t
		}
	}
	if s.Properties != nil {
		return "object"
	}
	if s.Items != nil {
		return "array"
	}
	return ""
}

// isJSONMedia reports whether a media type is JSON.
func isJSONMedia(ct string) bool {
	mt := strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}
