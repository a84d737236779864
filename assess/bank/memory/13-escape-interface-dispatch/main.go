package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

func report(total int) string {
	var a bytes.Buffer
	var w io.Writer = &a
	fmt.Fprintf(w, "total=%d", total)

	var b bytes.Buffer
	b.WriteString(" ok")

	return a.String() + b.String()
}

func main() {
	os.Stdout.WriteString(report(42) + "\n")
}
