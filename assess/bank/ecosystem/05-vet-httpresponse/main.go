package main

import (
	"fmt"
	"io"
	"net/http"
)

func fetch(url string) (string, error) {
	resp, err := http.Get(url)
	defer resp.Body.Close()
	if err != nil {
		return "", err
	}
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func main() {
	_, err := fetch("http://127.0.0.1:1/health")
	fmt.Println(err != nil)
}
