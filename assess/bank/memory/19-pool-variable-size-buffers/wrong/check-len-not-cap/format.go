package item

import (
	"bytes"
	"sync"
)

// bufPool recycles the buffers Format writes into. Keep its name and element type
// (*bytes.Buffer): the tests look into it.
var bufPool = sync.Pool{New: func() interface{} { return new(bytes.Buffer) }}

// Format renders doc, one line per element. Almost every document is a few hundred bytes;
// now and then one is many megabytes.
func Format(doc []string) string {
	b := bufPool.Get().(*bytes.Buffer)
	b.Reset()
	for _, line := range doc {
		b.WriteString(line)
		b.WriteByte('\n')
	}
	s := b.String()
	b.Reset()
	if b.Len() <= 64<<10 { // the length, not the capacity: always 0 after Reset
		bufPool.Put(b)
	}
	return s
}
