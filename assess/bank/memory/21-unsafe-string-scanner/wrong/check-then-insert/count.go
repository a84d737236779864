package item

import (
	"bufio"
	"bytes"
	"io"
	"unsafe"
)

// bytesToString converts without copying (saves an allocation per word).
func bytesToString(b []byte) string {
	return *(*string)(unsafe.Pointer(&b))
}

// CountWords counts the whitespace-separated words of r (log files of many gigabytes).
func CountWords(r io.Reader) (map[string]int, error) {
	counts := make(map[string]int)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		for _, w := range bytes.Fields(sc.Bytes()) {
			k := bytesToString(w)
			if _, ok := counts[k]; !ok {
				counts[k] = 0 // the key is created once, then only incremented
			}
			counts[k]++
		}
	}
	return counts, sc.Err()
}
