package item

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// A log larger than the scanner's buffer: the scanner reuses (and shifts) its buffer.
func TestCountWordsLargeInput(t *testing.T) {
	var sb strings.Builder
	want := map[string]int{}
	for i := 0; i < 5000; i++ {
		level := []string{"INFO", "WARN", "ERROR"}[i%3]
		user := fmt.Sprintf("user%d", i%17)
		fmt.Fprintf(&sb, "%s %s login\n", level, user)
		want[level]++
		want[user]++
		want["login"]++
	}
	got, err := CountWords(strings.NewReader(sb.String()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		bad := 0
		for k, v := range got {
			if want[k] != v {
				bad++
			}
		}
		t.Fatalf("%d keys, want %d; %d counts wrong (for example %v)", len(got), len(want), bad, sample(got))
	}
}

func sample(m map[string]int) []string {
	var s []string
	for k, v := range m {
		s = append(s, fmt.Sprintf("%q:%d", k, v))
		if len(s) == 5 {
			break
		}
	}
	return s
}

// The keys stay valid after CountWords has returned and the input is gone.
func TestKeysOutliveTheInput(t *testing.T) {
	buf := []byte(strings.Repeat("alpha beta\n", 1000))
	got, err := CountWords(strings.NewReader(string(buf)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range buf {
		buf[i] = 'z'
	}
	if got["alpha"] != 1000 || got["beta"] != 1000 || len(got) != 2 {
		t.Fatalf("CountWords = %v", sample(got))
	}
}
