package specs

import (
	"strconv"

	"github.com/pb33f/libopenapi/datamodel/high/base"
)

// Header is a response header an operation documents.
type Header struct {
	Name   string       // as the spec spells it (X-MongoDB-Service-Version)
	Schema *base.Schema // nil when the spec gives none
}

// RequiredHeaders are the headers the operation's lowest 2xx response marks
// required: every success must carry them, in the form their schema says.
func RequiredHeaders(op *Operation) []Header {
	best := 0
	for st := range op.Responses {
		if st >= 200 && st < 300 && (best == 0 || st < best) {
			best = st
		}
	}
	if best == 0 || op.Op == nil || op.Op.Responses == nil || op.Op.Responses.Codes == nil {
		return nil
	}
	resp, ok := op.Op.Responses.Codes.Get(strconv.Itoa(best))
	if !ok || resp.Headers == nil {
		return nil
	}
	var out []Header
	for name, h := range resp.Headers.FromOldest() {
		if h == nil || !h.Required {
			continue
		}
		hd := Header{Name: name}
		if h.Schema != nil {
			hd.Schema = h.Schema.Schema()
		}
		out = append(out, hd)
	}
	return out
}
