package mock

import (
	"net/url"
	"slices"
	"strconv"

	"github.com/opsconform/opsconform/specs"
)

// pageLink is one of a page's links: the page it points at and its rel.
type pageLink struct {
	page int
	rel  string
}

// pageLinks are MongoDB's absolute self, previous and next links, written
// where the page's links go. Each href is the request's URL with the page
// and page-size parameters set, the query as url.Values.Encode writes it
// (keys sorted, escaped), built straight into the answer: a Digest page
// used to spend a third of its allocations on them.
func pageLinks(x *exchange, pg *specs.Pagination, w page, total int) rawAppender {
	var links [3]pageLink
	n := 0
	self := w.number
	if x.faults.has(devSelfLinkStuck) {
		self = 1
	}
	links[n], n = pageLink{self, "self"}, n+1
	if w.number > 1 && !x.faults.has(devPreviousLinkMissing) {
		links[n], n = pageLink{w.number - 1, "previous"}, n+1
	}
	last := w.offset+w.size >= total
	if !last && !x.faults.has(devNextLinkMissing) || last && x.faults.has(devNextLinkOnLastPage) {
		links[n], n = pageLink{w.number + 1, "next"}, n+1
	}

	base := url.URL{Scheme: scheme(x.r), Host: x.r.Host, Path: x.r.URL.Path}
	if x.faults.has(devRelativeLinks) {
		base.Scheme, base.Host = "", ""
	}
	prefix := base.String() + "?" // the query is never empty: it holds the page
	q := x.queryValues()
	keys := make([]string, 0, len(q)+2)
	for k := range q {
		keys = append(keys, k)
	}
	for _, k := range []string{pg.Page.Param, pg.Size.Param} {
		if _, ok := q[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return func(dst []byte) []byte {
		dst = append(dst, '[')
		for i, l := range links[:n] {
			if i > 0 {
				dst = append(dst, ',')
			}
			var buf [512]byte
			href := append(buf[:0], prefix...)
			href = appendLinkQuery(href, q, keys, pg.Page.Param, l.page, pg.Size.Param, w.size)
			dst = append(dst, `{"href":`...)
			dst = appendString(dst, href)
			dst = append(dst, `,"rel":`...)
			dst = appendString(dst, l.rel)
			dst = append(dst, '}')
		}
		return append(dst, ']')
	}
}

// appendLinkQuery appends q, with pageParam set to page and sizeParam to
// size, as url.Values.Encode would write it; keys are q's keys and the two
// parameters, sorted.
func appendLinkQuery(dst []byte, q url.Values, keys []string, pageParam string, page int, sizeParam string, size int) []byte {
	start := len(dst)
	for _, k := range keys {
		ek := url.QueryEscape(k)
		if k == pageParam || k == sizeParam {
			n := page
			if k == sizeParam {
				n = size
			}
			if len(dst) > start {
				dst = append(dst, '&')
			}
			dst = append(append(dst, ek...), '=')
			dst = strconv.AppendInt(dst, int64(n), 10)
			continue
		}
		for _, v := range q[k] {
			if len(dst) > start {
				dst = append(dst, '&')
			}
			dst = append(append(dst, ek...), '=')
			dst = append(dst, url.QueryEscape(v)...)
		}
	}
	return dst
}
