package specs

import (
	"encoding/json"
	"fmt"
	"time"
)

// JSONShape converts YAML's decoded forms into what encoding/json produces
// (string-keyed maps, RFC 3339 times, plain numbers), in place where it
// can, so values compare and marshal the same whichever way they arrived:
// a spec's examples and extensions, fixtures, generated data.
func JSONShape(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = JSONShape(e)
		}
		return x
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = JSONShape(e)
		}
		return out
	case []any:
		for i, e := range x {
			x[i] = JSONShape(e)
		}
		return x
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case int, int64, uint64, float64, string, bool, nil:
		return x
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		var out any
		_ = json.Unmarshal(b, &out)
		return out
	}
}
