package item

import (
	"bufio"
	"bytes"
	"io"
)

// CountWords counts the whitespace-separated words of r (log files of many gigabytes).
func CountWords(r io.Reader) (map[string]int, error) {
	counts := make(map[string]int)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		// sc.Bytes() is only valid until the next Scan: the scanner reuses its buffer. A map
		// key must own its bytes, so the key is a real copy (string(w)); an unsafe
		// zero-copy string would change under the map's feet.
		for _, w := range bytes.Fields(sc.Bytes()) {
			counts[string(w)]++
		}
	}
	return counts, sc.Err()
}
