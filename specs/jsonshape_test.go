package specs

import (
	"reflect"
	"testing"
	"time"
)

func TestJSONShape(t *testing.T) {
	type custom struct {
		A int `json:"a"`
	}
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"scalar", 3, 3},
		{"nil", nil, nil},
		{"time in UTC, RFC 3339", time.Date(2024, 5, 1, 12, 0, 0, 0, time.FixedZone("X", 3600)), "2024-05-01T11:00:00Z"},
		{"non-string keys", map[any]any{1: "a", true: []any{map[any]any{"x": 2}}}, map[string]any{"1": "a", "true": []any{map[string]any{"x": 2}}}},
		{"nested string map", map[string]any{"t": time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}, map[string]any{"t": "2024-01-01T00:00:00Z"}},
		{"other types through JSON", custom{A: 1}, map[string]any{"a": float64(1)}},
		{"unmarshalable as text", func() {}, "<func>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := JSONShape(tt.in)
			if tt.want == "<func>" {
				if s, ok := got.(string); !ok || s == "" {
					t.Errorf("got %#v, want the value as text", got)
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}
