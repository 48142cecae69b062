package specs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"go.yaml.in/yaml/v4"
)

// jsonNode parses a JSON document into the YAML node tree libopenapi reads,
// with each node's line and column. It is several times faster than the YAML
// parser on big JSON descriptions (GitHub's 13 MB one), which libopenapi
// otherwise parses as flow-style YAML.
func jsonNode(data []byte) (*yaml.Node, error) {
	p := &jsonParser{data: data}
	for i, c := range data {
		if c == '\n' {
			p.lines = append(p.lines, i+1)
		}
	}
	p.skip()
	root, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skip()
	if p.pos != len(data) {
		return nil, p.errorf("data after the top-level value")
	}
	return &yaml.Node{Kind: yaml.DocumentNode, Line: 1, Column: 1, Content: []*yaml.Node{root}}, nil
}

type jsonParser struct {
	data  []byte
	pos   int
	lines []int // offsets where lines 2, 3, … start
}

func (p *jsonParser) where(off int) (int, int) {
	i := sort.SearchInts(p.lines, off+1)
	start := 0
	if i > 0 {
		start = p.lines[i-1]
	}
	return i + 1, off - start + 1
}

func (p *jsonParser) errorf(format string, args ...any) error {
	line, col := p.where(p.pos)
	return fmt.Errorf("at L%d.C%d: %s", line, col, fmt.Sprintf(format, args...))
}

func (p *jsonParser) skip() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonParser) value(depth int) (*yaml.Node, error) {
	if depth > 10_000 {
		return nil, p.errorf("nesting too deep")
	}
	if p.pos >= len(p.data) {
		return nil, p.errorf("unexpected end of the document")
	}
	line, col := p.where(p.pos)
	switch c := p.data[p.pos]; {
	case c == '{':
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle, Line: line, Column: col}
		p.pos++
		p.skip()
		if p.pos < len(p.data) && p.data[p.pos] == '}' {
			p.pos++
			return n, nil
		}
		for {
			p.skip()
			if p.pos >= len(p.data) || p.data[p.pos] != '"' {
				return nil, p.errorf("want a string key")
			}
			k, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			p.skip()
			if p.pos >= len(p.data) || p.data[p.pos] != ':' {
				return nil, p.errorf("want ':'")
			}
			p.pos++
			p.skip()
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, k, v)
			p.skip()
			if p.pos >= len(p.data) {
				return nil, p.errorf("unexpected end of the document")
			}
			if p.data[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.data[p.pos] == '}' {
				p.pos++
				return n, nil
			}
			return nil, p.errorf("want ',' or '}'")
		}
	case c == '[':
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle, Line: line, Column: col}
		p.pos++
		p.skip()
		if p.pos < len(p.data) && p.data[p.pos] == ']' {
			p.pos++
			return n, nil
		}
		for {
			p.skip()
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, v)
			p.skip()
			if p.pos >= len(p.data) {
				return nil, p.errorf("unexpected end of the document")
			}
			if p.data[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.data[p.pos] == ']' {
				p.pos++
				return n, nil
			}
			return nil, p.errorf("want ',' or ']'")
		}
	case c == '"':
		start := p.pos
		p.pos++
		escaped := false
		for p.pos < len(p.data) && p.data[p.pos] != '"' {
			if p.data[p.pos] == '\\' {
				escaped = true
				p.pos++
			}
			p.pos++
		}
		if p.pos >= len(p.data) {
			return nil, p.errorf("unterminated string")
		}
		p.pos++
		raw := p.data[start:p.pos]
		s := string(raw[1 : len(raw)-1])
		if escaped {
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, p.errorf("bad string: %v", err)
			}
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: yaml.DoubleQuotedStyle, Value: s, Line: line, Column: col}, nil
	case c == 't' && bytes.HasPrefix(p.data[p.pos:], []byte("true")):
		p.pos += 4
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true", Line: line, Column: col}, nil
	case c == 'f' && bytes.HasPrefix(p.data[p.pos:], []byte("false")):
		p.pos += 5
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "false", Line: line, Column: col}, nil
	case c == 'n' && bytes.HasPrefix(p.data[p.pos:], []byte("null")):
		p.pos += 4
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null", Line: line, Column: col}, nil
	case c == '-' || c >= '0' && c <= '9':
		start := p.pos
		isFloat := false
		for p.pos < len(p.data) {
			d := p.data[p.pos]
			if d == '.' || d == 'e' || d == 'E' {
				isFloat = true
			} else if !(d == '-' || d == '+' || d >= '0' && d <= '9') {
				break
			}
			p.pos++
		}
		text := string(p.data[start:p.pos])
		if _, err := strconv.ParseFloat(text, 64); err != nil {
			return nil, p.errorf("bad number %q", text)
		}
		tag := "!!int"
		if isFloat {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: text, Line: line, Column: col}, nil
	}
	return nil, p.errorf("unexpected character %q", p.data[p.pos])
}

// jsonFastPath is the size past which a JSON description is parsed by
// jsonNode; smaller ones go through libopenapi's own parser. A variable so
// that tests can send every JSON file down the fast path.
var jsonFastPath = 1 << 20
