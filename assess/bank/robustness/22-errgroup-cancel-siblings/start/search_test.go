package item

import (
	"context"
	"reflect"
	"testing"
)

type fixed []string

func (f fixed) Search(ctx context.Context, q string) ([]string, error) { return f, ctx.Err() }

func TestResultsInSourceOrder(t *testing.T) {
	got, err := SearchAll(context.Background(), "go", []Source{fixed{"a"}, fixed{"b", "c"}, fixed{}})
	want := [][]string{{"a"}, {"b", "c"}, {}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, %v; want %v", got, err, want)
	}
}
