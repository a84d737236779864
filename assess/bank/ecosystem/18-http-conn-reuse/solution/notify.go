// Package item delivers events to a webhook.
package item

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Notifier posts events to a webhook over keep-alive connections.
type Notifier struct {
	URL    string
	Client *http.Client
}

// Notify POSTs event. A 2xx answer means delivered; the webhook also sends a JSON receipt,
// which Notify does not need.
func (n *Notifier) Notify(ctx context.Context, event string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URL, strings.NewReader(event))
	if err != nil {
		return err
	}
	resp, err := n.Client.Do(req)
	if err != nil {
		return err
	}
	// The transport reuses a connection only after the body was read to EOF and closed;
	// closing an unread body discards the connection. Bound the drain so a huge body
	// cannot stall us: past 64 KiB a new connection is cheaper.
	defer func() {
		io.CopyN(io.Discard, resp.Body, 64<<10)
		resp.Body.Close()
	}()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook: %s", resp.Status)
	}
	return nil
}
