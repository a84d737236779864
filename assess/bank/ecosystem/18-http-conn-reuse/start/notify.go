// Package item delivers events to a webhook.
package item

import (
	"context"
	"fmt"
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
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook: %s", resp.Status)
	}
	return nil
}
