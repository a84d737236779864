package main

import "os"

func checksum(data []byte) int {
	var table [11 << 20]byte // 11 MB
	var window [1 << 20]byte // 1 MB
	scratch := make([]byte, 1<<17)
	sum := 0
	for i, b := range data {
		table[int(b)<<12|i&0xfff]++
		window[i&0xfffff] = b
		scratch[i&0x1ffff] ^= b
		sum += int(table[int(b)<<12|i&0xfff]) + int(window[i&0xfffff]) + int(scratch[i&0x1ffff])
	}
	return sum
}

func main() {
	if checksum([]byte("hello")) == 0 {
		os.Exit(1)
	}
}
