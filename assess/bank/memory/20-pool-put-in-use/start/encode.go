package item

import (
	"bytes"
	"strconv"
	"sync"
)

type Record struct {
	Name  string
	Value int64
}

var bufPool = sync.Pool{New: func() interface{} { return new(bytes.Buffer) }}

// Encode returns the wire form of rec, "name=value;". Callers keep the result (they batch
// records before sending them).
func Encode(rec Record) []byte {
	b := bufPool.Get().(*bytes.Buffer)
	b.Reset()
	defer bufPool.Put(b)

	var num [20]byte
	b.WriteString(rec.Name)
	b.WriteByte('=')
	b.Write(strconv.AppendInt(num[:0], rec.Value, 10))
	b.WriteByte(';')
	return b.Bytes()
}
