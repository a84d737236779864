package item

type Pair struct{ Key, Value string }

// Encode writes pairs as "k1=v1&k2=v2&...". It runs for every outgoing request.
func Encode(pairs []Pair) string {
	s := ""
	for i, p := range pairs {
		if i > 0 {
			s += "&"
		}
		s += p.Key + "=" + p.Value
	}
	return s
}
