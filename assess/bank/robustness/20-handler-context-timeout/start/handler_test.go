package item

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type fixedInventory int

func (f fixedInventory) Stock(ctx context.Context, sku string) (int, error) { return int(f), ctx.Err() }

func TestStock(t *testing.T) {
	srv := httptest.NewServer(&Handler{Inventory: fixedInventory(7)})
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/stock?sku=gopher")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"stock":7`) {
		t.Fatalf("got %d %s", resp.StatusCode, body)
	}
}
