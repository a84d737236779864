package item

import (
	"reflect"
	"strings"
	"testing"
)

func TestCountWords(t *testing.T) {
	got, err := CountWords(strings.NewReader("a b\nb c\n"))
	want := map[string]int{"a": 1, "b": 2, "c": 1}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("CountWords = %v, %v; want %v", got, err, want)
	}
}
