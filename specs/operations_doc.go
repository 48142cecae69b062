package specs

import (
	"fmt"
	"net/url"
	"strings"
)

// OperationsMarkdown is the operations each profile serves, as Markdown:
// per profile a heading and a table of method, path, operation id and where
// the vendor documents the operation (its externalDocs, else the profile's
// x-opsconform-profile.source). README.md carries it between markers, and
// `opsconform profiles --format markdown` prints it.
func OperationsMarkdown(ps []*Profile) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteString("\n")
		}
		title := p.Title
		if title == "" {
			title = p.Name
		}
		fmt.Fprintf(&b, "### `%s`: %s\n\n", p.Name, escapeMarkdownCell(title))
		documented := 0
		for _, op := range p.Operations {
			if op.Docs.URL != "" {
				documented++
			}
		}
		fmt.Fprintf(&b, "%d operations", len(p.Operations))
		if p.BasePath != "" {
			fmt.Fprintf(&b, " under `%s`", p.BasePath)
		}
		switch {
		case documented == len(p.Operations) && documented > 0:
			b.WriteString(", each cited to the page that documents it.\n\n")
		case p.Source != "":
			fmt.Fprintf(&b, "; %d cite their own page, the others the profile's source, `%s`.\n\n", documented, escapeMarkdownCell(p.Source))
		default:
			fmt.Fprintf(&b, "; %d cite their own page.\n\n", documented)
		}
		b.WriteString("| method | path | operation | documented at |\n|---|---|---|---|\n")
		for _, op := range p.Operations {
			fmt.Fprintf(&b, "| %s | `%s` | `%s` | %s |\n", op.Method, escapeMarkdownCell(op.Path), escapeMarkdownCell(op.ID), docCell(p, op))
		}
	}
	return b.String()
}

// docCell is where an operation is documented: a link to its externalDocs
// (named by the description up to its first colon, else by the page's
// host and last path segment), else the profile's source.
func docCell(p *Profile, op *Operation) string {
	d := op.Docs
	if d.URL == "" {
		if p.Source == "" {
			return "—"
		}
		return "`" + escapeMarkdownCell(p.Source) + "` (profile source)"
	}
	name := d.Description
	if i := strings.Index(name, ": "); i > 0 {
		name = name[:i]
	}
	if name == "" {
		name = d.URL
		if u, err := url.Parse(d.URL); err == nil && u.Host != "" {
			name = u.Host + "/…/" + u.Path[strings.LastIndex(u.Path, "/")+1:]
		}
	}
	name = strings.NewReplacer("[", `\[`, "]", `\]`).Replace(name)
	return fmt.Sprintf("[%s](%s)", escapeMarkdownCell(name), strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "|", "%7C").Replace(d.URL))
}

// escapeMarkdownCell keeps a table cell one cell: pipes escaped, newlines spaces.
func escapeMarkdownCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
