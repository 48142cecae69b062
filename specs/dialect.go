package specs

import (
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v4"
)

// foreignKeywords are schema keywords that belong to the other OpenAPI
// dialect: what a 3.0 document means by them is not what a 3.1 one does.
var (
	only30 = map[string]string{
		"nullable":      "a 3.0 keyword; under 3.1 it is an annotation and ignored (write type: [T, \"null\"])",
		"x-nullable":    "a Swagger 2 extension; it is ignored",
		"discriminator": "",
	}
	only31 = map[string]string{
		"const":                 "a 3.1 (JSON Schema 2020-12) keyword; 3.0 validators ignore it",
		"prefixItems":           "a 3.1 keyword; 3.0 validators ignore it",
		"$defs":                 "a 3.1 keyword; 3.0 validators ignore it",
		"unevaluatedProperties": "a 3.1 keyword; 3.0 validators ignore it",
		"dependentRequired":     "a 3.1 keyword; 3.0 validators ignore it",
		"contentMediaType":      "a 3.1 keyword; 3.0 validators ignore it",
	}
)

// dialectWarnings warns once per keyword that is foreign to the document's
// dialect, with how many places use it and where the first is. They never
// break request handling: the validators treat them as annotations.
func (l *loader) dialectWarnings(p *Profile) {
	info := l.info
	if info == nil || info.RootNode == nil {
		return
	}
	v31 := !strings.HasPrefix(l.version, "3.0")
	foreign := only31
	if v31 {
		foreign = map[string]string{"nullable": only30["nullable"], "x-nullable": only30["x-nullable"]}
	}
	type seen struct {
		first *yaml.Node
		count int
	}
	found := map[string]*seen{}
	typeArrays := &seen{}
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if n == nil || depth > 512 {
			return
		}
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, depth+1)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				switch k.Value {
				case "example", "examples", "default", "enum", "x-examples":
					continue // data, not schemas
				}
				if _, ok := foreign[k.Value]; ok && isSchemaMap(n) {
					f := found[k.Value]
					if f == nil {
						f = &seen{first: k}
						found[k.Value] = f
					}
					f.count++
				}
				if !v31 && k.Value == "type" && v.Kind == yaml.SequenceNode {
					if typeArrays.first == nil {
						typeArrays.first = k
					}
					typeArrays.count++
				}
				walk(v, depth+1)
			}
		}
	}
	walk(info.RootNode, 0)
	names := make([]string, 0, len(found))
	for k := range found {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		f := found[k]
		l.warnf(f.first, "%s is %s%s", k, foreign[k], places(f.count))
	}
	if typeArrays.count > 0 {
		l.warnf(typeArrays.first, "type as a list is a 3.1 form; read as the list of types it names%s", places(typeArrays.count))
	}
}

func places(n int) string {
	if n <= 1 {
		return ""
	}
	return fmt.Sprintf(" (%d places, the first here)", n)
}

// isSchemaMap guesses whether a mapping is a schema: it has a schema keyword.
func isSchemaMap(n *yaml.Node) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch n.Content[i].Value {
		case "type", "properties", "items", "allOf", "oneOf", "anyOf", "$ref", "enum", "format":
			return true
		}
	}
	return false
}
