package item

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"assess/pressure"
)

var errTimedOut = errors.New("504 Gateway Timeout")

// Quotes at a steady rate while the pressure's share of upstream calls stalls (up to 20 s,
// unless the caller gives up). A stalled quote may time out; what it started must not stay.
func TestPressureQuotesUnderStalledUpstream(t *testing.T) {
	cfg := pressure.Require(t)
	faults := cfg.Faults()
	faults.Delay = 20 * time.Second
	up := httptest.NewServer(faults.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s: 9.99\n", r.URL.Query().Get("sku"))
	})))
	defer up.Close()
	defer up.CloseClientConnections() // first: the stalls end when their connections do
	upTr := &http.Transport{MaxIdleConnsPerHost: 64}
	gw := httptest.NewServer(&Gateway{Upstream: up.URL, Client: &http.Client{Transport: upTr}, Timeout: 200 * time.Millisecond})
	defer gw.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	client := &http.Client{Transport: tr}

	w := pressure.Watch(t, cfg)
	res := pressure.Load{N: 200, Rate: 200, Timeout: 10 * time.Second}.Run(context.Background(), func(ctx context.Context, i int) error {
		req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/quote?sku=s%d", gw.URL, i), nil)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		switch {
		case resp.StatusCode == http.StatusGatewayTimeout:
			return errTimedOut
		case resp.StatusCode != http.StatusOK || string(body) != fmt.Sprintf("s%d: 9.99\n", i):
			return fmt.Errorf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
		}
		return nil
	})
	tr.CloseIdleConnections()
	upTr.CloseIdleConnections()
	w.Settle(5*time.Second, 5)
	if res.Failed > res.Errors[errTimedOut.Error()] {
		cfg.Fatalf(t, "quotes failed otherwise than with 504: %v", res)
	}
	t.Logf("%v; %d of %d upstream calls stalled", res, faults.Injected(), faults.Ops())
}
