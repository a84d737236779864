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
	scratch := make([]byte, 0, 256) // our own buffer, not the scanner's
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		for _, w := range bytes.Fields(sc.Bytes()) {
			scratch = append(scratch[:0], w...)
			counts[bytesToString(scratch)]++
		}
	}
	return counts, sc.Err()
}
