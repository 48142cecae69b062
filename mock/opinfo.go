package mock

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/opsconform/opsconform/specs"
	"github.com/pb33f/libopenapi/datamodel/high/base"
)

// opInfo is what answering an operation needs from its spec, decoded once
// when the server is built rather than on every request.
type opInfo struct {
	success  *specs.Response // the lowest documented 2xx
	headers  http.Header     // sent with every answer: deprecation, documented example headers
	skeleton map[string]any  // a list body's required example fields (OData's @odata.context)
	// listView is the item schema of a list that shows part of a richer
	// stored item (x-opsconform-resource record): each item's projection is
	// served. nil when the list shows the stored items as they are.
	listView *base.Schema

	// The success schema as answers read it, looked up once: the body inside
	// the success envelope (successSchema), whether the 2xx is wrapped in
	// that envelope (wrapped), and what one item of it is (itemSchema, for
	// operations on a collection; see itemSchema).
	successSchema *base.Schema
	itemSchema    *base.Schema
	wrapped       bool

	// params check the request's parameters without the full validator,
	// when simpleParams says they can (see compileParams).
	params       []paramCheck
	simpleParams bool

	// unsupported are the resource's unsupported parameters as header
	// keys, canonical once here rather than on every request.
	unsupported []string
}

// lazyOpInfo is an operation's opInfo, worked out on the operation's first
// request rather than in New: it renders the schemas of the operation's
// responses, which for all four embedded profiles took megabytes and
// milliseconds of start-up, for operations a client may never call.
type lazyOpInfo struct {
	once    sync.Once
	profile *specs.Profile
	op      *specs.Operation
	info    *opInfo
	// release, when set, is called once the opInfo is worked out: that
	// first request runs schema walks, and the validator's compilers, that
	// serving the operation does not run again (see Options.ReleaseMemory).
	release func()
}

// get works the opInfo out on the first call; every caller gets that one.
func (l *lazyOpInfo) get() *opInfo {
	l.once.Do(func() {
		l.info = newOpInfo(l.profile, l.op)
		if l.release != nil {
			l.release()
		}
	})
	return l.info
}

func newOpInfo(p *specs.Profile, op *specs.Operation) *opInfo {
	info := &opInfo{success: successResponse(op), headers: http.Header{}, skeleton: map[string]any{}}
	info.successSchema = successSchema(p, op)
	info.wrapped = info.success != nil && envelopeProperty(p, info.success.Schema) != nil
	if op.Resource != nil {
		info.itemSchema = itemSchema(p, op)
		for _, name := range op.Resource.Unsupported {
			info.unsupported = append(info.unsupported, http.CanonicalHeaderKey(name))
		}
	}
	info.params, info.simpleParams = compileParams(op)
	if d := op.Deprecation; d != nil {
		info.headers.Set("Deprecation", "@"+strconv.FormatInt(d.Since.Unix(), 10))
		info.headers.Set("Sunset", d.Sunset.UTC().Format(http.TimeFormat))
		if d.Link != "" {
			info.headers.Add("Link", fmt.Sprintf(`<%s>; rel="deprecation"`, d.Link))
		}
	} else if op.Deprecated {
		info.headers.Set("Deprecation", "true")
	}
	if r := info.success; r != nil {
		if resp, ok := op.Op.Responses.Codes.Get(strconv.Itoa(r.Status)); ok && resp.Headers != nil {
			for name, hd := range resp.Headers.FromOldest() {
				if hd.Schema == nil {
					continue
				}
				if sch := hd.Schema.Schema(); sch != nil && sch.Example != nil {
					// Assigned as the spec spells the name (X-MongoDB-Service-Version).
					info.headers[name] = []string{fmt.Sprint(decodeNode(sch.Example))}
				}
			}
		}
	}
	if r := op.Resource; r != nil && r.Action == specs.ActionList && r.Source == specs.SourceData && r.Item != nil {
		if sch := itemSchema(p, op); sch != nil && closes(sch) && !sameSchema(sch, r.Item) {
			info.listView = sch
		}
	}
	if sch := successSchema(p, op); sch != nil && sch.Properties != nil {
		for name, proxy := range sch.Properties.FromOldest() {
			ps := proxy.Schema()
			if ps == nil || !slices.Contains(sch.Required, name) {
				continue
			}
			if ps.Example != nil {
				info.skeleton[name] = decodeNode(ps.Example)
			} else if ps.Const != nil {
				info.skeleton[name] = decodeNode(ps.Const)
			}
		}
	}
	return info
}

// sameSchema reports whether two schemas say the same: one object, or two
// renderings of one definition (each $ref of Device is a schema of its own).
func sameSchema(a, b *base.Schema) bool {
	if a == b {
		return true
	}
	if a == nil || b == nil || a.GoLow() == nil || b.GoLow() == nil {
		return false
	}
	return a.GoLow().Hash() == b.GoLow().Hash()
}
