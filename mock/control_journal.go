package mock

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// JournalCursorHeader carries, on GET /__opsconform/requests, the sequence
// number up to which every entry is final: polling with ?since= that value
// misses no entry (one may come twice: tell them apart by seq).
const JournalCursorHeader = "Opsconform-Journal-Cursor"

// journalParams are the query parameters GET requests takes.
var journalParams = []string{"status", "profile", "operation", "key", "reason", "since", "limit"}

// controlJournal serves the journal, filtered.
func (s *Server) controlJournal(w http.ResponseWriter, r *http.Request) {
	f, limit, err := s.journalQuery(r.URL.Query())
	if err != nil {
		controlJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	entries, cursor := s.journal.entries(f, limit)
	w.Header().Set(JournalCursorHeader, strconv.FormatUint(cursor, 10))
	controlJSON(w, http.StatusOK, entries)
}

// journalQuery reads the journal's filters. Every mistake is named, with
// what would do: a filter that silently matched nothing would mislead.
func (s *Server) journalQuery(q url.Values) (journalFilter, int, error) {
	var f journalFilter
	limit := 0
	for name, values := range q {
		if !slices.Contains(journalParams, name) {
			return f, 0, fmt.Errorf("unknown parameter %q: the journal filters by %s", name, strings.Join(journalParams, ", "))
		}
		if name != "status" && len(values) > 1 {
			return f, 0, fmt.Errorf("%s is given %d times: give it once", name, len(values))
		}
	}
	for _, v := range q["status"] {
		for part := range strings.SplitSeq(v, ",") {
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			sr, ok := parseStatusRange(part)
			if !ok {
				return f, 0, fmt.Errorf("status %q: want a status such as 401, a class such as 4xx, or several separated by commas", part)
			}
			f.statuses = append(f.statuses, sr)
		}
	}
	if v := q.Get("profile"); v != "" {
		if s.byName[v] == nil {
			return f, 0, fmt.Errorf("profile %q is not served; the served ones are %s", v, strings.Join(s.profileNames(), ", "))
		}
		f.profile = v
	}
	if v := q.Get("operation"); v != "" {
		found := false
		for _, p := range s.profiles {
			if (f.profile == "" || p.Name == f.profile) && p.Operation(v) != nil {
				found = true
			}
		}
		if !found {
			where := "any served profile"
			if f.profile != "" {
				where = "profile " + f.profile
			}
			return f, 0, fmt.Errorf("operation %q is not served by %s (GET %sprofiles lists the operation ids)", v, where, ControlPrefix)
		}
		f.operation = v
	}
	if v := q.Get("key"); v != "" {
		if s.redact.sensitiveValue(v) {
			// Never echoed: the value is a credential.
			return f, 0, fmt.Errorf("key takes a key's id, and this value is a key's secret: filter by the id that GET %sprofiles/{profile}/keys lists", ControlPrefix)
		}
		f.key = v
	}
	if v := q.Get("reason"); v != "" {
		if !slices.Contains(Reasons, Reason(v)) {
			return f, 0, fmt.Errorf("reason %q is not a reason code; the codes are %s", v, joinReasons())
		}
		f.reason = Reason(v)
	}
	if v := q.Get("since"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return f, 0, fmt.Errorf("since must be an entry's seq, a non-negative integer, not %q", v)
		}
		f.since = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return f, 0, fmt.Errorf("limit must be a non-negative integer, not %q", v)
		}
		limit = n
	}
	return f, limit, nil
}

// parseStatusRange reads 401 or 4xx (any case).
func parseStatusRange(s string) (statusRange, bool) {
	if len(s) == 3 && (s[1] == 'x' || s[1] == 'X') && (s[2] == 'x' || s[2] == 'X') && s[0] >= '1' && s[0] <= '5' {
		lo := int(s[0]-'0') * 100
		return statusRange{lo, lo + 99}, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 100 || n > 599 {
		return statusRange{}, false
	}
	return statusRange{n, n}, true
}

func (s *Server) profileNames() []string {
	names := make([]string, 0, len(s.profiles))
	for _, p := range s.profiles {
		names = append(names, p.Name)
	}
	return names
}

func joinReasons() string {
	parts := make([]string, len(Reasons))
	for i, r := range Reasons {
		parts[i] = string(r)
	}
	return strings.Join(parts, ", ")
}
