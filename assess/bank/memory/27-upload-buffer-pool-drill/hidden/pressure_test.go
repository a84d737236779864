package item

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"assess/pressure"
)

// Uploads at a steady rate, one connection each, while the network cuts the pressure's share
// of them off mid-way (the client writes half its first 4 KB and drops the connection). Cut
// uploads fail; every upload that arrives intact must get its 200.
func TestPressureUploadsWithCutConnections(t *testing.T) {
	cfg := pressure.Require(t)
	faults := cfg.Faults()
	faults.Err = pressure.ErrInjected
	srv := httptest.NewServer(&Ingest{})
	defer srv.Close()
	tr := &http.Transport{DialContext: faults.Dialer((&net.Dialer{}).DialContext), DisableKeepAlives: true}
	client := &http.Client{Transport: tr}
	var (
		mu       sync.Mutex
		rejected []string
	)
	res := pressure.Load{N: 300, Rate: 300, Timeout: 10 * time.Second}.Run(context.Background(), func(ctx context.Context, i int) error {
		req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/events", bytes.NewReader(upload(i, 16<<10)))
		resp, err := client.Do(req)
		if err != nil {
			return err // cut off by the network
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || string(body) != fmt.Sprintln(i) {
			mu.Lock()
			rejected = append(rejected, fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body))))
			mu.Unlock()
		}
		return nil
	})
	if len(rejected) > 0 {
		cfg.Fatalf(t, "%d of the %d uploads that arrived intact were rejected, after %d were cut off by the network; the first: %q",
			len(rejected), res.N-res.Failed, res.Failed, rejected[0])
	}
	if res.Stuck > 0 {
		cfg.Fatalf(t, "%d uploads had no answer 10 s after they started: %v", res.Stuck, res)
	}
	t.Logf("%v; %d of %d connections cut", res, faults.Injected(), faults.Ops())
}
