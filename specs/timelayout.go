package specs

import (
	"fmt"
	"strings"
)

// patternLetters are the date pattern letters a spec may use, longest
// first, with the Go layout each stands for. They are the letters of
// Java's SimpleDateFormat (most vendors' servers are Java, and their
// documentation writes dates that way): "d MMM yyyy hh:mm:ss a z" is
// OpManager's "8 Mar 2024 06:17:07 PM IST".
var patternLetters = []struct{ pattern, layout string }{
	{"yyyy", "2006"}, {"yy", "06"},
	{"MMMM", "January"}, {"MMM", "Jan"}, {"MM", "01"}, {"M", "1"},
	{"EEEE", "Monday"}, {"EEE", "Mon"},
	{"dd", "02"}, {"d", "2"},
	{"HH", "15"}, {"hh", "03"}, {"h", "3"},
	{"mm", "04"}, {"ss", "05"}, {"SSS", "000"},
	{"a", "PM"}, {"z", "MST"}, {"Z", "-0700"}, {"XXX", "Z07:00"},
}

// TimeLayout turns a date pattern (yyyy-MM-dd HH:mm:ss, d MMM yyyy hh:mm:ss
// a z) into the Go layout that writes and reads it. Letters outside the
// table above, quoted text and digits are refused: in a Go layout they would
// silently mean something else.
func TimeLayout(pattern string) (string, error) {
	if strings.TrimSpace(pattern) == "" {
		return "", fmt.Errorf("an empty date pattern")
	}
	var b strings.Builder
	for i := 0; i < len(pattern); {
		c := pattern[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			matched := false
			for _, pl := range patternLetters {
				if strings.HasPrefix(pattern[i:], pl.pattern) {
					run := len(pl.pattern)
					// A run longer than the letter's longest form (ddd) is not a pattern letter either.
					if i+run < len(pattern) && pattern[i+run] == c && len(pl.pattern) == maxRun(c) {
						return "", fmt.Errorf("%q: %q repeats %c more than the pattern letters allow", pattern, pattern[i:], c)
					}
					b.WriteString(pl.layout)
					i += run
					matched = true
					break
				}
			}
			if !matched {
				return "", fmt.Errorf("%q: %c is not a date pattern letter (known: yyyy yy MMMM MMM MM M EEEE EEE dd d HH hh h mm ss SSS a z Z XXX)", pattern, c)
			}
		case c >= '0' && c <= '9' || c == '\'' || c == '_':
			return "", fmt.Errorf("%q: %q cannot stand in a date pattern (only letters, spaces and punctuation)", pattern, c)
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

// maxRun is the longest run of c the pattern letters know.
func maxRun(c byte) int {
	n := 0
	for _, pl := range patternLetters {
		if pl.pattern[0] == c && len(pl.pattern) > n {
			n = len(pl.pattern)
		}
	}
	return n
}
