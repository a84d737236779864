package item

// HeaderSize is the length of a message header.
const HeaderSize = 16

// Header loads a message and returns its header, which the caller keeps for hours in an
// index. Messages are large (about a megabyte); the index holds millions of headers.
func Header(load func() []byte) []byte {
	msg := load()
	return msg[:HeaderSize]
}
