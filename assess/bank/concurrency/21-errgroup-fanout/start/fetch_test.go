package item

import (
	"context"
	"reflect"
	"testing"
)

func TestFetchAllInOrder(t *testing.T) {
	get := func(ctx context.Context, url string) (string, error) { return "<" + url + ">", nil }
	got, err := FetchAll(context.Background(), []string{"a", "b", "c"}, get)
	if err != nil || !reflect.DeepEqual(got, []string{"<a>", "<b>", "<c>"}) {
		t.Fatalf("FetchAll = %q, %v", got, err)
	}
}
