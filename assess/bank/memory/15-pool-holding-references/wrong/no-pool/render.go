package item

import (
	"bytes"
	"strconv"
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

// Render returns the receipt for req.
func Render(req *Request) string {
	r := &renderer{req: req} // no pool, nothing to leak
	r.writeReceipt()
	return r.buf.String()
}

func (r *renderer) writeReceipt() {
	r.buf.WriteString("upload ")
	r.buf.WriteString(strconv.Itoa(r.req.ID))
	r.buf.WriteString(": ")
	r.buf.WriteString(strconv.Itoa(len(r.req.Body)))
	r.buf.WriteString(" bytes")
}
