package item

import "strings"

type Pair struct{ Key, Value string }

// Encode writes pairs as "k1=v1&k2=v2&...". It runs for every outgoing request.
func Encode(pairs []Pair) string {
	if len(pairs) == 0 {
		return ""
	}
	n := 0
	for _, p := range pairs {
		n += len(p.Key) + len(p.Value)
	}
	var b strings.Builder
	b.Grow(n)
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.Key)
		b.WriteByte('=')
		b.WriteString(p.Value)
	}
	return b.String()
}
