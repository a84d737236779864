package main

import "fmt"

type Counter struct{ n int }

func (c Counter) ReportValue()    { fmt.Println("value:", c.n) }
func (c *Counter) ReportPointer() { fmt.Println("pointer:", c.n) }

func main() {
	c := Counter{}
	defer c.ReportValue()
	defer c.ReportPointer()
	defer func() { c.ReportValue() }()
	for i := 0; i < 3; i++ {
		c.n++
	}
}
