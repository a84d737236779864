// Package item is a client for an upstream status service.
package item

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Client fetches the upstream's status document.
type Client struct {
	baseURL string
	http    *http.Client
}

// NewClient returns a client whose requests give up after timeout. http.Client.Timeout
// bounds the whole exchange (connect, headers and body); a client of its own keeps other
// users of http.DefaultClient unaffected.
func NewClient(baseURL string, timeout time.Duration) *Client {
	return &Client{baseURL: baseURL, http: &http.Client{Timeout: timeout}}
}

// Status GETs baseURL+"/status" and returns the "status" field of its JSON body.
func (c *Client) Status(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.baseURL+"/status", nil)
	if err != nil {
		return "", err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status: upstream answered %s", resp.Status)
	}
	var doc struct {
		Status string `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return "", fmt.Errorf("status: %w", err)
	}
	return doc.Status, nil
}
