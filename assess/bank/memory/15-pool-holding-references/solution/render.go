package item

import (
	"bytes"
	"strconv"
	"sync"
)

// Request is an incoming upload. Bodies are up to a few megabytes.
type Request struct {
	ID   int
	Body []byte
}

// renderer holds the per-request state of Render; renderers are recycled through a pool.
type renderer struct {
	req *Request
	buf bytes.Buffer
}

var renderers = sync.Pool{New: func() interface{} { return new(renderer) }}

// Render returns the receipt for req.
func Render(req *Request) string {
	r := renderers.Get().(*renderer)
	r.req = req
	r.buf.Reset()
	r.writeReceipt()
	receipt := r.buf.String()
	// A pooled object must not keep references to per-request data: the pool would keep the
	// request (and its body) alive until the renderer is reused or two GCs have passed.
	r.req = nil
	renderers.Put(r)
	return receipt
}

func (r *renderer) writeReceipt() {
	r.buf.WriteString("upload ")
	r.buf.WriteString(strconv.Itoa(r.req.ID))
	r.buf.WriteString(": ")
	r.buf.WriteString(strconv.Itoa(len(r.req.Body)))
	r.buf.WriteString(" bytes")
}
